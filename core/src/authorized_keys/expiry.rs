//! `expiry-time="YYYYMMDD[HHMM[SS]][Z|UTC]"`, read as OpenSSH's `parse_absolute_time`.
//!
//! The engine has no time zone: a time without `Z` or `UTC` is taken as UTC, where
//! sshd would use the server's local zone. Write the `Z` to mean the same thing to both.

/// Seconds since the Unix epoch of an expiry time, or `None` if it is malformed, before
/// 1970, or exactly the epoch (which OpenSSH also refuses).
pub(super) fn parse_expiry_time(text: &str) -> Option<u64> {
    let body = strip_suffix_ignore_case(text, "z", 1)
        .or_else(|| strip_suffix_ignore_case(text, "utc", 3))
        .unwrap_or(text);
    let digits = body.as_bytes();
    if !matches!(digits.len(), 8 | 12 | 14) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| -> Option<i64> {
        digits
            .get(range)?
            .iter()
            .try_fold(0i64, |acc, d| Some(acc * 10 + i64::from(d - b'0')))
    };
    let year = field(0..4)?;
    let month = field(4..6)?;
    let day = field(6..8)?;
    let hour = if digits.len() >= 12 { field(8..10)? } else { 0 };
    let minute = if digits.len() >= 12 {
        field(10..12)?
    } else {
        0
    };
    let second = if digits.len() == 14 {
        field(12..14)?
    } else {
        0
    };
    // strptime's ranges; a day past the month's end rolls over, as timegm does.
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 61;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month) + day - 1;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    u64::try_from(seconds).ok().filter(|&s| s > 0)
}

/// `text` without `suffix` (ASCII case-insensitive) when longer than `min_len`.
fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str, min_len: usize) -> Option<&'a str> {
    if text.len() <= min_len {
        return None;
    }
    let cut = text.len() - suffix.len();
    let (body, end) = (text.get(..cut)?, text.get(cut..)?);
    end.eq_ignore_ascii_case(suffix).then_some(body)
}

/// Days from 1970-01-01 to the first of `month` in `year` (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_alone_is_midnight_utc() {
        assert_eq!(parse_expiry_time("20240101"), Some(1_704_067_200));
    }

    #[test]
    fn hours_minutes_and_seconds_are_read() {
        assert_eq!(
            parse_expiry_time("202401011230"),
            Some(1_704_067_200 + 45_000)
        );
        assert_eq!(
            parse_expiry_time("20240101123005"),
            Some(1_704_067_200 + 45_005)
        );
    }

    #[test]
    fn z_and_utc_suffixes_are_accepted_in_any_case() {
        for t in ["20240101Z", "20240101z", "20240101UTC", "20240101utc"] {
            assert_eq!(parse_expiry_time(t), Some(1_704_067_200), "{t}");
        }
    }

    #[test]
    fn leap_day_is_a_real_day() {
        assert_eq!(parse_expiry_time("20240229"), Some(1_709_164_800));
    }

    #[test]
    fn day_past_the_end_of_the_month_rolls_over() {
        assert_eq!(parse_expiry_time("20230229"), parse_expiry_time("20230301"));
    }

    #[test]
    fn other_lengths_and_non_digits_are_refused() {
        for t in [
            "2024010",
            "202401011",
            "2024-01-01",
            "2024010112",
            "Z",
            "",
            "２０２４０１０１",
        ] {
            assert_eq!(parse_expiry_time(t), None, "{t}");
        }
    }

    #[test]
    fn out_of_range_fields_are_refused() {
        for t in [
            "20241301",
            "20240001",
            "20240100",
            "20240132",
            "202401012400",
            "202401010060",
        ] {
            assert_eq!(parse_expiry_time(t), None, "{t}");
        }
    }

    #[test]
    fn times_not_after_the_epoch_are_refused() {
        assert_eq!(parse_expiry_time("19700101"), None);
        assert_eq!(parse_expiry_time("19691231"), None);
        assert_eq!(parse_expiry_time("19700101000001"), Some(1));
    }
}

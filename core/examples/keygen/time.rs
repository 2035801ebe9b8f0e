//! Certificate times: ssh-keygen's `-V` validity syntax and its `YYYY-MM-DDTHH:MM:SS`
//! display.
//!
//! ssh-keygen reads and prints absolute times in the local time zone; this example has
//! no time zone database and uses UTC throughout (ssh-keygen agrees under `TZ=UTC`).

/// Certificate validity, seconds since the Unix epoch: from `after` (inclusive) to
/// `before` (exclusive); 0 and `u64::MAX` are the open ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Validity {
    /// Start of validity.
    pub(crate) after: u64,
    /// End of validity.
    pub(crate) before: u64,
}

impl Validity {
    /// Valid at every time.
    pub(crate) const FOREVER: Validity = Validity {
        after: 0,
        before: u64::MAX,
    };

    /// Parses a `-V` interval relative to `now` (Unix seconds):
    ///
    /// - `+LIFE` alone: from a minute ago (rounded down to the minute, as ssh-keygen
    ///   backdates for badly synchronised clocks) until `now + LIFE`;
    /// - `FROM:TO`, each `+LIFE`/`-LIFE` (relative to now), `YYYYMMDD[HHMM[SS]]` with an
    ///   optional `Z`, `0x` and hex seconds, or `always` (FROM) / `forever` (TO).
    ///
    /// LIFE is a sequence of numbers with units `s`, `m`, `h`, `d`, `w` (`1w2d`, `90m`;
    /// no unit is seconds).
    pub(crate) fn parse(spec: &str, now: u64) -> Result<Self, String> {
        if let Some(life) = spec.strip_prefix('+').filter(|_| !spec.contains(':')) {
            let after = now.saturating_sub(59) / 60 * 60;
            let before = now
                .checked_add(duration(life)?)
                .ok_or_else(|| format!("certificate life {spec:?} is too long"))?;
            return Ok(Validity { after, before });
        }
        let (from, to) = spec
            .split_once(':')
            .filter(|(f, t)| !f.is_empty() && !t.is_empty())
            .ok_or_else(|| format!("invalid certificate life specification {spec:?}"))?;
        let after = match from {
            "always" => 0,
            _ => point(from, now)?,
        };
        let before = match to {
            "forever" => u64::MAX,
            _ => point(to, now)?,
        };
        if before <= after {
            return Err("empty certificate validity interval".into());
        }
        Ok(Validity { after, before })
    }

    /// The interval as ssh-keygen words it: `forever`, `before T`, `after T` or
    /// `from T to T`.
    pub(crate) fn describe(self) -> String {
        match (self.after, self.before) {
            (0, u64::MAX) => "forever".into(),
            (0, before) => format!("before {}", timestamp(before)),
            (after, u64::MAX) => format!("after {}", timestamp(after)),
            (after, before) => format!("from {} to {}", timestamp(after), timestamp(before)),
        }
    }
}

/// One end of an interval: relative, hex or absolute.
fn point(text: &str, now: u64) -> Result<u64, String> {
    let too_far = || format!("certificate time {text:?} cannot be represented");
    if let Some(life) = text.strip_prefix('+') {
        return now.checked_add(duration(life)?).ok_or_else(too_far);
    }
    if let Some(life) = text.strip_prefix('-') {
        return now.checked_sub(duration(life)?).ok_or_else(too_far);
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).map_err(|_| format!("invalid hex time {text:?}"));
    }
    absolute(text)
}

/// `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, optionally ending in `Z`, as UTC.
fn absolute(text: &str) -> Result<u64, String> {
    let invalid = || format!("invalid time {text:?} (expected YYYYMMDD[HHMM[SS]])");
    let digits = text.strip_suffix('Z').unwrap_or(text);
    if !matches!(digits.len(), 8 | 12 | 14) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    // Fields past the end (seconds, minutes) are zero.
    let field = |range: std::ops::Range<usize>| {
        digits.as_bytes().get(range).map_or(0, |ds| {
            ds.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
        })
    };
    let [year, month, day, hour, minute, second] =
        [0..4, 4..6, 6..8, 8..10, 10..12, 12..14].map(field);
    let valid = (1970..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return Err(invalid());
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// A lifetime such as `52w` or `1h30m` in seconds (OpenSSH's `convtime`).
pub(crate) fn duration(text: &str) -> Result<u64, String> {
    let invalid = || format!("invalid time interval {text:?}");
    if text.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let number: u64 = rest[..end].parse().map_err(|_| invalid())?;
        rest = &rest[end..];
        let unit = match rest.chars().next() {
            None => 1,
            Some(c) => {
                rest = &rest[c.len_utf8()..];
                match c.to_ascii_lowercase() {
                    's' => 1,
                    'm' => 60,
                    'h' => 3_600,
                    'd' => 86_400,
                    'w' => 604_800,
                    _ => return Err(invalid()),
                }
            }
        };
        total = number
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(invalid)?;
    }
    Ok(total)
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, as ssh-keygen prints certificate times.
pub(crate) fn timestamp(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

fn is_leap(year: u64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date in or after 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let whole_years: u64 = (1970..year)
        .map(|y| if is_leap(y) { 366 } else { 365 })
        .sum();
    let whole_months: u64 = (1..month).map(|m| days_in_month(year, m)).sum();
    whole_years + whole_months + day - 1
}

/// The date `days` after 1970-01-01, counting whole 400-year cycles (146 097 days)
/// first so that far-future certificate ends stay cheap.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    const CYCLE_DAYS: u64 = 146_097;
    let mut year = 1970 + days / CYCLE_DAYS * 400;
    let mut days = days % CYCLE_DAYS;
    loop {
        let length = if is_leap(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let mut month = 1;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    (year, month, days + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_030; // 2023-11-14T22:13:50

    #[test]
    fn timestamps_print_as_utc_iso_dates() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00");
        assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(timestamp(NOW), "2023-11-14T22:13:50");
        assert_eq!(timestamp(4_102_444_799), "2099-12-31T23:59:59");
    }

    #[test]
    fn absolute_times_are_read_as_utc() {
        assert_eq!(absolute("20000229"), Ok(951_782_400));
        assert_eq!(absolute("20231114221350Z"), Ok(NOW));
        assert!(absolute("20230230").is_err());
        assert!(absolute("2023111").is_err());
    }

    #[test]
    fn durations_add_their_units() {
        assert_eq!(duration("90"), Ok(90));
        assert_eq!(duration("1h30m"), Ok(5_400));
        assert_eq!(duration("52w"), Ok(52 * 604_800));
        assert!(duration("").is_err());
        assert!(duration("3y").is_err());
        assert!(duration("99999999999999999999w").is_err());
    }

    #[test]
    fn plus_life_is_backdated_to_the_previous_minute() {
        let v = Validity::parse("+1d", NOW).unwrap();
        assert_eq!(v.after, 1_699_999_920);
        assert_eq!(v.before, NOW + 86_400);
    }

    #[test]
    fn intervals_read_each_end() {
        let v = Validity::parse("always:20300101", NOW).unwrap();
        assert_eq!((v.after, v.before), (0, 1_893_456_000));
        let v = Validity::parse("-1d:+1h", NOW).unwrap();
        assert_eq!((v.after, v.before), (NOW - 86_400, NOW + 3_600));
        let v = Validity::parse("0x10:forever", NOW).unwrap();
        assert_eq!((v.after, v.before), (16, u64::MAX));
        assert!(Validity::parse("+1d:-1d", NOW).is_err());
        assert!(Validity::parse("20300101", NOW).is_err());
    }

    #[test]
    fn intervals_are_described_as_ssh_keygen_words_them() {
        assert_eq!(Validity::FOREVER.describe(), "forever");
        let v = Validity {
            after: 0,
            before: 0,
        };
        assert_eq!(
            Validity { before: 60, ..v }.describe(),
            "before 1970-01-01T00:01:00"
        );
        let after = Validity {
            after: 60,
            before: u64::MAX,
        };
        assert_eq!(after.describe(), "after 1970-01-01T00:01:00");
    }
}

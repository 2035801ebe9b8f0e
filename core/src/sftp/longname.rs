//! `ls -l` style long names for SSH_FXP_NAME entries ([draft-ietf-secsh-filexfer-02
//! §7]: "the format of the longname field is unspecified", but clients show it as is,
//! so servers follow `ls -l`).
//!
//! [draft-ietf-secsh-filexfer-02 §7]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt

use crate::sftp::{FileAttributes, FileType};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// Files modified within this many seconds before `now` show a time, others a year
/// (`ls` uses six months).
const RECENT: u64 = 182 * 24 * 3600;

/// What goes in a long name besides the attributes.
#[derive(Debug, Clone, Copy)]
pub struct LongNameContext<'a> {
    /// Hard link count.
    pub links: u64,
    /// Owner name (or the uid as text).
    pub user: &'a str,
    /// Group name (or the gid as text).
    pub group: &'a str,
    /// The current time in seconds since the Unix epoch, which decides between showing
    /// a time or a year. Passed in: the engine reads no clock.
    pub now: u64,
}

/// Formats an `ls -l` line: mode, links, owner, group, size, modification date (UTC)
/// and name.
///
/// ```
/// use sansh_core::sftp::{long_name, FileAttributes, LongNameContext};
/// let attrs = FileAttributes::default()
///     .with_permissions(0o100644)
///     .with_size(1234)
///     .with_times(0, 86_400 * 365);
/// let ctx = LongNameContext { links: 1, user: "alice", group: "staff", now: 86_400 * 400 };
/// let line = long_name(b"notes.txt", &attrs, &ctx);
/// assert_eq!(
///     String::from_utf8(line).unwrap(),
///     "-rw-r--r--    1 alice    staff        1234 Jan  1 00:00 notes.txt"
/// );
/// ```
pub fn long_name(filename: &[u8], attrs: &FileAttributes, ctx: &LongNameContext<'_>) -> Vec<u8> {
    let mode = mode_string(attrs.permissions.unwrap_or(0));
    let size = attrs.size.unwrap_or(0);
    let date = attrs.mtime().map_or_else(
        || "            ".to_owned(),
        |m| date_string(u64::from(m), ctx.now),
    );
    let mut line = format!(
        "{mode} {:>4} {:<8} {:<8} {size:>8} {date} ",
        ctx.links, ctx.user, ctx.group
    )
    .into_bytes();
    line.extend_from_slice(filename);
    line
}

/// The ten-character mode column of `ls -l`.
pub fn mode_string(mode: u32) -> String {
    let kind = match FileType::from_mode(mode) {
        FileType::Regular => '-',
        FileType::Directory => 'd',
        FileType::Symlink => 'l',
        FileType::CharDevice => 'c',
        FileType::BlockDevice => 'b',
        FileType::Fifo => 'p',
        FileType::Socket => 's',
        FileType::Other(0) => '-',
        FileType::Other(_) => '?',
    };
    let mut s = String::with_capacity(10);
    s.push(kind);
    // (read bit, write bit, execute bit, special bit, special letter when executable)
    let triples = [
        (0o400, 0o200, 0o100, 0o4000, 's'),
        (0o040, 0o020, 0o010, 0o2000, 's'),
        (0o004, 0o002, 0o001, 0o1000, 't'),
    ];
    for (r, w, x, special, letter) in triples {
        s.push(if mode & r != 0 { 'r' } else { '-' });
        s.push(if mode & w != 0 { 'w' } else { '-' });
        s.push(match (mode & x != 0, mode & special != 0) {
            (true, true) => letter,
            (false, true) => letter.to_ascii_uppercase(),
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// `Mon dd HH:MM` for recent times, `Mon dd  YYYY` otherwise (UTC).
fn date_string(mtime: u64, now: u64) -> String {
    let (year, month, day) = civil_date(mtime / 86_400);
    let month = (month as usize)
        .checked_sub(1)
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("???");
    if mtime <= now && now - mtime < RECENT {
        let secs = mtime % 86_400;
        format!(
            "{month} {day:>2} {:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60
        )
    } else {
        format!("{month} {day:>2}  {year}")
    }
}

/// The proleptic Gregorian (year, month 1-12, day 1-31) of a day count since
/// 1970-01-01, by counting 400-year eras from 0000-03-01.
fn civil_date(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_date_matches_known_days() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(59), (1970, 3, 1));
        // 2000-02-29, a leap day of a year divisible by 400.
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        // 2038-01-19, where a signed 32-bit time_t ends.
        assert_eq!(civil_date(24_855), (2038, 1, 19));
    }

    #[test]
    fn mode_string_shows_type_permissions_and_special_bits() {
        assert_eq!(mode_string(0o040_755), "drwxr-xr-x");
        assert_eq!(mode_string(0o120_777), "lrwxrwxrwx");
        assert_eq!(mode_string(0o104_755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o041_777), "drwxrwxrwt");
        assert_eq!(mode_string(0o041_776), "drwxrwxrwT");
        assert_eq!(mode_string(0o102_644), "-rw-r-Sr--");
    }

    #[test]
    fn old_files_show_the_year_instead_of_the_time() {
        let now = 86_400 * 1000;
        assert_eq!(date_string(now - 3600, now), "Sep 26 23:00");
        assert_eq!(date_string(0, now), "Jan  1  1970");
        // A time in the future shows the year too, as `ls` does.
        assert_eq!(date_string(now + 60, now), "Sep 27  1972");
    }
}

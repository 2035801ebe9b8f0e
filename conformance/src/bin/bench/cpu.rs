//! CPU time spent by this process and by its waited-for children, from
//! `/proc/self/stat`: how much work each client did for the same transfer.

use std::time::Duration;

use crate::setup::BenchResult;

/// Clock ticks per second in `/proc` (`USER_HZ`, 100 on every Linux architecture
/// the project builds for).
const TICKS_PER_SECOND: u64 = 100;

/// User plus system CPU time, so far.
#[derive(Clone, Copy)]
pub(crate) struct CpuTimes {
    /// This process (our client runs in it).
    pub(crate) own: Duration,
    /// Children that have been waited for (`ssh`, `sftp` and the `ssh` it runs).
    pub(crate) children: Duration,
}

impl CpuTimes {
    /// The times now.
    pub(crate) fn now() -> BenchResult<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat")?;
        parse_stat(&stat).ok_or_else(|| format!("unexpected /proc/self/stat: {stat}").into())
    }

    /// What was spent since `earlier`.
    pub(crate) fn since(earlier: Self) -> BenchResult<Self> {
        let now = Self::now()?;
        Ok(Self {
            own: now.own.saturating_sub(earlier.own),
            children: now.children.saturating_sub(earlier.children),
        })
    }
}

/// Fields 14-17 (utime, stime, cutime, cstime), counted after the command name,
/// which is parenthesised and may hold spaces.
fn parse_stat(stat: &str) -> Option<CpuTimes> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // The first field after the name is field 3 (state).
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [utime, stime, cutime, cstime] = fields[..] else {
        return None;
    };
    let time = |ticks: u64| Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND);
    Some(CpuTimes {
        own: time(utime + stime),
        children: time(cutime + cstime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_come_from_fields_fourteen_to_seventeen() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 101 0 0 0 150 50 30 20 20 0 1 0";
        let times = parse_stat(stat).expect("parsed");
        assert_eq!(times.own, Duration::from_secs(2));
        assert_eq!(times.children, Duration::from_millis(500));
    }

    #[test]
    fn a_short_line_is_refused() {
        assert!(parse_stat("42 (x) S 1 2 3").is_none());
    }
}

//! Process memory from `/proc`: resident set sizes and process trees.

use std::path::Path;

use crate::setup::BenchResult;

/// `VmRSS` of process `pid`, in KiB.
pub(crate) fn rss_kib(pid: u32) -> BenchResult<u64> {
    kib_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// The proportional set size of process `pid` in KiB: its private pages plus its
/// share of the pages it shares (what `VmRSS` counts in full for every process).
pub(crate) fn pss_kib(pid: u32) -> BenchResult<u64> {
    kib_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:")
}

/// The `NAME: N kB` line's N of a `/proc` file.
fn kib_field(file: &str, name: &str) -> BenchResult<u64> {
    std::fs::read_to_string(file)?
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{file} has no {name} line").into())
}

/// Every process as `(pid, parent pid)`.
fn processes() -> BenchResult<Vec<(u32, u32)>> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // Gone since the listing: skip it.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            all.push((pid, ppid));
        }
    }
    Ok(all)
}

/// The descendants of `root` (children, their children, ...).
pub(crate) fn descendants(root: u32) -> BenchResult<Vec<u32>> {
    let all = processes()?;
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &all {
            if ppid == parent {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    Ok(found)
}

/// The listening `sshd` started with the config file `config`: the process whose
/// command line names it and whose parent does not.
pub(crate) fn sshd_listener(config: &Path) -> BenchResult<u32> {
    let needle = config.as_os_str().as_encoded_bytes();
    let all = processes()?;
    let named: Vec<u32> = all
        .iter()
        .map(|&(pid, _)| pid)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| line.windows(needle.len()).any(|w| w == needle))
        })
        .collect();
    all.iter()
        .find(|(pid, ppid)| named.contains(pid) && !named.contains(ppid))
        .map(|&(pid, _)| pid)
        .ok_or_else(|| format!("no sshd process runs with {}", config.display()).into())
}

/// The summed `VmRSS` of `pids` in KiB, skipping processes that ended meanwhile.
pub(crate) fn total_rss_kib(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|&pid| rss_kib(pid).ok()).sum()
}

/// The summed proportional set size of `pids` in KiB, as [`total_rss_kib`].
pub(crate) fn total_pss_kib(pids: &[u32]) -> u64 {
    pids.iter().filter_map(|&pid| pss_kib(pid).ok()).sum()
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    #[test]
    fn this_process_has_a_resident_and_a_proportional_size() {
        let pid = std::process::id();
        assert!(rss_kib(pid).expect("VmRSS") > 0);
        assert!(pss_kib(pid).expect("Pss") > 0);
    }

    #[test]
    fn a_spawned_child_is_among_the_descendants() {
        // `cat` waits on its stdin until it is closed.
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn cat");
        let found = descendants(std::process::id()).expect("process list");
        drop(child.stdin.take());
        child.wait().expect("cat ends on EOF");
        assert!(found.contains(&child.id()), "{found:?}");
    }

    #[test]
    fn a_missing_process_has_no_size() {
        // Above the kernel's PID_MAX_LIMIT (2^22), so no process has it.
        assert!(rss_kib(u32::MAX).is_err());
        assert_eq!(total_rss_kib(&[u32::MAX]), 0);
    }
}

//! Server memory per idle connection: our server against `sshd`.

use crate::memory::{descendants, rss_kib, sshd_listener, total_pss_kib, total_rss_kib};
use crate::our_server::OurServer;
use crate::our_side;
use crate::setup::{BenchResult, Setup};
use crate::workloads::Figures;

/// Opens `count` authenticated idle connections (our client) to a fresh server
/// example and to `sshd`, and divides what each server holds by `count`.
///
/// Ours: the example's `VmRSS` with them open minus its `VmRSS` after one
/// connection came and went (start-up and the runtime's threads excluded). sshd:
/// the summed `VmRSS` of its per-connection processes (shared pages count in each,
/// as `VmRSS` counts them); the note adds their proportional set size, which
/// shares those pages out.
pub(crate) fn memory(setup: &Setup, count: u32) -> BenchResult<Figures> {
    let server = OurServer::start(setup)?;
    our_side::close_idle(setup, our_side::open_idle(setup, server.addr(), 1)?);
    let before = rss_kib(server.pid())?;
    let open = our_side::open_idle(setup, server.addr(), count)?;
    let after = rss_kib(server.pid())?;
    our_side::close_idle(setup, open);
    drop(server);

    let listener = sshd_listener(&setup.sshd.dir().join("sshd_config"))?;
    let lingering = descendants(listener)?;
    let open = our_side::open_idle(setup, setup.sshd.addr(), count)?;
    let mut processes = descendants(listener)?;
    processes.retain(|pid| !lingering.contains(pid));
    let sshd_total = total_rss_kib(&processes);
    let sshd_pss = total_pss_kib(&processes);
    our_side::close_idle(setup, open);

    let n = f64::from(count);
    let ours = after.saturating_sub(before) as f64 / n;
    let openssh = sshd_total as f64 / n;
    Ok(Figures {
        ours,
        openssh,
        note: Some(format!(
            "{count} idle authenticated connections (our client). ours: the server \
             example's VmRSS {before} KiB -> {after} KiB, delta / {count}; openssh: sum of \
             VmRSS of sshd's {} per-connection processes ({sshd_total} KiB) / {count}, \
             shared pages counted in every process (their PSS: {:.1} KiB per connection)",
            processes.len(),
            sshd_pss as f64 / n
        )),
        cpu: None,
    })
}

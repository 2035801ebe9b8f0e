//! A one-line progress bar for transfers, redrawn in place on a terminal.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sansh_tokio::sftp::{Progress, ProgressHandler};

struct Bar {
    started: Instant,
    file: String,
    /// Last percentage drawn, so a redraw happens at most a hundred times a file.
    drawn: Option<u64>,
}

/// A progress handler drawing `name  42%  12.3MiB  45.6MiB/s` on stdout.
pub(crate) fn bar() -> ProgressHandler {
    let state = Arc::new(Mutex::new(Bar {
        started: Instant::now(),
        file: String::new(),
        drawn: None,
    }));
    Arc::new(move |p: &Progress<'_>| {
        let mut bar = state.lock().unwrap_or_else(|e| e.into_inner());
        if bar.file != p.source {
            bar.file = p.source.to_owned();
            bar.started = Instant::now();
            bar.drawn = None;
        }
        let percent = (p.transferred * 100).checked_div(p.total).unwrap_or(100);
        let done = p.transferred >= p.total;
        // `u64::MAX`: the final line is drawn already.
        if bar.drawn == Some(u64::MAX) || (bar.drawn == Some(percent) && !done) {
            return;
        }
        bar.drawn = Some(if done { u64::MAX } else { percent });
        let seconds = bar.started.elapsed().as_secs_f64().max(1e-3);
        let name = p.source.rsplit('/').next().unwrap_or(p.source);
        let mut out = std::io::stdout().lock();
        let _ = write!(
            out,
            "\r{name:<40} {percent:>3}% {:>10} {:>10}/s",
            size(p.transferred),
            size((p.transferred as f64 / seconds) as u64),
        );
        if done {
            let _ = writeln!(out);
        }
        let _ = out.flush();
    })
}

/// `n` bytes in binary units, like OpenSSH's progress meter.
pub(crate) fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n}B")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}

//! The authentication matrix: one row per method (and key type or variant),
//! direction and peer, collected from scenarios run in parallel, printed whole, then
//! asserted.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::thread;

/// Which of our engines faced which OpenSSH program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Our `ClientConnection` against `sshd`.
    ClientToSshd,
    /// OpenSSH's `ssh` against our `ServerConnection`.
    SshToServer,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ClientToSshd => "sansh client -> sshd",
            Self::SshToServer => "ssh -> sansh server",
        })
    }
}

/// One line of the matrix.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The method: `publickey`, `password`, `keyboard-interactive`, or a limit.
    pub(crate) method: &'static str,
    /// The variant: key type, key source, round count, ...
    pub(crate) variant: String,
    pub(crate) direction: Direction,
    /// The peer's version, e.g. `OpenSSH 10.0`.
    pub(crate) peer: String,
    pub(crate) result: Result<(), String>,
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.result.is_ok() { "pass" } else { "FAIL" };
        write!(
            f,
            "auth {:<22} {:<34} {:<21} {:<13} {verdict}",
            self.method, self.variant, self.direction, self.peer
        )
    }
}

/// Prints every row, then the details of each failure, then fails the test if any
/// row failed: one failure never hides the rest of the matrix.
pub(crate) fn print_and_assert(title: &str, rows: &[Row]) {
    println!("\n=== auth matrix: {title} ===");
    println!(
        "auth {:<22} {:<34} {:<21} {:<13} result",
        "method", "variant", "direction", "peer"
    );
    for row in rows {
        println!("{row}");
    }
    let failures: Vec<&Row> = rows.iter().filter(|r| r.result.is_err()).collect();
    println!(
        "=== {} rows, {} pass, {} fail ===",
        rows.len(),
        rows.len() - failures.len(),
        failures.len()
    );
    for row in &failures {
        if let Err(why) = &row.result {
            println!("\n--- {row} ---\n{why}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} auth rows failed: {}",
        failures.len(),
        rows.len(),
        failures
            .iter()
            .map(|r| format!("{} {} ({})", r.method, r.variant, r.direction))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Runs `scenario` on every item with `workers` threads; results come back in the
/// items' order. A panicking scenario becomes an `Err` with the panic message.
pub(crate) fn run_parallel<T: Sync>(
    items: &[T],
    workers: usize,
    scenario: impl Fn(&T) -> Result<(), String> + Sync,
) -> Vec<Result<(), String>> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<(), String>>>> =
        Mutex::new(items.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
                        *next += 1;
                        *next - 1
                    };
                    let Some(item) = items.get(index) else {
                        return;
                    };
                    let result = panic::catch_unwind(AssertUnwindSafe(|| scenario(item)))
                        .unwrap_or_else(|payload| {
                            let text = payload
                                .downcast_ref::<&str>()
                                .map(|s| (*s).to_owned())
                                .or_else(|| payload.downcast_ref::<String>().cloned())
                                .unwrap_or_default();
                            Err(format!("scenario panicked: {text}"))
                        });
                    if let Some(slot) = results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_mut(index)
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("scenario never ran".into())))
        .collect()
}

/// The last `lines` lines of a log, for a failure message.
pub(crate) fn tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    all.get(all.len().saturating_sub(lines)..)
        .unwrap_or_default()
        .join("\n")
}

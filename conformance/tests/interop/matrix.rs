//! The interop matrix: one row per algorithm and direction, collected from scenarios
//! run in parallel, printed whole, then asserted.

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
            Self::ClientToSshd => "client->sshd",
            Self::SshToServer => "ssh->server",
        })
    }
}

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pass,
    /// What went wrong, with the evidence (peer log excerpts).
    Fail(String),
}

/// One line of the matrix.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The algorithm family or feature: `kex`, `cipher`, `mac`, `host-key`, ...
    pub(crate) family: &'static str,
    /// The algorithm's name as on the wire.
    pub(crate) algorithm: String,
    pub(crate) direction: Direction,
    pub(crate) outcome: Outcome,
}

impl Row {
    pub(crate) fn new(
        family: &'static str,
        algorithm: impl Into<String>,
        direction: Direction,
        result: Result<(), String>,
    ) -> Self {
        Self {
            family,
            algorithm: algorithm.into(),
            direction,
            outcome: match result {
                Ok(()) => Outcome::Pass,
                Err(why) => Outcome::Fail(why),
            },
        }
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "FAIL",
        };
        write!(
            f,
            "interop {:<12} {:<38} {:<13} {verdict}",
            self.family, self.algorithm, self.direction
        )
    }
}

/// Prints every row, then the details of each failure, then fails the test if any
/// row failed: one failure never hides the rest of the matrix.
pub(crate) fn print_and_assert(title: &str, rows: &[Row]) {
    println!("\n=== interop matrix: {title} ===");
    for row in rows {
        println!("{row}");
    }
    let failures: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .collect();
    println!(
        "=== {} rows, {} pass, {} fail ===",
        rows.len(),
        rows.len() - failures.len(),
        failures.len()
    );
    for row in &failures {
        if let Outcome::Fail(why) = &row.outcome {
            println!("\n--- {row} ---\n{why}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} interop rows failed: {}",
        failures.len(),
        rows.len(),
        failures
            .iter()
            .map(|r| format!("{} {} {}", r.family, r.algorithm, r.direction))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Runs `scenario` on every item with `workers` threads and returns the results in
/// the items' order. A panicking scenario (an engine panic included) becomes an
/// `Err` with the panic message instead of tearing the whole matrix down.
pub(crate) fn run_parallel<T, R>(
    items: Vec<T>,
    workers: usize,
    scenario: impl Fn(&T) -> Result<R, String> + Sync,
) -> Vec<(T, Result<R, String>)>
where
    T: Send + Sync,
    R: Send,
{
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<R, String>>>> =
        Mutex::new(items.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(item) = items.get(index) else {
                        return;
                    };
                    let result = panic::catch_unwind(AssertUnwindSafe(|| scenario(item)))
                        .unwrap_or_else(|payload| Err(panic_message(payload.as_ref())));
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
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    items
        .into_iter()
        .zip(results)
        .map(|(item, result)| {
            let result = result.unwrap_or_else(|| Err("scenario never ran".into()));
            (item, result)
        })
        .collect()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-text panic payload)".into());
    format!("scenario panicked: {text}")
}

/// The last `lines` lines of a peer's log, for a failure message.
pub(crate) fn tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    let start = all.len().saturating_sub(lines);
    all.get(start..).unwrap_or_default().join("\n")
}

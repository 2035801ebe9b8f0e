//! A peer's stderr, drained line by line on a thread into a buffer tests can wait on.
//!
//! Draining continuously matters: a peer logging at DEBUG3 into a pipe nobody reads
//! blocks once the pipe fills, which would look like a protocol hang.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct State {
    text: String,
    /// The peer closed its end: no more lines will come.
    closed: bool,
}

/// A shared, growing copy of a peer's log.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogBuffer {
    shared: Arc<(Mutex<State>, Condvar)>,
}

impl LogBuffer {
    /// Starts a thread that appends every line from `source` until it ends.
    pub(crate) fn drain(source: impl Read + Send + 'static) -> Self {
        let log = Self::default();
        let writer = log.clone();
        thread::spawn(move || {
            let mut reader = BufReader::new(source);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => writer.append(&String::from_utf8_lossy(&line)),
                }
            }
            writer.close();
        });
        log
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the text half-written in a way
        // that matters to a reader, so a poisoned lock is still usable.
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn append(&self, line: &str) {
        self.lock().text.push_str(line);
        self.shared.1.notify_all();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.shared.1.notify_all();
    }

    /// Everything logged so far.
    pub(crate) fn text(&self) -> String {
        self.lock().text.clone()
    }

    /// Waits until `check` returns `Some` for a logged line, the log ends, or `timeout`
    /// passes. Lines already logged are checked first, then each new line once.
    ///
    /// Returns `Ok(value)` on a match, otherwise `Err(closed)` telling whether the log
    /// ended (the peer exited) rather than the time ran out.
    pub(crate) fn wait_for_line<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&str) -> Option<T>,
    ) -> Result<T, bool> {
        let deadline = Instant::now() + timeout;
        let mut scanned = 0;
        let mut state = self.lock();
        loop {
            // `text` only ever grows by whole lines, so `scanned` stays on a boundary.
            let fresh = state.text.get(scanned..).unwrap_or_default();
            if let Some(found) = fresh.lines().find_map(&mut check) {
                return Ok(found);
            }
            scanned = state.text.len();
            if state.closed {
                return Err(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(false);
            }
            state = self
                .shared
                .1
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until the log ends (the peer closed its stderr, i.e. exited), at most
    /// `timeout`; returns whether it ended.
    pub(crate) fn wait_closed(&self, timeout: Duration) -> bool {
        self.wait_for_line(timeout, |_| None::<()>) == Err(true)
    }
}

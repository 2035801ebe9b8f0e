//! Waiting for child processes with a deadline, without polling or sleeping.

use std::io;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

/// Waits for `child` to exit, killing it if it is still running after `timeout`.
///
/// Returns `Ok(Some(status))` when it exited by itself and `Ok(None)` when it had to be
/// killed. A watchdog thread waits on a channel with a timeout, so the caller blocks in
/// `wait()` and nothing polls.
///
/// ```
/// use std::process::Command;
/// use std::time::Duration;
/// let mut child = Command::new("true").spawn().unwrap();
/// let status = sansh_conformance::process::wait_or_kill(&mut child, Duration::from_secs(5));
/// assert!(status.unwrap().unwrap().success());
/// ```
pub fn wait_or_kill(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let pid = rustix::process::Pid::from_raw(child.id() as i32);
    let killed = Arc::new(AtomicBool::new(false));
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = {
        let killed = killed.clone();
        thread::spawn(move || {
            if let (Err(mpsc::RecvTimeoutError::Timeout), Some(pid)) =
                (finished.recv_timeout(timeout), pid)
            {
                killed.store(true, Ordering::SeqCst);
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        })
    };
    let status = child.wait();
    let _ = done.send(());
    let _ = watchdog.join();
    let status = status?;
    Ok((!killed.load(Ordering::SeqCst)).then_some(status))
}

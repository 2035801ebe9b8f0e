//! Keepalive timeouts, both ways: the side that probes ends the connection in
//! bounded time once its peer stops answering. A peer stops answering by being
//! stopped with SIGSTOP (sshd's session processes, or `ssh`), or, for our
//! in-process server, by a relay that stops forwarding.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sansh_conformance::openssh::Sshd;
use sansh_core::ClientConfig;
use sansh_core::config::ConnectionConfig;
use sansh_core::driver::ChannelRequest;
use sansh_core::error::{ConnectionError, TimerKind};

use crate::our_server::{lock, run_process_for, serve_with, ssh_command};
use crate::runtimes::TestRuntime;
use crate::session::logged_in_with;
use crate::support::{FreezableRelay, Stopped, TestResult, WAIT, wait_for, within};

const INTERVAL: Duration = Duration::from_millis(300);
const COUNT: u32 = 2;
/// Scheduling delay allowed on a loaded machine past the expected timeout.
const SLACK: Duration = Duration::from_secs(5);

/// Fails unless `silent_for` lies between `count` probe intervals (the peer had
/// that many chances to answer) and one interval more, give or take [`SLACK`].
fn check_bounded(silent_for: Duration, interval: Duration, count: u32) -> Result<(), String> {
    let (least, most) = (interval * count, interval * (count + 1) + SLACK);
    if silent_for >= least && silent_for <= most {
        Ok(())
    } else {
        Err(format!(
            "gave up after {silent_for:?}, not within {least:?}..={most:?}"
        ))
    }
}

fn keepalive() -> ConnectionConfig {
    ConnectionConfig {
        keepalive_interval: Some(INTERVAL),
        keepalive_max: COUNT,
        ..ConnectionConfig::default()
    }
}

/// The pids of the sshd-session processes serving the (only) connection: the
/// privileged monitor sshd forked and the user's child, as sshd logs them.
fn session_pids(sshd: &Sshd) -> Result<Vec<i32>, Box<dyn std::error::Error>> {
    let mut pids = Vec::new();
    for needle in ["Forked child ", "User child is on pid "] {
        let line = sshd.wait_for_log(needle, WAIT)?;
        let pid = line
            .split(needle)
            .nth(1)
            .and_then(|rest| rest.trim().trim_end_matches('.').parse().ok())
            .ok_or_else(|| format!("no pid in {line:?}"))?;
        pids.push(pid);
    }
    Ok(pids)
}

/// Our client probing a sshd whose session processes are stopped disconnects
/// after its interval times its count of unanswered probes, reporting the
/// keepalive timeout; while sshd was running, it answered the probes.
pub(crate) fn client_keepalive_gives_up_on_a_stopped_sshd<R: TestRuntime>() -> TestResult {
    let config = ClientConfig {
        connection: keepalive(),
        ..ClientConfig::default()
    };
    let (why, silent_for) = logged_in_with::<R, _>(config, &[], async |conn, sshd| {
        // More probes than COUNT: had sshd's answers not counted, we would be gone.
        let rounds = COUNT as usize + 1;
        let probes = sshd.wait_for_log_count("rtype keepalive@openssh.com", rounds, WAIT);
        if probes < rounds || conn.is_closed() {
            return Err(format!(
                "sshd answered {probes} probes; closed: {}",
                conn.is_closed()
            )
            .into());
        }
        let stopped = Stopped::stop(&session_pids(sshd)?)?;
        let since = Instant::now();
        let why = within::<R, _>(WAIT, conn.closed())
            .await
            .ok_or("the connection outlived its keepalive")?;
        drop(stopped);
        Ok((why, since.elapsed()))
    })?;
    assert_eq!(why, ConnectionError::TimedOut(TimerKind::Keepalive));
    check_bounded(silent_for, INTERVAL, COUNT)?;
    Ok(())
}

/// Our server probing `ssh` keeps the connection while ssh answers (with
/// REQUEST_FAILURE, as OpenSSH's client does), and ends it with a keepalive
/// timeout once ssh is stopped.
pub(crate) fn server_keepalive_gives_up_on_a_stopped_openssh_ssh<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let server = serve_with(&rt, keepalive())?;
    let mut command = ssh_command(server.addr, &["-v"], "requests")?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let log = Arc::new(Mutex::new(String::new()));
    if let Some(stderr) = child.stderr.take() {
        let log = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = lock(&log);
                log.push_str(&line);
                log.push('\n');
            }
        });
    }
    // More probes than COUNT: had ssh's answers not counted, we would be gone.
    let rounds = COUNT as usize + 1;
    let waited = wait_for("ssh to answer our server's probes", || {
        lock(&log).matches("rtype keepalive@openssh.com").count() >= rounds
    })
    .map_err(|e| format!("{e}:\n{}", lock(&log)));
    let alive = lock(&server.ended).is_empty();
    // Stopped, and killed whatever happens next.
    let stopped = Stopped::stop(&[child.id() as i32])?;
    waited?;
    assert!(alive, "{:?}", lock(&server.ended));
    let since = Instant::now();
    let ended = wait_for("our server to end the connection", || {
        !lock(&server.ended).is_empty()
    });
    let silent_for = since.elapsed();
    drop(stopped);
    let _ = child.wait();
    ended?;
    let ended = lock(&server.ended).clone();
    assert_eq!(ended, [ConnectionError::TimedOut(TimerKind::Keepalive)]);
    check_bounded(silent_for, INTERVAL, COUNT)?;
    Ok(())
}

/// `ssh -o ServerAliveInterval=1 -o ServerAliveCountMax=2` against our server,
/// once the link goes silent, gives up after its count of unanswered probes.
pub(crate) fn openssh_ssh_server_alive_gives_up_on_our_silent_server<R: TestRuntime>() -> TestResult
{
    let rt = R::start();
    let server = serve_with(&rt, ConnectionConfig::default())?;
    let relay = FreezableRelay::start(server.addr)?;
    let options = ["-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"];
    let command = ssh_command(relay.addr(), &options, "requests")?;
    let running =
        thread::spawn(move || run_process_for(command, None, WAIT).map_err(|e| e.to_string()));
    let exec = ChannelRequest::Exec {
        command: b"requests".to_vec(),
    };
    wait_for("our server to get the exec", || {
        lock(&server.seen).contains(&exec)
    })?;
    relay.freeze();
    let since = Instant::now();
    let out = running.join().map_err(|_| "the ssh thread panicked")??;
    let silent_for = since.elapsed();
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(out.stderr.contains("not responding"), "{}", out.stderr);
    check_bounded(silent_for, Duration::from_secs(1), 2)?;
    Ok(())
}

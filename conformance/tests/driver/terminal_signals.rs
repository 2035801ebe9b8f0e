//! Window changes and signals, both ways: our client's `change_terminal_size` and
//! `send_signal` observed by a process sshd runs; `ssh` resizing its terminal, and
//! our client's requests, observed by our server.
//!
//! OpenSSH's `ssh` has no way to send a `signal` request (neither an option nor an
//! escape sequence), so that direction is covered by our client against our server.

use std::fs::OpenOptions;
use std::future::poll_fn;
use std::io::Write;
use std::pin::Pin;
use std::process::Command;
use std::thread;

use futures_io::AsyncRead;
use sansh_conformance::openssh::SSH;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::ClientConfig;
use sansh_core::channel::{PtyRequest, TerminalModes};
use sansh_core::driver::{Channel, ChannelRequest, Connection, Login};

use crate::our_server::{TestServer, lock, run_process, serve_with, ssh_args};
use crate::runtimes::TestRuntime;
use crate::session::logged_in_with;
use crate::support::{AcceptAny, TestResult, wait_for};

/// A shell loop that reports SIGWINCH with the terminal's new size and exits on
/// SIGINT. Its `sleep`s run in the background, where a non-interactive shell has
/// SIGINT ignored, and `wait` returns as soon as a trapped signal arrives.
const TRAPS: &str = "trap 'stty size' WINCH; trap 'echo got INT; exit 0' INT; echo ready; \
                     while :; do sleep 1 >/dev/null 2>&1 & wait $!; done";

fn pty(cols: u32, rows: u32) -> PtyRequest {
    PtyRequest {
        term: "xterm".into(),
        cols,
        rows,
        width_px: 0,
        height_px: 0,
        modes: TerminalModes::default(),
    }
}

/// Reads the channel's stdout until it contains `marker` (or ends); returns it all.
async fn read_until(channel: &mut Channel, marker: &str) -> std::io::Result<String> {
    let mut text = Vec::new();
    let mut buf = [0; 1024];
    while !String::from_utf8_lossy(&text).contains(marker) {
        let n = poll_fn(|cx| Pin::new(&mut *channel).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            break;
        }
        text.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Reads the channel's stdout to its end.
async fn read_to_end(channel: &mut Channel) -> std::io::Result<String> {
    read_until(channel, "\u{0}: never printed").await
}

/// `change_terminal_size` on a pty session resizes sshd's pty: the command gets
/// SIGWINCH and `stty size` sees the new rows and columns.
pub(crate) fn terminal_size_change_reaches_a_command_on_sshd_as_sigwinch<R: TestRuntime>()
-> TestResult {
    let output = logged_in_with::<R, _>(ClientConfig::default(), &[], async |conn, _| {
        let mut channel = conn.open_session().await?;
        channel.request_pty(&pty(80, 24)).await?;
        channel.exec(TRAPS).await?;
        let ready = read_until(&mut channel, "ready").await?;
        if !ready.contains("ready") {
            return Err(format!("the command never got ready: {ready:?}").into());
        }
        channel.change_terminal_size(101, 33, 0, 0)?;
        let output = read_until(&mut channel, "33 101").await?;
        channel.close();
        Ok(output)
    })?;
    assert!(output.contains("33 101"), "{output:?}");
    Ok(())
}

/// `send_signal("INT")` reaches the command sshd runs (no pty: sshd delivers it
/// with killpg), whose trap reports it; the command then exits 0.
pub(crate) fn signal_request_reaches_a_command_on_sshd<R: TestRuntime>() -> TestResult {
    let (output, status) =
        logged_in_with::<R, _>(ClientConfig::default(), &[], async |conn, _| {
            let mut channel = conn.open_session().await?;
            channel.exec(TRAPS).await?;
            let ready = read_until(&mut channel, "ready").await?;
            if !ready.contains("ready") {
                return Err(format!("the command never got ready: {ready:?}").into());
            }
            channel.send_signal("INT")?;
            let output = read_to_end(&mut channel).await?;
            channel.wait_closed().await?;
            Ok((output, channel.exit_status()))
        })?;
    assert!(output.contains("got INT"), "{output:?}");
    assert_eq!(status, Some(0));
    Ok(())
}

/// Our client logged in to the test server, with a session running `requests`
/// (on a pty) that has printed `ready`.
async fn requests_session<R: TestRuntime>(
    server: &TestServer,
) -> Result<(Connection, Channel), Box<dyn std::error::Error>> {
    let handler = AcceptAny::default();
    let conn = R::connect(server.addr, ClientConfig::default(), handler.clone()).await?;
    conn.authenticate(&Login::new("tester").no_agent(), &handler)
        .await?;
    let mut channel = conn.open_session().await?;
    channel.request_pty(&pty(80, 24)).await?;
    channel.exec("requests").await?;
    let ready = read_until(&mut channel, "ready\n").await?;
    if ready != "ready\n" {
        return Err(format!("the test server said {ready:?}").into());
    }
    Ok((conn, channel))
}

/// Our client's `change_terminal_size` reaches our server as a `window-change`.
pub(crate) fn our_clients_window_change_reaches_our_server<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let server = serve_with(&rt, Default::default())?;
    let output = rt.block_on(async {
        let (conn, mut channel) = requests_session::<R>(&server).await?;
        channel.change_terminal_size(132, 43, 0, 0)?;
        let output = read_until(&mut channel, "window 132x43\n").await?;
        conn.disconnect("done");
        Ok::<_, Box<dyn std::error::Error>>(output)
    })?;
    assert!(output.ends_with("window 132x43\n"), "{output:?}");
    let change = ChannelRequest::WindowChange {
        cols: 132,
        rows: 43,
        width_px: 0,
        height_px: 0,
    };
    assert!(lock(&server.seen).contains(&change));
    Ok(())
}

/// Our client's `send_signal` reaches our server as a `signal` request.
pub(crate) fn our_clients_signal_reaches_our_server<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let server = serve_with(&rt, Default::default())?;
    let (output, status) = rt.block_on(async {
        let (conn, mut channel) = requests_session::<R>(&server).await?;
        channel.send_signal("TERM")?;
        let output = read_to_end(&mut channel).await?;
        channel.wait_closed().await?;
        conn.disconnect("done");
        Ok::<_, Box<dyn std::error::Error>>((output, channel.exit_status()))
    })?;
    assert_eq!(output, "signal TERM\n");
    assert_eq!(status, Some(0));
    let signal = ChannelRequest::Signal {
        name: "TERM".into(),
    };
    assert!(lock(&server.seen).contains(&signal));
    Ok(())
}

/// `ssh -tt` on a terminal (given by `script`) whose size changes sends a
/// `window-change` with the new size. The shell under `script` starts ssh in the
/// background, waits on a FIFO until our server has the `exec`, then widens the
/// terminal (one `stty` setting: each is a resize of its own): the kernel sends
/// SIGWINCH to ssh, which reports the new size.
pub(crate) fn openssh_ssh_sends_a_window_change_when_its_terminal_is_resized<R: TestRuntime>()
-> TestResult {
    let rt = R::start();
    let server = serve_with(&rt, Default::default())?;
    let dir = ScratchDir::new("driver-winch")?;
    let fifo = dir.join("resize");
    let made = Command::new("mkfifo").arg(&fifo).status()?;
    if !made.success() {
        return Err(format!("mkfifo {} failed", fifo.display()).into());
    }
    let ssh_path = SSH.locate()?;
    let mut line = vec![ssh_path.display().to_string(), "-tt".into()];
    line.extend(ssh_args(server.addr));
    line.extend([server.addr.ip().to_string(), "requests 1".into()]);
    let quoted: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let shell = format!(
        "stty rows 24 cols 80 && {{ {} </dev/tty & }} && read go < '{}' && \
         stty cols 120 && wait $!",
        quoted.join(" "),
        fifo.display()
    );
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", &shell, "/dev/null"]);
    let running = thread::spawn(move || run_process(script, None).map_err(|e| e.to_string()));

    let exec = ChannelRequest::Exec {
        command: b"requests 1".to_vec(),
    };
    wait_for("our server to get the exec", || {
        lock(&server.seen).contains(&exec)
    })?;
    OpenOptions::new()
        .write(true)
        .open(&fifo)?
        .write_all(b"go\n")?;
    let out = running
        .join()
        .map_err(|_| "the script thread panicked")?
        .map_err(|e| format!("running ssh under `script` (util-linux): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{text}");
    assert!(text.contains("window 120x24"), "{text}");
    let seen = lock(&server.seen).clone();
    let resized = seen.iter().any(|r| {
        matches!(
            r,
            ChannelRequest::WindowChange {
                cols: 120,
                rows: 24,
                ..
            }
        )
    });
    assert!(resized, "{seen:?}");
    Ok(())
}

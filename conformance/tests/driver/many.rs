//! Many at once: channels on one connection, each moving data through `cat` and
//! checked (our client against sshd and against our server; OpenSSH's multiplexed
//! sessions, `ControlMaster`, against our server), and `ssh` connections to our
//! server all open at the same time.
//!
//! The scenarios take their sizes as arguments: the driver suite runs them small
//! enough for a debug build, the heavy suite (release) at full size.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use sansh_conformance::openssh::SSH;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::ClientConfig;
use sansh_core::driver::{Connection, Login};

use crate::bulk::{Echo, echo_through_channel, echo_through_process};
use crate::our_server::{TestServer, run_process_for, serve_with, ssh_args, ssh_command};
use crate::runtimes::TestRuntime;
use crate::session::logged_in_with;
use crate::support::{AcceptAny, TestResult, wait_for};

type BoxError = Box<dyn std::error::Error>;

/// Polls every future until all are done; their outputs in order.
async fn join_all<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Opens `channels` sessions on `conn` at once, each running `cat` with `bytes`
/// of its own pattern through it; checks every echo and exit status.
async fn cats_at_once(conn: &Connection, channels: usize, bytes: u64) -> Result<(), BoxError> {
    type Run<'a> = Pin<Box<dyn Future<Output = Result<(Echo, Option<u32>), BoxError>> + 'a>>;
    let runs: Vec<Run<'_>> = (0..channels)
        .map(|i| {
            Box::pin(async move {
                let mut channel = conn.open_session().await?;
                channel.exec("cat").await?;
                let echo = echo_through_channel(&mut channel, bytes, i as u64).await?;
                channel.wait_closed().await?;
                Ok::<_, BoxError>((echo, channel.exit_status()))
            }) as Run<'_>
        })
        .collect();
    for (i, run) in join_all(runs).await.into_iter().enumerate() {
        let (echo, status) = run.map_err(|e| format!("channel {i}: {e}"))?;
        echo.check(bytes).map_err(|e| format!("channel {i}: {e}"))?;
        if status != Some(0) {
            return Err(format!("channel {i}: cat exited with {status:?}").into());
        }
    }
    Ok(())
}

/// `channels` sessions at once on one connection to sshd (`MaxSessions` raised to
/// match), each moving `bytes` through `cat` and back intact.
pub(crate) fn channels_at_once_through_cat_on_sshd<R: TestRuntime>(
    channels: usize,
    bytes: u64,
) -> TestResult {
    let max_sessions = format!("MaxSessions {channels}");
    logged_in_with::<R, _>(
        ClientConfig::default(),
        &[&max_sessions],
        async |conn, _| cats_at_once(conn, channels, bytes).await,
    )
}

/// Our client logged in to the test server.
async fn our_client<R: TestRuntime>(server: &TestServer) -> Result<Connection, BoxError> {
    let handler = AcceptAny::default();
    let conn = R::connect(server.addr, ClientConfig::default(), handler.clone()).await?;
    conn.authenticate(&Login::new("tester").no_agent(), &handler)
        .await?;
    Ok(conn)
}

/// `channels` sessions at once on one connection from our client to our server,
/// each moving `bytes` through `cat` and back intact.
pub(crate) fn channels_at_once_through_cat_on_our_server<R: TestRuntime>(
    channels: usize,
    bytes: u64,
) -> TestResult {
    let rt = R::start();
    let server = serve_with(&rt, Default::default())?;
    rt.block_on(async {
        let conn = our_client::<R>(&server).await?;
        cats_at_once(&conn, channels, bytes).await?;
        conn.disconnect("done");
        Ok::<_, BoxError>(())
    })?;
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    Ok(())
}

/// Kills the `ssh` control master when the scenario ends, however it ends.
struct Master(std::process::Child);

impl Drop for Master {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `sessions` `ssh` processes at once, multiplexed by a `ControlMaster` over its
/// one connection to our server, each moving `bytes` through `cat` and back
/// intact: OpenSSH's client opening that many channels on one connection.
pub(crate) fn ssh_mux_sessions_through_cat_on_our_server<R: TestRuntime>(
    sessions: usize,
    bytes: u64,
    timeout: Duration,
) -> TestResult {
    let rt = R::start();
    let server = serve_with(&rt, Default::default())?;
    let dir = ScratchDir::new("driver-mux")?;
    let control = dir.join("control");
    let control_arg = control.display().to_string();
    let mut master = SSH.command()?;
    master
        .args(ssh_args(server.addr))
        .args(["-M", "-S", &control_arg, "-N"])
        .arg(server.addr.ip().to_string())
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _master = Master(master.spawn()?);
    wait_for("ssh's control socket", || control.exists())?;

    let options = ["-S", &control_arg, "-o", "ControlMaster=no"];
    let runs: Vec<_> = (0..sessions)
        .map(|i| {
            let command = ssh_command(server.addr, &options, "cat").map_err(|e| e.to_string());
            thread::spawn(move || {
                echo_through_process(command?, bytes, i as u64, timeout).map_err(|e| e.to_string())
            })
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.join().map_err(|_| "an ssh thread panicked")??;
        assert_eq!(out.code, Some(0), "session {i}: {}", out.stderr);
        out.echo
            .check(bytes)
            .map_err(|e| format!("session {i}: {e}"))?;
    }
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "one connection"
    );
    Ok(())
}

/// `connections` `ssh` processes connect to our server at once, and each session
/// is held until all of them are open (`hold N`): that many connections open at
/// the same time, each then answered.
pub(crate) fn ssh_connections_at_once_to_our_server<R: TestRuntime>(
    connections: usize,
    timeout: Duration,
) -> TestResult {
    let rt = R::start();
    let server = serve_with(&rt, Default::default())?;
    let hold = format!("hold {connections}");
    let runs: Vec<_> = (0..connections)
        .map(|_| {
            let command = ssh_command(server.addr, &[], &hold).map_err(|e| e.to_string());
            thread::spawn(move || {
                run_process_for(command?, None, timeout).map_err(|e| e.to_string())
            })
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.join().map_err(|_| "an ssh thread panicked")??;
        assert_eq!(out.code, Some(0), "connection {i}: {}", out.stderr);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "released\n");
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), connections);
    Ok(())
}

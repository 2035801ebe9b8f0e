//! The in-process test server the `ssh`-against-us scenarios talk to, and the ways
//! of running `ssh` against it.
//!
//! The server lets everyone in with `none`, records every channel request, and
//! implements a few commands itself:
//! - `echo-args A B`: prints its arguments;
//! - `stderr`: a line on stdout, another on stderr;
//! - `exit N`, `kill SIG`: ends with that status or signal;
//! - `cat`: echoes stdin until EOF;
//! - `pty`: exits 0 (the scenario looks at the recorded `pty-req`);
//! - `requests [N]`: prints `ready`, then a line for each later request
//!   (`window COLSxROWS`, `signal NAME`); exits 0 after a signal or N requests;
//! - `hold N`: waits until N sessions are holding at once, then prints `released`.

use std::future::poll_fn;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use sansh_conformance::openssh::SSH;
use sansh_conformance::process::wait_or_kill;
use sansh_core::auth::AuthMethod;
use sansh_core::config::ConnectionConfig;
use sansh_core::crypto::SystemRandom;
use sansh_core::driver::{
    AuthDecision, Channel, ChannelKind, ChannelRequest, ChannelRequests, Listener,
    OpenFailureReason, Runtime, ServerHandler,
};
use sansh_core::error::ConnectionError;
use sansh_core::keys::{KeyType, PrivateKey};
use sansh_core::{ServerConfig, ServerConnection, TransportConfig};

use crate::runtimes::TestRuntime;

/// How long one `ssh` run may take before it is killed and the test fails.
pub(crate) const SSH_TIMEOUT: Duration = Duration::from_secs(20);

/// Lets everyone in with the `none` method: the scenarios are about sessions.
struct Open;

impl ServerHandler for Open {
    async fn auth_none(&self, _user: &str) -> AuthDecision {
        AuthDecision::Accept
    }
}

/// Every channel request the test server received, in order.
pub(crate) type Seen = Arc<Mutex<Vec<ChannelRequest>>>;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running test server and what it has observed.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    /// Every channel request received, on any connection.
    pub(crate) seen: Seen,
    /// Connections accepted so far.
    pub(crate) connections: Arc<AtomicUsize>,
    /// How each connection that has ended ended, in the order they ended.
    pub(crate) ended: Arc<Mutex<Vec<ConnectionError>>>,
}

/// Shared by every connection's tasks.
#[derive(Clone)]
struct Shared {
    runtime: Arc<dyn Runtime>,
    seen: Seen,
    hold: Arc<Hold>,
}

fn server_config(
    transport: TransportConfig,
    connection: ConnectionConfig,
) -> Result<Arc<ServerConfig>, Box<dyn std::error::Error>> {
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)?;
    let mut config = ServerConfig {
        host_keys: vec![key],
        transport,
        connection,
        ..ServerConfig::default()
    };
    config.auth.methods = vec![AuthMethod::None];
    Ok(Arc::new(config))
}

/// Starts the test server on `rt` (it serves in the background while `rt` lives)
/// and returns its address and the requests it will record.
pub(crate) fn serve<R: TestRuntime>(
    rt: &R,
) -> Result<(SocketAddr, Seen), Box<dyn std::error::Error>> {
    let server = serve_with(rt, ConnectionConfig::default())?;
    Ok((server.addr, server.seen))
}

/// [`serve`] with the given connection settings (keepalives, limits).
pub(crate) fn serve_with<R: TestRuntime>(
    rt: &R,
    connection: ConnectionConfig,
) -> Result<TestServer, Box<dyn std::error::Error>> {
    serve_configured(rt, TransportConfig::default(), connection)
}

/// [`serve`] with the given transport (rekey limits) and connection settings.
pub(crate) fn serve_configured<R: TestRuntime>(
    rt: &R,
    transport: TransportConfig,
    connection: ConnectionConfig,
) -> Result<TestServer, Box<dyn std::error::Error>> {
    let listener = rt.block_on(R::listen(server_config(transport, connection)?, Open))?;
    let server = TestServer {
        addr: listener.local_addr(),
        seen: Seen::default(),
        connections: Arc::default(),
        ended: Arc::default(),
    };
    let (connections, ended) = (server.connections.clone(), server.ended.clone());
    let seen = server.seen.clone();
    rt.block_on(async {
        let runtime = rt.runtime();
        let shared = Shared {
            runtime: runtime.clone(),
            seen,
            hold: Arc::default(),
        };
        runtime.spawn(Box::pin(accept_loop(listener, shared, connections, ended)));
    });
    Ok(server)
}

/// Each connection on its own task, each session on its own task.
async fn accept_loop(
    listener: Listener,
    shared: Shared,
    connections: Arc<AtomicUsize>,
    ended: Arc<Mutex<Vec<ConnectionError>>>,
) {
    while let Some((conn, _peer)) = listener.accept().await {
        connections.fetch_add(1, Ordering::SeqCst);
        let (shared, ended) = (shared.clone(), ended.clone());
        shared.runtime.clone().spawn(Box::pin(async move {
            while let Some(incoming) = conn.accept_channel().await {
                if incoming.kind() != &ChannelKind::Session {
                    incoming.reject(
                        OpenFailureReason::AdministrativelyProhibited,
                        "sessions only",
                    );
                    continue;
                }
                match incoming.accept() {
                    Ok(channel) => shared
                        .runtime
                        .spawn(Box::pin(session(channel, shared.clone()))),
                    Err(_) => break,
                }
            }
            let why = conn.closed().await;
            lock(&ended).push(why);
        }));
    }
}

/// Accepts `pty-req` and `env`, runs `exec`, refuses anything else.
async fn session(channel: Channel<ServerConnection>, shared: Shared) {
    let requests = channel.requests();
    while let Some(request) = requests.next().await {
        let kind = request.request().clone();
        lock(&shared.seen).push(kind.clone());
        match kind {
            ChannelRequest::Pty(_) | ChannelRequest::Env { .. } => request.accept(),
            ChannelRequest::Exec { command } => {
                request.accept();
                let command = String::from_utf8_lossy(&command).into_owned();
                // A failed write means the client went away: nothing to report.
                let _ = run(channel, requests, &command, &shared).await;
                return;
            }
            _ => request.reject(),
        }
    }
}

/// The test server's commands.
async fn run(
    mut channel: Channel<ServerConnection>,
    requests: ChannelRequests<ServerConnection>,
    command: &str,
    shared: &Shared,
) -> std::io::Result<()> {
    let mut words = command.split_whitespace();
    let status = match (words.next(), words.next()) {
        (Some("echo-args"), _) => {
            let args: Vec<&str> = command.split_whitespace().skip(1).collect();
            write_all(&mut channel, format!("{}\n", args.join(" ")).as_bytes()).await?;
            0
        }
        (Some("stderr"), _) => {
            write_all(&mut channel, b"to stdout\n").await?;
            write_all(&mut channel.stderr(), b"to stderr\n").await?;
            0
        }
        (Some("exit"), Some(code)) => code.parse().unwrap_or(1),
        (Some("kill"), Some(signal)) => {
            let _ = channel.send_exit_signal(signal, false, "killed by the test server");
            return Ok(());
        }
        (Some("cat"), _) => return cat(channel).await,
        (Some("pty"), _) => 0,
        (Some("requests"), limit) => {
            let limit = limit.and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
            report_requests(&mut channel, &requests, limit, shared).await?
        }
        (Some("hold"), Some(count)) => {
            shared.hold.until(count.parse().unwrap_or(1)).await;
            write_all(&mut channel, b"released\n").await?;
            0
        }
        _ => {
            write_all(&mut channel.stderr(), b"unknown command\n").await?;
            127
        }
    };
    let _ = channel.send_exit_status(status);
    // Dropping the channel sends EOF and CLOSE after the data.
    Ok(())
}

/// Echoes the client's data until its EOF, then exits 0.
async fn cat(channel: Channel<ServerConnection>) -> std::io::Result<()> {
    let (mut reader, mut writer) = channel.split();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            break;
        }
        write_all(&mut writer, buf.get(..n).unwrap_or_default()).await?;
    }
    let _ = writer.send_exit_status(0);
    poll_fn(|cx| Pin::new(&mut writer).poll_close(cx)).await
}

/// Prints `ready`, then a line for each window change and signal; a signal, or
/// the `limit`th request, ends it.
async fn report_requests(
    channel: &mut Channel<ServerConnection>,
    requests: &ChannelRequests<ServerConnection>,
    limit: usize,
    shared: &Shared,
) -> std::io::Result<u32> {
    write_all(channel, b"ready\n").await?;
    for _ in 0..limit {
        let Some(request) = requests.next().await else {
            return Ok(1);
        };
        let kind = request.request().clone();
        lock(&shared.seen).push(kind.clone());
        match kind {
            ChannelRequest::WindowChange { cols, rows, .. } => {
                request.accept();
                write_all(channel, format!("window {cols}x{rows}\n").as_bytes()).await?;
            }
            ChannelRequest::Signal { name } => {
                request.accept();
                write_all(channel, format!("signal {name}\n").as_bytes()).await?;
                return Ok(0);
            }
            _ => request.reject(),
        }
    }
    Ok(0)
}

pub(crate) async fn write_all(
    out: &mut (impl AsyncWrite + Unpin),
    mut data: &[u8],
) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *out).poll_write(cx, data)).await?;
        data = data.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// A barrier for `hold N`: sessions wait until N of them have arrived.
#[derive(Default)]
struct Hold {
    state: Mutex<(usize, Vec<Waker>)>,
}

impl Hold {
    async fn until(&self, count: usize) {
        {
            let mut state = lock(&self.state);
            state.0 += 1;
            if state.0 >= count {
                state.1.drain(..).for_each(Waker::wake);
            }
        }
        poll_fn(|cx| {
            let mut state = lock(&self.state);
            if state.0 >= count {
                Poll::Ready(())
            } else {
                state.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// How one `ssh` run ended.
pub(crate) struct SshRun {
    /// ssh's exit code; `None` when killed by a signal.
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

/// The arguments that point `ssh` at `addr`, isolated from the machine's
/// configuration, keys and agent, accepting any host key.
pub(crate) fn ssh_args(addr: SocketAddr) -> Vec<String> {
    let mut args: Vec<String> = vec!["-F".into(), "/dev/null".into()];
    for option in [
        "BatchMode=yes",
        "IdentityAgent=none",
        "IdentityFile=none",
        "StrictHostKeyChecking=no",
        "UserKnownHostsFile=/dev/null",
        "GlobalKnownHostsFile=/dev/null",
        "UpdateHostKeys=no",
        "CheckHostIP=no",
        "ConnectTimeout=10",
    ] {
        args.push("-o".into());
        args.push(option.into());
    }
    args.extend([
        "-p".into(),
        addr.port().to_string(),
        "-l".into(),
        "tester".into(),
    ]);
    args
}

/// Runs `command` with `stdin` fed in (then closed), killing it after
/// [`SSH_TIMEOUT`].
pub(crate) fn run_process(
    command: Command,
    stdin: Option<Vec<u8>>,
) -> Result<SshRun, Box<dyn std::error::Error>> {
    run_process_for(command, stdin, SSH_TIMEOUT)
}

/// [`run_process`], killing it after `timeout`.
pub(crate) fn run_process_for(
    mut command: Command,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<SshRun, Box<dyn std::error::Error>> {
    command
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("DISPLAY")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        // The remote command may stop reading early; that is its business.
        thread::spawn(move || pipe.write_all(&data));
    }
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let out = thread::spawn(move || {
        let mut data = Vec::new();
        let _ = stdout.read_to_end(&mut data);
        data
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = wait_or_kill(&mut child, timeout)?;
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let status = status.ok_or_else(|| format!("ssh did not finish in time:\n{stderr}"))?;
    Ok(SshRun {
        code: status.code(),
        stdout,
        stderr,
    })
}

/// The `ssh [extra] host command` process, not started.
pub(crate) fn ssh_command(
    addr: SocketAddr,
    extra: &[&str],
    command: &str,
) -> Result<Command, Box<dyn std::error::Error>> {
    let mut process = SSH.command()?;
    process
        .args(ssh_args(addr))
        .args(extra)
        .arg(addr.ip().to_string())
        .arg(command);
    Ok(process)
}

/// `ssh [extra] host command`.
pub(crate) fn ssh(
    addr: SocketAddr,
    extra: &[&str],
    command: &str,
    stdin: Option<Vec<u8>>,
    env: &[(&str, &str)],
) -> Result<SshRun, Box<dyn std::error::Error>> {
    let mut process = ssh_command(addr, extra, command)?;
    process.envs(env.iter().copied());
    run_process(process, stdin)
}

/// FNV-1a, to compare megabytes in a readable failure message.
pub(crate) fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

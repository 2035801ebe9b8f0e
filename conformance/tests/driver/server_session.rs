//! The OpenSSH client (`ssh host 'cmd'`) against our driver's server, on every
//! runtime. The server's sessions run in-process: the test server implements a few
//! commands itself (`echo-args`, `cat`, `stderr`, `exit N`, `kill SIG`, `pty`) and
//! records every channel request it receives, so the scenarios check both what
//! `ssh` printed and what reached the server.

use std::future::poll_fn;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use sansh_conformance::openssh::SSH;
use sansh_conformance::process::wait_or_kill;
use sansh_core::auth::AuthMethod;
use sansh_core::channel::TerminalMode;
use sansh_core::crypto::SystemRandom;
use sansh_core::driver::{
    AuthDecision, Channel, ChannelKind, ChannelRequest, ChannelRequests, Listener,
    OpenFailureReason, Runtime, ServerHandler,
};
use sansh_core::keys::{KeyType, PrivateKey};
use sansh_core::{ServerConfig, ServerConnection};

use crate::runtimes::TestRuntime;
use crate::support::TestResult;

/// How long one `ssh` run may take before it is killed and the test fails.
const SSH_TIMEOUT: Duration = Duration::from_secs(20);

/// Lets everyone in with the `none` method: the scenarios are about sessions.
struct Open;

impl ServerHandler for Open {
    async fn auth_none(&self, _user: &str) -> AuthDecision {
        AuthDecision::Accept
    }
}

/// Every channel request the test server received, in order.
type Seen = Arc<Mutex<Vec<ChannelRequest>>>;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn server_config() -> Result<Arc<ServerConfig>, Box<dyn std::error::Error>> {
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)?;
    let mut config = ServerConfig {
        host_keys: vec![key],
        ..ServerConfig::default()
    };
    config.auth.methods = vec![AuthMethod::None];
    Ok(Arc::new(config))
}

/// Starts the test server on `rt` (it serves in the background while `rt` lives)
/// and returns its address and the requests it will record.
fn serve<R: TestRuntime>(rt: &R) -> Result<(SocketAddr, Seen), Box<dyn std::error::Error>> {
    let listener = rt.block_on(R::listen(server_config()?, Open))?;
    let addr = listener.local_addr();
    let seen = Seen::default();
    let record = seen.clone();
    rt.block_on(async {
        let runtime = rt.runtime();
        runtime.spawn(Box::pin(accept_loop(listener, runtime.clone(), record)));
    });
    Ok((addr, seen))
}

/// Each connection on its own task, each session on its own task.
async fn accept_loop(listener: Listener, runtime: Arc<dyn Runtime>, seen: Seen) {
    while let Some((conn, _peer)) = listener.accept().await {
        let (tasks, seen) = (runtime.clone(), seen.clone());
        runtime.spawn(Box::pin(async move {
            while let Some(incoming) = conn.accept_channel().await {
                if incoming.kind() != &ChannelKind::Session {
                    incoming.reject(
                        OpenFailureReason::AdministrativelyProhibited,
                        "sessions only",
                    );
                    continue;
                }
                match incoming.accept() {
                    Ok(channel) => tasks.spawn(Box::pin(session(channel, seen.clone()))),
                    Err(_) => break,
                }
            }
        }));
    }
}

/// Accepts `pty-req` and `env`, runs `exec`, refuses anything else.
async fn session(channel: Channel<ServerConnection>, seen: Seen) {
    let requests = channel.requests();
    while let Some(request) = requests.next().await {
        let kind = request.request().clone();
        lock(&seen).push(kind.clone());
        match kind {
            ChannelRequest::Pty(_) | ChannelRequest::Env { .. } => request.accept(),
            ChannelRequest::Exec { command } => {
                request.accept();
                let command = String::from_utf8_lossy(&command).into_owned();
                // A failed write means the client went away: nothing to report.
                let _ = run(channel, requests, &command).await;
                return;
            }
            _ => request.reject(),
        }
    }
}

/// The test server's commands.
async fn run(
    mut channel: Channel<ServerConnection>,
    _requests: ChannelRequests<ServerConnection>,
    command: &str,
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
        (Some("cat"), _) => {
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
            return poll_fn(|cx| Pin::new(&mut writer).poll_close(cx)).await;
        }
        (Some("pty"), _) => 0,
        _ => {
            write_all(&mut channel.stderr(), b"unknown command\n").await?;
            127
        }
    };
    let _ = channel.send_exit_status(status);
    // Dropping the channel sends EOF and CLOSE after the data.
    Ok(())
}

async fn write_all(out: &mut (impl AsyncWrite + Unpin), mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *out).poll_write(cx, data)).await?;
        data = data.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// How one `ssh` run ended.
struct SshRun {
    /// ssh's exit code; `None` when killed by a signal.
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

/// The arguments that point `ssh` at `addr`, isolated from the machine's
/// configuration, keys and agent, accepting any host key.
fn ssh_args(addr: SocketAddr) -> Vec<String> {
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

/// Runs `program args` with `stdin` fed in (then closed) and `env` added, killing
/// it after [`SSH_TIMEOUT`].
fn run_process(
    mut command: Command,
    stdin: Option<Vec<u8>>,
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
    let status = wait_or_kill(&mut child, SSH_TIMEOUT)?;
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let status = status.ok_or_else(|| format!("ssh did not finish in time:\n{stderr}"))?;
    Ok(SshRun {
        code: status.code(),
        stdout,
        stderr,
    })
}

/// `ssh [extra] host command`.
fn ssh(
    addr: SocketAddr,
    extra: &[&str],
    command: &str,
    stdin: Option<Vec<u8>>,
    env: &[(&str, &str)],
) -> Result<SshRun, Box<dyn std::error::Error>> {
    let mut process = SSH.command()?;
    process
        .args(ssh_args(addr))
        .args(extra)
        .arg(addr.ip().to_string())
        .arg(command)
        .envs(env.iter().copied());
    run_process(process, stdin)
}

/// `ssh host 'echo-args ...'` prints the arguments, and exits 0.
pub(crate) fn openssh_ssh_runs_a_command_on_our_server<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, seen) = serve(&rt)?;
    let out = ssh(addr, &[], "echo-args hello  from sansh", None, &[])?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from sansh\n");
    let exec = ChannelRequest::Exec {
        command: b"echo-args hello  from sansh".to_vec(),
    };
    assert!(lock(&seen).contains(&exec));
    Ok(())
}

/// The command's exit status becomes ssh's.
pub(crate) fn openssh_ssh_exits_with_the_status_our_server_reports<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let out = ssh(addr, &[], "exit 7", None, &[])?;
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    Ok(())
}

/// An `exit-signal` reaches ssh, which (as OpenSSH 10 does) prints no message for
/// it but logs it and exits 255, having no exit status.
pub(crate) fn openssh_ssh_reports_a_command_killed_by_a_signal<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let out = ssh(addr, &["-v"], "kill TERM", None, &[])?;
    assert_eq!(out.code, Some(255), "{}", out.stderr);
    assert!(
        out.stderr.contains("rtype exit-signal") && out.stderr.contains("Exit status -1"),
        "{}",
        out.stderr
    );
    Ok(())
}

/// Data and extended data reach ssh's stdout and stderr, kept apart.
pub(crate) fn openssh_ssh_keeps_our_servers_stdout_and_stderr_apart<R: TestRuntime>() -> TestResult
{
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let out = ssh(addr, &[], "stderr", None, &[])?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "to stdout\n");
    assert!(out.stderr.contains("to stderr\n"), "{}", out.stderr);
    assert!(!out.stderr.contains("to stdout"), "{}", out.stderr);
    Ok(())
}

/// `SetEnv` and `SendEnv` arrive as `env` requests before the `exec`.
pub(crate) fn openssh_ssh_sends_env_requests_our_server_receives<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, seen) = serve(&rt)?;
    let options = [
        "-o",
        "SetEnv=SANSH_SET=set-value",
        "-o",
        "SendEnv=SANSH_SENT",
    ];
    let out = ssh(
        addr,
        &options,
        "exit 0",
        None,
        &[("SANSH_SENT", "sent value")],
    )?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let seen = lock(&seen).clone();
    let env = |name: &str, value: &str| ChannelRequest::Env {
        name: name.into(),
        value: value.into(),
    };
    let position = |request: &ChannelRequest| seen.iter().position(|r| r == request);
    let exec = position(&ChannelRequest::Exec {
        command: b"exit 0".to_vec(),
    });
    let (set, sent) = (
        position(&env("SANSH_SET", "set-value")),
        position(&env("SANSH_SENT", "sent value")),
    );
    assert!(
        set.is_some() && sent.is_some() && exec.is_some(),
        "{seen:?}"
    );
    assert!(set < exec && sent < exec, "{seen:?}");
    Ok(())
}

/// `ssh -tt` on a terminal (given by `script`) sends a `pty-req` with its
/// terminal's name, size and modes, which our server parses.
pub(crate) fn openssh_ssh_tt_sends_a_pty_request_with_its_terminal_modes<R: TestRuntime>()
-> TestResult {
    let rt = R::start();
    let (addr, seen) = serve(&rt)?;
    let ssh_path = SSH.locate()?;
    let mut line = vec![ssh_path.display().to_string(), "-tt".into()];
    line.extend(ssh_args(addr));
    line.extend([addr.ip().to_string(), "pty".into()]);
    let quoted: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    // A pseudo-terminal starts at 0x0; give it a size for ssh to report.
    let shell = format!("stty rows 40 cols 100 && {}", quoted.join(" "));
    // `script` runs ssh on a fresh pseudo-terminal, so ssh has modes to send.
    let mut script = Command::new("script");
    script
        .args(["-q", "-e", "-c", &shell, "/dev/null"])
        .env("TERM", "xterm-sansh");
    let out = run_process(script, None)
        .map_err(|e| format!("running ssh under `script` (util-linux): {e}"))?;
    assert_eq!(
        out.code,
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let seen = lock(&seen).clone();
    let pty = seen
        .iter()
        .find_map(|r| match r {
            ChannelRequest::Pty(pty) => Some(pty.clone()),
            _ => None,
        })
        .ok_or_else(|| format!("no pty-req among {seen:?}"))?;
    assert_eq!(pty.term, "xterm-sansh");
    assert_eq!((pty.cols, pty.rows), (100, 40), "{pty:?}");
    // The terminal's ^C, as every fresh pseudo-terminal has it.
    assert_eq!(pty.modes.get(TerminalMode::Vintr), Some(3), "{pty:?}");
    assert!(pty.modes.iter().count() > 10, "{pty:?}");
    Ok(())
}

/// 8 MiB through `cat` on our server come back intact.
pub(crate) fn eight_mib_through_cat_on_our_server_come_back_intact<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let data: Vec<u8> = (0..8u32 * 1024 * 1024)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let out = ssh(addr, &[], "cat", Some(data.clone()), &[])?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.len(), data.len());
    assert_eq!(checksum(&out.stdout), checksum(&data));
    Ok(())
}

/// Twenty `ssh` runs at once each get their own answer.
pub(crate) fn twenty_concurrent_ssh_sessions_on_our_server<R: TestRuntime>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let runs: Vec<_> = (0..20)
        .map(|i| {
            let command = format!("echo-args run {i}");
            thread::spawn(move || ssh(addr, &[], &command, None, &[]).map_err(|e| e.to_string()))
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.join().map_err(|_| "an ssh thread panicked")??;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("run {i}\n"));
    }
    Ok(())
}

/// FNV-1a, to compare 8 MiB in a readable failure message.
fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

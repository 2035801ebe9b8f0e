//! OpenSSH's `ssh -L`, `-R`, `-D`, `-J` and `-A` against our server, on every
//! runtime: an in-process server whose forwarding is `ServerForwarding` (the
//! helpers an application uses), with real TCP echo servers behind.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use sansh_conformance::openssh::SSH;
use sansh_conformance::process::wait_or_kill;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::ServerConnection;
use sansh_core::driver::forward::{ForwardingPolicy, ServerForwarding};
use sansh_core::driver::{
    AgentClient, AuthDecision, Channel, ChannelKind, ChannelRequest, Connection, Runtime,
    ServerHandler,
};
use sansh_core::keys::{Certificate, PublicKey};

use crate::forwarding::{TryCloneStream, check_echo, echo_tcp, pattern};
use crate::peers::{KEY_TYPES, KeyFile, SshAgent};
use crate::runtimes::TestRuntime;
use crate::support::{TestResult, WAIT, ed25519_server, wait_for};

/// Accepts one key for user `alice`.
struct OneKey(PublicKey);

impl ServerHandler for OneKey {
    async fn auth_publickey(
        &self,
        user: &str,
        key: &PublicKey,
        _certificate: Option<&Certificate>,
    ) -> AuthDecision {
        if user == "alice" && *key == self.0 {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }
}

/// Serves one client: forwarding through [`ServerForwarding`], and sessions whose
/// `exec` prints the command back, or for `agent-identities` the number of keys
/// in the forwarded agent.
async fn serve_client(conn: Connection<ServerConnection>, runtime: Arc<dyn Runtime>) {
    // Serving before the login ends: ssh asks for -R forwards right after it.
    let forwarding = ServerForwarding::pending(&conn);
    forwarding.serve_global_requests();
    let Ok(user) = conn.authenticated().await else {
        return;
    };
    forwarding.set_policy(ForwardingPolicy::allow_all().for_user(&user));
    while let Some(open) = conn.accept_channel().await {
        let Some(open) = forwarding.handle_channel(open) else {
            continue;
        };
        if !matches!(open.kind(), ChannelKind::Session) {
            continue;
        }
        if let Ok(channel) = open.accept() {
            let session = serve_session(channel, forwarding.clone(), runtime.clone());
            runtime.spawn(Box::pin(session));
        }
    }
}

async fn serve_session(
    channel: Channel<ServerConnection>,
    forwarding: ServerForwarding,
    runtime: Arc<dyn Runtime>,
) {
    let requests = channel.requests();
    let (_reader, mut writer) = channel.split();
    let mut agent = None;
    while let Some(request) = requests.next().await {
        match request.request().clone() {
            ChannelRequest::AuthAgent => match forwarding.agent_socket().await {
                Ok(socket) => {
                    agent = Some(socket);
                    request.accept();
                }
                Err(_) => request.reject(),
            },
            ChannelRequest::Exec { command } => {
                request.accept();
                let output = if command == b"agent-identities" {
                    agent_identities(&*runtime, agent.as_ref().map(|a| a.path())).await
                } else {
                    format!("{}\n", String::from_utf8_lossy(&command))
                };
                let _ = write_all(&mut writer, output.as_bytes()).await;
                let _ = writer.send_exit_status(0);
                writer.close_channel();
            }
            ChannelRequest::Env { .. } => request.accept(),
            _ => request.reject(),
        }
    }
}

/// What the forwarded agent holds, asked through its socket on our server.
async fn agent_identities(runtime: &dyn Runtime, socket: Option<&Path>) -> String {
    let Some(socket) = socket else {
        return "no agent\n".into();
    };
    match AgentClient::connect(runtime, socket).await {
        Ok(mut agent) => match agent.identities().await {
            Ok(keys) => format!("{} identities\n", keys.len()),
            Err(error) => format!("agent error: {error}\n"),
        },
        Err(error) => format!("agent unreachable: {error}\n"),
    }
}

async fn write_all(
    writer: &mut (impl futures_io::AsyncWrite + Unpin),
    mut data: &[u8],
) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *writer).poll_write(cx, data))
            .await?;
        data = data.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// Our server on a free loopback port with `ssh` set up to log in to it: a key,
/// and an ssh config file (`-F`, which `-J` passes on to the jump's ssh).
struct OurServer<R> {
    rt: R,
    addr: SocketAddr,
    config: std::path::PathBuf,
    key: KeyFile,
    _dir: ScratchDir,
}

impl<R: TestRuntime> OurServer<R> {
    fn start() -> Result<Self, Box<dyn std::error::Error>> {
        let dir = ScratchDir::new("driver-forward-ssh")?;
        let key = KeyFile::generate(&dir, "id_ssh", KEY_TYPES[0], None)?;
        let rt = R::start();
        let runtime = rt.runtime();
        let listener = rt.block_on(R::listen(ed25519_server(), OneKey(key.public_key()?)))?;
        let addr = listener.local_addr();
        let spawner = runtime.clone();
        runtime.spawn(Box::pin(async move {
            while let Some((conn, _)) = listener.accept().await {
                spawner.spawn(Box::pin(serve_client(conn, spawner.clone())));
            }
        }));
        let config = dir.write(
            "ssh_config",
            format!(
                "Host *\n  User alice\n  Port {port}\n  IdentityFile {key}\n  IdentitiesOnly yes\n  \
                 BatchMode yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  \
                 GlobalKnownHostsFile /dev/null\n  UpdateHostKeys no\n  CheckHostIP no\n  \
                 ExitOnForwardFailure yes\n  ConnectTimeout 30\n",
                port = addr.port(),
                key = key.path.display(),
            ),
        )?;
        Ok(Self {
            rt,
            addr,
            config,
            key,
            _dir: dir,
        })
    }

    /// `ssh -F config -vvv args... 127.0.0.1 command...`.
    fn ssh(
        &self,
        args: &[&str],
        agent: Option<&Path>,
    ) -> Result<Command, Box<dyn std::error::Error>> {
        let mut command = SSH.command()?;
        command
            .arg("-F")
            .arg(&self.config)
            .arg("-vvv")
            .args(args)
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DISPLAY")
            .stdin(Stdio::null());
        if let Some(agent) = agent {
            command.env("SSH_AUTH_SOCK", agent);
        }
        Ok(command)
    }
}

/// A background `ssh -N` with its log, killed when dropped.
struct Background {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Background {
    fn spawn(mut command: Command) -> Result<Self, Box<dyn std::error::Error>> {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(mut stderr) = child.stderr.take() {
            let log = log.clone();
            thread::spawn(move || {
                let mut buf = [0; 4096];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default());
                    log.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_str(&text);
                }
            });
        }
        Ok(Self { child, log })
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Connects to `addr` once something listens there (ssh's forward, or ours),
    /// failing with ssh's log if ssh exits or [`WAIT`] passes first.
    fn connect_when_listening(&mut self, addr: SocketAddr) -> Result<TcpStream, String> {
        let mut stream = None;
        let mut exited = None;
        let waited = wait_for(&format!("a listener on {addr}"), || {
            if let Ok(Some(status)) = self.child.try_wait() {
                exited = Some(status);
                return true;
            }
            stream = TcpStream::connect(addr).ok();
            stream.is_some()
        });
        match (stream, exited, waited) {
            (Some(stream), _, _) => Ok(stream),
            (None, Some(status), _) => Err(format!("ssh exited ({status}):\n{}", self.log())),
            (None, None, Err(why)) => Err(format!("{why}; ssh said:\n{}", self.log())),
            (None, None, Ok(())) => Err("no stream".into()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (bound and released; nothing else here
/// takes ports in between but the kernel's ephemeral range, which skips it).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Runs ssh to completion (at most [`WAIT`]) and returns its stdout.
fn run_ssh(mut command: Command) -> Result<String, Box<dyn std::error::Error>> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let out = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = wait_or_kill(&mut child, WAIT)?;
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    match status {
        Some(status) if status.success() => Ok(out),
        _ => Err(format!("ssh failed ({status:?}); it said:\n{err}").into()),
    }
}

/// `ssh -L`: ssh listens, our server serves each `direct-tcpip` by connecting to
/// the echo server.
pub(crate) fn openssh_local_forward_through_our_server<R: TestRuntime>() -> TestResult {
    let server = OurServer::<R>::start()?;
    let echo = echo_tcp()?;
    let port = free_port()?;
    let spec = format!("127.0.0.1:{port}:127.0.0.1:{}", echo.port());
    let mut ssh = Background::spawn(server.ssh(&["-N", "-L", &spec, "127.0.0.1"], None)?)?;
    let stream = ssh.connect_when_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    check_echo(stream, &pattern(512 * 1024, 1))?;
    check_echo(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port))?,
        &pattern(512 * 1024, 2),
    )?;
    drop(server.rt);
    Ok(())
}

/// `ssh -R`: our server listens for `tcpip-forward` and opens a `forwarded-tcpip`
/// channel per connection, which ssh connects to the echo server.
pub(crate) fn openssh_remote_forward_through_our_server<R: TestRuntime>() -> TestResult {
    let server = OurServer::<R>::start()?;
    let echo = echo_tcp()?;
    let port = free_port()?;
    let spec = format!("127.0.0.1:{port}:127.0.0.1:{}", echo.port());
    let mut ssh = Background::spawn(server.ssh(&["-N", "-R", &spec, "127.0.0.1"], None)?)?;
    let stream = ssh.connect_when_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    check_echo(stream, &pattern(512 * 1024, 3))?;
    Ok(())
}

/// `ssh -D`: ssh's SOCKS proxy, each CONNECT a `direct-tcpip` our server serves.
pub(crate) fn openssh_dynamic_forward_through_our_server<R: TestRuntime>() -> TestResult {
    let server = OurServer::<R>::start()?;
    let echo = echo_tcp()?;
    let port = free_port()?;
    let spec = format!("127.0.0.1:{port}");
    let mut ssh = Background::spawn(server.ssh(&["-N", "-D", &spec, "127.0.0.1"], None)?)?;
    let mut stream = ssh.connect_when_listening(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    stream.timeouts()?;
    let mut hello = vec![5, 1, 0, 5, 1, 0, 3, 9];
    hello.extend_from_slice(b"localhost");
    hello.extend_from_slice(&echo.port().to_be_bytes());
    stream.write_all(&hello)?;
    let mut reply = [0; 12];
    stream.read_exact(&mut reply)?;
    assert_eq!(reply[..4], [5, 0, 5, 0], "SOCKS reply {reply:?}");
    check_echo(stream, &pattern(256 * 1024, 4))?;
    Ok(())
}

/// `ssh -J`: ssh logs in to our server, opens a `direct-tcpip` to our server again
/// (as `localhost`) through it and logs in there too; the command runs at the end.
pub(crate) fn openssh_jump_through_our_server_to_our_server<R: TestRuntime>() -> TestResult {
    let server = OurServer::<R>::start()?;
    let jump = format!("alice@127.0.0.1:{}", server.addr.port());
    // Named differently from the jump host: ssh refuses a jump to itself by name.
    let stdout = run_ssh(server.ssh(&["-J", &jump, "localhost", "jumped"], None)?)?;
    assert_eq!(stdout, "jumped\n");
    Ok(())
}

/// `ssh -A`: our server makes an agent socket for the session; the command asks
/// the agent through it, which reaches ssh-agent on ssh's side.
pub(crate) fn openssh_agent_forwarding_to_our_server<R: TestRuntime>() -> TestResult {
    let server = OurServer::<R>::start()?;
    let agent = SshAgent::start()?;
    agent.ssh_add(&[server.key.path.as_os_str()])?;
    let command = server.ssh(
        &["-A", "127.0.0.1", "agent-identities"],
        Some(agent.socket()),
    )?;
    let stdout = run_ssh(command)?;
    assert_eq!(stdout, "1 identities\n");
    Ok(())
}

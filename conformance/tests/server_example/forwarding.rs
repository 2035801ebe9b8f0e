//! The example's forwarding (`--allow-forwarding`) against OpenSSH's `ssh`: `-L`,
//! `-R`, `-D` to TCP echo servers the tests run, `-A` with `ssh-add -l` run
//! through the example, `permitopen=` narrowing `-L`, and everything refused
//! without the flag.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use sansh_conformance::openssh::{SSH_ADD, SSH_AGENT};
use sansh_conformance::process::wait_or_kill;
use sansh_conformance::scratch::ScratchDir;

use crate::support::{Options, SSH_TIMEOUT, Server, run};

/// A TCP server on loopback that sends back what it receives, one thread per
/// connection, for as long as the test runs.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the echo server");
    let addr = listener.local_addr().expect("the echo server's address");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            thread::spawn(move || {
                let Ok(mut back) = stream.try_clone() else {
                    return;
                };
                let _ = std::io::copy(&mut stream, &mut back);
            });
        }
    });
    addr
}

/// Sends a pattern through `stream` and checks that it comes back whole.
fn check_echo(mut stream: TcpStream, len: usize) {
    stream
        .set_read_timeout(Some(SSH_TIMEOUT))
        .expect("read timeout");
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let mut writer = stream.try_clone().expect("clone the stream");
    let writing = thread::spawn(move || writer.write_all(&sent));
    let mut back = vec![0; len];
    stream.read_exact(&mut back).expect("the data comes back");
    writing.join().expect("writer").expect("write the data");
    assert!(back == data, "the echo differs");
}

/// Whether the forward closed `stream` without passing data on: EOF or a reset,
/// never an echo.
fn is_refused(mut stream: TcpStream) -> bool {
    stream
        .set_read_timeout(Some(SSH_TIMEOUT))
        .expect("read timeout");
    let _ = stream.write_all(b"hello?");
    let mut buf = [0; 16];
    matches!(stream.read(&mut buf), Ok(0) | Err(_))
}

/// A background `ssh -v -N` whose log lines can be waited for; killed on drop.
struct Background {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: String,
}

impl Background {
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ssh");
        let stderr = child.stderr.take().expect("ssh's stderr");
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            log: String::new(),
        }
    }

    /// Waits for a log line containing `needle` and returns it; panics with the
    /// log if ssh exits or [`SSH_TIMEOUT`] passes first.
    fn wait_for(&mut self, needle: &str, server: &Server) -> String {
        let deadline = Instant::now() + SSH_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push_str(&line);
                    self.log.push('\n');
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(why) => panic!(
                    "no {needle:?} from ssh ({why:?}); ssh said:\n{}\nthe server said:\n{}",
                    self.log,
                    server.log()
                ),
            }
        }
    }
}

impl Background {
    /// Connects to the forward ssh listens on, at `port`.
    fn connect(&mut self, port: u16, server: &Server) -> TcpStream {
        match TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            Ok(stream) => stream,
            Err(error) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.log
                    .extend(self.lines.try_iter().map(|line| line + "\n"));
                panic!(
                    "cannot connect to port {port}: {error}; ssh said:\n{}\nthe server said:\n{}",
                    self.log,
                    server.log()
                );
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in ssh's `Local forwarding listening on 127.0.0.1 port N.`, once ssh
/// listens there.
fn listening_port(forward: &mut Background, server: &Server) -> u16 {
    let line = forward.wait_for("Local forwarding listening on 127.0.0.1 port", server);
    let port = line
        .rsplit(' ')
        .next()
        .and_then(|port| port.trim_end_matches('.').parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    // ssh says that before it binds; the listener's channel comes after listen().
    forward.wait_for(": new port-listener", server);
    port
}

/// A loopback port nothing listens on (bound, then released; the kernel hands out
/// ephemeral ports in turn, so another taking it at once is unlikely).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `ssh -N -L` from a free port to `target`, once ssh listens there.
fn local_forward(server: &Server, target: SocketAddr) -> (Background, u16) {
    let spec = format!("127.0.0.1:{}:{target}", free_port());
    let mut forward = Background::spawn(server.ssh(
        &["ExitOnForwardFailure=yes"],
        &["-v", "-N", "-L", &spec],
        &[],
    ));
    let port = listening_port(&mut forward, server);
    (forward, port)
}

#[test]
fn ssh_local_forward_reaches_an_echo_server_through_the_example() {
    let server = Server::start(&["--allow-forwarding"]);
    let echo = echo_server();
    let (mut forward, port) = local_forward(&server, echo);
    check_echo(forward.connect(port, &server), 1024 * 1024);
    check_echo(forward.connect(port, &server), 1000);
}

#[test]
fn ssh_remote_forward_of_port_zero_reaches_an_echo_server() {
    let server = Server::start(&["--allow-forwarding"]);
    let echo = echo_server();
    let spec = format!("0:{echo}");
    let mut forward = Background::spawn(server.ssh(
        &["ExitOnForwardFailure=yes"],
        &["-v", "-N", "-R", &spec],
        &[],
    ));
    let line = forward.wait_for("Allocated port", &server);
    let port: u16 = line
        .split_whitespace()
        .nth(2)
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    check_echo(forward.connect(port, &server), 1024 * 1024);
}

#[test]
fn ssh_dynamic_forward_serves_a_socks5_connect_to_an_echo_server() {
    let server = Server::start(&["--allow-forwarding"]);
    let echo = echo_server();
    let mut forward = Background::spawn(server.ssh(
        &["ExitOnForwardFailure=yes"],
        &["-v", "-N", "-D", &format!("127.0.0.1:{}", free_port())],
        &[],
    ));
    let port = listening_port(&mut forward, &server);
    let mut stream = forward.connect(port, &server);
    stream
        .set_read_timeout(Some(SSH_TIMEOUT))
        .expect("read timeout");
    // SOCKS5 (RFC 1928): no authentication, then CONNECT to an IPv4 address.
    stream.write_all(&[5, 1, 0]).expect("greeting");
    let mut choice = [0; 2];
    stream.read_exact(&mut choice).expect("method choice");
    assert_eq!(choice, [5, 0]);
    let mut connect_request = vec![5, 1, 0, 1, 127, 0, 0, 1];
    connect_request.extend_from_slice(&echo.port().to_be_bytes());
    stream.write_all(&connect_request).expect("CONNECT");
    let mut reply = [0; 10];
    stream.read_exact(&mut reply).expect("CONNECT reply");
    assert_eq!(reply[..2], [5, 0], "CONNECT succeeded: {reply:?}");
    check_echo(stream, 256 * 1024);
}

/// An `ssh-agent -D` on a socket of its own holding `key`; killed on drop.
struct Agent {
    child: Child,
    socket: std::path::PathBuf,
    _dir: ScratchDir,
}

impl Agent {
    fn start(key: &Path) -> Self {
        let dir = ScratchDir::new("server-example-agent").expect("scratch dir");
        let socket = dir.join("agent.sock");
        let mut child = SSH_AGENT
            .command()
            .expect("OpenSSH's ssh-agent (install openssh-client)")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        // `-D` prints the SSH_AUTH_SOCK line once the socket listens.
        let stdout = child.stdout.take().expect("ssh-agent's stdout");
        let first = BufReader::new(stdout).lines().next();
        assert!(
            matches!(&first, Some(Ok(line)) if line.contains("SSH_AUTH_SOCK")),
            "ssh-agent did not start: {first:?}"
        );
        let agent = Self {
            child,
            socket,
            _dir: dir,
        };
        let added = agent.ssh_add(&[key.as_os_str()]);
        assert!(added.status.success(), "ssh-add: {added:?}");
        agent
    }

    fn ssh_add(&self, args: &[&std::ffi::OsStr]) -> std::process::Output {
        SSH_ADD
            .command()
            .expect("OpenSSH's ssh-add (install openssh-client)")
            .args(args)
            .env("SSH_AUTH_SOCK", &self.socket)
            .output()
            .expect("run ssh-add")
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ssh_agent_forwarding_lets_ssh_add_on_the_server_list_the_agents_keys() {
    let server = Server::start(&["--allow-forwarding"]);
    let agent = Agent::start(&server.identity);
    let local = agent.ssh_add(&["-l".as_ref()]);
    assert!(local.status.success(), "{local:?}");
    // ssh forwards only the agent it uses itself (SSH_AUTH_SOCK).
    let identity_agent = format!("IdentityAgent={}", agent.socket.display());
    let mut ssh = server.ssh(
        &["ForwardAgent=yes", &identity_agent],
        &[],
        &["echo \"$SSH_AUTH_SOCK\" >&2; ssh-add -l"],
    );
    ssh.env("SSH_AUTH_SOCK", &agent.socket);
    let out = run(ssh, b"");
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", server.log());
    assert_eq!(out.stdout, local.stdout, "{out:?}");
    assert!(
        out.stderr.trim_end().ends_with("agent.sock"),
        "SSH_AUTH_SOCK is set: {}",
        out.stderr
    );
}

#[test]
fn permitopen_in_authorized_keys_refuses_other_targets() {
    let allowed = echo_server();
    let other = echo_server();
    let key_options = format!("permitopen=\"127.0.0.1:{}\"", allowed.port());
    let server = Server::start_with(&Options {
        key_options: &key_options,
        password: true,
        extra: &["--allow-forwarding"],
    });
    let (mut to_allowed, port) = local_forward(&server, allowed);
    check_echo(to_allowed.connect(port, &server), 1000);
    let (mut to_other, port) = local_forward(&server, other);
    assert!(
        is_refused(to_other.connect(port, &server)),
        "permitopen let another target through"
    );
    to_other.wait_for("administratively prohibited", &server);
}

#[test]
fn without_allow_forwarding_local_forwards_are_refused() {
    let server = Server::start(&[]);
    let echo = echo_server();
    let (mut forward, port) = local_forward(&server, echo);
    assert!(
        is_refused(forward.connect(port, &server)),
        "forwarded without --allow-forwarding"
    );
    forward.wait_for("administratively prohibited", &server);
}

#[test]
fn without_allow_forwarding_remote_forwards_are_refused() {
    let server = Server::start(&[]);
    let echo = echo_server();
    let spec = format!("0:{echo}");
    let mut forward = Background::spawn(server.ssh(
        &["ExitOnForwardFailure=yes"],
        &["-v", "-N", "-R", &spec],
        &[],
    ));
    let status = wait_or_kill(&mut forward.child, SSH_TIMEOUT).expect("wait for ssh");
    assert!(
        status.is_some_and(|s| !s.success()),
        "ssh -R with ExitOnForwardFailure exits with an error: {status:?}"
    );
    forward.wait_for("remote port forwarding failed", &server);
}

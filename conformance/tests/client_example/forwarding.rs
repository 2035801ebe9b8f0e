//! Forwarding: `-L`, `-R` and `-D` to a TCP echo server the test runs, `-J`
//! through sshd twice, `-A` seen by `ssh-add -l` on the remote side, and
//! `ExitOnForwardFailure`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use crate::peers::SshAgent;
use crate::support::{RUN_LIMIT, run, setup, text};

/// How long a forward may take to report that it listens.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// A TCP server on loopback that echoes each connection's bytes back.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the echo server");
    let address = listener.local_addr().expect("echo server address");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            thread::spawn(move || {
                let mut buf = [0; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    address
}

/// Sends a message over `stream` and asserts it comes back.
fn assert_echoes(mut stream: TcpStream) {
    stream
        .set_read_timeout(Some(RUN_LIMIT))
        .expect("read timeout");
    let message = b"through the tunnel\n";
    stream.write_all(message).expect("write to the forward");
    let mut back = vec![0; message.len()];
    stream.read_exact(&mut back).expect("read the echo");
    assert_eq!(back, message);
}

/// A client run in the background (`-N`), its stderr read line by line; killed
/// when dropped.
struct Background {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Background {
    fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the client");
        let stderr = child.stderr.take().expect("stderr pipe");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first stderr line starting with `prefix`; fails the test with what was
    /// printed if none comes in time (or the client exits first).
    fn line_starting(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!(
                    "no line starting with {prefix:?} on the client's stderr: {:#?}",
                    self.seen
                ),
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

/// The address at the end of `Local forwarding listening on ADDR to ...`.
fn listening_address(line: &str, prefix: &str) -> SocketAddr {
    let rest = line.strip_prefix(prefix).expect("prefix");
    let address = rest.split([' ', ',']).next().unwrap_or_default();
    let address = address.trim_end_matches('.');
    address
        .parse()
        .unwrap_or_else(|_| panic!("no address in {line:?}"))
}

#[test]
fn local_forward_on_port_zero_reaches_the_echo_server() {
    let setup = setup();
    let echo = echo_server();
    let mut client = Background::spawn(setup.keyed(&setup.trusted()).args([
        "-N",
        "-v",
        "-L",
        &format!("0:127.0.0.1:{}", echo.port()),
        "127.0.0.1",
    ]));
    let prefix = "Local forwarding listening on ";
    let line = client.line_starting(prefix);
    let address = listening_address(&line, prefix);
    assert!(address.ip().is_loopback(), "{line}");
    assert_echoes(TcpStream::connect(address).expect("connect to the local forward"));
}

#[test]
fn remote_forward_of_port_zero_says_which_port_and_reaches_the_echo_server() {
    let setup = setup();
    let echo = echo_server();
    let mut client = Background::spawn(setup.keyed(&setup.trusted()).args([
        "-N",
        "-R",
        &format!("0:127.0.0.1:{}", echo.port()),
        "127.0.0.1",
    ]));
    let line = client.line_starting("Allocated port ");
    let expected_end = format!(" for remote forward to 127.0.0.1:{}", echo.port());
    let port: u16 = line
        .strip_prefix("Allocated port ")
        .and_then(|rest| rest.strip_suffix(&expected_end))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    // sshd listens on loopback (GatewayPorts no) once it has answered the request.
    assert_echoes(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to sshd's port"));
}

#[test]
fn dynamic_forward_serves_a_socks5_connect() {
    let setup = setup();
    let echo = echo_server();
    let mut client = Background::spawn(setup.keyed(&setup.trusted()).args([
        "-N",
        "-v",
        "-D",
        "127.0.0.1:0",
        "127.0.0.1",
    ]));
    let prefix = "Dynamic forwarding (SOCKS) listening on ";
    let line = client.line_starting(prefix);
    let mut socks = TcpStream::connect(listening_address(&line, prefix)).expect("connect");
    socks
        .set_read_timeout(Some(RUN_LIMIT))
        .expect("read timeout");
    // Version 5, one method: no authentication.
    socks.write_all(&[5, 1, 0]).expect("greeting");
    let mut choice = [0; 2];
    socks.read_exact(&mut choice).expect("method choice");
    assert_eq!(choice, [5, 0]);
    let mut connect = vec![5, 1, 0, 1, 127, 0, 0, 1];
    connect.extend_from_slice(&echo.port().to_be_bytes());
    socks.write_all(&connect).expect("CONNECT");
    // VER REP RSV ATYP=1 ADDR(4) PORT(2).
    let mut reply = [0; 10];
    socks.read_exact(&mut reply).expect("CONNECT reply");
    assert_eq!(reply[..2], [5, 0], "SOCKS reply {reply:?}");
    assert_echoes(socks);
}

#[test]
fn two_jump_hosts_lead_to_the_target() {
    let setup = setup();
    let hop = format!("{}@127.0.0.1:{}", setup.user, setup.sshd.port());
    let output = run(
        setup
            .keyed(&setup.trusted())
            .args(["-J", &format!("{hop},{hop}"), "127.0.0.1", "echo hi"]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "hi\n");
    // Three logins: two hops and the target.
    let logins = setup.sshd.wait_for_log_count(
        &format!("Accepted publickey for {}", setup.user),
        3,
        crate::support::LOG_WAIT,
    );
    assert_eq!(logins, 3, "{}", setup.sshd.log());
}

#[test]
fn forwarded_agent_lists_the_local_agents_key_remotely() {
    let setup = setup();
    let agent = SshAgent::start().expect("ssh-agent");
    agent
        .ssh_add(&[setup.key_file.as_os_str()])
        .expect("ssh-add");
    let local = agent.ssh_add(&["-l".as_ref()]).expect("ssh-add -l");
    let output = run(
        setup
            .keyed(&setup.trusted())
            .args(["-A", "127.0.0.1", "ssh-add -l"])
            .env("SSH_AUTH_SOCK", agent.socket()),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), local);
}

#[test]
fn exit_on_forward_failure_exits_255_before_the_command_runs() {
    let setup = setup();
    // Held for the whole run, so the forward cannot bind it.
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = taken.local_addr().expect("address").port();
    let output = run(
        setup.keyed(&setup.trusted()).args([
            "-o",
            "ExitOnForwardFailure=yes",
            "-L",
            &format!("127.0.0.1:{port}:127.0.0.1:9"),
            "127.0.0.1",
            "echo ran",
        ]),
        Vec::new(),
    );
    assert_eq!(output.status.code(), Some(255), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "");
    assert!(
        text(&output.stderr).contains("Could not request local forwarding"),
        "{}",
        text(&output.stderr)
    );
}

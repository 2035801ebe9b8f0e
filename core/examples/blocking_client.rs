//! `blocking_client`: runs one command on an SSH server over a plain
//! `std::net::TcpStream`, with no async runtime: the proof that the engine is
//! sans-IO. The application owns the socket, the clock and the threads; the engine
//! only ever sees bytes, `Instant`s and answers to its events.
//!
//! ```text
//! cargo run -p sansh-core --example blocking_client -- \
//!     [-p PORT] [-l USER] [-i KEYFILE] [--password-env VAR] \
//!     [--known-hosts FILE] [--accept-new] host command...
//! ```
//!
//! The host key is checked against `--known-hosts` (default `~/.ssh/known_hosts`):
//! a changed or revoked key is refused, an unknown one too unless `--accept-new`,
//! which records it. An encrypted key file is opened with the passphrase in
//! `SANSH_PASSPHRASE`. Standard input goes to the command (unless it is a terminal),
//! its stdout and stderr come back apart, and the exit code is the remote exit
//! status, 128 + the signal number when the command was killed, or 255 on error.

// The example is the application: reading the clock is its job, not the engine's.
#![allow(clippy::disallowed_methods)]

use std::io::{self, IsTerminal, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::{Duration, Instant};

use sansh_core::auth::{PublicKeyCredential, Zeroizing};
use sansh_core::channel::{ChannelRequest, WriteError};
use sansh_core::keys::{KeyError, PrivateKey};
use sansh_core::known_hosts::{HostKeyStatus, KnownHosts};
use sansh_core::{ChannelId, ClientConfig, ClientConnection, DisconnectReason, Event};

/// How often the loop looks at stdin while the socket is quiet: the reader thread
/// cannot interrupt a blocking socket read, so the read wakes up on its own.
const STDIN_POLL: Duration = Duration::from_millis(20);

struct Args {
    port: u16,
    user: String,
    key_file: Option<String>,
    password_env: Option<String>,
    known_hosts: String,
    accept_new: bool,
    host: String,
    command: String,
}

/// How the user logs in.
enum Login {
    Key(PublicKeyCredential),
    Password(Zeroizing<String>),
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("blocking_client: {message}");
            ExitCode::from(255)
        }
    }
}

fn run() -> Result<u8, String> {
    let args = parse_args(std::env::args().skip(1))?;
    let login = load_login(&args)?;
    let mut stream = TcpStream::connect((args.host.as_str(), args.port))
        .map_err(|e| format!("connect to {}:{}: {e}", args.host, args.port))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;

    let mut conn = ClientConnection::new(ClientConfig::default(), Instant::now());
    // Authentication may start right away: the engine holds it until the key
    // exchange is done and the server has accepted `ssh-userauth`.
    let started = match login {
        Login::Key(credential) => conn.auth().publickey(&args.user, credential),
        Login::Password(password) => conn.auth().password(&args.user, password),
    };
    started.map_err(|e| e.to_string())?;

    let mut session = Session {
        args: &args,
        stdin: (!io::stdin().is_terminal()).then(spawn_stdin_reader),
        pending: Vec::new(),
        channel: None,
        exit_code: None,
        outcome: None,
    };
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        // The run loop contract: drain output and events until both are quiet, since
        // acting on an event may queue bytes and sending may raise events.
        loop {
            out.clear();
            let sent = conn.poll_transmit(Instant::now(), &mut out);
            if sent > 0 {
                stream
                    .write_all(&out)
                    .map_err(|e| format!("write to server: {e}"))?;
            }
            let mut events = 0;
            while let Some(event) = conn.poll_event() {
                events += 1;
                session.handle_event(&mut conn, event)?;
            }
            events += session.pump_stdin(&mut conn)?;
            if sent == 0 && events == 0 {
                break;
            }
        }
        if let Some(outcome) = session.outcome.take() {
            return outcome;
        }

        let deadline = conn.poll_timeout();
        let mut wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if session.stdin.is_some() && session.channel.is_some() {
            wait = Some(wait.map_or(STDIN_POLL, |w| w.min(STDIN_POLL)));
        }
        // A zero timeout is an error for `set_read_timeout`: one millisecond is "now".
        let wait = wait.map(|w| w.max(Duration::from_millis(1)));
        stream.set_read_timeout(wait).map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => conn.handle_eof(Instant::now()),
            Ok(n) => conn.handle_input(Instant::now(), &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read from server: {e}")),
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| d <= now) {
            conn.handle_timeout(now);
        }
    }
}

/// What the loop keeps between events.
struct Session<'a> {
    args: &'a Args,
    /// Chunks of our stdin, read by another thread; `None` once stdin is done.
    stdin: Option<Receiver<Vec<u8>>>,
    /// Stdin bytes the channel has not taken yet (its window is full).
    pending: Vec<u8>,
    /// The session channel, once confirmed.
    channel: Option<ChannelId>,
    exit_code: Option<u8>,
    /// Set when the program is done: its exit code, or why it failed.
    outcome: Option<Result<u8, String>>,
}

impl Session<'_> {
    fn handle_event(&mut self, conn: &mut ClientConnection, event: Event) -> Result<(), String> {
        match event {
            Event::HostKey(decision) => {
                if self.check_host_key(decision.key())? {
                    conn.accept_host_key(decision);
                } else {
                    conn.reject_host_key(decision);
                }
            }
            Event::AuthBanner(text) => eprint!("{text}"),
            Event::AuthSuccess => {
                conn.channels().open_session().map_err(|e| e.to_string())?;
            }
            Event::AuthFailure {
                partial_success: false,
                methods_that_can_continue,
            } => {
                let methods = methods_that_can_continue.join(",");
                self.fail(
                    conn,
                    format!("permission denied (server accepts: {methods})"),
                );
            }
            Event::ChannelOpened(id) => {
                self.channel = Some(id);
                let command = self.args.command.as_bytes();
                conn.channel(id)
                    .request_exec(command, true)
                    .map_err(|e| e.to_string())?;
                if self.stdin.is_none() {
                    conn.channel(id).eof().map_err(|e| e.to_string())?;
                }
            }
            Event::ChannelOpenFailed { description, .. } => {
                self.fail(conn, format!("session refused: {description}"));
            }
            Event::ChannelRequestResult { success: false, .. } => {
                self.fail(conn, "the server refused to run the command".into());
            }
            Event::ChannelReadable(id) | Event::ChannelEof(id) => copy_output(conn, id)?,
            Event::ChannelRequest(decision) => match decision.request() {
                ChannelRequest::ExitStatus(status) => self.exit_code = Some(*status as u8),
                ChannelRequest::ExitSignal { name, message, .. } => {
                    eprintln!("remote command killed by signal {name} {message}");
                    self.exit_code = Some(128 + signal_number(name));
                }
                // Dropping the decision answers failure when a reply is wanted.
                _ => {}
            },
            Event::ChannelClosed(id) => {
                copy_output(conn, id)?;
                // sshd sends the exit status before CLOSE; without one, ssh says 255.
                let code = self.exit_code.unwrap_or(255);
                conn.disconnect(DisconnectReason::ByApplication, "");
                self.outcome.get_or_insert(Ok(code));
            }
            Event::Closed(error) => {
                self.outcome
                    .get_or_insert_with(|| Err(format!("connection closed: {error}")));
            }
            // Global requests and channel opens from the server are refused by
            // dropping them; the other events need nothing from a one-shot client.
            _ => {}
        }
        Ok(())
    }

    /// Judges the host key against the known_hosts file; records it on first use
    /// with `--accept-new`.
    fn check_host_key(&mut self, key: &sansh_core::keys::PublicKey) -> Result<bool, String> {
        let path = &self.args.known_hosts;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("read {path}: {e}")),
        };
        let mut known = KnownHosts::parse(&text);
        let (host, port) = (self.args.host.as_str(), self.args.port);
        let fingerprint = key.fingerprint_sha256();
        match known.check(host, port, key) {
            HostKeyStatus::Trusted { .. } => return Ok(true),
            HostKeyStatus::Revoked { line } => {
                eprintln!("host key {fingerprint} is revoked ({path}:{line})");
            }
            HostKeyStatus::Changed { keys_on_record } => {
                let lines: Vec<String> =
                    keys_on_record.iter().map(|k| k.line.to_string()).collect();
                eprintln!(
                    "HOST KEY CHANGED for {host}: now {fingerprint}; other keys on record at {path}:{}",
                    lines.join(",")
                );
            }
            HostKeyStatus::Unknown if self.args.accept_new => {
                let line = known.add(host, port, key).map_err(|e| e.to_string())?;
                let separator = if text.is_empty() || text.ends_with('\n') {
                    ""
                } else {
                    "\n"
                };
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .and_then(|mut file| writeln!(file, "{separator}{line}"))
                    .map_err(|e| format!("write {path}: {e}"))?;
                eprintln!("added {host} ({fingerprint}) to {path}");
                return Ok(true);
            }
            HostKeyStatus::Unknown => {
                eprintln!(
                    "host key for {host} is unknown ({fingerprint}); not in {path} \
                     (pass --accept-new to trust it)"
                );
            }
        }
        // The engine ends the connection with `HostKeyRejected`; say it plainly.
        self.outcome = Some(Err("host key verification failed".into()));
        Ok(false)
    }

    /// Moves stdin into the channel as far as its window allows; returns how many
    /// chunks it took, so the loop knows output may be queued.
    fn pump_stdin(&mut self, conn: &mut ClientConnection) -> Result<usize, String> {
        let (Some(id), Some(rx)) = (self.channel, &self.stdin) else {
            return Ok(0);
        };
        let mut moved = 0;
        loop {
            if self.pending.is_empty() {
                match rx.try_recv() {
                    Ok(chunk) => self.pending = chunk,
                    Err(TryRecvError::Empty) => return Ok(moved),
                    Err(TryRecvError::Disconnected) => {
                        self.stdin = None;
                        conn.channel(id).eof().map_err(|e| e.to_string())?;
                        return Ok(moved + 1);
                    }
                }
            }
            match conn.channel(id).write(&self.pending) {
                Ok(taken) => {
                    self.pending.drain(..taken);
                    moved += 1;
                }
                // Full window: the rest waits for the server to read (ChannelWritable).
                Err(WriteError::Blocked) => return Ok(moved),
                // The command no longer reads its input; stop feeding it.
                Err(WriteError::Finished | WriteError::Closed) => {
                    self.stdin = None;
                    return Ok(moved);
                }
            }
        }
    }

    fn fail(&mut self, conn: &mut ClientConnection, message: String) {
        conn.disconnect(DisconnectReason::ByApplication, "");
        self.outcome.get_or_insert(Err(message));
    }
}

/// Writes what the channel holds to our stdout and stderr.
fn copy_output(conn: &mut ClientConnection, id: ChannelId) -> Result<(), String> {
    let mut channel = conn.channel(id);
    let mut stdout = io::stdout().lock();
    while let Some(data) = channel.read() {
        stdout
            .write_all(&data)
            .map_err(|e| format!("stdout: {e}"))?;
    }
    stdout.flush().map_err(|e| format!("stdout: {e}"))?;
    let mut stderr = io::stderr().lock();
    while let Some(data) = channel.read_stderr() {
        stderr
            .write_all(&data)
            .map_err(|e| format!("stderr: {e}"))?;
    }
    Ok(())
}

/// Reads stdin on its own thread, since std has no way to wait on a socket and a
/// pipe at once. The bounded queue holds back a fast producer.
fn spawn_stdin_reader() -> Receiver<Vec<u8>> {
    let (tx, rx) = sync_channel(4);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0; 32 * 1024];
        while let Ok(n @ 1..) = stdin.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// The POSIX number of a signal named as in `exit-signal` (RFC 4254 §6.10).
fn signal_number(name: &str) -> u8 {
    const SIGNALS: [&str; 15] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM",
    ];
    SIGNALS
        .iter()
        .position(|&s| s == name)
        .map_or(127, |i| i as u8 + 1)
}

fn load_login(args: &Args) -> Result<Login, String> {
    if let Some(path) = &args.key_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("read {path}: {e}"))?;
        let key = match PrivateKey::from_pem(&text, None) {
            Err(KeyError::PassphraseRequired) => {
                let passphrase = std::env::var("SANSH_PASSPHRASE")
                    .map(Zeroizing::new)
                    .map_err(|_| format!("{path} is encrypted: set SANSH_PASSPHRASE"))?;
                PrivateKey::from_pem(&text, Some(passphrase.as_bytes()))
            }
            other => other,
        }
        .map_err(|e| format!("{path}: {e}"))?;
        return Ok(Login::Key(PublicKeyCredential::from_private_key(Arc::new(
            key,
        ))));
    }
    if let Some(var) = &args.password_env {
        let password = std::env::var(var).map_err(|_| format!("${var} is not set"))?;
        return Ok(Login::Password(Zeroizing::new(password)));
    }
    Err("give a key with -i KEYFILE or a password with --password-env VAR".into())
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    const USAGE: &str = "usage: blocking_client [-p PORT] [-l USER] [-i KEYFILE] \
        [--password-env VAR] [--known-hosts FILE] [--accept-new] host command...";
    let home = std::env::var("HOME").unwrap_or_default();
    let mut args = Args {
        port: 22,
        user: std::env::var("USER").unwrap_or_default(),
        key_file: None,
        password_env: None,
        known_hosts: format!("{home}/.ssh/known_hosts"),
        accept_new: false,
        host: String::new(),
        command: String::new(),
    };
    while let Some(arg) = argv.next() {
        let mut value = || {
            argv.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "-p" => args.port = value()?.parse().map_err(|e| format!("-p: {e}"))?,
            "-l" => args.user = value()?,
            "-i" => args.key_file = Some(value()?),
            "--password-env" => args.password_env = Some(value()?),
            "--known-hosts" => args.known_hosts = value()?,
            "--accept-new" => args.accept_new = true,
            "-h" | "--help" => return Err(USAGE.into()),
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}\n{USAGE}")),
            _ => {
                args.host = arg;
                // Like ssh, the words after the host form one command line.
                args.command = argv.collect::<Vec<_>>().join(" ");
                break;
            }
        }
    }
    if args.host.is_empty() || args.command.is_empty() {
        return Err(USAGE.into());
    }
    if args.user.is_empty() {
        return Err("no user: pass -l USER".into());
    }
    Ok(args)
}

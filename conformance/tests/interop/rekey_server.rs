//! Rekey rows, OpenSSH's `ssh` against our server: ssh forcing the rekey with
//! `-o RekeyLimit=16K`, and our server asking for one with `rekey()`, each with
//! strict kex on and off.
//!
//! `ssh -vvv -i <our Ed25519 key> host cat` gets the payload on its stdin. Our
//! server accepts that key, accepts one session channel and its `exec`, and plays
//! `cat` itself: it echoes the channel's data back (reading only as fast as it can
//! write, so flow control is real), and once ssh sends EOF and the echo is out, it
//! sends exit-status 0, EOF and CLOSE. A row passes when ssh exits 0 with the
//! payload on its stdout, ssh's log shows the extra KEXINIT (sent by ssh when its
//! limit forces the rekey, received from us when we ask), and our server reports
//! the rekey.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use base64ct::{Base64, Encoding};
use sansh_conformance::blocking::Driver;
use sansh_conformance::openssh::SshClient;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::auth::MethodRequest;
use sansh_core::channel::{ChannelId, ChannelKind, ChannelRequest, WriteError};
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey, PublicKey};
use sansh_core::{Event, ServerConfig, ServerConnection};

use crate::matrix::{self, Direction, Row};
use crate::rekey::{self, PAYLOAD_LEN, REKEY_AFTER, count_lines, payload, strictness};

const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// ssh's byte limit in the rows where ssh forces the rekey.
const SSH_REKEY_LIMIT: &str = "16K";

/// Most bytes the echo handler reads ahead of what it could write back.
const ECHO_CHUNK: usize = 32 * 1024;

/// Who starts the re-exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Initiator {
    /// ssh, by its `RekeyLimit`.
    Ssh,
    /// Our server, by `rekey()` after [`REKEY_AFTER`] bytes were echoed.
    Us,
}

/// The user key ssh logs in with, as a file for `-i` and as the key our server
/// expects.
struct Setup {
    key_file: PathBuf,
    key: PublicKey,
    _dir: ScratchDir,
}

impl Setup {
    fn new() -> Result<Self, String> {
        let dir = ScratchDir::new("rekey-ssh").map_err(|e| e.to_string())?;
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
            .map_err(|e| format!("generate the user key: {e}"))?;
        let text = key
            .to_openssh(None, &mut SystemRandom)
            .map_err(|e| format!("write the user key: {e}"))?;
        // ScratchDir writes mode 0600, as ssh demands of identity files.
        let key_file = dir
            .write("id_ed25519", text.as_bytes())
            .map_err(|e| e.to_string())?;
        Ok(Self {
            key_file,
            key: key.public_key(),
            _dir: dir,
        })
    }
}

/// Runs every server row and returns them.
pub(crate) fn rows() -> Vec<Row> {
    let setup = match Setup::new() {
        Ok(setup) => setup,
        Err(why) => {
            return vec![Row::new(
                "rekey",
                "setup (user key)",
                Direction::SshToServer,
                Err(why),
            )];
        }
    };
    let mut rows = Vec::new();
    for initiator in [Initiator::Ssh, Initiator::Us] {
        for strict in [true, false] {
            let what = match initiator {
                Initiator::Ssh => {
                    format!(
                        "by ssh RekeyLimit {SSH_REKEY_LIMIT} ({})",
                        strictness(strict)
                    )
                }
                Initiator::Us => format!("by our server rekey() ({})", strictness(strict)),
            };
            let result = run(&setup, initiator, strict);
            rows.push(Row::new("rekey", what, Direction::SshToServer, result));
        }
    }
    rows
}

/// What our server saw of the connection.
#[derive(Debug, Default)]
struct Echo {
    channel: Option<ChannelId>,
    exec_accepted: bool,
    /// Read from the channel, not yet written back.
    pending: Vec<u8>,
    echoed: usize,
    peer_eof: bool,
    finished: bool,
    rekey_requested: bool,
    rekeys: u32,
    strict_kex: bool,
}

fn run(setup: &Setup, initiator: Initiator, strict: bool) -> Result<(), String> {
    let host_key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
        .map_err(|e| format!("generate the host key: {e}"))?;
    let host_public = host_key.public_key();
    let known_hosts = |addr: SocketAddr| {
        let public = &host_public;
        format!(
            "[{}]:{} {} {}\n",
            addr.ip(),
            addr.port(),
            public.key_type().name(),
            Base64::encode_string(&public.to_blob())
        )
    };
    let mut config = ServerConfig {
        host_keys: vec![host_key],
        ..ServerConfig::default()
    };
    config.transport.strict_kex = strict;
    let config = Arc::new(config);
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind a listener: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("listener address: {e}"))?;
    let data = payload();

    let mut ssh = SshClient::new(addr)
        .user("alice")
        .known_hosts(known_hosts(addr))
        .option("PreferredAuthentications=publickey")
        .arg("-i")
        .arg(setup.key_file.display().to_string())
        .command("cat")
        .stdin(data.clone())
        .timeout(SCENARIO_TIMEOUT);
    if initiator == Initiator::Ssh {
        ssh = ssh.option(format!("RekeyLimit={SSH_REKEY_LIMIT}"));
    }
    let (out, echo) = thread::scope(|scope| {
        let server = scope.spawn(|| serve(&listener, config, &setup.key, initiator));
        let out = ssh.run();
        if out.is_err() {
            // ssh may never have connected: release the blocked accept.
            let _ = TcpStream::connect(addr);
        }
        let echo = server
            .join()
            .unwrap_or_else(|_| Err("the server thread panicked".into()));
        (out, echo)
    });
    let out = out.map_err(|e| format!("running ssh: {e}"))?;
    let log_tail = || {
        format!(
            "\n--- ssh -vvv log (tail) ---\n{}",
            matrix::tail(&out.stderr, 40)
        )
    };
    let echo = echo.map_err(|why| format!("server: {why}{}", log_tail()))?;
    check(&data, &out, &echo, initiator, strict).map_err(|why| {
        format!(
            "{why}; server: {} bytes echoed, {} rekeys{}",
            echo.echoed,
            echo.rekeys,
            log_tail()
        )
    })
}

fn check(
    data: &[u8],
    out: &sansh_conformance::openssh::ClientOutput,
    echo: &Echo,
    initiator: Initiator,
    strict: bool,
) -> Result<(), String> {
    if !out.status.success() {
        return Err(format!("ssh exited with {}", out.status));
    }
    rekey::check_intact(data, &out.stdout)?;
    if echo.echoed != PAYLOAD_LEN {
        return Err(format!("our server echoed {} bytes", echo.echoed));
    }
    if echo.strict_kex != strict || out.log_contains("will use strict KEX ordering") != strict {
        return Err(format!(
            "strict kex: our server {}, ssh's log {}, the row wants {strict}",
            echo.strict_kex,
            out.log_contains("will use strict KEX ordering")
        ));
    }
    let (needle, rekeys_ok) = match initiator {
        // ssh starts every exchange it is limited into: its own KEXINIT comes first.
        Initiator::Ssh => ("SSH2_MSG_KEXINIT sent", echo.rekeys >= 1),
        Initiator::Us => ("SSH2_MSG_KEXINIT received", echo.rekeys == 1),
    };
    if !rekeys_ok {
        return Err(format!("our server completed {} rekeys", echo.rekeys));
    }
    let logged = count_lines(&out.stderr, needle);
    if logged < 1 + echo.rekeys as usize {
        return Err(format!(
            "ssh logged {needle:?} {logged} times, expected 1 + {} rekeys",
            echo.rekeys
        ));
    }
    Ok(())
}

/// Accepts one connection and serves `cat` on it until the channel is closed.
fn serve(
    listener: &TcpListener,
    config: Arc<ServerConfig>,
    user_key: &PublicKey,
    initiator: Initiator,
) -> Result<Echo, String> {
    let (stream, peer) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    let mut engine =
        ServerConnection::new(config, Instant::now()).map_err(|e| format!("server config: {e}"))?;
    engine.auth().set_peer_address(peer.ip());
    let mut driver = Driver::new(engine, stream, SCENARIO_TIMEOUT)
        .map_err(|e| format!("set up the socket: {e}"))?;
    let mut echo = Echo::default();
    let ended = driver.run(|server, event| {
        let step = on_event(server, event, &mut echo, user_key)
            .and_then(|done| pump(server, &mut echo, initiator).map(|()| done));
        match step {
            Ok(true) => ControlFlow::Break(Ok(())),
            Ok(false) => ControlFlow::Continue(()),
            Err(why) => ControlFlow::Break(Err(why)),
        }
    });
    echo.strict_kex = driver.engine().strict_kex();
    // ssh closes the connection once the channel is closed.
    let _ = driver.close();
    match ended {
        Ok(Ok(())) => Ok(echo),
        Ok(Err(why)) => Err(format!("{why}; so far: {echo:?}")),
        Err(e) => Err(format!("driving the server: {e}; so far: {echo:?}")),
    }
}

/// Handles one event; `Ok(true)` once the channel is closed both ways.
fn on_event(
    server: &mut ServerConnection,
    event: Event,
    echo: &mut Echo,
    user_key: &PublicKey,
) -> Result<bool, String> {
    match event {
        Event::AuthRequest(request) => {
            let request = *request;
            let ours = matches!(
                request.method(),
                MethodRequest::PublicKey { key, .. } if key == user_key
            );
            let answered = if ours {
                server.auth().accept(request)
            } else {
                server.auth().reject(request)
            };
            answered.map_err(|e| format!("answer an auth request: {e}"))?;
        }
        // One session and its `exec cat` are accepted; any other open or request
        // (env, pty-req, ...) falls through and is refused by dropping its decision.
        Event::ChannelOpenRequest(decision)
            if echo.channel.is_none() && matches!(decision.kind(), ChannelKind::Session) =>
        {
            let id = server
                .channels()
                .accept_open(decision)
                .map_err(|e| format!("accept the session: {e}"))?;
            echo.channel = Some(id);
        }
        Event::ChannelRequest(decision)
            if !echo.exec_accepted
                && Some(decision.channel()) == echo.channel
                && matches!(
                    decision.request(),
                    ChannelRequest::Exec { command } if command == b"cat"
                ) =>
        {
            echo.exec_accepted = true;
            server.channels().accept_request(decision);
        }
        Event::ChannelEof(id) if Some(id) == echo.channel => echo.peer_eof = true,
        Event::KeyExchangeComplete { rekey: true, .. } => echo.rekeys += 1,
        Event::ChannelClosed(id) if Some(id) == echo.channel => return Ok(true),
        Event::Closed(error) => return Err(format!("the connection closed: {error}")),
        _ => {}
    }
    Ok(false)
}

/// The echo: reads only what it can write back at once, then writes it; asks for
/// our rekey after [`REKEY_AFTER`] echoed bytes when the row wants it; ends the
/// command once ssh's EOF came and everything is echoed.
fn pump(
    server: &mut ServerConnection,
    echo: &mut Echo,
    initiator: Initiator,
) -> Result<(), String> {
    let Some(id) = echo.channel.filter(|_| echo.exec_accepted) else {
        return Ok(());
    };
    if echo.finished {
        return Ok(());
    }
    loop {
        if echo.pending.is_empty() {
            match server.channel(id).read_max(ECHO_CHUNK) {
                Some(chunk) => echo.pending.extend_from_slice(&chunk),
                None => break,
            }
        }
        match server.channel(id).write(&echo.pending) {
            Ok(0) | Err(WriteError::Blocked) => return Ok(()),
            Ok(n) => {
                echo.pending.drain(..n);
                echo.echoed += n;
            }
            Err(e) => return Err(format!("echo: {e}")),
        }
        if initiator == Initiator::Us && !echo.rekey_requested && echo.echoed >= REKEY_AFTER {
            echo.rekey_requested = true;
            server.rekey(Instant::now());
        }
    }
    if echo.peer_eof && echo.pending.is_empty() {
        echo.finished = true;
        let mut channel = server.channel(id);
        channel
            .exit_status(0)
            .and_then(|()| channel.eof())
            .and_then(|()| channel.close())
            .map_err(|e| format!("end the command: {e}"))?;
    }
    Ok(())
}

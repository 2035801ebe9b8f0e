//! Rekey rows, our client against `sshd`: sshd forcing the rekey with a small
//! `RekeyLimit`, and our client asking for one with `rekey()`, each with strict kex
//! on and off.
//!
//! Each scenario authenticates with an Ed25519 key of ours (listed in the sshd's
//! `authorized_keys`), runs sshd's `cat` on a session channel, pushes the payload
//! through it, and checks: at least one `KeyExchangeComplete { rekey: true }` (one
//! per `rekey()` when we ask), the payload back intact, exit status 0, and sshd's
//! own log of the re-exchange. Rows run one after the other so that the lines sshd
//! logged meanwhile belong to the row's connection.

use std::net::TcpStream;
use std::ops::ControlFlow;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sansh_conformance::blocking::Driver;
use sansh_conformance::openssh::Sshd;
use sansh_core::auth::PublicKeyCredential;
use sansh_core::channel::{ChannelId, ChannelRequest, WriteError};
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey, PublicKey};
use sansh_core::{ClientConfig, ClientConnection, DisconnectReason, Event};

use crate::matrix::{self, Direction, Row};
use crate::rekey::{self, REKEY_AFTER, count_lines, payload, strictness};

const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);
const LOG_WAIT: Duration = Duration::from_secs(10);

/// sshd's byte limit in the rows where sshd forces the rekey.
const SSHD_REKEY_LIMIT: &str = "32K";

/// What sshd-session logs (at DEBUG1) each time it sends a KEXINIT: once for the
/// first exchange, once more for every rekey.
const SSHD_KEXINIT_SENT: &str = "SSH2_MSG_KEXINIT sent";

/// Who starts the re-exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Initiator {
    /// sshd, by its `RekeyLimit`.
    Sshd,
    /// Our client, by `rekey()` after [`REKEY_AFTER`] bytes were written.
    Us,
}

/// Runs every client row and returns them.
pub(crate) fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    let setup = match Setup::new() {
        Ok(setup) => setup,
        Err(why) => {
            return vec![Row::new(
                "rekey",
                "setup (sshd, key)",
                Direction::ClientToSshd,
                Err(why),
            )];
        }
    };
    for (initiator, sshd) in [
        (Initiator::Sshd, &setup.limited),
        (Initiator::Us, &setup.plain),
    ] {
        for strict in [true, false] {
            let what = match initiator {
                Initiator::Sshd => format!(
                    "by sshd RekeyLimit {SSHD_REKEY_LIMIT} ({})",
                    strictness(strict)
                ),
                Initiator::Us => format!("by our client rekey() ({})", strictness(strict)),
            };
            let result = run(&setup, sshd, initiator, strict).map_err(|why| {
                format!(
                    "{why}\n--- sshd log (tail) ---\n{}",
                    matrix::tail(&sshd.log(), 40)
                )
            });
            rows.push(Row::new("rekey", what, Direction::ClientToSshd, result));
        }
    }
    rows
}

/// Two sshds, one with a small `RekeyLimit`, one without, trusting our key.
struct Setup {
    limited: Sshd,
    plain: Sshd,
    key: Arc<PrivateKey>,
    user: String,
}

impl Setup {
    fn new() -> Result<Self, String> {
        let key = Arc::new(
            PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
                .map_err(|e| format!("generate our user key: {e}"))?,
        );
        let authorized = key.public_key().to_openssh("sansh-rekey");
        let start = |extra: Option<String>| {
            let mut builder = Sshd::builder().authorized_key(authorized.clone());
            if let Some(line) = extra {
                builder = builder.config(line);
            }
            builder.start().map_err(|e| format!("start sshd: {e}"))
        };
        Ok(Self {
            limited: start(Some(format!("RekeyLimit {SSHD_REKEY_LIMIT}")))?,
            plain: start(None)?,
            key,
            user: current_user()?,
        })
    }
}

/// The account running the tests, which public key logins to sshd use.
fn current_user() -> Result<String, String> {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .map_err(|e| format!("run id -un: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// What the client saw of the session.
#[derive(Debug, Default)]
struct Session {
    channel: Option<ChannelId>,
    exec_accepted: bool,
    sent: usize,
    eof_sent: bool,
    rekey_requested: bool,
    received: Vec<u8>,
    rekeys: u32,
    exit_status: Option<u32>,
}

fn run(setup: &Setup, sshd: &Sshd, initiator: Initiator, strict: bool) -> Result<(), String> {
    let data = payload();
    let kexinits_before = count_lines(&sshd.log(), SSHD_KEXINIT_SENT);
    let host_keys: Vec<PublicKey> = sshd
        .host_keys()
        .iter()
        .filter_map(|k| PublicKey::from_openssh(&k.public).ok().map(|(key, _)| key))
        .collect();
    let stream = TcpStream::connect(sshd.addr()).map_err(|e| format!("connect to sshd: {e}"))?;
    let mut config = ClientConfig::default();
    config.transport.strict_kex = strict;
    let client = ClientConnection::new(config, Instant::now());
    let mut driver = Driver::new(client, stream, SCENARIO_TIMEOUT)
        .map_err(|e| format!("set up the socket: {e}"))?;
    let credential = PublicKeyCredential::from_private_key(Arc::clone(&setup.key));
    driver
        .engine_mut()
        .auth()
        .publickey(&setup.user, credential)
        .map_err(|e| format!("start publickey authentication: {e}"))?;

    let mut session = Session::default();
    let ended = driver.run(|client, event| {
        let step = on_event(client, event, &mut session, &host_keys);
        match step {
            Ok(true) => ControlFlow::Break(Ok(())),
            Ok(false) => match pump(client, &mut session, &data, initiator) {
                Ok(()) => ControlFlow::Continue(()),
                Err(why) => ControlFlow::Break(Err(why)),
            },
            Err(why) => ControlFlow::Break(Err(why)),
        }
    });
    let strict_seen = driver.engine().strict_kex();
    driver
        .engine_mut()
        .disconnect(DisconnectReason::ByApplication, "sansh rekey test done");
    let _ = driver.close();
    ended
        .map_err(|e| format!("driving the client: {e}; so far: {}", summary(&session)))?
        .map_err(|why| format!("{why}; so far: {}", summary(&session)))?;

    if strict_seen != strict {
        return Err(format!(
            "strict kex is {strict_seen}, the row wants {strict}"
        ));
    }
    rekey::check_intact(&data, &session.received)?;
    if session.exit_status != Some(0) {
        return Err(format!("cat's exit status: {:?}", session.exit_status));
    }
    match initiator {
        Initiator::Sshd if session.rekeys == 0 => {
            return Err("sshd's RekeyLimit forced no rekey".into());
        }
        // We call rekey() once and our own limits are far away; sshd has none.
        Initiator::Us if session.rekeys != 1 => {
            return Err(format!("{} rekeys after one rekey()", session.rekeys));
        }
        _ => {}
    }
    // sshd sends a KEXINIT of its own in every exchange, whoever started it.
    let wanted = kexinits_before + 1 + session.rekeys as usize;
    let now_logged = sshd.wait_for_log_count(SSHD_KEXINIT_SENT, wanted, LOG_WAIT);
    if now_logged >= wanted {
        return Ok(());
    }
    Err(format!(
        "sshd logged {SSHD_KEXINIT_SENT:?} {} times for this connection, \
         expected {} (1 + {} rekeys)",
        now_logged - kexinits_before,
        wanted - kexinits_before,
        session.rekeys
    ))
}

fn summary(session: &Session) -> String {
    format!(
        "{} bytes sent, {} received, {} rekeys, exec accepted: {}, exit status: {:?}",
        session.sent,
        session.received.len(),
        session.rekeys,
        session.exec_accepted,
        session.exit_status
    )
}

/// Handles one event; `Ok(true)` once the channel is closed both ways.
fn on_event(
    client: &mut ClientConnection,
    event: Event,
    session: &mut Session,
    host_keys: &[PublicKey],
) -> Result<bool, String> {
    match event {
        Event::HostKey(decision) => {
            if host_keys.contains(decision.key()) {
                client.accept_host_key(decision);
            } else {
                client.reject_host_key(decision);
                return Err("sshd presented a host key it does not have".into());
            }
        }
        Event::AuthSuccess => {
            let id = client
                .channels()
                .open_session()
                .map_err(|e| format!("open a session: {e}"))?;
            session.channel = Some(id);
        }
        Event::AuthFailure { .. } => return Err("sshd refused our public key".into()),
        Event::ChannelOpened(id) => {
            client
                .channel(id)
                .request_exec("cat", true)
                .map_err(|e| format!("request exec: {e}"))?;
        }
        Event::ChannelOpenFailed { description, .. } => {
            return Err(format!("sshd refused the session: {description}"));
        }
        Event::ChannelRequestResult { success, .. } => {
            if !success {
                return Err("sshd refused exec cat".into());
            }
            session.exec_accepted = true;
        }
        Event::KeyExchangeComplete { rekey: true, .. } => session.rekeys += 1,
        Event::ChannelReadable(id) => {
            let mut channel = client.channel(id);
            while let Some(chunk) = channel.read() {
                session.received.extend_from_slice(&chunk);
            }
            // sshd-session at LogLevel DEBUG3 under `-e` logs to the session's
            // stderr until it execs the command: drained, not checked.
            while channel.read_stderr().is_some() {}
        }
        Event::ChannelRequest(decision) => {
            if let ChannelRequest::ExitStatus(status) = decision.request() {
                session.exit_status = Some(*status);
            }
        }
        Event::ChannelClosed(_) => return Ok(true),
        Event::Closed(error) => return Err(format!("the connection closed: {error}")),
        _ => {}
    }
    Ok(false)
}

/// Writes as much of the payload as the channel takes, asks for our rekey once
/// [`REKEY_AFTER`] bytes are out (when the row wants it), and sends EOF after the
/// last byte.
fn pump(
    client: &mut ClientConnection,
    session: &mut Session,
    data: &[u8],
    initiator: Initiator,
) -> Result<(), String> {
    let Some(id) = session.channel.filter(|_| session.exec_accepted) else {
        return Ok(());
    };
    while let Some(rest) = data.get(session.sent..).filter(|r| !r.is_empty()) {
        match client.channel(id).write(rest) {
            Ok(0) | Err(WriteError::Blocked) => break,
            Ok(n) => session.sent += n,
            Err(e) => return Err(format!("write to cat: {e}")),
        }
        if initiator == Initiator::Us && !session.rekey_requested && session.sent >= REKEY_AFTER {
            session.rekey_requested = true;
            client.rekey(Instant::now());
        }
    }
    if session.sent == data.len() && !session.eof_sent {
        session.eof_sent = true;
        client
            .channel(id)
            .eof()
            .map_err(|e| format!("send EOF: {e}"))?;
    }
    Ok(())
}

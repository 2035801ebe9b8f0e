//! The connection protocol (RFC 4254) between our own client and server engines:
//! channels, flow control, requests, keepalives, and a peer that breaks the rules.

use std::sync::Arc;

use super::*;
use crate::channel::{
    Channel, ChannelId, ChannelOpenDecision, ChannelRequestDecision, GlobalRequestDecision,
};
use crate::config::{ClientConfig, ConnectionConfig, ServerConfig};
use crate::crypto::{SecureRandom, SeededRandom};
use crate::error::{ConnectionError, PeerMisbehaved};
use crate::event::Event;
use crate::keys::{KeyType, PrivateKey};
use crate::{ClientConnection, ServerConnection};

mod chaos;
mod close;
mod flow;
mod global;
mod hostile;
mod requests;
mod stress;

/// A server with a seeded Ed25519 host key and the given connection settings.
fn server_config(connection: ConnectionConfig) -> Arc<ServerConfig> {
    server_config_with(crate::config::TransportConfig::default(), connection)
}

fn server_config_with(
    transport: crate::config::TransportConfig,
    connection: ConnectionConfig,
) -> Arc<ServerConfig> {
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(7))
        .expect("ed25519 generation");
    let mut config = ServerConfig {
        transport,
        host_keys: vec![key],
        connection,
        ..ServerConfig::default()
    };
    // These tests stand in for authentication (mark_authenticated), so no login
    // grace timer may run while their virtual clock jumps ahead.
    config.auth.login_grace_time = None;
    Arc::new(config)
}

fn client_config(connection: ConnectionConfig) -> ClientConfig {
    ClientConfig {
        connection,
        ..ClientConfig::default()
    }
}

/// A pair past the key exchange with the connection protocol started on both sides
/// (standing in for user authentication), and the events so far cleared.
fn connected_with(client: ConnectionConfig, server: ConnectionConfig, seed: u64) -> Pair {
    let mut pair = Pair::seeded(client_config(client), server_config(server), seed);
    pair.handshake();
    pair.client.mark_authenticated(pair.now);
    pair.server.mark_authenticated(pair.now);
    pair.drive();
    pair.client_seen.events.clear();
    pair.server_seen.events.clear();
    pair
}

fn connected(seed: u64) -> Pair {
    connected_with(
        ConnectionConfig::default(),
        ConnectionConfig::default(),
        seed,
    )
}

/// Both engines, so helpers can work on either side.
trait Engine {
    fn chan(&mut self, id: ChannelId) -> Channel<'_>;
}

impl Engine for ClientConnection {
    fn chan(&mut self, id: ChannelId) -> Channel<'_> {
        self.channel(id)
    }
}

impl Engine for ServerConnection {
    fn chan(&mut self, id: ChannelId) -> Channel<'_> {
        self.channel(id)
    }
}

/// Reads everything buffered on a channel's data stream.
fn read_all(engine: &mut impl Engine, id: ChannelId) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = engine.chan(id).read() {
        out.extend_from_slice(&chunk);
    }
    out
}

fn read_all_stderr(engine: &mut impl Engine, id: ChannelId) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = engine.chan(id).read_stderr() {
        out.extend_from_slice(&chunk);
    }
    out
}

/// Removes the events `pick` takes from one side's record and returns what it made
/// of them.
fn take<T>(seen: &mut Observed, mut pick: impl FnMut(Event) -> Result<T, Event>) -> Vec<T> {
    let mut taken = Vec::new();
    let mut kept = Vec::new();
    for event in seen.events.drain(..) {
        match pick(event) {
            Ok(t) => taken.push(t),
            Err(event) => kept.push(event),
        }
    }
    seen.events = kept;
    taken
}

fn open_requests(seen: &mut Observed) -> Vec<ChannelOpenDecision> {
    take(seen, |e| match e {
        Event::ChannelOpenRequest(d) => Ok(d),
        other => Err(other),
    })
}

fn channel_requests(seen: &mut Observed) -> Vec<ChannelRequestDecision> {
    take(seen, |e| match e {
        Event::ChannelRequest(d) => Ok(d),
        other => Err(other),
    })
}

fn global_requests(seen: &mut Observed) -> Vec<GlobalRequestDecision> {
    take(seen, |e| match e {
        Event::GlobalRequest(d) => Ok(d),
        other => Err(other),
    })
}

fn request_results(seen: &mut Observed) -> Vec<(ChannelId, bool)> {
    take(seen, |e| match e {
        Event::ChannelRequestResult { id, success } => Ok((id, success)),
        other => Err(other),
    })
}

fn saw(seen: &Observed, wanted: impl Fn(&Event) -> bool) -> bool {
    seen.events.iter().any(wanted)
}

/// Opens a session from the client, has the server accept it, and returns the
/// client's and the server's ids for it.
fn open_session(pair: &mut Pair) -> (ChannelId, ChannelId) {
    let client_id = pair.client.channels().open_session().expect("open");
    pair.drive();
    let mut opens = open_requests(&mut pair.server_seen);
    assert_eq!(opens.len(), 1, "the server was asked once");
    let server_id = pair
        .server
        .channels()
        .accept_open(opens.remove(0))
        .expect("accept");
    pair.drive();
    assert!(
        saw(
            &pair.client_seen,
            |e| matches!(e, Event::ChannelOpened(id) if *id == client_id)
        ),
        "the client learned the channel is open"
    );
    (client_id, server_id)
}

/// The error a side closed with, which must be a protocol violation.
fn violation(seen: &Observed) -> PeerMisbehaved {
    match seen.closed() {
        Some(ConnectionError::PeerMisbehaved(p)) => p.clone(),
        other => panic!("expected a protocol violation, got {other:?}"),
    }
}

/// Deterministic test data.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    SeededRandom::new(seed).fill(&mut data);
    data
}

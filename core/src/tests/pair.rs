//! The pair harness: a client engine and a server engine connected in memory, with a
//! virtual clock that jumps to the next timeout and seeded random chunking of the byte
//! streams (1 byte to 64 KiB).

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{ClientConfig, ServerConfig};
use crate::crypto::{SecureRandom, SeededRandom};
use crate::error::ConnectionError;
use crate::event::Event;
use crate::keys::{KeyType, PrivateKey};
use crate::{ClientConnection, ServerConnection};

/// A server configuration with one host key of every type, made once per test binary
/// (RSA generation is slow). Clients pick the host key algorithm they test.
pub(crate) fn all_host_keys_server() -> Arc<ServerConfig> {
    static CONFIG: OnceLock<Arc<ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut rng = SeededRandom::new(99);
            let host_keys = KeyType::ALL
                .iter()
                .map(|&t| {
                    let bits = (t == KeyType::Rsa).then_some(2048);
                    PrivateKey::generate(t, bits, &mut rng).expect("host key generation")
                })
                .collect();
            let mut config = ServerConfig {
                host_keys,
                ..ServerConfig::default()
            };
            // Transport tests idle for long stretches without authenticating.
            config.auth.login_grace_time = None;
            config.transport.algorithms.host_key = crate::keys::SignatureAlgorithm::ALL.to_vec();
            config.transport.algorithms.kex = crate::kex::KexAlgorithm::ALL.to_vec();
            config.transport.algorithms.compression =
                crate::cipher::CompressionAlgorithm::DEFAULT.to_vec();
            Arc::new(config)
        })
        .clone()
}

/// A server configuration with a fresh (seeded) Ed25519 host key and the given
/// transport settings, without a login grace time (transport tests idle for long
/// stretches without authenticating).
pub(crate) fn ed25519_server(transport: crate::config::TransportConfig) -> Arc<ServerConfig> {
    let mut config = ed25519_server_config();
    config.transport = transport;
    config.auth.login_grace_time = None;
    Arc::new(config)
}

/// A server configuration with a fresh (seeded) Ed25519 host key and defaults
/// everywhere else, to adjust before wrapping it in an `Arc`.
pub(crate) fn ed25519_server_config() -> ServerConfig {
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(7))
        .expect("ed25519 generation");
    ServerConfig {
        host_keys: vec![key],
        ..ServerConfig::default()
    }
}

/// The virtual clock's starting point. Tests need some `Instant` to begin from; this
/// is the only clock read in the crate's tests, and no engine code reads one.
#[allow(clippy::disallowed_methods)]
pub(crate) fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// What one side has reported so far.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    pub(crate) events: Vec<Event>,
}

impl Observed {
    pub(crate) fn closed(&self) -> Option<&ConnectionError> {
        self.events.iter().find_map(|e| match e {
            Event::Closed(err) => Some(err),
            _ => None,
        })
    }
}

/// The two engines and the wire between them.
pub(crate) struct Pair {
    pub(crate) client: ClientConnection,
    pub(crate) server: ServerConnection,
    pub(crate) now: Instant,
    chunks: SeededRandom,
    /// Bytes sent but not yet delivered, per direction (a deque: delivering from the
    /// front of megabytes must not move the rest).
    pub(crate) to_server: VecDeque<u8>,
    pub(crate) to_client: VecDeque<u8>,
    /// Everything each side ever sent, for determinism checks.
    pub(crate) client_sent: Vec<u8>,
    pub(crate) server_sent: Vec<u8>,
    pub(crate) client_seen: Observed,
    pub(crate) server_seen: Observed,
    /// Answer host key decisions automatically (true) or leave them in the events.
    pub(crate) accept_host_keys: bool,
}

impl Pair {
    pub(crate) fn new(client: ClientConfig, server: Arc<ServerConfig>, seed: u64) -> Self {
        let now = epoch();
        let client = ClientConnection::with_rng(client, Box::new(SeededRandom::new(seed)), now);
        let server =
            ServerConnection::with_rng(server, Box::new(SeededRandom::new(seed ^ 0x5eed)), now)
                .expect("valid server config");
        Self {
            client,
            server,
            now,
            chunks: SeededRandom::new(seed.wrapping_mul(31)),
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            client_sent: Vec::new(),
            server_sent: Vec::new(),
            client_seen: Observed::default(),
            server_seen: Observed::default(),
            accept_host_keys: true,
        }
    }

    /// A chunk size: often tiny, sometimes up to 64 KiB.
    fn chunk_len(&mut self, available: usize) -> usize {
        let r = self.chunks.next_u64();
        let max = if r % 4 == 0 { 16 } else { 64 * 1024 };
        (1 + (r >> 8) as usize % max).min(available)
    }

    /// Moves bytes and events until neither side has anything left to say.
    pub(crate) fn drive(&mut self) {
        for _ in 0..1_000_000 {
            if !self.step() {
                return;
            }
        }
        panic!("pair did not settle");
    }

    /// One round: collect output, deliver one chunk each way, collect events.
    /// Returns false when nothing happened.
    pub(crate) fn step(&mut self) -> bool {
        let mut progress = self.collect_output();
        progress |= self.deliver();
        progress |= self.collect_events();
        progress
    }

    fn collect_output(&mut self) -> bool {
        let mut out = Vec::new();
        let c = self.client.poll_transmit(self.now, &mut out);
        self.client_sent.extend_from_slice(&out);
        self.to_server.extend(&out);
        out.clear();
        let s = self.server.poll_transmit(self.now, &mut out);
        self.server_sent.extend_from_slice(&out);
        self.to_client.extend(&out);
        c + s > 0
    }

    fn deliver(&mut self) -> bool {
        let mut progress = false;
        if !self.to_server.is_empty() {
            let n = self.chunk_len(self.to_server.as_slices().0.len());
            self.server
                .handle_input(self.now, &self.to_server.as_slices().0[..n]);
            self.to_server.drain(..n);
            progress = true;
        }
        if !self.to_client.is_empty() {
            let n = self.chunk_len(self.to_client.as_slices().0.len());
            self.client
                .handle_input(self.now, &self.to_client.as_slices().0[..n]);
            self.to_client.drain(..n);
            progress = true;
        }
        progress
    }

    fn collect_events(&mut self) -> bool {
        let mut progress = false;
        while let Some(event) = self.client.poll_event() {
            progress = true;
            match event {
                Event::HostKey(decision) if self.accept_host_keys => {
                    self.client.accept_host_key(decision)
                }
                other => self.client_seen.events.push(other),
            }
        }
        while let Some(event) = self.server.poll_event() {
            progress = true;
            self.server_seen.events.push(event);
        }
        progress
    }

    /// Jumps the virtual clock to the earliest timer of either side and fires it.
    pub(crate) fn advance_to_next_timeout(&mut self) -> Option<Instant> {
        let next = [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min()?;
        self.now = self.now.max(next);
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        Some(next)
    }

    /// Advances the clock by `by` and fires whatever is due.
    pub(crate) fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
    }

    /// Drives the pair through the first key exchange and asserts it finished.
    pub(crate) fn handshake(&mut self) {
        self.drive();
        assert_eq!(self.client_seen.closed(), None, "client closed");
        assert_eq!(self.server_seen.closed(), None, "server closed");
        assert_eq!(
            self.client.key_exchanges(),
            1,
            "client finished the key exchange"
        );
        assert_eq!(
            self.server.key_exchanges(),
            1,
            "server finished the key exchange"
        );
    }

    /// Sends `count` upper-layer messages each way with random sizes up to `max_len`
    /// and asserts they arrive intact and in order.
    pub(crate) fn exchange_data(&mut self, count: usize, max_len: usize, rng: &mut SeededRandom) {
        self.client.transport_mut().deliver_upper_messages();
        self.server.transport_mut().deliver_upper_messages();
        let mut sent_c = Vec::new();
        let mut sent_s = Vec::new();
        for _ in 0..count {
            for (sent, to_server) in [(&mut sent_c, true), (&mut sent_s, false)] {
                let len = 1 + rng.next_u64() as usize % max_len;
                let mut payload = vec![0u8; len];
                rng.fill(&mut payload);
                payload[0] = 192; // a local-use message number (RFC 4250 §4.1.2)
                let accepted = if to_server {
                    self.client.transport_mut().send_upper(&payload)
                } else {
                    self.server.transport_mut().send_upper(&payload)
                };
                assert!(accepted, "queue accepted the message");
                sent.push(payload);
            }
        }
        self.drive();
        let got_s: Vec<_> =
            std::iter::from_fn(|| self.server.transport_mut().poll_upper()).collect();
        let got_c: Vec<_> =
            std::iter::from_fn(|| self.client.transport_mut().poll_upper()).collect();
        assert_eq!(got_s.len(), sent_c.len(), "server received every message");
        assert_eq!(got_c.len(), sent_s.len(), "client received every message");
        assert!(
            got_s.iter().zip(&sent_c).all(|(a, b)| a[..] == b[..]),
            "client->server intact"
        );
        assert!(
            got_c.iter().zip(&sent_s).all(|(a, b)| a[..] == b[..]),
            "server->client intact"
        );
    }
}

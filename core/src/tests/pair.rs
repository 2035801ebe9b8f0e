//! The pair harness: the public simulation (`crate::sim`) with the engine tests'
//! helpers, and the server configurations they share.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::config::{ClientConfig, ServerConfig};
use crate::crypto::{SecureRandom, SeededRandom};
use crate::keys::{KeyType, PrivateKey};

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

pub(crate) use crate::sim::{Observed, epoch};

/// The engine tests' name for the public simulation (`crate::sim`), which they
/// reach into: its fields are visible inside the crate.
pub(crate) type Pair = crate::sim::Simulation;

impl Pair {
    /// A pair with default simulation options and `seed`.
    pub(crate) fn seeded(client: ClientConfig, server: Arc<ServerConfig>, seed: u64) -> Self {
        Self::new(client, server, seed).expect("valid server config")
    }

    /// Moves bytes and events until neither side has anything left to say.
    pub(crate) fn drive(&mut self) {
        self.settle().expect("pair did not settle");
    }

    /// Jumps the virtual clock to the earliest timer of either side and fires it.
    pub(crate) fn advance_to_next_timeout(&mut self) -> Option<Instant> {
        let next = [self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min()?;
        self.advance_to(next);
        Some(next)
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

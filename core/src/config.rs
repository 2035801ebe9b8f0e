//! Configuration: algorithm preferences, limits and timers of a client or server.

use std::time::Duration;

use crate::auth::{ClientAuthConfig, ServerAuthConfig};
use crate::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use crate::kex::{GexRequest, KexAlgorithm};
use crate::keys::{PrivateKey, SignatureAlgorithm};

/// Algorithm preference lists, most preferred first (RFC 4253 §7.1).
///
/// The defaults follow OpenSSH 10's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algorithms {
    /// Key exchange methods.
    pub kex: Vec<KexAlgorithm>,
    /// Host key signature algorithms (a client's acceptance list; a server offers those
    /// its host keys can sign, in this order).
    pub host_key: Vec<SignatureAlgorithm>,
    /// Ciphers, used for both directions.
    pub ciphers: Vec<CipherAlgorithm>,
    /// MACs, used for both directions (ignored with AEAD ciphers).
    pub macs: Vec<MacAlgorithm>,
    /// Compression methods, used for both directions.
    pub compression: Vec<CompressionAlgorithm>,
}

impl Default for Algorithms {
    fn default() -> Self {
        Self {
            kex: KexAlgorithm::DEFAULT.to_vec(),
            host_key: SignatureAlgorithm::DEFAULT_HOST_KEY.to_vec(),
            ciphers: CipherAlgorithm::DEFAULT.to_vec(),
            macs: MacAlgorithm::DEFAULT.to_vec(),
            compression: vec![CompressionAlgorithm::None],
        }
    }
}

/// Parses an OpenSSH-style comma-separated list of algorithm names.
///
/// ```
/// use sansh_core::config::parse_algorithm_list;
/// use sansh_core::cipher::CipherAlgorithm;
/// let list = parse_algorithm_list("aes128-ctr,aes256-ctr", CipherAlgorithm::from_name).unwrap();
/// assert_eq!(list, [CipherAlgorithm::Aes128Ctr, CipherAlgorithm::Aes256Ctr]);
/// assert!(parse_algorithm_list("rot13", CipherAlgorithm::from_name).is_err());
/// ```
pub fn parse_algorithm_list<T>(
    names: &str,
    from_name: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, crate::error::ApiMisuse> {
    names
        .split(',')
        .map(|name| {
            from_name(name).ok_or_else(|| {
                crate::error::ApiMisuse::InvalidConfig(format!("unknown algorithm {name:?}"))
            })
        })
        .collect()
}

/// Bounds on what a peer can make us buffer or wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest packet_length accepted from the peer (OpenSSH: 256 KiB).
    pub max_packet_len: u32,
    /// Largest decompressed payload.
    pub max_inflated_payload: usize,
    /// Most lines a client accepts before the server's identification string.
    pub max_preamble_lines: usize,
    /// Most bytes of upper-layer messages held back while a key exchange runs; past
    /// this the application is told to wait (and a peer stalling the exchange fails).
    pub max_queued_during_kex: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_packet_len: 256 * 1024,
            max_inflated_payload: 256 * 1024,
            max_preamble_lines: 1024,
            max_queued_during_kex: 4 * 1024 * 1024,
        }
    }
}

/// Settings shared by clients and servers.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Algorithm preferences.
    pub algorithms: Algorithms,
    /// The software-version part of our identification string (`SSH-2.0-<this>`).
    pub software_version: String,
    /// Rekey after this many bytes in either direction; `None` uses the RFC 4344 §3.2
    /// limit of the negotiated cipher (as OpenSSH does).
    pub rekey_after_bytes: Option<u64>,
    /// Rekey after this much time; `None` never rekeys by time.
    pub rekey_after: Option<Duration>,
    /// A key exchange that takes longer than this fails the connection.
    pub kex_timeout: Duration,
    /// Offer strict key exchange (the Terrapin countermeasure).
    pub strict_kex: bool,
    /// Limits on what the peer can make us hold.
    pub limits: Limits,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            algorithms: Algorithms::default(),
            software_version: concat!("sansh_", env!("CARGO_PKG_VERSION")).to_owned(),
            rekey_after_bytes: None,
            rekey_after: Some(Duration::from_secs(3600)),
            kex_timeout: Duration::from_secs(120),
            strict_kex: true,
            limits: Limits::default(),
        }
    }
}

/// Configuration of a client connection.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// Transport settings.
    pub transport: TransportConfig,
    /// The group sizes asked for in diffie-hellman-group-exchange.
    pub gex: GexRequest,
    /// User authentication settings.
    pub auth: ClientAuthConfig,
}

/// Configuration of a server.
#[derive(Debug, Default)]
pub struct ServerConfig {
    /// Transport settings.
    pub transport: TransportConfig,
    /// Host keys; at least one is required.
    pub host_keys: Vec<PrivateKey>,
    /// User authentication settings.
    pub auth: ServerAuthConfig,
}

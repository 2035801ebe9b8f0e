//! Configuration: algorithm preferences, limits and timers of a client or server.

use std::time::Duration;

use crate::auth::{ClientAuthConfig, ServerAuthConfig};
use crate::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use crate::error::ApiMisuse;
use crate::kex::{GexRequest, KexAlgorithm};
use crate::keys::{CertType, Certificate, PrivateKey, SignatureAlgorithm};

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
    /// Host certificate algorithms (`ssh-ed25519-cert-v01@openssh.com`, ...; PROTOCOL.certkeys),
    /// named by the signature algorithm of the certified key. Offered before the plain
    /// [`host_key`](Self::host_key) algorithms, as OpenSSH does, and only for algorithms
    /// also in that list (narrowing it narrows these too): a client accepts a
    /// certificate in place of a plain key; a server offers those its
    /// [`host_certificates`](ServerConfig::host_certificates) can sign with. Empty: never.
    pub host_certificate: Vec<SignatureAlgorithm>,
    /// Ciphers, used for both directions; by default [`CipherAlgorithm::preferred`].
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
            host_certificate: SignatureAlgorithm::DEFAULT_HOST_KEY.to_vec(),
            ciphers: CipherAlgorithm::preferred(),
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

/// Settings of the connection protocol (RFC 4254): channels, windows, keepalives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// The receive window we give the peer on each channel (RFC 4254 §5.2). It bounds
    /// how much channel data the peer can make us buffer; credit is given back with
    /// WINDOW_ADJUST once the application has read half of it.
    pub window_size: u32,
    /// The largest channel data packet we accept (RFC 4254 §5.1). With its message
    /// header and padding it must fit in [`Limits::max_packet_len`].
    pub max_packet_size: u32,
    /// Most channels open (or being opened) at once; the peer's opens past this are
    /// refused with `resource shortage`.
    pub max_channels: usize,
    /// Most bytes a channel holds for sending while the peer's window is closed; past
    /// this a write returns `Blocked`.
    pub max_buffered_per_channel: usize,
    /// Most requests awaiting an answer, per channel and for global requests: the
    /// application's undecided ones and ours queued for sending. A peer piling up
    /// more is disconnected.
    pub max_pending_requests: usize,
    /// Probe the peer with `keepalive@openssh.com` after this much silence (OpenSSH's
    /// `ServerAliveInterval` / `ClientAliveInterval`); `None` never probes.
    pub keepalive_interval: Option<Duration>,
    /// Disconnect once this many probes in a row went unanswered (OpenSSH's
    /// `ServerAliveCountMax` / `ClientAliveCountMax`).
    pub keepalive_max: u32,
    /// (Server) Announce our host keys with `hostkeys-00@openssh.com` after
    /// authentication, so clients can learn new ones (OpenSSH PROTOCOL §2.5).
    pub announce_host_keys: bool,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            window_size: 2 * 1024 * 1024,
            max_packet_size: 32 * 1024,
            max_channels: 256,
            max_buffered_per_channel: 1024 * 1024,
            max_pending_requests: 256,
            keepalive_interval: None,
            keepalive_max: 3,
            announce_host_keys: true,
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
    /// Connection protocol settings (channels, keepalives).
    pub connection: ConnectionConfig,
}

/// Configuration of a server.
#[derive(Debug, Default)]
pub struct ServerConfig {
    /// Transport settings.
    pub transport: TransportConfig,
    /// Host keys; at least one is required.
    pub host_keys: Vec<PrivateKey>,
    /// OpenSSH host certificates of some of the [`host_keys`](Self::host_keys)
    /// (`ssh-keygen -s CA -h`), presented to clients that accept certificates (sshd's
    /// `HostCertificate`). Each must be a host certificate of one of the keys.
    pub host_certificates: Vec<Certificate>,
    /// User authentication settings.
    pub auth: ServerAuthConfig,
    /// Connection protocol settings (channels, keepalives).
    pub connection: ConnectionConfig,
}

impl ServerConfig {
    /// Checks that the configuration can run: some host key signs with one of the
    /// configured host key algorithms, and every host certificate is a host
    /// certificate of one of the host keys (a client would otherwise be shown one
    /// the server cannot sign for). Every new connection checks it; call it at
    /// start-up to report a bad configuration before the first client comes.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidConfig`] saying what is wrong.
    pub fn check(&self) -> Result<(), ApiMisuse> {
        let usable = self.transport.algorithms.host_key.iter().any(|alg| {
            alg.can_sign()
                && self
                    .host_keys
                    .iter()
                    .any(|k| k.signature_algorithms().contains(alg))
        });
        if !usable {
            return Err(ApiMisuse::InvalidConfig(
                "no host key can sign with the configured host key algorithms".into(),
            ));
        }
        for certificate in &self.host_certificates {
            let id = certificate.key_id();
            if certificate.cert_type() != CertType::Host {
                return Err(ApiMisuse::InvalidConfig(format!(
                    "host certificate {id:?} is a user certificate"
                )));
            }
            if !self
                .host_keys
                .iter()
                .any(|k| k.public_key() == *certificate.key())
            {
                return Err(ApiMisuse::InvalidConfig(format!(
                    "host certificate {id:?} certifies none of the host keys"
                )));
            }
        }
        Ok(())
    }
}

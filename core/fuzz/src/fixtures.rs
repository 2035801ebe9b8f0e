//! What the parser targets share: fixed keys and certificates (made once, from a seeded
//! generator), the fixed passphrase and wall-clock time, and the split of an input into
//! a file and the query run against it.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sansh_core::crypto::SeededRandom;
use sansh_core::keys::{CertType, Certificate, CertificateBuilder, KeyType, PrivateKey};

/// The passphrase the private key target tries (and its encrypted seeds use).
pub const PASSPHRASE: &[u8] = b"fuzz";

/// The user name the fixed user certificate is issued to.
pub const USER: &str = "fuzz-user";

/// The host name the fixed host certificate is issued to.
pub const HOST: &str = "host.example";

/// Start of the fixed certificates' validity window (2023-11-14, Unix seconds).
pub const VALID_AFTER: u64 = 1_700_000_000;

/// End of the fixed certificates' validity window.
pub const VALID_BEFORE: u64 = 1_800_000_000;

/// The wall-clock time every target judges certificates and expiry at: inside the
/// fixed certificates' window.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

/// The fixed keys and certificates.
pub struct Fixtures {
    /// A certificate authority (Ed25519).
    pub ca: PrivateKey,
    /// A host key (ECDSA P-256), certified by `host_cert`.
    pub host_key: PrivateKey,
    /// A user key (Ed25519), certified by `user_cert`.
    pub user_key: PrivateKey,
    /// A host certificate for [`HOST`] signed by `ca`.
    pub host_cert: Certificate,
    /// A user certificate for [`USER`] signed by `ca`.
    pub user_cert: Certificate,
}

/// The fixtures, made on first use.
///
/// # Panics
/// When key generation or signing fails, which no input can cause.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let rng = &mut SeededRandom::new(0x5eed);
        let generate = |key_type, rng: &mut SeededRandom| {
            PrivateKey::generate(key_type, None, rng).expect("key")
        };
        let ca = generate(KeyType::Ed25519, rng);
        let host_key = generate(KeyType::EcdsaP256, rng);
        let user_key = generate(KeyType::Ed25519, rng);
        let ca_alg = ca.signature_algorithms()[0];
        let host_cert = CertificateBuilder::new(host_key.public_key(), CertType::Host)
            .serial(1)
            .key_id("fuzz host")
            .principal(HOST)
            .validity(VALID_AFTER, VALID_BEFORE)
            .sign(&ca, ca_alg, rng)
            .expect("sign the host certificate");
        let user_cert = CertificateBuilder::new(user_key.public_key(), CertType::User)
            .serial(2)
            .key_id("fuzz user")
            .principal(USER)
            .validity(VALID_AFTER, VALID_BEFORE)
            .source_address("10.0.0.0/8,::1")
            .sign(&ca, ca_alg, rng)
            .expect("sign the user certificate");
        Fixtures {
            ca,
            host_key,
            user_key,
            host_cert,
            user_cert,
        }
    })
}

/// Splits an input at its first NUL byte into the file text (lossy UTF-8) and the
/// query bytes after it (empty when there is no NUL).
pub fn split_file_and_query(data: &[u8]) -> (String, &[u8]) {
    let (file, query) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    (String::from_utf8_lossy(file).into_owned(), query)
}

/// Reads query fields off the front of the bytes after the file, yielding zeros and
/// empty strings once they run out, so every input makes a complete query.
pub struct Query<'a>(&'a [u8]);

impl<'a> Query<'a> {
    /// A query over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next `N` bytes (zero-filled past the end).
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for byte in &mut out {
            *byte = self.u8();
        }
        out
    }

    /// The text up to the next `\n` (or the end), lossy UTF-8.
    pub fn line(&mut self) -> String {
        let end = self.0.iter().position(|&b| b == b'\n');
        let (line, rest) = match end {
            Some(at) => (&self.0[..at], &self.0[at + 1..]),
            None => (self.0, &[][..]),
        };
        self.0 = rest;
        String::from_utf8_lossy(line).into_owned()
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

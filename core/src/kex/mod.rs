//! The key exchange methods of SSH, the exchange hash and key derivation.
//!
//! The transport negotiates a [`KexAlgorithm`] in KEXINIT, then hands every message
//! numbered 30..=49 to a [`ClientKex`] or [`ServerKex`]. When the method is done, the
//! client gets a [`KexReply`] (host key, signature, shared secret `K` and the
//! method-specific part of the exchange hash) and the server a [`ServerReply`]; the
//! transport computes [`exchange_hash`], signs or verifies it, and after NEWKEYS derives
//! the keys with [`derive_key`]. Host keys, signatures, NEWKEYS and ciphers are the
//! transport's business, not this module's.
//!
//! Supported methods:
//! - `mlkem768x25519-sha256` (draft-ietf-sshm-mlkem-hybrid-kex, as OpenSSH 10 does it),
//! - `sntrup761x25519-sha512` and its `@openssh.com` alias (as OpenSSH does it),
//! - `curve25519-sha256` and `curve25519-sha256@libssh.org` ([RFC 8731]),
//! - `ecdh-sha2-nistp256/384/521` ([RFC 5656 §4]),
//! - `diffie-hellman-group-exchange-sha256` ([RFC 4419]), with the RFC 3526 MODP primes
//!   of 2048..8192 bits as the server's groups,
//! - `diffie-hellman-group14-sha256`, `-group16-sha512`, `-group18-sha512` ([RFC 8268])
//!   and `diffie-hellman-group14-sha1` ([RFC 4253 §8]).
//!
//! Every random value (ephemeral keys, exponents, the sntrup761 seeds) is drawn from the
//! `rng` argument, so a seeded generator reproduces the same messages byte for byte, with
//! one exception: aws-lc-rs generates ML-KEM-768 key pairs and encapsulates with its own
//! internal generator and offers no seeded variant, so the ML-KEM part of
//! `mlkem768x25519-sha256` messages differs from run to run (its X25519 part does not).
//!
//! Every value the peer sends is validated before use: finite-field public values must lie
//! in `[2, p-2]`, ECDH points must be uncompressed and on the curve, X25519 results must
//! not be all-zero, KEM blobs must have their exact sizes, and a group-exchange group must
//! be within the requested size with a sane generator.
//!
//! [RFC 8731]: https://www.rfc-editor.org/rfc/rfc8731
//! [RFC 5656 §4]: https://www.rfc-editor.org/rfc/rfc5656#section-4
//! [RFC 4419]: https://www.rfc-editor.org/rfc/rfc4419
//! [RFC 8268]: https://www.rfc-editor.org/rfc/rfc8268
//! [RFC 4253 §8]: https://www.rfc-editor.org/rfc/rfc4253#section-8

mod algorithms;
mod client;
mod curve25519;
mod derive;
mod dh;
mod ecdh;
mod error;
mod gex;
mod groups;
mod hash;
mod hybrid;
mod messages;
mod mlkem;
mod server;
mod sntrup;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;

use zeroize::Zeroizing;

pub use algorithms::KexAlgorithm;
pub use client::{ClientKex, ClientKexStep, KexReply};
pub use derive::{ExchangeHashInput, derive_key, exchange_hash};
pub use error::KexError;
pub use gex::GexRequest;
pub use hash::{HashAlgorithm, Hasher};
pub use server::{ServerKex, ServerKexStep, ServerReply};

use crate::wire::Writer;

/// The shared secret `K`, already encoded the way it enters the exchange hash and the key
/// derivation: an `mpint` for finite-field DH, ECDH and curve25519, a `string` for the
/// hybrid KEM methods (as OpenSSH does). Zeroized on drop.
pub struct SharedSecret(Zeroizing<Vec<u8>>);

impl SharedSecret {
    /// The encoded form: the bytes to feed to the exchange hash and [`derive_key`].
    pub fn encoded(&self) -> &[u8] {
        &self.0
    }

    /// Wraps an already encoded secret, for known-answer tests and tools that replay a
    /// recorded exchange; a key exchange method builds its own.
    pub fn from_encoded(encoded: &[u8]) -> Self {
        Self(Zeroizing::new(encoded.to_vec()))
    }

    /// Encodes a big-endian unsigned integer as an `mpint`.
    pub(crate) fn from_mpint_magnitude(magnitude: &[u8]) -> Self {
        // Sized for the worst case (length, sign byte) so the buffer never reallocates
        // and leaves no unzeroized copy behind.
        let mut out = Zeroizing::new(Vec::with_capacity(magnitude.len() + 5));
        out.put_mpint_unsigned(magnitude);
        Self(out)
    }

    /// Encodes raw bytes as a `string`.
    pub(crate) fn from_string_bytes(bytes: &[u8]) -> Self {
        let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() + 4));
        out.put_string(bytes);
        Self(out)
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(..)")
    }
}

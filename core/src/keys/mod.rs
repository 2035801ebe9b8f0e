//! SSH keys: types, wire blobs, signatures, key files and certificates.
//!
//! Everything an SSH user keeps in `~/.ssh`, read and written as OpenSSH does. Parsers
//! take bytes or text; nothing here touches the filesystem.
//!
//! - [`KeyType`] and [`SignatureAlgorithm`] name what SSH negotiates.
//! - [`PublicKey`] parses and writes public key blobs (RFC 4253 §6.6, RFC 5656 §3.1,
//!   RFC 8709 §4) and verifies signature blobs.
//! - [`PrivateKey`] generates keys and signs; its secrets are zeroized on drop.
//! - OpenSSH public key lines, fingerprints ([`FingerprintHash`]) and randomart are
//!   methods of [`PublicKey`].
//! - OpenSSH private key files (PROTOCOL.key), plain or encrypted with one of the
//!   [`OpenSshCipher`]s, are read and written by [`PrivateKey::from_openssh`] and
//!   [`PrivateKey::to_openssh`].
//! - [`Certificate`]s (PROTOCOL.certkeys) are parsed, checked against a
//!   [`CertificateCheck`] and made by a CA with [`CertificateBuilder`].
//!
//! Randomness comes in as a [`SecureRandom`](crate::crypto::SecureRandom) argument.
//! Ed25519 and ECDSA keys are drawn from it (so a seeded generator reproduces them);
//! RSA generation and ECDSA signing nonces are aws-lc's own, because aws-lc-rs accepts
//! no injected randomness for them.

mod certificate;
mod certificate_builder;
mod certificate_check;
mod cipher;
mod der;
mod ecdsa;
mod ed25519;
mod error;
mod fingerprint;
mod openssh_private;
mod openssh_public;
mod private;
mod public;
mod randomart;
mod rsa;
mod types;

pub use certificate::{CertOption, CertType, Certificate, MAX_PRINCIPALS, critical, extension};
pub use certificate_builder::CertificateBuilder;
pub use certificate_check::{CertificateCheck, CertificateError, DEFAULT_CA_ALGORITHMS};
pub use cipher::OpenSshCipher;
pub use error::KeyError;
pub use fingerprint::FingerprintHash;
pub use openssh_private::{DEFAULT_KDF_ROUNDS, MAX_KDF_ROUNDS, OpenSshEncryption};
pub use private::{DEFAULT_RSA_BITS, PrivateKey};
pub use public::PublicKey;
pub use types::{KeyType, SignatureAlgorithm};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

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
//! - PKCS#1, SEC1 and PKCS#8 private keys (DER or PEM, encrypted or not) and
//!   SubjectPublicKeyInfo / PKCS#1 public keys: [`PrivateKey::from_pem`],
//!   [`PrivateKey::to_pem`], [`PublicKey::from_pem`] and the `*_der` methods.
//! - [`Certificate`]s (PROTOCOL.certkeys) are parsed, checked against a
//!   [`CertificateCheck`] and made by a CA with [`CertificateBuilder`].
//!
//! ```
//! use sansh_core::crypto::SeededRandom;
//! use sansh_core::keys::{KeyType, OpenSshEncryption, PrivateKey, PublicKey};
//!
//! let rng = &mut SeededRandom::new(1);
//! let mut key = PrivateKey::generate(KeyType::Ed25519, None, rng)?;
//! key.set_comment("alice@example");
//!
//! // Sign and verify an SSH signature blob.
//! let alg = key.signature_algorithms()[0];
//! let signature = key.sign(alg, b"exchange hash", rng)?;
//! key.public_key().verify(alg, b"exchange hash", &signature)?;
//!
//! // Write id_ed25519 and id_ed25519.pub as ssh-keygen would, and read them back.
//! let file = key.to_openssh(Some(&OpenSshEncryption::new(b"passphrase")), rng)?;
//! let line = key.public_key().to_openssh(key.comment());
//! let loaded = PrivateKey::from_openssh(&file, Some(b"passphrase"))?;
//! let (public, comment) = PublicKey::from_openssh(&line)?;
//! assert_eq!(loaded.public_key(), public);
//! assert_eq!(comment, "alice@example");
//! assert!(public.fingerprint_sha256().starts_with("SHA256:"));
//! # Ok::<(), sansh_core::keys::KeyError>(())
//! ```
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
mod pbe;
mod pem;
mod pkcs;
mod private;
mod public;
mod randomart;
mod rfc4716;
mod rsa;
mod types;

pub use certificate::{CertOption, CertType, Certificate, MAX_PRINCIPALS, critical, extension};
pub use certificate_builder::CertificateBuilder;
pub use certificate_check::{CertificateCheck, CertificateError, DEFAULT_CA_ALGORITHMS};
pub use cipher::OpenSshCipher;
pub use error::KeyError;
pub use fingerprint::FingerprintHash;
pub use openssh_private::{DEFAULT_KDF_ROUNDS, MAX_KDF_ROUNDS, OpenSshEncryption};
pub use pbe::{
    CbcCipher, DEFAULT_PBKDF2_ITERATIONS, MAX_PBKDF2_ITERATIONS, Pbkdf2Prf, Pkcs8Encryption,
};
pub use pem::PemFormat;
pub use private::{DEFAULT_RSA_BITS, PrivateKey};
pub use public::PublicKey;
pub use types::{KeyType, SignatureAlgorithm};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

//! Private keys: generation and signing.

use super::ecdsa::{Curve, EcdsaPrivate};
use super::ed25519::Ed25519Private;
use super::public::KeyData;
use super::rsa::RsaPrivate;
use super::{KeyError, KeyType, PublicKey, SignatureAlgorithm};
use crate::crypto::SecureRandom;
use crate::wire::Writer;

/// RSA modulus size used when the caller names none (ssh-keygen's default).
pub const DEFAULT_RSA_BITS: u32 = 3072;

/// A private key of one of the supported [`KeyType`]s.
///
/// Secret material is held in zeroizing buffers and inside aws-lc objects (whose
/// allocator cleanses memory on free), so it is wiped when the key is dropped. `Debug`
/// prints the type and public fingerprint only.
pub struct PrivateKey {
    pub(crate) inner: PrivateData,
    pub(crate) comment: String,
}

/// The algorithm-specific contents of a private key.
pub(crate) enum PrivateData {
    Ed25519(Ed25519Private),
    Ecdsa(EcdsaPrivate),
    Rsa(Box<RsaPrivate>),
}

impl PrivateKey {
    /// Generates a new key of `key_type`.
    ///
    /// Ed25519 seeds and ECDSA scalars are drawn from `rng`, so a seeded generator
    /// reproduces the same key. RSA keys come from aws-lc's own generator, which takes
    /// no injected randomness: they are never reproducible. `bits` applies to RSA only
    /// (2048, 3072, 4096 or 8192, the sizes aws-lc-rs generates; default 3072); for the
    /// other types it must be `None` or the type's own size.
    pub fn generate(
        key_type: KeyType,
        bits: Option<u32>,
        rng: &mut dyn SecureRandom,
    ) -> Result<Self, KeyError> {
        let inner = match (key_type, Curve::of(key_type)) {
            (KeyType::Rsa, _) => PrivateData::Rsa(Box::new(RsaPrivate::generate(
                bits.unwrap_or(DEFAULT_RSA_BITS),
            )?)),
            (KeyType::Ed25519, _) => {
                check_fixed_bits(key_type, bits, 256)?;
                PrivateData::Ed25519(Ed25519Private::generate(rng)?)
            }
            (_, Some(curve)) => {
                let size = match curve {
                    Curve::P256 => 256,
                    Curve::P384 => 384,
                    Curve::P521 => 521,
                };
                check_fixed_bits(key_type, bits, size)?;
                PrivateData::Ecdsa(EcdsaPrivate::generate(curve, rng)?)
            }
            (_, None) => return Err(KeyError::UnknownKeyType(key_type.name().into())),
        };
        Ok(Self::from_data(inner))
    }

    pub(crate) fn from_data(inner: PrivateData) -> Self {
        Self {
            inner,
            comment: String::new(),
        }
    }

    /// The key's comment (stored in key files; empty for a generated key).
    pub fn comment(&self) -> &str {
        &self.comment
    }

    /// Replaces the key's comment.
    pub fn set_comment(&mut self, comment: impl Into<String>) {
        self.comment = comment.into();
    }

    /// The public half of the key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(match &self.inner {
            PrivateData::Ed25519(k) => KeyData::Ed25519(k.public().clone()),
            PrivateData::Ecdsa(k) => KeyData::Ecdsa(k.public().clone()),
            PrivateData::Rsa(k) => KeyData::Rsa(k.public().clone()),
        })
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match &self.inner {
            PrivateData::Ed25519(_) => KeyType::Ed25519,
            PrivateData::Ecdsa(k) => k.public().curve.key_type(),
            PrivateData::Rsa(_) => KeyType::Rsa,
        }
    }

    /// The signature algorithms this key can sign with, in preference order.
    pub fn signature_algorithms(&self) -> &'static [SignatureAlgorithm] {
        self.key_type().signature_algorithms()
    }

    /// Signs `data` with `alg`, returning the SSH signature blob
    /// (`string algorithm || string signature`, RFC 4253 §6.6).
    ///
    /// Ed25519 and RSA signatures are deterministic. ECDSA takes its nonce from aws-lc's
    /// own generator (aws-lc-rs accepts no injected nonce), so ECDSA signatures differ
    /// from run to run; `rng` is accepted for the day that changes and is not used now.
    pub fn sign(
        &self,
        alg: SignatureAlgorithm,
        data: &[u8],
        rng: &mut dyn SecureRandom,
    ) -> Result<Vec<u8>, KeyError> {
        let _ = rng;
        if alg.key_type() != self.key_type() {
            return Err(KeyError::AlgorithmKeyMismatch {
                alg,
                key_type: self.key_type(),
            });
        }
        if !alg.can_sign() {
            return Err(KeyError::SigningNotSupported(alg));
        }
        let sig = match &self.inner {
            PrivateData::Ed25519(k) => k.sign(data)?,
            PrivateData::Ecdsa(k) => k.sign(data)?,
            PrivateData::Rsa(k) => k.sign(alg, data)?,
        };
        let mut blob = Vec::with_capacity(sig.len() + alg.name().len() + 8);
        blob.put_string(alg.name().as_bytes());
        blob.put_string(&sig);
        Ok(blob)
    }
}

fn check_fixed_bits(key_type: KeyType, bits: Option<u32>, size: u32) -> Result<(), KeyError> {
    match bits {
        None => Ok(()),
        Some(b) if b == size => Ok(()),
        Some(b) => Err(KeyError::KeySizeNotApplicable { key_type, bits: b }),
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("type", &self.key_type().name())
            .field("public", &self.public_key().fingerprint_sha256())
            .finish_non_exhaustive()
    }
}

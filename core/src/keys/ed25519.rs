//! Ed25519 keys and signatures for SSH (RFC 8709).

use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair as _};
use zeroize::Zeroizing;

use super::KeyError;
use crate::crypto::SecureRandom;
use crate::wire::{Reader, Writer};

/// Length of an Ed25519 public key, seed and half a signature.
pub(crate) const KEY_LEN: usize = 32;
/// Length of an Ed25519 signature (RFC 8032 §5.1.6).
const SIGNATURE_LEN: usize = 64;

/// An Ed25519 public key: the 32-byte encoded point.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Ed25519Public(pub(crate) [u8; KEY_LEN]);

impl Ed25519Public {
    /// Reads the key field that follows the type name in a blob (RFC 8709 §4).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, KeyError> {
        Self::from_bytes(r.string()?)
    }

    /// Takes the raw 32-byte key.
    pub(crate) fn from_bytes(raw: &[u8]) -> Result<Self, KeyError> {
        let key: [u8; KEY_LEN] = raw
            .try_into()
            .map_err(|_| KeyError::InvalidEd25519Key(raw.len()))?;
        Ok(Self(key))
    }

    /// Writes the key field that follows the type name in a blob.
    pub(crate) fn write(&self, w: &mut impl Writer) {
        w.put_string(&self.0);
    }

    /// Verifies the raw signature `sig` (the string inside the signature blob).
    pub(crate) fn verify(&self, data: &[u8], sig: &[u8]) -> Result<(), KeyError> {
        if sig.len() != SIGNATURE_LEN {
            return Err(KeyError::MalformedSignature(
                super::SignatureAlgorithm::Ed25519,
            ));
        }
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.0)
            .verify(data, sig)
            .map_err(|_| KeyError::BadSignature)
    }
}

/// An Ed25519 private key: the RFC 8032 seed and the aws-lc key pair built from it.
pub(crate) struct Ed25519Private {
    seed: Zeroizing<[u8; KEY_LEN]>,
    pair: Ed25519KeyPair,
    public: Ed25519Public,
}

impl Ed25519Private {
    /// Draws a seed from `rng`.
    pub(crate) fn generate(rng: &mut dyn SecureRandom) -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(&mut seed[..]);
        Self::from_seed(&seed[..], None)
    }

    /// Builds the key from its seed; when `expected_public` is given it must match the
    /// public key the seed derives (a corrupt file is caught here).
    pub(crate) fn from_seed(seed: &[u8], expected_public: Option<&[u8]>) -> Result<Self, KeyError> {
        let seed: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(
            seed.try_into()
                .map_err(|_| KeyError::InvalidPrivateKey("Ed25519 seed is not 32 bytes"))?,
        );
        let pair = match expected_public {
            Some(public) => Ed25519KeyPair::from_seed_and_public_key(&seed[..], public)?,
            None => Ed25519KeyPair::from_seed_unchecked(&seed[..])?,
        };
        let public = Ed25519Public::from_bytes(pair.public_key().as_ref())?;
        Ok(Self { seed, pair, public })
    }

    /// The public half.
    pub(crate) fn public(&self) -> &Ed25519Public {
        &self.public
    }

    /// The 32-byte seed (RFC 8032 §5.1.5 private key).
    pub(crate) fn seed(&self) -> &[u8; KEY_LEN] {
        &self.seed
    }

    /// Signs `data`, returning the raw 64-byte signature.
    pub(crate) fn sign(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        Ok(self.pair.try_sign(data)?.as_ref().to_vec())
    }
}

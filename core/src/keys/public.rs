//! Public keys: SSH wire blobs and signature verification.

use super::ecdsa::{Curve, EcdsaPublic};
use super::ed25519::Ed25519Public;
use super::rsa::RsaPublic;
use super::{KeyError, KeyType, SignatureAlgorithm};
use crate::wire::{Reader, Writer};

/// A plain SSH public key of one of the supported [`KeyType`]s.
///
/// Built from a public key blob ([`PublicKey::from_blob`]) or from a private key; two
/// keys are equal when their blobs are.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey(pub(crate) KeyData);

/// The algorithm-specific contents of a public key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeyData {
    Ed25519(Ed25519Public),
    Ecdsa(EcdsaPublic),
    Rsa(RsaPublic),
}

impl PublicKey {
    /// Parses a public key blob: RFC 4253 §6.6 (`ssh-rsa`), RFC 5656 §3.1 (ECDSA) or
    /// RFC 8709 §4 (`ssh-ed25519`).
    ///
    /// Strict: no trailing bytes; mpints minimal and positive; an ECDSA curve name that
    /// matches the type and an uncompressed point on that curve; an Ed25519 key of 32
    /// bytes; an RSA modulus of 1024 to 16384 bits (OpenSSH's limits) and an odd
    /// exponent of at most 33 bits.
    pub fn from_blob(blob: &[u8]) -> Result<Self, KeyError> {
        let mut r = Reader::new(blob);
        let key = Self::read(&mut r)?;
        r.finish()?;
        Ok(key)
    }

    /// Reads a public key blob's fields from `r`, leaving any following bytes.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, KeyError> {
        let name = r.string()?;
        let key_type = std::str::from_utf8(name)
            .ok()
            .and_then(KeyType::from_name)
            .ok_or_else(|| KeyError::UnknownKeyType(String::from_utf8_lossy(name).into_owned()))?;
        Self::read_fields(key_type, r)
    }

    /// Reads the fields that follow the type name of a `key_type` blob.
    pub(crate) fn read_fields(key_type: KeyType, r: &mut Reader<'_>) -> Result<Self, KeyError> {
        let data = match (key_type, Curve::of(key_type)) {
            (KeyType::Ed25519, _) => KeyData::Ed25519(Ed25519Public::read(r)?),
            (KeyType::Rsa, _) => KeyData::Rsa(RsaPublic::read(r)?),
            (_, Some(curve)) => KeyData::Ecdsa(EcdsaPublic::read(curve, r)?),
            (_, None) => return Err(KeyError::UnknownKeyType(key_type.name().into())),
        };
        Ok(Self(data))
    }

    /// Encodes the key as its public key blob.
    pub fn to_blob(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// Appends the public key blob (type name included) to `w`.
    pub(crate) fn write(&self, w: &mut impl Writer) {
        w.put_string(self.key_type().name().as_bytes());
        self.write_fields(w);
    }

    /// Appends the fields that follow the type name.
    pub(crate) fn write_fields(&self, w: &mut impl Writer) {
        match &self.0 {
            KeyData::Ed25519(k) => k.write(w),
            KeyData::Ecdsa(k) => k.write(w),
            KeyData::Rsa(k) => k.write(w),
        }
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            KeyData::Ed25519(_) => KeyType::Ed25519,
            KeyData::Ecdsa(k) => k.curve.key_type(),
            KeyData::Rsa(_) => KeyType::Rsa,
        }
    }

    /// The key size in bits, as `ssh-keygen -l` prints it (256 for Ed25519, the curve
    /// size for ECDSA, the modulus size for RSA).
    pub fn bits(&self) -> usize {
        match &self.0 {
            KeyData::Ed25519(_) => 256,
            KeyData::Ecdsa(k) => match k.curve {
                Curve::P256 => 256,
                Curve::P384 => 384,
                Curve::P521 => 521,
            },
            KeyData::Rsa(k) => k.bits(),
        }
    }

    /// Verifies a signature blob (`string algorithm || string signature`, RFC 4253 §6.6)
    /// made with `alg` over `data`.
    ///
    /// The blob's algorithm name must equal `alg.name()` and `alg` must suit the key
    /// type. ECDSA signatures are the SSH form `mpint r || mpint s` (RFC 5656 §3.1.2).
    /// RSA keys over 8192 bits parse but cannot be verified with (an aws-lc limit).
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        data: &[u8],
        signature_blob: &[u8],
    ) -> Result<(), KeyError> {
        if alg.key_type() != self.key_type() {
            return Err(KeyError::AlgorithmKeyMismatch {
                alg,
                key_type: self.key_type(),
            });
        }
        let mut r = Reader::new(signature_blob);
        let name = r.string()?;
        if name != alg.name().as_bytes() {
            return Err(KeyError::SignatureAlgorithmMismatch {
                expected: alg,
                found: String::from_utf8_lossy(name).into_owned(),
            });
        }
        let sig = r.string()?;
        r.finish()?;
        match &self.0 {
            KeyData::Ed25519(k) => k.verify(data, sig),
            KeyData::Ecdsa(k) => k.verify(data, sig),
            KeyData::Rsa(k) => k.verify(alg, data, sig),
        }
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("type", &self.key_type().name())
            .field("bits", &self.bits())
            .field("fingerprint", &self.fingerprint_sha256())
            .finish()
    }
}

//! ECDSA keys and signatures over the NIST curves for SSH (RFC 5656).

use aws_lc_rs::agreement;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use zeroize::Zeroizing;

use super::{KeyError, KeyType, SignatureAlgorithm};
use crate::crypto::SecureRandom;
use crate::wire::{Reader, Writer};

/// How many scalars we draw before giving up; each draw is out of range with
/// probability below 2^-32 (P-256, P-384) or 2^-1 per bit of slack (P-521 after masking
/// to 521 bits: below 2^-260), so reaching this means the generator is broken.
const MAX_SCALAR_DRAWS: usize = 64;

/// One of the three NIST curves SSH names (RFC 5656 §10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The curve of an ECDSA key type.
    pub(crate) fn of(key_type: KeyType) -> Option<Self> {
        match key_type {
            KeyType::EcdsaP256 => Some(Curve::P256),
            KeyType::EcdsaP384 => Some(Curve::P384),
            KeyType::EcdsaP521 => Some(Curve::P521),
            KeyType::Ed25519 | KeyType::Rsa => None,
        }
    }

    /// The key type that uses this curve.
    pub(crate) fn key_type(self) -> KeyType {
        match self {
            Curve::P256 => KeyType::EcdsaP256,
            Curve::P384 => KeyType::EcdsaP384,
            Curve::P521 => KeyType::EcdsaP521,
        }
    }

    /// The signature algorithm of this curve (the hash is fixed by the curve size).
    pub(crate) fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Curve::P256 => SignatureAlgorithm::EcdsaP256,
            Curve::P384 => SignatureAlgorithm::EcdsaP384,
            Curve::P521 => SignatureAlgorithm::EcdsaP521,
        }
    }

    /// The curve identifier inside blobs (RFC 5656 §6.1).
    pub(crate) fn identifier(self) -> &'static str {
        match self {
            Curve::P256 => "nistp256",
            Curve::P384 => "nistp384",
            Curve::P521 => "nistp521",
        }
    }

    /// Bytes in a field element, a scalar, and each half of a fixed signature.
    pub(crate) fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// Bytes in an uncompressed point (0x04 || x || y, SEC 1 §2.3.3).
    fn point_len(self) -> usize {
        1 + 2 * self.field_len()
    }

    fn verification(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
            Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
        }
    }

    fn signing(self) -> &'static signature::EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }

    fn agreement(self) -> &'static agreement::Algorithm {
        match self {
            Curve::P256 => &agreement::ECDH_P256,
            Curve::P384 => &agreement::ECDH_P384,
            Curve::P521 => &agreement::ECDH_P521,
        }
    }
}

/// An ECDSA public key: its curve and uncompressed point, checked to lie on the curve.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct EcdsaPublic {
    pub(crate) curve: Curve,
    pub(crate) point: Box<[u8]>,
}

impl EcdsaPublic {
    /// Reads the fields that follow the type name in a blob: the curve identifier,
    /// which must match the type (RFC 5656 §3.1), then the point.
    pub(crate) fn read(curve: Curve, r: &mut Reader<'_>) -> Result<Self, KeyError> {
        let identifier = r.string()?;
        if identifier != curve.identifier().as_bytes() {
            return Err(KeyError::CurveMismatch {
                key_type: curve.key_type(),
                curve: String::from_utf8_lossy(identifier).into_owned(),
            });
        }
        Self::from_point(curve, r.string()?)
    }

    /// Takes an uncompressed point, refusing compressed forms and points off the curve.
    pub(crate) fn from_point(curve: Curve, point: &[u8]) -> Result<Self, KeyError> {
        if point.len() != curve.point_len() || point.first() != Some(&0x04) {
            return Err(KeyError::InvalidEcPoint(curve.key_type()));
        }
        signature::ParsedPublicKey::new(curve.verification(), point)
            .map_err(|_| KeyError::InvalidEcPoint(curve.key_type()))?;
        Ok(Self {
            curve,
            point: point.into(),
        })
    }

    /// Writes the fields that follow the type name in a blob.
    pub(crate) fn write(&self, w: &mut impl Writer) {
        w.put_string(self.curve.identifier().as_bytes());
        w.put_string(&self.point);
    }

    /// Verifies `sig`, the SSH form `mpint r || mpint s` (RFC 5656 §3.1.2).
    pub(crate) fn verify(&self, data: &[u8], sig: &[u8]) -> Result<(), KeyError> {
        let fixed = ssh_to_fixed(self.curve, sig)?;
        signature::UnparsedPublicKey::new(self.curve.verification(), &self.point[..])
            .verify(data, &fixed)
            .map_err(|_| KeyError::BadSignature)
    }
}

/// Converts `mpint r || mpint s` to the fixed `r || s` form aws-lc verifies, each half
/// left-padded to the field length.
fn ssh_to_fixed(curve: Curve, sig: &[u8]) -> Result<Vec<u8>, KeyError> {
    let malformed = || KeyError::MalformedSignature(curve.signature_algorithm());
    let mut r = Reader::new(sig);
    let (sig_r, sig_s) = (
        r.mpint_unsigned().map_err(|_| malformed())?,
        r.mpint_unsigned().map_err(|_| malformed())?,
    );
    r.finish().map_err(|_| malformed())?;
    let n = curve.field_len();
    if sig_r.len() > n || sig_s.len() > n {
        return Err(malformed());
    }
    let mut fixed = vec![0u8; 2 * n];
    fixed[n - sig_r.len()..n].copy_from_slice(sig_r);
    fixed[2 * n - sig_s.len()..].copy_from_slice(sig_s);
    Ok(fixed)
}

/// An ECDSA private key: the scalar (fixed length, big-endian) and the aws-lc key pair.
pub(crate) struct EcdsaPrivate {
    scalar: Zeroizing<Vec<u8>>,
    pair: EcdsaKeyPair,
    public: EcdsaPublic,
}

impl EcdsaPrivate {
    /// Draws a scalar from `rng`, redrawing the rare values outside `1..order`.
    pub(crate) fn generate(curve: Curve, rng: &mut dyn SecureRandom) -> Result<Self, KeyError> {
        let mut scalar = Zeroizing::new(vec![0u8; curve.field_len()]);
        for _ in 0..MAX_SCALAR_DRAWS {
            rng.fill(&mut scalar);
            if curve == Curve::P521 {
                // 66 bytes hold 528 bits; the order has 521, so keep only the low bit of
                // the top byte to make most draws land in range.
                scalar[0] &= 0x01;
            }
            if scalar.iter().all(|&b| b == 0) {
                continue;
            }
            match Self::from_scalar(curve, &scalar, None) {
                Ok(key) => return Ok(key),
                Err(KeyError::InvalidPrivateKey(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(KeyError::RandomScalar)
    }

    /// Builds the key from its scalar (big-endian, leading zeros optional); when
    /// `expected_point` is given it must be the point the scalar derives.
    pub(crate) fn from_scalar(
        curve: Curve,
        scalar: &[u8],
        expected_point: Option<&[u8]>,
    ) -> Result<Self, KeyError> {
        let n = curve.field_len();
        let start = scalar.iter().position(|&b| b != 0).unwrap_or(scalar.len());
        let magnitude = &scalar[start..];
        if magnitude.is_empty() || magnitude.len() > n {
            return Err(KeyError::InvalidPrivateKey("ECDSA scalar out of range"));
        }
        let mut fixed = Zeroizing::new(vec![0u8; n]);
        fixed[n - magnitude.len()..].copy_from_slice(magnitude);

        let ecdh = agreement::PrivateKey::from_private_key(curve.agreement(), &fixed)?;
        let point = ecdh.compute_public_key()?;
        if let Some(expected) = expected_point {
            if expected != point.as_ref() {
                return Err(KeyError::InvalidPrivateKey(
                    "ECDSA public point does not match the scalar",
                ));
            }
        }
        let pair =
            EcdsaKeyPair::from_private_key_and_public_key(curve.signing(), &fixed, point.as_ref())?;
        let public = EcdsaPublic::from_point(curve, pair.public_key().as_ref())?;
        Ok(Self {
            scalar: fixed,
            pair,
            public,
        })
    }

    /// The public half.
    pub(crate) fn public(&self) -> &EcdsaPublic {
        &self.public
    }

    /// The scalar, big-endian, padded to the field length.
    pub(crate) fn scalar(&self) -> &[u8] {
        &self.scalar
    }

    /// Signs `data`, returning the SSH form `mpint r || mpint s`.
    ///
    /// The nonce is aws-lc's own (it takes no injected randomness), so signatures are
    /// not reproducible even under a seeded generator.
    pub(crate) fn sign(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        // aws-lc-rs ignores this argument; its trait is sealed so ours cannot stand in.
        let unused = aws_lc_rs::rand::SystemRandom::new();
        let fixed = self.pair.sign(&unused, data)?;
        let (r, s) = fixed.as_ref().split_at(self.public.curve.field_len());
        let mut out = Vec::with_capacity(fixed.as_ref().len() + 10);
        out.put_mpint_unsigned(r);
        out.put_mpint_unsigned(s);
        Ok(out)
    }
}

//! The error type of the keys module.

use super::{KeyType, SignatureAlgorithm};
use crate::wire::WireError;

/// Why a key, a signature or a key file was refused.
///
/// Each variant names one thing that was wrong, so that a caller (or a log) can tell a
/// corrupt blob from a wrong algorithm from a failed signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A blob does not decode (truncated field, trailing bytes, bad mpint).
    #[error("malformed encoding: {0}")]
    Wire(#[from] WireError),
    /// The key type name is not one we support.
    #[error("unsupported key type {0:?}")]
    UnknownKeyType(String),
    /// The signature algorithm name is not one we support.
    #[error("unsupported signature algorithm {0:?}")]
    UnknownSignatureAlgorithm(String),
    /// An ECDSA blob's curve identifier does not match its key type (RFC 5656 §3.1).
    #[error("{key_type} key names curve {curve:?}")]
    CurveMismatch {
        /// The key type the blob opened with.
        key_type: KeyType,
        /// The curve identifier it carried.
        curve: String,
    },
    /// An ECDSA public point is not an uncompressed point on the key type's curve.
    #[error("invalid {0} public point")]
    InvalidEcPoint(KeyType),
    /// An Ed25519 public key is not 32 bytes.
    #[error("Ed25519 public key is {0} bytes, expected 32")]
    InvalidEd25519Key(usize),
    /// An RSA modulus is outside the accepted size range (or even).
    #[error("RSA modulus of {bits} bits is not accepted (range {min}..={max}, odd)")]
    InvalidRsaModulus {
        /// The modulus size in bits.
        bits: usize,
        /// The smallest size accepted here.
        min: usize,
        /// The largest size accepted here.
        max: usize,
    },
    /// An RSA public exponent is not an odd number between 3 and 2^33.
    #[error("RSA public exponent is not an odd number between 3 and 2^33")]
    InvalidRsaExponent,
    /// A signature blob names a different algorithm than the one expected.
    #[error("signature blob names {found:?}, expected {expected}")]
    SignatureAlgorithmMismatch {
        /// The algorithm the caller required.
        expected: SignatureAlgorithm,
        /// The algorithm name found in the blob.
        found: String,
    },
    /// The signature algorithm does not belong to the key's type.
    #[error("signature algorithm {alg} cannot be used with a {key_type} key")]
    AlgorithmKeyMismatch {
        /// The signature algorithm asked for.
        alg: SignatureAlgorithm,
        /// The key's type.
        key_type: KeyType,
    },
    /// The signature inside the blob is not well formed for its algorithm.
    #[error("malformed {0} signature")]
    MalformedSignature(SignatureAlgorithm),
    /// The signature is well formed but does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// The algorithm is verify-only (`ssh-rsa`: aws-lc-rs cannot sign with SHA-1).
    #[error("{0} signatures can be verified but not made")]
    SigningNotSupported(SignatureAlgorithm),
    /// An RSA key of this size cannot be used for this operation.
    #[error("RSA keys of {0} bits are not supported here")]
    UnsupportedRsaSize(usize),
    /// A size was given for a key type whose size is fixed by the type.
    #[error("{key_type} keys have a fixed size; {bits} bits cannot be chosen")]
    KeySizeNotApplicable {
        /// The key type asked for.
        key_type: KeyType,
        /// The size asked for.
        bits: u32,
    },
    /// Private key components are inconsistent or unacceptable to aws-lc.
    #[error("private key rejected: {0}")]
    InvalidPrivateKey(&'static str),
    /// A DER structure (PKCS#1, SEC1, PKCS#8, SubjectPublicKeyInfo) is malformed.
    #[error("malformed DER: {0}")]
    MalformedDer(&'static str),
    /// Text that should hold base64 does not decode.
    #[error("invalid base64")]
    InvalidBase64,
    /// A public key line has fewer than the two fields `type base64`.
    #[error("not an OpenSSH public key line (expected `type base64 [comment]`)")]
    MalformedPublicKeyLine,
    /// The type named at the start of a line or file differs from the key inside.
    #[error("text names key type {text:?} but the key inside is {inner:?}")]
    KeyTypeMismatch {
        /// The type name in the text.
        text: String,
        /// The type name inside the encoded key.
        inner: String,
    },
    /// The text is not the expected PEM-style armored block.
    #[error("expected a {expected} block")]
    MissingArmor {
        /// The armor label that was looked for.
        expected: &'static str,
    },
    /// A binary OpenSSH private key does not open with `openssh-key-v1\0`.
    #[error("not an OpenSSH private key (bad magic)")]
    NotOpenSshKey,
    /// The file is encrypted with a cipher we do not support.
    #[error("unsupported key file cipher {0:?}")]
    UnknownCipher(String),
    /// The file's key derivation function is not one we support.
    #[error("unsupported key derivation function {0:?}")]
    UnknownKdf(String),
    /// The key derivation asks for more rounds than we are willing to compute.
    #[error("key derivation asks for {0} rounds, above the limit of {max}", max = super::MAX_KDF_ROUNDS)]
    KdfRoundsTooHigh(u32),
    /// The file is encrypted and no passphrase was given.
    #[error("the key is encrypted: a passphrase is required")]
    PassphraseRequired,
    /// The passphrase does not decrypt the key (check numbers or tag mismatch).
    #[error("incorrect passphrase")]
    WrongPassphrase,
    /// The file holds a number of keys other than one (OpenSSH writes exactly one).
    #[error("key file holds {0} keys, expected 1")]
    KeyCount(u32),
    /// The private key inside does not match the public key stored beside it.
    #[error("private key does not match the public key stored with it")]
    PublicKeyMismatch,
    /// The key file is structurally corrupt in the way named.
    #[error("corrupt key file: {0}")]
    CorruptKeyFile(&'static str),
    /// A certificate is structurally invalid in the way named.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(&'static str),
    /// The random generator gave no usable scalar after many tries.
    #[error("could not derive a private scalar from the random generator")]
    RandomScalar,
    /// aws-lc reported an internal failure.
    #[error("cryptographic library failure")]
    Crypto,
}

impl From<aws_lc_rs::error::KeyRejected> for KeyError {
    fn from(e: aws_lc_rs::error::KeyRejected) -> Self {
        KeyError::InvalidPrivateKey(e.description_())
    }
}

impl From<aws_lc_rs::error::Unspecified> for KeyError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        KeyError::Crypto
    }
}

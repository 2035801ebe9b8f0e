//! RSA keys and signatures for SSH (RFC 4253 §6.6, RFC 8332).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, RsaEncoding, RsaParameters};
use zeroize::Zeroizing;

use super::der::{DerReader, OCTET_STRING};
use super::{KeyError, SignatureAlgorithm};
use crate::wire::{Reader, Writer};

/// Smallest modulus we accept, as OpenSSH's `SSH_RSA_MINIMUM_MODULUS_SIZE`.
pub(crate) const MIN_MODULUS_BITS: usize = 1024;
/// Largest modulus we parse, as OpenSSH's `SSHBUF_MAX_BIGNUM` allows (16384 bits).
pub(crate) const MAX_MODULUS_BITS: usize = 16384;
/// Largest modulus aws-lc-rs verifies or signs with.
const MAX_CRYPTO_MODULUS_BITS: usize = 8192;
/// Smallest modulus aws-lc-rs builds a private key from.
const MIN_PRIVATE_MODULUS_BITS: usize = 2048;
/// Largest public exponent aws-lc accepts (BoringSSL's `kMaxExponentBits`).
const MAX_EXPONENT_BITS: usize = 33;

/// The bit length of a big-endian magnitude without leading zeros.
pub(crate) fn bit_len(magnitude: &[u8]) -> usize {
    match magnitude.first() {
        Some(&top) => magnitude.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// An RSA public key: exponent and modulus as minimal big-endian magnitudes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct RsaPublic {
    pub(crate) e: Box<[u8]>,
    pub(crate) n: Box<[u8]>,
}

impl RsaPublic {
    /// Reads `mpint e, mpint n`, the fields after the type name (RFC 4253 §6.6).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, KeyError> {
        let e = r.mpint_unsigned()?;
        let n = r.mpint_unsigned()?;
        Self::from_components(e, n)
    }

    /// Checks and takes the exponent and modulus (leading zeros are stripped).
    pub(crate) fn from_components(e: &[u8], n: &[u8]) -> Result<Self, KeyError> {
        let e = strip_zeros(e);
        let n = strip_zeros(n);
        let bits = bit_len(n);
        let odd = |m: &[u8]| m.last().is_some_and(|b| b & 1 == 1);
        if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) || !odd(n) {
            return Err(KeyError::InvalidRsaModulus {
                bits,
                min: MIN_MODULUS_BITS,
                max: MAX_MODULUS_BITS,
            });
        }
        if !odd(e) || bit_len(e) > MAX_EXPONENT_BITS || e == [1] {
            return Err(KeyError::InvalidRsaExponent);
        }
        Ok(Self {
            e: e.into(),
            n: n.into(),
        })
    }

    /// Writes the fields after the type name.
    pub(crate) fn write(&self, w: &mut impl Writer) {
        w.put_mpint_unsigned(&self.e);
        w.put_mpint_unsigned(&self.n);
    }

    /// Modulus size in bits.
    pub(crate) fn bits(&self) -> usize {
        bit_len(&self.n)
    }

    /// Verifies a raw PKCS#1 v1.5 signature made with `alg`.
    ///
    /// As OpenSSH does, a signature shorter than the modulus is left-padded with zeros
    /// (some signers drop leading zero bytes); a longer one is refused.
    pub(crate) fn verify(
        &self,
        alg: SignatureAlgorithm,
        data: &[u8],
        sig: &[u8],
    ) -> Result<(), KeyError> {
        let params: &RsaParameters = match alg {
            SignatureAlgorithm::RsaSha2_512 => {
                &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
            }
            SignatureAlgorithm::RsaSha2_256 => {
                &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
            }
            SignatureAlgorithm::SshRsa => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            _ => {
                return Err(KeyError::AlgorithmKeyMismatch {
                    alg,
                    key_type: super::KeyType::Rsa,
                });
            }
        };
        if self.bits() > MAX_CRYPTO_MODULUS_BITS {
            return Err(KeyError::UnsupportedRsaSize(self.bits()));
        }
        if sig.len() > self.n.len() || sig.is_empty() {
            return Err(KeyError::MalformedSignature(alg));
        }
        let mut padded = vec![0u8; self.n.len()];
        padded[self.n.len() - sig.len()..].copy_from_slice(sig);
        PublicKeyComponents {
            n: &self.n[..],
            e: &self.e[..],
        }
        .verify(params, data, &padded)
        .map_err(|_| KeyError::BadSignature)
    }
}

fn strip_zeros(m: &[u8]) -> &[u8] {
    let start = m.iter().position(|&b| b != 0).unwrap_or(m.len());
    &m[start..]
}

/// A secret big-endian magnitude.
pub(crate) type Secret = Zeroizing<Vec<u8>>;

/// The secret components of an RSA key, each a big-endian magnitude.
pub(crate) struct RsaSecrets {
    pub(crate) d: Zeroizing<Vec<u8>>,
    pub(crate) p: Zeroizing<Vec<u8>>,
    pub(crate) q: Zeroizing<Vec<u8>>,
    pub(crate) dp: Zeroizing<Vec<u8>>,
    pub(crate) dq: Zeroizing<Vec<u8>>,
    pub(crate) iqmp: Zeroizing<Vec<u8>>,
}

/// An RSA private key: public part, secret components (kept for export) and the aws-lc
/// key pair that signs.
pub(crate) struct RsaPrivate {
    public: RsaPublic,
    secrets: RsaSecrets,
    pair: KeyPair,
}

impl RsaPrivate {
    /// Generates a key of `bits` bits with aws-lc's own generator.
    ///
    /// aws-lc-rs offers no way to inject randomness into RSA generation, so RSA keys
    /// are never reproducible from a seed. Only 2048, 3072, 4096 and 8192 bits are
    /// offered by aws-lc-rs.
    pub(crate) fn generate(bits: u32) -> Result<Self, KeyError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => return Err(KeyError::UnsupportedRsaSize(other as usize)),
        };
        let pair = KeyPair::generate(size)?;
        let pkcs8 = pair.as_der()?;
        Self::from_pkcs8_info(pkcs8.as_ref())
    }

    /// Reads the RSAPrivateKey (RFC 8017 §A.1.2) inside a PKCS#8 PrivateKeyInfo
    /// (RFC 5208 §5), whose algorithm the caller has already identified as RSA.
    fn from_pkcs8_info(der: &[u8]) -> Result<Self, KeyError> {
        let mut outer = DerReader::new(der);
        let mut info = outer.sequence("PrivateKeyInfo")?;
        info.small_uint("PrivateKeyInfo version")?;
        info.sequence("AlgorithmIdentifier")?;
        let inner = info.expect(OCTET_STRING, "PrivateKeyInfo privateKey")?;
        Self::from_pkcs1(inner)
    }

    /// Reads a PKCS#1 RSAPrivateKey (RFC 8017 §A.1.2), two-prime only.
    pub(crate) fn from_pkcs1(der: &[u8]) -> Result<Self, KeyError> {
        let mut outer = DerReader::new(der);
        let mut seq = outer.sequence("RSAPrivateKey")?;
        outer.finish()?;
        if seq.small_uint("RSAPrivateKey version")? != 0 {
            return Err(KeyError::MalformedDer(
                "multi-prime RSA keys are not supported",
            ));
        }
        let n = seq.uint("RSA n")?;
        let e = seq.uint("RSA e")?;
        let mut secret = |what| seq.uint(what).map(|v| Zeroizing::new(v.to_vec()));
        let secrets = RsaSecrets {
            d: secret("RSA d")?,
            p: secret("RSA p")?,
            q: secret("RSA q")?,
            dp: secret("RSA dP")?,
            dq: secret("RSA dQ")?,
            iqmp: secret("RSA qInv")?,
        };
        seq.finish()?;
        Self::from_parts(RsaPublic::from_components(e, n)?, secrets)
    }

    /// Builds the key from all its components; aws-lc checks they agree.
    pub(crate) fn from_parts(public: RsaPublic, secrets: RsaSecrets) -> Result<Self, KeyError> {
        let bits = public.bits();
        if !(MIN_PRIVATE_MODULUS_BITS..=MAX_CRYPTO_MODULUS_BITS).contains(&bits) {
            return Err(KeyError::UnsupportedRsaSize(bits));
        }
        let components = KeyPairComponents {
            public_key: PublicKeyComponents {
                n: &public.n[..],
                e: &public.e[..],
            },
            d: &secrets.d[..],
            p: &secrets.p[..],
            q: &secrets.q[..],
            dP: &secrets.dp[..],
            dQ: &secrets.dq[..],
            qInv: &secrets.iqmp[..],
        };
        let pair = KeyPair::from_components(&components)?;
        Ok(Self {
            public,
            secrets,
            pair,
        })
    }

    /// The public half.
    pub(crate) fn public(&self) -> &RsaPublic {
        &self.public
    }

    /// The secret components.
    pub(crate) fn secrets(&self) -> &RsaSecrets {
        &self.secrets
    }

    /// Signs `data` with rsa-sha2-256 or rsa-sha2-512 (PKCS#1 v1.5, deterministic).
    pub(crate) fn sign(&self, alg: SignatureAlgorithm, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let encoding: &'static dyn RsaEncoding = match alg {
            SignatureAlgorithm::RsaSha2_512 => &signature::RSA_PKCS1_SHA512,
            SignatureAlgorithm::RsaSha2_256 => &signature::RSA_PKCS1_SHA256,
            SignatureAlgorithm::SshRsa => return Err(KeyError::SigningNotSupported(alg)),
            _ => {
                return Err(KeyError::AlgorithmKeyMismatch {
                    alg,
                    key_type: super::KeyType::Rsa,
                });
            }
        };
        let mut out = vec![0u8; self.pair.public_modulus_len()];
        // aws-lc-rs ignores this argument; its trait is sealed so ours cannot stand in.
        let unused = aws_lc_rs::rand::SystemRandom::new();
        self.pair.sign(encoding, &unused, data, &mut out)?;
        Ok(out)
    }
}

/// Computes the CRT exponents `d mod (p-1)` and `d mod (q-1)` that OpenSSH files omit
/// (PROTOCOL.key stores n, e, d, iqmp, p, q) but aws-lc needs.
///
/// Uses crypto-bigint's constant-time division, as these are secrets.
pub(crate) fn crt_exponents(d: &[u8], p: &[u8], q: &[u8]) -> Result<(Secret, Secret), KeyError> {
    use crypto_bigint::{BoxedUint, NonZero};

    let bits = |m: &[u8]| u32::try_from(m.len() * 8).map_err(|_| KeyError::Crypto);
    let d = Zeroizing::new(
        BoxedUint::from_be_slice(d, bits(d)?.max(64))
            .map_err(|_| KeyError::InvalidPrivateKey("RSA d"))?,
    );
    let reduce = |prime: &[u8]| -> Result<Secret, KeyError> {
        let prime = Zeroizing::new(
            BoxedUint::from_be_slice(prime, bits(prime)?.max(64))
                .map_err(|_| KeyError::InvalidPrivateKey("RSA prime"))?,
        );
        let one = BoxedUint::one_with_precision(prime.bits_precision());
        let minus_one = Zeroizing::new(prime.wrapping_sub(&one));
        let modulus = Zeroizing::new(
            Option::<NonZero<BoxedUint>>::from(NonZero::new(BoxedUint::clone(&minus_one)))
                .ok_or(KeyError::InvalidPrivateKey("RSA prime is 0 or 1"))?,
        );
        let rem = Zeroizing::new(d.rem(&*modulus));
        Ok(Zeroizing::new(rem.to_be_bytes().to_vec()))
    };
    Ok((reduce(p)?, reduce(q)?))
}

//! Passphrase-based encryption of private keys outside the OpenSSH format:
//! PKCS#8 `EncryptedPrivateKeyInfo` with PBES2 (RFC 8018 §6.2, PBKDF2 + AES-CBC) and
//! legacy OpenSSL PEM encryption (`DEK-Info`, key from MD5 `EVP_BytesToKey`).

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{
    self, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::pbkdf2;
use md5::{Digest as _, Md5};
use zeroize::Zeroizing;

use super::der::{self, DerReader, NULL, OCTET_STRING, OID};
use super::{KeyError, PrivateKey};
use crate::crypto::SecureRandom;

/// PBES2, 1.2.840.113549.1.5.13.
const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
/// PBKDF2, 1.2.840.113549.1.5.12.
const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
/// hmacWithSHA1 .. hmacWithSHA512, 1.2.840.113549.2.{7,9,10,11}.
const OID_HMAC_PREFIX: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02];
/// aes128-CBC .. aes256-CBC, 2.16.840.1.101.3.4.1.{2,22,42}.
const OID_AES_PREFIX: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01];

/// PBKDF2 iterations OpenSSL (and so `ssh-keygen -m PKCS8`) uses by default.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 2048;
/// The most PBKDF2 iterations we compute when reading a file (a hostile file could
/// ask for billions).
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// The cap `pbkdf2_key` applies. Fuzz builds (`--cfg fuzzing`) lower it so that one
/// hostile input costs milliseconds, not seconds; everything else uses
/// [`MAX_PBKDF2_ITERATIONS`].
#[cfg(not(fuzzing))]
const PBKDF2_ITERATIONS_CAP: u32 = MAX_PBKDF2_ITERATIONS;
#[cfg(fuzzing)]
const PBKDF2_ITERATIONS_CAP: u32 = 4096;

/// The pseudo-random function of PBKDF2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pbkdf2Prf {
    /// hmacWithSHA1 (the default when the field is absent).
    HmacSha1,
    /// hmacWithSHA256 (what OpenSSL 3 writes).
    HmacSha256,
    /// hmacWithSHA384.
    HmacSha384,
    /// hmacWithSHA512.
    HmacSha512,
}

impl Pbkdf2Prf {
    fn oid_suffix(self) -> u8 {
        match self {
            Pbkdf2Prf::HmacSha1 => 7,
            Pbkdf2Prf::HmacSha256 => 9,
            Pbkdf2Prf::HmacSha384 => 10,
            Pbkdf2Prf::HmacSha512 => 11,
        }
    }

    fn algorithm(self) -> pbkdf2::Algorithm {
        match self {
            Pbkdf2Prf::HmacSha1 => pbkdf2::PBKDF2_HMAC_SHA1,
            Pbkdf2Prf::HmacSha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            Pbkdf2Prf::HmacSha384 => pbkdf2::PBKDF2_HMAC_SHA384,
            Pbkdf2Prf::HmacSha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
}

/// An AES-CBC cipher for key encryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CbcCipher {
    /// AES-128-CBC.
    Aes128Cbc,
    /// AES-192-CBC.
    Aes192Cbc,
    /// AES-256-CBC.
    Aes256Cbc,
}

impl CbcCipher {
    pub(crate) fn key_len(self) -> usize {
        match self {
            CbcCipher::Aes128Cbc => 16,
            CbcCipher::Aes192Cbc => 24,
            CbcCipher::Aes256Cbc => 32,
        }
    }

    fn oid_suffix(self) -> u8 {
        match self {
            CbcCipher::Aes128Cbc => 2,
            CbcCipher::Aes192Cbc => 22,
            CbcCipher::Aes256Cbc => 42,
        }
    }

    /// The name in a legacy PEM `DEK-Info` header.
    pub(crate) fn pem_name(self) -> &'static str {
        match self {
            CbcCipher::Aes128Cbc => "AES-128-CBC",
            CbcCipher::Aes192Cbc => "AES-192-CBC",
            CbcCipher::Aes256Cbc => "AES-256-CBC",
        }
    }

    pub(crate) fn from_pem_name(name: &str) -> Option<Self> {
        [
            CbcCipher::Aes128Cbc,
            CbcCipher::Aes192Cbc,
            CbcCipher::Aes256Cbc,
        ]
        .into_iter()
        .find(|c| c.pem_name() == name)
    }

    fn algorithm(self) -> &'static cipher::Algorithm {
        match self {
            CbcCipher::Aes128Cbc => &cipher::AES_128,
            CbcCipher::Aes192Cbc => &cipher::AES_192,
            CbcCipher::Aes256Cbc => &cipher::AES_256,
        }
    }

    pub(crate) fn encrypt(
        self,
        key: &[u8],
        iv: &[u8; 16],
        data: &mut Vec<u8>,
    ) -> Result<(), KeyError> {
        let key =
            PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(self.algorithm(), key)?)?;
        key.less_safe_encrypt(data, EncryptionContext::Iv128((*iv).into()))?;
        Ok(())
    }

    /// Decrypts in place and strips the padding; a bad padding means a wrong key.
    pub(crate) fn decrypt(
        self,
        key: &[u8],
        iv: &[u8; 16],
        data: &mut Zeroizing<Vec<u8>>,
    ) -> Result<(), KeyError> {
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(KeyError::CorruptKeyFile(
                "ciphertext is not whole AES blocks",
            ));
        }
        let key =
            PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(self.algorithm(), key)?)?;
        let len = key
            .decrypt(data, DecryptionContext::Iv128((*iv).into()))
            .map_err(|_| KeyError::WrongPassphrase)?
            .len();
        data.truncate(len);
        Ok(())
    }
}

/// How to encrypt a PKCS#8 private key (PBES2).
#[derive(Clone, Copy)]
pub struct Pkcs8Encryption<'a> {
    /// The passphrase.
    pub passphrase: &'a [u8],
    /// The cipher (AES-256-CBC by default).
    pub cipher: CbcCipher,
    /// The PBKDF2 PRF (HMAC-SHA256 by default).
    pub prf: Pbkdf2Prf,
    /// PBKDF2 iterations ([`DEFAULT_PBKDF2_ITERATIONS`] by default).
    pub iterations: u32,
}

impl<'a> Pkcs8Encryption<'a> {
    /// AES-256-CBC, PBKDF2 with HMAC-SHA256 and OpenSSL's 2048 iterations.
    pub fn new(passphrase: &'a [u8]) -> Self {
        Self {
            passphrase,
            cipher: CbcCipher::Aes256Cbc,
            prf: Pbkdf2Prf::HmacSha256,
            iterations: DEFAULT_PBKDF2_ITERATIONS,
        }
    }
}

impl std::fmt::Debug for Pkcs8Encryption<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs8Encryption")
            .field("cipher", &self.cipher)
            .field("prf", &self.prf)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

fn pbkdf2_key(
    prf: Pbkdf2Prf,
    iterations: u32,
    salt: &[u8],
    passphrase: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if iterations > PBKDF2_ITERATIONS_CAP {
        return Err(KeyError::KdfRoundsTooHigh(iterations));
    }
    let iterations =
        NonZeroU32::new(iterations).ok_or(KeyError::CorruptKeyFile("zero PBKDF2 iterations"))?;
    let mut key = Zeroizing::new(vec![0u8; len]);
    pbkdf2::derive(prf.algorithm(), iterations, salt, passphrase, &mut key);
    Ok(key)
}

/// The parameters of a PBES2 `EncryptedPrivateKeyInfo`.
struct Pbes2<'a> {
    salt: &'a [u8],
    iterations: u32,
    prf: Pbkdf2Prf,
    cipher: CbcCipher,
    iv: [u8; 16],
    data: &'a [u8],
}

fn unsupported(oid: &[u8]) -> KeyError {
    KeyError::UnsupportedAlgorithm(der::oid_to_string(oid))
}

impl<'a> Pbes2<'a> {
    fn parse(input: &'a [u8]) -> Result<Self, KeyError> {
        let mut outer = DerReader::new(input);
        let mut info = outer.sequence("EncryptedPrivateKeyInfo")?;
        outer.finish()?;
        let mut alg = info.sequence("encryptionAlgorithm")?;
        let data = info.expect(OCTET_STRING, "encryptedData")?;
        info.finish()?;
        let scheme = alg.expect(OID, "encryption scheme")?;
        if scheme != OID_PBES2 {
            return Err(unsupported(scheme));
        }
        let mut params = alg.sequence("PBES2-params")?;
        alg.finish()?;
        let mut kdf = params.sequence("keyDerivationFunc")?;
        let mut enc = params.sequence("encryptionScheme")?;
        params.finish()?;

        let kdf_oid = kdf.expect(OID, "KDF")?;
        if kdf_oid != OID_PBKDF2 {
            return Err(unsupported(kdf_oid));
        }
        let mut pbkdf2 = kdf.sequence("PBKDF2-params")?;
        kdf.finish()?;
        let salt = pbkdf2.expect(OCTET_STRING, "PBKDF2 salt")?;
        let iterations = u32::try_from(pbkdf2.small_uint("PBKDF2 iterations")?)
            .map_err(|_| KeyError::KdfRoundsTooHigh(u32::MAX))?;
        let key_len = match pbkdf2.peek_tag() {
            Some(der::INTEGER) => Some(pbkdf2.small_uint("PBKDF2 keyLength")?),
            _ => None,
        };
        let prf = match pbkdf2.optional(der::SEQUENCE)? {
            None => Pbkdf2Prf::HmacSha1,
            Some(body) => {
                let mut r = DerReader::new(body);
                let oid = r.expect(OID, "PBKDF2 prf")?;
                r.optional(NULL)?;
                r.finish()?;
                [
                    Pbkdf2Prf::HmacSha1,
                    Pbkdf2Prf::HmacSha256,
                    Pbkdf2Prf::HmacSha384,
                    Pbkdf2Prf::HmacSha512,
                ]
                .into_iter()
                .find(|p| oid.strip_prefix(OID_HMAC_PREFIX) == Some(&[p.oid_suffix()]))
                .ok_or_else(|| unsupported(oid))?
            }
        };
        pbkdf2.finish()?;

        let enc_oid = enc.expect(OID, "cipher")?;
        let cipher = [
            CbcCipher::Aes128Cbc,
            CbcCipher::Aes192Cbc,
            CbcCipher::Aes256Cbc,
        ]
        .into_iter()
        .find(|c| enc_oid.strip_prefix(OID_AES_PREFIX) == Some(&[c.oid_suffix()]))
        .ok_or_else(|| unsupported(enc_oid))?;
        let iv: [u8; 16] = enc
            .expect(OCTET_STRING, "AES-CBC IV")?
            .try_into()
            .map_err(|_| KeyError::MalformedDer("AES-CBC IV is not 16 bytes"))?;
        enc.finish()?;
        if key_len.is_some_and(|l| l != cipher.key_len() as u64) {
            return Err(KeyError::MalformedDer(
                "PBKDF2 keyLength does not fit the cipher",
            ));
        }
        Ok(Self {
            salt,
            iterations,
            prf,
            cipher,
            iv,
            data,
        })
    }
}

impl PrivateKey {
    /// Reads a PKCS#8 `EncryptedPrivateKeyInfo` (DER) encrypted with PBES2 (PBKDF2 with
    /// HMAC-SHA1/256/384/512, AES-128/192/256-CBC).
    pub fn from_encrypted_pkcs8_der(der: &[u8], passphrase: &[u8]) -> Result<Self, KeyError> {
        let p = Pbes2::parse(der)?;
        let key = pbkdf2_key(p.prf, p.iterations, p.salt, passphrase, p.cipher.key_len())?;
        let mut plain = Zeroizing::new(p.data.to_vec());
        p.cipher.decrypt(&key, &p.iv, &mut plain)?;
        // A wrong key passes the padding check about once in 256 tries; the DER then
        // fails to parse, which is the same mistake.
        Self::from_pkcs8_der(&plain).map_err(|e| match e {
            KeyError::MalformedDer(_) | KeyError::Wire(_) => KeyError::WrongPassphrase,
            other => other,
        })
    }

    /// Writes the key as a PKCS#8 `EncryptedPrivateKeyInfo` (DER) with PBES2; the salt
    /// (16 bytes) and IV come from `rng`.
    pub fn to_encrypted_pkcs8_der(
        &self,
        encryption: &Pkcs8Encryption<'_>,
        rng: &mut dyn SecureRandom,
    ) -> Result<Vec<u8>, KeyError> {
        if encryption.passphrase.is_empty() {
            return Err(KeyError::PassphraseRequired);
        }
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        rng.fill(&mut salt);
        rng.fill(&mut iv);
        let cipher = encryption.cipher;
        let key = pbkdf2_key(
            encryption.prf,
            encryption.iterations,
            &salt,
            encryption.passphrase,
            cipher.key_len(),
        )?;
        let mut data = self.to_pkcs8_der()?.to_vec();
        cipher.encrypt(&key, &iv, &mut data)?;

        let mut pbkdf2 = Vec::new();
        der::put_tlv(&mut pbkdf2, OCTET_STRING, &salt);
        der::put_uint(&mut pbkdf2, &encryption.iterations.to_be_bytes());
        if encryption.prf != Pbkdf2Prf::HmacSha1 {
            let mut prf = Vec::new();
            let mut oid = OID_HMAC_PREFIX.to_vec();
            oid.push(encryption.prf.oid_suffix());
            der::put_tlv(&mut prf, OID, &oid);
            der::put_tlv(&mut prf, NULL, &[]);
            pbkdf2.extend_from_slice(&der::sequence(&prf));
        }
        let mut kdf = Vec::new();
        der::put_tlv(&mut kdf, OID, OID_PBKDF2);
        kdf.extend_from_slice(&der::sequence(&pbkdf2));
        let mut enc = Vec::new();
        let mut oid = OID_AES_PREFIX.to_vec();
        oid.push(cipher.oid_suffix());
        der::put_tlv(&mut enc, OID, &oid);
        der::put_tlv(&mut enc, OCTET_STRING, &iv);
        let mut params = der::sequence(&kdf).to_vec();
        params.extend_from_slice(&der::sequence(&enc));
        let mut alg = Vec::new();
        der::put_tlv(&mut alg, OID, OID_PBES2);
        alg.extend_from_slice(&der::sequence(&params));
        let mut body = der::sequence(&alg).to_vec();
        der::put_tlv(&mut body, OCTET_STRING, &data);
        // Ciphertext only: nothing secret is left in these buffers.
        data.clear();
        Ok(der::sequence(&body).to_vec())
    }
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration, as legacy encrypted PEM uses:
/// `D_1 = MD5(pass || salt)`, `D_i = MD5(D_{i-1} || pass || salt)`, concatenated.
pub(crate) fn legacy_pem_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    while out.len() < len {
        let mut md5 = Md5::new();
        if let Some(p) = &previous {
            md5.update(&p[..]);
        }
        md5.update(passphrase);
        md5.update(salt);
        let block = Zeroizing::new(<[u8; 16]>::from(md5.finalize()));
        out.extend_from_slice(&block[..]);
        previous = Some(block);
    }
    out.truncate(len);
    out
}

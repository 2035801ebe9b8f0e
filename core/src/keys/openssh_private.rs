//! The OpenSSH private key format, `openssh-key-v1` (OpenSSH's PROTOCOL.key), plain and
//! encrypted with bcrypt-pbkdf.
//!
//! ```text
//! "openssh-key-v1\0" string cipher, string kdf, string kdfoptions, uint32 nkeys (=1),
//! string public key blob, string private section [|| AEAD tag]
//! private section: uint32 check, uint32 check, string type, key fields, string comment,
//!                  padding 1, 2, 3, ... to the cipher's block size
//! ```

use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use super::cipher::OpenSshCipher;
use super::ecdsa::{Curve, EcdsaPrivate, EcdsaPublic};
use super::ed25519::{self, Ed25519Private};
use super::private::PrivateData;
use super::rsa::{self, RsaPrivate, RsaPublic, RsaSecrets};
use super::{KeyError, KeyType, PrivateKey, PublicKey};
use crate::crypto::SecureRandom;
use crate::wire::{Reader, Writer};

const MAGIC: &[u8] = b"openssh-key-v1\0";
const LABEL: &str = "OPENSSH PRIVATE KEY";
/// ssh-keygen wraps the base64 at 70 columns.
const LINE_WIDTH: usize = 70;
const SALT_LEN: usize = 16;
/// Padding block size of an unencrypted private section.
const PLAIN_BLOCK_LEN: usize = 8;

/// bcrypt-pbkdf rounds ssh-keygen uses by default (`-a`).
pub const DEFAULT_KDF_ROUNDS: u32 = 16;
/// The most bcrypt-pbkdf rounds we compute when reading a file: a hostile file could
/// otherwise ask for billions. ssh-keygen's default is 16; 65536 takes minutes.
pub const MAX_KDF_ROUNDS: u32 = 1 << 16;
/// The cap [`derive`] applies. Fuzz builds (`--cfg fuzzing`) lower it so that one
/// hostile input costs milliseconds, not minutes; everything else uses
/// [`MAX_KDF_ROUNDS`].
#[cfg(not(fuzzing))]
const KDF_ROUNDS_CAP: u32 = MAX_KDF_ROUNDS;
#[cfg(fuzzing)]
const KDF_ROUNDS_CAP: u32 = 2;

/// How to encrypt an OpenSSH private key file.
#[derive(Clone, Copy)]
pub struct OpenSshEncryption<'a> {
    /// The passphrase. An empty one writes the key unencrypted, as ssh-keygen does.
    pub passphrase: &'a [u8],
    /// The cipher (ssh-keygen's default is aes256-ctr).
    pub cipher: OpenSshCipher,
    /// bcrypt-pbkdf rounds (ssh-keygen's default is 16).
    pub rounds: u32,
}

impl<'a> OpenSshEncryption<'a> {
    /// ssh-keygen's defaults: aes256-ctr and 16 rounds.
    pub fn new(passphrase: &'a [u8]) -> Self {
        Self {
            passphrase,
            cipher: OpenSshCipher::Aes256Ctr,
            rounds: DEFAULT_KDF_ROUNDS,
        }
    }
}

impl std::fmt::Debug for OpenSshEncryption<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSshEncryption")
            .field("cipher", &self.cipher)
            .field("rounds", &self.rounds)
            .finish_non_exhaustive()
    }
}

/// The outer fields of a key file, before decryption.
struct Container<'a> {
    cipher: Option<OpenSshCipher>,
    kdf_options: &'a [u8],
    public: PublicKey,
    private: &'a [u8],
    tag: &'a [u8],
}

impl<'a> Container<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, KeyError> {
        if !blob.starts_with(MAGIC) {
            return Err(KeyError::NotOpenSshKey);
        }
        let mut r = Reader::new(&blob[MAGIC.len()..]);
        let cipher_name = r.string()?;
        let kdf_name = r.string()?;
        let kdf_options = r.string()?;
        let cipher = match cipher_name {
            b"none" => None,
            name => Some(
                std::str::from_utf8(name)
                    .ok()
                    .and_then(OpenSshCipher::from_name)
                    .ok_or_else(|| {
                        KeyError::UnknownCipher(String::from_utf8_lossy(name).into_owned())
                    })?,
            ),
        };
        match (cipher, kdf_name) {
            (None, b"none") if kdf_options.is_empty() => {}
            (None, b"none") => return Err(KeyError::CorruptKeyFile("KDF options without a KDF")),
            (Some(_), b"bcrypt") => {}
            (None, b"bcrypt") => {
                return Err(KeyError::CorruptKeyFile("KDF given for an unencrypted key"));
            }
            (_, other) => {
                return Err(KeyError::UnknownKdf(
                    String::from_utf8_lossy(other).into_owned(),
                ));
            }
        }
        let count = r.u32()?;
        if count != 1 {
            return Err(KeyError::KeyCount(count));
        }
        let public = PublicKey::from_blob(r.string()?)?;
        let private = r.string()?;
        let tag = r.bytes(cipher.map_or(0, OpenSshCipher::tag_len))?;
        r.finish()?;
        let block = cipher.map_or(PLAIN_BLOCK_LEN, OpenSshCipher::block_len);
        if private.len() % block != 0 {
            return Err(KeyError::CorruptKeyFile(
                "private section is not a whole number of cipher blocks",
            ));
        }
        Ok(Self {
            cipher,
            kdf_options,
            public,
            private,
            tag,
        })
    }

    /// The private section in clear.
    fn decrypt(&self, passphrase: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let mut section = Zeroizing::new(self.private.to_vec());
        let Some(cipher) = self.cipher else {
            return Ok(section);
        };
        let passphrase = match passphrase {
            Some(p) if !p.is_empty() => p,
            _ => return Err(KeyError::PassphraseRequired),
        };
        let mut r = Reader::new(self.kdf_options);
        let salt = r.string()?;
        let rounds = r.u32()?;
        r.finish()?;
        let key_iv = derive(passphrase, salt, rounds, cipher)?;
        cipher.decrypt(&key_iv, &mut section, self.tag)?;
        Ok(section)
    }
}

fn derive(
    passphrase: &[u8],
    salt: &[u8],
    rounds: u32,
    cipher: OpenSshCipher,
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if rounds > KDF_ROUNDS_CAP {
        return Err(KeyError::KdfRoundsTooHigh(rounds));
    }
    let mut key_iv = Zeroizing::new(vec![0u8; cipher.key_len() + cipher.iv_len()]);
    bcrypt_pbkdf::bcrypt_pbkdf(passphrase, salt, rounds, &mut key_iv)
        .map_err(|_| KeyError::CorruptKeyFile("invalid bcrypt salt or rounds"))?;
    Ok(key_iv)
}

impl PrivateKey {
    /// Reads an OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE KEY-----`).
    ///
    /// An encrypted key needs `passphrase`; without one the error is
    /// [`KeyError::PassphraseRequired`], with a wrong one [`KeyError::WrongPassphrase`].
    /// The comment stored in the file becomes the key's comment.
    pub fn from_openssh(text: &str, passphrase: Option<&[u8]>) -> Result<Self, KeyError> {
        let blob = unarmor(text)?;
        Self::from_openssh_binary(&blob, passphrase)
    }

    /// Reads the binary form inside the armor (PROTOCOL.key).
    pub fn from_openssh_binary(blob: &[u8], passphrase: Option<&[u8]>) -> Result<Self, KeyError> {
        let container = Container::parse(blob)?;
        let section = container.decrypt(passphrase)?;
        let mut r = Reader::new(&section);
        let (check1, check2) = (r.u32()?, r.u32()?);
        if check1 != check2 {
            return Err(match container.cipher {
                Some(_) => KeyError::WrongPassphrase,
                None => KeyError::CorruptKeyFile("check numbers differ"),
            });
        }
        let mut key = read_private(&mut r)?;
        key.comment = String::from_utf8_lossy(r.string()?).into_owned();
        let padding = r.take_rest();
        let block = container
            .cipher
            .map_or(PLAIN_BLOCK_LEN, OpenSshCipher::block_len);
        let well_padded = padding.len() < block
            && padding
                .iter()
                .enumerate()
                .all(|(i, &b)| usize::from(b) == i + 1);
        if !well_padded {
            return Err(KeyError::CorruptKeyFile(
                "bad padding after the private key",
            ));
        }
        if key.public_key() != container.public {
            return Err(KeyError::PublicKeyMismatch);
        }
        Ok(key)
    }

    /// Writes the key as an OpenSSH private key file, encrypted when `encryption` is
    /// given with a non-empty passphrase. The key's comment is stored in the file.
    ///
    /// `rng` supplies the check numbers and the bcrypt salt.
    pub fn to_openssh(
        &self,
        encryption: Option<&OpenSshEncryption<'_>>,
        rng: &mut dyn SecureRandom,
    ) -> Result<Zeroizing<String>, KeyError> {
        let blob = self.to_openssh_binary(encryption, rng)?;
        Ok(armor(&blob))
    }

    /// Writes the binary form that goes inside the armor (PROTOCOL.key).
    pub fn to_openssh_binary(
        &self,
        encryption: Option<&OpenSshEncryption<'_>>,
        rng: &mut dyn SecureRandom,
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let encryption = encryption.filter(|e| !e.passphrase.is_empty());
        let cipher = encryption.map(|e| e.cipher);
        let block = cipher.map_or(PLAIN_BLOCK_LEN, OpenSshCipher::block_len);

        let mut section = Zeroizing::new(Vec::new());
        let mut check = [0u8; 4];
        rng.fill(&mut check);
        section.put_raw(&check);
        section.put_raw(&check);
        write_private(self, &mut section);
        section.put_string(self.comment.as_bytes());
        let pad = (block - section.len() % block) % block;
        for i in 1..=pad {
            section.put_u8(i as u8);
        }

        let mut out = Zeroizing::new(Vec::new());
        out.put_raw(MAGIC);
        let mut tag = Vec::new();
        match encryption {
            None => {
                out.put_string(b"none");
                out.put_string(b"none");
                out.put_string(b"");
            }
            Some(e) => {
                if e.rounds == 0 || e.rounds > MAX_KDF_ROUNDS {
                    return Err(KeyError::KdfRoundsTooHigh(e.rounds));
                }
                let mut salt = [0u8; SALT_LEN];
                rng.fill(&mut salt);
                let key_iv = derive(e.passphrase, &salt, e.rounds, e.cipher)?;
                tag = e.cipher.encrypt(&key_iv, &mut section)?;
                let mut options = Vec::new();
                options.put_string(&salt);
                options.put_u32(e.rounds);
                out.put_string(e.cipher.name().as_bytes());
                out.put_string(b"bcrypt");
                out.put_string(&options);
            }
        }
        out.put_u32(1);
        out.put_string(&self.public_key().to_blob());
        out.put_string(&section);
        out.put_raw(&tag);
        Ok(out)
    }
}

impl PublicKey {
    /// Reads the public key stored in clear in an OpenSSH private key file; no
    /// passphrase is needed, even when the private part is encrypted.
    pub fn from_openssh_private(text: &str) -> Result<Self, KeyError> {
        let blob = unarmor(text)?;
        Ok(Container::parse(&blob)?.public)
    }
}

/// Reads `string type` and the type's private fields (PROTOCOL.key, OpenSSH's
/// sshkey_private_serialize order).
fn read_private(r: &mut Reader<'_>) -> Result<PrivateKey, KeyError> {
    let name = r.string()?;
    let key_type = std::str::from_utf8(name)
        .ok()
        .and_then(KeyType::from_name)
        .ok_or_else(|| KeyError::UnknownKeyType(String::from_utf8_lossy(name).into_owned()))?;
    let inner = match (key_type, Curve::of(key_type)) {
        (KeyType::Ed25519, _) => {
            let public = r.string()?;
            let secret = r.string()?;
            if secret.len() != 2 * ed25519::KEY_LEN || secret[ed25519::KEY_LEN..] != *public {
                return Err(KeyError::CorruptKeyFile("malformed Ed25519 private key"));
            }
            PrivateData::Ed25519(Ed25519Private::from_seed(
                &secret[..ed25519::KEY_LEN],
                Some(public),
            )?)
        }
        (KeyType::Rsa, _) => {
            let n = r.mpint_unsigned()?;
            let e = r.mpint_unsigned()?;
            let d = r.mpint_unsigned()?;
            let iqmp = r.mpint_unsigned()?;
            let p = r.mpint_unsigned()?;
            let q = r.mpint_unsigned()?;
            // Check sizes before any arithmetic, so a hostile file cannot make us
            // divide numbers of megabits.
            let public = RsaPublic::from_components(e, n)?;
            if [d, p, q, iqmp].iter().any(|v| v.len() > public.n.len()) {
                return Err(KeyError::CorruptKeyFile(
                    "RSA private component longer than n",
                ));
            }
            let (dp, dq) = rsa::crt_exponents(d, p, q)?;
            let secrets = RsaSecrets {
                d: Zeroizing::new(d.to_vec()),
                p: Zeroizing::new(p.to_vec()),
                q: Zeroizing::new(q.to_vec()),
                dp,
                dq,
                iqmp: Zeroizing::new(iqmp.to_vec()),
            };
            PrivateData::Rsa(Box::new(RsaPrivate::from_parts(public, secrets)?))
        }
        (_, Some(curve)) => {
            let public = EcdsaPublic::read(curve, r)?;
            let scalar = r.mpint_unsigned()?;
            PrivateData::Ecdsa(EcdsaPrivate::from_scalar(
                curve,
                scalar,
                Some(&public.point),
            )?)
        }
        (_, None) => return Err(KeyError::UnknownKeyType(key_type.name().into())),
    };
    Ok(PrivateKey::from_data(inner))
}

fn write_private(key: &PrivateKey, w: &mut Zeroizing<Vec<u8>>) {
    w.put_string(key.key_type().name().as_bytes());
    match &key.inner {
        PrivateData::Ed25519(k) => {
            w.put_string(&k.public().0);
            let mut secret = Zeroizing::new([0u8; 2 * ed25519::KEY_LEN]);
            secret[..ed25519::KEY_LEN].copy_from_slice(k.seed());
            secret[ed25519::KEY_LEN..].copy_from_slice(&k.public().0);
            w.put_string(&secret[..]);
        }
        PrivateData::Ecdsa(k) => {
            k.public().write(w);
            w.put_mpint_unsigned(k.scalar());
        }
        PrivateData::Rsa(k) => {
            let s = k.secrets();
            w.put_mpint_unsigned(&k.public().n);
            w.put_mpint_unsigned(&k.public().e);
            w.put_mpint_unsigned(&s.d);
            w.put_mpint_unsigned(&s.iqmp);
            w.put_mpint_unsigned(&s.p);
            w.put_mpint_unsigned(&s.q);
        }
    }
}

/// Decodes the base64 between the BEGIN and END lines, ignoring line breaks and
/// surrounding text as OpenSSH does.
fn unarmor(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let begin = format!("-----BEGIN {LABEL}-----");
    let end = format!("-----END {LABEL}-----");
    let missing = || KeyError::MissingArmor {
        expected: "-----BEGIN OPENSSH PRIVATE KEY-----",
    };
    let start = text.find(&begin).ok_or_else(missing)? + begin.len();
    let stop = start + text[start..].find(&end).ok_or_else(missing)?;
    let body: Zeroizing<String> = Zeroizing::new(
        text[start..stop]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    Base64::decode_vec(&body)
        .map(Zeroizing::new)
        .map_err(|_| KeyError::InvalidBase64)
}

/// Base64 at 70 columns between the BEGIN and END lines, as ssh-keygen writes.
fn armor(blob: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(Base64::encode_string(blob));
    let mut out = Zeroizing::new(String::with_capacity(
        b64.len() + b64.len() / LINE_WIDTH + 80,
    ));
    out.push_str("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(LINE_WIDTH) {
        // base64 output is ASCII, so any chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    out
}

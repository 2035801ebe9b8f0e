//! The post-quantum hybrid methods: a KEM combined with X25519.
//!
//! `mlkem768x25519-sha256` (draft-ietf-sshm-mlkem-hybrid-kex, as OpenSSH 10 does it) and
//! `sntrup761x25519-sha512` (as OpenSSH does it) share one shape:
//!
//! ```text
//! C: SSH_MSG_KEX_HYBRID_INIT  (30) string C_INIT = KEM public key || X25519 public key
//! S: SSH_MSG_KEX_HYBRID_REPLY (31) string K_S || string S_REPLY || string signature
//!                                  S_REPLY = KEM ciphertext || X25519 public key
//! K = string HASH(KEM shared secret || X25519 shared secret)
//! ```
//! The hash body is `string C_INIT || string S_REPLY`, and `K` enters the exchange hash and
//! key derivation as that `string`, not as an mpint.

use zeroize::Zeroizing;

use super::curve25519::{self, X25519Key};
use super::messages::{self, ValueEncoding};
use super::{HashAlgorithm, KexError, KexReply, ServerReply, SharedSecret, mlkem, sntrup};
use crate::crypto::SecureRandom;
use crate::wire::msg;

/// The post-quantum half of a hybrid method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kem {
    /// ML-KEM-768, hashed with SHA-256.
    MlKem768,
    /// sntrup761, hashed with SHA-512.
    Sntrup761,
}

impl Kem {
    fn hash(self) -> HashAlgorithm {
        match self {
            Self::MlKem768 => HashAlgorithm::Sha256,
            Self::Sntrup761 => HashAlgorithm::Sha512,
        }
    }

    fn public_key_len(self) -> usize {
        match self {
            Self::MlKem768 => mlkem::PUBLIC_KEY_LEN,
            Self::Sntrup761 => sntrup::PUBLIC_KEY_LEN,
        }
    }

    fn ciphertext_len(self) -> usize {
        match self {
            Self::MlKem768 => mlkem::CIPHERTEXT_LEN,
            Self::Sntrup761 => sntrup::CIPHERTEXT_LEN,
        }
    }

    fn init_name(self) -> &'static str {
        match self {
            Self::MlKem768 => "mlkem768x25519 client blob (public key || X25519 key)",
            Self::Sntrup761 => "sntrup761x25519 client blob (public key || X25519 key)",
        }
    }

    fn reply_name(self) -> &'static str {
        match self {
            Self::MlKem768 => "mlkem768x25519 server blob (ciphertext || X25519 key)",
            Self::Sntrup761 => "sntrup761x25519 server blob (ciphertext || X25519 key)",
        }
    }

    /// The server's encapsulation to the client's KEM public key.
    fn encapsulate(
        self,
        public_key: &[u8],
        rng: &mut dyn SecureRandom,
    ) -> Result<(Vec<u8>, Zeroizing<[u8; 32]>), KexError> {
        match self {
            Self::MlKem768 => mlkem::encapsulate(public_key),
            Self::Sntrup761 => sntrup::encapsulate(public_key, rng),
        }
    }
}

/// The client's KEM private key.
enum KemKey {
    MlKem768(mlkem::ClientKey),
    Sntrup761(sntrup::ClientKey),
}

impl KemKey {
    fn generate(kem: Kem, rng: &mut dyn SecureRandom) -> Result<(Self, Vec<u8>), KexError> {
        match kem {
            Kem::MlKem768 => mlkem::generate().map(|(key, public)| (Self::MlKem768(key), public)),
            Kem::Sntrup761 => {
                let (key, public) = sntrup::generate(rng);
                Ok((Self::Sntrup761(key), public))
            }
        }
    }

    fn decapsulate(&self, ciphertext: &[u8]) -> Result<Zeroizing<[u8; 32]>, KexError> {
        match self {
            Self::MlKem768(key) => key.decapsulate(ciphertext),
            Self::Sntrup761(key) => key.decapsulate(ciphertext),
        }
    }
}

/// `K = string HASH(kem_secret || x25519_secret)`.
fn combine(hash: HashAlgorithm, kem_secret: &[u8], x25519_secret: &[u8]) -> SharedSecret {
    let mut h = hash.hasher();
    h.update(kem_secret);
    h.update(x25519_secret);
    let mut digest = Zeroizing::new(Vec::with_capacity(hash.output_len()));
    h.finish_into(&mut digest);
    SharedSecret::from_string_bytes(&digest)
}

/// Splits `blob` into its KEM part of `kem_len` bytes and its 32-byte X25519 key, after
/// checking the exact total length.
fn split<'a>(
    blob: &'a [u8],
    kem_len: usize,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), KexError> {
    let expected = kem_len + curve25519::KEY_LEN;
    if blob.len() != expected {
        return Err(KexError::WrongLength {
            what,
            len: blob.len(),
            expected,
        });
    }
    Ok(blob.split_at(kem_len))
}

/// The client side, waiting for HYBRID_REPLY.
pub(crate) struct Client {
    kem: Kem,
    kem_key: KemKey,
    x25519: X25519Key,
    c_init: Vec<u8>,
}

impl Client {
    /// Generates both key pairs; returns the state and the HYBRID_INIT payload.
    pub(crate) fn start(kem: Kem, rng: &mut dyn SecureRandom) -> Result<(Self, Vec<u8>), KexError> {
        let (kem_key, mut c_init) = KemKey::generate(kem, rng)?;
        let x25519 = X25519Key::generate(rng)?;
        c_init.extend_from_slice(x25519.public());
        let init = messages::encode_init(msg::KEXDH_INIT, ValueEncoding::String, &c_init);
        Ok((
            Self {
                kem,
                kem_key,
                x25519,
                c_init,
            },
            init,
        ))
    }

    /// Handles HYBRID_REPLY.
    pub(crate) fn finish(self, payload: &[u8]) -> Result<KexReply, KexError> {
        let reply = messages::parse_reply(payload, msg::KEXDH_REPLY, ValueEncoding::String)?;
        let (ciphertext, server_x25519) = split(
            reply.value,
            self.kem.ciphertext_len(),
            self.kem.reply_name(),
        )?;
        let x25519_secret = self.x25519.agree(server_x25519)?;
        let kem_secret = self.kem_key.decapsulate(ciphertext)?;
        Ok(KexReply {
            host_key_blob: reply.host_key.to_vec(),
            signature_blob: reply.signature.to_vec(),
            shared_secret: combine(self.kem.hash(), &kem_secret[..], &x25519_secret[..]),
            hash_body: messages::hash_body(ValueEncoding::String, &self.c_init, reply.value),
        })
    }
}

/// The server side: answers HYBRID_INIT.
pub(crate) fn respond(
    kem: Kem,
    payload: &[u8],
    rng: &mut dyn SecureRandom,
) -> Result<ServerReply, KexError> {
    let c_init = messages::parse_init(payload, msg::KEXDH_INIT, ValueEncoding::String)?;
    let (kem_public, client_x25519) = split(c_init, kem.public_key_len(), kem.init_name())?;
    let x25519 = X25519Key::generate(rng)?;
    let x25519_secret = x25519.agree(client_x25519)?;
    let (mut s_reply, kem_secret) = kem.encapsulate(kem_public, rng)?;
    s_reply.extend_from_slice(x25519.public());
    Ok(ServerReply::new(
        msg::KEXDH_REPLY,
        ValueEncoding::String,
        &s_reply,
        combine(kem.hash(), &kem_secret[..], &x25519_secret[..]),
        messages::hash_body(ValueEncoding::String, c_init, &s_reply),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_is_the_string_encoded_hash_of_both_secrets() {
        let kem = [1u8; 32];
        let x = [2u8; 32];
        let k = combine(HashAlgorithm::Sha256, &kem, &x);
        let mut expected = vec![0, 0, 0, 32];
        expected.extend_from_slice(&HashAlgorithm::Sha256.digest(&[[1u8; 32], [2u8; 32]].concat()));
        assert_eq!(k.encoded(), &expected[..]);
        assert_eq!(
            combine(HashAlgorithm::Sha512, &kem, &x).encoded()[..4],
            [0, 0, 0, 64]
        );
    }

    #[test]
    fn blob_sizes_match_the_specifications() {
        assert_eq!(Kem::MlKem768.public_key_len() + 32, 1216);
        assert_eq!(Kem::MlKem768.ciphertext_len() + 32, 1120);
        assert_eq!(Kem::Sntrup761.public_key_len() + 32, 1190);
        assert_eq!(Kem::Sntrup761.ciphertext_len() + 32, 1071);
    }
}

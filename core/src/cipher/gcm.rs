//! `aes128-gcm@openssh.com` and `aes256-gcm@openssh.com` ([RFC 5647], as OpenSSH does it).
//!
//! The 4-byte packet length stays in clear and is the additional authenticated data;
//! the rest of the packet is encrypted, and the 16-byte tag follows. The 12-byte nonce
//! is a 4-byte fixed field and a 64-bit invocation counter, both from key derivation;
//! the counter goes up by one after every packet (RFC 5647 §7.1), independently of the
//! sequence number.
//!
//! [RFC 5647]: https://www.rfc-editor.org/rfc/rfc5647

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use super::{CipherAlgorithm, CipherError};

const LENGTH_LEN: usize = 4;
const TAG_LEN: usize = 16;

/// A GCM key and its per-direction nonce state.
pub(crate) struct Gcm {
    key: LessSafeKey,
    // Derived from the shared secret like the key, so kept out of freed memory too.
    nonce: Zeroizing<[u8; NONCE_LEN]>,
}

impl Gcm {
    /// `key` and `iv` have the lengths `cipher` requires (checked by the caller).
    pub(crate) fn new(cipher: CipherAlgorithm, key: &[u8], iv: &[u8]) -> Result<Self, CipherError> {
        let algorithm = match cipher {
            CipherAlgorithm::Aes256Gcm => &AES_256_GCM,
            _ => &AES_128_GCM,
        };
        let bad_length = |what, expected, got| CipherError::InvalidKeyLength {
            algorithm: cipher.name(),
            what,
            expected,
            got,
        };
        let key = UnboundKey::new(algorithm, key)
            .map_err(|_| bad_length("encryption key", cipher.key_len(), key.len()))?;
        let mut nonce = Zeroizing::new([0u8; NONCE_LEN]);
        if iv.len() != NONCE_LEN {
            return Err(bad_length("IV", NONCE_LEN, iv.len()));
        }
        nonce.copy_from_slice(iv);
        Ok(Self {
            key: LessSafeKey::new(key),
            nonce,
        })
    }

    /// The nonce for this packet; advances the invocation counter for the next one.
    fn next_nonce(&mut self) -> Nonce {
        let nonce = Nonce::assume_unique_for_key(*self.nonce);
        let (_, counter) = self.nonce.split_at_mut(NONCE_LEN - 8);
        let mut value = [0u8; 8];
        value.copy_from_slice(counter);
        // The counter wraps within its 64 bits; a connection rekeys long before.
        counter.copy_from_slice(&u64::from_be_bytes(value).wrapping_add(1).to_be_bytes());
        nonce
    }

    /// Encrypts `packet` and writes its tag to `tag_out` (TAG_LEN bytes).
    pub(crate) fn seal(&mut self, packet: &mut [u8], tag_out: &mut [u8]) {
        let nonce = self.next_nonce();
        let (length, body) = packet.split_at_mut(LENGTH_LEN);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(&*length), body)
            // aws-lc refuses only inputs beyond GCM's 64 GiB limit, far past any packet.
            .expect("AES-GCM seals any packet below 64 GiB");
        tag_out.copy_from_slice(tag.as_ref());
    }

    pub(crate) fn open(&mut self, packet: &mut [u8]) -> Result<(), CipherError> {
        let nonce = self.next_nonce();
        let body_len = match packet.len().checked_sub(TAG_LEN) {
            Some(n) if n >= LENGTH_LEN => n,
            _ => {
                return Err(CipherError::PacketTooShort {
                    len: packet.len(),
                    min: LENGTH_LEN + TAG_LEN,
                });
            }
        };
        let (body, tag) = packet.split_at_mut(body_len);
        let (length, ciphertext) = body.split_at_mut(LENGTH_LEN);
        // aws-lc compares the tag in constant time and wipes the output on mismatch.
        self.key
            .open_in_place_separate_tag(nonce, Aad::from(&*length), tag, ciphertext)
            .map_err(|_| CipherError::BadMac)?;
        Ok(())
    }
}

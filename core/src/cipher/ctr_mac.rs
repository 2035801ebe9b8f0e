//! AES-CTR ([RFC 4344 §4]) with an HMAC, in both MAC orders.
//!
//! The counter block is one 128-bit big-endian integer per direction, starting at the
//! derived IV and running on across packets; every packet is a whole number of blocks,
//! so a packet advances it by `len / 16`. aws-lc is handed the current counter on each
//! call, which lets it work in place on the caller's buffer.
//!
//! - Classic MAC ([RFC 4253 §6.4]): the whole packet, length included, is encrypted and
//!   the MAC is over `seq || plaintext packet`. The receiver must decrypt the first
//!   block to learn the length, and can only check the MAC after decrypting the rest.
//! - Encrypt-then-MAC (OpenSSH PROTOCOL §1.5): the length stays in clear, the rest is
//!   encrypted, and the MAC is over `seq || length || ciphertext`, so it is checked
//!   before anything is decrypted.
//!
//! [RFC 4344 §4]: https://www.rfc-editor.org/rfc/rfc4344#section-4
//! [RFC 4253 §6.4]: https://www.rfc-editor.org/rfc/rfc4253#section-6.4

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use zeroize::Zeroizing;

use super::mac::Mac;
use super::{CipherAlgorithm, CipherError};

const BLOCK: usize = 16;
const LENGTH_LEN: usize = 4;

/// The running CTR counter block of one direction.
struct Counter(Zeroizing<u128>);

impl Counter {
    fn new(iv: &[u8]) -> Result<Self, CipherError> {
        let iv: [u8; BLOCK] = iv.try_into().map_err(|_| CipherError::InvalidKeyLength {
            algorithm: "aes-ctr",
            what: "IV",
            expected: BLOCK,
            got: iv.len(),
        })?;
        Ok(Self(Zeroizing::new(u128::from_be_bytes(iv))))
    }

    /// The counter block for the next `len` bytes, then moves past them.
    fn take(&mut self, len: usize) -> FixedLength<BLOCK> {
        let current = FixedLength::from(self.0.to_be_bytes());
        // RFC 4344 §4: the counter is incremented modulo 2^128.
        *self.0 = self.0.wrapping_add(len.div_ceil(BLOCK) as u128);
        current
    }
}

fn unbound_key(cipher: CipherAlgorithm, key: &[u8]) -> Result<UnboundCipherKey, CipherError> {
    let algorithm = match cipher {
        CipherAlgorithm::Aes192Ctr => &AES_192,
        CipherAlgorithm::Aes256Ctr => &AES_256,
        _ => &AES_128,
    };
    UnboundCipherKey::new(algorithm, key).map_err(|_| CipherError::InvalidKeyLength {
        algorithm: cipher.name(),
        what: "encryption key",
        expected: cipher.key_len(),
        got: key.len(),
    })
}

/// Seals packets with AES-CTR and an HMAC.
pub(crate) struct CtrSealer {
    key: EncryptingKey,
    counter: Counter,
    mac: Mac,
}

impl CtrSealer {
    pub(crate) fn new(
        cipher: CipherAlgorithm,
        key: &[u8],
        iv: &[u8],
        mac: Mac,
    ) -> Result<Self, CipherError> {
        let key = EncryptingKey::ctr(unbound_key(cipher, key)?).map_err(|_| {
            CipherError::KeyRejected {
                algorithm: cipher.name(),
            }
        })?;
        Ok(Self {
            key,
            counter: Counter::new(iv)?,
            mac,
        })
    }

    fn encrypt(&mut self, data: &mut [u8]) {
        debug_assert_eq!(data.len() % BLOCK, 0, "caller pads to the cipher block");
        let context = EncryptionContext::Iv128(self.counter.take(data.len()));
        self.key
            .less_safe_encrypt(data, context)
            // Fails only for a context of the wrong kind, which `Counter` never makes.
            .expect("AES-CTR accepts a 128-bit counter block");
    }

    /// Encrypts `packet` and writes its MAC to `tag_out` (the MAC's length).
    pub(crate) fn seal(&mut self, seq: u32, packet: &mut [u8], tag_out: &mut [u8]) {
        let tag = if self.mac.algorithm().is_etm() {
            self.encrypt(&mut packet[LENGTH_LEN..]);
            self.mac.compute(seq, packet)
        } else {
            let tag = self.mac.compute(seq, packet);
            self.encrypt(packet);
            tag
        };
        tag_out.copy_from_slice(tag.as_ref());
    }
}

/// Opens packets sealed with AES-CTR and an HMAC.
pub(crate) struct CtrOpener {
    key: DecryptingKey,
    counter: Counter,
    mac: Mac,
}

impl CtrOpener {
    pub(crate) fn new(
        cipher: CipherAlgorithm,
        key: &[u8],
        iv: &[u8],
        mac: Mac,
    ) -> Result<Self, CipherError> {
        let key = DecryptingKey::ctr(unbound_key(cipher, key)?).map_err(|_| {
            CipherError::KeyRejected {
                algorithm: cipher.name(),
            }
        })?;
        Ok(Self {
            key,
            counter: Counter::new(iv)?,
            mac,
        })
    }

    pub(crate) fn length_prefix_len(&self) -> usize {
        if self.mac.algorithm().is_etm() {
            LENGTH_LEN
        } else {
            BLOCK
        }
    }

    fn decrypt(&mut self, data: &mut [u8]) {
        let context = DecryptionContext::Iv128(self.counter.take(data.len()));
        // Fails only for a context of the wrong kind, which `Counter` never makes.
        let _ = self
            .key
            .decrypt(data, context)
            .expect("AES-CTR accepts a 128-bit counter block");
    }

    /// `prefix` is exactly `length_prefix_len()` bytes.
    pub(crate) fn decrypt_length(&mut self, prefix: &mut [u8]) -> u32 {
        if !self.mac.algorithm().is_etm() {
            self.decrypt(prefix);
        }
        let mut length = [0u8; LENGTH_LEN];
        length.copy_from_slice(&prefix[..LENGTH_LEN]);
        u32::from_be_bytes(length)
    }

    pub(crate) fn open(&mut self, seq: u32, packet: &mut [u8]) -> Result<(), CipherError> {
        let etm = self.mac.algorithm().is_etm();
        // The part `decrypt_length` has already handled.
        let done = self.length_prefix_len();
        let body_len = packet
            .len()
            .checked_sub(self.mac.tag_len())
            .filter(|&n| n >= done)
            .ok_or(CipherError::PacketTooShort {
                len: packet.len(),
                min: done + self.mac.tag_len(),
            })?;
        let (body, tag) = packet.split_at_mut(body_len);
        let encrypted = &mut body[done..];
        // The counter moves by whole blocks: a ragged packet would desynchronise it.
        if encrypted.len() % BLOCK != 0 {
            return Err(CipherError::NotBlockAligned {
                len: encrypted.len(),
                block: BLOCK,
            });
        }
        if etm {
            self.mac.verify(seq, body, tag)?;
            self.decrypt(&mut body[done..]);
            Ok(())
        } else {
            self.decrypt(encrypted);
            self.mac.verify(seq, body, tag)
        }
    }
}

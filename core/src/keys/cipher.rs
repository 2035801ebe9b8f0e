//! The symmetric ciphers that protect OpenSSH private key files (PROTOCOL.key).
//!
//! Each is run once over the private section with a key and IV derived from the
//! passphrase; the AEAD ones append a 16-byte tag after the encrypted section.

use aws_lc_rs::aead::chacha20_poly1305_openssh::{self as chacha_openssh, OpeningKey, SealingKey};
use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    self, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use zeroize::Zeroizing;

use super::KeyError;

/// A cipher for OpenSSH private key files, by its SSH name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenSshCipher {
    /// `aes128-ctr`.
    Aes128Ctr,
    /// `aes192-ctr`.
    Aes192Ctr,
    /// `aes256-ctr` (ssh-keygen's default).
    Aes256Ctr,
    /// `aes128-gcm@openssh.com`.
    Aes128Gcm,
    /// `aes256-gcm@openssh.com`.
    Aes256Gcm,
    /// `chacha20-poly1305@openssh.com` (PROTOCOL.chacha20poly1305, sequence number 0).
    ChaCha20Poly1305,
}

impl OpenSshCipher {
    /// Every supported cipher.
    pub const ALL: &'static [OpenSshCipher] = &[
        OpenSshCipher::Aes128Ctr,
        OpenSshCipher::Aes192Ctr,
        OpenSshCipher::Aes256Ctr,
        OpenSshCipher::Aes128Gcm,
        OpenSshCipher::Aes256Gcm,
        OpenSshCipher::ChaCha20Poly1305,
    ];

    /// The cipher's SSH name.
    pub fn name(self) -> &'static str {
        match self {
            OpenSshCipher::Aes128Ctr => "aes128-ctr",
            OpenSshCipher::Aes192Ctr => "aes192-ctr",
            OpenSshCipher::Aes256Ctr => "aes256-ctr",
            OpenSshCipher::Aes128Gcm => "aes128-gcm@openssh.com",
            OpenSshCipher::Aes256Gcm => "aes256-gcm@openssh.com",
            OpenSshCipher::ChaCha20Poly1305 => "chacha20-poly1305@openssh.com",
        }
    }

    /// The cipher named `name`, if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    pub(crate) fn key_len(self) -> usize {
        match self {
            OpenSshCipher::Aes128Ctr | OpenSshCipher::Aes128Gcm => 16,
            OpenSshCipher::Aes192Ctr => 24,
            OpenSshCipher::Aes256Ctr | OpenSshCipher::Aes256Gcm => 32,
            OpenSshCipher::ChaCha20Poly1305 => chacha_openssh::KEY_LEN,
        }
    }

    pub(crate) fn iv_len(self) -> usize {
        match self {
            OpenSshCipher::Aes128Ctr | OpenSshCipher::Aes192Ctr | OpenSshCipher::Aes256Ctr => 16,
            OpenSshCipher::Aes128Gcm | OpenSshCipher::Aes256Gcm => aead::NONCE_LEN,
            OpenSshCipher::ChaCha20Poly1305 => 0,
        }
    }

    /// The block size the private section is padded to.
    pub(crate) fn block_len(self) -> usize {
        match self {
            OpenSshCipher::ChaCha20Poly1305 => 8,
            _ => 16,
        }
    }

    /// Bytes of authentication tag after the encrypted section.
    pub(crate) fn tag_len(self) -> usize {
        match self {
            OpenSshCipher::Aes128Gcm
            | OpenSshCipher::Aes256Gcm
            | OpenSshCipher::ChaCha20Poly1305 => 16,
            _ => 0,
        }
    }

    /// Encrypts `data` in place with `key_iv` (key then IV, as derived), returning the
    /// tag (empty for CTR).
    pub(crate) fn encrypt(self, key_iv: &[u8], data: &mut [u8]) -> Result<Vec<u8>, KeyError> {
        let (key, iv) = key_iv.split_at(self.key_len());
        match self {
            OpenSshCipher::Aes128Ctr | OpenSshCipher::Aes192Ctr | OpenSshCipher::Aes256Ctr => {
                let key = EncryptingKey::ctr(UnboundCipherKey::new(self.aes(), key)?)?;
                key.less_safe_encrypt(data, EncryptionContext::Iv128(iv.try_into()?))?;
                Ok(Vec::new())
            }
            OpenSshCipher::Aes128Gcm | OpenSshCipher::Aes256Gcm => {
                let key = LessSafeKey::new(UnboundKey::new(self.aes_gcm(), key)?);
                let nonce = Nonce::try_assume_unique_for_key(iv)?;
                let tag = key.seal_in_place_separate_tag(nonce, Aad::empty(), data)?;
                Ok(tag.as_ref().to_vec())
            }
            OpenSshCipher::ChaCha20Poly1305 => chacha_seal(key, data),
        }
    }

    /// Decrypts `data` in place after checking `tag`; a tag mismatch means the
    /// passphrase was wrong (or the file was altered).
    pub(crate) fn decrypt(
        self,
        key_iv: &[u8],
        data: &mut [u8],
        tag: &[u8],
    ) -> Result<(), KeyError> {
        let (key, iv) = key_iv.split_at(self.key_len());
        match self {
            OpenSshCipher::Aes128Ctr | OpenSshCipher::Aes192Ctr | OpenSshCipher::Aes256Ctr => {
                let key = DecryptingKey::ctr(UnboundCipherKey::new(self.aes(), key)?)?;
                key.decrypt(data, DecryptionContext::Iv128(iv.try_into()?))?;
                Ok(())
            }
            OpenSshCipher::Aes128Gcm | OpenSshCipher::Aes256Gcm => {
                let key = LessSafeKey::new(UnboundKey::new(self.aes_gcm(), key)?);
                let nonce = Nonce::try_assume_unique_for_key(iv)?;
                key.open_in_place_separate_tag(nonce, Aad::empty(), tag, data)
                    .map_err(|_| KeyError::WrongPassphrase)?;
                Ok(())
            }
            OpenSshCipher::ChaCha20Poly1305 => chacha_open(key, data, tag),
        }
    }

    fn aes(self) -> &'static cipher::Algorithm {
        match self {
            OpenSshCipher::Aes128Ctr | OpenSshCipher::Aes128Gcm => &cipher::AES_128,
            OpenSshCipher::Aes192Ctr => &cipher::AES_192,
            _ => &cipher::AES_256,
        }
    }

    fn aes_gcm(self) -> &'static aead::Algorithm {
        match self {
            OpenSshCipher::Aes128Gcm => &aead::AES_128_GCM,
            _ => &aead::AES_256_GCM,
        }
    }
}

impl std::fmt::Display for OpenSshCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

// chacha20-poly1305@openssh.com over a key file is the packet construction with no
// length field: the data is XORed with ChaCha20(K_2, nonce 0, counter 1..) and the tag
// is Poly1305 over the ciphertext alone, keyed from ChaCha20(K_2, nonce 0, counter 0).
// aws-lc-rs exposes the construction only with a 4-byte encrypted length in front, so
// we reach the two parts through it:
// - the keystream: sealing `[0; 4] || zeros` leaves K_1's first 4 keystream bytes in
//   front and K_2's keystream from counter 1 after them;
// - the tag: opening a buffer authenticates every byte of it, so opening the bare
//   ciphertext checks Poly1305 over exactly the ciphertext; and sealing a buffer whose
//   first 4 bytes are pre-XORed with K_1's keystream and the rest with K_2's makes the
//   sealed output equal the ciphertext, so the tag it returns is the one we want.

/// `(K_1 keystream[0..4], K_2 keystream from counter 1)` for `len` bytes.
fn chacha_keystreams(
    key: &[u8; chacha_openssh::KEY_LEN],
    len: usize,
) -> ([u8; 4], Zeroizing<Vec<u8>>) {
    let mut buf = Zeroizing::new(vec![0u8; chacha_openssh::PACKET_LENGTH_LEN + len]);
    let mut tag = [0u8; chacha_openssh::TAG_LEN];
    SealingKey::new(key).seal_in_place(0, &mut buf, &mut tag);
    let mut k1 = [0u8; 4];
    k1.copy_from_slice(&buf[..4]);
    let k2 = Zeroizing::new(buf[4..].to_vec());
    (k1, k2)
}

fn chacha_key(key: &[u8]) -> Result<Zeroizing<[u8; chacha_openssh::KEY_LEN]>, KeyError> {
    let mut out = Zeroizing::new([0u8; chacha_openssh::KEY_LEN]);
    if key.len() != out.len() {
        return Err(KeyError::Crypto);
    }
    out.copy_from_slice(key);
    Ok(out)
}

fn chacha_seal(key: &[u8], data: &mut [u8]) -> Result<Vec<u8>, KeyError> {
    let key = chacha_key(key)?;
    if data.len() < chacha_openssh::PACKET_LENGTH_LEN {
        return Err(KeyError::Crypto);
    }
    let (k1, k2) = chacha_keystreams(&key, data.len());
    // The ciphertext we want.
    for (d, k) in data.iter_mut().zip(k2.iter()) {
        *d ^= k;
    }
    // Pre-image under the packet construction: front XOR K_1, rest XOR K_2 from counter 1.
    let mut pre = Zeroizing::new(data.to_vec());
    for (p, k) in pre[..4].iter_mut().zip(k1.iter()) {
        *p ^= k;
    }
    for (p, k) in pre[4..].iter_mut().zip(k2.iter()) {
        *p ^= k;
    }
    let mut tag = [0u8; chacha_openssh::TAG_LEN];
    SealingKey::new(&key).seal_in_place(0, &mut pre, &mut tag);
    debug_assert_eq!(&pre[..], &data[..]);
    Ok(tag.to_vec())
}

fn chacha_open(key: &[u8], data: &mut [u8], tag: &[u8]) -> Result<(), KeyError> {
    let key = chacha_key(key)?;
    let tag: &[u8; chacha_openssh::TAG_LEN] = tag.try_into().map_err(|_| KeyError::Crypto)?;
    if data.len() < chacha_openssh::PACKET_LENGTH_LEN {
        return Err(KeyError::WrongPassphrase);
    }
    let mut scratch = Zeroizing::new(data.to_vec());
    OpeningKey::new(&key)
        .open_in_place(0, &mut scratch, tag)
        .map_err(|_| KeyError::WrongPassphrase)?;
    let (_, k2) = chacha_keystreams(&key, data.len());
    for (d, k) in data.iter_mut().zip(k2.iter()) {
        *d ^= k;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_cipher_round_trips_and_detects_tampering() {
        for &c in OpenSshCipher::ALL {
            let key_iv: Vec<u8> = (0..(c.key_len() + c.iv_len()) as u8).collect();
            let plain: Vec<u8> = (0..64u8).collect();
            let mut data = plain.clone();
            let tag = c.encrypt(&key_iv, &mut data).unwrap();
            assert_eq!(tag.len(), c.tag_len(), "{c}");
            assert_ne!(data, plain, "{c}");
            let mut opened = data.clone();
            c.decrypt(&key_iv, &mut opened, &tag).unwrap();
            assert_eq!(opened, plain, "{c}");
            if c.tag_len() > 0 {
                let mut tampered = data.clone();
                tampered[10] ^= 1;
                assert_eq!(
                    c.decrypt(&key_iv, &mut tampered, &tag),
                    Err(KeyError::WrongPassphrase),
                    "{c}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for &c in OpenSshCipher::ALL {
            assert_eq!(OpenSshCipher::from_name(c.name()), Some(c));
        }
        assert_eq!(OpenSshCipher::from_name("3des-cbc"), None);
    }
}

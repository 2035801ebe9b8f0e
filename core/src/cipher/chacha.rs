//! `chacha20-poly1305@openssh.com` (OpenSSH PROTOCOL.chacha20poly1305).
//!
//! The packet length is encrypted with K_1, the rest of the packet with K_2 starting
//! at block counter 1, and Poly1305 (keyed by K_2's block 0) covers the encrypted
//! length and the ciphertext. The nonce is the sequence number, so the state is only
//! the key. aws-lc-rs implements exactly this construction.

use aws_lc_rs::aead::chacha20_poly1305_openssh::{
    KEY_LEN, OpeningKey, PACKET_LENGTH_LEN, SealingKey, TAG_LEN,
};

use super::CipherError;

/// Seals packets with chacha20-poly1305@openssh.com.
pub(crate) struct ChachaSealer {
    key: SealingKey,
}

impl ChachaSealer {
    /// `key` is the 64 bytes of key derivation output, K_2 then K_1.
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
        Self {
            key: SealingKey::new(key),
        }
    }

    /// Encrypts `packet` and writes its tag to `tag_out` (TAG_LEN bytes).
    pub(crate) fn seal(&self, seq: u32, packet: &mut [u8], tag_out: &mut [u8]) {
        let mut tag = [0u8; TAG_LEN];
        self.key.seal_in_place(seq, packet, &mut tag);
        tag_out.copy_from_slice(&tag);
    }
}

/// Opens packets sealed with chacha20-poly1305@openssh.com.
pub(crate) struct ChachaOpener {
    key: OpeningKey,
}

impl ChachaOpener {
    /// `key` is the 64 bytes of key derivation output, K_2 then K_1.
    pub(crate) fn new(key: &[u8; KEY_LEN]) -> Self {
        Self {
            key: OpeningKey::new(key),
        }
    }

    /// Decrypts a copy of the length: the encrypted bytes stay in the packet because
    /// the tag covers them.
    pub(crate) fn decrypt_length(&self, seq: u32, prefix: [u8; PACKET_LENGTH_LEN]) -> u32 {
        u32::from_be_bytes(self.key.decrypt_packet_length(seq, prefix))
    }

    pub(crate) fn open(&self, seq: u32, packet: &mut [u8]) -> Result<(), CipherError> {
        let too_short = CipherError::PacketTooShort {
            len: packet.len(),
            min: PACKET_LENGTH_LEN + TAG_LEN,
        };
        let body_len = match packet.len().checked_sub(TAG_LEN) {
            Some(n) if n >= PACKET_LENGTH_LEN => n,
            _ => return Err(too_short),
        };
        let packet_length = u32::try_from(body_len - PACKET_LENGTH_LEN)
            .map_err(|_| CipherError::PacketTooLong { len: packet.len() })?;
        let (body, tag) = packet.split_at_mut(body_len);
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().map_err(|_| CipherError::BadMac)?;
        // aws-lc verifies the tag before it decrypts anything.
        self.key
            .open_in_place(seq, body, tag)
            .map_err(|_| CipherError::BadMac)?;
        // Leave the length in clear too, as every other cipher does.
        body[..PACKET_LENGTH_LEN].copy_from_slice(&packet_length.to_be_bytes());
        Ok(())
    }
}

//! Tests of the packet-protection layer: round trips, tampering, known answers.

// In a test a failed unwrap is a failed test, with the location in the message.
#![allow(clippy::unwrap_used)]

mod compression;
mod known_answers;
mod reference;
mod round_trip;
mod tampering;

use bytes::BytesMut;

use super::*;

/// Every cipher, with every MAC where the cipher needs one.
fn suites() -> Vec<(CipherAlgorithm, Option<MacAlgorithm>)> {
    let mut all = Vec::new();
    for &cipher in CipherAlgorithm::DEFAULT {
        if cipher.is_aead() {
            all.push((cipher, None));
        } else {
            all.extend(MacAlgorithm::DEFAULT.iter().map(|&mac| (cipher, Some(mac))));
        }
    }
    all
}

/// Deterministic key material of the lengths the suite needs.
fn key_material(cipher: CipherAlgorithm, mac: Option<MacAlgorithm>) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let fill = |len: usize, salt: u8| -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
            .collect()
    };
    let mac_len = mac.map_or(0, MacAlgorithm::key_len);
    (
        fill(cipher.key_len(), 1),
        fill(cipher.iv_len(), 2),
        fill(mac_len, 3),
    )
}

fn pair(cipher: CipherAlgorithm, mac: Option<MacAlgorithm>) -> (PacketSealer, PacketOpener) {
    let (key, iv, mac_key) = key_material(cipher, mac);
    (
        PacketSealer::new(cipher, mac, &key, &iv, &mac_key).unwrap(),
        PacketOpener::new(cipher, mac, &key, &iv, &mac_key).unwrap(),
    )
}

/// A plaintext packet around `payload`, padded as the sealer asks, with padding
/// bytes derived from the payload length (the transport would use random ones).
fn plaintext_packet(sealer: &PacketSealer, payload: &[u8]) -> BytesMut {
    let block = sealer.padding_block();
    let aligned_before = if sealer.padding_excludes_length() {
        1 + payload.len()
    } else {
        4 + 1 + payload.len()
    };
    let mut padding = block - aligned_before % block;
    if padding < 4 {
        padding += block;
    }
    let packet_length = 1 + payload.len() + padding;
    let mut packet = BytesMut::with_capacity(4 + packet_length + sealer.tag_len());
    packet.extend_from_slice(&(packet_length as u32).to_be_bytes());
    packet.extend_from_slice(&[padding as u8]);
    packet.extend_from_slice(payload);
    packet.extend((0..padding).map(|i| (i + payload.len()) as u8));
    packet
}

/// What the transport does on receipt: learn the length, then open the whole packet.
/// Returns the payload.
fn receive(opener: &mut PacketOpener, seq: u32, wire: &mut [u8]) -> Result<Vec<u8>, CipherError> {
    let n = opener.length_prefix_len();
    let packet_length = opener.decrypt_length(seq, &mut wire[..n]) as usize;
    assert_eq!(wire.len(), 4 + packet_length + opener.tag_len());
    opener.open(seq, wire)?;
    assert_eq!(&wire[..4], &(packet_length as u32).to_be_bytes());
    let padding = usize::from(wire[4]);
    Ok(wire[5..4 + packet_length - padding].to_vec())
}

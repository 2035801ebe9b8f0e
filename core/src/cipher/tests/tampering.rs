//! Anything a peer or the network changes makes `open` fail, and releases nothing.

use super::*;

/// Seals one packet with a fresh pair and returns the opener that should read it.
fn sealed(
    cipher: CipherAlgorithm,
    mac: Option<MacAlgorithm>,
    seq: u32,
    payload: &[u8],
) -> (PacketOpener, BytesMut) {
    let (mut sealer, opener) = pair(cipher, mac);
    let mut wire = plaintext_packet(&sealer, payload);
    sealer.seal(seq, &mut wire);
    (opener, wire)
}

/// Opens without trusting the decrypted length (a tampered one may disagree with the
/// buffer, which the transport would notice first or later).
fn open_raw(opener: &mut PacketOpener, seq: u32, wire: &mut [u8]) -> Result<(), CipherError> {
    let n = opener.length_prefix_len();
    let _ = opener.decrypt_length(seq, &mut wire[..n]);
    opener.open(seq, wire)
}

#[test]
fn a_flipped_bit_anywhere_fails_with_bad_mac_and_zeroes_the_packet() {
    for (cipher, mac) in suites() {
        let (_, pristine) = sealed(cipher, mac, 9, b"tamper with me, if you can");
        for i in 0..pristine.len() {
            let (mut opener, mut wire) = sealed(cipher, mac, 9, b"tamper with me, if you can");
            wire[i] ^= 1 << (i % 8);
            let region = if i < 4 {
                "length"
            } else if i < wire.len() - opener.tag_len() {
                "body"
            } else {
                "tag"
            };
            assert_eq!(
                open_raw(&mut opener, 9, &mut wire),
                Err(CipherError::BadMac),
                "{cipher} {mac:?}: flip in {region} byte {i}"
            );
            assert!(
                wire.iter().all(|&b| b == 0),
                "{cipher} {mac:?}: bytes left after failure"
            );
        }
    }
}

#[test]
fn wrong_sequence_number_fails_with_bad_mac() {
    for (cipher, mac) in suites() {
        // GCM's nonce is its own invocation counter, not the sequence number; see
        // `gcm_packets_opened_out_of_order_fail_with_bad_mac`.
        if matches!(
            cipher,
            CipherAlgorithm::Aes128Gcm | CipherAlgorithm::Aes256Gcm
        ) {
            continue;
        }
        let (mut opener, mut wire) = sealed(cipher, mac, 41, b"sequence bound");
        assert_eq!(
            open_raw(&mut opener, 42, &mut wire),
            Err(CipherError::BadMac),
            "{cipher} {mac:?}"
        );
    }
}

#[test]
fn gcm_packets_opened_out_of_order_fail_with_bad_mac() {
    for cipher in [CipherAlgorithm::Aes128Gcm, CipherAlgorithm::Aes256Gcm] {
        let (mut sealer, mut opener) = pair(cipher, None);
        let mut first = plaintext_packet(&sealer, b"first");
        let mut second = plaintext_packet(&sealer, b"second");
        sealer.seal(0, &mut first);
        sealer.seal(1, &mut second);
        assert_eq!(
            open_raw(&mut opener, 1, &mut second),
            Err(CipherError::BadMac)
        );
    }
}

#[test]
fn a_dropped_packet_makes_the_next_one_fail_with_bad_mac() {
    for (cipher, mac) in suites() {
        let (mut sealer, mut opener) = pair(cipher, mac);
        let mut lost = plaintext_packet(&sealer, b"lost in transit");
        let mut next = plaintext_packet(&sealer, b"arrives");
        sealer.seal(0, &mut lost);
        sealer.seal(1, &mut next);
        // The receiver never saw packet 0, so it still counts this one as 0.
        assert_eq!(
            open_raw(&mut opener, 0, &mut next),
            Err(CipherError::BadMac),
            "{cipher} {mac:?}"
        );
    }
}

#[test]
fn a_packet_too_short_for_its_cipher_is_an_error_not_a_panic() {
    for (cipher, mac) in suites() {
        let (mut opener, wire) = sealed(cipher, mac, 0, b"x");
        let min = opener.length_prefix_len() + opener.tag_len();
        for len in 0..min {
            let mut short = wire[..len].to_vec();
            assert!(
                matches!(
                    opener.open(0, &mut short),
                    Err(CipherError::PacketTooShort { .. })
                ),
                "{cipher} {mac:?} len {len}"
            );
        }
    }
    assert!(PacketOpener::none().open(0, &mut [0u8; 3]).is_err());
}

#[test]
fn ctr_rejects_an_encrypted_region_that_is_not_whole_blocks() {
    for mac in MacAlgorithm::DEFAULT.iter().copied() {
        let (mut opener, wire) = sealed(CipherAlgorithm::Aes128Ctr, Some(mac), 0, b"ragged");
        let mut ragged = wire.to_vec();
        ragged.insert(20, 0);
        let n = opener.length_prefix_len();
        let _ = opener.decrypt_length(0, &mut ragged[..n]);
        assert!(
            matches!(
                opener.open(0, &mut ragged),
                Err(CipherError::NotBlockAligned { block: 16, .. })
            ),
            "{mac:?}"
        );
    }
}

#[test]
fn a_packet_sealed_under_other_keys_fails_with_bad_mac() {
    for (cipher, mac) in suites() {
        let (_, mut wire) = sealed(cipher, mac, 3, b"not for you");
        let (mut key, iv, mut mac_key) = key_material(cipher, mac);
        key[0] ^= 0x80;
        if let Some(b) = mac_key.first_mut() {
            *b ^= 0x80;
        }
        let mut opener = PacketOpener::new(cipher, mac, &key, &iv, &mac_key).unwrap();
        assert_eq!(
            open_raw(&mut opener, 3, &mut wire),
            Err(CipherError::BadMac),
            "{cipher} {mac:?}"
        );
    }
}

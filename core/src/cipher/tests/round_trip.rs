//! Sealed packets open to what went in, for every suite and across sequence numbers.

use super::*;

fn payload(len: usize, salt: u32) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).wrapping_add(salt) as u8)
        .collect()
}

#[test]
fn every_cipher_and_mac_round_trips_many_packets() {
    let sizes = [
        0,
        1,
        2,
        3,
        7,
        8,
        11,
        15,
        16,
        17,
        31,
        32,
        33,
        100,
        255,
        1000,
        32 * 1024,
    ];
    for (cipher, mac) in suites() {
        let (mut sealer, mut opener) = pair(cipher, mac);
        for (seq, &size) in sizes.iter().cycle().take(3 * sizes.len()).enumerate() {
            let seq = seq as u32;
            let data = payload(size, seq);
            let mut wire = plaintext_packet(&sealer, &data);
            let plain = wire.clone();
            sealer.seal(seq, &mut wire);
            assert_eq!(wire.len(), plain.len() + sealer.tag_len());
            assert_ne!(
                wire[4..plain.len()],
                plain[4..],
                "{cipher} {mac:?}: not encrypted"
            );
            let got = receive(&mut opener, seq, &mut wire).unwrap();
            assert_eq!(got, data, "{cipher} {mac:?} seq {seq}");
        }
    }
}

#[test]
fn sequence_numbers_wrap_at_u32_max() {
    for (cipher, mac) in suites() {
        let (mut sealer, mut opener) = pair(cipher, mac);
        let mut seq = u32::MAX - 2;
        for i in 0..6 {
            let data = payload(50 + i, i as u32);
            let mut wire = plaintext_packet(&sealer, &data);
            sealer.seal(seq, &mut wire);
            assert_eq!(receive(&mut opener, seq, &mut wire).unwrap(), data);
            seq = seq.wrapping_add(1);
        }
        assert_eq!(seq, 3);
    }
}

#[test]
fn seal_does_not_reallocate_a_buffer_with_room_for_the_tag() {
    for (cipher, mac) in suites() {
        let (mut sealer, _) = pair(cipher, mac);
        let mut wire = plaintext_packet(&sealer, &payload(1000, 1));
        let before = wire.as_ptr();
        sealer.seal(0, &mut wire);
        assert_eq!(wire.as_ptr(), before, "{cipher} {mac:?}");
    }
}

#[test]
fn none_passes_packets_through_untouched() {
    let mut sealer = PacketSealer::none();
    let mut opener = PacketOpener::none();
    let data = payload(20, 0);
    let mut wire = plaintext_packet(&sealer, &data);
    let plain = wire.clone();
    sealer.seal(0, &mut wire);
    assert_eq!(wire, plain);
    assert_eq!(receive(&mut opener, 0, &mut wire).unwrap(), data);
}

#[test]
fn none_reports_rfc4253_defaults() {
    let sealer = PacketSealer::none();
    let opener = PacketOpener::none();
    assert_eq!(
        (
            sealer.padding_block(),
            sealer.padding_excludes_length(),
            sealer.tag_len()
        ),
        (8, false, 0)
    );
    assert_eq!(
        (
            opener.padding_block(),
            opener.padding_excludes_length(),
            opener.tag_len()
        ),
        (8, false, 0)
    );
    assert_eq!(opener.length_prefix_len(), 4);
    assert_eq!((sealer.cipher(), sealer.mac()), (None, None));
}

#[test]
fn framing_parameters_follow_the_suite() {
    use CipherAlgorithm::*;
    use MacAlgorithm::*;
    // (cipher, mac, padding block, length excluded, tag, length prefix)
    let cases = [
        (Chacha20Poly1305, None, 8, true, 16, 4),
        (Aes128Gcm, None, 16, true, 16, 4),
        (Aes256Gcm, None, 16, true, 16, 4),
        (Aes128Ctr, Some(HmacSha256Etm), 16, true, 32, 4),
        (Aes192Ctr, Some(HmacSha512Etm), 16, true, 64, 4),
        (Aes256Ctr, Some(HmacSha1Etm), 16, true, 20, 4),
        (Aes128Ctr, Some(HmacSha256), 16, false, 32, 16),
        (Aes256Ctr, Some(HmacSha512), 16, false, 64, 16),
        (Aes192Ctr, Some(HmacSha1), 16, false, 20, 16),
    ];
    for (cipher, mac, block, excludes, tag, prefix) in cases {
        let (sealer, opener) = pair(cipher, mac);
        assert_eq!(
            (
                sealer.padding_block(),
                sealer.padding_excludes_length(),
                sealer.tag_len()
            ),
            (block, excludes, tag),
            "{cipher} {mac:?}"
        );
        assert_eq!(
            (
                opener.padding_block(),
                opener.padding_excludes_length(),
                opener.tag_len()
            ),
            (block, excludes, tag),
            "{cipher} {mac:?}"
        );
        assert_eq!(opener.length_prefix_len(), prefix, "{cipher} {mac:?}");
        assert_eq!((sealer.cipher(), sealer.mac()), (Some(cipher), mac));
    }
}

#[test]
fn aead_ignores_the_negotiated_mac() {
    let cipher = CipherAlgorithm::Aes128Gcm;
    let (key, iv, _) = key_material(cipher, None);
    let mut with_mac =
        PacketSealer::new(cipher, Some(MacAlgorithm::HmacSha1), &key, &iv, b"short").unwrap();
    let mut without = PacketSealer::new(cipher, None, &key, &iv, &[]).unwrap();
    assert_eq!(with_mac.mac(), None);
    let mut a = plaintext_packet(&with_mac, b"same");
    let mut b = a.clone();
    with_mac.seal(1, &mut a);
    without.seal(1, &mut b);
    assert_eq!(a, b);
}

#[test]
fn ctr_without_mac_is_refused() {
    let cipher = CipherAlgorithm::Aes256Ctr;
    let (key, iv, _) = key_material(cipher, None);
    assert_eq!(
        PacketSealer::new(cipher, None, &key, &iv, &[]).err(),
        Some(CipherError::MacRequired)
    );
    assert_eq!(
        PacketOpener::new(cipher, None, &key, &iv, &[]).err(),
        Some(CipherError::MacRequired)
    );
}

#[test]
fn wrong_key_iv_or_mac_key_length_is_refused() {
    for (cipher, mac) in suites() {
        let (key, iv, mac_key) = key_material(cipher, mac);
        let short = |v: &[u8]| v[..v.len().saturating_sub(1)].to_vec();
        let mut long_iv = iv.clone();
        long_iv.push(0);
        let mut attempts = vec![
            ("encryption key", short(&key), iv.clone(), mac_key.clone()),
            ("IV", key.clone(), long_iv, mac_key.clone()),
        ];
        if mac.is_some() {
            attempts.push(("MAC key", key.clone(), iv.clone(), short(&mac_key)));
        }
        for (what, key, iv, mac_key) in attempts {
            let sealer = PacketSealer::new(cipher, mac, &key, &iv, &mac_key);
            let opener = PacketOpener::new(cipher, mac, &key, &iv, &mac_key);
            for err in [sealer.err(), opener.err()] {
                assert!(
                    matches!(err, Some(CipherError::InvalidKeyLength { what: w, .. }) if w == what),
                    "{cipher} {mac:?} {what}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn algorithm_names_round_trip_and_unknown_names_are_none() {
    for &c in CipherAlgorithm::DEFAULT {
        assert_eq!(CipherAlgorithm::from_name(c.name()), Some(c));
    }
    for &m in MacAlgorithm::DEFAULT {
        assert_eq!(MacAlgorithm::from_name(m.name()), Some(m));
    }
    for c in [
        CompressionAlgorithm::None,
        CompressionAlgorithm::Zlib,
        CompressionAlgorithm::ZlibOpenssh,
    ] {
        assert_eq!(CompressionAlgorithm::from_name(c.name()), Some(c));
    }
    assert_eq!(CipherAlgorithm::from_name("aes128-cbc"), None);
    assert_eq!(CipherAlgorithm::from_name("AES128-CTR"), None);
    assert_eq!(MacAlgorithm::from_name("hmac-md5"), None);
    assert_eq!(CompressionAlgorithm::from_name("zlib@example.com"), None);
}

#[test]
fn default_lists_follow_openssh_order() {
    let names = |v: Vec<&str>| v.join(",");
    assert_eq!(
        names(CipherAlgorithm::DEFAULT.iter().map(|c| c.name()).collect()),
        "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,\
         aes128-ctr,aes192-ctr,aes256-ctr"
    );
    assert_eq!(
        names(MacAlgorithm::DEFAULT.iter().map(|m| m.name()).collect()),
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,\
         hmac-sha1-etm@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1"
    );
    assert_eq!(
        names(
            CompressionAlgorithm::DEFAULT
                .iter()
                .map(|c| c.name())
                .collect()
        ),
        "none,zlib@openssh.com"
    );
}

#[test]
fn key_derivation_sizes_match_the_specifications() {
    use CipherAlgorithm::*;
    let sizes: Vec<_> = CipherAlgorithm::DEFAULT
        .iter()
        .map(|c| (c.key_len(), c.iv_len(), c.block_size(), c.is_aead()))
        .collect();
    assert_eq!(
        sizes,
        [
            (64, 0, 8, true),
            (16, 12, 16, true),
            (32, 12, 16, true),
            (16, 16, 16, false),
            (24, 16, 16, false),
            (32, 16, 16, false),
        ]
    );
    assert_eq!(Aes192Ctr.to_string(), "aes192-ctr");
    let macs: Vec<_> = MacAlgorithm::DEFAULT
        .iter()
        .map(|m| (m.key_len(), m.tag_len(), m.is_etm()))
        .collect();
    assert_eq!(
        macs,
        [
            (32, 32, true),
            (64, 64, true),
            (20, 20, true),
            (32, 32, false),
            (64, 64, false),
            (20, 20, false),
        ]
    );
    assert!(CompressionAlgorithm::ZlibOpenssh.is_delayed());
    assert!(!CompressionAlgorithm::Zlib.is_delayed());
}

#[test]
fn ctr_without_etm_decrypts_the_first_block_in_place() {
    let (mut sealer, mut opener) = pair(CipherAlgorithm::Aes128Ctr, Some(MacAlgorithm::HmacSha256));
    let mut wire = plaintext_packet(&sealer, b"first block");
    let plain = wire.clone();
    sealer.seal(0, &mut wire);
    let length = opener.decrypt_length(0, &mut wire[..16]);
    assert_eq!(&wire[..16], &plain[..16]);
    assert_eq!(length as usize, plain.len() - 4);
}

#[test]
fn chacha_decrypt_length_leaves_the_encrypted_prefix_for_the_tag() {
    let (mut sealer, mut opener) = pair(CipherAlgorithm::Chacha20Poly1305, None);
    let mut wire = plaintext_packet(&sealer, b"prefix");
    sealer.seal(0, &mut wire);
    let sealed = wire.clone();
    let _ = opener.decrypt_length(0, &mut wire[..4]);
    assert_eq!(wire, sealed);
}

#[test]
#[should_panic(expected = "4-byte length field")]
fn sealing_less_than_a_length_field_is_a_caller_bug() {
    let (mut sealer, _) = pair(CipherAlgorithm::Aes128Gcm, None);
    sealer.seal(0, &mut BytesMut::from(&[0u8; 3][..]));
}

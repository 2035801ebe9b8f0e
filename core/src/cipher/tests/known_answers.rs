//! Published test vectors, pushed through our API wherever the SSH framing allows.

use super::reference::{chacha20_block, chacha20_xor, poly1305};
use super::*;
use crate::cipher::mac::Mac;

pub(super) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(core::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// NIST SP 800-38A F.5.1 (CTR-AES128.Encrypt).
const CTR_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const CTR_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const CTR_PLAIN: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                         30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";
const CTR_CIPHER: &str = "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
                          5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee";

fn etm_ctr_sealer(key: &[u8], iv: &[u8]) -> PacketSealer {
    let cipher = match key.len() {
        16 => CipherAlgorithm::Aes128Ctr,
        24 => CipherAlgorithm::Aes192Ctr,
        _ => CipherAlgorithm::Aes256Ctr,
    };
    let mac = MacAlgorithm::HmacSha256Etm;
    PacketSealer::new(cipher, Some(mac), key, iv, &[0x55; 32]).unwrap()
}

/// `len || body` with the length field saying `body.len()`.
fn with_length(body: &[u8]) -> BytesMut {
    let mut packet = BytesMut::new();
    packet.extend_from_slice(&(body.len() as u32).to_be_bytes());
    packet.extend_from_slice(body);
    packet
}

#[test]
fn aes128_ctr_matches_nist_sp800_38a_across_two_packets() {
    let mut sealer = etm_ctr_sealer(&hex(CTR_KEY), &hex(CTR_IV));
    let plain = hex(CTR_PLAIN);
    let expected = hex(CTR_CIPHER);
    // The second packet must continue from the counter the first one left.
    let mut first = with_length(&plain[..32]);
    let mut second = with_length(&plain[32..]);
    sealer.seal(0, &mut first);
    sealer.seal(1, &mut second);
    assert_eq!(&first[4..36], &expected[..32]);
    assert_eq!(&second[4..36], &expected[32..]);
}

#[test]
fn aes128_ctr_without_etm_encrypts_the_length_too() {
    let plain = hex(CTR_PLAIN);
    let mut sealer = PacketSealer::new(
        CipherAlgorithm::Aes128Ctr,
        Some(MacAlgorithm::HmacSha1),
        &hex(CTR_KEY),
        &hex(CTR_IV),
        &[0x0b; 20],
    )
    .unwrap();
    // The vector's plaintext stands for a whole packet, its first 4 bytes the length.
    let mut packet = BytesMut::from(&plain[..]);
    sealer.seal(0x0102_0304, &mut packet);
    assert_eq!(&packet[..64], &hex(CTR_CIPHER)[..]);
    // Classic MAC: over seq || plaintext, not over the ciphertext.
    let mac = Mac::new(MacAlgorithm::HmacSha1, &[0x0b; 20]).compute(0x0102_0304, &plain);
    assert_eq!(&packet[64..], mac.as_ref());
}

#[test]
fn aes_ctr_counter_carries_through_all_128_bits() {
    let key = [0x42u8; 32];
    let zeros = [0u8; 16];
    // Counter blocks: ...ffffffff -> next carries out of the low 32-bit word, and
    // ff..ff -> 00..00 wraps modulo 2^128 (RFC 4344 §4).
    let cases: [(&str, &str); 2] = [
        (
            "000000000000000000000000ffffffff",
            "00000000000000000000000100000000",
        ),
        (
            "ffffffffffffffffffffffffffffffff",
            "00000000000000000000000000000000",
        ),
    ];
    for (before, after) in cases {
        let mut a = etm_ctr_sealer(&key, &hex(before));
        let mut b = etm_ctr_sealer(&key, &hex(after));
        let mut skipped = with_length(&zeros);
        let mut next = with_length(&zeros);
        let mut expected = with_length(&zeros);
        a.seal(0, &mut skipped);
        a.seal(1, &mut next);
        b.seal(1, &mut expected);
        assert_eq!(&next[4..20], &expected[4..20], "counter after {before}");
    }
}

/// The GCM specification's test case 3 (McGrew & Viega; NIST's GCM validation set).
const GCM_KEY: &str = "feffe9928665731c6d6a8f9467308308";
const GCM_IV: &str = "cafebabefacedbaddecaf888";
const GCM_PLAIN: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const GCM_CIPHER: &str = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                          21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";

#[test]
fn aes128_gcm_ciphertext_matches_gcm_test_case_3() {
    let (key, iv) = (hex(GCM_KEY), hex(GCM_IV));
    let mut sealer = PacketSealer::new(CipherAlgorithm::Aes128Gcm, None, &key, &iv, &[]).unwrap();
    let mut packet = with_length(&hex(GCM_PLAIN));
    sealer.seal(0, &mut packet);
    // The ciphertext does not depend on the additional data, so it is the published
    // one; the tag is not, because SSH authenticates the 4-byte length with it.
    assert_eq!(&packet[..4], &[0, 0, 0, 64]);
    assert_eq!(&packet[4..68], &hex(GCM_CIPHER)[..]);
}

#[test]
fn aes_gcm_authenticates_the_length_and_counts_invocations() {
    use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let (key, iv) = (hex(GCM_KEY), hex(GCM_IV));
    let mut sealer = PacketSealer::new(CipherAlgorithm::Aes128Gcm, None, &key, &iv, &[]).unwrap();
    let bare = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).unwrap());
    let body = hex(GCM_PLAIN);
    // RFC 5647 §7.1: the fixed field stays, the 64-bit invocation counter goes up by one.
    for nonce in [
        "cafebabefacedbaddecaf888",
        "cafebabefacedbaddecaf889",
        "cafebabefacedbaddecaf88a",
    ] {
        let mut packet = with_length(&body);
        sealer.seal(0, &mut packet);
        let mut expected = body.clone();
        let nonce = Nonce::try_assume_unique_for_key(&hex(nonce)).unwrap();
        let tag = bare
            .seal_in_place_separate_tag(nonce, Aad::from([0, 0, 0, 64]), &mut expected)
            .unwrap();
        expected.extend_from_slice(tag.as_ref());
        assert_eq!(&packet[4..], &expected[..]);
    }
}

#[test]
fn aes_gcm_invocation_counter_wraps_within_64_bits() {
    let key = [7u8; 16];
    let mut a = PacketSealer::new(
        CipherAlgorithm::Aes128Gcm,
        None,
        &key,
        &hex("01020304ffffffffffffffff"),
        &[],
    )
    .unwrap();
    let mut b = PacketSealer::new(
        CipherAlgorithm::Aes128Gcm,
        None,
        &key,
        &hex("010203040000000000000000"),
        &[],
    )
    .unwrap();
    let mut skipped = with_length(&[0; 16]);
    let mut next = with_length(&[0; 16]);
    let mut expected = with_length(&[0; 16]);
    a.seal(0, &mut skipped);
    a.seal(1, &mut next);
    b.seal(1, &mut expected);
    assert_eq!(next, expected);
}

/// (key, data, HMAC-SHA-256, HMAC-SHA-512) from RFC 4231 test cases 1 and 2, and
/// HMAC-SHA-1 from RFC 2202 test cases 1 and 2 (same keys and data).
const HMAC_CASES: [(&str, &[u8], &str, &str, &str); 2] = [
    (
        "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde
         daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
        "b617318655057264e28bc0b6fb378c8ef146be00",
    ),
    (
        "4a656665", // "Jefe"
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554
         9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
    ),
];

#[test]
fn hmacs_match_rfc4231_and_rfc2202() {
    for (key, data, sha256, sha512, sha1) in HMAC_CASES {
        // The MAC input is seq || data: let the vector's first 4 bytes be the seq.
        let seq = u32::from_be_bytes(data[..4].try_into().unwrap());
        let rest = &data[4..];
        let key = hex(key);
        for (algorithms, expected) in [
            (
                [MacAlgorithm::HmacSha256, MacAlgorithm::HmacSha256Etm],
                sha256,
            ),
            (
                [MacAlgorithm::HmacSha512, MacAlgorithm::HmacSha512Etm],
                sha512,
            ),
            ([MacAlgorithm::HmacSha1, MacAlgorithm::HmacSha1Etm], sha1),
        ] {
            for algorithm in algorithms {
                let mac = Mac::new(algorithm, &key);
                assert_eq!(
                    mac.compute(seq, rest).as_ref(),
                    &hex(expected)[..],
                    "{algorithm}"
                );
                assert_eq!(mac.verify(seq, rest, &hex(expected)), Ok(()));
            }
        }
    }
}

#[test]
fn etm_mac_covers_the_clear_length_and_the_ciphertext() {
    let mac_key = [0x21u8; 64];
    let mut sealer = PacketSealer::new(
        CipherAlgorithm::Aes256Ctr,
        Some(MacAlgorithm::HmacSha512Etm),
        &[1; 32],
        &[2; 16],
        &mac_key,
    )
    .unwrap();
    let mut packet = with_length(&[9; 32]);
    sealer.seal(77, &mut packet);
    assert_eq!(&packet[..4], &[0, 0, 0, 32], "length stays in clear");
    let mac = Mac::new(MacAlgorithm::HmacSha512Etm, &mac_key).compute(77, &packet[..36]);
    assert_eq!(&packet[36..], mac.as_ref());
}

/// chacha20-poly1305@openssh.com computed from PROTOCOL.chacha20poly1305 with the
/// reference ChaCha20 and Poly1305 (themselves checked against RFC 8439).
fn openssh_chacha_reference(key: &[u8; 64], seq: u32, packet: &[u8]) -> Vec<u8> {
    let k2: &[u8; 32] = key[..32].try_into().unwrap();
    let k1: &[u8; 32] = key[32..].try_into().unwrap();
    let mut nonce = [0u8; 8];
    nonce[4..].copy_from_slice(&seq.to_be_bytes());
    let mut out = packet.to_vec();
    chacha20_xor(k1, nonce, 0, &mut out[..4]);
    chacha20_xor(k2, nonce, 1, &mut out[4..]);
    let block0 = chacha20_block(
        k2,
        [
            0,
            0,
            u32::from_le_bytes([0; 4]),
            u32::from_le_bytes(seq.to_be_bytes()),
        ],
    );
    let poly_key: [u8; 32] = block0[..32].try_into().unwrap();
    let tag = poly1305(&poly_key, &out);
    out.extend_from_slice(&tag);
    out
}

#[test]
fn chacha20_poly1305_matches_an_independent_construction() {
    let key: [u8; 64] = core::array::from_fn(|i| (i as u8).wrapping_mul(13).wrapping_add(5));
    let mut sealer =
        PacketSealer::new(CipherAlgorithm::Chacha20Poly1305, None, &key, &[], &[]).unwrap();
    let mut opener =
        PacketOpener::new(CipherAlgorithm::Chacha20Poly1305, None, &key, &[], &[]).unwrap();
    // Several 64-byte keystream blocks, and sequence numbers with all bytes in use.
    for (seq, body_len) in [(0u32, 8usize), (1, 200), (0x0102_0304, 136), (u32::MAX, 64)] {
        let mut packet = BytesMut::new();
        packet.extend_from_slice(&(body_len as u32).to_be_bytes());
        packet.extend((0..body_len).map(|i| (i * 7) as u8));
        let expected = openssh_chacha_reference(&key, seq, &packet);
        sealer.seal(seq, &mut packet);
        assert_eq!(packet.to_vec(), expected, "seq {seq}");
        assert_eq!(
            opener.decrypt_length(seq, &mut packet[..4]),
            body_len as u32
        );
        opener.open(seq, &mut packet).unwrap();
    }
}

//! Plain, slow reference versions of ChaCha20 (Bernstein's original 64-bit nonce
//! layout) and Poly1305, written from RFC 8439 §2.1-2.5 for this test suite only.
//!
//! They let the chacha20-poly1305@openssh.com known-answer test be computed
//! independently of aws-lc; each is checked here against RFC 8439's own vectors.

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn quarter_round(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

/// One 64-byte ChaCha20 block; `tail` is state words 12..16 (counter and nonce,
/// however the variant lays them out).
pub(super) fn chacha20_block(key: &[u8; 32], tail: [u32; 4]) -> [u8; 64] {
    let mut state = [0u32; 16];
    state[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    for (i, word) in key.chunks(4).enumerate() {
        state[4 + i] = le32(word);
    }
    state[12..].copy_from_slice(&tail);
    let mut working = state;
    for _ in 0..10 {
        quarter_round(&mut working, 0, 4, 8, 12);
        quarter_round(&mut working, 1, 5, 9, 13);
        quarter_round(&mut working, 2, 6, 10, 14);
        quarter_round(&mut working, 3, 7, 11, 15);
        quarter_round(&mut working, 0, 5, 10, 15);
        quarter_round(&mut working, 1, 6, 11, 12);
        quarter_round(&mut working, 2, 7, 8, 13);
        quarter_round(&mut working, 3, 4, 9, 14);
    }
    let mut out = [0u8; 64];
    for i in 0..16 {
        out[4 * i..4 * i + 4].copy_from_slice(&working[i].wrapping_add(state[i]).to_le_bytes());
    }
    out
}

/// XORs the keystream of the original ChaCha20 (64-bit block counter in words 12-13,
/// 64-bit nonce in words 14-15) into `data`, starting at block `counter`.
pub(super) fn chacha20_xor(key: &[u8; 32], nonce: [u8; 8], counter: u64, data: &mut [u8]) {
    for (i, chunk) in data.chunks_mut(64).enumerate() {
        let n = counter + i as u64;
        let block = chacha20_block(
            key,
            [
                n as u32,
                (n >> 32) as u32,
                le32(&nonce[..4]),
                le32(&nonce[4..]),
            ],
        );
        for (b, k) in chunk.iter_mut().zip(block) {
            *b ^= k;
        }
    }
}

/// Poly1305 of `msg` under the one-time key `r || s`, with 26-bit limbs.
pub(super) fn poly1305(key: &[u8; 32], msg: &[u8]) -> [u8; 16] {
    const M: u32 = 0x3ff_ffff;
    // Clamped r (RFC 8439 §2.5.1), split into five 26-bit limbs.
    let r = [
        le32(&key[0..]) & 0x3ff_ffff,
        (le32(&key[3..]) >> 2) & 0x3ff_ff03,
        (le32(&key[6..]) >> 4) & 0x3ff_c0ff,
        (le32(&key[9..]) >> 6) & 0x3f0_3fff,
        (le32(&key[12..]) >> 8) & 0x00f_ffff,
    ]
    .map(u64::from);
    let s = [r[1] * 5, r[2] * 5, r[3] * 5, r[4] * 5];
    let mut h = [0u64; 5];
    for chunk in msg.chunks(16) {
        let mut block = [0u8; 17];
        block[..chunk.len()].copy_from_slice(chunk);
        block[chunk.len()] = 1;
        h[0] += u64::from(le32(&block[0..]) & M);
        h[1] += u64::from((le32(&block[3..]) >> 2) & M);
        h[2] += u64::from((le32(&block[6..]) >> 4) & M);
        h[3] += u64::from((le32(&block[9..]) >> 6) & M);
        h[4] += u64::from((le32(&block[12..]) >> 8) | (u32::from(block[16]) << 24));
        let d = [
            h[0] * r[0] + h[1] * s[3] + h[2] * s[2] + h[3] * s[1] + h[4] * s[0],
            h[0] * r[1] + h[1] * r[0] + h[2] * s[3] + h[3] * s[2] + h[4] * s[1],
            h[0] * r[2] + h[1] * r[1] + h[2] * r[0] + h[3] * s[3] + h[4] * s[2],
            h[0] * r[3] + h[1] * r[2] + h[2] * r[1] + h[3] * r[0] + h[4] * s[3],
            h[0] * r[4] + h[1] * r[3] + h[2] * r[2] + h[3] * r[1] + h[4] * r[0],
        ];
        let mut carry = 0;
        for i in 0..5 {
            let v = d[i] + carry;
            h[i] = v & u64::from(M);
            carry = v >> 26;
        }
        h[0] += carry * 5;
        h[1] += h[0] >> 26;
        h[0] &= u64::from(M);
    }
    // Fully reduce modulo 2^130 - 5, then add s modulo 2^128.
    let mut acc: u128 = 0;
    let mut top: u128 = 0;
    {
        let mut carry = 0;
        for limb in &mut h {
            let v = *limb + carry;
            *limb = v & u64::from(M);
            carry = v >> 26;
        }
        h[0] += carry * 5;
        h[1] += h[0] >> 26;
        h[0] &= u64::from(M);
        for (i, &limb) in h.iter().enumerate() {
            let shifted = u128::from(limb) << (26 * i);
            acc = acc.wrapping_add(shifted);
            if 26 * i + 26 > 128 {
                top += u128::from(limb) >> (128 - 26 * i);
            }
        }
    }
    // h = top * 2^128 + acc < 2 * p; subtract p once if h >= p.
    let p_low: u128 = u128::MAX - 4; // 2^128 - 5, the low 128 bits of p = 3 * 2^128 + (2^128 - 5)
    if top > 3 || (top == 3 && acc >= p_low) {
        acc = acc.wrapping_sub(p_low);
    }
    let s_part = u128::from_le_bytes(key[16..].try_into().unwrap());
    acc.wrapping_add(s_part).to_le_bytes()
}

fn hex(s: &str) -> Vec<u8> {
    super::known_answers::hex(s)
}

#[test]
fn reference_chacha20_block_matches_rfc8439_2_3_2() {
    let key: [u8; 32] = core::array::from_fn(|i| i as u8);
    // Counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00 in the IETF layout.
    let block = chacha20_block(&key, [1, 0x0900_0000, 0x4a00_0000, 0]);
    assert_eq!(
        block.to_vec(),
        hex(
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e\
             d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
        )
    );
}

#[test]
fn reference_chacha20_zero_key_matches_rfc8439_a_1_vector_1() {
    let mut data = [0u8; 64];
    chacha20_xor(&[0; 32], [0; 8], 0, &mut data);
    assert_eq!(
        data.to_vec(),
        hex(
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7\
             da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
        )
    );
}

#[test]
fn reference_poly1305_matches_rfc8439_2_5_2() {
    let key: [u8; 32] = hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
        .try_into()
        .unwrap();
    assert_eq!(
        poly1305(&key, b"Cryptographic Forum Research Group").to_vec(),
        hex("a8061dc1305136c6c22b8baf0c0127a9")
    );
}

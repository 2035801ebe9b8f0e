//! zlib streams: many packets share one stream, and a bomb stops at the cap.

use flate2::{Compress, Compression, FlushCompress};

use super::*;

const CAP: usize = 256 * 1024;

/// Bytes that deflate cannot shorten (xorshift64).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

fn payloads() -> Vec<Vec<u8>> {
    let text = b"SSH_MSG_CHANNEL_DATA: the quick brown fox jumps over the lazy dog. ";
    let mut all = Vec::new();
    for i in 0..200usize {
        let len = [1, 9, 100, 1000, 5000, 40_000][i % 6];
        let p: Vec<u8> = match i % 3 {
            0 => text.iter().copied().cycle().skip(i).take(len).collect(),
            1 => noise(len, i as u64),
            _ => vec![i as u8; len],
        };
        all.push(p);
    }
    all
}

#[test]
fn many_packets_round_trip_through_one_stream_per_direction() {
    let mut compressor = Compressor::new();
    let mut decompressor = Decompressor::new();
    for payload in payloads() {
        let mut wire = Vec::new();
        compressor.compress(&payload, &mut wire);
        // Each packet inflates on its own: the partial flush emitted all of it.
        let mut out = Vec::new();
        decompressor.decompress(&wire, &mut out, CAP).unwrap();
        assert_eq!(out, payload);
    }
}

#[test]
fn the_stream_remembers_earlier_packets() {
    let mut compressor = Compressor::new();
    let payload = noise(2000, 7);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    compressor.compress(&payload, &mut first);
    compressor.compress(&payload, &mut second);
    // Noise does not compress, but a repeat of it is a back-reference.
    assert!(first.len() > 1900, "{}", first.len());
    assert!(second.len() < 100, "{}", second.len());
    let mut decompressor = Decompressor::new();
    let mut out = Vec::new();
    decompressor.decompress(&first, &mut out, CAP).unwrap();
    decompressor.decompress(&second, &mut out, CAP).unwrap();
    assert_eq!(out.len(), 4000);
    assert_eq!(&out[2000..], &payload[..]);
}

#[test]
fn decompress_appends_after_existing_output() {
    let mut compressor = Compressor::new();
    let mut wire = Vec::new();
    compressor.compress(b"payload", &mut wire);
    let mut out = b"header:".to_vec();
    Decompressor::new().decompress(&wire, &mut out, 7).unwrap();
    assert_eq!(out, b"header:payload");
}

#[test]
fn a_payload_of_exactly_the_cap_is_accepted_and_one_more_byte_is_not() {
    let payload = vec![b'a'; 10_000];
    let mut wire = Vec::new();
    Compressor::new().compress(&payload, &mut wire);
    let mut out = Vec::new();
    Decompressor::new()
        .decompress(&wire, &mut out, 10_000)
        .unwrap();
    assert_eq!(out, payload);
    let mut out = Vec::new();
    assert_eq!(
        Decompressor::new().decompress(&wire, &mut out, 9_999),
        Err(CompressionError::TooLarge { limit: 9_999 })
    );
}

#[test]
fn a_decompression_bomb_is_cut_off_without_allocating_past_the_cap() {
    let bomb_payload = vec![0u8; 10 * 1024 * 1024];
    let mut bomb = Vec::new();
    Compressor::new().compress(&bomb_payload, &mut bomb);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let mut out = Vec::new();
    assert_eq!(
        Decompressor::new().decompress(&bomb, &mut out, CAP),
        Err(CompressionError::TooLarge { limit: CAP })
    );
    assert!(out.is_empty());
    assert!(out.capacity() <= CAP + 1, "capacity {}", out.capacity());
}

#[test]
fn corrupt_zlib_data_is_refused() {
    let mut out = Vec::new();
    assert_eq!(
        Decompressor::new().decompress(&[0xff; 16], &mut out, CAP),
        Err(CompressionError::Corrupt)
    );
    assert!(out.is_empty());
}

#[test]
fn a_peer_that_finishes_its_stream_is_refused() {
    let mut finished = Compress::new(Compression::default(), true);
    let mut wire = Vec::with_capacity(256);
    finished
        .compress_vec(b"bye", &mut wire, FlushCompress::Finish)
        .unwrap();
    let mut out = Vec::new();
    assert_eq!(
        Decompressor::new().decompress(&wire, &mut out, CAP),
        Err(CompressionError::StreamEnded)
    );
}

#[test]
fn an_empty_input_inflates_to_nothing() {
    let mut out = Vec::new();
    Decompressor::new().decompress(&[], &mut out, CAP).unwrap();
    assert!(out.is_empty());
}

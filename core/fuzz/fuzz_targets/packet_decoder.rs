//! The transport's packet reader on fuzzer-built streams, in clear or with real keys
//! from a fixed seed (every cipher, every MAC, each compression), so the length, MAC,
//! padding and decompression paths are all reached.
//!
//! The stream mixes packets sealed correctly by this target (its own, independent
//! framing), packets sealed with authentic MACs around a fuzzer-chosen layout (bad
//! padding, bad lengths), corrupted packets and raw bytes. The reader must never panic,
//! must return exactly the payloads of well-formed packets with their sequence numbers,
//! must reject what the layout makes invalid, and must never accept a packet again once
//! the stream carries a byte that no holder of the keys sent.
#![no_main]

use std::collections::VecDeque;

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use sansh_core::cipher::{
    CipherAlgorithm, CompressionAlgorithm, Compressor, MacAlgorithm, PacketOpener, PacketSealer,
};
use sansh_core::fuzzing::PacketDecoder;
use sansh_core_fuzz::engine::fixed_bytes;

#[derive(Debug, Arbitrary)]
struct Case {
    /// 0 selects no cipher; otherwise a cipher and, for non-AEAD ciphers, a MAC.
    keys: u8,
    /// 0 none, 1 zlib, 2 zlib@openssh.com (delayed until `Op::StartCompression`).
    compression: u8,
    /// Small caps (1 KiB packets, 512-byte inflated payloads) instead of OpenSSH's.
    small_caps: bool,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    /// A well-formed packet carrying this payload, optionally with one byte changed.
    Packet {
        payload: Vec<u8>,
        corrupt: Option<(u16, u8)>,
    },
    /// An authentic packet around this layout: `packet_length` from the body's size,
    /// the given `padding_length`, then `body` (aligned to the cipher block if asked,
    /// and always for CTR, whose sealer needs whole blocks).
    Laid {
        padding: u8,
        body: Vec<u8>,
        align: bool,
    },
    /// Raw bytes appended to the stream.
    Raw(Vec<u8>),
    /// Both ends start delayed compression (after user authentication, in a session).
    StartCompression,
}

/// What the reader must make of the next packet in the stream.
#[derive(Debug)]
enum Expect {
    Payload {
        seq: u32,
        payload: Vec<u8>,
    },
    Reject,
    /// Valid framing and MAC, but the outcome is not predicted (decompression of a
    /// fuzzer-made body, or a payload at the inflate cap).
    Either,
}

/// The sending end: seals with the same keys as the reader opens with.
struct Sender {
    sealer: PacketSealer,
    seq: u32,
    compressor: Option<Compressor>,
    delayed: bool,
    ctr: bool,
}

fuzz_target!(|case: Case| run(case));

fn run(case: Case) {
    let (max_packet_len, max_inflated) = if case.small_caps {
        (1024, 512)
    } else {
        (256 * 1024, 256 * 1024)
    };
    let compression = match case.compression % 3 {
        0 => CompressionAlgorithm::None,
        1 => CompressionAlgorithm::Zlib,
        _ => CompressionAlgorithm::ZlibOpenssh,
    };
    let mut reader = PacketDecoder::new(max_packet_len, max_inflated);
    let (sealer, opener, ctr) = keys(case.keys);
    let keyed = sealer.cipher().is_some();
    if keyed || compression != CompressionAlgorithm::None {
        reader.set_keys(opener, compression);
    }
    let mut sender = Sender {
        sealer,
        seq: 0,
        compressor: (compression == CompressionAlgorithm::Zlib).then(Compressor::new),
        delayed: compression == CompressionAlgorithm::ZlibOpenssh,
        ctr,
    };

    let mut buf = BytesMut::new();
    let mut expected: VecDeque<Expect> = VecDeque::new();
    // Whether every byte so far came from `sender` unchanged, so `expected` is exact.
    let mut exact = true;
    // A byte no key holder sent is in the stream: nothing may be accepted any more.
    let mut forged = false;

    for op in case.ops {
        match op {
            Op::Packet { payload, corrupt } => {
                if payload.is_empty() {
                    continue;
                }
                let mut packet = sender.packet(&payload);
                // Still unsealed: the length field and the packet it counts.
                let fits = packet.len() - 4 <= max_packet_len as usize;
                let inflatable = sender.compressor.is_none() || payload.len() < max_inflated;
                let expect = match (fits, inflatable) {
                    (false, _) => Expect::Reject,
                    (true, true) => Expect::Payload {
                        seq: sender.seq,
                        payload,
                    },
                    (true, false) => Expect::Either,
                };
                sender.seal(&mut packet);
                match corrupt {
                    Some((at, xor)) if xor != 0 => {
                        let at = usize::from(at) % packet.len();
                        packet[at] ^= xor;
                        if keyed {
                            forged = true;
                        }
                        exact = false;
                    }
                    _ => expected.push_back(expect),
                }
                buf.extend_from_slice(&packet);
            }
            Op::Laid {
                padding,
                body,
                align,
            } => {
                let (mut packet, expect) = sender.laid(padding, body, align, max_packet_len);
                sender.seal(&mut packet);
                if sender.compressor.is_some() {
                    // A fuzzer-made body desynchronises the inflate stream.
                    expected.push_back(Expect::Either);
                    exact = false;
                } else {
                    expected.push_back(expect);
                }
                buf.extend_from_slice(&packet);
            }
            Op::Raw(bytes) => {
                if bytes.is_empty() {
                    continue;
                }
                if keyed {
                    forged = true;
                }
                exact = false;
                buf.extend_from_slice(&bytes);
            }
            Op::StartCompression => {
                if sender.delayed {
                    sender.delayed = false;
                    sender.compressor = Some(Compressor::new());
                }
                reader.start_delayed_compression();
            }
        }
        if !drain(&mut reader, &mut buf, &mut expected, exact, forged) {
            return;
        }
    }
}

/// Reads every whole packet in `buf`, checking each against `expected`; false once the
/// reader has failed (a real connection closes then).
fn drain(
    reader: &mut PacketDecoder,
    buf: &mut BytesMut,
    expected: &mut VecDeque<Expect>,
    exact: bool,
    forged: bool,
) -> bool {
    loop {
        let result = reader.read(buf);
        let expect = match &result {
            Ok(None) => return true,
            _ if exact => Some(
                expected
                    .pop_front()
                    .expect("the reader produced a packet nobody sent"),
            ),
            _ => expected.pop_front(),
        };
        match result {
            Ok(None) => unreachable!(),
            Ok(Some((seq, payload))) => {
                assert!(!forged, "accepted a packet after forged bytes: {payload:?}");
                assert!(!payload.is_empty(), "an empty payload came out");
                match expect {
                    Some(Expect::Payload {
                        seq: want_seq,
                        payload: want,
                    }) if exact => {
                        assert_eq!(seq, want_seq, "sequence number");
                        assert_eq!(&payload[..], &want[..], "payload changed on the way");
                    }
                    Some(Expect::Reject) if exact => {
                        panic!("accepted a packet it must reject: {payload:?}")
                    }
                    _ => {}
                }
            }
            Err(error) => {
                if exact && let Some(Expect::Payload { seq, .. }) = expect {
                    panic!("rejected well-formed packet #{seq}: {error}");
                }
                return false;
            }
        }
    }
}

/// Sealer, opener and whether the cipher is CTR, for the suite `selector` names; keys
/// are fixed bytes so runs are reproducible.
fn keys(selector: u8) -> (PacketSealer, PacketOpener, bool) {
    let ciphers = CipherAlgorithm::DEFAULT;
    let index = usize::from(selector) % (ciphers.len() + 1);
    let Some(&cipher) = index.checked_sub(1).and_then(|i| ciphers.get(i)) else {
        return (PacketSealer::none(), PacketOpener::none(), false);
    };
    let macs = MacAlgorithm::DEFAULT;
    let mac = macs[usize::from(selector) / (ciphers.len() + 1) % macs.len()];
    let key = fixed_bytes(1, cipher.key_len());
    let iv = fixed_bytes(2, cipher.iv_len());
    let mac_key = fixed_bytes(3, mac.key_len());
    let mac = (!cipher.is_aead()).then_some(mac);
    let sealer = PacketSealer::new(cipher, mac, &key, &iv, &mac_key).expect("sealer keys");
    let opener = PacketOpener::new(cipher, mac, &key, &iv, &mac_key).expect("opener keys");
    (sealer, opener, mac.is_some())
}

impl Sender {
    /// Lays out a padded plaintext packet for `payload` (RFC 4253 §6), compressing
    /// first when compression runs. Written here independently of the transport's
    /// writer, so the two framings check each other.
    fn packet(&mut self, payload: &[u8]) -> BytesMut {
        let mut compressed = Vec::new();
        let body = match &mut self.compressor {
            Some(c) => {
                c.compress(payload, &mut compressed);
                &compressed[..]
            }
            None => payload,
        };
        let block = self.sealer.padding_block();
        let counted = if self.sealer.padding_excludes_length() {
            0
        } else {
            4
        };
        let unpadded = counted + 1 + body.len();
        let mut padding = (block - unpadded % block) % block;
        while padding < 4 {
            padding += block;
        }
        let mut packet = BytesMut::new();
        packet.extend_from_slice(&((1 + body.len() + padding) as u32).to_be_bytes());
        packet.extend_from_slice(&[padding as u8]);
        packet.extend_from_slice(body);
        packet.extend_from_slice(&vec![0x5a; padding]);
        packet
    }

    /// Lays out `padding_length` and `body` as given, with the true `packet_length`,
    /// and says what the reader must make of it (compression aside).
    fn laid(&self, padding: u8, mut body: Vec<u8>, align: bool, max: u32) -> (BytesMut, Expect) {
        let block = self.sealer.padding_block();
        let counted = if self.sealer.padding_excludes_length() {
            0
        } else {
            4
        };
        if align || self.ctr {
            while !(counted + 1 + body.len()).is_multiple_of(block) {
                body.push(0);
            }
        }
        let len = 1 + body.len();
        let mut packet = BytesMut::new();
        packet.extend_from_slice(&(len as u32).to_be_bytes());
        packet.extend_from_slice(&[padding]);
        packet.extend_from_slice(&body);
        let valid = len <= max as usize
            && len >= 6
            && (counted + len).is_multiple_of(block)
            && padding >= 4
            && usize::from(padding) < len - 1;
        let expect = if valid {
            let payload = body[..len - 1 - usize::from(padding)].to_vec();
            Expect::Payload {
                seq: self.seq,
                payload,
            }
        } else {
            Expect::Reject
        };
        (packet, expect)
    }

    fn seal(&mut self, packet: &mut BytesMut) {
        self.sealer.seal(self.seq, packet);
        self.seq = self.seq.wrapping_add(1);
    }
}

//! Whole exchanges between a [`ClientKex`] and a [`ServerKex`], and what each side does
//! with hostile or out-of-order messages.

use super::test_util::{ScriptedRandom, hex};
use super::*;
use crate::crypto::{SecureRandom, SeededRandom};
use crate::wire::{Reader, WireError, Writer, msg};

const HOST_KEY: &[u8] = b"\x00\x00\x00\x0bssh-ed25519 (test host key)";
const SIGNATURE: &[u8] = b"(test signature)";

/// Every payload of one exchange, in order, plus both sides' results.
struct Transcript {
    payloads: Vec<Vec<u8>>,
    client: KexReply,
    server: ServerReply,
}

fn run(
    alg: KexAlgorithm,
    client_rng: &mut dyn SecureRandom,
    server_rng: &mut dyn SecureRandom,
) -> Transcript {
    let (mut client, first) =
        ClientKex::start(alg, GexRequest::default(), client_rng).expect("client starts");
    let mut server = ServerKex::new(alg);
    let mut payloads = vec![first];
    loop {
        let to_server = payloads.last().expect("a payload").clone();
        match server.handle(&to_server, server_rng).expect("server step") {
            ServerKexStep::Send(out) => {
                payloads.push(out.clone());
                match client.handle(&out, client_rng).expect("client step") {
                    ClientKexStep::Send(next) => payloads.push(next),
                    ClientKexStep::Reply(_) => panic!("client finished before the server replied"),
                }
            }
            ServerKexStep::Reply(server_reply) => {
                let reply = server_reply.encode_reply(HOST_KEY, SIGNATURE);
                payloads.push(reply.clone());
                match client.handle(&reply, client_rng).expect("client finishes") {
                    ClientKexStep::Reply(client_reply) => {
                        return Transcript {
                            payloads,
                            client: client_reply,
                            server: server_reply,
                        };
                    }
                    ClientKexStep::Send(_) => panic!("client wants more after the reply"),
                }
            }
        }
    }
}

fn seeded(alg: KexAlgorithm, seed: u64) -> Transcript {
    run(
        alg,
        &mut SeededRandom::new(seed),
        &mut SeededRandom::new(seed + 1000),
    )
}

/// The reply payload a server of `alg` would send, for tests that tamper with it.
fn server_reply_for(alg: KexAlgorithm, init: &[u8]) -> Vec<u8> {
    match ServerKex::new(alg)
        .handle(init, &mut SeededRandom::new(99))
        .expect("server replies")
    {
        ServerKexStep::Reply(reply) => reply.encode_reply(HOST_KEY, SIGNATURE),
        ServerKexStep::Send(_) => panic!("one-round-trip method expected"),
    }
}

fn client(alg: KexAlgorithm) -> (ClientKex, Vec<u8>) {
    ClientKex::start(alg, GexRequest::default(), &mut SeededRandom::new(7)).expect("client starts")
}

fn client_result(client: &mut ClientKex, payload: &[u8]) -> Result<(), KexError> {
    client
        .handle(payload, &mut SeededRandom::new(8))
        .map(|_| ())
}

fn server_result(alg: KexAlgorithm, payload: &[u8]) -> Result<(), KexError> {
    ServerKex::new(alg)
        .handle(payload, &mut SeededRandom::new(9))
        .map(|_| ())
}

/// `byte msg || string K_S || value || string signature`, with `value` already encoded.
fn reply_with_raw_value(message: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![message];
    out.put_string(HOST_KEY);
    out.put_raw(value);
    out.put_string(SIGNATURE);
    out
}

fn reply_with_string(value: &[u8]) -> Vec<u8> {
    let mut encoded = Vec::new();
    encoded.put_string(value);
    reply_with_raw_value(msg::KEXDH_REPLY, &encoded)
}

fn reply_with_mpint(message: u8, magnitude: &[u8]) -> Vec<u8> {
    let mut encoded = Vec::new();
    encoded.put_mpint_unsigned(magnitude);
    reply_with_raw_value(message, &encoded)
}

fn init_with_string(value: &[u8]) -> Vec<u8> {
    let mut out = vec![msg::KEXDH_INIT];
    out.put_string(value);
    out
}

fn init_with_mpint(message: u8, magnitude: &[u8]) -> Vec<u8> {
    let mut out = vec![message];
    out.put_mpint_unsigned(magnitude);
    out
}

/// `p - 1` for the 2048-bit group, and `p` itself.
fn group14_p_minus_1_and_p() -> (Vec<u8>, Vec<u8>) {
    let p = groups::GROUP14.prime.to_vec();
    let mut p_minus_1 = p.clone();
    if let Some(last) = p_minus_1.last_mut() {
        *last -= 1;
    }
    (p_minus_1, p)
}

// ----- whole exchanges -----

#[test]
fn every_method_gives_both_sides_the_same_k_and_hash_body() {
    for &alg in KexAlgorithm::ALL {
        let t = seeded(alg, 1);
        assert_eq!(
            t.client.shared_secret.encoded(),
            t.server.shared_secret.encoded(),
            "{alg}"
        );
        assert_eq!(t.client.hash_body, t.server.hash_body, "{alg}");
        assert_eq!(t.client.host_key_blob, HOST_KEY, "{alg}");
        assert_eq!(t.client.signature_blob, SIGNATURE, "{alg}");
        assert!(!t.client.shared_secret.encoded().is_empty(), "{alg}");
    }
}

#[test]
fn every_method_gives_both_sides_the_same_exchange_hash() {
    for &alg in KexAlgorithm::ALL {
        let t = seeded(alg, 2);
        let input = ExchangeHashInput {
            client_version: b"SSH-2.0-client",
            server_version: b"SSH-2.0-server",
            client_kexinit: &[20, 1],
            server_kexinit: &[20, 2],
            host_key_blob: &t.client.host_key_blob,
        };
        let h_client = exchange_hash(
            alg.hash(),
            &input,
            &t.client.hash_body,
            &t.client.shared_secret,
        );
        let h_server = exchange_hash(
            alg.hash(),
            &input,
            &t.server.hash_body,
            &t.server.shared_secret,
        );
        assert_eq!(h_client, h_server, "{alg}");
        assert_eq!(h_client.len(), alg.hash().output_len(), "{alg}");
    }
}

#[test]
fn message_numbers_follow_each_method() {
    for &alg in KexAlgorithm::ALL {
        let numbers: Vec<u8> = seeded(alg, 3).payloads.iter().map(|p| p[0]).collect();
        let expected: &[u8] = if alg == KexAlgorithm::DhGexSha256 {
            &[34, 31, 32, 33]
        } else {
            &[30, 31]
        };
        assert_eq!(numbers, expected, "{alg}");
    }
}

#[test]
fn different_seeds_give_different_secrets() {
    for &alg in KexAlgorithm::ALL {
        assert_ne!(
            seeded(alg, 4).client.shared_secret.encoded(),
            seeded(alg, 5).client.shared_secret.encoded(),
            "{alg}"
        );
    }
}

#[test]
fn seeded_rng_reproduces_every_message_except_ml_kem_bytes() {
    for &alg in KexAlgorithm::ALL {
        let a = seeded(alg, 6);
        let b = seeded(alg, 6);
        if alg == KexAlgorithm::MlKem768X25519Sha256 {
            // aws-lc-rs draws ML-KEM randomness itself; the X25519 tails are ours.
            for (x, y) in a.payloads.iter().zip(&b.payloads) {
                assert_eq!(x.len(), y.len());
                assert_ne!(x, y);
            }
            let x25519_tail = |init: &[u8]| init[init.len() - 32..].to_vec();
            assert_eq!(x25519_tail(&a.payloads[0]), x25519_tail(&b.payloads[0]));
        } else {
            assert_eq!(a.payloads, b.payloads, "{alg}");
            assert_eq!(
                a.client.shared_secret.encoded(),
                b.client.shared_secret.encoded(),
                "{alg}"
            );
        }
    }
}

// ----- known answers and wire layouts -----

#[test]
fn curve25519_exchange_matches_rfc7748_vectors_and_rfc8731_encoding() {
    let alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let bob = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let alice_public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

    let t = run(
        KexAlgorithm::Curve25519Sha256,
        &mut ScriptedRandom::new(alice),
        &mut ScriptedRandom::new(bob),
    );
    assert_eq!(t.payloads[0], init_with_string(&alice_public));
    assert_eq!(t.payloads[1], reply_with_string(&bob_public));
    // RFC 8731 §3.1: the 32 bytes read as a big-endian integer, as an mpint.
    let mut k = Vec::new();
    k.put_mpint_unsigned(&shared);
    assert_eq!(t.client.shared_secret.encoded(), &k[..]);
    let mut body = Vec::new();
    body.put_string(&alice_public);
    body.put_string(&bob_public);
    assert_eq!(t.client.hash_body, body);
}

#[test]
fn dh_hash_body_is_mpint_e_then_mpint_f() {
    let t = seeded(KexAlgorithm::DhGroup14Sha256, 10);
    let mut r = Reader::new(&t.payloads[0][1..]);
    let e = r.mpint_unsigned().expect("e");
    let mut r = Reader::new(&t.payloads[1][1..]);
    r.string().expect("K_S");
    let f = r.mpint_unsigned().expect("f");
    let mut body = Vec::new();
    body.put_mpint_unsigned(e);
    body.put_mpint_unsigned(f);
    assert_eq!(t.client.hash_body, body);
}

#[test]
fn gex_hash_body_is_request_then_p_g_e_f() {
    let t = seeded(KexAlgorithm::DhGexSha256, 11);
    let mut body = t.payloads[0][1..13].to_vec(); // min, n, max as requested
    body.extend_from_slice(&t.payloads[1][1..]); // mpint p || mpint g
    body.extend_from_slice(&t.payloads[2][1..]); // mpint e
    let mut r = Reader::new(&t.payloads[3][1..]);
    r.string().expect("K_S");
    body.put_mpint_unsigned(r.mpint_unsigned().expect("f"));
    assert_eq!(t.client.hash_body, body);
    // The default request gets the 8192-bit group.
    let mut r = Reader::new(&t.payloads[1][1..]);
    assert_eq!(r.mpint_unsigned().expect("p").len(), 1024);
    assert_eq!(r.mpint_unsigned().expect("g"), &[2]);
}

#[test]
fn hybrid_blobs_have_draft_and_openssh_sizes_and_k_is_a_string() {
    for (alg, c_init, s_reply, k_len) in [
        (KexAlgorithm::MlKem768X25519Sha256, 1184 + 32, 1088 + 32, 32),
        (
            KexAlgorithm::Sntrup761X25519Sha512,
            1158 + 32,
            1039 + 32,
            64,
        ),
    ] {
        let t = seeded(alg, 12);
        let mut r = Reader::new(&t.payloads[0][1..]);
        assert_eq!(r.string().expect("C_INIT").len(), c_init, "{alg}");
        let mut r = Reader::new(&t.payloads[1][1..]);
        r.string().expect("K_S");
        assert_eq!(r.string().expect("S_REPLY").len(), s_reply, "{alg}");
        let k = t.client.shared_secret.encoded();
        assert_eq!(k.len(), 4 + k_len, "{alg}");
        assert_eq!(&k[..4], &(k_len as u32).to_be_bytes(), "{alg}");
    }
}

// ----- message order and framing -----

#[test]
fn client_rejects_a_reply_with_the_wrong_message_number() {
    for &alg in KexAlgorithm::ALL {
        let (mut c, _) = client(alg);
        let wrong = if alg == KexAlgorithm::DhGexSha256 {
            msg::KEX_DH_GEX_REPLY
        } else {
            msg::KEX_DH_GEX_REPLY + 1
        };
        assert_eq!(
            client_result(&mut c, &[wrong, 0, 0]),
            Err(KexError::UnexpectedMessage(wrong)),
            "{alg}"
        );
    }
}

#[test]
fn server_rejects_an_init_with_the_wrong_message_number() {
    for &alg in KexAlgorithm::ALL {
        let wrong = if alg == KexAlgorithm::DhGexSha256 {
            msg::KEX_DH_GEX_INIT
        } else {
            msg::KEXDH_REPLY
        };
        assert_eq!(
            server_result(alg, &[wrong, 0, 0, 0, 0]),
            Err(KexError::UnexpectedMessage(wrong)),
            "{alg}"
        );
    }
}

#[test]
fn gex_server_refuses_the_old_request_message() {
    assert_eq!(
        server_result(
            KexAlgorithm::DhGexSha256,
            &[msg::KEX_DH_GEX_REQUEST_OLD, 0, 0, 8, 0]
        ),
        Err(KexError::UnexpectedMessage(30))
    );
}

#[test]
fn messages_after_completion_are_unexpected() {
    let (mut c, init) = client(KexAlgorithm::Curve25519Sha256);
    let mut server = ServerKex::new(KexAlgorithm::Curve25519Sha256);
    let ServerKexStep::Reply(reply) = server
        .handle(&init, &mut SeededRandom::new(1))
        .expect("reply")
    else {
        panic!("curve25519 replies at once");
    };
    let payload = reply.encode_reply(HOST_KEY, SIGNATURE);
    assert!(client_result(&mut c, &payload).is_ok());
    assert_eq!(
        client_result(&mut c, &payload),
        Err(KexError::UnexpectedMessage(31))
    );
    assert_eq!(
        server.handle(&init, &mut SeededRandom::new(1)).err(),
        Some(KexError::UnexpectedMessage(30))
    );
}

#[test]
fn empty_payload_is_malformed() {
    let truncated = KexError::Malformed(WireError::Truncated {
        needed: 1,
        remaining: 0,
    });
    for &alg in KexAlgorithm::ALL {
        let (mut c, _) = client(alg);
        assert_eq!(client_result(&mut c, &[]), Err(truncated.clone()), "{alg}");
        assert_eq!(server_result(alg, &[]), Err(truncated.clone()), "{alg}");
    }
}

#[test]
fn truncated_messages_are_malformed() {
    for &alg in KexAlgorithm::ALL {
        let t = seeded(alg, 13);
        let last = t.payloads.len() - 1;
        // Server side: the client's first message cut short.
        let first = &t.payloads[0];
        assert!(
            matches!(
                server_result(alg, &first[..first.len() - 1]),
                Err(KexError::Malformed(WireError::Truncated { .. }))
            ),
            "{alg}"
        );
        // Client side: the server's final reply cut short.
        let mut c = client_in_final_state(alg, &t);
        let reply = &t.payloads[last];
        assert!(
            matches!(
                client_result(&mut c, &reply[..reply.len() - 1]),
                Err(KexError::Malformed(WireError::Truncated { .. }))
            ),
            "{alg}"
        );
    }
}

#[test]
fn trailing_bytes_are_malformed() {
    for &alg in KexAlgorithm::ALL {
        let t = seeded(alg, 14);
        let mut first = t.payloads[0].clone();
        first.push(0);
        assert_eq!(
            server_result(alg, &first),
            Err(KexError::Malformed(WireError::TrailingBytes(1))),
            "{alg}"
        );
        let mut c = client_in_final_state(alg, &t);
        let mut reply = t.payloads[t.payloads.len() - 1].clone();
        reply.push(0);
        assert_eq!(
            client_result(&mut c, &reply),
            Err(KexError::Malformed(WireError::TrailingBytes(1))),
            "{alg}"
        );
    }
}

/// A fresh client advanced to where it waits for the final reply (past GEX_GROUP for
/// group exchange). Its keys differ from the transcript's, which does not matter to the
/// framing checks: they fail before any cryptography.
fn client_in_final_state(alg: KexAlgorithm, t: &Transcript) -> ClientKex {
    let (mut c, _) = client(alg);
    if alg == KexAlgorithm::DhGexSha256 {
        let step = c
            .handle(&t.payloads[1], &mut SeededRandom::new(2))
            .expect("group accepted");
        assert!(matches!(step, ClientKexStep::Send(_)));
    }
    c
}

// ----- hostile public values -----

#[test]
fn client_rejects_dh_f_of_0_1_p_minus_1_and_p() {
    let (p_minus_1, p) = group14_p_minus_1_and_p();
    for f in [vec![], vec![1], p_minus_1, p] {
        let (mut c, _) = client(KexAlgorithm::DhGroup14Sha256);
        assert!(
            matches!(
                client_result(&mut c, &reply_with_mpint(msg::KEXDH_REPLY, &f)),
                Err(KexError::InvalidPublicValue {
                    what: "DH public value f",
                    ..
                })
            ),
            "f = {f:02x?}"
        );
    }
}

#[test]
fn server_rejects_dh_e_of_1_and_p_minus_1() {
    let (p_minus_1, _) = group14_p_minus_1_and_p();
    for e in [vec![1], p_minus_1] {
        assert!(matches!(
            server_result(
                KexAlgorithm::DhGroup14Sha1,
                &init_with_mpint(msg::KEXDH_INIT, &e)
            ),
            Err(KexError::InvalidPublicValue {
                what: "DH public value e",
                ..
            })
        ));
    }
}

#[test]
fn negative_mpint_is_malformed() {
    let (mut c, _) = client(KexAlgorithm::DhGroup16Sha512);
    let negative = reply_with_raw_value(msg::KEXDH_REPLY, &[0, 0, 0, 1, 0xff]);
    assert_eq!(
        client_result(&mut c, &negative),
        Err(KexError::Malformed(WireError::NegativeMpint))
    );
}

#[test]
fn curve25519_low_order_point_is_rejected_on_both_sides() {
    let (mut c, _) = client(KexAlgorithm::Curve25519Sha256LibSsh);
    assert_eq!(
        client_result(&mut c, &reply_with_string(&[0; 32])),
        Err(KexError::ZeroSharedSecret)
    );
    assert_eq!(
        server_result(KexAlgorithm::Curve25519Sha256, &init_with_string(&[0; 32])),
        Err(KexError::ZeroSharedSecret)
    );
}

#[test]
fn curve25519_key_of_wrong_length_is_rejected() {
    let (mut c, _) = client(KexAlgorithm::Curve25519Sha256);
    assert!(matches!(
        client_result(&mut c, &reply_with_string(&[9; 33])),
        Err(KexError::WrongLength {
            len: 33,
            expected: 32,
            ..
        })
    ));
    assert!(matches!(
        server_result(KexAlgorithm::Curve25519Sha256, &init_with_string(&[9; 31])),
        Err(KexError::WrongLength {
            len: 31,
            expected: 32,
            ..
        })
    ));
}

#[test]
fn ecdh_point_without_0x04_or_off_curve_is_rejected() {
    for alg in [
        KexAlgorithm::EcdhSha2Nistp256,
        KexAlgorithm::EcdhSha2Nistp384,
        KexAlgorithm::EcdhSha2Nistp521,
    ] {
        let (_, init) = client(alg);
        let mut r = Reader::new(&init[1..]);
        let q_c = r.string().expect("Q_C").to_vec();

        let mut no_prefix = q_c.clone();
        no_prefix[0] = 0x03;
        assert!(
            matches!(
                server_result(alg, &init_with_string(&no_prefix)),
                Err(KexError::InvalidPublicValue { .. })
            ),
            "{alg}"
        );
        let mut off_curve = q_c.clone();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 0x01;
        assert!(
            matches!(
                server_result(alg, &init_with_string(&off_curve)),
                Err(KexError::InvalidPublicValue {
                    reason: "not a point on the curve",
                    ..
                })
            ),
            "{alg}"
        );
        let (mut c, _) = client(alg);
        assert!(
            matches!(
                client_result(&mut c, &reply_with_string(&off_curve)),
                Err(KexError::InvalidPublicValue { .. })
            ),
            "{alg}"
        );
        let (mut c, _) = client(alg);
        assert!(
            matches!(
                client_result(&mut c, &reply_with_string(&q_c[..q_c.len() - 1])),
                Err(KexError::WrongLength { .. })
            ),
            "{alg}"
        );
    }
}

#[test]
fn hybrid_blobs_of_wrong_length_are_rejected() {
    for (alg, c_init_len, s_reply_len) in [
        (KexAlgorithm::MlKem768X25519Sha256, 1216, 1120),
        (KexAlgorithm::Sntrup761X25519Sha512OpenSsh, 1190, 1071),
    ] {
        for len in [c_init_len - 1, c_init_len + 1, 32] {
            assert!(
                matches!(
                    server_result(alg, &init_with_string(&vec![1; len])),
                    Err(KexError::WrongLength { expected, .. }) if expected == c_init_len
                ),
                "{alg} C_INIT {len}"
            );
        }
        for len in [s_reply_len - 1, s_reply_len + 1, 0] {
            let (mut c, _) = client(alg);
            assert!(
                matches!(
                    client_result(&mut c, &reply_with_string(&vec![1; len])),
                    Err(KexError::WrongLength { expected, .. }) if expected == s_reply_len
                ),
                "{alg} S_REPLY {len}"
            );
        }
    }
}

#[test]
fn hybrid_low_order_x25519_part_is_rejected_on_both_sides() {
    for alg in [
        KexAlgorithm::MlKem768X25519Sha256,
        KexAlgorithm::Sntrup761X25519Sha512,
    ] {
        let (mut c, init) = client(alg);
        let reply = server_reply_for(alg, &init);
        let mut r = Reader::new(&reply[1..]);
        r.string().expect("K_S");
        let mut s_reply = r.string().expect("S_REPLY").to_vec();
        let tail = s_reply.len() - 32;
        s_reply[tail..].fill(0);
        assert_eq!(
            client_result(&mut c, &reply_with_string(&s_reply)),
            Err(KexError::ZeroSharedSecret),
            "{alg}"
        );

        let mut r = Reader::new(&init[1..]);
        let mut c_init = r.string().expect("C_INIT").to_vec();
        let tail = c_init.len() - 32;
        c_init[tail..].fill(0);
        assert_eq!(
            server_result(alg, &init_with_string(&c_init)),
            Err(KexError::ZeroSharedSecret),
            "{alg}"
        );
    }
}

#[test]
fn hybrid_tampered_ciphertext_gives_a_different_secret_not_an_error() {
    // Both KEMs use implicit rejection: the signature check in the transport catches this.
    for alg in [
        KexAlgorithm::MlKem768X25519Sha256,
        KexAlgorithm::Sntrup761X25519Sha512,
    ] {
        let (mut c, init) = client(alg);
        let mut reply = server_reply_for(alg, &init);
        let position = 1 + 4 + HOST_KEY.len() + 4 + 10;
        reply[position] ^= 0x01;
        let ClientKexStep::Reply(r) = c
            .handle(&reply, &mut SeededRandom::new(1))
            .expect("decapsulates")
        else {
            panic!("reply expected");
        };
        assert_eq!(
            r.shared_secret.encoded().len(),
            if alg.hash() == HashAlgorithm::Sha256 {
                36
            } else {
                68
            }
        );
    }
}

// ----- group exchange -----

fn gex_group(p: &[u8], g: &[u8]) -> Vec<u8> {
    let mut out = vec![msg::KEX_DH_GEX_GROUP];
    out.put_mpint_unsigned(p);
    out.put_mpint_unsigned(g);
    out
}

#[test]
fn gex_client_rejects_a_prime_larger_than_its_maximum() {
    let (mut c, _) = client(KexAlgorithm::DhGexSha256);
    let mut p = vec![0xff; 1025]; // 8200 bits
    if let Some(last) = p.last_mut() {
        *last = 0xfd;
    }
    assert_eq!(
        client_result(&mut c, &gex_group(&p, &[2])),
        Err(KexError::GroupOutOfRange {
            bits: 8200,
            min: 2048,
            max: 8192
        })
    );
}

#[test]
fn gex_client_rejects_a_prime_smaller_than_its_minimum() {
    let (mut c, _) = client(KexAlgorithm::DhGexSha256);
    let p = &groups::GROUP14.prime[..128]; // 1024 bits, odd
    assert_eq!(
        client_result(&mut c, &gex_group(p, &[2])),
        Err(KexError::GroupOutOfRange {
            bits: 1024,
            min: 2048,
            max: 8192
        })
    );
}

#[test]
fn gex_client_rejects_an_even_prime_and_degenerate_generators() {
    let p = groups::GROUP14.prime;
    let (p_minus_1, _) = group14_p_minus_1_and_p();
    let cases: [(Vec<u8>, Vec<u8>); 4] = [
        (p_minus_1.clone(), vec![2]),
        (p.to_vec(), vec![1]),
        (p.to_vec(), vec![]),
        (p.to_vec(), p_minus_1),
    ];
    for (p, g) in cases {
        let (mut c, _) = client(KexAlgorithm::DhGexSha256);
        assert!(
            matches!(
                client_result(&mut c, &gex_group(&p, &g)),
                Err(KexError::InvalidGroup(_))
            ),
            "g = {g:02x?}"
        );
    }
}

#[test]
fn gex_client_rejects_f_of_1_from_the_server() {
    let (mut c, _) = client(KexAlgorithm::DhGexSha256);
    let step = c
        .handle(
            &gex_group(groups::GROUP14.prime, &[2]),
            &mut SeededRandom::new(3),
        )
        .expect("group accepted");
    assert!(matches!(step, ClientKexStep::Send(ref init) if init[0] == msg::KEX_DH_GEX_INIT));
    assert!(matches!(
        client_result(&mut c, &reply_with_mpint(msg::KEX_DH_GEX_REPLY, &[1])),
        Err(KexError::InvalidPublicValue { .. })
    ));
}

#[test]
fn gex_server_rejects_min_greater_than_max() {
    let mut request = vec![msg::KEX_DH_GEX_REQUEST];
    for v in [4096u32, 4096, 2048] {
        request.put_u32(v);
    }
    assert_eq!(
        server_result(KexAlgorithm::DhGexSha256, &request),
        Err(KexError::GexRequestOutOfRange {
            min: 4096,
            preferred: 4096,
            max: 2048
        })
    );
}

#[test]
fn gex_server_rejects_e_out_of_range_after_sending_the_group() {
    let mut server = ServerKex::new(KexAlgorithm::DhGexSha256);
    let (_, request) = client(KexAlgorithm::DhGexSha256);
    assert!(matches!(
        server.handle(&request, &mut SeededRandom::new(1)),
        Ok(ServerKexStep::Send(_))
    ));
    assert!(matches!(
        server.handle(
            &init_with_mpint(msg::KEX_DH_GEX_INIT, &[1]),
            &mut SeededRandom::new(1)
        ),
        Err(KexError::InvalidPublicValue {
            what: "DH public value e",
            ..
        })
    ));
}

#[test]
fn gex_client_with_a_small_request_gets_the_smallest_group() {
    let request = GexRequest {
        min: 2048,
        preferred: 2048,
        max: 3072,
    };
    let mut rng = SeededRandom::new(4);
    let (mut c, first) =
        ClientKex::start(KexAlgorithm::DhGexSha256, request, &mut rng).expect("start");
    let mut server = ServerKex::new(KexAlgorithm::DhGexSha256);
    let ServerKexStep::Send(group) = server.handle(&first, &mut rng).expect("group") else {
        panic!("group expected");
    };
    assert_eq!(group, gex_group(groups::GROUP14.prime, &[2]));
    assert!(matches!(
        c.handle(&group, &mut rng),
        Ok(ClientKexStep::Send(_))
    ));
}

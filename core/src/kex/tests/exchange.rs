//! Complete exchanges: agreement, determinism, known answers and hash-body layouts.

use super::*;
use crate::kex::test_util::{ScriptedRandom, hex};
use crate::kex::*;
use crate::wire::{Reader, Writer};

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

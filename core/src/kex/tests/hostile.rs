//! Hostile public values: out-of-range DH values, low-order and off-curve points, wrong sizes.

use super::*;
use crate::crypto::SeededRandom;
use crate::kex::*;
use crate::wire::{Reader, WireError, msg};

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

//! Message order and framing: wrong numbers, late messages, truncation, trailing bytes.

use super::*;
use crate::crypto::SeededRandom;
use crate::kex::*;
use crate::wire::{WireError, msg};

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

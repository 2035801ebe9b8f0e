//! Whole exchanges between a [`ClientKex`] and a [`ServerKex`], and what each side does
//! with hostile or out-of-order messages. This file holds the shared helpers.

mod exchange;
mod framing;
mod gex;
mod hostile;

use super::*;
use crate::crypto::{SecureRandom, SeededRandom};
use crate::wire::{Writer, msg};

pub(super) const HOST_KEY: &[u8] = b"\x00\x00\x00\x0bssh-ed25519 (test host key)";
pub(super) const SIGNATURE: &[u8] = b"(test signature)";

/// Every payload of one exchange, in order, plus both sides' results.
pub(super) struct Transcript {
    pub(super) payloads: Vec<Vec<u8>>,
    pub(super) client: KexReply,
    pub(super) server: ServerReply,
}

pub(super) fn run(
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

pub(super) fn seeded(alg: KexAlgorithm, seed: u64) -> Transcript {
    run(
        alg,
        &mut SeededRandom::new(seed),
        &mut SeededRandom::new(seed + 1000),
    )
}

/// The reply payload a server of `alg` would send, for tests that tamper with it.
pub(super) fn server_reply_for(alg: KexAlgorithm, init: &[u8]) -> Vec<u8> {
    match ServerKex::new(alg)
        .handle(init, &mut SeededRandom::new(99))
        .expect("server replies")
    {
        ServerKexStep::Reply(reply) => reply.encode_reply(HOST_KEY, SIGNATURE),
        ServerKexStep::Send(_) => panic!("one-round-trip method expected"),
    }
}

pub(super) fn client(alg: KexAlgorithm) -> (ClientKex, Vec<u8>) {
    ClientKex::start(alg, GexRequest::default(), &mut SeededRandom::new(7)).expect("client starts")
}

pub(super) fn client_result(client: &mut ClientKex, payload: &[u8]) -> Result<(), KexError> {
    client
        .handle(payload, &mut SeededRandom::new(8))
        .map(|_| ())
}

pub(super) fn server_result(alg: KexAlgorithm, payload: &[u8]) -> Result<(), KexError> {
    ServerKex::new(alg)
        .handle(payload, &mut SeededRandom::new(9))
        .map(|_| ())
}

/// `byte msg || string K_S || value || string signature`, with `value` already encoded.
pub(super) fn reply_with_raw_value(message: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![message];
    out.put_string(HOST_KEY);
    out.put_raw(value);
    out.put_string(SIGNATURE);
    out
}

pub(super) fn reply_with_string(value: &[u8]) -> Vec<u8> {
    let mut encoded = Vec::new();
    encoded.put_string(value);
    reply_with_raw_value(msg::KEXDH_REPLY, &encoded)
}

pub(super) fn reply_with_mpint(message: u8, magnitude: &[u8]) -> Vec<u8> {
    let mut encoded = Vec::new();
    encoded.put_mpint_unsigned(magnitude);
    reply_with_raw_value(message, &encoded)
}

pub(super) fn init_with_string(value: &[u8]) -> Vec<u8> {
    let mut out = vec![msg::KEXDH_INIT];
    out.put_string(value);
    out
}

pub(super) fn init_with_mpint(message: u8, magnitude: &[u8]) -> Vec<u8> {
    let mut out = vec![message];
    out.put_mpint_unsigned(magnitude);
    out
}

/// `p - 1` for the 2048-bit group, and `p` itself.
pub(super) fn group14_p_minus_1_and_p() -> (Vec<u8>, Vec<u8>) {
    let p = groups::GROUP14.prime.to_vec();
    let mut p_minus_1 = p.clone();
    if let Some(last) = p_minus_1.last_mut() {
        *last -= 1;
    }
    (p_minus_1, p)
}

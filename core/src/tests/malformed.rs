//! Hostile and broken input: each case must end in a named error with DISCONNECT
//! queued, never a panic, a hang or unbounded growth.

use super::*;
use crate::config::{ClientConfig, TransportConfig};
use crate::crypto::{SecureRandom, SeededRandom};
use crate::error::{ConnectionError, PeerMisbehaved};
use crate::event::Event;
use crate::wire::{Writer, msg};
use crate::{ClientConnection, ServerConnection};

/// A plaintext packet (the none cipher) with the given payload and padding length.
fn plain_packet(payload: &[u8], padding: u8) -> Vec<u8> {
    let mut out = Vec::new();
    out.put_u32((1 + payload.len() + padding as usize) as u32);
    out.put_u8(padding);
    out.put_raw(payload);
    out.extend(std::iter::repeat_n(0u8, padding as usize));
    out
}

/// Pads a payload the way a sender must for the none cipher (8-byte blocks).
fn aligned_plain_packet(payload: &[u8]) -> Vec<u8> {
    let mut padding = 8 - (5 + payload.len()) % 8;
    if padding < 4 {
        padding += 8;
    }
    plain_packet(payload, padding as u8)
}

fn server_engine() -> ServerConnection {
    ServerConnection::with_rng(
        ed25519_server(TransportConfig::default()),
        Box::new(SeededRandom::new(1)),
        epoch(),
    )
    .expect("server")
}

/// Feeds `bytes` (after a valid client identification) to a fresh server and returns
/// its terminal error, checking that a DISCONNECT was queued.
fn server_error_after(bytes: &[u8]) -> ConnectionError {
    let now = epoch();
    let mut server = server_engine();
    let mut out = Vec::new();
    let _ = server.poll_transmit(now, &mut out);
    server.handle_input(now, b"SSH-2.0-test\r\n");
    server.handle_input(now, bytes);
    let error = terminal_error(std::iter::from_fn(|| server.poll_event()));
    out.clear();
    assert!(
        server.poll_transmit(now, &mut out) > 0,
        "DISCONNECT queued for {error}"
    );
    assert_eq!(out[5], msg::DISCONNECT, "DISCONNECT is the packet queued");
    error
}

fn terminal_error(events: impl Iterator<Item = Event>) -> ConnectionError {
    events
        .filter_map(|e| match e {
            Event::Closed(err) => Some(err),
            _ => None,
        })
        .next()
        .expect("connection closed")
}

fn misbehaved(error: ConnectionError) -> PeerMisbehaved {
    match error {
        ConnectionError::PeerMisbehaved(p) => p,
        other => panic!("expected a protocol violation, got {other}"),
    }
}

#[test]
fn padding_below_four_bytes_is_rejected() {
    // 4 + 1 + 11 bytes: block-aligned, so only the padding is wrong.
    let packet = plain_packet(&[msg::IGNORE, 0, 0, 0, 6, 1, 2, 3, 4, 5, 6], 0);
    assert_eq!(
        misbehaved(server_error_after(&packet)),
        PeerMisbehaved::BadPadding(0)
    );
}

#[test]
fn padding_longer_than_packet_is_rejected() {
    let mut packet = aligned_plain_packet(&[msg::IGNORE, 0, 0, 0, 0]);
    packet[4] = 200;
    assert_eq!(
        misbehaved(server_error_after(&packet)),
        PeerMisbehaved::BadPadding(200)
    );
}

#[test]
fn oversize_length_is_rejected_before_allocation() {
    let error = misbehaved(server_error_after(&[0x7f, 0xff, 0xff, 0xf8, 4]));
    assert_eq!(error, PeerMisbehaved::PacketTooLarge(0x7fff_fff8));
}

#[test]
fn undersize_length_is_rejected() {
    assert_eq!(
        misbehaved(server_error_after(&[0, 0, 0, 4, 4])),
        PeerMisbehaved::PacketTooSmall(4)
    );
}

#[test]
fn misaligned_length_is_rejected() {
    assert_eq!(
        misbehaved(server_error_after(&[0, 0, 0, 13])),
        PeerMisbehaved::MisalignedPacket(13)
    );
}

#[test]
fn bad_identification_is_rejected() {
    let now = epoch();
    let mut server = server_engine();
    server.handle_input(now, b"SSH-1.5-ancient\r\n");
    let error = misbehaved(terminal_error(std::iter::from_fn(|| server.poll_event())));
    assert!(matches!(error, PeerMisbehaved::BadIdentification(_)));
}

#[test]
fn truncated_packet_then_eof_is_connection_lost() {
    let now = epoch();
    let mut server = server_engine();
    server.handle_input(now, b"SSH-2.0-test\r\n");
    server.handle_input(now, &aligned_plain_packet(&[msg::IGNORE, 0, 0, 0, 0])[..7]);
    server.handle_eof(now);
    let error = terminal_error(std::iter::from_fn(|| server.poll_event()));
    assert_eq!(error, ConnectionError::ConnectionLost);
}

#[test]
fn upper_layer_message_before_key_exchange_is_rejected() {
    let error = misbehaved(server_error_after(&aligned_plain_packet(&[200, 1, 2, 3])));
    assert!(matches!(
        error,
        PeerMisbehaved::UnexpectedMessage { number: 200, .. }
    ));
}

#[test]
fn newkeys_out_of_state_is_rejected() {
    let error = misbehaved(server_error_after(&aligned_plain_packet(&[msg::NEWKEYS])));
    assert!(matches!(
        error,
        PeerMisbehaved::UnexpectedMessage {
            number: msg::NEWKEYS,
            ..
        }
    ));
}

#[test]
fn kex_reply_sent_to_a_server_is_rejected() {
    // The client's KEXINIT first, so the server is in the exchange, then a reply.
    let mut client = ClientConnection::with_rng(
        ClientConfig::default(),
        Box::new(SeededRandom::new(3)),
        epoch(),
    );
    let now = epoch();
    let mut out = Vec::new();
    let _ = client.poll_transmit(now, &mut out);
    let mut server = server_engine();
    server.handle_input(now, &out);
    server.handle_input(now, &aligned_plain_packet(&[msg::KEXDH_REPLY, 0, 0, 0, 0]));
    let error = misbehaved(terminal_error(std::iter::from_fn(|| server.poll_event())));
    assert!(matches!(error, PeerMisbehaved::KeyExchange(_)), "{error}");
}

/// The client's identification and KEXINIT, split at the end of the identification.
fn client_opening(strict: bool) -> (Vec<u8>, Vec<u8>) {
    let mut config = ClientConfig::default();
    config.transport.strict_kex = strict;
    let mut client = ClientConnection::with_rng(config, Box::new(SeededRandom::new(3)), epoch());
    let mut out = Vec::new();
    let _ = client.poll_transmit(epoch(), &mut out);
    let ident_end = out.windows(2).position(|w| w == b"\r\n").expect("CR LF") + 2;
    let kexinit = out.split_off(ident_end);
    (out, kexinit)
}

#[test]
fn ignore_before_kexinit_violates_strict_kex() {
    let (ident, kexinit) = client_opening(true);
    let mut input = ident;
    input.extend(aligned_plain_packet(&[msg::IGNORE, 0, 0, 0, 0]));
    input.extend(kexinit);
    let now = epoch();
    let mut server = server_engine();
    server.handle_input(now, &input);
    let error = misbehaved(terminal_error(std::iter::from_fn(|| server.poll_event())));
    assert_eq!(
        error,
        PeerMisbehaved::StrictKex("KEXINIT was not the first packet")
    );
}

#[test]
fn ignore_after_kexinit_violates_strict_kex() {
    let (ident, kexinit) = client_opening(true);
    let mut input = ident;
    input.extend(kexinit);
    input.extend(aligned_plain_packet(&[msg::IGNORE, 0, 0, 0, 0]));
    let now = epoch();
    let mut server = server_engine();
    server.handle_input(now, &input);
    let error = misbehaved(terminal_error(std::iter::from_fn(|| server.poll_event())));
    assert!(matches!(error, PeerMisbehaved::StrictKex(_)), "{error}");
}

#[test]
fn ignore_before_kexinit_is_tolerated_without_strict_kex() {
    let (ident, kexinit) = client_opening(false);
    let mut input = ident;
    input.extend(aligned_plain_packet(&[msg::IGNORE, 0, 0, 0, 0]));
    input.extend(kexinit);
    let now = epoch();
    let mut server = server_engine();
    server.handle_input(now, &input);
    assert!(std::iter::from_fn(|| server.poll_event()).all(|e| !matches!(e, Event::Closed(_))));
}

fn established_pair(seed: u64) -> Pair {
    established_pair_with(seed, crate::cipher::CipherAlgorithm::Chacha20Poly1305)
}

fn established_pair_with(seed: u64, cipher: crate::cipher::CipherAlgorithm) -> Pair {
    let mut config = ClientConfig::default();
    config.transport.algorithms.kex = vec![crate::kex::KexAlgorithm::Curve25519Sha256];
    config.transport.algorithms.ciphers = vec![cipher];
    let mut pair = Pair::seeded(config, ed25519_server(TransportConfig::default()), seed);
    pair.handshake();
    pair
}

#[test]
fn flipped_bit_in_flight_fails_the_mac() {
    let mut pair = established_pair(20);
    pair.client.send_ignore(b"payload");
    let mut out = Vec::new();
    let _ = pair.client.poll_transmit(pair.now, &mut out);
    out[10] ^= 1;
    pair.server.handle_input(pair.now, &out);
    pair.drive();
    assert_eq!(
        pair.server_seen.closed(),
        Some(&ConnectionError::PeerMisbehaved(PeerMisbehaved::BadMac))
    );
    assert!(matches!(
        pair.client_seen.closed(),
        Some(ConnectionError::PeerDisconnected { .. })
    ));
}

#[test]
fn deleted_packet_shifts_sequence_number_and_fails_the_mac() {
    // AES-GCM sends the length in clear, so the sequence number shows in the tag.
    let mut pair = established_pair_with(21, crate::cipher::CipherAlgorithm::Aes128Gcm);
    pair.client.send_ignore(b"first");
    let mut first = Vec::new();
    let _ = pair.client.poll_transmit(pair.now, &mut first);
    pair.client.send_ignore(b"second");
    let mut second = Vec::new();
    let _ = pair.client.poll_transmit(pair.now, &mut second);
    // The first packet never arrives: the second is opened with the wrong number.
    pair.server.handle_input(pair.now, &second);
    pair.drive();
    assert_eq!(
        pair.server_seen.closed(),
        Some(&ConnectionError::PeerMisbehaved(PeerMisbehaved::BadMac))
    );
}

#[test]
fn deleted_packet_under_chacha_garbles_the_length_and_fails() {
    // chacha20-poly1305 keys the length encryption with the sequence number: the
    // length decrypts to noise, caught by the size checks or the tag.
    let mut pair = established_pair(21);
    pair.client.send_ignore(b"first");
    let mut first = Vec::new();
    let _ = pair.client.poll_transmit(pair.now, &mut first);
    pair.client.send_ignore(&[7u8; 300]);
    let mut second = Vec::new();
    let _ = pair.client.poll_transmit(pair.now, &mut second);
    pair.server.handle_input(pair.now, &second);
    pair.server.handle_eof(pair.now);
    pair.drive();
    assert!(matches!(
        pair.server_seen.closed(),
        Some(ConnectionError::PeerMisbehaved(
            PeerMisbehaved::BadMac
                | PeerMisbehaved::PacketTooLarge(_)
                | PeerMisbehaved::MisalignedPacket(_)
        )) | Some(ConnectionError::ConnectionLost)
    ));
}

#[test]
fn client_sending_server_only_messages_is_disconnected() {
    for payload in [
        &[msg::SERVICE_ACCEPT, 0, 0, 0, 0][..],
        &[msg::USERAUTH_SUCCESS][..],
        &[msg::USERAUTH_FAILURE, 0, 0, 0, 0, 0][..],
    ] {
        let mut pair = established_pair(22);
        pair.client.transport_mut().inject_packet(payload);
        pair.drive();
        assert_eq!(
            pair.server_seen.closed(),
            Some(&ConnectionError::PeerMisbehaved(PeerMisbehaved::WrongRole(
                payload[0]
            )))
        );
    }
}

#[test]
fn server_sending_client_only_messages_is_disconnected() {
    let mut pair = established_pair(23);
    let request = crate::wire::transport::encode_with_string(msg::SERVICE_REQUEST, b"x");
    pair.server.transport_mut().inject_packet(&request);
    pair.drive();
    assert_eq!(
        pair.client_seen.closed(),
        Some(&ConnectionError::PeerMisbehaved(PeerMisbehaved::WrongRole(
            msg::SERVICE_REQUEST
        )))
    );
}

#[test]
fn ext_info_outside_its_place_is_rejected() {
    let mut pair = established_pair(24);
    let ext = crate::wire::transport::encode_ext_info(&[("server-sig-algs", b"ssh-ed25519")]);
    pair.server.transport_mut().inject_packet(&ext);
    pair.drive();
    assert!(matches!(
        pair.client_seen.closed(),
        Some(ConnectionError::PeerMisbehaved(
            PeerMisbehaved::UnexpectedMessage {
                number: msg::EXT_INFO,
                ..
            }
        ))
    ));
}

#[test]
fn unknown_message_after_kex_gets_unimplemented_and_connection_survives() {
    let mut pair = established_pair(25);
    pair.client.transport_mut().inject_packet(&[250, 1, 2, 3]);
    pair.client.transport_mut().inject_packet(&[15]);
    pair.drive();
    assert_eq!(pair.server_seen.closed(), None);
    assert_eq!(pair.client_seen.closed(), None);
    pair.exchange_data(2, 100, &mut SeededRandom::new(1));
}

#[test]
fn malformed_kexinit_is_rejected() {
    let error = misbehaved(server_error_after(&aligned_plain_packet(&[
        msg::KEXINIT,
        1,
        2,
        3,
    ])));
    assert!(matches!(
        error,
        PeerMisbehaved::MalformedMessage {
            number: msg::KEXINIT,
            ..
        }
    ));
}

#[test]
fn random_garbage_never_panics_and_always_ends() {
    for seed in 0..200u64 {
        let mut rng = SeededRandom::new(seed);
        let mut garbage = vec![0u8; 1 + (rng.next_u64() % 4096) as usize];
        rng.fill(&mut garbage);
        let now = epoch();
        let mut server = server_engine();
        server.handle_input(now, b"SSH-2.0-fuzz\r\n");
        server.handle_input(now, &garbage);
        let mut client = ClientConnection::with_rng(
            ClientConfig::default(),
            Box::new(SeededRandom::new(seed)),
            now,
        );
        client.handle_input(now, b"SSH-2.0-fuzz\r\n");
        client.handle_input(now, &garbage);
        // Whatever happened, more garbage and an EOF end the connection cleanly.
        for engine_closed in [
            {
                server.handle_eof(now);
                std::iter::from_fn(|| server.poll_event()).any(|e| matches!(e, Event::Closed(_)))
            },
            {
                client.handle_eof(now);
                std::iter::from_fn(|| client.poll_event()).any(|e| matches!(e, Event::Closed(_)))
            },
        ] {
            assert!(engine_closed, "seed {seed}");
        }
    }
}

#[test]
fn unimplemented_answer_to_our_kexinit_fails_fast() {
    let mut pair = established_pair(26);
    // The server sees our KEXINIT as unknown: play that by answering with
    // UNIMPLEMENTED for its sequence number instead of processing it.
    pair.client.rekey(pair.now);
    let mut kexinit = Vec::new();
    let _ = pair.client.poll_transmit(pair.now, &mut kexinit);
    let seq = pair.server.transport_mut().next_read_sequence();
    pair.server
        .transport_mut()
        .inject_packet(&crate::wire::transport::encode_unimplemented(seq));
    pair.drive();
    assert_eq!(
        pair.client_seen.closed(),
        Some(&ConnectionError::KeyExchangeRefused)
    );
}

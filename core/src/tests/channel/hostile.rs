//! A peer that breaks the connection protocol: every case ends in a named
//! violation (with DISCONNECT sent), never a panic or unbounded growth.

use super::*;
use crate::channel::wire::{self, ConnectionMessage};
use crate::channel::{ChannelKind, ChannelRequest, GlobalRequest};
use crate::error::DisconnectReason;
use crate::wire::{Writer, msg};

fn from_client(pair: &mut Pair, payloads: &[Vec<u8>]) {
    for payload in payloads {
        pair.client.transport_mut().inject_packet(payload);
    }
    pair.drive();
}

fn from_server(pair: &mut Pair, payloads: &[Vec<u8>]) {
    for payload in payloads {
        pair.server.transport_mut().inject_packet(payload);
    }
    pair.drive();
}

fn data(recipient: ChannelId, len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    wire::put_data_header(&mut out, recipient.number(), None, len);
    out.resize(out.len() + len, 0x55);
    out
}

fn only(number: u8, recipient: ChannelId) -> Vec<u8> {
    wire::encode_channel_only(number, recipient.number())
}

/// The misbehaving side was told why with a protocol-error DISCONNECT.
fn assert_peer_was_disconnected(seen: &Observed) {
    assert!(
        matches!(
            seen.closed(),
            Some(ConnectionError::PeerDisconnected {
                reason: DisconnectReason::ProtocolError,
                ..
            })
        ),
        "{:?}",
        seen.closed()
    );
}

#[test]
fn data_overrunning_our_window_disconnects() {
    let server = ConnectionConfig {
        window_size: 1000,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(ConnectionConfig::default(), server, 80);
    let (_, s) = open_session(&mut pair);
    from_client(&mut pair, &[data(s, 600), data(s, 401)]);
    assert_eq!(
        violation(&pair.server_seen),
        PeerMisbehaved::WindowExceeded {
            channel: s.number(),
            len: 401,
            available: 400
        }
    );
    assert_peer_was_disconnected(&pair.client_seen);
}

#[test]
fn window_adjust_overflowing_u32_disconnects() {
    let mut pair = connected(81);
    let (c, _) = open_session(&mut pair);
    let room = u32::MAX - pair.client.channel(c).send_window();
    from_server(&mut pair, &[wire::encode_window_adjust(c.number(), room)]);
    assert_eq!(
        pair.client.channel(c).send_window(),
        u32::MAX,
        "up to the limit is fine"
    );
    from_server(&mut pair, &[wire::encode_window_adjust(c.number(), 1)]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::WindowOverflow(c.number())
    );
    assert_peer_was_disconnected(&pair.server_seen);
}

#[test]
fn data_larger_than_our_max_packet_disconnects() {
    let server = ConnectionConfig {
        max_packet_size: 1000,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(ConnectionConfig::default(), server, 82);
    let (_, s) = open_session(&mut pair);
    from_client(&mut pair, &[data(s, 1000), data(s, 1001)]);
    assert_eq!(
        violation(&pair.server_seen),
        PeerMisbehaved::ChannelPacketTooLarge {
            channel: s.number(),
            len: 1001,
            max: 1000
        }
    );
}

#[test]
fn an_open_with_max_packet_zero_is_refused() {
    let mut pair = connected(83);
    pair.client.transport_mut().deliver_upper_messages();
    let open = wire::encode_open(&ChannelKind::Session, 5, 1024, 0);
    from_client(&mut pair, &[open]);
    let reply = pair.client.transport_mut().poll_upper().expect("a reply");
    match ConnectionMessage::decode(&reply).unwrap() {
        Some(ConnectionMessage::OpenFailure {
            recipient, reason, ..
        }) => assert_eq!((recipient, reason), (5, 1)),
        other => panic!("expected an open failure, got {other:?}"),
    }
    assert!(open_requests(&mut pair.server_seen).is_empty());
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn a_confirmation_with_max_packet_zero_disconnects() {
    let mut pair = connected(84);
    let c = pair.client.channels().open_session().unwrap();
    pair.drive();
    let _undecided = open_requests(&mut pair.server_seen);
    let confirm = wire::encode_open_confirmation(c.number(), 9, 1024, 0);
    from_server(&mut pair, &[confirm]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::ZeroMaxPacket(c.number())
    );
}

#[test]
fn a_message_for_an_unknown_channel_disconnects() {
    let mut pair = connected(85);
    from_server(&mut pair, &[data(ChannelId(999), 1)]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::UnknownChannel {
            number: msg::CHANNEL_DATA,
            channel: 999
        }
    );
}

#[test]
fn a_message_for_a_freed_channel_disconnects() {
    let mut pair = connected(86);
    let (c, s) = open_session(&mut pair);
    pair.client.channel(c).close().unwrap();
    pair.drive();
    let _ = s;
    from_server(&mut pair, &[only(msg::CHANNEL_EOF, c)]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::UnknownChannel {
            number: msg::CHANNEL_EOF,
            channel: c.number()
        }
    );
}

#[test]
fn data_after_eof_disconnects() {
    let mut pair = connected(87);
    let (c, _) = open_session(&mut pair);
    from_server(&mut pair, &[only(msg::CHANNEL_EOF, c), data(c, 1)]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::DataAfterEof(c.number())
    );
}

#[test]
fn a_second_eof_disconnects() {
    let mut pair = connected(88);
    let (c, _) = open_session(&mut pair);
    from_server(
        &mut pair,
        &[only(msg::CHANNEL_EOF, c), only(msg::CHANNEL_EOF, c)],
    );
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::DuplicateEof(c.number())
    );
}

#[test]
fn a_request_after_the_peers_close_disconnects() {
    let mut pair = connected(89);
    let (c, s) = open_session(&mut pair);
    pair.server.channel(s).write(b"unread").unwrap();
    pair.drive();
    let request = wire::encode_channel_request(c.number(), &ChannelRequest::ExitStatus(0), false);
    from_server(&mut pair, &[only(msg::CHANNEL_CLOSE, c), request]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::MessageAfterClose {
            number: msg::CHANNEL_REQUEST,
            channel: c.number()
        }
    );
}

#[test]
fn a_reply_to_no_request_disconnects() {
    let mut pair = connected(90);
    let (c, _) = open_session(&mut pair);
    from_server(&mut pair, &[only(msg::CHANNEL_SUCCESS, c)]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::UnsolicitedChannelReply(c.number())
    );
}

#[test]
fn a_global_reply_to_no_request_disconnects() {
    let mut pair = connected(91);
    from_server(&mut pair, &[vec![msg::REQUEST_FAILURE]]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::UnsolicitedGlobalReply
    );
}

#[test]
fn connection_messages_before_authentication_disconnect() {
    let mut pair = Pair::seeded(
        ClientConfig::default(),
        server_config(ConnectionConfig::default()),
        92,
    );
    pair.handshake();
    let request = wire::encode_global_request(&GlobalRequest::KeepAlive, true);
    from_client(&mut pair, &[request]);
    assert_eq!(
        violation(&pair.server_seen),
        PeerMisbehaved::UnexpectedMessage {
            number: msg::GLOBAL_REQUEST,
            context: "before user authentication"
        }
    );
}

#[test]
fn data_on_a_channel_not_yet_confirmed_disconnects() {
    let mut pair = connected(93);
    let c = pair.client.channels().open_session().unwrap();
    pair.drive();
    let _undecided = open_requests(&mut pair.server_seen);
    from_server(&mut pair, &[data(c, 1)]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::ChannelNotOpen {
            number: msg::CHANNEL_DATA,
            channel: c.number()
        }
    );
}

#[test]
fn a_second_confirmation_disconnects() {
    let mut pair = connected(94);
    let (c, _) = open_session(&mut pair);
    let confirm = wire::encode_open_confirmation(c.number(), 1, 1024, 1024);
    from_server(&mut pair, &[confirm]);
    assert_eq!(
        violation(&pair.client_seen),
        PeerMisbehaved::ChannelNotOpen {
            number: msg::CHANNEL_OPEN_CONFIRMATION,
            channel: c.number()
        }
    );
}

#[test]
fn a_malformed_pty_request_disconnects() {
    let mut pair = connected(95);
    let (_, s) = open_session(&mut pair);
    let mut request = vec![msg::CHANNEL_REQUEST];
    request.put_u32(s.number());
    request.put_string(b"pty-req");
    request.put_bool(true);
    request.put_string(b"xterm");
    request.put_u32(80);
    from_client(&mut pair, &[request]);
    assert!(matches!(
        violation(&pair.server_seen),
        PeerMisbehaved::MalformedMessage {
            number: msg::CHANNEL_REQUEST,
            ..
        }
    ));
}

#[test]
fn a_peer_piling_up_unanswered_requests_is_disconnected() {
    let server = ConnectionConfig {
        max_pending_requests: 2,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(ConnectionConfig::default(), server, 96);
    let (c, _) = open_session(&mut pair);
    for _ in 0..3 {
        pair.client.channel(c).request_shell(true).unwrap();
    }
    pair.drive();
    assert_eq!(
        violation(&pair.server_seen),
        PeerMisbehaved::TooManyPendingRequests(2)
    );
}

#[test]
fn an_unassigned_connection_message_is_answered_unimplemented() {
    let mut pair = connected(97);
    from_client(&mut pair, &[vec![101, 1, 2, 3]]);
    assert_eq!(pair.client_seen.closed(), None);
    assert_eq!(pair.server_seen.closed(), None);
    let (c, s) = open_session(&mut pair);
    pair.client.channel(c).write(b"still fine").unwrap();
    pair.drive();
    assert_eq!(read_all(&mut pair.server, s), b"still fine");
}

#[test]
fn the_peers_traffic_crossing_our_close_is_tolerated() {
    let mut pair = connected(98);
    let (c, s) = open_session(&mut pair);
    pair.client.channel(c).close().unwrap();
    pair.server.channel(s).write(&pattern(98, 50_000)).unwrap();
    pair.server.channel(s).exit_status(0).unwrap();
    pair.server.channel(s).eof().unwrap();
    pair.drive();
    assert_eq!(pair.client_seen.closed(), None);
    assert_eq!(pair.server_seen.closed(), None);
    assert_eq!(pair.client.channels().len(), 0);
    assert_eq!(pair.server.channels().len(), 0);
}

#[test]
fn a_peer_piling_up_unanswered_global_requests_is_disconnected() {
    let server = ConnectionConfig {
        max_pending_requests: 2,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(ConnectionConfig::default(), server, 99);
    let request = GlobalRequest::TcpipForward {
        address: String::new(),
        port: 0,
    };
    for _ in 0..3 {
        pair.client
            .channels()
            .global_request(&request, true)
            .unwrap();
    }
    pair.drive();
    assert_eq!(
        violation(&pair.server_seen),
        PeerMisbehaved::TooManyPendingRequests(2)
    );
}

#[test]
fn extended_data_of_an_unknown_type_is_dropped_but_counted() {
    let client = ConnectionConfig {
        window_size: 1000,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(client, ConnectionConfig::default(), 100);
    let (c, _) = open_session(&mut pair);
    let mut ext = Vec::new();
    wire::put_data_header(&mut ext, c.number(), Some(2), 600);
    ext.resize(ext.len() + 600, 0);
    from_server(&mut pair, &[ext]);
    assert!(!saw(&pair.client_seen, |e| matches!(
        e,
        Event::ChannelReadable(_)
    )));
    // Dropped data gives its credit straight back once half the window is used.
    assert_eq!(pair.client.channel(c).receive_window(), 1000);
    assert_eq!(pair.client.channel(c).read_stderr(), None);
    assert_eq!(pair.client.channel(c).read(), None);
    assert_eq!(pair.client_seen.closed(), None);
}

//! Opening channels, moving data, and flow control (RFC 4254 §5.1, §5.2).

use super::*;
use crate::channel::{ChannelError, ChannelKind, OpenFailureReason, WriteError};

fn small_window(window: u32) -> ConnectionConfig {
    ConnectionConfig {
        window_size: window,
        ..ConnectionConfig::default()
    }
}

#[test]
fn session_open_is_confirmed_on_both_sides() {
    let mut pair = connected(1);
    let (client_id, server_id) = open_session(&mut pair);
    assert!(pair.client.channel(client_id).is_open());
    assert!(pair.server.channel(server_id).is_open());
    assert_eq!(
        pair.client.channel(client_id).send_window(),
        2 * 1024 * 1024
    );
    assert_eq!(pair.client.channel(client_id).peer_max_packet(), 32 * 1024);
    assert_eq!(pair.client.channels().len(), 1);
}

#[test]
fn data_flows_both_ways_intact() {
    let mut pair = connected(2);
    let (c, s) = open_session(&mut pair);
    let up = pattern(1, 300_000);
    let down = pattern(2, 200_000);
    assert_eq!(pair.client.channel(c).write(&up), Ok(up.len()));
    assert_eq!(pair.server.channel(s).write(&down), Ok(down.len()));
    pair.drive();
    assert_eq!(read_all(&mut pair.server, s), up);
    assert_eq!(read_all(&mut pair.client, c), down);
    assert!(saw(
        &pair.server_seen,
        |e| matches!(e, Event::ChannelReadable(id) if *id == s)
    ));
}

#[test]
fn stderr_is_kept_apart_from_stdout() {
    let mut pair = connected(3);
    let (c, s) = open_session(&mut pair);
    pair.server.channel(s).write(b"out 1 ").unwrap();
    pair.server.channel(s).write_stderr(b"err 1 ").unwrap();
    pair.server.channel(s).write(b"out 2").unwrap();
    pair.server.channel(s).write_stderr(b"err 2").unwrap();
    pair.drive();
    assert_eq!(read_all(&mut pair.client, c), b"out 1 out 2");
    assert_eq!(read_all_stderr(&mut pair.client, c), b"err 1 err 2");
}

#[test]
fn reads_come_as_one_slice_per_packet_split_to_the_peers_max_packet() {
    let server = ConnectionConfig {
        max_packet_size: 1000,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(ConnectionConfig::default(), server, 4);
    let (c, s) = open_session(&mut pair);
    assert_eq!(pair.client.channel(c).peer_max_packet(), 1000);
    pair.client.channel(c).write(&pattern(4, 10_500)).unwrap();
    pair.drive();
    let chunks: Vec<usize> = std::iter::from_fn(|| pair.server.channel(s).read())
        .map(|b| b.len())
        .collect();
    assert_eq!(
        chunks,
        [
            1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 500
        ]
    );
}

#[test]
fn read_max_hands_out_part_of_a_packet() {
    let mut pair = connected(5);
    let (c, s) = open_session(&mut pair);
    pair.client.channel(c).write(b"abcdef").unwrap();
    pair.drive();
    assert_eq!(
        pair.server.channel(s).read_max(4).as_deref(),
        Some(&b"abcd"[..])
    );
    assert_eq!(pair.server.channel(s).read().as_deref(), Some(&b"ef"[..]));
    assert_eq!(pair.server.channel(s).read(), None);
}

#[test]
fn an_exactly_filled_window_is_accepted_and_then_holds_data() {
    let mut pair = connected_with(ConnectionConfig::default(), small_window(64 * 1024), 6);
    let (c, s) = open_session(&mut pair);
    let data = pattern(6, 64 * 1024 + 100);
    assert_eq!(
        pair.client.channel(c).write(&data[..64 * 1024]),
        Ok(64 * 1024)
    );
    pair.drive();
    assert_eq!(pair.client.channel(c).send_window(), 0);
    assert_eq!(pair.server.channel(s).receive_window(), 0);
    assert_eq!(
        pair.server_seen.closed(),
        None,
        "a full window is no overrun"
    );
    // The window is shut: more data waits in the client's queue.
    assert_eq!(pair.client.channel(c).write(&data[64 * 1024..]), Ok(100));
    pair.drive();
    assert_eq!(pair.client.channel(c).queued(), 100);
    let mut got = read_all(&mut pair.server, s);
    pair.drive();
    got.extend(read_all(&mut pair.server, s));
    assert_eq!(got, data);
    assert_eq!(pair.client.channel(c).queued(), 0);
}

#[test]
fn window_adjust_is_sent_once_half_the_window_is_read() {
    let mut pair = connected_with(ConnectionConfig::default(), small_window(64 * 1024), 7);
    let (c, s) = open_session(&mut pair);
    pair.client
        .channel(c)
        .write(&pattern(7, 64 * 1024))
        .unwrap();
    pair.drive();
    let mut read = 0;
    while read < 32 * 1024 - 1 {
        read += pair
            .server
            .channel(s)
            .read_max(32 * 1024 - 1 - read)
            .unwrap()
            .len();
    }
    pair.drive();
    assert_eq!(
        pair.client.channel(c).send_window(),
        0,
        "no credit before half"
    );
    pair.server.channel(s).read_max(1).unwrap();
    pair.drive();
    assert_eq!(pair.client.channel(c).send_window(), 32 * 1024);
}

#[test]
fn write_blocks_when_the_queue_is_full_then_reports_writable() {
    let client = ConnectionConfig {
        max_buffered_per_channel: 10_000,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(client, small_window(16 * 1024), 8);
    let (c, s) = open_session(&mut pair);
    let data = pattern(8, 40_000);
    let first = pair.client.channel(c).write(&data).unwrap();
    assert_eq!(first, 16 * 1024 + 10_000, "the window, then the queue");
    assert_eq!(
        pair.client.channel(c).write(&data[first..]),
        Err(WriteError::Blocked)
    );
    pair.drive();
    assert!(!saw(&pair.client_seen, |e| matches!(
        e,
        Event::ChannelWritable(_)
    )));
    let mut got = read_all(&mut pair.server, s);
    pair.drive();
    assert!(saw(
        &pair.client_seen,
        |e| matches!(e, Event::ChannelWritable(id) if *id == c)
    ));
    let rest = pair.client.channel(c).write(&data[first..]).unwrap();
    assert!(rest > 0);
    for _ in 0..10 {
        pair.drive();
        got.extend(read_all(&mut pair.server, s));
    }
    assert_eq!(got, data[..first + rest]);
}

#[test]
fn data_and_requests_given_before_confirmation_follow_it() {
    let mut pair = connected(9);
    let c = pair.client.channels().open_session().unwrap();
    pair.client.channel(c).request_exec("true", true).unwrap();
    assert_eq!(pair.client.channel(c).write(b"early"), Ok(5));
    assert!(!pair.client.channel(c).is_open());
    pair.drive();
    let decision = open_requests(&mut pair.server_seen).remove(0);
    let s = pair.server.channels().accept_open(decision).unwrap();
    pair.drive();
    let requests = channel_requests(&mut pair.server_seen);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].request().name(), "exec");
    assert_eq!(read_all(&mut pair.server, s), b"early");
}

#[test]
fn open_refusal_reports_reason_and_description() {
    let reasons = [
        OpenFailureReason::AdministrativelyProhibited,
        OpenFailureReason::ConnectFailed,
        OpenFailureReason::UnknownChannelType,
        OpenFailureReason::ResourceShortage,
        OpenFailureReason::Unknown(77),
    ];
    let mut pair = connected(10);
    for (i, reason) in reasons.into_iter().enumerate() {
        let c = pair.client.channels().open_session().unwrap();
        pair.drive();
        let decision = open_requests(&mut pair.server_seen).remove(0);
        let text = format!("no {i}");
        pair.server.channels().reject_open(decision, reason, &text);
        pair.drive();
        let failures = take(&mut pair.client_seen, |e| match e {
            Event::ChannelOpenFailed {
                id,
                reason,
                description,
            } => Ok((id, reason, description)),
            other => Err(other),
        });
        assert_eq!(failures, [(c, reason, text)]);
        assert_eq!(reason.code(), [1, 2, 3, 4, 77][i]);
        assert_eq!(OpenFailureReason::from_code(reason.code()), reason);
    }
    assert_eq!(pair.client.channels().len(), 0, "refused ids are freed");
}

#[test]
fn dropped_open_decision_refuses_the_channel() {
    let mut pair = connected(11);
    pair.client.channels().open_session().unwrap();
    pair.drive();
    drop(open_requests(&mut pair.server_seen));
    pair.drive();
    assert!(saw(&pair.client_seen, |e| matches!(
        e,
        Event::ChannelOpenFailed {
            reason: OpenFailureReason::AdministrativelyProhibited,
            ..
        }
    )));
    assert_eq!(pair.server.channels().len(), 0);
}

#[test]
fn opens_past_the_channel_limit_are_refused_for_resource_shortage() {
    let server = ConnectionConfig {
        max_channels: 2,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(ConnectionConfig::default(), server, 12);
    for _ in 0..3 {
        pair.client.channels().open_session().unwrap();
    }
    pair.drive();
    assert_eq!(open_requests(&mut pair.server_seen).len(), 2, "two pending");
    assert!(saw(&pair.client_seen, |e| matches!(
        e,
        Event::ChannelOpenFailed {
            reason: OpenFailureReason::ResourceShortage,
            ..
        }
    )));
}

#[test]
fn opening_past_our_own_limit_fails_locally() {
    let client = ConnectionConfig {
        max_channels: 1,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(client, ConnectionConfig::default(), 13);
    pair.client.channels().open_session().unwrap();
    assert_eq!(
        pair.client.channels().open_session(),
        Err(ChannelError::TooManyChannels)
    );
}

#[test]
fn opening_before_authentication_is_refused() {
    let mut pair = Pair::seeded(
        ClientConfig::default(),
        server_config(ConnectionConfig::default()),
        14,
    );
    pair.handshake();
    assert_eq!(
        pair.client.channels().open_session(),
        Err(ChannelError::NotReady)
    );
}

#[test]
fn server_can_open_channels_to_the_client() {
    let mut pair = connected(15);
    let kind = ChannelKind::ForwardedTcpip {
        address: "127.0.0.1".into(),
        port: 8080,
        originator_address: "10.0.0.1".into(),
        originator_port: 5555,
    };
    let s = pair.server.channels().open(kind.clone()).unwrap();
    pair.drive();
    let decision = open_requests(&mut pair.client_seen).remove(0);
    assert_eq!(decision.kind(), &kind);
    assert_eq!(decision.peer_window(), 2 * 1024 * 1024);
    let c = pair.client.channels().accept_open(decision).unwrap();
    pair.drive();
    assert!(saw(
        &pair.server_seen,
        |e| matches!(e, Event::ChannelOpened(id) if *id == s)
    ));
    pair.client.channel(c).write(b"hello").unwrap();
    pair.drive();
    assert_eq!(read_all(&mut pair.server, s), b"hello");
}

#[test]
fn every_channel_kind_round_trips() {
    let kinds = [
        ChannelKind::Session,
        ChannelKind::X11 {
            originator_address: "192.168.1.2".into(),
            originator_port: 6010,
        },
        ChannelKind::DirectTcpip {
            host: "example.org".into(),
            port: 443,
            originator_address: "127.0.0.1".into(),
            originator_port: 40000,
        },
        ChannelKind::ForwardedTcpip {
            address: "0.0.0.0".into(),
            port: 2222,
            originator_address: "::1".into(),
            originator_port: 1,
        },
        ChannelKind::DirectStreamlocal {
            socket_path: "/run/app.sock".into(),
        },
        ChannelKind::ForwardedStreamlocal {
            socket_path: "/tmp/fwd.sock".into(),
        },
        ChannelKind::AuthAgent,
        ChannelKind::Unknown {
            name: "tun@openssh.com".into(),
            data: bytes::Bytes::from_static(&[0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff]),
        },
    ];
    let mut pair = connected(16);
    for kind in kinds {
        pair.client.channels().open(kind.clone()).unwrap();
        pair.drive();
        let decision = open_requests(&mut pair.server_seen).remove(0);
        assert_eq!(decision.kind(), &kind, "{}", kind.name());
        pair.server.channels().accept_open(decision).unwrap();
        pair.drive();
    }
}

#[test]
fn readable_is_reported_once_until_the_stream_is_drained() {
    let mut pair = connected(17);
    let (c, s) = open_session(&mut pair);
    let readable = |seen: &mut Observed| {
        take(seen, |e| match e {
            Event::ChannelReadable(id) => Ok(id),
            other => Err(other),
        })
    };
    pair.server.channel(s).write(b"one").unwrap();
    pair.drive();
    pair.server.channel(s).write(b"two").unwrap();
    pair.drive();
    assert_eq!(readable(&mut pair.client_seen), [c]);
    assert_eq!(read_all(&mut pair.client, c), b"onetwo");
    pair.server.channel(s).write(b"three").unwrap();
    pair.drive();
    assert_eq!(
        readable(&mut pair.client_seen),
        [c],
        "reported again after draining"
    );
}

#[test]
fn without_a_send_queue_writes_go_straight_to_the_window() {
    let client = ConnectionConfig {
        max_buffered_per_channel: 0,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(client, small_window(4096), 18);
    let (c, s) = open_session(&mut pair);
    let data = pattern(18, 6000);
    assert_eq!(pair.client.channel(c).write(&data), Ok(4096));
    assert_eq!(
        pair.client.channel(c).write(&data[4096..]),
        Err(WriteError::Blocked)
    );
    pair.drive();
    assert_eq!(read_all(&mut pair.server, s), data[..4096]);
    pair.drive();
    assert!(saw(
        &pair.client_seen,
        |e| matches!(e, Event::ChannelWritable(id) if *id == c)
    ));
    assert_eq!(pair.client.channel(c).write(&data[4096..]), Ok(6000 - 4096));
}

#[test]
fn a_channel_opened_with_its_own_window_and_packet_size_gets_them() {
    let mut pair = connected(40);
    let c = pair
        .client
        .channels()
        .open_with(ChannelKind::Session, 8 * 1024 * 1024, 100_000)
        .expect("open");
    pair.drive();
    let mut opens = open_requests(&mut pair.server_seen);
    let s = pair
        .server
        .channels()
        .accept_open(opens.remove(0))
        .expect("accept");
    pair.drive();
    assert_eq!(pair.server.channel(s).send_window(), 8 * 1024 * 1024);
    assert_eq!(pair.server.channel(s).peer_max_packet(), 100_000);
    pair.server.channel(s).write(&pattern(40, 250_000)).unwrap();
    pair.drive();
    let chunks: Vec<usize> = std::iter::from_fn(|| pair.client.channel(c).read())
        .map(|b| b.len())
        .collect();
    assert_eq!(chunks, [100_000, 100_000, 50_000]);
    // Other channels keep the connection's settings.
    let (_, other) = open_session(&mut pair);
    assert_eq!(pair.server.channel(other).send_window(), 2 * 1024 * 1024);
    assert_eq!(pair.server.channel(other).peer_max_packet(), 32 * 1024);
}

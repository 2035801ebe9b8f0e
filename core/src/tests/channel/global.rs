//! Global requests (RFC 4254 §4, §7.1) and OpenSSH's: keepalive, hostkeys-00 and
//! no-more-sessions.

use std::time::Duration;

use super::*;
use crate::channel::{ChannelKind, GlobalRequest};
use crate::error::TimerKind;

fn results(seen: &mut Observed) -> Vec<(bool, Option<u32>)> {
    take(seen, |e| match e {
        Event::GlobalRequestResult {
            success,
            bound_port,
            ..
        } => Ok((success, bound_port)),
        other => Err(other),
    })
}

fn keepalive(interval: u64) -> ConnectionConfig {
    ConnectionConfig {
        keepalive_interval: Some(Duration::from_secs(interval)),
        ..ConnectionConfig::default()
    }
}

#[test]
fn the_server_announces_its_host_keys_after_authentication() {
    let mut pair = Pair::new(
        ClientConfig::default(),
        server_config(ConnectionConfig::default()),
        60,
    );
    pair.handshake();
    pair.client.mark_authenticated(pair.now);
    pair.server.mark_authenticated(pair.now);
    pair.drive();
    let announced = take(&mut pair.client_seen, |e| match e {
        Event::HostKeysAnnounced(keys) => Ok(keys),
        other => Err(other),
    });
    let expected = server_config(ConnectionConfig::default()).host_keys[0].public_key();
    assert_eq!(announced, [vec![expected]]);
    assert_eq!(pair.client_seen.closed(), None);
}

#[test]
fn host_key_announcement_can_be_turned_off() {
    let server = ConnectionConfig {
        announce_host_keys: false,
        ..ConnectionConfig::default()
    };
    let mut pair = Pair::new(ClientConfig::default(), server_config(server), 61);
    pair.handshake();
    pair.client.mark_authenticated(pair.now);
    pair.server.mark_authenticated(pair.now);
    pair.drive();
    assert!(!saw(&pair.client_seen, |e| matches!(
        e,
        Event::HostKeysAnnounced(_)
    )));
}

#[test]
fn tcpip_forward_is_answered_with_the_bound_port() {
    let mut pair = connected(62);
    let request = GlobalRequest::TcpipForward {
        address: "localhost".into(),
        port: 0,
    };
    pair.client
        .channels()
        .global_request(&request, true)
        .unwrap();
    pair.drive();
    let decision = global_requests(&mut pair.server_seen).remove(0);
    assert_eq!(decision.request(), &request);
    assert!(decision.want_reply());
    pair.server.channels().accept_global(decision, Some(40123));
    pair.drive();
    assert_eq!(results(&mut pair.client_seen), [(true, Some(40123))]);
}

#[test]
fn cancel_tcpip_forward_round_trips_and_can_be_refused() {
    let mut pair = connected(63);
    let request = GlobalRequest::CancelTcpipForward {
        address: "0.0.0.0".into(),
        port: 8022,
    };
    pair.client
        .channels()
        .global_request(&request, true)
        .unwrap();
    pair.drive();
    let decision = global_requests(&mut pair.server_seen).remove(0);
    assert_eq!(decision.request(), &request);
    pair.server.channels().reject_global(decision);
    pair.drive();
    assert_eq!(results(&mut pair.client_seen), [(false, None)]);
}

#[test]
fn other_global_requests_round_trip() {
    let requests = [
        GlobalRequest::StreamlocalForward {
            socket_path: "/tmp/a.sock".into(),
        },
        GlobalRequest::CancelStreamlocalForward {
            socket_path: "/tmp/a.sock".into(),
        },
        GlobalRequest::Unknown {
            name: "x@example.org".into(),
            data: bytes::Bytes::from_static(b"\x01"),
        },
    ];
    let mut pair = connected(64);
    for request in &requests {
        pair.client
            .channels()
            .global_request(request, false)
            .unwrap();
    }
    pair.drive();
    let got: Vec<_> = global_requests(&mut pair.server_seen)
        .into_iter()
        .map(|d| d.request().clone())
        .collect();
    assert_eq!(got, requests);
}

#[test]
fn global_replies_go_out_in_request_order() {
    let mut pair = connected(65);
    for port in [1, 2, 3] {
        let request = GlobalRequest::TcpipForward {
            address: String::new(),
            port,
        };
        pair.client
            .channels()
            .global_request(&request, true)
            .unwrap();
    }
    pair.drive();
    let mut decisions = global_requests(&mut pair.server_seen);
    let third = decisions.pop().unwrap();
    let second = decisions.pop().unwrap();
    let first = decisions.pop().unwrap();
    pair.server.channels().accept_global(second, None);
    pair.server.channels().accept_global(third, None);
    pair.drive();
    assert_eq!(results(&mut pair.client_seen), []);
    pair.server.channels().reject_global(first);
    pair.drive();
    assert_eq!(
        results(&mut pair.client_seen),
        [(false, None), (true, None), (true, None)]
    );
}

#[test]
fn a_dropped_global_decision_is_answered_failure() {
    let mut pair = connected(66);
    let request = GlobalRequest::TcpipForward {
        address: String::new(),
        port: 0,
    };
    pair.client
        .channels()
        .global_request(&request, true)
        .unwrap();
    pair.drive();
    drop(global_requests(&mut pair.server_seen));
    pair.drive();
    assert_eq!(results(&mut pair.client_seen), [(false, None)]);
}

#[test]
fn after_no_more_sessions_other_channel_kinds_still_reach_the_server() {
    let mut pair = connected(67);
    pair.client.channels().no_more_sessions().unwrap();
    let tcp = ChannelKind::DirectTcpip {
        host: "localhost".into(),
        port: 80,
        originator_address: "127.0.0.1".into(),
        originator_port: 1234,
    };
    pair.client.channels().open(tcp).unwrap();
    pair.drive();
    let opens = open_requests(&mut pair.server_seen);
    assert_eq!(opens.len(), 1);
    assert_eq!(opens[0].kind().name(), "direct-tcpip");
    assert!(global_requests(&mut pair.server_seen).is_empty());
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn a_session_opened_after_no_more_sessions_disconnects_the_client() {
    let mut pair = connected(67);
    pair.client.channels().no_more_sessions().unwrap();
    pair.client.channels().open_session().unwrap();
    pair.drive();
    assert_eq!(
        pair.server_seen.closed(),
        Some(&crate::error::ConnectionError::PeerMisbehaved(
            crate::error::PeerMisbehaved::SessionAfterNoMoreSessions
        ))
    );
    assert!(open_requests(&mut pair.server_seen).is_empty());
}

#[test]
fn an_unanswered_peer_is_disconnected_after_the_keepalive_count() {
    let mut pair = connected_with(keepalive(10), ConnectionConfig::default(), 68);
    // From here on nothing is delivered: the server has gone silent.
    let start = pair.now;
    for step in 1..=3 {
        pair.advance(Duration::from_secs(10));
        assert!(!pair.client.is_closed(), "probe {step} sent, still waiting");
    }
    assert_eq!(
        pair.client.poll_timeout(),
        Some(start + Duration::from_secs(40))
    );
    pair.advance(Duration::from_secs(10));
    assert!(pair.client.is_closed());
    let closed = std::iter::from_fn(|| pair.client.poll_event()).find_map(|e| match e {
        Event::Closed(err) => Some(err),
        _ => None,
    });
    assert_eq!(
        closed,
        Some(ConnectionError::TimedOut(TimerKind::Keepalive))
    );
}

#[test]
fn answered_keepalives_keep_a_quiet_connection_up() {
    let mut pair = connected_with(keepalive(10), keepalive(15), 69);
    for _ in 0..50 {
        pair.advance_to_next_timeout();
        pair.drive();
    }
    assert!(pair.now >= epoch() + Duration::from_secs(200));
    assert_eq!(pair.client_seen.closed(), None);
    assert_eq!(pair.server_seen.closed(), None);
    assert!(
        global_requests(&mut pair.server_seen).is_empty(),
        "probes stay internal"
    );
    assert!(global_requests(&mut pair.client_seen).is_empty());
    assert!(results(&mut pair.client_seen).is_empty());
}

#[test]
fn the_server_times_out_a_silent_client() {
    let mut pair = connected_with(ConnectionConfig::default(), keepalive(5), 70);
    for _ in 0..3 {
        pair.advance(Duration::from_secs(5));
    }
    assert!(!pair.server.is_closed());
    pair.advance(Duration::from_secs(5));
    assert!(pair.server.is_closed());
}

#[test]
fn traffic_from_the_peer_resets_the_keepalive_count() {
    let mut pair = connected_with(keepalive(10), ConnectionConfig::default(), 71);
    let (c, s) = open_session(&mut pair);
    for _ in 0..10 {
        // Three silent intervals, then the peer speaks: never four in a row.
        for _ in 0..3 {
            pair.advance(Duration::from_secs(10));
        }
        pair.server.channel(s).write(b"tick").unwrap();
        pair.drive();
        read_all(&mut pair.client, c);
    }
    assert_eq!(pair.client_seen.closed(), None);
}

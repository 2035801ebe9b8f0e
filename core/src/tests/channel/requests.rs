//! Channel requests (RFC 4254 §6, RFC 4335): every type round-trips, replies come
//! in request order, and unanswered decisions are answered failure.

use super::*;
use crate::channel::{
    ChannelError, ChannelRequest, PtyRequest, TerminalMode, TerminalModes, X11Request,
};

fn full_pty() -> PtyRequest {
    let mut modes = TerminalModes::new();
    for (i, mode) in TerminalMode::ALL.iter().enumerate() {
        modes.set(*mode, i as u32 * 3);
    }
    PtyRequest {
        term: "xterm-256color".into(),
        cols: 132,
        rows: 43,
        width_px: 1024,
        height_px: 768,
        modes,
    }
}

/// What a client sends on a session channel.
fn client_requests() -> Vec<ChannelRequest> {
    vec![
        ChannelRequest::Pty(full_pty()),
        ChannelRequest::X11(X11Request {
            single_connection: true,
            auth_protocol: "MIT-MAGIC-COOKIE-1".into(),
            auth_cookie: "00112233445566778899aabbccddeeff".into(),
            screen: 0,
        }),
        ChannelRequest::Env {
            name: "LANG".into(),
            value: "en_US.UTF-8".into(),
        },
        ChannelRequest::Shell,
        ChannelRequest::Exec {
            command: b"ls -l /tmp/\xff".to_vec(),
        },
        ChannelRequest::Subsystem {
            name: "sftp".into(),
        },
        ChannelRequest::WindowChange {
            cols: 80,
            rows: 24,
            width_px: 640,
            height_px: 480,
        },
        ChannelRequest::Signal { name: "INT".into() },
        ChannelRequest::Break { ms: 500 },
        ChannelRequest::AuthAgent,
        ChannelRequest::Unknown {
            name: "custom@example.org".into(),
            data: bytes::Bytes::from_static(b"\x00\x00\x00\x01z"),
        },
    ]
}

/// What a server sends on a session channel.
fn server_requests() -> Vec<ChannelRequest> {
    vec![
        ChannelRequest::XonXoff {
            client_can_do: true,
        },
        ChannelRequest::ExitStatus(42),
        ChannelRequest::ExitSignal {
            name: "SEGV".into(),
            core_dumped: true,
            message: "Segmentation fault".into(),
        },
    ]
}

#[test]
fn every_client_request_type_round_trips() {
    let mut pair = connected(40);
    let (c, s) = open_session(&mut pair);
    let sent = client_requests();
    for (i, request) in sent.iter().enumerate() {
        pair.client.channel(c).request(request, i % 2 == 0).unwrap();
    }
    pair.drive();
    let got = channel_requests(&mut pair.server_seen);
    assert_eq!(got.len(), sent.len());
    for (i, (decision, request)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(decision.request(), request);
        assert_eq!(decision.channel(), s);
        assert_eq!(decision.want_reply(), i % 2 == 0, "{}", request.name());
    }
}

#[test]
fn every_server_request_type_round_trips() {
    let mut pair = connected(41);
    let (c, s) = open_session(&mut pair);
    let sent = server_requests();
    for request in &sent {
        pair.server.channel(s).request(request, false).unwrap();
    }
    pair.drive();
    let got: Vec<_> = channel_requests(&mut pair.client_seen)
        .into_iter()
        .map(|d| (d.channel(), d.request().clone()))
        .collect();
    let expected: Vec<_> = sent.into_iter().map(|r| (c, r)).collect();
    assert_eq!(got, expected);
}

#[test]
fn typed_helpers_send_the_requests_they_name() {
    let mut pair = connected(42);
    let (c, s) = open_session(&mut pair);
    let pty = full_pty();
    let mut chan = pair.client.channel(c);
    chan.request_pty(&pty, true).unwrap();
    chan.request_env("TZ", "UTC", false).unwrap();
    chan.request_exec("uname -a", true).unwrap();
    chan.request_subsystem("sftp", true).unwrap();
    chan.request_shell(true).unwrap();
    chan.window_change(100, 50, 0, 0).unwrap();
    chan.signal("TERM").unwrap();
    chan.send_break(0, false).unwrap();
    chan.request_agent_forwarding(false).unwrap();
    pair.server.channel(s).exit_status(3).unwrap();
    pair.server
        .channel(s)
        .exit_signal("KILL", false, "killed")
        .unwrap();
    pair.server.channel(s).xon_xoff(false).unwrap();
    pair.drive();
    let names: Vec<String> = channel_requests(&mut pair.server_seen)
        .iter()
        .map(|d| d.request().name().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "pty-req",
            "env",
            "exec",
            "subsystem",
            "shell",
            "window-change",
            "signal",
            "break",
            "auth-agent-req@openssh.com"
        ]
    );
    let to_client: Vec<ChannelRequest> = channel_requests(&mut pair.client_seen)
        .iter()
        .map(|d| d.request().clone())
        .collect();
    assert_eq!(
        to_client,
        [
            ChannelRequest::ExitStatus(3),
            ChannelRequest::ExitSignal {
                name: "KILL".into(),
                core_dumped: false,
                message: "killed".into()
            },
            ChannelRequest::XonXoff {
                client_can_do: false
            }
        ]
    );
}

#[test]
fn replies_go_out_in_request_order_whatever_the_answer_order() {
    let mut pair = connected(43);
    let (c, _) = open_session(&mut pair);
    for name in ["A", "B", "C"] {
        pair.client.channel(c).request_env(name, "1", true).unwrap();
    }
    pair.drive();
    let mut decisions = channel_requests(&mut pair.server_seen);
    let third = decisions.pop().unwrap();
    let second = decisions.pop().unwrap();
    let first = decisions.pop().unwrap();
    pair.server.channels().accept_request(third);
    pair.drive();
    assert_eq!(
        request_results(&mut pair.client_seen),
        [],
        "the first is unanswered"
    );
    pair.server.channels().reject_request(first);
    pair.drive();
    assert_eq!(request_results(&mut pair.client_seen), [(c, false)]);
    pair.server.channels().accept_request(second);
    pair.drive();
    assert_eq!(
        request_results(&mut pair.client_seen),
        [(c, true), (c, true)]
    );
}

#[test]
fn a_dropped_request_decision_is_answered_failure() {
    let mut pair = connected(44);
    let (c, _) = open_session(&mut pair);
    pair.client.channel(c).request_shell(true).unwrap();
    pair.drive();
    drop(channel_requests(&mut pair.server_seen));
    pair.drive();
    assert_eq!(request_results(&mut pair.client_seen), [(c, false)]);
}

#[test]
fn a_request_without_want_reply_gets_no_answer() {
    let mut pair = connected(45);
    let (c, _) = open_session(&mut pair);
    pair.client.channel(c).window_change(1, 2, 3, 4).unwrap();
    pair.drive();
    let decision = channel_requests(&mut pair.server_seen).remove(0);
    assert!(!decision.want_reply());
    pair.server.channels().accept_request(decision);
    pair.drive();
    assert_eq!(request_results(&mut pair.client_seen), []);
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn requests_only_the_other_side_sends_are_refused_locally() {
    let mut pair = connected(46);
    let (c, s) = open_session(&mut pair);
    assert_eq!(
        pair.client.channel(c).exit_status(0),
        Err(ChannelError::WrongSide("exit-status"))
    );
    assert_eq!(
        pair.server.channel(s).request_exec("id", true),
        Err(ChannelError::WrongSide("exec"))
    );
}

#[test]
fn a_channel_keepalive_is_answered_failure_by_the_engine() {
    let mut pair = connected(47);
    let (c, s) = open_session(&mut pair);
    pair.server
        .channel(s)
        .request(&ChannelRequest::KeepAlive, true)
        .unwrap();
    pair.drive();
    assert_eq!(channel_requests(&mut pair.client_seen).len(), 0);
    assert_eq!(request_results(&mut pair.server_seen), [(s, false)]);
    let _ = c;
}

#[test]
fn pending_requests_are_bounded() {
    let client = ConnectionConfig {
        max_pending_requests: 2,
        ..ConnectionConfig::default()
    };
    let mut pair = connected_with(client, ConnectionConfig::default(), 48);
    let (c, _) = open_session(&mut pair);
    pair.client.channel(c).request_shell(true).unwrap();
    pair.client.channel(c).request_shell(true).unwrap();
    assert_eq!(
        pair.client.channel(c).request_shell(true),
        Err(ChannelError::TooManyPending)
    );
    pair.drive();
    for d in channel_requests(&mut pair.server_seen) {
        pair.server.channels().accept_request(d);
    }
    pair.drive();
    assert_eq!(pair.client.channel(c).request_shell(true), Ok(()));
}

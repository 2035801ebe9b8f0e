//! Hostile and broken input to both engines: a malformed request gets a status (bad
//! message or unsupported), broken framing or sequencing closes the session, and
//! nothing panics.

use crate::crypto::{SecureRandom, SeededRandom};
use crate::sftp::wire::fxp;
use crate::sftp::{
    ClientConfig, ClientEvent, DecodeError, FrameError, PeerMisbehaved, RequestId, RequestKind,
    ServerConfig, ServerEvent, SessionError, SftpClient, SftpServer, StatusCode,
};
use crate::wire::{Reader, WireError, Writer};

fn packet(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    p.put_u32(body.len() as u32 + 1);
    p.put_u8(ty);
    p.put_raw(body);
    p
}

/// A request body: id then the fields `fill` writes.
fn request(ty: u8, id: u32, fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut body = Vec::new();
    body.put_u32(id);
    fill(&mut body);
    packet(ty, &body)
}

fn init() -> Vec<u8> {
    request(fxp::INIT, 3, |_| {})
}

/// A server that has answered INIT, with its output drained.
fn running_server() -> SftpServer {
    let mut server = SftpServer::new(ServerConfig::default());
    server.handle_input(&init());
    let _ = server.poll_transmit(&mut Vec::new());
    assert!(matches!(
        server.poll_event(),
        Some(ServerEvent::Initialized { .. })
    ));
    server
}

/// The (type, id, status code) of each packet in `out`; code is 0 for non-status.
fn responses(out: &[u8]) -> Vec<(u8, u32, u32)> {
    let mut r = Reader::new(out);
    let mut found = Vec::new();
    while r.remaining() > 0 {
        let body = r.string().unwrap();
        let mut b = Reader::new(body);
        let ty = b.u8().unwrap();
        let id = b.u32().unwrap();
        let code = if ty == fxp::STATUS {
            b.u32().unwrap()
        } else {
            0
        };
        found.push((ty, id, code));
    }
    found
}

fn server_answers(packets: &[Vec<u8>]) -> (SftpServer, Vec<(u8, u32, u32)>) {
    let mut server = running_server();
    for p in packets {
        server.handle_input(p);
    }
    let mut out = Vec::new();
    let _ = server.poll_transmit(&mut out);
    (server, responses(&out))
}

fn closed_with(server: &mut SftpServer) -> SessionError {
    let mut last = None;
    while let Some(e) = server.poll_event() {
        last = Some(e);
    }
    match last {
        Some(ServerEvent::Closed(e)) => e,
        other => panic!("server did not close: {other:?}"),
    }
}

fn misbehaved(e: PeerMisbehaved) -> SessionError {
    SessionError::PeerMisbehaved(e)
}

const BAD_MESSAGE: u32 = 5;
const OP_UNSUPPORTED: u32 = 8;

#[test]
fn an_oversized_packet_closes_the_server_before_its_body_arrives() {
    let mut server = running_server();
    server.handle_input(&(256 * 1024 + 1u32).to_be_bytes());
    assert_eq!(
        closed_with(&mut server),
        misbehaved(PeerMisbehaved::Framing(FrameError::TooLong {
            len: 256 * 1024 + 1,
            max: 256 * 1024
        }))
    );
    assert!(server.is_closed());
    server.handle_input(&init());
    assert_eq!(server.poll_event(), None);
}

#[test]
fn a_zero_length_packet_closes_the_server() {
    let mut server = running_server();
    server.handle_input(&[0, 0, 0, 0]);
    assert_eq!(
        closed_with(&mut server),
        misbehaved(PeerMisbehaved::Framing(FrameError::Empty))
    );
}

#[test]
fn a_request_before_init_closes_the_server_without_a_reply() {
    let mut server = SftpServer::new(ServerConfig::default());
    server.handle_input(&request(fxp::STAT, 1, |b| b.put_string(b"/")));
    let mut out = Vec::new();
    assert_eq!(server.poll_transmit(&mut out), 0);
    assert_eq!(
        closed_with(&mut server),
        misbehaved(PeerMisbehaved::RequestBeforeInit(fxp::STAT))
    );
}

#[test]
fn a_second_init_closes_the_server() {
    let mut server = running_server();
    server.handle_input(&init());
    assert_eq!(
        closed_with(&mut server),
        misbehaved(PeerMisbehaved::DuplicateInit)
    );
}

#[test]
fn an_init_without_a_version_closes_the_server() {
    let mut server = SftpServer::new(ServerConfig::default());
    server.handle_input(&packet(fxp::INIT, &[0, 0]));
    assert!(matches!(
        closed_with(&mut server),
        SessionError::PeerMisbehaved(PeerMisbehaved::MalformedHello(_))
    ));
}

#[test]
fn a_request_too_short_for_an_id_closes_the_server() {
    let mut server = running_server();
    server.handle_input(&packet(fxp::STAT, &[0, 0]));
    assert_eq!(
        closed_with(&mut server),
        misbehaved(PeerMisbehaved::MissingRequestId(fxp::STAT))
    );
}

#[test]
fn a_truncated_request_gets_bad_message_and_the_session_goes_on() {
    let truncated = request(fxp::OPEN, 7, |b| {
        b.put_u32(1000);
        b.put_raw(b"short");
    });
    let stat = request(fxp::STAT, 8, |b| b.put_string(b"/"));
    let (mut server, answers) = server_answers(&[truncated, stat]);
    assert_eq!(answers, vec![(fxp::STATUS, 7, BAD_MESSAGE)]);
    assert!(matches!(
        server.poll_event(),
        Some(ServerEvent::Request {
            id: RequestId(8),
            ..
        })
    ));
}

#[test]
fn trailing_bytes_after_a_request_get_bad_message() {
    let p = request(fxp::STAT, 9, |b| {
        b.put_string(b"/");
        b.put_u8(0);
    });
    assert_eq!(server_answers(&[p]).1, vec![(fxp::STATUS, 9, BAD_MESSAGE)]);
}

#[test]
fn unknown_attribute_flags_get_bad_message() {
    let p = request(fxp::SETSTAT, 10, |b| {
        b.put_string(b"/f");
        b.put_u32(0x0000_0010);
    });
    assert_eq!(server_answers(&[p]).1, vec![(fxp::STATUS, 10, BAD_MESSAGE)]);
}

#[test]
fn a_huge_extended_attribute_count_gets_bad_message() {
    let p = request(fxp::SETSTAT, 11, |b| {
        b.put_string(b"/f");
        b.put_u32(0x8000_0000);
        b.put_u32(u32::MAX);
    });
    assert_eq!(server_answers(&[p]).1, vec![(fxp::STATUS, 11, BAD_MESSAGE)]);
}

#[test]
fn an_overlong_handle_gets_bad_message() {
    let p = request(fxp::READ, 12, |b| {
        b.put_string(&[b'h'; 300]);
        b.put_u64(0);
        b.put_u32(10);
    });
    assert_eq!(server_answers(&[p]).1, vec![(fxp::STATUS, 12, BAD_MESSAGE)]);
}

#[test]
fn an_extension_name_that_is_not_utf8_gets_bad_message() {
    let p = request(fxp::EXTENDED, 13, |b| b.put_string(&[0xff, 0xfe]));
    assert_eq!(server_answers(&[p]).1, vec![(fxp::STATUS, 13, BAD_MESSAGE)]);
}

#[test]
fn unknown_packet_types_and_responses_sent_to_the_server_get_op_unsupported() {
    let unknown = request(99, 14, |_| {});
    let status = request(fxp::STATUS, 15, |b| b.put_u32(0));
    assert_eq!(
        server_answers(&[unknown, status]).1,
        vec![
            (fxp::STATUS, 14, OP_UNSUPPORTED),
            (fxp::STATUS, 15, OP_UNSUPPORTED)
        ]
    );
}

#[test]
fn reusing_the_id_of_a_request_in_flight_closes_the_server() {
    let stat = request(fxp::STAT, 16, |b| b.put_string(b"/"));
    let (mut server, _) = server_answers(&[stat.clone(), stat]);
    assert_eq!(
        closed_with(&mut server),
        misbehaved(PeerMisbehaved::DuplicateRequestId(RequestId(16)))
    );
}

#[test]
fn random_packets_never_panic_the_server() {
    let mut rng = SeededRandom::new(70);
    for _ in 0..3000 {
        let mut server = running_server();
        let mut body = vec![0u8; (rng.next_u64() % 64) as usize];
        rng.fill(&mut body);
        let ty = match rng.next_u64() % 3 {
            0 => (rng.next_u64() % 256) as u8,
            _ => [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 18, 20, 200][(rng.next_u64() % 13) as usize],
        };
        if ty == fxp::EXTENDED && rng.next_u64() % 2 == 0 {
            let name = crate::sftp::Extension::ALL[(rng.next_u64() % 11) as usize].name();
            let mut b = vec![0, 0, 0, 1];
            b.put_string(name.as_bytes());
            b.extend_from_slice(&body);
            body = b;
        }
        server.handle_input(&packet(ty, &body));
        while let Some(event) = server.poll_event() {
            if let ServerEvent::Request { id, .. } = event {
                let _ = server.respond(id, Err(crate::sftp::SftpError::failure("no")));
            }
        }
        let _ = server.poll_transmit(&mut Vec::new());
    }
}

#[test]
fn random_bytes_never_panic_the_server() {
    let mut rng = SeededRandom::new(71);
    for _ in 0..500 {
        let mut server = SftpServer::new(ServerConfig::default());
        if rng.next_u64() % 2 == 0 {
            server.handle_input(&init());
        }
        let mut junk = vec![0u8; (rng.next_u64() % 200) as usize];
        rng.fill(&mut junk);
        server.handle_input(&junk);
        while server.poll_event().is_some() {}
    }
}

// ----- the client -----

fn version(v: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.put_u32(v);
    packet(fxp::VERSION, &body)
}

/// A ready client (no limits negotiation) with one STAT in flight.
fn client_with_stat() -> (SftpClient, RequestId) {
    let mut client = SftpClient::new(ClientConfig {
        negotiate_limits: false,
        ..ClientConfig::default()
    });
    let _ = client.poll_transmit(&mut Vec::new());
    client.handle_input(&version(3));
    assert_eq!(client.poll_event(), Some(ClientEvent::Ready));
    let id = client.stat("/").unwrap();
    (client, id)
}

fn client_closed_with(client: &mut SftpClient) -> SessionError {
    let mut last = None;
    while let Some(e) = client.poll_event() {
        last = Some(e);
    }
    match last {
        Some(ClientEvent::Closed(e)) => e,
        other => panic!("client did not close: {other:?}"),
    }
}

#[test]
fn a_response_before_version_closes_the_client() {
    let mut client = SftpClient::new(ClientConfig::default());
    client.handle_input(&request(fxp::STATUS, 0, |b| b.put_u32(0)));
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::ResponseBeforeVersion(fxp::STATUS))
    );
}

#[test]
fn a_server_of_another_version_closes_the_client() {
    let mut client = SftpClient::new(ClientConfig::default());
    client.handle_input(&version(2));
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::UnsupportedVersion(2))
    );
}

#[test]
fn a_second_version_closes_the_client_and_fails_requests_in_flight() {
    let (mut client, id) = client_with_stat();
    client.handle_input(&version(3));
    assert_eq!(
        client.poll_event(),
        Some(ClientEvent::Response {
            id,
            result: Err(crate::sftp::SftpError::from_code(
                StatusCode::ConnectionLost
            ))
        })
    );
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::DuplicateVersion)
    );
}

#[test]
fn a_response_to_an_unknown_id_closes_the_client() {
    let (mut client, id) = client_with_stat();
    client.handle_input(&request(fxp::STATUS, id.0 + 1, |b| b.put_u32(0)));
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::UnknownRequestId(RequestId(id.0 + 1)))
    );
}

#[test]
fn a_reply_of_the_wrong_type_closes_the_client() {
    let (mut client, id) = client_with_stat();
    client.handle_input(&request(fxp::HANDLE, id.0, |b| b.put_string(b"h")));
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::UnexpectedReply {
            request: RequestKind::Stat,
            reply: fxp::HANDLE
        })
    );
}

#[test]
fn a_request_type_sent_to_the_client_closes_it() {
    let (mut client, _) = client_with_stat();
    client.handle_input(&request(fxp::OPEN, 0, |_| {}));
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::UnexpectedPacket(fxp::OPEN))
    );
}

#[test]
fn an_overlong_handle_from_the_server_closes_the_client() {
    let mut client = SftpClient::new(ClientConfig {
        negotiate_limits: false,
        ..ClientConfig::default()
    });
    client.handle_input(&version(3));
    let _ = client.poll_event();
    let id = client.opendir("/").unwrap();
    client.handle_input(&request(fxp::HANDLE, id.0, |b| b.put_string(&[1; 257])));
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::MalformedResponse {
            packet_type: fxp::HANDLE,
            error: DecodeError::HandleTooLong(257)
        })
    );
}

#[test]
fn a_name_count_beyond_the_entries_present_closes_the_client() {
    let mut client = SftpClient::new(ClientConfig {
        negotiate_limits: false,
        ..ClientConfig::default()
    });
    client.handle_input(&version(3));
    let _ = client.poll_event();
    let id = client.realpath(".").unwrap();
    client.handle_input(&request(fxp::NAME, id.0, |b| b.put_u32(u32::MAX)));
    assert_eq!(
        client_closed_with(&mut client),
        misbehaved(PeerMisbehaved::MalformedResponse {
            packet_type: fxp::NAME,
            error: DecodeError::Wire(WireError::Truncated {
                needed: 4,
                remaining: 0
            })
        })
    );
}

#[test]
fn an_oversized_packet_closes_the_client() {
    let (mut client, _) = client_with_stat();
    client.handle_input(&u32::MAX.to_be_bytes());
    assert!(matches!(
        client_closed_with(&mut client),
        SessionError::PeerMisbehaved(PeerMisbehaved::Framing(FrameError::TooLong { .. }))
    ));
}

#[test]
fn a_status_without_message_and_language_is_accepted() {
    let (mut client, id) = client_with_stat();
    client.handle_input(&request(fxp::STATUS, id.0, |b| b.put_u32(2)));
    match client.poll_event() {
        Some(ClientEvent::Response { result: Err(e), .. }) => {
            assert_eq!(e.code, StatusCode::NoSuchFile);
            assert_eq!(e.message, "No such file");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn random_responses_never_panic_the_client() {
    let mut rng = SeededRandom::new(72);
    for _ in 0..3000 {
        let (mut client, id) = client_with_stat();
        let ty = [101, 102, 103, 104, 105, 201, 2, 50][(rng.next_u64() % 8) as usize];
        let mut body = vec![0u8; (rng.next_u64() % 48) as usize];
        rng.fill(&mut body);
        let mut b = Vec::new();
        if rng.next_u64() % 4 != 0 {
            b.put_u32(id.0);
        }
        b.extend_from_slice(&body);
        client.handle_input(&packet(ty, &b));
        while client.poll_event().is_some() {}
    }
}

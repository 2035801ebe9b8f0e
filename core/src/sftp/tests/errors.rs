//! Every status code, from where it arises to the client's per-request error, and the
//! requests the client refuses to send.

use super::pair::*;
use crate::sftp::{
    ClientConfig, ClientEvent, Extension, FileAttributes, MemoryFs, OpenFlags, Reply, RequestError,
    ServerConfig, SessionError, SftpClient, SftpError, StatusCode,
};

#[test]
fn every_status_code_travels_with_its_message_and_language() {
    let mut pair = SftpPair::ready(20);
    pair.answer = Answer::Hold;
    let codes: Vec<StatusCode> = StatusCode::ALL
        .iter()
        .copied()
        .filter(|c| *c != StatusCode::Ok)
        .chain([StatusCode::Unknown(99)])
        .collect();
    for code in &codes {
        let id = pair.client.stat(format!("/{}", code.to_u32())).unwrap();
        pair.drive();
        let (held_id, _) = pair.held.pop().unwrap();
        assert_eq!(held_id, id);
        let error = SftpError {
            code: *code,
            message: format!("message {}", code.to_u32()),
            language: "en".into(),
        };
        pair.server.respond(id, Err(error.clone())).unwrap();
        pair.drive();
        assert_eq!(pair.take_response(id), Err(error));
    }
}

#[test]
fn status_ok_answers_a_request_that_returns_nothing() {
    let mut pair = SftpPair::ready(21);
    assert_eq!(
        pair.call(|c| c.mkdir("/d", &FileAttributes::default())),
        Ok(Reply::Ok)
    );
}

#[test]
fn eof_is_a_reply_to_read_and_readdir_and_an_error_to_anything_else() {
    let mut pair = SftpPair::ready(22);
    pair.backend.write_file("/empty", b"").unwrap();
    let h = handle_of(pair.call(|c| c.open("/empty", OpenFlags::READ, &FileAttributes::default())));
    assert_eq!(pair.call(|c| c.read(&h, 0, 10)), Ok(Reply::Eof));
    let d = handle_of(pair.call(|c| c.opendir("/")));
    assert!(matches!(pair.call(|c| c.readdir(&d)), Ok(Reply::Names(_))));
    assert_eq!(pair.call(|c| c.readdir(&d)), Ok(Reply::Eof));

    pair.answer = Answer::Hold;
    let id = pair.client.stat("/empty").unwrap();
    pair.drive();
    pair.server
        .respond(id, Err(SftpError::from_code(StatusCode::Eof)))
        .unwrap();
    pair.drive();
    assert_eq!(code_of(pair.take_response(id)), StatusCode::Eof);
}

#[test]
fn missing_files_fail_with_no_such_file() {
    let mut pair = SftpPair::ready(23);
    assert_eq!(
        code_of(pair.call(|c| c.stat("/nope"))),
        StatusCode::NoSuchFile
    );
    assert_eq!(
        code_of(pair.call(|c| c.open("/nope", OpenFlags::READ, &FileAttributes::default()))),
        StatusCode::NoSuchFile
    );
    assert_eq!(
        code_of(pair.call(|c| c.remove("/nope"))),
        StatusCode::NoSuchFile
    );
    assert_eq!(
        code_of(pair.call(|c| c.opendir("/nope"))),
        StatusCode::NoSuchFile
    );
    assert_eq!(
        code_of(pair.call(|c| c.stat("/nope/deeper"))),
        StatusCode::NoSuchFile
    );
}

#[test]
fn permission_bits_are_enforced_with_permission_denied() {
    let mut pair = SftpPair::ready(24);
    pair.backend.write_file("/ro", b"x").unwrap();
    let ro = FileAttributes::default().with_permissions(0o400);
    assert_eq!(pair.call(|c| c.setstat("/ro", &ro)), Ok(Reply::Ok));
    assert_eq!(
        code_of(pair.call(|c| c.open("/ro", OpenFlags::WRITE, &FileAttributes::default()))),
        StatusCode::PermissionDenied
    );
    let locked = FileAttributes::default().with_permissions(0o500);
    assert_eq!(pair.call(|c| c.mkdir("/locked", &locked)), Ok(Reply::Ok));
    assert_eq!(
        code_of(pair.call(|c| c.mkdir("/locked/sub", &FileAttributes::default()))),
        StatusCode::PermissionDenied
    );
    let unreadable = FileAttributes::default().with_permissions(0o300);
    assert_eq!(
        pair.call(|c| c.mkdir("/hidden", &unreadable)),
        Ok(Reply::Ok)
    );
    assert_eq!(
        code_of(pair.call(|c| c.opendir("/hidden"))),
        StatusCode::PermissionDenied
    );
}

#[test]
fn operations_the_filesystem_refuses_fail_with_failure() {
    let mut pair = SftpPair::ready(25);
    pair.backend.write_file("/d/f", b"").unwrap_err();
    assert_eq!(
        pair.call(|c| c.mkdir("/d", &FileAttributes::default())),
        Ok(Reply::Ok)
    );
    pair.backend.write_file("/d/f", b"").unwrap();
    assert_eq!(code_of(pair.call(|c| c.rmdir("/d"))), StatusCode::Failure);
    assert_eq!(
        code_of(pair.call(|c| c.mkdir("/d", &FileAttributes::default()))),
        StatusCode::Failure
    );
    assert_eq!(code_of(pair.call(|c| c.remove("/d"))), StatusCode::Failure);
    assert_eq!(
        code_of(pair.call(|c| c.readlink("/d/f"))),
        StatusCode::Failure
    );
    assert_eq!(
        code_of(pair.call(|c| c.rename("/d", "/d/inner"))),
        StatusCode::Failure
    );
}

#[test]
fn unknown_extensions_fail_with_op_unsupported() {
    let mut pair = SftpPair::ready(26);
    assert_eq!(
        code_of(pair.call(|c| c.extended("frobnicate@example.com", &b""[..]))),
        StatusCode::OpUnsupported
    );
}

#[test]
fn an_extension_the_server_does_not_enable_fails_with_op_unsupported() {
    let server = ServerConfig {
        extensions: vec![Extension::Limits],
        ..ServerConfig::default()
    };
    let mut pair = SftpPair::with(ClientConfig::default(), server, MemoryFs::new(), 27);
    pair.expect_ready();
    // The client will not send what the server did not advertise...
    assert_eq!(
        pair.client.statvfs("/"),
        Err(RequestError::Unsupported(Extension::Statvfs))
    );
    // ...but a raw extended request reaches the engine, which refuses it.
    let mut data = Vec::new();
    crate::wire::Writer::put_string(&mut data, b"/");
    assert_eq!(
        code_of(pair.call(|c| c.extended("statvfs@openssh.com", data))),
        StatusCode::OpUnsupported
    );
}

#[test]
fn a_backend_without_an_extension_answers_op_unsupported() {
    struct Plain(MemoryFs);
    impl crate::sftp::Backend for Plain {
        crate::sftp::tests::delegate_backend!(0);
    }
    let mut pair = SftpPair::with(
        ClientConfig::default(),
        ServerConfig::default(),
        Plain(MemoryFs::new()),
        28,
    );
    pair.expect_ready();
    assert_eq!(
        code_of(pair.call(|c| c.statvfs("/"))),
        StatusCode::OpUnsupported
    );
    assert_eq!(
        code_of(pair.call(|c| c.hardlink("/a", "/b"))),
        StatusCode::OpUnsupported
    );
}

#[test]
fn requests_in_flight_at_end_of_stream_fail_with_connection_lost() {
    let mut pair = SftpPair::ready(29);
    pair.answer = Answer::Hold;
    let a = pair.client.stat("/a").unwrap();
    let b = pair.client.stat("/b").unwrap();
    pair.drive();
    pair.client.handle_eof();
    pair.drive();
    assert_eq!(code_of(pair.take_response(a)), StatusCode::ConnectionLost);
    assert_eq!(code_of(pair.take_response(b)), StatusCode::ConnectionLost);
    assert_eq!(pair.client_closed(), Some(&SessionError::EndOfStream));
    assert_eq!(pair.client.stat("/c"), Err(RequestError::Closed));
}

#[test]
fn closing_the_client_fails_requests_in_flight_and_reports_closed_last() {
    let mut pair = SftpPair::ready(30);
    pair.answer = Answer::Hold;
    let a = pair.client.stat("/a").unwrap();
    pair.client.close();
    let events: Vec<_> = std::iter::from_fn(|| pair.client.poll_event()).collect();
    assert_eq!(
        events,
        vec![
            ClientEvent::Response {
                id: a,
                result: Err(SftpError::from_code(StatusCode::ConnectionLost)),
            },
            ClientEvent::Closed(SessionError::LocallyClosed),
        ]
    );
}

#[test]
fn server_end_of_stream_closes_the_server_session() {
    let mut pair = SftpPair::ready(31);
    pair.server.handle_eof();
    pair.drive();
    assert_eq!(pair.server_closed(), Some(&SessionError::EndOfStream));
    assert!(!pair.server.wants_input());
}

#[test]
fn requests_before_ready_are_refused_with_not_ready() {
    let mut client = SftpClient::new(ClientConfig::default());
    assert_eq!(client.stat("/"), Err(RequestError::NotReady));
}

#[test]
fn a_write_longer_than_the_negotiated_length_is_refused() {
    let mut pair = SftpPair::ready(32);
    let h = handle_of(pair.call(|c| {
        c.open(
            "/f",
            OpenFlags::WRITE | OpenFlags::CREATE,
            &FileAttributes::default(),
        )
    }));
    let max = pair.client.limits().max_write_len as usize;
    assert_eq!(
        pair.client.write(&h, 0, &vec![0; max + 1]),
        Err(RequestError::TooLarge { len: max + 1, max })
    );
    assert_eq!(pair.call(|c| c.write(&h, 0, &vec![7; max])), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/f").unwrap().len(), max);
}

#[test]
fn a_request_larger_than_the_servers_packet_limit_is_refused() {
    let mut pair = SftpPair::ready(33);
    let path = vec![b'a'; 300 * 1024];
    assert!(matches!(
        pair.client.stat(&path),
        Err(RequestError::TooLarge { .. })
    ));
    // Nothing was queued: the next request goes through.
    assert!(matches!(pair.call(|c| c.stat("/")), Ok(Reply::Attrs(_))));
}

#[test]
fn a_long_read_is_clamped_to_the_negotiated_length() {
    let mut pair = SftpPair::ready(34);
    pair.backend
        .write_file("/big", &vec![1; 600 * 1024])
        .unwrap();
    let h = handle_of(pair.call(|c| c.open("/big", OpenFlags::READ, &FileAttributes::default())));
    let data = data_of(pair.call(|c| c.read(&h, 0, u32::MAX)));
    assert_eq!(data.len() as u64, pair.client.limits().max_read_len);
}

#[test]
fn control_characters_in_a_status_message_are_removed() {
    let mut pair = SftpPair::ready(35);
    pair.answer = Answer::Hold;
    let id = pair.client.stat("/x").unwrap();
    pair.drive();
    let evil = SftpError::new(StatusCode::Failure, "bad\x1b[31m\r\nthing");
    pair.server.respond(id, Err(evil)).unwrap();
    pair.drive();
    let err = pair.take_response(id).unwrap_err();
    assert_eq!(err.message, "bad[31mthing");
}

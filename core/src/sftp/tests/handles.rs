//! The server's handle table and the checks `respond` makes on the application's
//! answers.

use bytes::Bytes;

use super::pair::*;
use crate::sftp::{
    ClientConfig, FileAttributes, Handle, HandleKind, MemoryFs, Name, OpenFlags, Reply, RequestId,
    RequestKind, RespondError, ServerConfig, StatusCode,
};

/// A pair whose server allows `max_handles` handles, and whose client does not ask
/// the limits (so that it sends what the server must refuse).
fn capped_pair(max_handles: usize, seed: u64) -> SftpPair {
    let server = ServerConfig {
        max_handles,
        ..ServerConfig::default()
    };
    let client = ClientConfig {
        negotiate_limits: false,
        ..ClientConfig::default()
    };
    let mut pair = SftpPair::with(client, server, MemoryFs::new(), seed);
    pair.expect_ready();
    pair.backend.write_file("/f", b"data").unwrap();
    pair
}

fn open_f(pair: &mut SftpPair) -> Result<Reply, crate::sftp::SftpError> {
    pair.call(|c| c.open("/f", OpenFlags::READ, &FileAttributes::default()))
}

#[test]
fn opens_past_the_handle_cap_fail_until_a_handle_closes() {
    let mut pair = capped_pair(3, 40);
    let handles: Vec<Handle> = (0..3).map(|_| handle_of(open_f(&mut pair))).collect();
    let err = open_f(&mut pair).unwrap_err();
    assert_eq!(err.code, StatusCode::Failure);
    assert_eq!(err.message, "Too many open handles");
    assert_eq!(code_of(pair.call(|c| c.opendir("/"))), StatusCode::Failure);
    assert_eq!(pair.backend.open_handle_count(), 3);
    assert_eq!(pair.call(|c| c.close_handle(&handles[0])), Ok(Reply::Ok));
    handle_of(open_f(&mut pair));
}

#[test]
fn the_client_refuses_opens_beyond_the_negotiated_handle_limit() {
    let server = ServerConfig {
        max_handles: 2,
        ..ServerConfig::default()
    };
    let mut pair = SftpPair::with(ClientConfig::default(), server, MemoryFs::new(), 39);
    pair.expect_ready();
    pair.backend.write_file("/f", b"").unwrap();
    let first = handle_of(open_f(&mut pair));
    pair.answer = Answer::Hold;
    pair.client.opendir("/").unwrap();
    assert_eq!(pair.client.open_handle_count(), 2);
    assert_eq!(
        pair.client
            .open("/f", OpenFlags::READ, &FileAttributes::default()),
        Err(crate::sftp::RequestError::TooManyHandles { limit: 2 })
    );
    pair.client.close_handle(&first).unwrap();
    assert_eq!(pair.client.open_handle_count(), 1);
    assert!(
        pair.client
            .open("/f", OpenFlags::READ, &FileAttributes::default())
            .is_ok()
    );
}

#[test]
fn opens_in_flight_count_against_the_cap() {
    let mut pair = capped_pair(2, 41);
    pair.answer = Answer::Hold;
    let ids: Vec<RequestId> = (0..3)
        .map(|_| {
            pair.client
                .open("/f", OpenFlags::READ, &FileAttributes::default())
                .unwrap()
        })
        .collect();
    pair.drive();
    assert_eq!(pair.held.len(), 2);
    assert_eq!(code_of(pair.take_response(ids[2])), StatusCode::Failure);
}

#[test]
fn a_failed_open_releases_its_reservation() {
    let mut pair = capped_pair(1, 42);
    for _ in 0..5 {
        assert_eq!(
            code_of(pair.call(|c| c.open("/missing", OpenFlags::READ, &FileAttributes::default()))),
            StatusCode::NoSuchFile
        );
    }
    handle_of(open_f(&mut pair));
}

#[test]
fn requests_naming_an_unknown_handle_never_reach_the_backend() {
    let mut pair = capped_pair(4, 43);
    pair.answer = Answer::Hold;
    let bogus = Handle::from("h999");
    let ids = [
        pair.client.read(&bogus, 0, 10).unwrap(),
        pair.client.write(&bogus, 0, b"x").unwrap(),
        pair.client.fstat(&bogus).unwrap(),
        pair.client.readdir(&bogus).unwrap(),
        pair.client.close_handle(&bogus).unwrap(),
        pair.client.fsync(&bogus).unwrap(),
    ];
    pair.drive();
    assert!(pair.held.is_empty());
    for id in ids {
        let err = pair.take_response(id).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (StatusCode::Failure, "Invalid handle")
        );
    }
}

#[test]
fn a_handle_of_the_wrong_kind_is_refused() {
    let mut pair = capped_pair(4, 44);
    let file = handle_of(open_f(&mut pair));
    let dir = handle_of(pair.call(|c| c.opendir("/")));
    assert_eq!(
        code_of(pair.call(|c| c.readdir(&file))),
        StatusCode::Failure
    );
    assert_eq!(
        code_of(pair.call(|c| c.read(&dir, 0, 1))),
        StatusCode::Failure
    );
    assert_eq!(code_of(pair.call(|c| c.fstat(&dir))), StatusCode::Failure);
    let mut kinds: Vec<HandleKind> = pair.server.open_handles().map(|(_, k)| k).collect();
    kinds.sort_by_key(|k| *k == HandleKind::Dir);
    assert_eq!(kinds, [HandleKind::File, HandleKind::Dir]);
}

#[test]
fn a_closed_handle_is_invalid_afterwards() {
    let mut pair = capped_pair(4, 45);
    let h = handle_of(open_f(&mut pair));
    assert_eq!(pair.call(|c| c.close_handle(&h)), Ok(Reply::Ok));
    assert_eq!(
        code_of(pair.call(|c| c.read(&h, 0, 1))),
        StatusCode::Failure
    );
    assert_eq!(
        code_of(pair.call(|c| c.close_handle(&h))),
        StatusCode::Failure
    );
}

#[test]
fn copy_data_from_a_handle_to_itself_is_refused() {
    let mut pair = capped_pair(4, 46);
    let h = handle_of(open_f(&mut pair));
    assert_eq!(
        code_of(pair.call(|c| c.copy_data(&h, 0, 0, &h, 0))),
        StatusCode::Failure
    );
}

/// Sends one request and returns its id, leaving it held for the test to answer.
fn held(
    pair: &mut SftpPair,
    send: impl FnOnce(&mut crate::sftp::SftpClient) -> RequestId,
) -> RequestId {
    pair.answer = Answer::Hold;
    let id = send(&mut pair.client);
    pair.drive();
    pair.held.clear();
    id
}

#[test]
fn a_handle_longer_than_the_limit_is_refused_and_the_request_still_waits() {
    let server = ServerConfig {
        max_handle_len: 8,
        ..ServerConfig::default()
    };
    let mut pair = SftpPair::with(ClientConfig::default(), server, MemoryFs::new(), 47);
    pair.expect_ready();
    let id = held(&mut pair, |c| c.opendir("/").unwrap());
    assert_eq!(
        pair.server
            .respond(id, Ok(Reply::Handle(Handle::from("123456789")))),
        Err(RespondError::HandleTooLong { len: 9, max: 8 })
    );
    assert_eq!(
        pair.server
            .respond(id, Ok(Reply::Handle(Handle::from("d1")))),
        Ok(())
    );
    pair.drive();
    assert_eq!(
        pair.take_response(id),
        Ok(Reply::Handle(Handle::from("d1")))
    );
}

#[test]
fn a_handle_already_open_cannot_be_handed_out_again() {
    let mut pair = capped_pair(4, 48);
    let h = handle_of(open_f(&mut pair));
    let id = held(&mut pair, |c| c.opendir("/").unwrap());
    assert_eq!(
        pair.server.respond(id, Ok(Reply::Handle(h))),
        Err(RespondError::DuplicateHandle)
    );
}

#[test]
fn a_reply_of_the_wrong_kind_is_refused() {
    let mut pair = capped_pair(4, 49);
    let id = held(&mut pair, |c| c.stat("/f").unwrap());
    assert_eq!(
        pair.server.respond(id, Ok(Reply::Data(Bytes::new()))),
        Err(RespondError::WrongReply {
            request: RequestKind::Stat,
            reply: "DATA"
        })
    );
    assert_eq!(
        pair.server.respond(id, Ok(Reply::Ok)),
        Err(RespondError::WrongReply {
            request: RequestKind::Stat,
            reply: "status OK"
        })
    );
    assert_eq!(
        pair.server.respond(RequestId(9999), Ok(Reply::Ok)),
        Err(RespondError::UnknownRequest(RequestId(9999)))
    );
    assert_eq!(
        pair.server
            .respond(id, Ok(Reply::Attrs(FileAttributes::default()))),
        Ok(())
    );
    assert_eq!(
        pair.server.respond(id, Ok(Reply::Ok)),
        Err(RespondError::UnknownRequest(id))
    );
}

#[test]
fn more_data_than_the_read_asked_for_is_refused() {
    let mut pair = capped_pair(4, 50);
    let h = handle_of(open_f(&mut pair));
    let id = held(&mut pair, |c| c.read(&h, 0, 4).unwrap());
    assert_eq!(
        pair.server
            .respond(id, Ok(Reply::Data(Bytes::from_static(b"12345")))),
        Err(RespondError::TooMuchData {
            len: 5,
            requested: 4
        })
    );
}

#[test]
fn a_response_beyond_the_packet_limit_is_refused() {
    let mut pair = capped_pair(4, 51);
    let id = held(&mut pair, |c| c.realpath(".").unwrap());
    let names = vec![Name::bare(vec![b'n'; 200 * 1024])];
    assert!(matches!(
        pair.server.respond(id, Ok(Reply::Names(names))),
        Err(RespondError::TooLarge { .. })
    ));
    assert_eq!(
        pair.server
            .respond(id, Ok(Reply::Names(vec![Name::bare("/")]))),
        Ok(())
    );
}

#[test]
fn read_data_goes_out_as_the_given_bytes_behind_a_header_of_its_own() {
    let mut pair = capped_pair(4, 52);
    let h = handle_of(open_f(&mut pair));
    let id = held(&mut pair, |c| c.read(&h, 0, 8192).unwrap());
    let data = Bytes::from(vec![7u8; 8192]);
    assert_eq!(
        pair.server.respond(id, Ok(Reply::Data(data.clone()))),
        Ok(())
    );
    let mut header = Vec::new();
    header.extend_from_slice(&(1u32 + 4 + 4 + 8192).to_be_bytes());
    header.push(103); // SSH_FXP_DATA
    header.extend_from_slice(&id.0.to_be_bytes());
    header.extend_from_slice(&8192u32.to_be_bytes());
    assert_eq!(
        pair.server.poll_transmit_bytes().as_deref(),
        Some(&header[..])
    );
    let body = pair.server.poll_transmit_bytes().unwrap();
    assert_eq!((body.as_ptr(), body.len()), (data.as_ptr(), data.len()));
    assert_eq!(pair.server.poll_transmit_bytes(), None);
}

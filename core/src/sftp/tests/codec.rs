//! Encodings against bytes written out by hand from the draft and OpenSSH's PROTOCOL,
//! and round trips of every request and reply.

use bytes::Bytes;

use crate::sftp::reply::{decode_response, encode_response};
use crate::sftp::request::encode_write;
use crate::sftp::wire::fxp;
use crate::sftp::{
    ClientConfig, ExtendedAttr, Extension, Extensions, FileAttributes, Handle, Limits, Name,
    OpenFlags, Reply, Request, RequestId, RequestKind, ServerConfig, SftpClient, SftpError,
    SftpServer, StatVfs, StatusCode,
};
use crate::wire::Reader;

#[test]
fn the_client_hello_is_init_version_3() {
    let mut client = SftpClient::new(ClientConfig::default());
    let mut out = Vec::new();
    let _ = client.poll_transmit(&mut out);
    assert_eq!(out, [0, 0, 0, 5, fxp::INIT, 0, 0, 0, 3]);
}

#[test]
fn the_server_hello_lists_extensions_with_their_versions() {
    let mut server = SftpServer::new(ServerConfig {
        extensions: vec![Extension::PosixRename, Extension::Statvfs],
        ..ServerConfig::default()
    });
    server.handle_input(&[0, 0, 0, 5, fxp::INIT, 0, 0, 0, 3]);
    let mut out = Vec::new();
    let _ = server.poll_transmit(&mut out);
    let mut expected = vec![0, 0, 0, 0, fxp::VERSION, 0, 0, 0, 3];
    for (name, version) in [
        ("posix-rename@openssh.com", "1"),
        ("statvfs@openssh.com", "2"),
    ] {
        expected.extend_from_slice(&(name.len() as u32).to_be_bytes());
        expected.extend_from_slice(name.as_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1]);
        expected.extend_from_slice(version.as_bytes());
    }
    let len = (expected.len() - 4) as u32;
    expected[..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(out, expected);
}

#[test]
fn attributes_encode_each_field_in_flag_order() {
    let attrs = FileAttributes {
        size: Some(0x0102_0304_0506_0708),
        permissions: Some(0o100_644),
        times: Some(crate::sftp::FileTimes { atime: 1, mtime: 2 }),
        extended: vec![ExtendedAttr {
            name: b"a@b".to_vec(),
            data: b"x".to_vec(),
        }],
        ..FileAttributes::default().with_owner(1000, 100)
    };
    let mut out = Vec::new();
    attrs.encode(&mut out);
    let expected: Vec<u8> = [
        &[0x80, 0, 0, 0x0f][..],
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &[0, 0, 0x03, 0xe8, 0, 0, 0, 100],
        &[0, 0, 0x81, 0xa4],
        &[0, 0, 0, 1, 0, 0, 0, 2],
        &[0, 0, 0, 1, 0, 0, 0, 3, b'a', b'@', b'b', 0, 0, 0, 1, b'x'],
    ]
    .concat();
    assert_eq!(out, expected);
    assert_eq!(attrs.encoded_len(), expected.len());
    let mut r = Reader::new(&out);
    assert_eq!(FileAttributes::decode(&mut r).unwrap(), attrs);
    r.finish().unwrap();
}

#[test]
fn empty_attributes_are_four_zero_bytes() {
    let mut out = Vec::new();
    FileAttributes::default().encode(&mut out);
    assert_eq!(out, [0, 0, 0, 0]);
}

#[test]
fn open_flags_have_the_drafts_values() {
    assert_eq!(
        [
            OpenFlags::READ,
            OpenFlags::WRITE,
            OpenFlags::APPEND,
            OpenFlags::CREATE,
            OpenFlags::TRUNCATE,
            OpenFlags::EXCLUSIVE
        ]
        .map(|f| f.0),
        [1, 2, 4, 8, 0x10, 0x20]
    );
}

#[test]
fn symlink_puts_the_target_before_the_link_as_openssh_does() {
    let mut out = Vec::new();
    Request::Symlink {
        target: b"T".to_vec(),
        link: b"L".to_vec(),
    }
    .encode(RequestId(7), &mut out);
    assert_eq!(
        out,
        [
            0,
            0,
            0,
            15,
            fxp::SYMLINK,
            0,
            0,
            0,
            7,
            0,
            0,
            0,
            1,
            b'T',
            0,
            0,
            0,
            1,
            b'L'
        ]
    );
}

#[test]
fn extension_requests_carry_their_name_first() {
    let mut out = Vec::new();
    Request::Fsync {
        handle: Handle::from("h"),
    }
    .encode(RequestId(1), &mut out);
    let mut expected = vec![0, 0, 0, 0, fxp::EXTENDED, 0, 0, 0, 1, 0, 0, 0, 17];
    expected.extend_from_slice(b"fsync@openssh.com");
    expected.extend_from_slice(&[0, 0, 0, 1, b'h']);
    let len = (expected.len() - 4) as u32;
    expected[..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(out, expected);
}

fn every_request() -> Vec<Request> {
    let h = || Handle::from("handle-1");
    let p = |s: &str| s.as_bytes().to_vec();
    let attrs = FileAttributes::default()
        .with_size(9)
        .with_permissions(0o600);
    vec![
        Request::Open {
            path: p("/a"),
            flags: OpenFlags::READ | OpenFlags::WRITE,
            attrs: attrs.clone(),
        },
        Request::Close { handle: h() },
        Request::Read {
            handle: h(),
            offset: 1 << 40,
            len: 32768,
        },
        Request::Write {
            handle: h(),
            offset: 5,
            data: Bytes::from_static(b"data"),
        },
        Request::Lstat { path: p("/l") },
        Request::Fstat { handle: h() },
        Request::Setstat {
            path: p("/s"),
            attrs: attrs.clone(),
        },
        Request::Fsetstat {
            handle: h(),
            attrs: attrs.clone(),
        },
        Request::Opendir { path: p("/d") },
        Request::Readdir { handle: h() },
        Request::Remove { path: p("/r") },
        Request::Mkdir {
            path: p("/m"),
            attrs: attrs.clone(),
        },
        Request::Rmdir { path: p("/m") },
        Request::Realpath { path: p(".") },
        Request::Stat { path: p("/st") },
        Request::Rename {
            from: p("/x"),
            to: p("/y"),
        },
        Request::Readlink { path: p("/sl") },
        Request::Symlink {
            target: p("t"),
            link: p("/l"),
        },
        Request::PosixRename {
            from: p("/x"),
            to: p("/y"),
        },
        Request::Statvfs { path: p("/") },
        Request::Fstatvfs { handle: h() },
        Request::Hardlink {
            target: p("/a"),
            link: p("/b"),
        },
        Request::Fsync { handle: h() },
        Request::Lsetstat {
            path: p("/ls"),
            attrs,
        },
        Request::Limits,
        Request::ExpandPath { path: p("~/x") },
        Request::CopyData {
            read_handle: h(),
            read_offset: 1,
            len: 2,
            write_handle: Handle::from("handle-2"),
            write_offset: 3,
        },
        Request::HomeDirectory {
            username: p("alice"),
        },
        Request::UsersGroupsById {
            uids: vec![0, 1000],
            gids: vec![],
        },
        Request::Extended {
            name: "x@example.com".into(),
            data: Bytes::from_static(b"\x00\x01"),
        },
    ]
}

#[test]
fn every_request_decodes_to_itself() {
    let requests = every_request();
    assert_eq!(requests.len(), 30);
    for (i, request) in requests.into_iter().enumerate() {
        let mut out = Vec::new();
        request.encode(RequestId(i as u32), &mut out);
        let len = u32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize;
        assert_eq!(len, out.len() - 4, "{request:?}");
        let packet = Bytes::from(out[4..].to_vec());
        let mut r = Reader::new(&packet[1..]);
        assert_eq!(r.u32().unwrap(), i as u32);
        let decoded = Request::decode(packet[0], &packet, &mut r).unwrap();
        assert_eq!(decoded, Some(request));
    }
}

#[test]
fn the_write_fast_path_encodes_like_a_write_request() {
    let mut fast = Vec::new();
    encode_write(&mut fast, RequestId(3), &Handle::from("h"), 10, b"abc");
    let mut slow = Vec::new();
    Request::Write {
        handle: Handle::from("h"),
        offset: 10,
        data: Bytes::from_static(b"abc"),
    }
    .encode(RequestId(3), &mut slow);
    assert_eq!(fast, slow);
}

fn round_trip(kind: RequestKind, result: Result<Reply, SftpError>) -> Result<Reply, SftpError> {
    let mut out = Vec::new();
    encode_response(&mut out, RequestId(42), &result);
    let packet = Bytes::from(out[4..].to_vec());
    let mut r = Reader::new(&packet[1..]);
    assert_eq!(r.u32().unwrap(), 42);
    decode_response(kind, packet[0], &packet, &mut r).unwrap()
}

#[test]
fn every_reply_decodes_to_itself() {
    let name = Name {
        filename: b"f".to_vec(),
        longname: b"-rw-r--r-- f".to_vec(),
        attrs: FileAttributes::default().with_size(1),
    };
    let statvfs = StatVfs {
        bsize: 1,
        frsize: 2,
        blocks: 3,
        bfree: 4,
        bavail: 5,
        files: 6,
        ffree: 7,
        favail: 8,
        fsid: 9,
        flag: StatVfs::READ_ONLY,
        namemax: 255,
    };
    let cases = [
        (RequestKind::Remove, Reply::Ok),
        (RequestKind::Read, Reply::Eof),
        (RequestKind::Readdir, Reply::Eof),
        (RequestKind::Open, Reply::Handle(Handle::from("h"))),
        (RequestKind::Read, Reply::Data(Bytes::from_static(b"bytes"))),
        (RequestKind::Readdir, Reply::Names(vec![name.clone(), name])),
        (
            RequestKind::Stat,
            Reply::Attrs(FileAttributes::default().with_times(1, 2)),
        ),
        (RequestKind::Statvfs, Reply::StatVfs(statvfs)),
        (
            RequestKind::Limits,
            Reply::Limits(Limits {
                max_packet_len: 1,
                max_read_len: 2,
                max_write_len: 3,
                max_open_handles: 4,
            }),
        ),
        (
            RequestKind::UsersGroupsById,
            Reply::UsersGroups {
                users: vec!["root".into(), String::new()],
                groups: vec!["wheel".into()],
            },
        ),
        (
            RequestKind::Extended,
            Reply::Extended(Bytes::from_static(b"raw")),
        ),
    ];
    for (kind, reply) in cases {
        assert_eq!(round_trip(kind, Ok(reply.clone())), Ok(reply));
    }
}

#[test]
fn a_status_carries_code_message_and_language() {
    let mut out = Vec::new();
    let err = SftpError {
        code: StatusCode::PermissionDenied,
        message: "no".into(),
        language: "en".into(),
    };
    encode_response(&mut out, RequestId(1), &Err(err.clone()));
    assert_eq!(
        out,
        [
            0,
            0,
            0,
            21,
            fxp::STATUS,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            3,
            0,
            0,
            0,
            2,
            b'n',
            b'o',
            0,
            0,
            0,
            2,
            b'e',
            b'n'
        ]
    );
    assert_eq!(round_trip(RequestKind::Stat, Err(err.clone())), Err(err));
}

#[test]
fn status_codes_map_to_and_from_their_numbers() {
    for (n, code) in StatusCode::ALL.iter().enumerate() {
        assert_eq!(code.to_u32(), n as u32);
        assert_eq!(StatusCode::from_u32(n as u32), *code);
    }
    assert_eq!(StatusCode::from_u32(42), StatusCode::Unknown(42));
    assert_eq!(StatusCode::Unknown(42).to_u32(), 42);
}

#[test]
fn an_extension_advertised_with_another_version_is_not_supported() {
    let ext = Extensions::from_pairs([("statvfs@openssh.com", "1"), ("fsync@openssh.com", "1")]);
    assert!(!ext.supports(Extension::Statvfs));
    assert!(ext.supports(Extension::Fsync));
    assert_eq!(ext.get("statvfs@openssh.com"), Some(&b"1"[..]));
}

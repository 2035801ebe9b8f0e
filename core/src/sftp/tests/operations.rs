//! Every request and extension, client engine to server engine to MemoryFs and back.

use super::pair::*;
use crate::sftp::{
    ClientConfig, Extension, FileAttributes, FileType, MemoryFs, OpenFlags, Reply, ServerConfig,
    StatusCode,
};

const CREATE: OpenFlags =
    OpenFlags(OpenFlags::WRITE.0 | OpenFlags::CREATE.0 | OpenFlags::TRUNCATE.0);

fn pair_with_file(path: &str, data: &[u8]) -> SftpPair {
    let mut pair = SftpPair::ready(1);
    pair.backend.write_file(path, data).unwrap();
    pair
}

#[test]
fn version_exchange_advertises_every_extension_and_negotiates_limits() {
    let pair = SftpPair::ready(1);
    for ext in Extension::ALL {
        assert!(pair.client.extensions().supports(ext), "{ext}");
    }
    let limits = pair.client.limits();
    assert_eq!(limits.max_packet_len, 256 * 1024);
    assert_eq!(limits.max_read_len, 255 * 1024);
    assert_eq!(limits.max_write_len, 255 * 1024);
    assert_eq!(limits.max_open_handles, 256);
    assert!(matches!(
        pair.server_events.first(),
        Some(crate::sftp::ServerEvent::Initialized {
            client_version: 3,
            ..
        })
    ));
}

#[test]
fn without_the_limits_extension_the_client_uses_defaults_every_server_accepts() {
    let server = ServerConfig {
        extensions: vec![Extension::PosixRename],
        ..ServerConfig::default()
    };
    let mut pair = SftpPair::with(ClientConfig::default(), server, MemoryFs::new(), 2);
    pair.expect_ready();
    let limits = pair.client.limits();
    assert_eq!(limits.max_packet_len, 34_000);
    assert_eq!(limits.max_read_len, 32 * 1024);
    assert_eq!(limits.max_write_len, 32 * 1024);
    assert!(!pair.client.extensions().supports(Extension::Statvfs));
}

#[test]
fn open_write_close_then_read_returns_the_data_and_eof() {
    let mut pair = SftpPair::ready(3);
    let h = handle_of(pair.call(|c| c.open("/f", CREATE, &FileAttributes::default())));
    assert_eq!(pair.call(|c| c.write(&h, 0, b"hello world")), Ok(Reply::Ok));
    assert_eq!(pair.call(|c| c.close_handle(&h)), Ok(Reply::Ok));
    let h = handle_of(pair.call(|c| c.open("/f", OpenFlags::READ, &FileAttributes::default())));
    assert_eq!(&data_of(pair.call(|c| c.read(&h, 6, 100)))[..], b"world");
    assert_eq!(pair.call(|c| c.read(&h, 11, 100)), Ok(Reply::Eof));
    assert_eq!(pair.call(|c| c.close_handle(&h)), Ok(Reply::Ok));
    assert_eq!(pair.backend.open_handle_count(), 0);
    assert_eq!(pair.server.open_handle_count(), 0);
}

#[test]
fn open_with_append_writes_at_the_end_whatever_the_offset() {
    let mut pair = pair_with_file("/log", b"one\n");
    let flags = OpenFlags::WRITE | OpenFlags::APPEND;
    let h = handle_of(pair.call(|c| c.open("/log", flags, &FileAttributes::default())));
    assert_eq!(pair.call(|c| c.write(&h, 0, b"two\n")), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/log").unwrap(), b"one\ntwo\n");
}

#[test]
fn open_with_create_applies_the_requested_permissions() {
    let mut pair = SftpPair::ready(4);
    let attrs = FileAttributes::default().with_permissions(0o600);
    let h = handle_of(pair.call(|c| c.open("/secret", CREATE, &attrs)));
    let a = attrs_of(pair.call(|c| c.fstat(&h)));
    assert_eq!(a.permissions, Some(0o100_600));
    assert_eq!(a.file_type(), Some(FileType::Regular));
}

#[test]
fn exclusive_create_fails_when_the_file_exists() {
    let mut pair = pair_with_file("/x", b"");
    let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
    assert_eq!(
        code_of(pair.call(|c| c.open("/x", flags, &FileAttributes::default()))),
        StatusCode::Failure
    );
}

#[test]
fn stat_lstat_and_fstat_report_size_type_owner_and_times() {
    let mut pair = pair_with_file("/f", b"12345");
    pair.backend.set_clock(1_700_000_000);
    assert_eq!(pair.call(|c| c.symlink("f", "/link")), Ok(Reply::Ok));
    let stat = attrs_of(pair.call(|c| c.stat("/link")));
    assert_eq!(stat.size, Some(5));
    assert!(stat.is_file());
    assert_eq!(stat.uid(), Some(1000));
    let lstat = attrs_of(pair.call(|c| c.lstat("/link")));
    assert!(lstat.is_symlink());
    assert_eq!(lstat.mtime(), Some(1_700_000_000));
    let h = handle_of(pair.call(|c| c.open("/f", OpenFlags::READ, &FileAttributes::default())));
    assert_eq!(attrs_of(pair.call(|c| c.fstat(&h))).size, Some(5));
}

#[test]
fn setstat_changes_size_permissions_owner_and_times() {
    let mut pair = pair_with_file("/f", b"0123456789");
    let attrs = FileAttributes::default()
        .with_size(4)
        .with_permissions(0o640)
        .with_owner(1000, 1000)
        .with_times(11, 22);
    assert_eq!(pair.call(|c| c.setstat("/f", &attrs)), Ok(Reply::Ok));
    let a = attrs_of(pair.call(|c| c.stat("/f")));
    assert_eq!(a.size, Some(4));
    assert_eq!(a.permissions, Some(0o100_640));
    assert_eq!((a.atime(), a.mtime()), (Some(11), Some(22)));
    assert_eq!(pair.backend.read_file("/f").unwrap(), b"0123");
}

#[test]
fn fsetstat_changes_an_open_file() {
    let mut pair = pair_with_file("/f", b"abc");
    let h = handle_of(pair.call(|c| c.open("/f", OpenFlags::WRITE, &FileAttributes::default())));
    let attrs = FileAttributes::default().with_size(6);
    assert_eq!(pair.call(|c| c.fsetstat(&h, &attrs)), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/f").unwrap(), b"abc\0\0\0");
}

#[test]
fn lsetstat_changes_the_link_not_its_target() {
    let mut pair = pair_with_file("/f", b"abc");
    assert_eq!(pair.call(|c| c.symlink("/f", "/l")), Ok(Reply::Ok));
    let attrs = FileAttributes::default().with_times(5, 6);
    assert_eq!(pair.call(|c| c.lsetstat("/l", &attrs)), Ok(Reply::Ok));
    assert_eq!(attrs_of(pair.call(|c| c.lstat("/l"))).mtime(), Some(6));
    assert_eq!(attrs_of(pair.call(|c| c.stat("/l"))).mtime(), Some(0));
}

#[test]
fn opendir_readdir_lists_every_entry_in_batches_then_eof() {
    let mut pair = SftpPair::ready(5);
    for i in 0..250 {
        pair.backend.write_file(&format!("/f{i:03}"), b"x").unwrap();
    }
    let h = handle_of(pair.call(|c| c.opendir("/")));
    let mut seen = Vec::new();
    loop {
        match pair.call(|c| c.readdir(&h)) {
            Ok(Reply::Names(names)) => seen.extend(names),
            Ok(Reply::Eof) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(seen[0].filename, b"f000");
    assert!(seen[0].attrs.is_file());
    let long = String::from_utf8(seen[0].longname.clone()).unwrap();
    assert!(long.starts_with("-rw-rw-rw-"), "{long}");
    assert!(
        long.ends_with(" user     users           1 Jan  1 00:00 f000"),
        "{long}"
    );
    assert_eq!(pair.call(|c| c.close_handle(&h)), Ok(Reply::Ok));
}

#[test]
fn mkdir_and_rmdir_create_and_remove_directories() {
    let mut pair = SftpPair::ready(6);
    let attrs = FileAttributes::default().with_permissions(0o700);
    assert_eq!(pair.call(|c| c.mkdir("/d", &attrs)), Ok(Reply::Ok));
    let a = attrs_of(pair.call(|c| c.stat("/d")));
    assert!(a.is_dir());
    assert_eq!(a.permissions, Some(0o040_700));
    assert_eq!(pair.call(|c| c.rmdir("/d")), Ok(Reply::Ok));
    assert!(!pair.backend.exists("/d"));
}

#[test]
fn remove_deletes_a_file() {
    let mut pair = pair_with_file("/f", b"");
    assert_eq!(pair.call(|c| c.remove("/f")), Ok(Reply::Ok));
    assert!(!pair.backend.exists("/f"));
}

#[test]
fn realpath_canonicalises_dots_and_symlinks() {
    let mut pair = SftpPair::ready(7);
    pair.backend.write_file("/a", b"").unwrap();
    assert_eq!(
        pair.call(|c| c.mkdir("/d", &FileAttributes::default())),
        Ok(Reply::Ok)
    );
    assert_eq!(pair.call(|c| c.symlink("/d", "/sl")), Ok(Reply::Ok));
    let names = names_of(pair.call(|c| c.realpath("/sl/./../d/")));
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].filename, b"/d");
    assert_eq!(
        names_of(pair.call(|c| c.realpath("."))).remove(0).filename,
        b"/"
    );
}

#[test]
fn rename_moves_a_file_and_refuses_to_replace() {
    let mut pair = pair_with_file("/a", b"A");
    pair.backend.write_file("/b", b"B").unwrap();
    assert_eq!(
        code_of(pair.call(|c| c.rename("/a", "/b"))),
        StatusCode::Failure
    );
    assert_eq!(pair.call(|c| c.rename("/a", "/c")), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/c").unwrap(), b"A");
    assert!(!pair.backend.exists("/a"));
}

#[test]
fn posix_rename_replaces_the_target() {
    let mut pair = pair_with_file("/a", b"A");
    pair.backend.write_file("/b", b"B").unwrap();
    assert_eq!(pair.call(|c| c.posix_rename("/a", "/b")), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/b").unwrap(), b"A");
    assert!(!pair.backend.exists("/a"));
}

#[test]
fn symlink_and_readlink_use_target_then_link_order() {
    let mut pair = pair_with_file("/target", b"t");
    assert_eq!(pair.call(|c| c.symlink("target", "/link")), Ok(Reply::Ok));
    let names = names_of(pair.call(|c| c.readlink("/link")));
    assert_eq!(names[0].filename, b"target");
    assert_eq!(pair.backend.read_file("/link").unwrap(), b"t");
}

#[test]
fn hardlink_shares_contents_and_counts_links() {
    let mut pair = pair_with_file("/a", b"shared");
    assert_eq!(pair.call(|c| c.hardlink("/a", "/b")), Ok(Reply::Ok));
    assert_eq!(pair.call(|c| c.remove("/a")), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/b").unwrap(), b"shared");
}

#[test]
fn statvfs_and_fstatvfs_report_file_system_statistics() {
    let mut pair = pair_with_file("/f", &[0; 10_000]);
    let Ok(Reply::StatVfs(s)) = pair.call(|c| c.statvfs("/")) else {
        panic!("no statvfs reply");
    };
    assert_eq!(s.bsize, 4096);
    assert_eq!(s.blocks - s.bfree, 3);
    assert_eq!(s.namemax, 255);
    let h = handle_of(pair.call(|c| c.open("/f", OpenFlags::READ, &FileAttributes::default())));
    assert_eq!(pair.call(|c| c.fstatvfs(&h)), Ok(Reply::StatVfs(s)));
}

#[test]
fn fsync_succeeds_on_an_open_file() {
    let mut pair = pair_with_file("/f", b"");
    let h = handle_of(pair.call(|c| c.open("/f", OpenFlags::WRITE, &FileAttributes::default())));
    assert_eq!(pair.call(|c| c.fsync(&h)), Ok(Reply::Ok));
}

#[test]
fn limits_request_is_answered_by_the_engine() {
    let mut pair = SftpPair::ready(8);
    let Ok(Reply::Limits(l)) = pair.call(|c| c.server_limits()) else {
        panic!("no limits reply");
    };
    assert_eq!(l, pair.server.limits());
    assert!(pair.held.is_empty());
}

#[test]
fn expand_path_expands_tilde_to_the_home_directory() {
    let fs = MemoryFs::new().with_home("/home/user").unwrap();
    let mut pair = SftpPair::with(ClientConfig::default(), ServerConfig::default(), fs, 9);
    pair.expect_ready();
    assert_eq!(
        names_of(pair.call(|c| c.expand_path("~")))
            .remove(0)
            .filename,
        b"/home/user"
    );
    assert_eq!(
        names_of(pair.call(|c| c.expand_path("~user/docs")))
            .remove(0)
            .filename,
        b"/home/user/docs"
    );
    assert_eq!(
        pair.call(|c| c.mkdir("x", &FileAttributes::default())),
        Ok(Reply::Ok)
    );
    assert_eq!(
        names_of(pair.call(|c| c.expand_path("x/../y")))
            .remove(0)
            .filename,
        b"/home/user/y"
    );
    assert_eq!(
        code_of(pair.call(|c| c.expand_path("~nobody"))),
        StatusCode::NoSuchFile
    );
}

#[test]
fn home_directory_names_the_users_home() {
    let fs = MemoryFs::new().with_home("/home/user").unwrap();
    let mut pair = SftpPair::with(ClientConfig::default(), ServerConfig::default(), fs, 10);
    pair.expect_ready();
    assert_eq!(
        names_of(pair.call(|c| c.home_directory("")))
            .remove(0)
            .filename,
        b"/home/user"
    );
    assert_eq!(
        names_of(pair.call(|c| c.home_directory("user")))
            .remove(0)
            .filename,
        b"/home/user"
    );
}

#[test]
fn copy_data_copies_between_handles_on_the_server() {
    let mut pair = pair_with_file("/src", b"0123456789");
    let r = handle_of(pair.call(|c| c.open("/src", OpenFlags::READ, &FileAttributes::default())));
    let w = handle_of(pair.call(|c| c.open("/dst", CREATE, &FileAttributes::default())));
    assert_eq!(pair.call(|c| c.copy_data(&r, 2, 3, &w, 0)), Ok(Reply::Ok));
    assert_eq!(pair.call(|c| c.copy_data(&r, 5, 0, &w, 3)), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/dst").unwrap(), b"23456789");
}

#[test]
fn users_groups_by_id_names_known_ids_and_leaves_unknown_ones_empty() {
    let mut pair = SftpPair::ready(11);
    assert_eq!(
        pair.call(|c| c.users_groups_by_id(&[1000, 0, 4242], &[1000])),
        Ok(Reply::UsersGroups {
            users: vec!["user".into(), "root".into(), String::new()],
            groups: vec!["users".into()],
        })
    );
}

#[test]
fn custom_extensions_reach_the_backend_as_extended_requests() {
    struct Echo(MemoryFs);
    impl crate::sftp::Backend for Echo {
        fn extended(
            &mut self,
            name: &str,
            data: &[u8],
        ) -> Result<Option<bytes::Bytes>, crate::sftp::SftpError> {
            assert_eq!(name, "echo@example.com");
            Ok(Some(bytes::Bytes::copy_from_slice(data)))
        }
        crate::sftp::tests::delegate_backend!(0);
    }
    let server = ServerConfig {
        custom_extensions: vec![("echo@example.com".into(), b"1".to_vec())],
        ..ServerConfig::default()
    };
    let mut pair = SftpPair::with(ClientConfig::default(), server, Echo(MemoryFs::new()), 12);
    pair.expect_ready();
    assert_eq!(
        pair.client.extensions().get("echo@example.com"),
        Some(&b"1"[..])
    );
    assert_eq!(
        pair.call(|c| c.extended("echo@example.com", &b"ping"[..])),
        Ok(Reply::Extended(bytes::Bytes::from_static(b"ping")))
    );
}

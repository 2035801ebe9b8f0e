//! Path operations, the working directory, globs, limits and the session's end.

use super::connected;
use crate::driver::sftp::SftpClientError;
use crate::driver::tests::executor::{TestRuntime, until};
use crate::sftp::{FileType, StatusCode};

#[test]
fn the_servers_limits_and_extensions_are_known_once_started() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, _server) = connected(&rt).await;
        assert_eq!(sftp.limits().max_read_len, 255 * 1024);
        assert!(sftp.supports(crate::sftp::Extension::PosixRename));
        assert!(sftp.extensions().supports(crate::sftp::Extension::CopyData));
    });
}

#[test]
fn directories_are_made_listed_and_removed() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        sftp.mkdir("d").await.unwrap();
        server.file("/home/user/d/b", b"");
        server.file("/home/user/d/a", b"");
        assert_eq!(sftp.listdir("d").await.unwrap(), ["a", "b"]);
        let names = sftp.readdir("d").await.unwrap();
        assert!(names.iter().all(|n| !n.longname.is_empty()));
        assert!(sftp.isdir("d").await.unwrap());
        let busy = sftp.rmdir("d").await.unwrap_err();
        assert_eq!(busy.code(), Some(StatusCode::Failure));
        sftp.remove("d/a").await.unwrap();
        sftp.unlink("d/b").await.unwrap();
        sftp.rmdir("d").await.unwrap();
        assert!(!sftp.exists("d").await.unwrap());
    });
}

#[test]
fn renames_links_and_type_queries_agree() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/a", b"abc");
        server.file("/home/user/other", b"o");
        sftp.rename("a", "b").await.unwrap();
        let clash = sftp.rename("b", "other").await.unwrap_err();
        assert_eq!(clash.code(), Some(StatusCode::Failure));
        sftp.posix_rename("b", "other").await.unwrap();
        sftp.symlink("other", "sym").await.unwrap();
        assert_eq!(sftp.readlink("sym").await.unwrap(), "other");
        assert!(sftp.islink("sym").await.unwrap());
        assert!(sftp.isfile("sym").await.unwrap());
        assert_eq!(
            sftp.lstat("sym").await.unwrap().file_type(),
            Some(FileType::Symlink)
        );
        sftp.link("other", "hard").await.unwrap();
        assert_eq!(sftp.getsize("hard").await.unwrap(), Some(3));
        sftp.remove("other").await.unwrap();
        assert!(!sftp.exists("sym").await.unwrap());
        assert!(sftp.lexists("sym").await.unwrap());
        assert!(!sftp.isdir("missing").await.unwrap());
        assert!(!sftp.isfile("missing").await.unwrap());
        assert!(!sftp.islink("missing").await.unwrap());
    });
}

#[test]
fn attribute_setters_are_seen_by_stat() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/f", b"0123456789");
        sftp.truncate("f", 4).await.unwrap();
        sftp.chmod("f", 0o640).await.unwrap();
        sftp.utime("f", 11, 22).await.unwrap();
        let attrs = sftp.stat("f").await.unwrap();
        assert_eq!(attrs.size, Some(4));
        assert_eq!(attrs.permissions.map(|p| p & 0o777), Some(0o640));
        assert_eq!(sftp.getatime("f").await.unwrap(), Some(11));
        assert_eq!(sftp.getmtime("f").await.unwrap(), Some(22));
        let attrs = crate::sftp::FileAttributes::default().with_permissions(0o600);
        sftp.setstat("f", &attrs).await.unwrap();
        sftp.lsetstat("f", &attrs).await.unwrap();
        // MemoryFs files belong to uid and gid 1000.
        sftp.chown("f", 1000, 1000).await.unwrap();
        assert!(sftp.statvfs("/").await.unwrap().bsize > 0);
    });
}

#[test]
fn chdir_moves_relative_paths_and_getcwd_reports_it() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        assert_eq!(sftp.getcwd().await.unwrap(), "/home/user");
        server.file("/tmp/x", b"in tmp");
        sftp.chdir("/tmp").await.unwrap();
        assert_eq!(sftp.getcwd().await.unwrap(), "/tmp");
        assert_eq!(sftp.getsize("x").await.unwrap(), Some(6));
        assert_eq!(sftp.realpath("x").await.unwrap(), "/tmp/x");
        let not_dir = sftp.chdir("x").await.unwrap_err();
        assert_eq!(not_dir.code(), Some(StatusCode::NoSuchFile));
        assert_eq!(sftp.getcwd().await.unwrap(), "/tmp");
    });
}

#[test]
fn glob_matches_remote_names_component_by_component() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        for path in ["/g/a1/x.txt", "/g/a2/y.txt", "/g/b1/z.txt", "/g/a1/w.log"] {
            server.file(path, b"");
        }
        assert_eq!(
            sftp.glob("/g/a?/*.txt").await.unwrap(),
            ["/g/a1/x.txt", "/g/a2/y.txt"]
        );
        assert_eq!(sftp.glob("/g/[!a]*").await.unwrap(), ["/g/b1"]);
        assert!(sftp.glob("/g/none*").await.unwrap().is_empty());
        assert_eq!(sftp.glob("/g/b1").await.unwrap(), ["/g/b1"]);
    });
}

#[test]
fn dropping_the_last_handle_ends_the_stream() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        sftp.stat("/").await.unwrap();
        drop(sftp);
        until(|| server.observed().eof).await;
    });
}

#[test]
fn a_server_that_hangs_up_fails_the_pending_request_with_connection_lost() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client_end, server_end) = crate::driver::tests::duplex::duplex(64 * 1024);
        // Play the server by hand: answer INIT with VERSION, then drop the stream.
        let mut end = server_end;
        let hello = async move {
            use futures_io::{AsyncRead, AsyncWrite};
            let mut buf = [0u8; 64];
            let mut got = 0;
            while got < 9 {
                got += std::future::poll_fn(|cx| {
                    std::pin::Pin::new(&mut end).poll_read(cx, &mut buf[got..])
                })
                .await
                .unwrap();
            }
            let version = [0, 0, 0, 5, 2, 0, 0, 0, 3];
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut end).poll_write(cx, &version))
                .await
                .unwrap();
            // Wait for the first request, then hang up.
            let _ = std::future::poll_fn(|cx| std::pin::Pin::new(&mut end).poll_read(cx, &mut buf))
                .await;
            drop(end);
        };
        crate::driver::Runtime::spawn(&rt, Box::pin(hello));
        let sftp = crate::driver::sftp::SftpClient::over_stream(rt.handle(), client_end)
            .await
            .unwrap();
        let error = sftp.stat("/").await.unwrap_err();
        assert_eq!(error.code(), Some(StatusCode::ConnectionLost), "{error}");
        assert!(matches!(
            sftp.stat("/").await.unwrap_err(),
            SftpClientError::Session(_)
        ));
    });
}

#[test]
fn concurrent_requests_from_many_tasks_share_the_session() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/f", b"abc");
        let sizes = super::join_all((0..300).map(|_| {
            let sftp = sftp.clone();
            async move { sftp.getsize("f").await.unwrap() }
        }))
        .await;
        assert!(sizes.iter().all(|size| *size == Some(3)));
        // More requests than the engine's in-flight cap (256): the rest waited for
        // room, and many were in flight at once.
        assert!(server.observed().max_outstanding > 100);
    });
}

#[test]
fn mkdir_with_and_open_with_apply_the_given_permissions() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, _server) = connected(&rt).await;
        let attrs = crate::sftp::FileAttributes::default().with_permissions(0o700);
        sftp.mkdir_with("private", &attrs).await.unwrap();
        let mode = sftp.stat("private").await.unwrap().permissions;
        assert_eq!(mode.map(|m| m & 0o777), Some(0o700));
        let attrs = crate::sftp::FileAttributes::default().with_permissions(0o600);
        let file = sftp.open_with("private/key", "x", &attrs).await.unwrap();
        file.close().await.unwrap();
        let mode = sftp.stat("private/key").await.unwrap().permissions;
        assert_eq!(mode.map(|m| m & 0o777), Some(0o600));
    });
}

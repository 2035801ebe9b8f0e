//! get, put, copy and their recursive and glob forms, between a local directory and
//! the in-memory server.

use std::sync::{Arc, Mutex};

use super::{LocalDir, connected, connected_with, pattern};
use crate::driver::sftp::{Progress, SftpClientError, TransferOptions};
use crate::driver::tests::executor::TestRuntime;
use crate::sftp::{Extension, RequestKind, ServerConfig, StatusCode};

#[test]
fn put_then_get_round_trips_a_file_several_chunks_long() {
    let rt = TestRuntime::new();
    let dir = LocalDir::new("roundtrip");
    let data = pattern(5 * 1024 * 1024 + 3);
    std::fs::write(dir.path().join("up"), &data).unwrap();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        let options = TransferOptions::default();
        sftp.put(dir.path().join("up"), "remote", &options)
            .await
            .unwrap();
        assert_eq!(
            sftp.getsize("remote").await.unwrap(),
            Some(data.len() as u64)
        );
        sftp.get("remote", dir.path().join("down"), &options)
            .await
            .unwrap();
        assert!(server.observed().max_outstanding > 4, "transfers pipeline");
    });
    assert!(std::fs::read(dir.path().join("down")).unwrap() == data);
}

#[test]
fn get_tops_its_reads_up_in_batches() {
    let rt = TestRuntime::new();
    let dir = LocalDir::new("batches");
    // Replies of 128 KiB through the 256 KiB stream reach the client one or two at a
    // time, so reads sent as soon as a slot frees would go one or two at a time. A
    // whole number of blocks, so no read comes back short (its gap would be asked
    // again at once, alone).
    let data = pattern(6 * 1024 * 1024);
    let options = TransferOptions {
        block_size: Some(128 * 1024),
        max_requests: 32,
        ..TransferOptions::default()
    };
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/big", &data);
        sftp.get("big", dir.path().join("big"), &options)
            .await
            .unwrap();
        let batches = server.observed().read_batches.clone();
        assert!(batches.len() > 5, "{batches:?}");
        // The first batch fills the pipeline; later ones wait for an eighth of it
        // (4 slots) to be free.
        assert_eq!(batches[0], 32, "{batches:?}");
        assert!(batches.iter().all(|&n| n >= 4), "{batches:?}");
    });
    assert!(std::fs::read(dir.path().join("big")).unwrap() == data);
}

#[test]
fn the_progress_callback_ends_at_the_files_size() {
    let rt = TestRuntime::new();
    let dir = LocalDir::new("progress");
    std::fs::write(dir.path().join("f"), pattern(1_000_000)).unwrap();
    let seen: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    let log = seen.clone();
    let options = TransferOptions {
        block_size: Some(64 * 1024),
        max_requests: 4,
        progress: Some(Arc::new(move |p: &Progress<'_>| {
            log.lock().unwrap().push((p.transferred, p.total));
        })),
        ..TransferOptions::default()
    };
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        sftp.put(dir.path().join("f"), "f", &options).await.unwrap();
        assert!(server.observed().max_outstanding <= 4 + 1);
    });
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 10, "reported along the way");
    assert_eq!(seen.last(), Some(&(1_000_000, 1_000_000)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn preserve_copies_permissions_and_times_both_ways() {
    let rt = TestRuntime::new();
    let dir = LocalDir::new("preserve");
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/old", b"x");
        sftp.chmod("old", 0o640).await.unwrap();
        sftp.utime("old", 1_000_000, 2_000_000).await.unwrap();
        let options = TransferOptions {
            preserve: true,
            ..TransferOptions::default()
        };
        sftp.get("old", dir.path().join("old"), &options)
            .await
            .unwrap();
        let meta = std::fs::metadata(dir.path().join("old")).unwrap();
        let mtime = meta.modified().unwrap();
        assert_eq!(
            mtime
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            2_000_000
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        }
        sftp.put(dir.path().join("old"), "back", &options)
            .await
            .unwrap();
        let attrs = sftp.stat("back").await.unwrap();
        assert_eq!(attrs.mtime(), Some(2_000_000));
        assert_eq!(attrs.permissions.map(|p| p & 0o777), Some(0o640));
    });
}

#[test]
fn copy_uses_copy_data_when_the_server_offers_it() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        let data = pattern(700_000);
        server.file("/home/user/src", &data);
        sftp.copy("src", "dst", &TransferOptions::default())
            .await
            .unwrap();
        assert!(server.observed().kinds.contains(&RequestKind::CopyData));
        assert!(!server.observed().kinds.contains(&RequestKind::Read));
        assert!(server.fs().read_file("/home/user/dst").unwrap() == data);
    });
}

#[test]
fn copy_without_copy_data_reads_and_writes_through_the_client() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let mut config = ServerConfig::default();
        config.extensions.retain(|e| *e != Extension::CopyData);
        let (sftp, server) = connected_with(&rt, config).await;
        let data = pattern(3 * 1024 * 1024 + 5);
        server.file("/home/user/src", &data);
        sftp.copy("src", "dst", &TransferOptions::default())
            .await
            .unwrap();
        assert!(server.observed().kinds.contains(&RequestKind::Write));
        assert!(server.fs().read_file("/home/user/dst").unwrap() == data);
    });
}

#[test]
fn a_directory_needs_recurse_and_comes_whole_with_it() {
    let rt = TestRuntime::new();
    let dir = LocalDir::new("recurse");
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/tree/a.txt", b"a");
        server.file("/home/user/tree/sub/b.txt", b"bb");
        let flat = sftp
            .get("tree", dir.path(), &TransferOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(flat, SftpClientError::Transfer(_)), "{flat}");
        let options = TransferOptions {
            recurse: true,
            ..TransferOptions::default()
        };
        sftp.get("tree", dir.path(), &options).await.unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("tree/sub/b.txt")).unwrap(),
            b"bb"
        );
        sftp.put(dir.path().join("tree"), "copy-up", &options)
            .await
            .unwrap();
        assert_eq!(sftp.listdir("copy-up").await.unwrap(), ["a.txt", "sub"]);
        sftp.mkdir("into").await.unwrap();
        sftp.copy("tree", "into", &options).await.unwrap();
        assert_eq!(sftp.getsize("into/tree/sub/b.txt").await.unwrap(), Some(2));
    });
}

#[test]
fn mget_mput_and_mcopy_expand_glob_patterns() {
    let rt = TestRuntime::new();
    let dir = LocalDir::new("globs");
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        for name in ["r1.txt", "r2.txt", "skip.log"] {
            let path = format!("/home/user/{name}");
            server.file(&path, name.as_bytes());
        }
        let options = TransferOptions::default();
        sftp.mget(&["*.txt"], dir.path(), &options).await.unwrap();
        let mut local: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        local.sort();
        assert_eq!(local, ["r1.txt", "r2.txt"]);
        sftp.mkdir("up").await.unwrap();
        let pattern = dir.path().join("r?.txt");
        sftp.mput(&[pattern], "up", &options).await.unwrap();
        assert_eq!(sftp.listdir("up").await.unwrap(), ["r1.txt", "r2.txt"]);
        sftp.mkdir("copies").await.unwrap();
        sftp.mcopy(&["up/*", "skip.log"], "copies", &options)
            .await
            .unwrap();
        assert_eq!(
            sftp.listdir("copies").await.unwrap(),
            ["r1.txt", "r2.txt", "skip.log"]
        );
        let none = sftp
            .mget(&["*.none"], dir.path(), &options)
            .await
            .unwrap_err();
        assert_eq!(none.code(), Some(StatusCode::NoSuchFile));
    });
}

#[test]
fn getting_a_missing_file_reports_no_such_file_and_creates_nothing() {
    let rt = TestRuntime::new();
    let dir = LocalDir::new("missing");
    rt.block_on(async {
        let (sftp, _server) = connected(&rt).await;
        let error = sftp
            .get(
                "absent",
                dir.path().join("absent"),
                &TransferOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some(StatusCode::NoSuchFile));
    });
    assert!(!dir.path().join("absent").exists());
}

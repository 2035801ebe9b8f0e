//! Remote files as byte streams: read-ahead, write-behind, seeks, modes.

use std::future::poll_fn;
use std::io::SeekFrom;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::{connected, pattern};
use crate::driver::sftp::SftpFile;
use crate::driver::tests::executor::TestRuntime;
use crate::sftp::{RequestKind, StatusCode};

async fn write_all(file: &mut SftpFile, mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *file).poll_write(cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
}

async fn read_to_end(file: &mut SftpFile) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; 100_000];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *file).poll_read(cx, &mut buf))
            .await
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

async fn seek(file: &mut SftpFile, pos: SeekFrom) -> u64 {
    poll_fn(|cx| Pin::new(&mut *file).poll_seek(cx, pos))
        .await
        .unwrap()
}

#[test]
fn data_many_blocks_long_written_and_read_through_the_streams_is_intact() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        let data = pattern(3 * 1024 * 1024 + 17);
        let mut file = sftp.open("big.bin", "wb").await.unwrap();
        write_all(&mut file, &data).await;
        file.close().await.unwrap();
        let mut file = sftp.open("big.bin", "rb").await.unwrap();
        let back = read_to_end(&mut file).await;
        assert_eq!(back.len(), data.len());
        assert!(back == data, "the data came back changed");
        drop(file);
        assert!(
            server.observed().max_outstanding > 1,
            "reads and writes are pipelined"
        );
    });
}

#[test]
fn seeks_from_start_current_and_end_read_the_right_bytes() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, _server) = connected(&rt).await;
        let mut file = sftp.open("digits", "w+").await.unwrap();
        write_all(&mut file, b"0123456789").await;
        assert_eq!(seek(&mut file, SeekFrom::Start(2)).await, 2);
        let mut two = [0; 2];
        let n = poll_fn(|cx| Pin::new(&mut file).poll_read(cx, &mut two))
            .await
            .unwrap();
        assert_eq!(&two[..n], b"23");
        assert_eq!(seek(&mut file, SeekFrom::Current(3)).await, 7);
        assert_eq!(read_to_end(&mut file).await, b"789");
        assert_eq!(seek(&mut file, SeekFrom::End(-4)).await, 6);
        assert_eq!(read_to_end(&mut file).await, b"6789");
        assert_eq!(file.tell(), 10);
        file.close().await.unwrap();
    });
}

#[test]
fn append_mode_writes_after_the_existing_content() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/log", b"one\n");
        let mut file = sftp.open("log", "a").await.unwrap();
        assert_eq!(file.tell(), 4);
        write_all(&mut file, b"two\n").await;
        file.close().await.unwrap();
        let mut file = sftp.open("log", "r").await.unwrap();
        assert_eq!(read_to_end(&mut file).await, b"one\ntwo\n");
    });
}

#[test]
fn exclusive_mode_refuses_an_existing_file_with_a_status() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/taken", b"x");
        let error = sftp.open("taken", "x").await.unwrap_err();
        assert_eq!(error.code(), Some(StatusCode::Failure), "{error}");
        assert!(sftp.open("fresh", "xb").await.is_ok());
    });
}

#[test]
fn opening_a_missing_file_for_reading_reports_no_such_file() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, _server) = connected(&rt).await;
        let error = sftp.open("nowhere", "r").await.unwrap_err();
        assert_eq!(error.code(), Some(StatusCode::NoSuchFile));
        assert!(error.is_not_found());
        assert!(error.message().is_some());
    });
}

#[test]
fn an_invalid_mode_is_refused_before_anything_is_sent() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        for mode in ["", "rw", "q", "r++", "bt"] {
            assert!(sftp.open("f", mode).await.is_err(), "{mode:?}");
        }
        assert!(!server.observed().kinds.contains(&RequestKind::Open));
    });
}

#[test]
fn file_methods_change_and_report_its_attributes() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, _server) = connected(&rt).await;
        let mut file = sftp.open("f", "w+").await.unwrap();
        file.write_at(0, b"hello world").await.unwrap();
        assert_eq!(&file.read_at(6, 5).await.unwrap()[..], b"world");
        assert!(file.read_at(100, 5).await.unwrap().is_empty());
        file.truncate(5).await.unwrap();
        file.chmod(0o600).await.unwrap();
        file.utime(1_000, 2_000).await.unwrap();
        let attrs = file.stat().await.unwrap();
        assert_eq!(attrs.size, Some(5));
        assert_eq!(attrs.permissions.map(|p| p & 0o777), Some(0o600));
        assert_eq!((attrs.atime(), attrs.mtime()), (Some(1_000), Some(2_000)));
        file.fsync().await.unwrap();
        assert!(file.statvfs().await.is_ok());
        file.close().await.unwrap();
    });
}

#[test]
fn small_writes_are_gathered_into_one_request() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        let mut file = sftp.open("gathered", "w").await.unwrap();
        for _ in 0..100 {
            write_all(&mut file, b"0123456789").await;
        }
        file.close().await.unwrap();
        let writes = server
            .observed()
            .kinds
            .iter()
            .filter(|k| **k == RequestKind::Write)
            .count();
        assert_eq!(writes, 1);
        assert_eq!(sftp.getsize("gathered").await.unwrap(), Some(1000));
    });
}

#[test]
fn dropping_an_open_file_closes_its_handle_on_the_server() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        let file = sftp.open("f", "w").await.unwrap();
        drop(file);
        // Any later request's reply comes after the CLOSE's.
        sftp.stat("f").await.unwrap();
        assert!(server.observed().kinds.contains(&RequestKind::Close));
    });
}

#[test]
fn reading_after_a_flushed_write_continues_at_the_files_position() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, _server) = connected(&rt).await;
        let mut file = sftp.open("rw", "w+").await.unwrap();
        write_all(&mut file, b"hello").await;
        poll_fn(|cx| Pin::new(&mut file).poll_flush(cx))
            .await
            .unwrap();
        assert_eq!(
            read_to_end(&mut file).await,
            b"",
            "at the end after writing"
        );
        assert_eq!(seek(&mut file, SeekFrom::Start(1)).await, 1);
        assert_eq!(read_to_end(&mut file).await, b"ello");
    });
}

#[test]
fn append_plus_mode_reads_from_the_end_it_starts_at() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (sftp, server) = connected(&rt).await;
        server.file("/home/user/log", b"old");
        let mut file = sftp.open("log", "a+").await.unwrap();
        assert_eq!(read_to_end(&mut file).await, b"");
        assert_eq!(seek(&mut file, SeekFrom::Start(0)).await, 0);
        assert_eq!(read_to_end(&mut file).await, b"old");
    });
}

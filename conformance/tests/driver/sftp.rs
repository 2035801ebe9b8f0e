//! The driver's SFTP client against sshd's `sftp` subsystem (OpenSSH's
//! sftp-server), on every runtime: every API method, files as byte streams, 64 MiB
//! each way with equal SHA-256, and errors carrying their status codes. (1 GiB each
//! way is in the heavy suite, conformance/tests/heavy/sftp.rs.)

use std::future::poll_fn;
use std::io::SeekFrom;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use sansh_conformance::scratch::ScratchDir;
use sansh_core::driver::sftp::{Progress, SftpClient, SftpFile, TransferOptions};
use sansh_core::sftp::{Extension, FileAttributes, FileType, StatusCode};

use crate::runtimes::TestRuntime;
use crate::sftp_session::{content, text, with_sftp};
use crate::support::TestResult;

async fn write_all(file: &mut SftpFile, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *file).poll_write(cx, data)).await?;
        data = data.get(n..).unwrap_or_default();
    }
    Ok(())
}

async fn read_to_end(file: &mut SftpFile) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *file).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// Every path method of the client against sshd's sftp-server, checked against the
/// local filesystem it serves.
pub(crate) fn sftp_client_runs_every_path_method_against_sshd<R: TestRuntime>() -> TestResult {
    with_sftp::<R, _>(&[], async |sftp, work| {
        let w = text(work);
        assert!(sftp.limits().max_read_len > 32 * 1024, "limits@openssh.com");
        assert!(sftp.supports(Extension::PosixRename));
        sftp.chdir(&w).await?;
        assert_eq!(sftp.getcwd().await?, sftp.realpath(&w).await?);
        sftp.mkdir("d").await?;
        assert!(sftp.isdir("d").await? && work.join("d").is_dir());
        std::fs::write(work.join("d/f"), b"0123456789")?;
        assert_eq!(sftp.listdir("d").await?, ["f"]);
        assert!(sftp.readdir("d").await?.iter().any(|n| n.filename == b"f"));
        assert!(sftp.exists("d/f").await? && sftp.isfile("d/f").await?);
        assert!(!sftp.exists("d/none").await?);
        assert_eq!(sftp.getsize("d/f").await?, Some(10));
        sftp.truncate("d/f", 4).await?;
        assert_eq!(std::fs::read(work.join("d/f"))?, b"0123");
        sftp.chmod("d/f", 0o640).await?;
        let attrs = sftp.stat("d/f").await?;
        assert_eq!(attrs.permissions.map(|p| p & 0o777), Some(0o640));
        sftp.utime("d/f", 1_000_000, 2_000_000).await?;
        assert_eq!(sftp.getatime("d/f").await?, Some(1_000_000));
        assert_eq!(sftp.getmtime("d/f").await?, Some(2_000_000));
        let owner = attrs.owner.ok_or("no owner")?;
        sftp.chown("d/f", owner.uid, owner.gid).await?;
        sftp.setstat("d/f", &FileAttributes::default().with_permissions(0o600))
            .await?;
        sftp.lsetstat("d/f", &FileAttributes::default().with_permissions(0o644))
            .await?;
        assert_eq!(
            sftp.stat("d/f").await?.permissions.map(|p| p & 0o777),
            Some(0o644)
        );
        sftp.symlink("f", "d/sym").await?;
        assert_eq!(sftp.readlink("d/sym").await?, "f");
        assert!(sftp.islink("d/sym").await?);
        assert_eq!(
            sftp.lstat("d/sym").await?.file_type(),
            Some(FileType::Symlink)
        );
        sftp.link("d/f", "d/hard").await?;
        assert_eq!(std::fs::read(work.join("d/hard"))?, b"0123");
        sftp.rename("d/hard", "d/renamed").await?;
        std::fs::write(work.join("d/target"), b"old")?;
        sftp.posix_rename("d/renamed", "d/target").await?;
        assert_eq!(std::fs::read(work.join("d/target"))?, b"0123");
        assert_eq!(sftp.glob("d/[st]*").await?, ["d/sym", "d/target"]);
        sftp.remove("d/target").await?;
        sftp.unlink("d/sym").await?;
        assert!(!sftp.lexists("d/sym").await?);
        sftp.remove("d/f").await?;
        sftp.rmdir("d").await?;
        assert!(!work.join("d").exists());
        assert!(sftp.statvfs(&w).await?.blocks > 0);
        Ok(())
    })
}

/// Files opened in each mode read, write, append and seek as byte streams.
pub(crate) fn sftp_client_files_read_write_and_seek_on_sshd<R: TestRuntime>() -> TestResult {
    with_sftp::<R, _>(&[], async |sftp, work| {
        let path = text(&work.join("file"));
        let data = content(3 * 1024 * 1024 + 11, 7);
        let mut file = sftp.open(&path, "wb").await?;
        write_all(&mut file, &data).await?;
        file.close().await?;
        assert!(std::fs::read(&path)? == data, "written through the stream");
        let mut file = sftp.open(&path, "rb").await?;
        assert!(read_to_end(&mut file).await? == data, "read back");
        let end = poll_fn(|cx| Pin::new(&mut file).poll_seek(cx, SeekFrom::End(-5))).await?;
        assert_eq!(end, data.len() as u64 - 5);
        assert_eq!(
            read_to_end(&mut file).await?,
            data.get(data.len() - 5..).unwrap_or_default()
        );
        drop(file);
        let mut file = sftp.open(&path, "a").await?;
        write_all(&mut file, b"tail").await?;
        file.close().await?;
        assert!(std::fs::read(&path)?.ends_with(b"tail"));
        let mut file = sftp.open(&path, "r+").await?;
        poll_fn(|cx| Pin::new(&mut file).poll_seek(cx, SeekFrom::Start(1))).await?;
        write_all(&mut file, b"XY").await?;
        poll_fn(|cx| Pin::new(&mut file).poll_flush(cx)).await?;
        assert_eq!(
            &file.read_at(0, 4).await?[..],
            [data[0], b'X', b'Y', data[3]]
        );
        file.write_at(0, b"Z").await?;
        file.truncate(10).await?;
        file.chmod(0o600).await?;
        file.utime(5, 6).await?;
        assert_eq!(file.stat().await?.size, Some(10));
        file.fsync().await?;
        assert!(file.statvfs().await?.bsize > 0);
        file.close().await?;
        assert_eq!(std::fs::read(&path)?.first(), Some(&b'Z'));
        let taken = sftp
            .open(&path, "x")
            .await
            .err()
            .ok_or("x opened an existing file")?;
        assert_eq!(taken.code(), Some(StatusCode::Failure), "{taken}");
        Ok(())
    })
}

/// 64 MiB up and down through sshd arrive with the same SHA-256; copy, recursion,
/// globs and progress on the way.
pub(crate) fn sftp_client_puts_and_gets_64_mib_through_sshd_intact<R: TestRuntime>() -> TestResult {
    with_sftp::<R, _>(&[], async |sftp, work| {
        let local = work.join("local");
        let remote = work.join("remote");
        std::fs::create_dir(&local)?;
        std::fs::create_dir(&remote)?;
        let data = content(64 * 1024 * 1024, 3);
        std::fs::write(local.join("big"), &data)?;
        let last = Arc::new(Mutex::new((0, 0)));
        let seen = last.clone();
        let options = TransferOptions {
            preserve: true,
            progress: Some(Arc::new(move |p: &Progress<'_>| {
                *seen.lock().unwrap_or_else(|e| e.into_inner()) = (p.transferred, p.total);
            })),
            ..TransferOptions::default()
        };
        sftp.put(local.join("big"), text(&remote.join("big")), &options)
            .await?;
        assert_eq!(
            *last.lock().unwrap_or_else(|e| e.into_inner()),
            (1 << 26, 1 << 26)
        );
        assert!(
            sha256(&std::fs::read(remote.join("big"))?) == sha256(&data),
            "put"
        );
        sftp.get(text(&remote.join("big")), local.join("back"), &options)
            .await?;
        assert!(
            sha256(&std::fs::read(local.join("back"))?) == sha256(&data),
            "get"
        );
        sftp.copy(
            text(&remote.join("big")),
            text(&remote.join("copy")),
            &options,
        )
        .await?;
        assert!(
            sha256(&std::fs::read(remote.join("copy"))?) == sha256(&data),
            "copy"
        );

        std::fs::create_dir_all(local.join("tree/sub"))?;
        std::fs::write(local.join("tree/a.txt"), b"a")?;
        std::fs::write(local.join("tree/sub/b.txt"), b"b")?;
        let recurse = TransferOptions {
            recurse: true,
            ..TransferOptions::default()
        };
        sftp.mput(&[local.join("tr*")], text(&remote), &recurse)
            .await?;
        assert_eq!(std::fs::read(remote.join("tree/sub/b.txt"))?, b"b");
        let down = work.join("down");
        std::fs::create_dir(&down)?;
        sftp.mget(&[text(&remote.join("tree/*.txt"))], &down, &recurse)
            .await?;
        assert_eq!(std::fs::read(down.join("a.txt"))?, b"a");
        sftp.mkdir(text(&remote.join("copies"))).await?;
        sftp.mcopy(
            &[text(&remote.join("tree"))],
            text(&remote.join("copies")),
            &recurse,
        )
        .await?;
        assert_eq!(std::fs::read(remote.join("copies/tree/sub/b.txt"))?, b"b");
        Ok(())
    })
}

/// Errors carry sftp-server's status codes: no such file, and permission denied
/// from a read-only server (`sftp-server -R`; the tests run as root, for whom file
/// modes deny nothing).
pub(crate) fn sftp_client_errors_carry_status_codes_from_sshd<R: TestRuntime>() -> TestResult {
    let server = sansh_conformance::openssh::SFTP_SERVER
        .locate()
        .map_err(|e| e.to_string())?;
    let read_only = format!("Subsystem sftp {} -R", server.display());
    with_sftp::<R, _>(&[read_only.as_str()], async |sftp, work| {
        let missing = text(&work.join("missing"));
        let error = sftp
            .stat(&missing)
            .await
            .err()
            .ok_or("stat of a missing file")?;
        assert_eq!(error.code(), Some(StatusCode::NoSuchFile), "{error}");
        assert!(error.message().is_some_and(|m| !m.is_empty()));
        let error = sftp
            .open(&missing, "r")
            .await
            .err()
            .ok_or("opened a missing file")?;
        assert!(error.is_not_found(), "{error}");
        let error = sftp
            .mkdir(text(&work.join("new")))
            .await
            .err()
            .ok_or("mkdir read-only")?;
        assert_eq!(error.code(), Some(StatusCode::PermissionDenied), "{error}");
        let error = sftp
            .open(text(&work.join("new")), "w")
            .await
            .err()
            .ok_or("open w")?;
        assert_eq!(error.code(), Some(StatusCode::PermissionDenied), "{error}");
        Ok(())
    })
}

/// `SftpClient::over_stream` on any byte stream: a local `sftp-server` child's
/// stdout and stdin (through tokio's process pipes), no SSH in between.
#[test]
fn tokio_sftp_client_runs_over_the_pipes_of_a_local_sftp_server() -> TestResult {
    let server = sansh_conformance::openssh::SFTP_SERVER
        .locate()
        .map_err(|e| e.to_string())?;
    let dir = ScratchDir::new("driver-sftp-pipes")?;
    let rt = crate::runtimes::Tokio::start();
    rt.block_on(async {
        let mut child = tokio::process::Command::new(server)
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            return Err("no pipes to sftp-server".into());
        };
        let pipes = sansh_tokio::Compat(tokio::io::join(stdout, stdin));
        let sftp = SftpClient::over_stream(rt.runtime(), pipes).await?;
        let data = content(5 * 1024 * 1024, 9);
        let mut file = sftp.open("piped", "w").await?;
        write_all(&mut file, &data).await?;
        file.close().await?;
        assert!(std::fs::read(dir.join("piped"))? == data);
        let mut file = sftp.open("piped", "r").await?;
        assert!(read_to_end(&mut file).await? == data);
        drop(file);
        assert_eq!(sftp.listdir(".").await?, ["piped"]);
        drop(sftp);
        // The end of its stdin ends the server.
        let status = child.wait().await?;
        assert!(status.success(), "{status}");
        Ok(())
    })
}

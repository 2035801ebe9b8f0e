//! 1 GiB each way over SFTP with equal SHA-256: our client against sshd's
//! sftp-server, and OpenSSH's `sftp` against the server example's `--sftp-root`
//! (a release build of the example, as this suite is run in release).

use std::path::Path;
use std::process::Stdio;

use sansh_conformance::process::wait_or_kill;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::driver::sftp::TransferOptions;

use crate::example_server::{Server, drain};
use crate::runtimes::Tokio;
use crate::scenarios::HEAVY_WAIT;
use crate::sftp_session::{Failure, content, text, with_sftp};
use crate::support::TestResult;

const GIB: usize = 1 << 30;

/// Writes `len` bytes of test content to `path` in 8 MiB pieces; returns their
/// SHA-256.
fn write_content(path: &Path, len: usize) -> Result<Vec<u8>, Failure> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let piece = 8 << 20;
    for seed in 0..len.div_ceil(piece) {
        let chunk = content(piece.min(len - seed * piece), seed as u64 + 1);
        hash.update(&chunk);
        file.write_all(&chunk)?;
    }
    file.flush()?;
    Ok(hash.finish().as_ref().to_vec())
}

/// SHA-256 of a file, read in pieces.
fn file_sha256(path: &Path) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0; 8 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hash.finish().as_ref().to_vec());
        }
        hash.update(buf.get(..n).unwrap_or_default());
    }
}

/// Our SFTP client puts 1 GiB to sshd and gets it back, both with equal SHA-256.
#[test]
fn tokio_sftp_client_puts_and_gets_one_gib_through_sshd_intact() -> TestResult {
    with_sftp::<Tokio, _>(&[], async |sftp, work| {
        let source = work.join("gib");
        let expected = write_content(&source, GIB)?;
        let options = TransferOptions::default();
        sftp.put(&source, text(&work.join("up")), &options).await?;
        std::fs::remove_file(&source)?;
        assert!(file_sha256(&work.join("up"))? == expected, "put");
        sftp.get(text(&work.join("up")), work.join("down"), &options)
            .await?;
        std::fs::remove_file(work.join("up"))?;
        assert!(file_sha256(&work.join("down"))? == expected, "get");
        Ok(())
    })
}

/// Runs `sftp -b` with `commands` in `local` against `server`, for at most
/// [`HEAVY_WAIT`].
fn sftp_batch(server: &Server, local: &Path, commands: &str) -> Result<(), Failure> {
    let batch = local.join("batch");
    std::fs::write(&batch, commands)?;
    let mut child = server
        .sftp(&batch)
        .current_dir(local)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = drain(child.stderr.take().ok_or("no stderr")?);
    let status = wait_or_kill(&mut child, HEAVY_WAIT)?;
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
    match status {
        Some(status) if status.success() => Ok(()),
        _ => Err(format!(
            "sftp {commands:?} failed ({status:?}): {stderr}\nthe server said:\n{}",
            server.log()
        )
        .into()),
    }
}

/// OpenSSH's `sftp` puts 1 GiB to the server example and gets it back, both with
/// equal SHA-256.
#[test]
fn openssh_sftp_puts_and_gets_one_gib_through_the_server_example_intact() -> TestResult {
    let dir = ScratchDir::new("heavy-example-sftp")?;
    let (root, local) = (dir.join("root"), dir.join("local"));
    std::fs::create_dir(&root)?;
    std::fs::create_dir(&local)?;
    let server = Server::start(&["--sftp-root", &text(&root)]);
    let expected = write_content(&local.join("gib"), GIB)?;
    sftp_batch(&server, &local, "put gib /up\n")?;
    std::fs::remove_file(local.join("gib"))?;
    assert!(file_sha256(&root.join("up"))? == expected, "put");
    sftp_batch(&server, &local, "get /up down\n")?;
    std::fs::remove_file(root.join("up"))?;
    assert!(file_sha256(&local.join("down"))? == expected, "get");
    Ok(())
}

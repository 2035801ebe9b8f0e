//! The driver's SFTP server (`serve_sftp` with `LocalFs`) on every runtime, driven
//! by OpenSSH's `sftp -b` through `sansh-unix-bridge` over a Unix socket.

use std::fs;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use sansh_conformance::openssh::SFTP;
use sansh_conformance::process::wait_or_kill;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::driver::ByteStream;

use crate::runtimes::{AsyncStd, Smol, TestRuntime, Tokio};
use crate::support::{TestResult, WAIT};

const BRIDGE: &str = env!("CARGO_BIN_EXE_sansh-unix-bridge");

/// A runtime that can adopt a connected std Unix socket as its own async stream.
pub(crate) trait UnixRuntime: TestRuntime {
    /// `stream` as the driver takes it (call inside `block_on`).
    fn adopt(stream: UnixStream) -> std::io::Result<Box<dyn ByteStream>>;
}

impl UnixRuntime for Tokio {
    fn adopt(stream: UnixStream) -> std::io::Result<Box<dyn ByteStream>> {
        stream.set_nonblocking(true)?;
        let stream = ::tokio::net::UnixStream::from_std(stream)?;
        Ok(Box::new(sansh_tokio::Compat(stream)))
    }
}

impl UnixRuntime for Smol {
    fn adopt(stream: UnixStream) -> std::io::Result<Box<dyn ByteStream>> {
        Ok(Box::new(::smol::Async::new(stream)?))
    }
}

impl UnixRuntime for AsyncStd {
    fn adopt(stream: UnixStream) -> std::io::Result<Box<dyn ByteStream>> {
        Ok(Box::new(::async_std::os::unix::net::UnixStream::from(
            stream,
        )))
    }
}

/// Deterministic test content (xorshift64*).
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// `sftp` running, its connection to us, and its output being drained.
struct Sftp {
    child: Child,
    stream: UnixStream,
    stdout: std::thread::JoinHandle<Vec<u8>>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
}

/// Reads all of `pipe` on a thread, so a chatty child never blocks on a full pipe.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Starts `sftp -b batch -D "sansh-unix-bridge SOCKET"` in `local` and accepts its
/// connection on `listener`.
fn start_sftp(
    listener: UnixListener,
    socket: &Path,
    local: &Path,
    batch: &str,
) -> Result<Sftp, Box<dyn std::error::Error>> {
    let batch_file = local.join(".batch");
    fs::write(&batch_file, batch)?;
    let mut child = Command::new(SFTP.locate()?)
        .arg("-b")
        .arg(&batch_file)
        .arg("-D")
        .arg(format!("{BRIDGE} {}", socket.display()))
        .current_dir(local)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(listener.accept().map(|(s, _)| s));
    });
    let stream = rx
        .recv_timeout(WAIT)
        .map_err(|_| "sftp's bridge did not connect")??;
    Ok(Sftp {
        child,
        stream,
        stdout,
        stderr,
    })
}

pub(crate) mod scenarios {
    use super::*;
    use sansh_core::driver::sftp_server::{LocalFs, serve_sftp};
    use sansh_core::sftp::SessionError;

    /// A batch covering transfers both ways, listings, renames, links and an escape
    /// attempt, against serve_sftp on runtime `R`.
    pub(crate) fn openssh_sftp_batch_against_serve_sftp<R: UnixRuntime>() -> TestResult {
        let scratch = ScratchDir::new("serve-sftp")?;
        let (root, local) = (scratch.join("root"), scratch.join("local"));
        fs::create_dir_all(root.join("many"))?;
        fs::create_dir_all(&local)?;
        for i in 0..1000 {
            fs::write(root.join(format!("many/f{i:04}")), b"")?;
        }
        let up = content(8 << 20, 1);
        let down = content(8 << 20, 2);
        fs::write(local.join("up.bin"), &up)?;
        fs::write(root.join("down.bin"), &down)?;
        std::os::unix::fs::symlink("/etc", root.join("etc_link"))?;
        let socket = scratch.join("sftp.sock");
        let listener = UnixListener::bind(&socket)?;
        let batch = "progress
mkdir docs
put up.bin docs/up.bin
rename docs/up.bin docs/moved.bin
ln -s moved.bin docs/link
get down.bin
ls -l many
-get ../../etc/passwd passwd
-get etc_link/passwd passwd2
bye
";
        let Sftp {
            mut child,
            stream,
            stdout,
            stderr,
        } = start_sftp(listener, &socket, &local, batch)?;
        let rt = R::start();
        let end = rt.block_on(async {
            let stream = R::adopt(stream)?;
            let backend = LocalFs::new(&root)?;
            serve_sftp(rt.runtime(), stream, backend).await
        })?;
        assert_eq!(end, SessionError::EndOfStream);
        let Some(status) = wait_or_kill(&mut child, WAIT)? else {
            return Err("sftp did not exit".into());
        };
        let stdout = String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
        assert!(status.success(), "sftp failed: {stderr}");
        assert_eq!(stdout.matches("many/f").count(), 1000, "ls -l listed all");
        assert_eq!(sha256(&fs::read(root.join("docs/moved.bin"))?), sha256(&up));
        assert_eq!(sha256(&fs::read(local.join("down.bin"))?), sha256(&down));
        assert_eq!(
            fs::read_link(root.join("docs/link"))?,
            Path::new("moved.bin")
        );
        assert!(!local.join("passwd").exists() && !local.join("passwd2").exists());
        Ok(())
    }
}

crate::runtimes::on_every_runtime!(openssh_sftp_batch_against_serve_sftp);

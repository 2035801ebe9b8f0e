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
use std::future::Future;
use std::io::{Read, Write};
use std::pin::{Pin, pin};

use bytes::Bytes;
use futures_io::AsyncRead;
use sansh_core::driver::ByteStream;
use sansh_core::sftp::{Backend, FileAttributes, Handle, MemoryFs, Name, OpenFlags, SftpError};

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

/// MemoryFs whose STAT of `/gate` blocks its thread until released: it tells
/// `entered` it is blocked, then waits on `release` (failing after [`WAIT`]).
struct Gate {
    fs: MemoryFs,
    entered: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
}

/// Forwards the methods `Gate` does not change to its MemoryFs.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> $ret { self.fs.$name($($arg),*) })*
    };
}

impl Backend for Gate {
    fn stat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError> {
        if path == b"/gate" {
            let _ = self.entered.send(());
            if self.release.recv_timeout(WAIT).is_err() {
                return Err(SftpError::failure("never released: the executor stalled"));
            }
            return Ok(FileAttributes::default().with_size(7));
        }
        self.fs.stat(path)
    }

    forward! {
        open(path: &[u8], flags: OpenFlags, attrs: &FileAttributes) -> Result<Handle, SftpError>;
        close(handle: &Handle) -> Result<(), SftpError>;
        read(handle: &Handle, offset: u64, len: u32) -> Result<Option<Bytes>, SftpError>;
        write(handle: &Handle, offset: u64, data: &[u8]) -> Result<(), SftpError>;
        lstat(path: &[u8]) -> Result<FileAttributes, SftpError>;
        fstat(handle: &Handle) -> Result<FileAttributes, SftpError>;
        setstat(path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError>;
        fsetstat(handle: &Handle, attrs: &FileAttributes) -> Result<(), SftpError>;
        opendir(path: &[u8]) -> Result<Handle, SftpError>;
        readdir(handle: &Handle) -> Result<Option<Vec<Name>>, SftpError>;
        remove(path: &[u8]) -> Result<(), SftpError>;
        mkdir(path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError>;
        rmdir(path: &[u8]) -> Result<(), SftpError>;
        realpath(path: &[u8]) -> Result<Vec<u8>, SftpError>;
        rename(from: &[u8], to: &[u8]) -> Result<(), SftpError>;
        readlink(path: &[u8]) -> Result<Vec<u8>, SftpError>;
        symlink(target: &[u8], link: &[u8]) -> Result<(), SftpError>;
    }
}

/// An SFTP packet: length, type, body.
fn packet(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len() + 1).unwrap_or(u32::MAX);
    [&len.to_be_bytes()[..], &[ty], body].concat()
}

/// Reads one SFTP packet (type and body) from a blocking stream.
fn read_packet(stream: &mut UnixStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut body)?;
    let ty = body.first().copied().unwrap_or(0);
    Ok((ty, body.split_off(1)))
}

pub(crate) mod scenarios {
    use super::*;
    use sansh_core::driver::sftp_server::{LocalFs, serve_sftp};
    use sansh_core::sftp::SessionError;

    /// While the backend blocks in a request, the future serving SFTP must not hold
    /// the executor: another future on the same `block_on` has to run to release it.
    pub(crate) fn a_blocked_backend_does_not_stall_the_executor<R: UnixRuntime>() -> TestResult {
        let (client, server) = UnixStream::pair()?;
        let (signal_tx, signal_rx) = UnixStream::pair()?;
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel();
        let gate = Gate {
            fs: MemoryFs::new(),
            entered: entered_tx,
            release: release_rx,
        };
        // The client: INIT, then STAT /gate; returns the reply's packet type.
        let client = std::thread::spawn(move || -> std::io::Result<u8> {
            let mut client = client;
            client.write_all(&packet(1, &3u32.to_be_bytes()))?;
            let path = b"/gate";
            let mut stat = 1u32.to_be_bytes().to_vec();
            stat.extend_from_slice(&(path.len() as u32).to_be_bytes());
            stat.extend_from_slice(path);
            client.write_all(&packet(17, &stat))?;
            let (version, _) = read_packet(&mut client)?;
            assert_eq!(version, 2, "SSH_FXP_VERSION");
            let (reply, _) = read_packet(&mut client)?;
            Ok(reply)
        });
        // Once the backend is blocked, poke the executor-side future.
        std::thread::spawn(move || {
            if entered_rx.recv().is_ok() {
                let _ = (&signal_tx).write_all(b"!");
            }
        });
        let rt = R::start();
        let end = rt.block_on(async {
            let server = R::adopt(server)?;
            let mut signal = R::adopt(signal_rx)?;
            let release = async move {
                let mut byte = [0u8; 1];
                let read =
                    std::future::poll_fn(|cx| Pin::new(&mut signal).poll_read(cx, &mut byte)).await;
                if matches!(read, Ok(1)) {
                    let _ = release_tx.send(());
                }
            };
            let serve = serve_sftp(rt.runtime(), server, gate);
            let (mut serve, mut release) = (pin!(serve), pin!(release));
            let mut released = false;
            std::future::poll_fn(|cx| {
                if !released {
                    released = release.as_mut().poll(cx).is_ready();
                }
                serve.as_mut().poll(cx)
            })
            .await
        })?;
        let reply = client.join().map_err(|_| "the client thread panicked")??;
        assert_eq!(reply, 105, "SSH_FXP_ATTRS: the gate was released");
        assert_eq!(end, SessionError::EndOfStream);
        Ok(())
    }

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

crate::runtimes::on_every_runtime!(
    openssh_sftp_batch_against_serve_sftp,
    a_blocked_backend_does_not_stall_the_executor,
);

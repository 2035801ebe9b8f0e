//! Our SFTP server engine on stdin/stdout, serving a directory as `/`.
//!
//! `sansh-sftp-server-stdio [--root DIR] [--blocking]` (default: the current
//! directory). OpenSSH's client runs it in place of ssh with
//! `sftp -D "sansh-sftp-server-stdio --root DIR"`. The backend is the driver's
//! `LocalFs`, served by the driver's `serve_sftp` on smol (requests in batches on
//! the blocking pool while replies are written), as a server's `sftp` subsystem
//! is; `--blocking` answers each request in turn on one thread instead. Exits 0
//! when the client closes the stream, 1 when it broke the protocol, 2 on a usage or
//! I/O error.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::process::ExitCode;

use sansh_conformance::sftp::serve;
use sansh_core::driver::sftp_server::{LocalFs, Pipes, serve_sftp};
use sansh_core::sftp::{ServerConfig, SessionError};

/// A descriptor as a `File`: Rust's stdout is line-buffered, which would split
/// binary replies into a write per newline byte.
fn raw(fd: BorrowedFd<'_>) -> std::io::Result<File> {
    Ok(File::from(fd.try_clone_to_owned()?))
}

fn run(backend: LocalFs, blocking: bool) -> std::io::Result<SessionError> {
    let input = raw(std::io::stdin().as_fd())?;
    let output = raw(std::io::stdout().as_fd())?;
    if blocking {
        let mut backend = backend;
        return serve(&mut backend, ServerConfig::default(), input, output);
    }
    smol::block_on(async {
        let pipes = Pipes::new(smol::Async::new(input)?, smol::Async::new(output)?);
        serve_sftp(sansh_smol::SmolRuntime.shared(), pipes, backend).await
    })
}

fn main() -> ExitCode {
    let mut root = PathBuf::from(".");
    let mut blocking = false;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match (
            arg.to_str(),
            arg.to_str()
                .filter(|a| *a == "--root")
                .and_then(|_| args.next()),
        ) {
            (Some("--blocking"), _) => blocking = true,
            (_, Some(dir)) => root = PathBuf::from(dir),
            _ => {
                eprintln!("usage: sansh-sftp-server-stdio [--root DIR] [--blocking]");
                return ExitCode::from(2);
            }
        }
    }
    let backend = match LocalFs::new(&root) {
        Ok(fs) => fs,
        Err(e) => {
            eprintln!("sansh-sftp-server-stdio: {}: {e}", root.display());
            return ExitCode::from(2);
        }
    };
    match run(backend, blocking) {
        Ok(SessionError::EndOfStream) => ExitCode::SUCCESS,
        Ok(end) => {
            eprintln!("sansh-sftp-server-stdio: {end}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("sansh-sftp-server-stdio: {e}");
            ExitCode::from(2)
        }
    }
}

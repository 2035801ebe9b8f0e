//! Joins stdin and stdout to a Unix-domain socket: `sansh-unix-bridge PATH`.
//!
//! OpenSSH's `sftp -D PROGRAM` talks to PROGRAM over its stdio; with this bridge as
//! the program it reaches an SFTP server listening on a socket inside the test
//! process (the driver's `serve_sftp` on each runtime). Exits when the server closes
//! its end: 0, or 2 on a usage or connection error.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        eprintln!("usage: sansh-unix-bridge PATH");
        return ExitCode::from(2);
    };
    let socket = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sansh-unix-bridge: {}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let Ok(mut to_server) = socket.try_clone() else {
        return ExitCode::from(2);
    };
    // The client's requests go up on their own thread; stdin's end is the socket's
    // write end, so the server sees the client leave.
    std::thread::spawn(move || {
        let _ = copy(&mut std::io::stdin().lock(), &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let mut from_server = socket;
    match copy(&mut from_server, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sansh-unix-bridge: {e}");
            ExitCode::from(2)
        }
    }
}

/// Copies until end of input, flushing after every chunk (the peer waits for it).
fn copy(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        to.write_all(&buf[..n])?;
        to.flush()?;
    }
}

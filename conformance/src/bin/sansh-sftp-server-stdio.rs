//! Our SFTP server engine on stdin/stdout, serving a directory as `/`.
//!
//! `sansh-sftp-server-stdio [--root DIR]` (default: the current directory). OpenSSH's
//! client runs it in place of ssh with `sftp -D "sansh-sftp-server-stdio --root DIR"`.
//! Exits 0 when the client closes the stream, 1 when it broke the protocol, 2 on a
//! usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;

use sansh_conformance::sftp::serve;
use sansh_core::driver::sftp_server::LocalFs;
use sansh_core::sftp::{ServerConfig, SessionError};

fn main() -> ExitCode {
    let mut root = PathBuf::from(".");
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match (arg.to_str(), args.next()) {
            (Some("--root"), Some(dir)) => root = PathBuf::from(dir),
            _ => {
                eprintln!("usage: sansh-sftp-server-stdio [--root DIR]");
                return ExitCode::from(2);
            }
        }
    }
    let mut backend = match LocalFs::new(&root) {
        Ok(fs) => fs,
        Err(e) => {
            eprintln!("sansh-sftp-server-stdio: {}: {e}", root.display());
            return ExitCode::from(2);
        }
    };
    match serve(
        &mut backend,
        ServerConfig::default(),
        std::io::stdin().lock(),
        std::io::stdout().lock(),
    ) {
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

//! Helpers shared by the SFTP engine tests.

use std::path::Path;
use std::process::{Command, Stdio};

use sansh_conformance::openssh::{HarnessError, SFTP_SERVER};
use sansh_conformance::sftp::{Answer, SftpProcess};
use sansh_core::sftp::{ClientConfig, FileAttributes, Handle, Name, Reply, StatusCode};

/// Our own stdio server binary, built by cargo for this test target.
pub(crate) const OUR_SERVER: &str = env!("CARGO_BIN_EXE_sansh-sftp-server-stdio");

/// Any error a test step can hit.
pub(crate) type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// OpenSSH's `sftp-server`, working directory `dir`, driven by our client.
pub(crate) fn openssh_server(dir: &Path) -> TestResult<SftpProcess> {
    let path = SFTP_SERVER
        .locate()
        .map_err(|e: HarnessError| e.to_string())?;
    let mut command = Command::new(path);
    command.current_dir(dir).stderr(Stdio::null());
    Ok(SftpProcess::spawn(command, ClientConfig::default())?)
}

/// Our stdio server serving `root`, driven by our client.
pub(crate) fn our_server(root: &Path) -> TestResult<SftpProcess> {
    let mut command = Command::new(OUR_SERVER);
    command.arg("--root").arg(root);
    Ok(SftpProcess::spawn(command, ClientConfig::default())?)
}

/// Deterministic test content (xorshift64*), fast enough for tens of MiB unoptimised.
pub(crate) fn content(len: usize, seed: u64) -> Vec<u8> {
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

/// SHA-256 of `data`, as hex.
pub(crate) fn sha256(data: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn handle(answer: Answer) -> Handle {
    match answer {
        Ok(Reply::Handle(h)) => h,
        other => panic!("expected a handle, got {other:?}"),
    }
}

pub(crate) fn attrs(answer: Answer) -> FileAttributes {
    match answer {
        Ok(Reply::Attrs(a)) => a,
        other => panic!("expected attributes, got {other:?}"),
    }
}

pub(crate) fn one_name(answer: Answer) -> Vec<u8> {
    match answer {
        Ok(Reply::Names(mut names)) if names.len() == 1 => names.remove(0).filename,
        other => panic!("expected one name, got {other:?}"),
    }
}

pub(crate) fn code(answer: Answer) -> StatusCode {
    match answer {
        Err(e) => e.code,
        Ok(reply) => panic!("expected an error status, got {reply:?}"),
    }
}

/// The entry names of a listing without `.` and `..`, sorted.
pub(crate) fn sorted_names(names: &[Name]) -> Vec<String> {
    let mut v: Vec<String> = names
        .iter()
        .map(|n| n.filename_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    v.sort();
    v
}

/// `path` as a string for a request.
pub(crate) fn p(path: &Path) -> String {
    path.to_str().expect("scratch paths are UTF-8").to_owned()
}

//! The SFTP workloads: files on tmpfs, sizes checked after every transfer.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use sansh_conformance::openssh::SFTP_SERVER;
use sansh_core::cipher::CipherAlgorithm;

use crate::openssh_side::{self, SftpPeer};
use crate::our_server::cargo_build;
use crate::our_side;
use crate::setup::{BenchResult, Setup};
use crate::workloads::{Figures, children_cpu, own_cpu, throughput};

/// The file every transfer starts from.
const SOURCE: &str = "source";
/// Where every transfer goes (removed after each).
const DESTINATION: &str = "destination";

/// Which way a file goes.
#[derive(Clone, Copy)]
pub(crate) enum Transfer {
    /// From the server to the client.
    Get,
    /// From the client to the server.
    Put,
}

/// Where the SFTP clients connect, and with which cipher.
#[derive(Clone, Copy)]
pub(crate) struct SftpTarget {
    /// `sshd`, or a relay in front of it.
    pub(crate) addr: SocketAddr,
    /// The only cipher both clients offer; each its own default list when `None`.
    pub(crate) cipher: Option<CipherAlgorithm>,
}

/// Our client against `sftp`, each moving the source to or from `target`; with
/// both clients' CPU time.
pub(crate) fn client(
    setup: &Setup,
    target: SftpTarget,
    size: u64,
    transfer: Transfer,
) -> BenchResult<Figures> {
    let (source, destination) = files(setup, size)?;
    // CPU time of the transfer alone: removing the file afterwards is the bench's
    // work, which for `sftp` falls outside its children's time too.
    let mut ours_cpu = Duration::ZERO;
    let ours = timed(&destination, size, || {
        let (elapsed, cpu) =
            own_cpu(|| our_side::sftp(setup, target, transfer, &source, &destination))?;
        ours_cpu = cpu;
        Ok(elapsed)
    })?;
    let (openssh, openssh_cpu) = children_cpu(|| {
        let peer = SftpPeer::Ssh(target.addr, target.cipher.map(CipherAlgorithm::name));
        sftp_with_sshd(setup, peer, size, transfer, &source, &destination)
    })?;
    Ok(throughput(size, ours, openssh).with_cpu(ours_cpu, openssh_cpu))
}

/// `sftp` moving the source over SSH to or from our server (whose SFTP root is the
/// tmpfs directory, so remote paths are root-relative), then `sshd`.
pub(crate) fn server(setup: &Setup, size: u64, transfer: Transfer) -> BenchResult<Figures> {
    let (source, destination) = files(setup, size)?;
    let server = setup.our_server()?.addr();
    let command = match transfer {
        Transfer::Get => format!("get /{SOURCE} \"{}\"", destination.display()),
        Transfer::Put => format!("put \"{}\" /{DESTINATION}", source.display()),
    };
    let ours = timed(&destination, size, || {
        openssh_side::sftp(setup, SftpPeer::Ssh(server, None), &command)
    })?;
    let sshd = SftpPeer::Ssh(setup.sshd.addr(), None);
    let openssh = sftp_with_sshd(setup, sshd, size, transfer, &source, &destination)?;
    Ok(throughput(size, ours, openssh))
}

/// Times OpenSSH's `sftp` moving `source` to `destination` through `peer`.
fn sftp_with_sshd(
    setup: &Setup,
    peer: SftpPeer<'_>,
    size: u64,
    transfer: Transfer,
    source: &Path,
    destination: &Path,
) -> BenchResult<Duration> {
    let verb = match transfer {
        Transfer::Get => "get",
        Transfer::Put => "put",
    };
    let command = format!(
        "{verb} \"{}\" \"{}\"",
        source.display(),
        destination.display()
    );
    timed(destination, size, || {
        openssh_side::sftp(setup, peer, &command)
    })
}

/// `sftp -D` fetching the source from our stdio server, then from `sftp-server`.
pub(crate) fn stdio_server_get(setup: &Setup, size: u64) -> BenchResult<Figures> {
    let (_, destination) = files(setup, size)?;
    stdio_servers(
        setup,
        size,
        &format!("get {SOURCE} \"{}\"", destination.display()),
    )
}

/// `sftp -D` sending the source to our stdio server, then to `sftp-server`.
pub(crate) fn stdio_server_put(setup: &Setup, size: u64) -> BenchResult<Figures> {
    let (source, _) = files(setup, size)?;
    stdio_servers(
        setup,
        size,
        &format!("put \"{}\" {DESTINATION}", source.display()),
    )
}

/// Runs the batch `command` with `sftp -D`: our server, then OpenSSH's; both serve
/// the tmpfs directory (ours with `--root`, OpenSSH's from its working directory).
fn stdio_servers(setup: &Setup, size: u64, command: &str) -> BenchResult<Figures> {
    let dir = setup.files()?;
    let destination = dir.join(DESTINATION);
    let ours_command = format!("{} --root {}", stdio_server()?.display(), dir.display());
    let ours = timed(&destination, size, || {
        let peer = SftpPeer::Direct {
            command: &ours_command,
            dir,
        };
        openssh_side::sftp(setup, peer, command)
    })?;
    let theirs_command = SFTP_SERVER.locate()?.display().to_string();
    let openssh = timed(&destination, size, || {
        let peer = SftpPeer::Direct {
            command: &theirs_command,
            dir,
        };
        openssh_side::sftp(setup, peer, command)
    })?;
    let mut figures = throughput(size, ours, openssh);
    figures.note = Some(
        "sftp -D (no SSH): sansh-sftp-server-stdio (the driver's serve_sftp) against \
         OpenSSH's sftp-server; server-sftp-* are the same over SSH"
            .into(),
    );
    Ok(figures)
}

/// Runs `transfer`, checks `destination` holds `size` bytes, removes it.
fn timed(
    destination: &Path,
    size: u64,
    transfer: impl FnOnce() -> BenchResult<Duration>,
) -> BenchResult<Duration> {
    let _ = std::fs::remove_file(destination);
    let elapsed = transfer()?;
    let got = std::fs::metadata(destination)?.len();
    std::fs::remove_file(destination)?;
    if got != size {
        return Err(format!("{} holds {got} bytes of {size}", destination.display()).into());
    }
    Ok(elapsed)
}

/// The source (`size` bytes, written once, not sparse) and destination paths.
fn files(setup: &Setup, size: u64) -> BenchResult<(PathBuf, PathBuf)> {
    let dir = setup.files()?;
    let source = dir.join(SOURCE);
    if std::fs::metadata(&source).map(|m| m.len()).ok() != Some(size) {
        let mut file = std::fs::File::create(&source)?;
        let block = vec![0x5a_u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let len = usize::try_from(left).map_or(block.len(), |l| l.min(block.len()));
            file.write_all(block.get(..len).unwrap_or_default())?;
            left -= len as u64;
        }
    }
    Ok((source, dir.join(DESTINATION)))
}

/// Our stdio SFTP server (`conformance/src/bin/sansh-sftp-server-stdio.rs`), built
/// by cargo when missing or stale.
fn stdio_server() -> BenchResult<&'static Path> {
    static SERVER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| cargo_build("sansh-conformance", "bin", "sansh-sftp-server-stdio"))
        .as_deref()
        .map_err(|e| format!("building sansh-sftp-server-stdio failed: {e}").into())
}

//! The workloads: what each measures, on our side and on OpenSSH's.

use std::time::Duration;

use sansh_core::cipher::CipherAlgorithm;

use crate::args::Args;
use crate::setup::{BenchResult, Setup};
use crate::sftp::Transfer;
use crate::{idle, openssh_side, our_side, sftp};

/// One line of output.
pub(crate) struct Workload {
    /// The name `--workload` selects and the line starts with.
    pub(crate) name: &'static str,
    /// The unit of both figures.
    pub(crate) unit: &'static str,
    kind: Kind,
}

/// What a workload does.
#[derive(Clone, Copy)]
enum Kind {
    /// `--size` bytes from the server's `head -c SIZE /dev/zero` to the client.
    Download(CipherAlgorithm),
    /// `--size` bytes from the client into the server's `cat > /dev/null`.
    Upload(CipherAlgorithm),
    /// `--connections` times in a row: connect, authenticate with a key, exec
    /// `true`, close.
    Connections,
    /// [`Kind::Download`] with `ssh` as the client, our server against `sshd`.
    ServerDownload(CipherAlgorithm),
    /// [`Kind::Upload`] with `ssh` as the client, our server against `sshd`.
    ServerUpload(CipherAlgorithm),
    /// [`Kind::Connections`] with `ssh` as the client, `CONNECTION_BATCH` at once,
    /// our server against `sshd`.
    ServerConnections,
    /// Server memory per connection with `--idle` authenticated idle connections.
    ServerIdleMemory,
    /// An SFTP `get` of a `--size` file from `sshd`: our client against `sftp`.
    SftpGet,
    /// An SFTP `put` of a `--size` file to `sshd`: our client against `sftp`.
    SftpPut,
    /// `sftp` fetching a `--size` file over SSH: from our server (its
    /// `--sftp-root`) against `sshd`.
    ServerSftpGet,
    /// `sftp` sending a `--size` file over SSH: to our server against `sshd`.
    ServerSftpPut,
    /// `sftp` fetching a `--size` file from our SFTP server against OpenSSH's
    /// `sftp-server`, both on sftp's pipes (`sftp -D`).
    StdioServerGet,
    /// `sftp` sending a `--size` file to our SFTP server against OpenSSH's
    /// `sftp-server`, both on sftp's pipes (`sftp -D`).
    StdioServerPut,
}

/// Both figures of a workload, in its unit.
pub(crate) struct Figures {
    pub(crate) ours: f64,
    pub(crate) openssh: f64,
    /// What was measured, when the line alone would not say.
    pub(crate) note: Option<String>,
}

const fn workload(name: &'static str, unit: &'static str, kind: Kind) -> Workload {
    Workload { name, unit, kind }
}

const AES: CipherAlgorithm = CipherAlgorithm::Aes128Gcm;
const CHACHA: CipherAlgorithm = CipherAlgorithm::Chacha20Poly1305;

/// Every workload, in the order a full run takes them.
pub(crate) const WORKLOADS: &[Workload] = &[
    workload("download-aes128-gcm", "MiB/s", Kind::Download(AES)),
    workload(
        "download-chacha20-poly1305",
        "MiB/s",
        Kind::Download(CHACHA),
    ),
    workload("upload-aes128-gcm", "MiB/s", Kind::Upload(AES)),
    workload("upload-chacha20-poly1305", "MiB/s", Kind::Upload(CHACHA)),
    workload("connections", "conn/s", Kind::Connections),
    workload(
        "server-download-aes128-gcm",
        "MiB/s",
        Kind::ServerDownload(AES),
    ),
    workload(
        "server-download-chacha20-poly1305",
        "MiB/s",
        Kind::ServerDownload(CHACHA),
    ),
    workload("server-upload-aes128-gcm", "MiB/s", Kind::ServerUpload(AES)),
    workload(
        "server-upload-chacha20-poly1305",
        "MiB/s",
        Kind::ServerUpload(CHACHA),
    ),
    workload("server-connections", "conn/s", Kind::ServerConnections),
    // Less is better here: the ratio is ours over sshd's, the target at most 64 KiB.
    workload("server-idle-memory", "KiB/conn", Kind::ServerIdleMemory),
    workload("sftp-get", "MiB/s", Kind::SftpGet),
    workload("sftp-put", "MiB/s", Kind::SftpPut),
    workload("server-sftp-get", "MiB/s", Kind::ServerSftpGet),
    workload("server-sftp-put", "MiB/s", Kind::ServerSftpPut),
    workload("sftp-server-stdio-get", "MiB/s", Kind::StdioServerGet),
    workload("sftp-server-stdio-put", "MiB/s", Kind::StdioServerPut),
];

impl Workload {
    /// Runs our side, then OpenSSH's.
    pub(crate) fn run(&self, setup: &Setup, args: &Args) -> BenchResult<Figures> {
        let sshd = setup.sshd.addr();
        match self.kind {
            Kind::Download(cipher) => {
                let ours = our_side::download(setup, cipher, args.size)?;
                let openssh = openssh_side::download(setup, sshd, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::Upload(cipher) => {
                let ours = our_side::upload(setup, cipher, args.size)?;
                let openssh = openssh_side::upload(setup, sshd, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::Connections => {
                let n = args.connections;
                let ours = our_side::connections(setup, n)?;
                let openssh = openssh_side::connections(setup, sshd, n, 1)?;
                Ok(rate(n, ours, openssh))
            }
            Kind::ServerDownload(cipher) => {
                let server = setup.our_server()?.addr();
                let ours = openssh_side::download(setup, server, cipher.name(), args.size)?;
                let openssh = openssh_side::download(setup, sshd, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::ServerUpload(cipher) => {
                let server = setup.our_server()?.addr();
                let ours = openssh_side::upload(setup, server, cipher.name(), args.size)?;
                let openssh = openssh_side::upload(setup, sshd, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::ServerConnections => {
                let (n, batch) = (args.connections, openssh_side::CONNECTION_BATCH);
                let server = setup.our_server()?.addr();
                let ours = openssh_side::connections(setup, server, n, batch)?;
                let openssh = openssh_side::connections(setup, sshd, n, batch)?;
                Ok(rate(n, ours, openssh))
            }
            Kind::ServerIdleMemory => idle::memory(setup, args.idle),
            Kind::SftpGet => sftp::client(setup, args.size, Transfer::Get),
            Kind::SftpPut => sftp::client(setup, args.size, Transfer::Put),
            Kind::ServerSftpGet => sftp::server(setup, args.size, Transfer::Get),
            Kind::ServerSftpPut => sftp::server(setup, args.size, Transfer::Put),
            Kind::StdioServerGet => sftp::stdio_server_get(setup, args.size),
            Kind::StdioServerPut => sftp::stdio_server_put(setup, args.size),
        }
    }
}

/// Per second, for `n` connections made in each time.
fn rate(n: u32, ours: Duration, openssh: Duration) -> Figures {
    Figures {
        ours: f64::from(n) / ours.as_secs_f64(),
        openssh: f64::from(n) / openssh.as_secs_f64(),
        note: None,
    }
}

/// MiB/s for `size` bytes moved in each time.
pub(crate) fn throughput(size: u64, ours: Duration, openssh: Duration) -> Figures {
    let mib = size as f64 / f64::from(1 << 20);
    Figures {
        ours: mib / ours.as_secs_f64(),
        openssh: mib / openssh.as_secs_f64(),
        note: None,
    }
}

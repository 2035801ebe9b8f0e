//! The workloads: what each measures, on our side and on OpenSSH's.

use std::time::Duration;

use sansh_core::cipher::CipherAlgorithm;

use crate::args::Args;
use crate::setup::{BenchResult, Setup};
use crate::{openssh_side, our_side};

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
}

/// Both figures of a workload, in its unit.
pub(crate) struct Figures {
    pub(crate) ours: f64,
    pub(crate) openssh: f64,
}

/// Client workloads: our client and `ssh`, each against the same `sshd`.
pub(crate) const WORKLOADS: &[Workload] = &[
    Workload {
        name: "download-aes128-gcm",
        unit: "MiB/s",
        kind: Kind::Download(CipherAlgorithm::Aes128Gcm),
    },
    Workload {
        name: "download-chacha20-poly1305",
        unit: "MiB/s",
        kind: Kind::Download(CipherAlgorithm::Chacha20Poly1305),
    },
    Workload {
        name: "upload-aes128-gcm",
        unit: "MiB/s",
        kind: Kind::Upload(CipherAlgorithm::Aes128Gcm),
    },
    Workload {
        name: "upload-chacha20-poly1305",
        unit: "MiB/s",
        kind: Kind::Upload(CipherAlgorithm::Chacha20Poly1305),
    },
    Workload {
        name: "connections",
        unit: "conn/s",
        kind: Kind::Connections,
    },
];

/// Workloads still to come, with what they need. Each becomes an entry of
/// [`WORKLOADS`] (a new [`Kind`]) once that exists:
/// - server side (our server's session channels in the driver): `ssh` against our
///   server vs against `sshd`, for the same downloads, uploads and connection rate;
/// - server memory per idle connection, 1,000 connections open, ours vs `sshd`;
/// - SFTP (the SFTP engines wired to channels): `sftp` get and put of `--size` bytes,
///   our client vs `sftp`, and `sftp` against our server vs `sshd`.
pub(crate) const PLANNED: &[&str] = &[
    "server-download-aes128-gcm",
    "server-download-chacha20-poly1305",
    "server-upload-aes128-gcm",
    "server-upload-chacha20-poly1305",
    "server-connections",
    "server-idle-memory",
    "sftp-get",
    "sftp-put",
    "server-sftp-get",
    "server-sftp-put",
];

impl Workload {
    /// Runs our side, then OpenSSH's.
    pub(crate) fn run(&self, setup: &Setup, args: &Args) -> BenchResult<Figures> {
        match self.kind {
            Kind::Download(cipher) => {
                let ours = our_side::download(setup, cipher, args.size)?;
                let openssh = openssh_side::download(setup, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::Upload(cipher) => {
                let ours = our_side::upload(setup, cipher, args.size)?;
                let openssh = openssh_side::upload(setup, cipher.name(), args.size)?;
                Ok(throughput(args.size, ours, openssh))
            }
            Kind::Connections => {
                let n = args.connections;
                let ours = our_side::connections(setup, n)?;
                let openssh = openssh_side::connections(setup, n)?;
                Ok(Figures {
                    ours: f64::from(n) / ours.as_secs_f64(),
                    openssh: f64::from(n) / openssh.as_secs_f64(),
                })
            }
        }
    }
}

/// MiB/s for `size` bytes moved in each time.
fn throughput(size: u64, ours: Duration, openssh: Duration) -> Figures {
    let mib = size as f64 / f64::from(1 << 20);
    Figures {
        ours: mib / ours.as_secs_f64(),
        openssh: mib / openssh.as_secs_f64(),
    }
}

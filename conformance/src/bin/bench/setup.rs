//! What every workload shares: one `sshd`, a user key it and our server accept, a
//! tokio runtime, our server and a delaying relay to `sshd` (each started when
//! first needed) and a tmpfs directory for SFTP files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tempfile::TempDir;

use sansh_conformance::openssh::{SSH_KEYGEN, Sshd};
use sansh_conformance::scratch::ScratchDir;

use crate::our_server::OurServer;
use crate::relay::DelayRelay;
use crate::workloads::WAN_ONE_WAY;

/// Where SFTP files go: memory, so that disk speed sets no figure.
const TMPFS: &str = "/dev/shm";

/// A workload's error, for a line on stderr.
pub(crate) type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The shared peers.
pub(crate) struct Setup {
    pub(crate) sshd: Sshd,
    /// The private key file (Ed25519, no passphrase) both clients log in with.
    pub(crate) key: PathBuf,
    /// An `authorized_keys` file with the key's public half, for our server.
    pub(crate) authorized_keys: PathBuf,
    /// The local user both clients log in as.
    pub(crate) user: String,
    pub(crate) runtime: tokio::runtime::Runtime,
    our_server: OnceLock<Result<OurServer, String>>,
    wan_relay: OnceLock<Result<DelayRelay, String>>,
    files: OnceLock<Result<TempDir, String>>,
    // Last: removed once nothing uses the key file.
    _dir: ScratchDir,
}

impl Setup {
    /// Generates the user key and starts `sshd` accepting it.
    pub(crate) fn start() -> BenchResult<Self> {
        let dir = ScratchDir::new("bench")?;
        let key = dir.join("id_ed25519");
        let status = SSH_KEYGEN
            .command()?
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "sansh-bench", "-f"])
            .arg(&key)
            .status()?;
        if !status.success() {
            return Err(format!("ssh-keygen failed: {status}").into());
        }
        let public = std::fs::read_to_string(key.with_extension("pub"))?;
        let authorized_keys = dir.write("authorized_keys", format!("{}\n", public.trim()))?;
        let sshd = Sshd::builder()
            .authorized_key(public.trim())
            // The harness's DEBUG3 log would cost sshd time on every packet.
            .config("LogLevel INFO")
            // Parallel connection batches and the idle-memory workload's opening
            // must not meet sshd's random early drops (default 10:30:100).
            .config("MaxStartups 1000")
            .start()?;
        let output = Command::new("id").arg("-un").output()?;
        let user = String::from_utf8(output.stdout)?.trim().to_owned();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            sshd,
            key,
            authorized_keys,
            user,
            runtime,
            our_server: OnceLock::new(),
            wan_relay: OnceLock::new(),
            files: OnceLock::new(),
            _dir: dir,
        })
    }

    /// Our server (the tokio server example), started on first use and shared.
    pub(crate) fn our_server(&self) -> BenchResult<&OurServer> {
        self.our_server
            .get_or_init(|| OurServer::start(self).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| e.clone().into())
    }

    /// A relay to `sshd` with [`WAN_ONE_WAY`] of delay each way, started on first
    /// use and shared.
    pub(crate) fn wan_relay(&self) -> BenchResult<&DelayRelay> {
        self.wan_relay
            .get_or_init(|| {
                DelayRelay::start(self.sshd.addr(), WAN_ONE_WAY).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| e.clone().into())
    }

    /// A directory on tmpfs for SFTP files, removed at the end.
    pub(crate) fn files(&self) -> BenchResult<&Path> {
        self.files
            .get_or_init(|| {
                tempfile::Builder::new()
                    .prefix("sansh-bench-")
                    .tempdir_in(TMPFS)
                    .map_err(|e| format!("a directory in {TMPFS}: {e}"))
            })
            .as_ref()
            .map(TempDir::path)
            .map_err(|e| e.clone().into())
    }
}

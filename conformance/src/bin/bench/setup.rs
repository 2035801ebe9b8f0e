//! What every workload shares: one `sshd`, a user key it accepts, a tokio runtime.

use std::path::PathBuf;
use std::process::Command;

use sansh_conformance::openssh::{SSH_KEYGEN, Sshd};
use sansh_conformance::scratch::ScratchDir;

/// A workload's error, for a line on stderr.
pub(crate) type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The shared peers.
pub(crate) struct Setup {
    pub(crate) sshd: Sshd,
    /// The private key file (Ed25519, no passphrase) both clients log in with.
    pub(crate) key: PathBuf,
    /// The local user both clients log in as.
    pub(crate) user: String,
    pub(crate) runtime: tokio::runtime::Runtime,
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
        let sshd = Sshd::builder()
            .authorized_key(public.trim())
            // The harness's DEBUG3 log would cost sshd time on every packet.
            .config("LogLevel INFO")
            .start()?;
        let output = Command::new("id").arg("-un").output()?;
        let user = String::from_utf8(output.stdout)?.trim().to_owned();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            sshd,
            key,
            user,
            runtime,
            _dir: dir,
        })
    }
}

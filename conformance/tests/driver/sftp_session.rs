//! An SFTP client session on a fresh sshd, and file content for transfers: shared
//! by the driver suite's SFTP scenarios and the heavy suite's 1 GiB transfers.

use std::path::Path;

use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::ClientConfig;
use sansh_core::driver::Login;
use sansh_core::driver::sftp::SftpClient;

use crate::peers::{KEY_TYPES, KeyFile, current_user};
use crate::runtimes::TestRuntime;
use crate::support::AcceptAny;

pub(crate) type Failure = Box<dyn std::error::Error>;

/// Runs `scenario` with an SFTP client on a fresh sshd (with `config` lines) and a
/// scratch directory for both sides' files.
pub(crate) fn with_sftp<R: TestRuntime, T>(
    config: &[&str],
    scenario: impl AsyncFnOnce(&SftpClient, &Path) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let dir = ScratchDir::new("driver-sftp")?;
    let key = KeyFile::generate(&dir, "id_sftp", KEY_TYPES[0], None)?;
    let mut builder = Sshd::builder().authorized_key(key.public_line()?);
    for line in config {
        builder = builder.config(*line);
    }
    let sshd = builder.start()?;
    let login = Login::new(current_user()?)
        .no_agent()
        .identity_file(&key.path);
    let work = dir.join("work");
    std::fs::create_dir(&work)?;
    let rt = R::start();
    rt.block_on(async {
        let handler = AcceptAny::default();
        let conn = R::connect(sshd.addr(), ClientConfig::default(), handler.clone()).await?;
        conn.authenticate(&login, &handler).await?;
        let sftp = conn.start_sftp_client().await?;
        let result = scenario(&sftp, &work).await;
        drop(sftp);
        conn.disconnect("sansh driver sftp test: done");
        result
    })
}

pub(crate) fn text(path: &Path) -> String {
    path.display().to_string()
}

/// Deterministic content (xorshift64*), fast in debug builds.
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

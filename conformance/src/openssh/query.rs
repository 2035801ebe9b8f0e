//! What the installed OpenSSH supports, from `ssh -Q`.

use super::binary::SSH;
use super::error::{HarnessError, Result};

/// An algorithm family `ssh -Q` can list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// Key exchange methods (`ssh -Q kex`), e.g. `mlkem768x25519-sha256`.
    Kex,
    /// Ciphers (`ssh -Q cipher`), e.g. `chacha20-poly1305@openssh.com`.
    Cipher,
    /// MACs (`ssh -Q mac`), e.g. `hmac-sha2-256-etm@openssh.com`.
    Mac,
    /// Public key types (`ssh -Q key`), e.g. `ssh-ed25519`.
    Key,
    /// Signature algorithms (`ssh -Q key-sig`), e.g. `rsa-sha2-512`: the names
    /// `HostKeyAlgorithms` and `PubkeyAcceptedAlgorithms` take.
    Signature,
}

impl Query {
    /// The argument to `ssh -Q`.
    pub fn arg(self) -> &'static str {
        match self {
            Self::Kex => "kex",
            Self::Cipher => "cipher",
            Self::Mac => "mac",
            Self::Key => "key",
            Self::Signature => "key-sig",
        }
    }
}

/// Lists the algorithms of one family the installed OpenSSH supports, in its order.
///
/// ```
/// use sansh_conformance::openssh::{supported, Query};
///
/// let kex = supported(Query::Kex)?;
/// assert!(kex.iter().any(|name| name == "curve25519-sha256"));
/// # Ok::<(), sansh_conformance::openssh::HarnessError>(())
/// ```
pub fn supported(what: Query) -> Result<Vec<String>> {
    let command = format!("ssh -Q {}", what.arg());
    let output = SSH
        .command()?
        .args(["-Q", what.arg()])
        .output()
        .map_err(HarnessError::io_error(format!("run {command}")))?;
    if !output.status.success() {
        return Err(HarnessError::CommandFailed {
            command,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(HarnessError::UnexpectedOutput {
            command,
            output: String::new(),
        });
    }
    Ok(names)
}

//! The host key check: known_hosts with accept-new, yes or no.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sansh_tokio::ClientHandler;
use sansh_tokio::core::keys::PublicKey;
use sansh_tokio::core::known_hosts::{HostKeyStatus, KnownHosts};

/// `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Refuse unknown keys.
    Yes,
    /// Record unknown keys (OpenSSH's `accept-new`).
    AcceptNew,
    /// Trust unknown keys without recording them.
    No,
}

impl Strictness {
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "yes" => Ok(Self::Yes),
            "accept-new" => Ok(Self::AcceptNew),
            "no" | "off" => Ok(Self::No),
            other => Err(format!("StrictHostKeyChecking: unsupported value {other}")),
        }
    }
}

/// Checks the server's key against a known_hosts file.
#[derive(Clone)]
pub(crate) struct KnownHostsCheck(Arc<Inner>);

struct Inner {
    host: String,
    port: u16,
    path: PathBuf,
    strict: Strictness,
}

impl KnownHostsCheck {
    pub(crate) fn new(host: &str, port: u16, path: &Path, strict: Strictness) -> Self {
        Self(Arc::new(Inner {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            strict,
        }))
    }

    fn check(&self, key: &PublicKey) -> Result<bool, String> {
        let Inner {
            host,
            port,
            path,
            strict,
        } = &*self.0;
        let shown = path.display();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("read {shown}: {e}")),
        };
        let mut known = KnownHosts::parse(&text);
        let fingerprint = key.fingerprint_sha256();
        match known.check(host, *port, key) {
            HostKeyStatus::Trusted { .. } => Ok(true),
            HostKeyStatus::Revoked { line } => Err(format!(
                "host key {fingerprint} is revoked ({shown}:{line})"
            )),
            HostKeyStatus::Changed { .. } => Err(format!(
                "REMOTE HOST IDENTIFICATION HAS CHANGED for {host}: {fingerprint} \
                 differs from {shown}"
            )),
            HostKeyStatus::Unknown => match strict {
                Strictness::Yes => Err(format!(
                    "no host key is known for {host} ({fingerprint}) and \
                     StrictHostKeyChecking=yes"
                )),
                Strictness::No => Ok(true),
                Strictness::AcceptNew => {
                    let line = known.add(host, *port, key).map_err(|e| e.to_string())?;
                    if let Some(dir) = path.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let separator = if text.is_empty() || text.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    };
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .and_then(|mut file| writeln!(file, "{separator}{line}"))
                        .map_err(|e| format!("write {shown}: {e}"))?;
                    eprintln!("Warning: Permanently added '{host}' ({fingerprint}) to {shown}.");
                    Ok(true)
                }
            },
        }
    }
}

impl ClientHandler for KnownHostsCheck {
    async fn check_server_key(&self, key: &PublicKey) -> bool {
        match self.check(key) {
            Ok(trusted) => trusted,
            Err(message) => {
                eprintln!("{message}\nHost key verification failed.");
                false
            }
        }
    }
}

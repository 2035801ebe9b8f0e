//! Locating the OpenSSH programs the tests run.
//!
//! Paths are Debian's fixed ones rather than a `$PATH` search, so the tests always run
//! the peers that `scripts/install-peers` checked and installed, never an older copy
//! that happens to come first in `$PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::{HarnessError, Result};

/// An OpenSSH program: where Debian installs it and which package ships it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binary {
    name: &'static str,
    path: &'static str,
    package: &'static str,
}

/// The OpenSSH server daemon.
pub const SSHD: Binary = Binary::new("sshd", "/usr/sbin/sshd", "openssh-server");
/// The OpenSSH client.
pub const SSH: Binary = Binary::new("ssh", "/usr/bin/ssh", "openssh-client");
/// Key generation and inspection.
pub const SSH_KEYGEN: Binary = Binary::new("ssh-keygen", "/usr/bin/ssh-keygen", "openssh-client");
/// The authentication agent.
pub const SSH_AGENT: Binary = Binary::new("ssh-agent", "/usr/bin/ssh-agent", "openssh-client");
/// Adds keys to a running agent.
pub const SSH_ADD: Binary = Binary::new("ssh-add", "/usr/bin/ssh-add", "openssh-client");
/// The interactive SFTP client.
pub const SFTP: Binary = Binary::new("sftp", "/usr/bin/sftp", "openssh-client");
/// The SFTP server subsystem that `sshd` runs.
pub const SFTP_SERVER: Binary = Binary::new(
    "sftp-server",
    "/usr/lib/openssh/sftp-server",
    "openssh-sftp-server",
);

/// Every OpenSSH program the harness knows.
pub const ALL: [Binary; 7] = [SSHD, SSH, SSH_KEYGEN, SSH_AGENT, SSH_ADD, SFTP, SFTP_SERVER];

impl Binary {
    /// Describes a program installed at `path` by the Debian package `package`.
    pub const fn new(name: &'static str, path: &'static str, package: &'static str) -> Self {
        Self {
            name,
            path,
            package,
        }
    }

    /// The program's name, e.g. `ssh-keygen`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The Debian package that ships it.
    pub fn package(&self) -> &'static str {
        self.package
    }

    /// Returns the program's path if it is installed.
    ///
    /// # Errors
    /// [`HarnessError::MissingBinary`], naming the package to install.
    pub fn locate(&self) -> Result<PathBuf> {
        let path = Path::new(self.path);
        if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(HarnessError::MissingBinary {
                name: self.name.into(),
                path: path.to_path_buf(),
                package: self.package.into(),
            })
        }
    }

    /// A [`Command`] for the program, after checking that it is installed.
    pub fn command(&self) -> Result<Command> {
        Ok(Command::new(self.locate()?))
    }
}

/// The installed OpenSSH release, as `ssh -V` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpensshVersion {
    /// Major release number (10 in `OpenSSH_10.0p2`).
    pub major: u32,
    /// Minor release number (0 in `OpenSSH_10.0p2`).
    pub minor: u32,
    /// The whole line, e.g. `OpenSSH_10.0p2 Debian-7~bpo12+1, OpenSSL 3.0.19 27 Jan 2026`.
    pub banner: String,
}

/// Reads the installed client's version from `ssh -V`.
pub fn openssh_version() -> Result<OpensshVersion> {
    let output = SSH
        .command()?
        .arg("-V")
        .output()
        .map_err(HarnessError::io_error("run ssh -V"))?;
    // ssh -V prints to stderr.
    let banner = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    parse_version(&banner).ok_or_else(|| HarnessError::UnexpectedOutput {
        command: "ssh -V".into(),
        output: banner.clone(),
    })
}

fn parse_version(banner: &str) -> Option<OpensshVersion> {
    let rest = banner.strip_prefix("OpenSSH_")?;
    let (major, rest) = rest.split_once('.')?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(OpensshVersion {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
        banner: banner.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_banner_of_debian_backports_parses() {
        let v = parse_version("OpenSSH_10.0p2 Debian-7~bpo12+1, OpenSSL 3.0.19 27 Jan 2026");
        assert_eq!(v.map(|v| (v.major, v.minor)), Some((10, 0)));
    }

    #[test]
    fn version_banner_without_prefix_is_rejected() {
        assert_eq!(parse_version("ssh: command not found"), None);
    }
}

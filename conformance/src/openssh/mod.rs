//! The installed OpenSSH as a test peer.
//!
//! - [`Binary`] and the constants [`SSHD`], [`SSH`], [`SSH_KEYGEN`], [`SSH_AGENT`],
//!   [`SSH_ADD`], [`SFTP`], [`SFTP_SERVER`]: where each program lives; a missing one is
//!   a [`HarnessError::MissingBinary`] naming the Debian package to install.
//! - [`Sshd`]: a throwaway server on `127.0.0.1` with host keys of every type, a log
//!   the test can read or wait on, killed on drop.
//! - [`SshClient`]: one `ssh -vvv` run, isolated from the user's config, returning the
//!   exit status, stdout and the debug log.
//! - [`supported`]: what the installed OpenSSH implements (`ssh -Q`), and
//!   [`openssh_version`].
//!
//! A whole round trip: OpenSSH's client against OpenSSH's server, with the key
//! exchange pinned and both logs checked.
//!
//! ```
//! use std::time::Duration;
//! use sansh_conformance::openssh::{supported, Query, SshClient, Sshd};
//!
//! let kex = "curve25519-sha256";
//! assert!(supported(Query::Kex)?.iter().any(|k| k == kex));
//!
//! let sshd = Sshd::builder().config(format!("KexAlgorithms {kex}")).start()?;
//! let out = SshClient::new(sshd.addr())
//!     .known_hosts(sshd.known_hosts())   // verify the host key for real
//!     .timeout(Duration::from_secs(20))
//!     .run()?;
//! assert!(out.log_contains(&format!("kex: algorithm: {kex}")));
//! assert!(out.log_contains("SSH2_MSG_SERVICE_ACCEPT received"));
//! sshd.wait_for_log("Connection from 127.0.0.1", Duration::from_secs(10))?;
//! # Ok::<(), sansh_conformance::openssh::HarnessError>(())
//! ```
//!
//! Against our own server engine, point [`SshClient::new`] at its listening address
//! and restrict the algorithms with [`SshClient::option`]
//! (`"KexAlgorithms=..."`, `"Ciphers=..."`, `"MACs=..."`, `"HostKeyAlgorithms=..."`).

mod binary;
mod client;
mod error;
mod log;
mod query;
mod sshd;

pub use binary::{
    ALL, Binary, OpensshVersion, SFTP, SFTP_SERVER, SSH, SSH_ADD, SSH_AGENT, SSH_KEYGEN, SSHD,
    openssh_version,
};
pub use client::{ClientOutput, SshClient};
pub use error::{HarnessError, Result};
pub use query::{Query, supported};
pub use sshd::{HostKey, Sshd, SshdBuilder};

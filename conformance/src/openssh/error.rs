//! The one error type of the harness.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Something the harness could not do; the message says what and how to fix it.
///
/// Errors carry the peer's log where there is one, so a failing test prints what
/// `sshd` or `ssh` said without a second look.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// An OpenSSH binary the test needs is not installed.
    #[error(
        "{name} is not installed (looked for {path}): install the Debian package `{package}` \
         (scripts/install-peers installs OpenSSH 10 from bookworm-backports)"
    )]
    MissingBinary {
        /// The program's name, e.g. `sshd`.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
        /// The Debian package that ships it.
        package: String,
    },
    /// A filesystem or process operation failed.
    #[error("could not {action}: {source}")]
    Io {
        /// What the harness was doing, e.g. `spawn /usr/sbin/sshd`.
        action: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A helper program ran but failed.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    CommandFailed {
        /// The command line that was run.
        command: String,
        /// How it ended.
        status: ExitStatus,
        /// What it wrote to stderr.
        stderr: String,
    },
    /// A program printed something the harness cannot parse.
    #[error("`{command}` printed unexpected output: {output:?}")]
    UnexpectedOutput {
        /// The command line that was run.
        command: String,
        /// What it printed.
        output: String,
    },
    /// `sshd` exited, or never reported that it listens, during start-up.
    #[error("sshd did not start: {reason}\n--- sshd log ---\n{log}")]
    SshdStart {
        /// Why the harness gave up.
        reason: String,
        /// Everything sshd wrote to stderr.
        log: String,
    },
    /// A peer took longer than the test allowed; it has been killed.
    #[error("{what}: no result after {waited:?}\n--- log so far ---\n{log}")]
    Timeout {
        /// What was being waited for.
        what: String,
        /// How long the harness waited.
        waited: Duration,
        /// The peer's log up to that point.
        log: String,
    },
}

/// The harness's result type.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

impl HarnessError {
    /// A closure turning an `io::Error` into [`HarnessError::Io`] for `action`, for
    /// `map_err`.
    pub fn io_error(action: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let action = action.into();
        move |source| Self::Io { action, source }
    }
}

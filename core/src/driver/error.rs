//! Why connecting (or accepting) failed.

use std::time::Duration;

use crate::error::{ApiMisuse, ConnectionError};

/// Why a connection could not be established.
///
/// The byte-stream errors come from the runtime crates' `connect` (name resolution,
/// TCP); the others from the SSH handshake over an established stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// Resolving the name or opening the byte stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The name resolved to no address.
    #[error("the name resolved to no address")]
    NoAddress,
    /// No address accepted a connection within the connect timeout.
    #[error("connecting timed out after {0:?}")]
    TimedOut(Duration),
    /// The SSH handshake failed: the connection ended before the first key exchange
    /// completed.
    #[error("SSH handshake failed: {0}")]
    Handshake(#[from] ConnectionError),
    /// The key exchange completed but authentication did not.
    #[error("authentication failed: {0}")]
    Authentication(#[from] super::authenticate::AuthFailed),
    /// The configuration cannot work (a server without a usable host key, ...).
    #[error(transparent)]
    Config(#[from] ApiMisuse),
}

//! Status codes and the per-request error that carries one
//! ([draft-ietf-secsh-filexfer-02 §7]).
//!
//! [draft-ietf-secsh-filexfer-02 §7]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt

use std::fmt;

/// An SSH_FX_* status code. Codes version 3 does not define are kept as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// SSH_FX_OK (0): success.
    Ok,
    /// SSH_FX_EOF (1): end of file, or no more directory entries.
    Eof,
    /// SSH_FX_NO_SUCH_FILE (2): a reference to a file that does not exist.
    NoSuchFile,
    /// SSH_FX_PERMISSION_DENIED (3): the user lacks permission.
    PermissionDenied,
    /// SSH_FX_FAILURE (4): an error without a more specific code.
    Failure,
    /// SSH_FX_BAD_MESSAGE (5): a badly formatted packet or protocol incompatibility.
    BadMessage,
    /// SSH_FX_NO_CONNECTION (6): generated locally by a client with no connection.
    NoConnection,
    /// SSH_FX_CONNECTION_LOST (7): generated locally when the connection was lost.
    ConnectionLost,
    /// SSH_FX_OP_UNSUPPORTED (8): the server does not implement the operation.
    OpUnsupported,
    /// A code outside version 3's set.
    Unknown(u32),
}

impl StatusCode {
    /// Every code version 3 defines, in numeric order.
    pub const ALL: [Self; 9] = [
        Self::Ok,
        Self::Eof,
        Self::NoSuchFile,
        Self::PermissionDenied,
        Self::Failure,
        Self::BadMessage,
        Self::NoConnection,
        Self::ConnectionLost,
        Self::OpUnsupported,
    ];

    /// The code's number on the wire.
    pub fn to_u32(self) -> u32 {
        match self {
            Self::Ok => 0,
            Self::Eof => 1,
            Self::NoSuchFile => 2,
            Self::PermissionDenied => 3,
            Self::Failure => 4,
            Self::BadMessage => 5,
            Self::NoConnection => 6,
            Self::ConnectionLost => 7,
            Self::OpUnsupported => 8,
            Self::Unknown(n) => n,
        }
    }

    /// The code for a number from the wire.
    pub fn from_u32(n: u32) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.to_u32() == n)
            .unwrap_or(Self::Unknown(n))
    }

    /// The message OpenSSH's server sends with this code, for responses that have no
    /// better one.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::Ok => "Success",
            Self::Eof => "End of file",
            Self::NoSuchFile => "No such file",
            Self::PermissionDenied => "Permission denied",
            Self::Failure => "Failure",
            Self::BadMessage => "Bad message",
            Self::NoConnection => "No connection",
            Self::ConnectionLost => "Connection lost",
            Self::OpUnsupported => "Operation unsupported",
            Self::Unknown(_) => "Unknown error",
        }
    }
}

impl From<u32> for StatusCode {
    fn from(n: u32) -> Self {
        Self::from_u32(n)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(n) => write!(f, "unknown status {n}"),
            other => write!(f, "{} ({})", other.default_message(), other.to_u32()),
        }
    }
}

/// A request that failed: the server's status code and message.
///
/// The client reports it per request (it is not fatal to the session); a server
/// backend returns one to answer a request with SSH_FXP_STATUS.
///
/// ```
/// use sansh_core::sftp::{SftpError, StatusCode};
/// let err = SftpError::new(StatusCode::NoSuchFile, "no such file: a.txt");
/// assert_eq!(err.code, StatusCode::NoSuchFile);
/// assert_eq!(err.to_string(), "No such file (2): no such file: a.txt");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SftpError {
    /// The status code.
    pub code: StatusCode,
    /// The human-readable message (control characters removed when it came from a peer).
    pub message: String,
    /// The message's language tag (RFC 1766), usually empty.
    pub language: String,
}

impl SftpError {
    /// An error with `code` and `message` and no language tag.
    pub fn new(code: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            language: String::new(),
        }
    }

    /// An error with `code` and its default message.
    pub fn from_code(code: StatusCode) -> Self {
        Self::new(code, code.default_message())
    }

    /// SSH_FX_NO_SUCH_FILE with the default message.
    pub fn no_such_file() -> Self {
        Self::from_code(StatusCode::NoSuchFile)
    }

    /// SSH_FX_PERMISSION_DENIED with the default message.
    pub fn permission_denied() -> Self {
        Self::from_code(StatusCode::PermissionDenied)
    }

    /// SSH_FX_FAILURE with `message`.
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(StatusCode::Failure, message)
    }

    /// SSH_FX_BAD_MESSAGE with `message`.
    pub fn bad_message(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BadMessage, message)
    }

    /// SSH_FX_OP_UNSUPPORTED with the default message.
    pub fn unsupported() -> Self {
        Self::from_code(StatusCode::OpUnsupported)
    }
}

/// Removes control characters from text a peer sent, so it is safe to print.
pub(crate) fn sanitize(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

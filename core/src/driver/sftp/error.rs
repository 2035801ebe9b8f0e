//! Why an SFTP client operation failed: [`SftpClientError`].

use std::io;

use crate::driver::ChannelError;
use crate::sftp::{RequestError, SessionError, SftpError, StatusCode};

/// Why an operation of [`SftpClient`](super::SftpClient) or
/// [`SftpFile`](super::SftpFile) failed.
///
/// A request the server failed carries its SFTP status code and message
/// ([`Self::Status`]; [`Self::code`] gives the code of any variant that has one).
///
/// ```
/// use sansh_core::driver::sftp::SftpClientError;
/// use sansh_core::sftp::{SftpError, StatusCode};
/// let err = SftpClientError::from(SftpError::no_such_file());
/// assert_eq!(err.code(), Some(StatusCode::NoSuchFile));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SftpClientError {
    /// The server failed the request with this status.
    #[error("{0}")]
    Status(#[from] SftpError),
    /// The engine refused to send the request (unsupported extension, too large, ...).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The SFTP session has ended.
    #[error("the SFTP session ended: {0}")]
    Session(SessionError),
    /// Opening the channel or starting the `sftp` subsystem failed.
    #[error("starting the sftp subsystem failed: {0}")]
    Channel(#[from] ChannelError),
    /// A local file operation (get, put) failed.
    #[error("local file: {0}")]
    Io(#[from] io::Error),
    /// An `open` mode other than r, w, a or x with + and b.
    #[error("invalid open mode {0:?}: one of r, w, a, x, optionally with + and b")]
    InvalidMode(String),
    /// A path the server returned is not UTF-8.
    #[error("the server returned a path that is not UTF-8: {0:?}")]
    NotUtf8(String),
    /// A reply of a type this operation cannot use (e.g. no name in a REALPATH reply).
    #[error("unexpected reply: {0}")]
    UnexpectedReply(&'static str),
    /// A transfer's source and destination do not fit together (several sources
    /// into one file, a directory without `recurse`, ...).
    #[error("{0}")]
    Transfer(String),
}

impl SftpClientError {
    /// The SFTP status code, for a server's status (and for requests lost with the
    /// session: SSH_FX_CONNECTION_LOST).
    pub fn code(&self) -> Option<StatusCode> {
        match self {
            Self::Status(error) => Some(error.code),
            Self::Session(_) => Some(StatusCode::ConnectionLost),
            _ => None,
        }
    }

    /// The server's message, for a status error.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Status(error) => Some(&error.message),
            _ => None,
        }
    }

    /// True for SSH_FX_NO_SUCH_FILE.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(StatusCode::NoSuchFile)
    }
}

impl From<SftpClientError> for io::Error {
    fn from(error: SftpClientError) -> Self {
        let kind = match &error {
            SftpClientError::Io(e) => e.kind(),
            SftpClientError::Status(e) => match e.code {
                StatusCode::NoSuchFile => io::ErrorKind::NotFound,
                StatusCode::PermissionDenied => io::ErrorKind::PermissionDenied,
                StatusCode::OpUnsupported => io::ErrorKind::Unsupported,
                StatusCode::ConnectionLost | StatusCode::NoConnection => {
                    io::ErrorKind::ConnectionAborted
                }
                _ => io::ErrorKind::Other,
            },
            SftpClientError::Session(_) => io::ErrorKind::ConnectionAborted,
            SftpClientError::InvalidMode(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        Self::new(kind, error)
    }
}

//! SFTP peers for the engine-level conformance tests, over plain stdio pipes (no SSH
//! yet: the engines only need a byte stream).
//!
//! - [`SftpProcess`]: our client engine driving a server program over its stdin and
//!   stdout, e.g. OpenSSH's `/usr/lib/openssh/sftp-server`.
//! - [`serve`]: our server engine over a reader and writer, answering from a
//!   [`Backend`](sansh_core::sftp::Backend); the `sansh-sftp-server-stdio` binary runs
//!   it on stdin/stdout (with the driver's
//!   [`LocalFs`](sansh_core::driver::sftp_server::LocalFs)) so that OpenSSH's
//!   `sftp -D` can talk to it.

mod process;
mod stdio;

pub use process::{Answer, DriveError, SftpProcess};
pub use stdio::serve;

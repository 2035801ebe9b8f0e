//! An async SFTP client: the [`crate::sftp`] client engine driven over a session
//! channel's `sftp` subsystem, or over any byte stream.
//!
//! # How it runs
//!
//! Like a connection: one spawned task owns the byte stream and pumps the engine,
//! which sits behind a mutex shared with the handles. A handle ([`SftpClient`],
//! [`SftpFile`]) locks, sends its request through the engine, and waits for the
//! reply in that request's slot, where the task drops it and wakes the waiter. Many
//! requests are in flight at once (the engine caps them, 256 by default); a handle
//! finding the cap reached, or 16 MiB unwritten, waits for room, so nothing between
//! the handles and the task grows without bound.
//!
//! # Transfers
//!
//! Files read ahead and write behind ([`SftpFile`]); [`SftpClient::get`],
//! [`put`](SftpClient::put) and [`copy`](SftpClient::copy) keep
//! [`TransferOptions::max_requests`] requests of the server's largest read or write
//! length in flight (`limits@openssh.com`: 255 KiB with OpenSSH), and do local file
//! I/O in large chunks on the runtime's blocking hook
//! ([`Runtime::spawn_blocking`](super::Runtime::spawn_blocking)). Each file's
//! transfer runs as a task of the runtime, which the returned future awaits (and
//! stops when dropped): its loop wakes on every reply, which costs least on the
//! executor's workers, where the session's task runs, even when the caller awaits
//! from a thread of its own (`#[tokio::main]` runs `main` on one). `copy` uses the
//! server's `copy-data` extension when it has it.
//!
//! ```no_run
//! # async fn demo(conn: sansh_core::driver::Connection) -> Result<(), sansh_core::driver::sftp::SftpClientError> {
//! use futures_io::AsyncRead;
//! use sansh_core::driver::sftp::TransferOptions;
//!
//! let sftp = conn.start_sftp_client().await?;
//! println!("home: {}", sftp.getcwd().await?);
//! let options = TransferOptions { recurse: true, preserve: true, ..Default::default() };
//! sftp.mget(&["logs/*.txt"], "/tmp/logs", &options).await?;
//! let file = sftp.open("notes.txt", "a").await?; // an AsyncWrite at the end of the file
//! file.close().await?;
//! match sftp.stat("missing").await {
//!     Err(e) if e.is_not_found() => println!("{e}"), // carries SSH_FX_NO_SUCH_FILE
//!     other => println!("{other:?}"),
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod file;
mod glob;
mod multi;
mod shared;
mod transfer;

pub use client::{SFTP_CHANNEL_MAX_PACKET, SFTP_CHANNEL_WINDOW, SftpClient};
pub use error::SftpClientError;
pub use file::{DEFAULT_FILE_REQUESTS, OpenMode, SftpFile};
pub use glob::glob_match;
pub use transfer::{
    DEFAULT_TRANSFER_REQUESTS, LOCAL_CHUNK, Progress, ProgressHandler, TransferOptions,
};

#[cfg(test)]
mod tests;

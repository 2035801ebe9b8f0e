//! The SFTP server in the driver: a local-filesystem [`Backend`](crate::sftp::Backend)
//! confined to a root directory, and [`serve_sftp`] to run the server engine over
//! an async byte stream (the `sftp` subsystem's channel, or stdio pipes).
//!
//! ```no_run
//! use std::sync::Arc;
//! use sansh_core::driver::{ByteStream, Runtime};
//! use sansh_core::driver::sftp_server::{LocalFs, serve_sftp};
//!
//! async fn subsystem(runtime: Arc<dyn Runtime>, channel: impl ByteStream) -> std::io::Result<()> {
//!     let backend = LocalFs::new("/srv/files")?;
//!     let end = serve_sftp(runtime, channel, backend).await?;
//!     println!("sftp session ended: {end}");
//!     Ok(())
//! }
//! ```

mod local;
mod meta;
mod root;
mod serve;

pub use local::LocalFs;
pub use serve::{Pipes, serve_sftp, serve_sftp_with};

#[cfg(test)]
mod tests;

//! SFTP version 3: a client engine and a server engine over a byte stream.
//!
//! SFTP ([draft-ietf-secsh-filexfer-02], with OpenSSH's extensions from its
//! [PROTOCOL] file §4) runs over the byte stream of an SSH channel's `sftp` subsystem,
//! but these engines only need a byte stream: they are sans-IO state machines with
//! the same shape as the SSH engines.
//!
//! - [`SftpClient`]: request methods return a [`RequestId`] at once; the matching
//!   [`ClientEvent::Response`] carries a typed [`Reply`] or an [`SftpError`]. Many
//!   requests may be in flight; limits are negotiated with `limits@openssh.com`.
//! - [`SftpServer`]: parses requests into [`ServerEvent::Request`]s; the application
//!   answers each with [`SftpServer::respond`], in any order. It keeps a capped table of
//!   open handles and answers malformed and unsupported requests itself.
//! - [`Backend`]: the filesystem behind a server, one method per operation, with
//!   [`dispatch`] to turn a request into a reply. [`MemoryFs`] is an in-memory one for
//!   tests. There is no filesystem access in this crate.
//!
//! The run loop, for either engine: feed received bytes to `handle_input` (any
//! chunking) and the end of the stream to `handle_eof`; after every call, drain
//! `poll_transmit` into the stream and `poll_event` until it returns `None`. A server
//! also stops reading while [`SftpServer::wants_input`] is false.
//!
//! ```
//! use sansh_core::sftp::*;
//!
//! let mut client = SftpClient::new(ClientConfig::default());
//! let mut server = SftpServer::new(ServerConfig::default());
//! let mut fs = MemoryFs::new();
//!
//! // One round trip in each direction; a real driver loops on socket readiness.
//! let mut exchange = |client: &mut SftpClient, server: &mut SftpServer| {
//!     let mut bytes = Vec::new();
//!     let _ = client.poll_transmit(&mut bytes);
//!     server.handle_input(&bytes);
//!     while let Some(event) = server.poll_event() {
//!         if let ServerEvent::Request { id, request } = event {
//!             server.respond(id, fs.dispatch(request)).unwrap();
//!         }
//!     }
//!     bytes.clear();
//!     let _ = server.poll_transmit(&mut bytes);
//!     client.handle_input(&bytes);
//! };
//!
//! exchange(&mut client, &mut server); // INIT, VERSION, limits
//! exchange(&mut client, &mut server);
//! assert_eq!(client.poll_event(), Some(ClientEvent::Ready));
//! assert!(client.extensions().supports(Extension::PosixRename));
//!
//! let id = client.realpath(".").unwrap();
//! exchange(&mut client, &mut server);
//! match client.poll_event() {
//!     Some(ClientEvent::Response { id: got, result: Ok(Reply::Names(names)) }) => {
//!         assert_eq!(got, id);
//!         assert_eq!(names[0].filename, b"/");
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! [draft-ietf-secsh-filexfer-02]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt
//! [PROTOCOL]: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL

mod attrs;
mod backend;
mod client;
mod error;
mod extensions;
mod handles;
mod longname;
mod memory;
mod reply;
mod request;
mod server;
mod status;
pub mod wire;

pub use attrs::{ExtendedAttr, FileAttributes, FileTimes, FileType, Ownership};
pub use backend::{Backend, dispatch};
pub use client::{ClientConfig, ClientEvent, SftpClient};
pub use error::{DecodeError, PeerMisbehaved, RequestError, RespondError, SessionError};
pub use extensions::{Extension, Extensions, Limits, StatVfs};
pub use handles::HandleKind;
pub use longname::{LongNameContext, long_name, mode_string};
pub use memory::{MemoryFs, MemoryFsLimits};
pub use reply::Reply;
pub use request::{Request, RequestKind};
pub use server::{ServerConfig, ServerEvent, SftpServer};
pub use status::{SftpError, StatusCode};
pub use wire::{FrameError, Handle, Name, OpenFlags, RequestId, SFTP_VERSION};

#[cfg(test)]
mod tests;

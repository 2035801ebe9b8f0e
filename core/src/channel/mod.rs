//! The SSH connection protocol (RFC 4254): channels, flow control, channel requests
//! and global requests, with OpenSSH's extensions (`keepalive@openssh.com`,
//! `hostkeys-00@openssh.com`, `no-more-sessions@openssh.com`, streamlocal forwarding)
//! and RFC 4335's `break`.
//!
//! The application reaches channels through borrowed sub-handles of a connection:
//! [`Channels`] (`conn.channels()`) opens channels, sends global requests and answers
//! the peer's decisions; [`Channel`] (`conn.channel(id)`) writes, reads, sends requests,
//! EOF and close on one channel.
//!
//! Flow control lives here. Each channel has a receive window (2 MiB by default) that
//! bounds what the peer can make us buffer; it reopens with WINDOW_ADJUST once the
//! application has read half of it. Writes are split to the peer's maximum packet size
//! and sent while its window allows; the rest waits in a bounded queue, and a full
//! queue makes `write` return [`WriteError::Blocked`], followed later by
//! [`Event::ChannelWritable`](crate::Event::ChannelWritable). EOF and CLOSE are sent
//! strictly after the data queued before them, so no byte is lost at close.
//!
//! Requests that want a reply are answered in the order they arrived, whatever order
//! the application decides them in; a decision dropped unanswered is answered
//! "failure" (or, for a channel open, "administratively prohibited").
//!
//! A client running one command, driven by events (after authentication):
//!
//! ```
//! use sansh_core::channel::ChannelRequest;
//! use sansh_core::{ClientConnection, Event};
//!
//! #[derive(Default)]
//! struct Command {
//!     stdout: Vec<u8>,
//!     status: Option<u32>,
//!     finished: bool,
//! }
//!
//! fn on_event(conn: &mut ClientConnection, event: Event, cmd: &mut Command) {
//!     match event {
//!         Event::ChannelOpened(id) => {
//!             let _ = conn.channel(id).request_exec("uname -a", true);
//!             let _ = conn.channel(id).eof(); // nothing to send on stdin
//!         }
//!         Event::ChannelReadable(id) => {
//!             while let Some(chunk) = conn.channel(id).read() {
//!                 cmd.stdout.extend_from_slice(&chunk);
//!             }
//!             while conn.channel(id).read_stderr().is_some() {}
//!         }
//!         Event::ChannelRequest(request) => {
//!             if let ChannelRequest::ExitStatus(status) = request.request() {
//!                 cmd.status = Some(*status);
//!             }
//!         }
//!         // The server closes once all output is sent; the CLOSE comes back
//!         // from us automatically, and anything unread stays readable.
//!         Event::ChannelClosed(id) => {
//!             while let Some(chunk) = conn.channel(id).read() {
//!                 cmd.stdout.extend_from_slice(&chunk);
//!             }
//!             cmd.finished = true;
//!         }
//!         _ => {}
//!     }
//! }
//! // Start with: let id = conn.channels().open_session()?;
//! ```

mod decision;
mod error;
mod global;
mod handle;
mod inbound;
mod layer;
mod open;
mod outbound;
mod pty;
mod request;
mod state;
mod window;
pub(crate) mod wire;

pub use decision::{ChannelOpenDecision, ChannelRequestDecision, GlobalRequestDecision};
pub use error::{ChannelError, WriteError};
pub use global::GlobalRequest;
pub use handle::{Channel, Channels};
pub use open::{ChannelKind, OpenFailureReason};
pub use pty::{PtyRequest, TerminalMode, TerminalModes};
pub use request::{ChannelRequest, X11Request};

pub(crate) use layer::ConnectionLayer;

/// True for the message numbers of the connection protocol (RFC 4250 §4.1.2:
/// 80..=127), which [`ConnectionLayer`] handles.
pub(crate) fn is_connection_message(number: u8) -> bool {
    (crate::wire::msg::GLOBAL_REQUEST..=127).contains(&number)
}

/// A channel, named by our own channel number (RFC 4254 §5.1: the "sender channel"
/// we announce). Numbers are not reused until they wrap around 2^32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub(crate) u32);

impl ChannelId {
    /// Our channel number, as the peer sees it in "recipient channel" fields.
    pub fn number(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "channel {}", self.0)
    }
}

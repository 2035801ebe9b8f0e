//! Port forwarding, dynamic (SOCKS) forwarding, jump hosts and agent forwarding
//! (RFC 4254 §7, OpenSSH PROTOCOL §2.4 and PROTOCOL.agent), over the driver's
//! channels.
//!
//! # Client
//!
//! | ssh | API |
//! |-----|-----|
//! | `-L [bind:]port:host:hostport` | [`Connection::forward_local_port`] / [`Connection::forward_local`] |
//! | `-L path:...` | [`Connection::forward_local_path`] |
//! | `-R [bind:]port:host:hostport` | [`Connection::forward_remote_port`] |
//! | `-R` to the application | [`Connection::listen_remote_port`], [`RemoteListener::accept`] |
//! | `-R path:...` | [`Connection::forward_remote_path`] |
//! | `-D [bind:]port` | [`Connection::forward_socks`] |
//! | `-W host:port`, `-J` | [`Connection::open_direct_tcpip`]: the [`Channel`] is a [`ByteStream`] for [`connect_with`] |
//! | `-A` | [`Channel::request_agent_forwarding`] |
//!
//! Each forwarded connection is copied both ways; EOF on one side closes the
//! writing half of the other, so half-closed protocols work.
//!
//! A jump host is a connection over another's channel:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use sansh_core::ClientConfig;
//! # use sansh_core::driver::{ClientHandler, Connection, Runtime, connect_with};
//! # async fn demo(runtime: Arc<dyn Runtime>, bastion: Connection, handler: impl ClientHandler)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! let origin = "127.0.0.1:0".parse()?;
//! let tunnel = bastion.open_direct_tcpip("inner.example", 22, origin).await?;
//! let inner = connect_with(runtime, tunnel, ClientConfig::default(), handler).await?;
//! # drop(inner); Ok(()) }
//! ```
//!
//! # Server
//!
//! [`ServerForwarding`] serves the client's forwarding channels and requests under
//! a [`ForwardingPolicy`] built from the server's settings, the user's
//! authentication and the key's `authorized_keys` options.
//!
//! [`Connection::forward_local_port`]: super::Connection::forward_local_port
//! [`Connection::forward_local`]: super::Connection::forward_local
//! [`Connection::forward_local_path`]: super::Connection::forward_local_path
//! [`Connection::forward_remote_port`]: super::Connection::forward_remote_port
//! [`Connection::listen_remote_port`]: super::Connection::listen_remote_port
//! [`Connection::forward_remote_path`]: super::Connection::forward_remote_path
//! [`Connection::forward_socks`]: super::Connection::forward_socks
//! [`Connection::open_direct_tcpip`]: super::Connection::open_direct_tcpip
//! [`Channel`]: super::Channel
//! [`Channel::request_agent_forwarding`]: super::Channel::request_agent_forwarding
//! [`ByteStream`]: super::ByteStream
//! [`connect_with`]: super::connect_with

mod agent;
mod listen;
mod local;
mod policy;
mod relay;
mod remote;
mod router;
mod server;
mod socks;
mod spec;

use std::io;

use super::channel::ChannelError;
use crate::error::ConnectionError;

pub use agent::{AgentForwarding, AgentSocket};
pub use local::{LocalAddress, LocalForward, bind_address};
pub use policy::{ForwardRefusal, ForwardingPolicy};
pub use relay::relay;
pub use remote::{Originator, RemoteForward, RemoteListener};
pub(crate) use router::Router;
pub use server::ServerForwarding;
pub use socks::{SocksError, SocksRequest, SocksServer, SocksStep, SocksVersion};
pub use spec::{
    Endpoint, ForwardSpec, JumpHost, SpecError, parse_dynamic_forward, parse_jump_hosts,
    parse_local_forward, parse_remote_forward,
};

/// Why a forward could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// Listening failed (address in use, no permission, a name that is not an
    /// address, ...).
    #[error("cannot listen: {0}")]
    Bind(io::Error),
    /// The peer refused the request (`tcpip-forward`, a cancel, ...).
    #[error("the server refused the {0} request")]
    Refused(&'static str),
    /// The server accepted a `tcpip-forward` of port 0 without saying which port.
    #[error("the server did not say which port it bound")]
    NoBoundPort,
    /// Our policy does not allow it.
    #[error(transparent)]
    Prohibited(#[from] ForwardRefusal),
    /// Agent forwarding was asked for but `SSH_AUTH_SOCK` is not set.
    #[error("no agent to forward: SSH_AUTH_SOCK is not set")]
    NoAgent,
    /// The channel or request failed.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// The connection ended.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

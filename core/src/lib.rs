//! # sansh-core: a sans-IO SSH engine
//!
//! This crate is the protocol engine of sansh: a pure, deterministic SSHv2 state
//! machine for clients and servers. It has no networking code, no threads, no async
//! runtime and reads no clock: bytes and events go in, bytes and events come out, the
//! current time is an argument, and randomness comes from an injected source. The same
//! inputs and seed give byte-identical output.
//!
//! The runtime crates (`sansh-tokio`, `sansh-smol`, `sansh-async-std`) drive this
//! engine over sockets; you can also drive it by hand, in a test, a simulation or your
//! own event loop. See [`connection`] for the run loop contract.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod authorized_keys;
pub mod channel;
pub mod cipher;
pub mod config;
pub mod connection;
pub mod crypto;
mod decision;
#[cfg(feature = "driver")]
pub mod driver;
pub mod error;
pub mod event;
#[cfg(fuzzing)]
pub mod fuzzing;
pub mod host_pattern;
pub mod kex;
mod key_field;
pub mod keys;
pub mod known_hosts;
pub mod sftp;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
mod timer;
pub mod transport;
pub mod wire;

pub use channel::{Channel, ChannelId, Channels};
pub use config::{
    Algorithms, ClientConfig, ConnectionConfig, Limits, ServerConfig, TransportConfig,
};
pub use connection::{ClientConnection, ServerConnection};
pub use error::{ConnectionError, DisconnectReason, PeerMisbehaved};
pub use event::{Event, HostKeyDecision};

#[cfg(test)]
mod tests;

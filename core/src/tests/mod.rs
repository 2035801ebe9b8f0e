//! Engine-level tests: a client and a server engine wired together in memory.

mod auth;
mod channel;
mod host_certificate;
mod malformed;
mod pair;
mod transport;

pub(crate) use pair::*;

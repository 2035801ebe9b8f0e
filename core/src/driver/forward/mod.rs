//! Port forwarding, dynamic (SOCKS) forwarding, jump hosts and agent forwarding
//! (RFC 4254 §7, OpenSSH PROTOCOL §2.4 and PROTOCOL.agent), over the driver's
//! channels.

mod socks;
mod spec;

pub use socks::{SocksError, SocksRequest, SocksServer, SocksStep, SocksVersion};
pub use spec::{
    Endpoint, ForwardSpec, JumpHost, SpecError, parse_dynamic_forward, parse_jump_hosts,
    parse_local_forward, parse_remote_forward,
};

//! The one interface the driver uses to run either engine.

use std::net::IpAddr;
use std::time::Instant;

use super::handler::AuthDecision;
use crate::auth::AuthRequest;
use crate::channel::{Channel, ChannelId, Channels};
use crate::error::DisconnectReason;
use crate::event::{Event, HostKeyDecision};
use crate::transport::Negotiated;
use crate::{ClientConnection, ServerConnection};

mod sealed {
    /// Only the engines of this crate can be driven.
    pub trait Sealed {}
    impl Sealed for crate::ClientConnection {}
    impl Sealed for crate::ServerConnection {}
}

/// A protocol engine the driver can run: [`ClientConnection`] or [`ServerConnection`].
///
/// The methods forward to the engines' own (see [`crate::connection`] for their
/// contract); decisions that only one role receives are ignored by the other, which
/// never gets them. The trait is sealed.
pub trait Engine: sealed::Sealed + Send + 'static {
    /// Feeds bytes received from the peer.
    fn handle_input(&mut self, now: Instant, data: &[u8]);
    /// The peer closed its side of the byte stream.
    fn handle_eof(&mut self, now: Instant);
    /// Fires the timers due at `now`.
    fn handle_timeout(&mut self, now: Instant);
    /// Appends bytes to send to the peer.
    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize;
    /// When `handle_timeout` is next due.
    fn poll_timeout(&self) -> Option<Instant>;
    /// True when there are bytes to transmit or events to hand out.
    fn has_output(&self) -> bool;
    /// The next event.
    fn poll_event(&mut self) -> Option<Event>;
    /// True once the connection has ended.
    fn is_closed(&self) -> bool;
    /// The algorithms of the latest key exchange.
    fn algorithms(&self) -> Option<Negotiated>;
    /// The session identifier.
    fn session_id(&self) -> Option<&[u8]>;
    /// The peer's identification string.
    fn peer_version(&self) -> Option<&str>;
    /// How many key exchanges have completed.
    fn key_exchanges(&self) -> u32;
    /// Starts a key re-exchange.
    fn rekey(&mut self, now: Instant);
    /// Sends SSH_MSG_DEBUG.
    fn send_debug(&mut self, always_display: bool, message: &str);
    /// Queues DISCONNECT and closes.
    fn disconnect(&mut self, reason: DisconnectReason, description: &str);
    /// Answers a host key decision (client only).
    fn answer_host_key(&mut self, decision: HostKeyDecision, accept: bool);
    /// Answers an authentication request (server only).
    fn answer_auth(&mut self, request: AuthRequest, decision: AuthDecision);
    /// The client's address, for certificates' `source-address` (server only).
    fn set_peer_address(&mut self, address: IpAddr);
    /// The connection's channels: open, answer opens and requests.
    fn channels(&mut self) -> Channels<'_>;
    /// One channel's operations.
    fn channel(&mut self, id: ChannelId) -> Channel<'_>;
}

macro_rules! forward_engine {
    ($engine:ty) => {
        impl Engine for $engine {
            fn handle_input(&mut self, now: Instant, data: &[u8]) {
                <$engine>::handle_input(self, now, data)
            }
            fn handle_eof(&mut self, now: Instant) {
                <$engine>::handle_eof(self, now)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$engine>::handle_timeout(self, now)
            }
            fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize {
                <$engine>::poll_transmit(self, now, out)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$engine>::poll_timeout(self)
            }
            fn poll_event(&mut self) -> Option<Event> {
                <$engine>::poll_event(self)
            }
            fn has_output(&self) -> bool {
                <$engine>::has_output(self)
            }
            fn is_closed(&self) -> bool {
                <$engine>::is_closed(self)
            }
            fn algorithms(&self) -> Option<Negotiated> {
                <$engine>::algorithms(self).copied()
            }
            fn session_id(&self) -> Option<&[u8]> {
                <$engine>::session_id(self)
            }
            fn peer_version(&self) -> Option<&str> {
                <$engine>::peer_version(self)
            }
            fn key_exchanges(&self) -> u32 {
                <$engine>::key_exchanges(self)
            }
            fn rekey(&mut self, now: Instant) {
                <$engine>::rekey(self, now)
            }
            fn send_debug(&mut self, always_display: bool, message: &str) {
                <$engine>::send_debug(self, always_display, message)
            }
            fn disconnect(&mut self, reason: DisconnectReason, description: &str) {
                <$engine>::disconnect(self, reason, description)
            }
            fn answer_host_key(&mut self, decision: HostKeyDecision, accept: bool) {
                answer_host_key(self, decision, accept)
            }
            fn answer_auth(&mut self, request: AuthRequest, decision: AuthDecision) {
                RoleAnswers::answer_auth(self, request, decision)
            }
            fn set_peer_address(&mut self, address: IpAddr) {
                RoleAnswers::set_peer_address(self, address)
            }
            fn channels(&mut self) -> Channels<'_> {
                <$engine>::channels(self)
            }
            fn channel(&mut self, id: ChannelId) -> Channel<'_> {
                <$engine>::channel(self, id)
            }
        }
    };
}

forward_engine!(ClientConnection);
forward_engine!(ServerConnection);

trait HostKeyAnswer {
    fn answer(&mut self, decision: HostKeyDecision, accept: bool);
}

fn answer_host_key(engine: &mut impl HostKeyAnswer, decision: HostKeyDecision, accept: bool) {
    engine.answer(decision, accept);
}

impl HostKeyAnswer for ClientConnection {
    fn answer(&mut self, decision: HostKeyDecision, accept: bool) {
        if accept {
            self.accept_host_key(decision);
        } else {
            self.reject_host_key(decision);
        }
    }
}

impl HostKeyAnswer for ServerConnection {
    /// A server never asks about host keys; dropping the decision is the only answer.
    fn answer(&mut self, decision: HostKeyDecision, _accept: bool) {
        drop(decision);
    }
}

/// The server-only answers, by role.
trait RoleAnswers {
    fn answer_auth(&mut self, request: AuthRequest, decision: AuthDecision);
    fn set_peer_address(&mut self, address: IpAddr);
}

impl RoleAnswers for ClientConnection {
    /// A client never receives requests; dropping one is the only answer.
    fn answer_auth(&mut self, request: AuthRequest, _decision: AuthDecision) {
        drop(request);
    }
    fn set_peer_address(&mut self, _address: IpAddr) {}
}

impl RoleAnswers for ServerConnection {
    fn answer_auth(&mut self, request: AuthRequest, decision: AuthDecision) {
        super::server_auth::apply(self, request, decision);
    }
    fn set_peer_address(&mut self, address: IpAddr) {
        self.auth().set_peer_address(address);
    }
}

//! The client engine.

use std::time::Instant;

use crate::config::ClientConfig;
use crate::crypto::{SecureRandom, SystemRandom};
use crate::event::HostKeyDecision;
use crate::transport::{Role, Transport};

use super::shared_engine_methods;
use crate::channel::ConnectionLayer;

/// An SSH client connection as a sans-IO state machine.
///
/// ```
/// use std::time::Instant;
/// use sansh_core::{ClientConnection, ClientConfig, Event};
/// // The application owns the clock; the engine only ever receives `now`.
/// fn start(now: Instant) -> (ClientConnection, Vec<u8>) {
///     let mut conn = ClientConnection::new(ClientConfig::default(), now);
///     let mut out = Vec::new();
///     let _ = conn.poll_transmit(now, &mut out); // identification and KEXINIT
///     (conn, out)
/// }
/// fn on_event(conn: &mut ClientConnection, event: Event) {
///     if let Event::HostKey(decision) = event {
///         // check decision.key() against known_hosts, then:
///         conn.accept_host_key(decision);
///     }
/// }
/// ```
pub struct ClientConnection {
    transport: Transport,
    /// The connection protocol (RFC 4254), started once authentication succeeds.
    channels: ConnectionLayer,
}

impl std::fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConnection").finish_non_exhaustive()
    }
}

impl ClientConnection {
    /// A client using the system random generator.
    pub fn new(config: ClientConfig, now: Instant) -> Self {
        Self::with_rng(config, Box::new(SystemRandom), now)
    }

    /// A client drawing randomness from `rng` (seeded for tests and simulations).
    pub fn with_rng(config: ClientConfig, rng: Box<dyn SecureRandom>, now: Instant) -> Self {
        let transport = Transport::new(Role::Client, config.transport, config.gex, None, rng, now);
        let channels = ConnectionLayer::new(Role::Client, config.connection, Vec::new());
        Self {
            transport,
            channels,
        }
    }

    shared_engine_methods!();

    /// The `server-sig-algs` extension the server sent (RFC 8308 §3.1), if any.
    pub fn server_sig_algs(&self) -> Option<&[String]> {
        self.transport.server_sig_algs()
    }

    /// Accepts the server's host key; the key exchange goes on.
    pub fn accept_host_key(&mut self, decision: HostKeyDecision) {
        let id = decision.guard.answer();
        self.transport.answer_host_key(id, true);
    }

    /// Rejects the server's host key; the connection ends with `HostKeyRejected`.
    pub fn reject_host_key(&mut self, decision: HostKeyDecision) {
        let id = decision.guard.answer();
        self.transport.answer_host_key(id, false);
    }

    /// Asks the server for a service (`ssh-userauth`); `ServiceAccepted` follows.
    /// Sent as soon as the first key exchange has finished.
    pub fn request_service(&mut self, name: &str) {
        self.transport.request_service(name);
    }

    /// Handles a message for the layers above the transport; numbers no layer
    /// handles are answered UNIMPLEMENTED (RFC 4253 §11.4).
    fn handle_upper(&mut self, now: Instant, seq: u32, payload: bytes::Bytes) {
        match payload.first() {
            Some(&number) if crate::channel::is_connection_message(number) => {
                self.channels.handle(&mut self.transport, now, seq, payload)
            }
            _ => self.transport.reply_unimplemented(seq),
        }
    }

    #[cfg(test)]
    pub(crate) fn transport_mut(&mut self) -> &mut Transport {
        &mut self.transport
    }
}

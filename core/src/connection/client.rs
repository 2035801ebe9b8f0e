//! The client engine.

use std::time::Instant;

use crate::auth::{ClientAuth, ClientAuthState};
use crate::config::ClientConfig;
use crate::crypto::{SecureRandom, SystemRandom};
use crate::error::{PeerMisbehaved, TimerKind};
use crate::event::HostKeyDecision;
use crate::transport::{Role, Transport};
use crate::wire::msg;

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
    auth: ClientAuthState,
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
        let auth = ClientAuthState::new(config.auth);
        let channels = ConnectionLayer::new(Role::Client, config.connection, Vec::new());
        Self {
            transport,
            auth,
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
    /// Sent as soon as the first key exchange has finished. Authentication asks for
    /// `ssh-userauth` itself: an application using [`Self::auth`] does not call this.
    pub fn request_service(&mut self, name: &str) {
        self.transport.request_service(name);
    }

    /// User authentication: start attempts and answer the engine's decisions.
    pub fn auth(&mut self) -> ClientAuth<'_> {
        ClientAuth {
            transport: &mut self.transport,
            state: &mut self.auth,
        }
    }

    /// True once the server has accepted our authentication.
    pub fn is_authenticated(&self) -> bool {
        self.auth.is_authenticated()
    }

    /// Handles a message for the layers above the transport: authentication
    /// messages go to the authentication state; the connection protocol's are
    /// refused until authentication has succeeded; the rest are answered
    /// UNIMPLEMENTED (RFC 4253 §11.4).
    fn handle_upper(&mut self, now: Instant, seq: u32, payload: bytes::Bytes) {
        let Some(&number) = payload.first() else {
            return;
        };
        match number {
            msg::SERVICE_ACCEPT | msg::USERAUTH_REQUEST..=crate::auth::USERAUTH_LAST => {
                self.auth.handle(&mut self.transport, &payload);
                self.start_connection_protocol(now);
            }
            msg::GLOBAL_REQUEST..=127
                if !self.auth.is_authenticated() && !self.channels.is_active() =>
            {
                let context = "before user authentication";
                let e = PeerMisbehaved::UnexpectedMessage { number, context };
                self.transport.fail(e.into());
            }
            number if crate::channel::is_connection_message(number) => {
                self.channels.handle(&mut self.transport, now, seq, payload)
            }
            _ => self.transport.reply_unimplemented(seq),
        }
    }

    /// The connection protocol starts as soon as authentication has succeeded, so
    /// that the server's first channel messages find it running.
    fn start_connection_protocol(&mut self, now: Instant) {
        if self.auth.is_authenticated() {
            self.channels.start(&mut self.transport, now);
        }
    }

    /// Fires the timers of the layers above the transport.
    fn handle_upper_timer(&mut self, _now: Instant, _kind: TimerKind) {}

    /// Answers decisions the application dropped.
    fn upper_upkeep(&mut self, now: Instant) {
        self.auth.upkeep(&mut self.transport);
        self.start_connection_protocol(now);
        self.channels.after_call(&mut self.transport);
    }

    #[cfg(test)]
    pub(crate) fn transport_mut(&mut self) -> &mut Transport {
        &mut self.transport
    }
}

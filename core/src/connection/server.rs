//! The server engine.

use std::sync::Arc;
use std::time::Instant;

use crate::auth::{ServerAuth, ServerAuthState};
use crate::config::ServerConfig;
use crate::crypto::{SecureRandom, SystemRandom};
use crate::error::{ApiMisuse, PeerMisbehaved, TimerKind};
use crate::kex::GexRequest;
use crate::transport::{Role, Transport};
use crate::wire::msg;

use super::shared_engine_methods;
use crate::channel::ConnectionLayer;

/// An SSH server connection as a sans-IO state machine: one per accepted client.
///
/// The configuration is shared between connections through an `Arc`.
pub struct ServerConnection {
    transport: Transport,
    auth: ServerAuthState,
    /// The connection protocol (RFC 4254), started once authentication succeeds.
    channels: ConnectionLayer,
}

impl std::fmt::Debug for ServerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConnection").finish_non_exhaustive()
    }
}

impl ServerConnection {
    /// A server connection using the system random generator.
    pub fn new(config: Arc<ServerConfig>, now: Instant) -> Result<Self, ApiMisuse> {
        Self::with_rng(config, Box::new(SystemRandom), now)
    }

    /// A server connection drawing randomness from `rng`.
    ///
    /// Fails when the configuration cannot run ([`ServerConfig::check`]).
    pub fn with_rng(
        config: Arc<ServerConfig>,
        rng: Box<dyn SecureRandom>,
        now: Instant,
    ) -> Result<Self, ApiMisuse> {
        config.check()?;
        let transport_config = config.transport.clone();
        let host_keys = config.host_keys.iter().map(|k| k.public_key()).collect();
        let channels = ConnectionLayer::new(Role::Server, config.connection.clone(), host_keys);
        let mut transport = Transport::new(
            Role::Server,
            transport_config,
            GexRequest::default(),
            Some(config.clone()),
            rng,
            now,
        );
        let auth = ServerAuthState::new(config, &mut transport, now);
        Ok(Self {
            transport,
            auth,
            channels,
        })
    }

    shared_engine_methods!();

    /// User authentication: answer the client's requests (`Event::AuthRequest`).
    pub fn auth(&mut self) -> ServerAuth<'_> {
        ServerAuth {
            transport: &mut self.transport,
            state: &mut self.auth,
        }
    }

    /// True once the client is authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.auth.is_authenticated()
    }

    /// The authenticated user, their methods and permissions, once authenticated.
    pub fn authenticated_user(&self) -> Option<&crate::auth::AuthenticatedUser> {
        self.auth.authenticated_user()
    }

    /// Handles a message for the layers above the transport. While an
    /// authentication decision is outstanding, messages wait their turn (RFC 4252
    /// §5). Authentication messages go to the authentication state; the connection
    /// protocol's are refused until the client is authenticated; the rest are
    /// answered UNIMPLEMENTED (RFC 4253 §11.4).
    fn handle_upper(&mut self, now: Instant, seq: u32, payload: bytes::Bytes) {
        let Some(&number) = payload.first() else {
            return;
        };
        if self.auth.busy() {
            return self.auth.defer(&mut self.transport, seq, payload);
        }
        match number {
            msg::SERVICE_REQUEST | msg::USERAUTH_REQUEST..=crate::auth::USERAUTH_LAST => {
                self.auth.handle(&mut self.transport, now, &payload)
            }
            msg::GLOBAL_REQUEST..=127
                if !self.auth.is_authenticated() && !self.channels.is_active() =>
            {
                let context = "before user authentication";
                let e = PeerMisbehaved::UnexpectedMessage { number, context };
                self.transport.fail(e.into());
            }
            number if crate::channel::is_connection_message(number) => {
                self.start_connection_protocol(now);
                self.channels.handle(&mut self.transport, now, seq, payload)
            }
            _ => self.transport.reply_unimplemented(seq),
        }
    }

    /// Fires the timers of the layers above the transport.
    fn handle_upper_timer(&mut self, _now: Instant, kind: TimerKind) {
        self.auth.on_timer(&mut self.transport, kind);
    }

    /// Answers decisions the application dropped, then handles the messages that
    /// waited for a decision.
    fn upper_upkeep(&mut self, now: Instant) {
        self.auth.upkeep(&mut self.transport);
        self.start_connection_protocol(now);
        while let Some((seq, payload)) = self.auth.next_deferred(&self.transport) {
            self.handle_upper(now, seq, payload);
        }
        self.channels.after_call(&mut self.transport);
    }

    /// The connection protocol starts once the client is authenticated (after our
    /// USERAUTH_SUCCESS went out): keepalives, and the host key announcement.
    fn start_connection_protocol(&mut self, now: Instant) {
        if self.auth.is_authenticated() {
            self.channels.start(&mut self.transport, now);
        }
    }

    #[cfg(test)]
    pub(crate) fn transport_mut(&mut self) -> &mut Transport {
        &mut self.transport
    }
}

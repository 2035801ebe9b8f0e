//! The server engine.

use std::sync::Arc;
use std::time::Instant;

use crate::config::ServerConfig;
use crate::crypto::{SecureRandom, SystemRandom};
use crate::error::ApiMisuse;
use crate::kex::GexRequest;
use crate::transport::{Role, Transport};

use super::shared_engine_methods;
use crate::channel::ConnectionLayer;

/// An SSH server connection as a sans-IO state machine: one per accepted client.
///
/// The configuration is shared between connections through an `Arc`.
pub struct ServerConnection {
    transport: Transport,
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
    /// Fails when the configuration has no host key that can sign with any of the
    /// configured host key algorithms.
    pub fn with_rng(
        config: Arc<ServerConfig>,
        rng: Box<dyn SecureRandom>,
        now: Instant,
    ) -> Result<Self, ApiMisuse> {
        let usable = config.transport.algorithms.host_key.iter().any(|alg| {
            alg.can_sign()
                && config
                    .host_keys
                    .iter()
                    .any(|k| k.signature_algorithms().contains(alg))
        });
        if !usable {
            return Err(ApiMisuse::InvalidConfig(
                "no host key can sign with the configured host key algorithms".into(),
            ));
        }
        let transport_config = config.transport.clone();
        let host_keys = config.host_keys.iter().map(|k| k.public_key()).collect();
        let channels = ConnectionLayer::new(Role::Server, config.connection.clone(), host_keys);
        let transport = Transport::new(
            Role::Server,
            transport_config,
            GexRequest::default(),
            Some(config),
            rng,
            now,
        );
        Ok(Self {
            transport,
            channels,
        })
    }

    shared_engine_methods!();

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

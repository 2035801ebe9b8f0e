//! The server engine.

use std::sync::Arc;
use std::time::Instant;

use crate::config::ServerConfig;
use crate::crypto::{SecureRandom, SystemRandom};
use crate::error::ApiMisuse;
use crate::kex::GexRequest;
use crate::transport::{Role, Transport};

use super::shared_engine_methods;

/// An SSH server connection as a sans-IO state machine: one per accepted client.
///
/// The configuration is shared between connections through an `Arc`.
pub struct ServerConnection {
    transport: Transport,
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
        let transport = Transport::new(
            Role::Server,
            transport_config,
            GexRequest::default(),
            Some(config),
            rng,
            now,
        );
        Ok(Self { transport })
    }

    shared_engine_methods!();

    /// Handles a message for the layers above the transport. Nothing above the
    /// transport is implemented yet, so every such message is answered
    /// UNIMPLEMENTED (RFC 4253 §11.4).
    fn handle_upper(&mut self, _now: Instant, seq: u32, _payload: bytes::Bytes) {
        self.transport.reply_unimplemented(seq);
    }

    #[cfg(test)]
    pub(crate) fn transport_mut(&mut self) -> &mut Transport {
        &mut self.transport
    }
}

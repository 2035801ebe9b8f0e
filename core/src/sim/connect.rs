//! Setting a simulation up to the point a test cares about: keys exchanged and,
//! optionally, the user authenticated.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::auth::PublicKeyCredential;
use crate::config::{ClientConfig, ServerConfig};
use crate::event::Event;
use crate::keys::PrivateKey;

use super::{Side, SimError, SimOptions, Simulation};

/// How [`Simulation::connected`] logs the client in.
#[derive(Clone)]
#[non_exhaustive]
pub enum Login {
    /// No authentication: stop after the key exchange (the test authenticates, or
    /// tests the transport).
    None,
    /// The `password` method.
    Password {
        /// The user name.
        user: String,
        /// The password.
        password: Zeroizing<String>,
    },
    /// The `publickey` method with a key the engine signs with.
    PublicKey {
        /// The user name.
        user: String,
        /// The private key.
        key: Arc<PrivateKey>,
    },
}

impl Login {
    /// Logs in as `user` with `password`.
    pub fn password(user: &str, password: &str) -> Self {
        Login::Password {
            user: user.to_owned(),
            password: Zeroizing::new(password.to_owned()),
        }
    }

    /// Logs in as `user` with the public key `key`.
    pub fn public_key(user: &str, key: Arc<PrivateKey>) -> Self {
        Login::PublicKey {
            user: user.to_owned(),
            key,
        }
    }
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::None => f.write_str("None"),
            Login::Password { user, .. } => f.debug_struct("Password").field("user", user).finish(),
            Login::PublicKey { user, key } => f
                .debug_struct("PublicKey")
                .field("user", user)
                .field("key_type", &key.key_type())
                .finish(),
        }
    }
}

impl Simulation {
    /// A simulation past the key exchange and, unless `login` is [`Login::None`],
    /// past user authentication, with both sides' events so far discarded: ready for
    /// channels.
    ///
    /// The server side accepts whatever the client offers here: this sets up the
    /// connection, it does not test the server's authentication logic (answer
    /// [`Event::AuthRequest`] yourself for that, after `Login::None`). With
    /// [`SimOptions::accept_host_keys`] false nobody answers the host key decision
    /// and this fails (the key exchange times out): use [`Simulation::new`] and
    /// answer it yourself.
    pub fn connected(
        client: ClientConfig,
        server: Arc<ServerConfig>,
        options: impl Into<SimOptions>,
        login: Login,
    ) -> Result<Self, SimError> {
        let mut sim = Self::new(client, server, options)?;
        sim.run_until(|sim| {
            sim.any_closed() || (sim.client.key_exchanges() > 0 && sim.server.key_exchanges() > 0)
        })?;
        sim.fail_if_closed()?;
        let started = match login {
            Login::None => false,
            Login::Password { user, password } => {
                sim.client.auth().password(&user, password)?;
                true
            }
            Login::PublicKey { user, key } => {
                let credential = PublicKeyCredential::from_private_key(key);
                sim.client.auth().publickey(&user, credential)?;
                true
            }
        };
        if started {
            sim.authenticate()?;
        }
        sim.settle()?;
        sim.fail_if_closed()?;
        sim.client_seen.events.clear();
        sim.server_seen.events.clear();
        Ok(sim)
    }

    /// Accepts every authentication request until both sides agree the client is
    /// logged in.
    fn authenticate(&mut self) -> Result<(), SimError> {
        let mut refused = None;
        self.run_until(|sim| {
            for event in sim.server_events() {
                if let Event::AuthRequest(request) = event {
                    // Only fails for a stale request, which the next one replaces.
                    let _ = sim.server.auth().accept(*request);
                }
            }
            for event in sim.client_events() {
                if let Event::AuthFailure {
                    methods_that_can_continue,
                    ..
                } = event
                {
                    refused = Some(methods_that_can_continue);
                }
            }
            refused.is_some()
                || sim.any_closed()
                || (sim.client.is_authenticated() && sim.server.is_authenticated())
        })?;
        self.fail_if_closed()?;
        match refused {
            Some(methods) => Err(SimError::AuthFailed { methods }),
            None => Ok(()),
        }
    }

    fn any_closed(&self) -> bool {
        self.closed(Side::Client).is_some() || self.closed(Side::Server).is_some()
    }

    fn fail_if_closed(&self) -> Result<(), SimError> {
        for side in [Side::Client, Side::Server] {
            if let Some(error) = self.closed(side) {
                let error = error.clone();
                return Err(SimError::Closed { side, error });
            }
        }
        Ok(())
    }
}

//! User authentication (RFC 4252), keyboard-interactive (RFC 4256) and the ssh-agent
//! protocol codec (OpenSSH's PROTOCOL.agent), for both roles.
//!
//! Authentication runs inside the connection engines; this module holds its state
//! machines and the types the application sees.
//!
//! **Client.** The application starts each attempt through
//! [`ClientConnection::auth`](crate::ClientConnection::auth) ([`ClientAuth`]): `none`,
//! `password`, `publickey`, `keyboard_interactive`, `hostbased`. The engine asks for
//! the `ssh-userauth` service itself when the first attempt starts, queries a public
//! key before signing with it (as OpenSSH does), picks `rsa-sha2-512`/`-256` from the
//! server's `server-sig-algs`, and reports results as events:
//! [`Event::AuthBanner`], [`Event::AuthSuccess`], [`Event::AuthFailure`]. What it
//! cannot do alone becomes a decision event answered through [`ClientAuth`]:
//! [`SignRequest`] (keys held by an agent or a token), [`KeyboardInteractivePrompt`],
//! [`PasswordChangeRequest`]. [`MethodPlanner`] picks the next method in OpenSSH's
//! order.
//!
//! **Server.** Every USERAUTH_REQUEST becomes [`Event::AuthRequest`] carrying an
//! [`AuthRequest`], answered through
//! [`ServerConnection::auth`](crate::ServerConnection::auth) ([`ServerAuth`]). Public
//! key and host-based signatures are verified by the engine before the application is
//! asked, so an accepted request is bound to the key that signed. Certificates are
//! checked against [`ServerAuthConfig::trusted_user_ca_keys`]. The engine enforces
//! `max_auth_tries`, the login grace time, the failure delay (a timer, never a sleep)
//! and required method chains (sshd's `AuthenticationMethods`); the final success is
//! [`Event::Authenticated`].
//!
//! A password login between our own client and server, in memory:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Instant;
//! use sansh_core::auth::{MethodRequest, Zeroizing};
//! use sansh_core::crypto::SeededRandom;
//! use sansh_core::keys::{KeyType, PrivateKey};
//! use sansh_core::{ClientConfig, ClientConnection, Event, ServerConfig, ServerConnection};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Instant::now(); // the application's clock; the engine reads none
//! let host_key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(1))?;
//! let config = ServerConfig { host_keys: vec![host_key], ..ServerConfig::default() };
//! let mut server = ServerConnection::new(Arc::new(config), now)?;
//! let mut client = ClientConnection::new(ClientConfig::default(), now);
//! // Queued until the key exchange is done and the server accepts ssh-userauth.
//! client.auth().password("alice", Zeroizing::new("hunter2".into()))?;
//! let mut wire = Vec::new();
//! while !client.is_authenticated() {
//!     wire.clear();
//!     let _ = client.poll_transmit(now, &mut wire);
//!     server.handle_input(now, &wire);
//!     wire.clear();
//!     let _ = server.poll_transmit(now, &mut wire);
//!     client.handle_input(now, &wire);
//!     while let Some(event) = client.poll_event() {
//!         if let Event::HostKey(decision) = event {
//!             client.accept_host_key(decision); // after checking known_hosts
//!         }
//!     }
//!     while let Some(event) = server.poll_event() {
//!         if let Event::AuthRequest(request) = event {
//!             let good = matches!(request.method(),
//!                 MethodRequest::Password { password, .. } if password.as_str() == "hunter2");
//!             if good { server.auth().accept(*request)? } else { server.auth().reject(*request)? }
//!         }
//!     }
//! }
//! assert_eq!(server.authenticated_user().map(|u| u.user.as_str()), Some("alice"));
//! # Ok(())
//! # }
//! ```
//!
//! [`Event::AuthBanner`]: crate::Event::AuthBanner
//! [`Event::AuthSuccess`]: crate::Event::AuthSuccess
//! [`Event::AuthFailure`]: crate::Event::AuthFailure
//! [`Event::AuthRequest`]: crate::Event::AuthRequest
//! [`Event::Authenticated`]: crate::Event::Authenticated

pub mod agent;
mod chains;
mod client;
mod client_events;
mod config;
mod credential;
mod messages;
mod permissions;
mod planner;
mod request;
mod server;
mod server_verify;

pub use chains::parse_method_chains;
pub use client::ClientAuth;
pub(crate) use client::ClientAuthState;
pub use client_events::{KeyboardInteractivePrompt, PasswordChangeRequest, Prompt, SignRequest};
pub use config::{ClientAuthConfig, ServerAuthConfig};
pub use credential::{HostbasedCredential, Identity, PublicKeyCredential};
pub(crate) use messages::USERAUTH_LAST;
pub use permissions::{ConflictingForceCommand, Permissions};
pub use planner::MethodPlanner;
pub use request::{AuthRequest, AuthenticatedUser, Challenge, MethodRequest};
pub use server::ServerAuth;
pub(crate) use server::ServerAuthState;

use std::time::SystemTime;

/// Passwords and prompt responses are handed over in zeroizing strings.
pub use zeroize::Zeroizing;

/// The service that runs once authentication succeeds (RFC 4254).
pub const CONNECTION_SERVICE: &str = "ssh-connection";

/// A user authentication method (RFC 4252 §5, RFC 4256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// `none`: asks the server which methods can continue (or succeeds, if allowed).
    None,
    /// `password` (RFC 4252 §8).
    Password,
    /// `publickey` (RFC 4252 §7).
    PublicKey,
    /// `keyboard-interactive` (RFC 4256).
    KeyboardInteractive,
    /// `hostbased` (RFC 4252 §9).
    Hostbased,
}

impl AuthMethod {
    /// Every method, `none` first.
    pub const ALL: &'static [AuthMethod] = &[
        AuthMethod::None,
        AuthMethod::Password,
        AuthMethod::PublicKey,
        AuthMethod::KeyboardInteractive,
        AuthMethod::Hostbased,
    ];

    /// OpenSSH's default `PreferredAuthentications` order (without GSSAPI).
    pub const OPENSSH_ORDER: &'static [AuthMethod] = &[
        AuthMethod::PublicKey,
        AuthMethod::KeyboardInteractive,
        AuthMethod::Password,
    ];

    /// The method's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::Password => "password",
            AuthMethod::PublicKey => "publickey",
            AuthMethod::KeyboardInteractive => "keyboard-interactive",
            AuthMethod::Hostbased => "hostbased",
        }
    }

    /// The method named `name`, if we know it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Wall-clock time for checking certificate validity windows.
///
/// The engine reads no clock; a server that accepts certificates is given one of these
/// in [`ServerAuthConfig::time`]. The driver layer supplies the system clock; tests
/// supply a [`FixedTime`].
pub trait TimeProvider: Send + Sync + std::fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// A [`TimeProvider`] that always reports the same instant (tests, simulations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedTime(pub SystemTime);

impl TimeProvider for FixedTime {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// Why a client authentication command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Another attempt is running; wait for its result first.
    #[error("an authentication attempt is already in progress")]
    InProgress,
    /// Authentication has already succeeded.
    #[error("already authenticated")]
    AlreadyAuthenticated,
    /// The connection has ended.
    #[error("the connection is closed")]
    Closed,
    /// The decision token does not belong to the current attempt (it is stale).
    #[error("the decision does not belong to the current attempt")]
    StaleDecision,
    /// A certificate and a private key that do not belong together.
    #[error("the certificate does not certify this private key")]
    KeyMismatch,
    /// No signature algorithm both sides accept for this key.
    #[error("no signature algorithm for a {0} key that the server accepts")]
    NoSignatureAlgorithm(crate::keys::KeyType),
    /// The signature given does not verify with the key over the requested data.
    #[error("the signature does not verify: {0}")]
    BadSignature(crate::keys::KeyError),
    /// The number of keyboard-interactive responses differs from the prompts.
    #[error("{given} responses for {expected} prompts")]
    WrongResponseCount {
        /// Prompts the server sent.
        expected: usize,
        /// Responses given.
        given: usize,
    },
    /// The answer does not fit the request (e.g. a password change for a public key).
    #[error("this answer does not fit the request: {0}")]
    WrongAnswer(&'static str),
}

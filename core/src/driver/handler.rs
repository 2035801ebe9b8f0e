//! User handlers: the application's async answers to the engine's decisions.
//!
//! The engine never awaits application code. When it needs a decision (is this host
//! key trusted? later: may this user log in, may this channel open?) the driver spawns
//! the handler's future on the runtime and posts the answer back when it resolves.
//! Meanwhile the connection keeps running: the socket is read, keepalives and rekeys
//! go on, so a handler that looks something up over the network stalls nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::keys::PublicKey;

/// The client application's decisions, made asynchronously.
///
/// Implement it with `async fn`:
///
/// ```
/// use sansh_core::driver::ClientHandler;
/// use sansh_core::keys::PublicKey;
///
/// /// Trusts exactly one host key (e.g. read from known_hosts beforehand).
/// struct PinnedKey(PublicKey);
///
/// impl ClientHandler for PinnedKey {
///     async fn check_server_key(&self, key: &PublicKey) -> bool {
///         *key == self.0
///     }
/// }
/// ```
///
/// New decisions come as new methods with a default answer, so implementations keep
/// compiling.
pub trait ClientHandler: Send + Sync + 'static {
    /// Whether to trust the server's host key (already proven: the server's
    /// signature over the exchange hash verified). `false` ends the connection with
    /// [`ConnectionError::HostKeyRejected`](crate::ConnectionError::HostKeyRejected).
    ///
    /// Called for the first key exchange only; a re-exchange must present the same
    /// key, which the engine checks itself.
    fn check_server_key(&self, key: &PublicKey) -> impl Future<Output = bool> + Send;
}

/// The server application's decisions, made asynchronously.
///
/// The transport needs none yet: an SSH server without authentication accepts the
/// `ssh-userauth` service by itself. Authentication and channel decisions come as
/// methods with default answers (refuse), so `impl ServerHandler for MyServer {}`
/// keeps compiling as they arrive.
pub trait ServerHandler: Send + Sync + 'static {}

/// A boxed, sendable future: what the driver spawns for a handler call.
pub(crate) type Answer<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// [`ClientHandler`] in a form that can live behind `dyn` (its futures boxed and
/// owning the handler).
pub(crate) trait ClientDecisions: Send + Sync {
    fn check_server_key(self: Arc<Self>, key: PublicKey) -> Answer<bool>;
}

impl<H: ClientHandler> ClientDecisions for H {
    fn check_server_key(self: Arc<Self>, key: PublicKey) -> Answer<bool> {
        Box::pin(async move { ClientHandler::check_server_key(&*self, &key).await })
    }
}

/// [`ServerHandler`] behind `dyn`.
pub(crate) trait ServerDecisions: Send + Sync {}

impl<H: ServerHandler> ServerDecisions for H {}

/// The handler of one connection, by role.
#[derive(Clone)]
pub(crate) enum Handler {
    Client(Arc<dyn ClientDecisions>),
    // Held so that the server's decisions can reach it as they are added.
    #[allow(dead_code)]
    Server(Arc<dyn ServerDecisions>),
}

//! The user-facing connection handle.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use super::engine::Engine;
use super::state::Shared;
use crate::ClientConnection;
use crate::error::{ConnectionError, DisconnectReason};
use crate::transport::Negotiated;

/// A handle to a connection whose driver runs on a runtime.
///
/// `Connection` (the default, `Connection<ClientConnection>`) is what a client gets
/// from `connect`; a server gets a `Connection<ServerConnection>` per accepted client.
/// Handles are cheap to clone and share one connection. Each method locks the shared
/// state briefly, calls the engine and wakes the driver, which does the I/O.
///
/// Dropping the last handle closes the connection cleanly: the driver sends
/// DISCONNECT ("by application") and then closes the stream.
///
/// ```no_run
/// # async fn demo(conn: sansh_core::driver::Connection) {
/// println!("connected to {:?}", conn.peer_version());
/// conn.rekey().await.expect("rekeyed");
/// conn.send_debug(false, "hello");
/// conn.disconnect("bye");
/// let why = conn.closed().await; // ConnectionError::LocallyClosed("bye")
/// # let _ = why;
/// # }
/// ```
pub struct Connection<E: Engine = ClientConnection> {
    shared: Arc<Shared<E>>,
}

impl<E: Engine> Connection<E> {
    /// A new handle (counted) on `shared`.
    pub(crate) fn new(shared: Arc<Shared<E>>) -> Self {
        shared.lock().add_handle();
        Self { shared }
    }

    /// The algorithms of the latest completed key exchange.
    ///
    /// Always `Some` on a handle returned by `connect` or `accept`, which wait for the
    /// first key exchange.
    pub fn algorithms(&self) -> Option<Negotiated> {
        self.shared.lock().engine.algorithms()
    }

    /// The session identifier (the exchange hash of the first key exchange,
    /// RFC 4253 §7.2).
    pub fn session_id(&self) -> Option<Vec<u8>> {
        self.shared.lock().engine.session_id().map(<[u8]>::to_vec)
    }

    /// The peer's identification string, e.g. `SSH-2.0-OpenSSH_10.0`.
    pub fn peer_version(&self) -> Option<String> {
        self.shared.lock().engine.peer_version().map(str::to_owned)
    }

    /// How many key exchanges have completed (the first one included).
    pub fn key_exchanges(&self) -> u32 {
        self.shared.lock().engine.key_exchanges()
    }

    /// True once the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed.is_some()
    }

    /// Starts a key re-exchange and waits until new keys are in use.
    ///
    /// If a re-exchange is already running (the peer's, or one the engine started by
    /// its byte or time limits), this waits for that one.
    ///
    /// # Errors
    /// The connection's [`ConnectionError`] if it ends first.
    pub async fn rekey(&self) -> Result<(), ConnectionError> {
        let before = {
            let mut state = self.shared.lock();
            let now = state.runtime.now();
            let before = state.engine.key_exchanges();
            state.engine.rekey(now);
            state.wake_driver();
            before
        };
        self.wait_until(|state| (state.engine.key_exchanges() > before).then_some(()))
            .await
    }

    /// Sends SSH_MSG_DEBUG (RFC 4253 §11.3); `always_display` asks the peer to show it.
    pub fn send_debug(&self, always_display: bool, message: &str) {
        let mut state = self.shared.lock();
        state.engine.send_debug(always_display, message);
        state.wake_driver();
    }

    /// Closes the connection: sends DISCONNECT "by application" with `description`.
    ///
    /// The driver flushes the DISCONNECT and closes the stream; [`Self::closed`]
    /// resolves to [`ConnectionError::LocallyClosed`].
    pub fn disconnect(&self, description: &str) {
        self.disconnect_with(DisconnectReason::ByApplication, description);
    }

    /// Closes the connection with a chosen reason code (RFC 4253 §11.1).
    pub fn disconnect_with(&self, reason: DisconnectReason, description: &str) {
        let mut state = self.shared.lock();
        state.engine.disconnect(reason, description);
        state.wake_driver();
    }

    /// Waits until the connection ends and says why.
    pub async fn closed(&self) -> ConnectionError {
        let closed = self.wait_until(|_| None::<std::convert::Infallible>).await;
        match closed {
            Err(error) => error,
            Ok(never) => match never {},
        }
    }

    /// Waits until the first service (`ssh-userauth`) is accepted, by the server on a
    /// client or for the client on a server, and returns its name.
    ///
    /// # Errors
    /// The connection's [`ConnectionError`] if it ends first.
    pub async fn service_accepted(&self) -> Result<String, ConnectionError> {
        self.wait_until(|state| state.service_accepted.clone())
            .await
    }

    /// Locks the shared state (for the authentication loop's engine calls).
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, super::state::State<E>> {
        self.shared.lock()
    }

    /// The runtime the connection runs on.
    pub(crate) fn runtime(&self) -> std::sync::Arc<dyn super::runtime::Runtime> {
        self.shared.lock().runtime.clone()
    }

    /// The shared state, for handles that must not keep the connection open.
    pub(crate) fn shared(&self) -> &Arc<Shared<E>> {
        &self.shared
    }

    /// Waits until `ready` returns a value, or the connection ends.
    pub(crate) async fn wait_until<T>(
        &self,
        ready: impl FnMut(&mut super::state::State<E>) -> Option<T>,
    ) -> Result<T, ConnectionError> {
        wait_on(&self.shared, ready).await
    }
}

/// Waits until `ready` returns a value, or the connection ends.
pub(crate) async fn wait_on<E: Engine, T>(
    shared: &Shared<E>,
    mut ready: impl FnMut(&mut super::state::State<E>) -> Option<T>,
) -> Result<T, ConnectionError> {
    poll_fn(|cx| {
        let mut state = shared.lock();
        if let Some(value) = ready(&mut state) {
            return Poll::Ready(Ok(value));
        }
        if let Some(error) = &state.closed {
            return Poll::Ready(Err(error.clone()));
        }
        state.watch(cx.waker());
        Poll::Pending
    })
    .await
}

impl<E: Engine> Clone for Connection<E> {
    fn clone(&self) -> Self {
        Self::new(self.shared.clone())
    }
}

impl<E: Engine> Drop for Connection<E> {
    fn drop(&mut self) {
        self.shared.lock().remove_handle();
    }
}

impl<E: Engine> std::fmt::Debug for Connection<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Connection")
            .field("peer_version", &state.engine.peer_version())
            .field("key_exchanges", &state.engine.key_exchanges())
            .field("closed", &state.closed)
            .finish_non_exhaustive()
    }
}

impl Connection<crate::ServerConnection> {
    /// The authenticated user, once the client is in.
    pub fn authenticated_user(&self) -> Option<crate::auth::AuthenticatedUser> {
        self.shared.lock().authenticated.clone()
    }

    /// Waits until the client has authenticated (the [`ServerHandler`]'s verdicts
    /// let it in) and returns who it is.
    ///
    /// # Errors
    /// The connection's [`ConnectionError`] if it ends first (the client gave up,
    /// `max_auth_tries` or the login grace time ran out, ...).
    ///
    /// [`ServerHandler`]: super::ServerHandler
    pub async fn authenticated(&self) -> Result<crate::auth::AuthenticatedUser, ConnectionError> {
        self.wait_until(|state| state.authenticated.clone()).await
    }
}

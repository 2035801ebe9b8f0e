//! The server's accept loop: one driver per accepted connection, a bounded queue of
//! established connections, and graceful shutdown.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::connect::{handshake, start};
use super::engine::Engine;
use super::error::ConnectError;
use super::handle::Connection;
use super::handler::{Handler, ServerDecisions, ServerHandler};
use super::runtime::{AsyncTimer, ByteStream, Runtime};
use crate::ServerConnection;
use crate::config::ServerConfig;

/// Connections accepted but not yet taken with [`Listener::accept`] (handshakes in
/// progress included). While the queue is full the listener stops accepting, and
/// the kernel's backlog holds further clients.
pub const DEFAULT_BACKLOG: usize = 128;

/// Accepts per poll of the accept loop before it yields to other tasks.
const ACCEPT_BUDGET: usize = 64;

/// After a failed accept (out of file descriptors, ...), wait this long before the
/// next instead of spinning.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// A source of incoming byte streams: a runtime's TCP (or Unix) listener.
pub trait Acceptor: Send + Unpin + 'static {
    /// The next incoming stream and the peer's address.
    fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn ByteStream>, SocketAddr)>>;
}

/// A running SSH server: accepts streams, runs each key exchange on its own driver
/// task, and hands out the established connections.
///
/// Handshakes run concurrently, so a slow or silent client holds up no one else (the
/// engine's key-exchange timeout ends it). A client whose handshake fails never
/// shows up in [`Listener::accept`].
///
/// Dropping the listener (or [`Listener::shutdown`]) stops accepting. Connections
/// already handed out are the application's: each closes when its last handle drops.
#[derive(Debug)]
pub struct Listener {
    shared: Arc<ListenerShared>,
    local_addr: SocketAddr,
}

#[derive(Debug)]
struct ListenerShared {
    state: Mutex<ListenerState>,
}

#[derive(Debug, Default)]
struct ListenerState {
    ready: VecDeque<(Connection<ServerConnection>, SocketAddr)>,
    handshaking: usize,
    shut: bool,
    loop_done: bool,
    accept_wakers: Vec<Waker>,
    loop_waker: Option<Waker>,
}

impl ListenerShared {
    fn lock(&self) -> MutexGuard<'_, ListenerState> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl ListenerState {
    fn wake_accepters(&mut self) {
        for waker in self.accept_wakers.drain(..) {
            waker.wake();
        }
    }

    fn wake_loop(&mut self) {
        if let Some(waker) = self.loop_waker.take() {
            waker.wake();
        }
    }
}

/// Starts serving on `acceptor` (whose address is `local_addr`): spawns the accept
/// loop on `runtime` and returns the listener.
///
/// # Errors
/// [`ConnectError::Config`] when `config` has no host key that can sign with its
/// host key algorithms.
pub fn listen_with(
    runtime: Arc<dyn Runtime>,
    acceptor: impl Acceptor,
    local_addr: SocketAddr,
    config: Arc<ServerConfig>,
    handler: impl ServerHandler,
) -> Result<Listener, ConnectError> {
    // Fail now rather than once per client.
    ServerConnection::new(config.clone(), runtime.now())?;
    let shared = Arc::new(ListenerShared {
        state: Mutex::new(ListenerState::default()),
    });
    let accept_loop = AcceptLoop {
        acceptor,
        shared: shared.clone(),
        runtime: runtime.clone(),
        config,
        handler: Arc::new(handler),
        backoff: None,
    };
    runtime.spawn(Box::pin(accept_loop));
    Ok(Listener { shared, local_addr })
}

impl Listener {
    /// The address the listener is bound to (with the port the system chose for
    /// port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next established connection (first key exchange done) and its peer's
    /// address; `None` once the listener is shut down and every handshake that was
    /// in progress has finished.
    pub async fn accept(&self) -> Option<(Connection<ServerConnection>, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// [`Self::accept`] as a poll function.
    pub fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(Connection<ServerConnection>, SocketAddr)>> {
        let mut state = self.shared.lock();
        if let Some(next) = state.ready.pop_front() {
            // A slot in the backlog is free again.
            state.wake_loop();
            return Poll::Ready(Some(next));
        }
        if state.loop_done && state.handshaking == 0 {
            return Poll::Ready(None);
        }
        if !state.accept_wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.accept_wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Stops accepting: the listening socket is closed. Handshakes in progress
    /// finish and are still handed out by [`Self::accept`], which then returns
    /// `None`. Established connections are not touched.
    pub fn shutdown(&self) {
        let mut state = self.shared.lock();
        state.shut = true;
        state.wake_loop();
    }
}

impl futures_core::Stream for Listener {
    type Item = (Connection<ServerConnection>, SocketAddr);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_accept(cx)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The spawned task that accepts streams and starts a driver for each.
struct AcceptLoop<A> {
    acceptor: A,
    shared: Arc<ListenerShared>,
    runtime: Arc<dyn Runtime>,
    config: Arc<ServerConfig>,
    handler: Arc<dyn ServerDecisions>,
    backoff: Option<Pin<Box<dyn AsyncTimer>>>,
}

impl<A: Acceptor> AcceptLoop<A> {
    /// Starts the engine and driver for one stream; the handshake runs as its own
    /// task and queues the connection when it completes.
    fn serve(&self, stream: Box<dyn ByteStream>, peer: SocketAddr) {
        let mut engine = match ServerConnection::new(self.config.clone(), self.runtime.now()) {
            Ok(engine) => engine,
            // Checked in `listen_with`; the configuration cannot change since.
            Err(_) => return,
        };
        // Certificates' source-address restrictions are checked against it.
        Engine::set_peer_address(&mut engine, peer.ip());
        self.shared.lock().handshaking += 1;
        let connection = start(
            self.runtime.clone(),
            stream,
            engine,
            Handler::Server(self.handler.clone()),
        );
        let shared = self.shared.clone();
        self.runtime.spawn(Box::pin(async move {
            let result = handshake(connection).await;
            let mut state = shared.lock();
            state.handshaking -= 1;
            if let Ok(connection) = result {
                state.ready.push_back((connection, peer));
            }
            state.wake_accepters();
            state.wake_loop();
        }));
    }
}

impl<A: Acceptor> Future for AcceptLoop<A> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        for _ in 0..ACCEPT_BUDGET {
            {
                let mut state = this.shared.lock();
                if state.shut {
                    state.loop_done = true;
                    state.wake_accepters();
                    return Poll::Ready(());
                }
                state.loop_waker = Some(cx.waker().clone());
                if state.ready.len() + state.handshaking >= DEFAULT_BACKLOG {
                    return Poll::Pending;
                }
            }
            if let Some(backoff) = &mut this.backoff {
                if backoff.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.backoff = None;
            }
            match this.acceptor.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((stream, peer))) => this.serve(stream, peer),
                Poll::Ready(Err(_)) => {
                    let deadline = this.runtime.now() + ACCEPT_ERROR_BACKOFF;
                    this.backoff = Some(this.runtime.new_timer(deadline));
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

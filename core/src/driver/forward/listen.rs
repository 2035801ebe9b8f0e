//! The listening side of a forward: an accept loop on a TCP or Unix listener that
//! hands each connection to its own task, until cancelled.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::super::listener::Acceptor;
use super::super::runtime::{AsyncTimer, ByteStream, Runtime, UnixAcceptor};

/// After a failed accept (out of file descriptors, ...), wait this long before the
/// next instead of spinning.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// An accepted stream and, for TCP, where it came from.
pub(crate) type Accepted = (Box<dyn ByteStream>, Option<SocketAddr>);

/// A bound listener of either family.
pub(crate) enum AnyAcceptor {
    /// A TCP listener.
    Tcp(Box<dyn Acceptor>),
    /// A Unix listener, and its socket file to remove when the loop ends.
    Unix(Box<dyn UnixAcceptor>, PathBuf),
}

impl AnyAcceptor {
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Accepted>> {
        match self {
            Self::Tcp(acceptor) => acceptor
                .poll_accept(cx)
                .map_ok(|(stream, peer)| (stream, Some(peer))),
            Self::Unix(acceptor, _) => acceptor.poll_accept(cx).map_ok(|stream| (stream, None)),
        }
    }
}

impl Drop for AnyAcceptor {
    fn drop(&mut self) {
        if let Self::Unix(_, path) = self {
            // The socket file would make the next bind fail; it may already be gone.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A shared "stop" switch between a forward's handle and its accept loop.
#[derive(Clone, Default)]
pub(crate) struct Cancel(Arc<Mutex<CancelState>>);

#[derive(Default)]
struct CancelState {
    cancelled: bool,
    waker: Option<Waker>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Cancel {
    fn lock(&self) -> MutexGuard<'_, CancelState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops the loop (at its next poll, which this wakes).
    pub(crate) fn cancel(&self) {
        let mut state = self.lock();
        state.cancelled = true;
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }

    /// Whether [`Self::cancel`] was called.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if state.cancelled {
            return Poll::Ready(());
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// What to do with each accepted stream: a future run as its own task.
pub(crate) type OnAccept = Box<
    dyn FnMut(Box<dyn ByteStream>, Option<SocketAddr>) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send,
>;

/// Spawns the accept loop: each accepted stream goes to `on_accept` on its own
/// task. It ends when `cancel` is cancelled or `stop` resolves (the connection
/// ended), dropping (and, for Unix, removing) the listener.
pub(crate) fn spawn_accept_loop(
    runtime: Arc<dyn Runtime>,
    acceptor: AnyAcceptor,
    cancel: Cancel,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    on_accept: OnAccept,
) {
    let accept_loop = AcceptLoop {
        runtime: runtime.clone(),
        acceptor,
        cancel,
        stop,
        on_accept,
        backoff: None,
    };
    runtime.spawn(Box::pin(accept_loop));
}

struct AcceptLoop {
    runtime: Arc<dyn Runtime>,
    acceptor: AnyAcceptor,
    cancel: Cancel,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    on_accept: OnAccept,
    backoff: Option<Pin<Box<dyn AsyncTimer>>>,
}

/// Accepts per poll before yielding to other tasks.
const ACCEPT_BUDGET: usize = 64;

impl Future for AcceptLoop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.cancel.poll(cx).is_ready() || this.stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        for _ in 0..ACCEPT_BUDGET {
            if let Some(backoff) = &mut this.backoff {
                if backoff.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.backoff = None;
            }
            match this.acceptor.poll_accept(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok((stream, peer))) => {
                    let task = (this.on_accept)(stream, peer);
                    this.runtime.spawn(task);
                }
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

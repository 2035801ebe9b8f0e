//! What the driver needs from an async runtime: a clock, a resettable timer, a way to
//! spawn tasks, and a byte stream to the peer.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use super::listener::Acceptor;

/// A future the runtime runs to completion in the background.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A blocking closure for [`Runtime::spawn_blocking`].
pub type BlockingTask = Box<dyn FnOnce() + Send + 'static>;

/// A future that opens a byte stream (a Unix socket to an ssh-agent, ...).
pub type StreamFuture = Pin<Box<dyn Future<Output = io::Result<Box<dyn ByteStream>>> + Send>>;

/// A future that binds a TCP listener: the acceptor and the address it is bound to
/// (with the port the system chose for port 0).
pub type TcpListenFuture =
    Pin<Box<dyn Future<Output = io::Result<(Box<dyn Acceptor>, SocketAddr)>> + Send>>;

/// A future that binds a Unix-domain stream listener.
pub type UnixListenFuture = Pin<Box<dyn Future<Output = io::Result<Box<dyn UnixAcceptor>>> + Send>>;

/// A listening Unix-domain socket: a runtime's `UnixListener`.
///
/// The socket file is not removed when it is dropped; whoever bound it does that.
pub trait UnixAcceptor: Send + Unpin + 'static {
    /// The next incoming stream.
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Box<dyn ByteStream>>>;
}

fn unsupported<T>(what: &str) -> Pin<Box<dyn Future<Output = io::Result<T>> + Send>>
where
    T: Send + 'static,
{
    let error = io::Error::new(
        io::ErrorKind::Unsupported,
        format!("this runtime cannot {what}"),
    );
    Box::pin(std::future::ready(Err(error)))
}

/// The hooks of an async runtime (tokio, smol, async-std, or a test executor).
///
/// The driver is written against this trait only; the runtime crates implement it in a
/// few lines each. Everything else (the run loop, handles, handlers, listeners) is
/// shared.
///
/// ```
/// use std::pin::Pin;
/// use std::sync::Arc;
/// use std::time::Instant;
/// use sansh_core::driver::{AsyncTimer, BoxFuture, Runtime};
///
/// /// A runtime whose tasks run on a thread each and whose timers poll the clock.
/// #[derive(Debug)]
/// struct Threads;
///
/// # #[derive(Debug)] struct Sleep(Instant);
/// # impl AsyncTimer for Sleep {
/// #     fn reset(mut self: Pin<&mut Self>, deadline: Instant) { self.0 = deadline; }
/// #     fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
/// #         if Instant::now() >= self.0 { return std::task::Poll::Ready(()) }
/// #         cx.waker().wake_by_ref(); std::task::Poll::Pending
/// #     }
/// # }
/// impl Runtime for Threads {
///     fn now(&self) -> Instant {
///         Instant::now()
///     }
///     fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
///         Box::pin(Sleep(deadline))
///     }
///     fn spawn(&self, future: BoxFuture) {
///         # let _ = future;
///         // e.g. std::thread::spawn(move || some_block_on(future));
///     }
/// }
/// let runtime: Arc<dyn Runtime> = Arc::new(Threads);
/// assert!(runtime.now() <= runtime.now());
/// ```
pub trait Runtime: Send + Sync + Debug + 'static {
    /// The current time of the runtime's clock (monotonic).
    fn now(&self) -> Instant;

    /// A timer that fires at `deadline`; the driver keeps one and resets it.
    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>>;

    /// Runs `future` to completion in the background.
    ///
    /// It must not poll `future` before returning: the driver spawns while it holds
    /// the connection's lock, which the future may take.
    ///
    /// The driver of each connection and each user handler call run as spawned
    /// tasks, so that a slow handler never holds up the connection.
    fn spawn(&self, future: BoxFuture);

    /// Runs the blocking closure `f` off the async executor, on a thread where it may
    /// block (file I/O, a synchronous SFTP backend).
    ///
    /// Blocking calls made inside a task would stall every other task on its worker,
    /// the connection's other channels included. `f` reports its result through
    /// whatever it captured; [`unblock`] wraps this into a future. The default runs
    /// `f` on a new thread; the runtime crates use their blocking-task pools
    /// (`tokio::task::spawn_blocking`, smol's `unblock`, async-std's
    /// `task::spawn_blocking`).
    fn spawn_blocking(&self, f: BlockingTask) {
        std::thread::spawn(f);
    }

    /// Opens a Unix-domain stream socket to `path` (the ssh-agent's
    /// `SSH_AUTH_SOCK`).
    ///
    /// Opening sockets is the runtime's business, so the driver asks here. The
    /// default refuses with [`io::ErrorKind::Unsupported`]: a runtime without Unix
    /// sockets still runs connections, only without an agent.
    fn connect_unix(&self, path: PathBuf) -> StreamFuture {
        let _ = path;
        unsupported("open Unix sockets")
    }

    /// Opens a TCP connection to `host`:`port`, resolving the name (port
    /// forwarding's outgoing side: `direct-tcpip` on a server, `-R` targets on a
    /// client).
    ///
    /// Every resolved address should be tried (see [`dial`](super::dial)). The
    /// default refuses with [`io::ErrorKind::Unsupported`].
    fn connect_tcp(&self, host: String, port: u16) -> StreamFuture {
        let _ = (host, port);
        unsupported("open TCP connections")
    }

    /// Binds a TCP listener on `addr` (port forwarding's listening side: `-L` and
    /// `-D` on a client, `tcpip-forward` on a server). The default refuses with
    /// [`io::ErrorKind::Unsupported`].
    fn listen_tcp(&self, addr: SocketAddr) -> TcpListenFuture {
        let _ = addr;
        unsupported("listen on TCP ports")
    }

    /// Binds a Unix-domain stream listener at `path` (streamlocal forwarding, a
    /// forwarded agent's socket). The default refuses with
    /// [`io::ErrorKind::Unsupported`].
    fn listen_unix(&self, path: PathBuf) -> UnixListenFuture {
        let _ = path;
        unsupported("listen on Unix sockets")
    }
}

/// A timer with a deadline that can be moved, like `tokio::time::Sleep` or
/// `async_io::Timer`.
pub trait AsyncTimer: Send + Debug {
    /// Moves the deadline (earlier or later); a fired timer fires again at the new one.
    fn reset(self: Pin<&mut Self>, deadline: Instant);

    /// Ready once the deadline has passed; otherwise registers the waker.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// The byte stream to the peer: any `futures_io::AsyncRead + AsyncWrite` (a TCP
/// stream, a Unix socket, an in-memory pipe, a TLS or proxy tunnel, ...).
///
/// Implemented for every type with those traits; runtime crates adapt their own
/// stream types to `futures-io` when they differ (tokio's).
pub trait ByteStream:
    futures_io::AsyncRead + futures_io::AsyncWrite + Send + Unpin + 'static
{
}

impl<T> ByteStream for T where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Send + Unpin + 'static
{
}

/// Runs the blocking `f` through [`Runtime::spawn_blocking`] (started at once) and
/// returns a future of its result, which borrows nothing.
pub fn unblock<T, F>(runtime: &dyn Runtime, f: F) -> Unblock<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Outcome::Waiting(None)));
    let sender = Arc::clone(&slot);
    runtime.spawn_blocking(Box::new(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let previous = std::mem::replace(&mut *lock(&sender), Outcome::Done(result));
        if let Outcome::Waiting(Some(waker)) = previous {
            waker.wake();
        }
    }));
    Unblock { slot }
}

/// The result of a closure run by [`unblock`].
///
/// # Panics
/// Polling resumes the panic when the closure panicked.
#[derive(Debug)]
pub struct Unblock<T> {
    slot: Arc<Mutex<Outcome<T>>>,
}

impl<T> Future for Unblock<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = lock(&self.slot);
        match std::mem::replace(&mut *state, Outcome::Taken) {
            Outcome::Done(Ok(value)) => Poll::Ready(value),
            Outcome::Done(Err(panic)) => std::panic::resume_unwind(panic),
            Outcome::Waiting(_) => {
                *state = Outcome::Waiting(Some(cx.waker().clone()));
                Poll::Pending
            }
            Outcome::Taken => Poll::Pending,
        }
    }
}

/// Where [`unblock`]'s closure leaves its result for the waiting future.
#[derive(Debug)]
enum Outcome<T> {
    /// Not done; the waker of the future waiting for it.
    Waiting(Option<Waker>),
    /// Done: the value, or the panic it ended with.
    Done(std::thread::Result<T>),
    /// Handed to the future.
    Taken,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic in the closure is caught before it reaches the lock.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `future` until `deadline`; `None` when the deadline came first.
pub(crate) async fn with_deadline<T>(
    runtime: &dyn Runtime,
    deadline: Instant,
    future: impl Future<Output = T>,
) -> Option<T> {
    let mut future = std::pin::pin!(future);
    let mut timer = runtime.new_timer(deadline);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    #[derive(Debug)]
    struct Threads;

    impl Runtime for Threads {
        fn now(&self) -> Instant {
            unreachable!("unblock reads no clock")
        }
        fn new_timer(&self, _deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
            unreachable!("unblock arms no timer")
        }
        fn spawn(&self, _future: BoxFuture) {
            unreachable!("unblock spawns no task")
        }
    }

    struct Unpark(std::thread::Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        let mut future = std::pin::pin!(future);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                return value;
            }
            std::thread::park();
        }
    }

    #[test]
    fn unblock_runs_the_closure_off_the_calling_thread() {
        let caller = std::thread::current().id();
        let ran_on = block_on(unblock(&Threads, || std::thread::current().id()));
        assert_ne!(ran_on, caller);
    }

    #[test]
    fn unblock_resumes_a_panic_of_the_closure() {
        let result = std::panic::catch_unwind(|| block_on(unblock(&Threads, || panic!("boom"))));
        assert!(result.is_err());
    }
}

//! # sansh-async-std: sansh on async-std (compatibility crate)
//!
//! **async-std is discontinued upstream** ([RUSTSEC-2025-0052]): this crate exists
//! for applications that still run on it. New code should use `sansh-smol` (async-std
//! is built on the same `async-io` reactor) or `sansh-tokio`.
//!
//! The async-std hooks of sansh's runtime-agnostic driver ([`sansh_core::driver`]):
//! [`AsyncStdRuntime`] (clock, `async-io` timers, `async_std::task::spawn`), TCP
//! [`connect`] with name resolution, IPv6 and IPv4 and a connect timeout, and TCP
//! [`listen`]. async-std's streams already speak `futures-io`. Everything else is the
//! driver's and is re-exported here.
//!
//! What works today: the SSH transport (key exchange, rekeying, host key checks,
//! clean disconnect) as a client and as a server, and user authentication
//! ([`Login`], [`Connection::authenticate`], server verdicts through
//! [`ServerHandler`]), with ssh-agent keys over this runtime's Unix sockets.
//! Channels both ways: a client's sessions ([`Connection::open_session`],
//! [`Connection::run`]), a server's ([`Connection::accept_channel`], each
//! [`Channel`]'s requests), and global requests.
//!
//! ```no_run
//! use sansh_async_std::{ClientConfig, ClientHandler, connect};
//! use sansh_async_std::core::keys::PublicKey;
//!
//! struct Tofu;
//! impl ClientHandler for Tofu {
//!     async fn check_server_key(&self, key: &PublicKey) -> bool {
//!         println!("server key {}", key.fingerprint_sha256());
//!         true
//!     }
//! }
//!
//! async_std::task::block_on(async {
//!     let conn = connect("localhost:22", ClientConfig::default(), Tofu).await?;
//!     println!("{:?}", conn.algorithms());
//!     conn.disconnect("bye");
//!     Ok::<_, sansh_async_std::ConnectError>(())
//! })?;
//! # Ok::<_, sansh_async_std::ConnectError>(())
//! ```
//!
//! [RUSTSEC-2025-0052]: https://rustsec.org/advisories/RUSTSEC-2025-0052.html
#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use async_std::net::{TcpListener, TcpStream, ToSocketAddrs};
use sansh_core::driver::{
    Acceptor, AsyncTimer, BlockingTask, BoxFuture, ByteStream, QuickAck, StreamFuture,
    TcpListenFuture, UnixAcceptor, UnixListenFuture,
};

pub use sansh_core as core;
pub use sansh_core::driver::{
    AuthDecision, AuthFailed, Channel, ChannelError, ChannelKind, ChannelReader, ChannelRequest,
    ChannelRequests, ChannelStderr, ChannelWriter, ClientHandler, ConnectError, Connection,
    ExitSignal, GlobalReply, GlobalRequest, IncomingChannel, IncomingGlobalRequest,
    IncomingRequest, Listener, Login, OpenFailureReason, PtyRequest, RunOutput, Runtime,
    ServerHandler,
};
pub use sansh_core::driver::{forward, sftp};
pub use sansh_core::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};

/// How long [`connect`] waits for each address (and for name resolution).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// async-std as a sansh [`Runtime`]: tasks go to `async_std::task::spawn`, timers are
/// `async_io::Timer` (the reactor async-std itself runs on).
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStdRuntime;

impl AsyncStdRuntime {
    /// Shared, as the driver takes it.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl Runtime for AsyncStdRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(AsyncStdTimer(Timer::at(deadline)))
    }

    fn spawn(&self, future: BoxFuture) {
        // Dropping the JoinHandle detaches the task.
        drop(async_std::task::spawn(future));
    }

    fn spawn_blocking(&self, f: BlockingTask) {
        drop(async_std::task::spawn_blocking(f));
    }

    fn connect_unix(&self, path: std::path::PathBuf) -> StreamFuture {
        Box::pin(async move {
            let stream = async_std::os::unix::net::UnixStream::connect(path).await?;
            Ok(Box::new(HalfClose(stream)) as Box<dyn ByteStream>)
        })
    }

    fn connect_tcp(&self, host: String, port: u16) -> StreamFuture {
        Box::pin(async move {
            let resolve = async { Ok((host.as_str(), port).to_socket_addrs().await?.collect()) };
            let stream = sansh_core::driver::dial(
                &AsyncStdRuntime,
                DEFAULT_CONNECT_TIMEOUT,
                resolve,
                TcpStream::connect,
            )
            .await
            .map_err(connect_error)?;
            Ok(forwarded_tcp(stream))
        })
    }

    fn listen_tcp(&self, addr: SocketAddr) -> TcpListenFuture {
        Box::pin(async move {
            let listener = TcpListener::bind(addr).await?;
            let local_addr = listener.local_addr()?;
            let acceptor = AsyncStdAcceptor {
                listener: Arc::new(listener),
                accepting: None,
                wrap: forwarded_tcp,
            };
            Ok((Box::new(acceptor) as Box<dyn Acceptor>, local_addr))
        })
    }

    fn listen_unix(&self, path: std::path::PathBuf) -> UnixListenFuture {
        Box::pin(async move {
            let listener = async_std::os::unix::net::UnixListener::bind(path).await?;
            Ok(Box::new(AsyncStdUnixAcceptor {
                listener: Arc::new(listener),
                accepting: None,
            }) as Box<dyn UnixAcceptor>)
        })
    }
}

/// A connect error as an I/O error: the runtime hooks speak `io::Result`.
fn connect_error(error: ConnectError) -> io::Error {
    match error {
        ConnectError::Io(error) => error,
        other => io::Error::new(io::ErrorKind::TimedOut, other),
    }
}

type UnixAccepting = Pin<
    Box<
        dyn Future<
                Output = io::Result<(
                    async_std::os::unix::net::UnixStream,
                    async_std::os::unix::net::SocketAddr,
                )>,
            > + Send,
    >,
>;

struct AsyncStdUnixAcceptor {
    listener: Arc<async_std::os::unix::net::UnixListener>,
    /// The accept in progress (the listener has no poll method).
    accepting: Option<UnixAccepting>,
}

impl UnixAcceptor for AsyncStdUnixAcceptor {
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Box<dyn ByteStream>>> {
        let accepting = self.accepting.get_or_insert_with(|| {
            let listener = self.listener.clone();
            Box::pin(async move { listener.accept().await })
        });
        let result = std::task::ready!(accepting.as_mut().poll(cx));
        self.accepting = None;
        Poll::Ready(result.map(|(stream, _)| Box::new(HalfClose(stream)) as Box<dyn ByteStream>))
    }
}

#[derive(Debug)]
struct AsyncStdTimer(Timer);

impl AsyncTimer for AsyncStdTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.set_at(deadline);
    }

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

/// Connects to `addr` over TCP and runs the SSH client until its first key exchange
/// is done, with [`DEFAULT_CONNECT_TIMEOUT`].
///
/// `addr` is anything async-std resolves: `"host:22"`, `("host", 22)`, a
/// `SocketAddr`. Every resolved address is tried, IPv6 and IPv4 alternating (see
/// [`dial`](sansh_core::driver::dial)).
///
/// # Errors
/// [`ConnectError::Io`], [`ConnectError::NoAddress`] or [`ConnectError::TimedOut`]
/// when no TCP connection was made; [`ConnectError::Handshake`] when the SSH key
/// exchange failed.
pub async fn connect(
    addr: impl ToSocketAddrs,
    config: ClientConfig,
    handler: impl ClientHandler,
) -> Result<Connection, ConnectError> {
    connect_timeout(addr, DEFAULT_CONNECT_TIMEOUT, config, handler).await
}

/// [`connect`] with a chosen timeout for name resolution and each TCP attempt.
///
/// # Errors
/// As [`connect`].
pub async fn connect_timeout(
    addr: impl ToSocketAddrs,
    timeout: Duration,
    config: ClientConfig,
    handler: impl ClientHandler,
) -> Result<Connection, ConnectError> {
    let runtime = AsyncStdRuntime.shared();
    let resolve = async { Ok(addr.to_socket_addrs().await?.collect()) };
    let stream = sansh_core::driver::dial(&*runtime, timeout, resolve, TcpStream::connect).await?;
    sansh_core::driver::connect_with(runtime, ssh_tcp(stream), config, handler).await
}

/// Binds a TCP listener on `addr` and serves SSH on it: each client's key exchange
/// runs on its own task; [`Listener::accept`] hands out the established connections.
///
/// # Errors
/// [`ConnectError::Io`] when binding fails, [`ConnectError::Config`] when `config`
/// has no usable host key.
pub async fn listen(
    addr: impl ToSocketAddrs,
    config: Arc<ServerConfig>,
    handler: impl ServerHandler,
) -> Result<Listener, ConnectError> {
    let listener = Arc::new(TcpListener::bind(addr).await?);
    let local_addr = listener.local_addr()?;
    let acceptor = AsyncStdAcceptor {
        listener,
        accepting: None,
        wrap: |stream| Box::new(ssh_tcp(stream)),
    };
    sansh_core::driver::listen_with(
        AsyncStdRuntime.shared(),
        acceptor,
        local_addr,
        config,
        handler,
    )
}

type Accepting = Pin<Box<dyn Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send>>;

/// A TCP stream made ready to carry an SSH connection, as [`connect`] and [`listen`]
/// do with theirs: `TCP_NODELAY` (the driver writes whole packets at once, so Nagle's
/// algorithm would only add latency) and quick acknowledgements ([`QuickAck`]). For
/// streams accepted or connected by the caller, before `accept_with`, `accept_engine`
/// or `connect_with`. Closing the connection shuts the socket's writing half down
/// (for clones of `stream` too).
pub fn ssh_tcp(stream: TcpStream) -> impl ByteStream {
    let _ = stream.set_nodelay(true);
    QuickAck::new(HalfClose(stream), |stream| quick_ack(&stream.0))
}

/// A forwarded connection's stream (forwarding writes whole channel packets too).
fn forwarded_tcp(stream: TcpStream) -> Box<dyn ByteStream> {
    let _ = stream.set_nodelay(true);
    Box::new(HalfClose(stream))
}

/// Acknowledges the next segments at once (see [`QuickAck`]); Linux only.
fn quick_ack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

struct AsyncStdAcceptor {
    listener: Arc<TcpListener>,
    /// The accept in progress (async-std's listener has no poll method).
    accepting: Option<Accepting>,
    wrap: fn(TcpStream) -> Box<dyn ByteStream>,
}

impl Acceptor for AsyncStdAcceptor {
    fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn ByteStream>, SocketAddr)>> {
        let accepting = self.accepting.get_or_insert_with(|| {
            let listener = self.listener.clone();
            Box::pin(async move { listener.accept().await })
        });
        let result = std::task::ready!(accepting.as_mut().poll(cx));
        self.accepting = None;
        Poll::Ready(result.map(|(stream, peer)| ((self.wrap)(stream), peer)))
    }
}

/// A socket whose `poll_close` shuts its writing half down (sends FIN), which
/// async-std's own streams do not do (their close only flushes): a forwarded
/// connection's EOF must reach the other end while its reply still flows back.
struct HalfClose<T>(T);

/// The sockets [`HalfClose`] wraps.
trait ShutdownWrite {
    fn shutdown_write(&self) -> io::Result<()>;
}

impl ShutdownWrite for TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

impl ShutdownWrite for async_std::os::unix::net::UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

impl<T: futures_io::AsyncRead + Unpin> futures_io::AsyncRead for HalfClose<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: futures_io::AsyncWrite + ShutdownWrite + Unpin> futures_io::AsyncWrite for HalfClose<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(Pin::new(&mut self.0).poll_flush(cx))?;
        match self.0.shutdown_write() {
            // Already shut, or the peer is gone: nothing more to close.
            Err(error) if error.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            other => Poll::Ready(other),
        }
    }
}

//! # sansh-tokio: sansh on tokio
//!
//! The tokio hooks of sansh's runtime-agnostic driver ([`sansh_core::driver`]):
//! [`TokioRuntime`] (clock, timers, spawn), TCP [`connect`] with name resolution,
//! IPv6 and IPv4 and a connect timeout, TCP [`listen`], and [`Compat`], which adapts
//! any tokio stream to the driver. Everything else is the driver's and is
//! re-exported here.
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
//! use sansh_tokio::{ClientConfig, ClientHandler, connect};
//! use sansh_tokio::core::keys::PublicKey;
//!
//! struct Tofu;
//! impl ClientHandler for Tofu {
//!     async fn check_server_key(&self, key: &PublicKey) -> bool {
//!         println!("server key {}", key.fingerprint_sha256());
//!         true
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), sansh_tokio::ConnectError> {
//!     let conn = connect("localhost:22", ClientConfig::default(), Tofu).await?;
//!     println!("{:?}", conn.algorithms());
//!     conn.disconnect("bye");
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]

mod compat;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sansh_core::driver::{
    Acceptor, AsyncTimer, BlockingTask, BoxFuture, ByteStream, QuickAck, StreamFuture,
    TcpListenFuture, UnixAcceptor, UnixListenFuture,
};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

pub use compat::Compat;
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

/// tokio as a sansh [`Runtime`]: tasks go to a runtime handle, timers are
/// `tokio::time::Sleep`, the clock is tokio's (so `tokio::time::pause` works).
#[derive(Debug, Clone)]
pub struct TokioRuntime {
    handle: tokio::runtime::Handle,
}

impl TokioRuntime {
    /// The runtime the caller runs on.
    ///
    /// # Panics
    /// Outside a tokio runtime, as `tokio::runtime::Handle::current` does.
    pub fn current() -> Self {
        Self::new(tokio::runtime::Handle::current())
    }

    /// A runtime that spawns onto `handle`.
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        Self { handle }
    }

    /// Shared, as the driver takes it.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl Runtime for TokioRuntime {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        // A Sleep registers with the timer of the runtime it is made in.
        let _entered = self.handle.enter();
        Box::pin(TokioTimer(Box::pin(tokio::time::sleep_until(
            deadline.into(),
        ))))
    }

    fn spawn(&self, future: BoxFuture) {
        drop(self.handle.spawn(future));
    }

    fn spawn_blocking(&self, f: BlockingTask) {
        drop(self.handle.spawn_blocking(f));
    }

    fn connect_unix(&self, path: std::path::PathBuf) -> StreamFuture {
        // Connected on the runtime's own handle, so the socket registers with its
        // reactor whoever awaits the result.
        let connecting = self
            .handle
            .spawn(async move { tokio::net::UnixStream::connect(path).await });
        Box::pin(async move {
            let stream = connecting.await.map_err(io::Error::other)??;
            Ok(Box::new(Compat(stream)) as Box<dyn ByteStream>)
        })
    }

    fn connect_tcp(&self, host: String, port: u16) -> StreamFuture {
        let runtime = self.clone();
        let connecting = self.handle.spawn(async move {
            let resolve = async {
                Ok(tokio::net::lookup_host((host.as_str(), port))
                    .await?
                    .collect())
            };
            sansh_core::driver::dial(
                &runtime,
                DEFAULT_CONNECT_TIMEOUT,
                resolve,
                TcpStream::connect,
            )
            .await
            .map_err(connect_error)
        });
        Box::pin(async move {
            let stream = connecting.await.map_err(io::Error::other)??;
            Ok(forwarded_tcp(stream))
        })
    }

    fn listen_tcp(&self, addr: SocketAddr) -> TcpListenFuture {
        let binding = self
            .handle
            .spawn(async move { TcpListener::bind(addr).await });
        Box::pin(async move {
            let listener = binding.await.map_err(io::Error::other)??;
            let local_addr = listener.local_addr()?;
            Ok((
                Box::new(TokioAcceptor {
                    listener,
                    wrap: forwarded_tcp,
                }) as Box<dyn Acceptor>,
                local_addr,
            ))
        })
    }

    fn listen_unix(&self, path: std::path::PathBuf) -> UnixListenFuture {
        // Bound inside the runtime so that the socket registers with its reactor.
        let _entered = self.handle.enter();
        let result = tokio::net::UnixListener::bind(path)
            .map(|listener| Box::new(TokioUnixAcceptor(listener)) as Box<dyn UnixAcceptor>);
        Box::pin(std::future::ready(result))
    }
}

/// A connect error as an I/O error: the runtime hooks speak `io::Result`.
fn connect_error(error: ConnectError) -> io::Error {
    match error {
        ConnectError::Io(error) => error,
        other => io::Error::new(io::ErrorKind::TimedOut, other),
    }
}

struct TokioUnixAcceptor(tokio::net::UnixListener);

impl UnixAcceptor for TokioUnixAcceptor {
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Box<dyn ByteStream>>> {
        self.0
            .poll_accept(cx)
            .map_ok(|(stream, _)| Box::new(Compat(stream)) as Box<dyn ByteStream>)
    }
}

#[derive(Debug)]
struct TokioTimer(Pin<Box<tokio::time::Sleep>>);

impl AsyncTimer for TokioTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

/// Connects to `addr` over TCP and runs the SSH client until its first key exchange
/// is done, with [`DEFAULT_CONNECT_TIMEOUT`].
///
/// `addr` is anything tokio resolves: `"host:22"`, `("host", 22)`, a `SocketAddr`.
/// Every resolved address is tried, IPv6 and IPv4 alternating (see
/// [`dial`](sansh_core::driver::dial)). The driver runs on the current tokio runtime.
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
    let runtime = TokioRuntime::current().shared();
    let resolve = async { Ok(tokio::net::lookup_host(addr).await?.collect()) };
    let stream = sansh_core::driver::dial(&*runtime, timeout, resolve, TcpStream::connect).await?;
    sansh_core::driver::connect_with(runtime, ssh_tcp(stream), config, handler).await
}

/// Runs the SSH client over an established tokio stream (TCP, Unix, a tunnel...).
///
/// The stream is used as it is: a TCP stream the caller connected gets [`connect`]'s
/// socket options from [`ssh_tcp`], handed to `sansh_core::driver::connect_with`.
///
/// # Errors
/// [`ConnectError::Handshake`] when the key exchange fails.
pub async fn connect_stream<S>(
    stream: S,
    config: ClientConfig,
    handler: impl ClientHandler,
) -> Result<Connection, ConnectError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let runtime = TokioRuntime::current().shared();
    sansh_core::driver::connect_with(runtime, Compat(stream), config, handler).await
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
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let runtime = TokioRuntime::current().shared();
    sansh_core::driver::listen_with(
        runtime,
        TokioAcceptor {
            listener,
            wrap: |stream| Box::new(ssh_tcp(stream)),
        },
        local_addr,
        config,
        handler,
    )
}

/// A TCP stream made ready to carry an SSH connection, as [`connect`] and [`listen`]
/// do with theirs: `TCP_NODELAY` (the driver writes whole packets at once, so Nagle's
/// algorithm would only add latency) and quick acknowledgements ([`QuickAck`]). For
/// streams accepted or connected by the caller, before `accept_with`, `accept_engine`
/// or `connect_with`.
pub fn ssh_tcp(stream: TcpStream) -> impl ByteStream {
    let _ = stream.set_nodelay(true);
    QuickAck::new(Compat(stream), |stream| quick_ack(&stream.0))
}

/// A forwarded connection's stream (forwarding writes whole channel packets too).
fn forwarded_tcp(stream: TcpStream) -> Box<dyn ByteStream> {
    let _ = stream.set_nodelay(true);
    Box::new(Compat(stream))
}

/// Acknowledges the next segments at once (see [`QuickAck`]); Linux only.
fn quick_ack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

struct TokioAcceptor {
    listener: TcpListener,
    wrap: fn(TcpStream) -> Box<dyn ByteStream>,
}

impl Acceptor for TokioAcceptor {
    fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn ByteStream>, SocketAddr)>> {
        self.listener
            .poll_accept(cx)
            .map_ok(|(stream, peer)| ((self.wrap)(stream), peer))
    }
}

//! # sansh-smol: sansh on smol
//!
//! The smol hooks of sansh's runtime-agnostic driver ([`sansh_core::driver`]):
//! [`SmolRuntime`] (clock, `async-io` timers, spawn on smol's global executor), TCP
//! [`connect`] with name resolution, IPv6 and IPv4 and a connect timeout, and TCP
//! [`listen`]. smol's streams already speak `futures-io`, so any of them (TCP, Unix,
//! `Async<T>`) can be handed to [`connect_with`](sansh_core::driver::connect_with)
//! as is. Everything else is the driver's and is re-exported here.
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
//! use sansh_smol::{ClientConfig, ClientHandler, connect};
//! use sansh_smol::core::keys::PublicKey;
//!
//! struct Tofu;
//! impl ClientHandler for Tofu {
//!     async fn check_server_key(&self, key: &PublicKey) -> bool {
//!         println!("server key {}", key.fingerprint_sha256());
//!         true
//!     }
//! }
//!
//! smol::block_on(async {
//!     let conn = connect("localhost:22", ClientConfig::default(), Tofu).await?;
//!     println!("{:?}", conn.algorithms());
//!     conn.disconnect("bye");
//!     Ok::<_, sansh_smol::ConnectError>(())
//! })?;
//! # Ok::<_, sansh_smol::ConnectError>(())
//! ```
#![forbid(unsafe_code)]

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
use smol::Timer;
use smol::net::{AsyncToSocketAddrs, TcpListener, TcpStream};

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

/// smol as a sansh [`Runtime`]: tasks go to `smol::spawn` (the global executor),
/// timers are `async_io::Timer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolRuntime;

impl SmolRuntime {
    /// Shared, as the driver takes it.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl Runtime for SmolRuntime {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn new_timer(&self, deadline: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(SmolTimer(Timer::at(deadline)))
    }

    fn spawn(&self, future: BoxFuture) {
        smol::spawn(future).detach();
    }

    fn spawn_blocking(&self, f: BlockingTask) {
        // The `blocking` crate's pool, which smol's own file and process I/O use.
        smol::unblock(f).detach();
    }

    fn connect_unix(&self, path: std::path::PathBuf) -> StreamFuture {
        Box::pin(async move {
            let stream = smol::net::unix::UnixStream::connect(path).await?;
            Ok(Box::new(stream) as Box<dyn ByteStream>)
        })
    }

    fn connect_tcp(&self, host: String, port: u16) -> StreamFuture {
        Box::pin(async move {
            let resolve = smol::net::resolve((host.as_str(), port));
            let stream = sansh_core::driver::dial(
                &SmolRuntime,
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
            let acceptor = SmolAcceptor {
                listener,
                accepting: None,
                wrap: forwarded_tcp,
            };
            Ok((Box::new(acceptor) as Box<dyn Acceptor>, local_addr))
        })
    }

    fn listen_unix(&self, path: std::path::PathBuf) -> UnixListenFuture {
        let result = smol::net::unix::UnixListener::bind(path).map(|listener| {
            Box::new(SmolUnixAcceptor {
                listener,
                accepting: None,
            }) as Box<dyn UnixAcceptor>
        });
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

type UnixAccepting = Pin<
    Box<
        dyn Future<Output = io::Result<(smol::net::unix::UnixStream, smol::net::unix::SocketAddr)>>
            + Send,
    >,
>;

struct SmolUnixAcceptor {
    listener: smol::net::unix::UnixListener,
    /// The accept in progress (the listener has no poll method).
    accepting: Option<UnixAccepting>,
}

impl UnixAcceptor for SmolUnixAcceptor {
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Box<dyn ByteStream>>> {
        let accepting = self.accepting.get_or_insert_with(|| {
            let listener = self.listener.clone();
            Box::pin(async move { listener.accept().await })
        });
        let result = std::task::ready!(accepting.as_mut().poll(cx));
        self.accepting = None;
        Poll::Ready(result.map(|(stream, _)| Box::new(stream) as Box<dyn ByteStream>))
    }
}

#[derive(Debug)]
struct SmolTimer(Timer);

impl AsyncTimer for SmolTimer {
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
/// `addr` is anything smol resolves: `"host:22"`, `("host", 22)`, a `SocketAddr`.
/// Every resolved address is tried, IPv6 and IPv4 alternating (see
/// [`dial`](sansh_core::driver::dial)).
///
/// # Errors
/// [`ConnectError::Io`], [`ConnectError::NoAddress`] or [`ConnectError::TimedOut`]
/// when no TCP connection was made; [`ConnectError::Handshake`] when the SSH key
/// exchange failed.
pub async fn connect(
    addr: impl AsyncToSocketAddrs,
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
    addr: impl AsyncToSocketAddrs,
    timeout: Duration,
    config: ClientConfig,
    handler: impl ClientHandler,
) -> Result<Connection, ConnectError> {
    let runtime = SmolRuntime.shared();
    let resolve = smol::net::resolve(addr);
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
    addr: impl AsyncToSocketAddrs,
    config: Arc<ServerConfig>,
    handler: impl ServerHandler,
) -> Result<Listener, ConnectError> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let acceptor = SmolAcceptor {
        listener,
        accepting: None,
        wrap: |stream| Box::new(ssh_tcp(stream)),
    };
    sansh_core::driver::listen_with(SmolRuntime.shared(), acceptor, local_addr, config, handler)
}

type Accepting = Pin<Box<dyn Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send>>;

/// A TCP stream made ready to carry an SSH connection, as [`connect`] and [`listen`]
/// do with theirs: `TCP_NODELAY` (the driver writes whole packets at once, so Nagle's
/// algorithm would only add latency) and quick acknowledgements ([`QuickAck`]). For
/// streams accepted or connected by the caller, before `accept_with`, `accept_engine`
/// or `connect_with`.
pub fn ssh_tcp(stream: TcpStream) -> impl ByteStream {
    let _ = stream.set_nodelay(true);
    QuickAck::new(stream, quick_ack)
}

/// A forwarded connection's stream (forwarding writes whole channel packets too).
fn forwarded_tcp(stream: TcpStream) -> Box<dyn ByteStream> {
    let _ = stream.set_nodelay(true);
    Box::new(stream)
}

/// Acknowledges the next segments at once (see [`QuickAck`]); Linux only.
fn quick_ack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

struct SmolAcceptor {
    listener: TcpListener,
    /// The accept in progress (smol's listener has no poll method).
    accepting: Option<Accepting>,
    wrap: fn(TcpStream) -> Box<dyn ByteStream>,
}

impl Acceptor for SmolAcceptor {
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

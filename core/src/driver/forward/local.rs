//! The client's outgoing forwards: `direct-tcpip` and
//! `direct-streamlocal@openssh.com` channels (RFC 4254 §7.2, OpenSSH PROTOCOL
//! §2.4), local listeners forwarding through them (`ssh -L`), and the SOCKS
//! listener (`ssh -D`).

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

use super::super::channel::{Channel, ChannelError};
use super::super::handle::Connection;
use super::super::runtime::ByteStream;
use super::ForwardError;
use super::listen::{AnyAcceptor, Cancel, OnAccept, spawn_accept_loop};
use super::relay::relay;
use super::socks::{SocksServer, SocksStep};
use super::spec::Endpoint;
use crate::channel::ChannelKind;

/// The originator reported for connections that have no address (Unix sockets).
const NO_ORIGINATOR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

impl Connection {
    /// Opens a `direct-tcpip` channel: the server connects to `host`:`port` and the
    /// channel carries the connection's bytes (RFC 4254 §7.2). `originator` is
    /// where the connection came from, for the server's logs.
    ///
    /// The [`Channel`] is a byte stream ([`ByteStream`]): read and write it, close
    /// it to send EOF. Over it another SSH connection can run
    /// ([`connect_with`](super::super::connect_with)): that is a jump host.
    ///
    /// # Errors
    /// [`ChannelError::OpenFailed`] when the server refuses (its reason code says
    /// why: `administratively prohibited` for a `permitopen` refusal, `connect
    /// failed` when the target does not answer).
    pub async fn open_direct_tcpip(
        &self,
        host: &str,
        port: u16,
        originator: SocketAddr,
    ) -> Result<Channel, ChannelError> {
        self.open_channel(ChannelKind::DirectTcpip {
            host: host.to_owned(),
            port: u32::from(port),
            originator_address: originator.ip().to_string(),
            originator_port: u32::from(originator.port()),
        })
        .await
    }

    /// Opens a `direct-streamlocal@openssh.com` channel to the Unix socket at
    /// `socket_path` on the server.
    ///
    /// # Errors
    /// As [`Self::open_direct_tcpip`].
    pub async fn open_direct_streamlocal(
        &self,
        socket_path: &str,
    ) -> Result<Channel, ChannelError> {
        self.open_channel(ChannelKind::DirectStreamlocal {
            socket_path: socket_path.to_owned(),
        })
        .await
    }

    /// Opens a channel to `target` on the server's side: `direct-tcpip` or
    /// `direct-streamlocal@openssh.com`.
    ///
    /// # Errors
    /// As [`Self::open_direct_tcpip`].
    pub async fn open_direct(
        &self,
        target: &Endpoint,
        originator: SocketAddr,
    ) -> Result<Channel, ChannelError> {
        match target {
            Endpoint::Tcp { host, port } => self.open_direct_tcpip(host, *port, originator).await,
            Endpoint::Unix(path) => self.open_direct_streamlocal(path).await,
        }
    }

    /// Listens on `listen` here and forwards each connection through the server to
    /// `host`:`port` (`ssh -L`): a `direct-tcpip` channel per connection, bytes
    /// copied both ways, EOF passed on each way.
    ///
    /// A connection the server refuses is closed. Port 0 binds a free port:
    /// [`LocalForward::local_addr`] tells it. The forward runs until
    /// [`LocalForward::close`] or drop (connections already forwarded go on), or the
    /// connection ends; it keeps the connection open.
    ///
    /// # Errors
    /// [`ForwardError::Bind`] when the runtime cannot listen there.
    pub async fn forward_local_port(
        &self,
        listen: SocketAddr,
        host: &str,
        port: u16,
    ) -> Result<LocalForward, ForwardError> {
        let target = Endpoint::Tcp {
            host: host.to_owned(),
            port,
        };
        self.forward_local(
            &Endpoint::Tcp {
                host: listen.ip().to_string(),
                port: listen.port(),
            },
            target,
        )
        .await
    }

    /// Listens on the Unix socket `listen` here (created; removed when the forward
    /// ends) and forwards each connection to `target` on the server's side.
    ///
    /// # Errors
    /// As [`Self::forward_local_port`].
    pub async fn forward_local_path(
        &self,
        listen: &Path,
        target: Endpoint,
    ) -> Result<LocalForward, ForwardError> {
        let listen = Endpoint::Unix(listen.to_string_lossy().into_owned());
        self.forward_local(&listen, target).await
    }

    /// The general `-L`: listen on `listen` (a TCP address, see [`bind_address`],
    /// or a Unix socket path), forward each connection to `target`.
    ///
    /// # Errors
    /// As [`Self::forward_local_port`].
    pub async fn forward_local(
        &self,
        listen: &Endpoint,
        target: Endpoint,
    ) -> Result<LocalForward, ForwardError> {
        let conn = self.clone();
        self.listen_locally(listen, move |stream, peer| {
            let conn = conn.clone();
            let target = target.clone();
            Box::pin(async move {
                let originator = peer.unwrap_or(NO_ORIGINATOR);
                // A refused open closes the local connection, as ssh does.
                if let Ok(channel) = conn.open_direct(&target, originator).await {
                    let _ = relay(stream, channel).await;
                }
            })
        })
        .await
    }

    /// Runs a SOCKS 4, 4a and 5 proxy on `listen` (`ssh -D`): each client's CONNECT
    /// (to an IPv4 or IPv6 address or a domain name, no authentication) becomes a
    /// `direct-tcpip` channel, and a refused one a SOCKS failure reply.
    ///
    /// # Errors
    /// As [`Self::forward_local_port`].
    pub async fn forward_socks(&self, listen: SocketAddr) -> Result<LocalForward, ForwardError> {
        let conn = self.clone();
        let endpoint = Endpoint::Tcp {
            host: listen.ip().to_string(),
            port: listen.port(),
        };
        self.listen_locally(&endpoint, move |stream, peer| {
            let conn = conn.clone();
            Box::pin(async move {
                let _ = serve_socks(&conn, stream, peer.unwrap_or(NO_ORIGINATOR)).await;
            })
        })
        .await
    }

    async fn listen_locally<F>(
        &self,
        listen: &Endpoint,
        mut on_accept: F,
    ) -> Result<LocalForward, ForwardError>
    where
        F: FnMut(
                Box<dyn ByteStream>,
                Option<SocketAddr>,
            ) -> Pin<Box<dyn Future<Output = ()> + Send>>
            + Send
            + 'static,
    {
        let runtime = self.runtime();
        let (acceptor, local) = match listen {
            Endpoint::Tcp { host, port } => {
                let addr = bind_address(host, *port)?;
                let (acceptor, local) =
                    runtime.listen_tcp(addr).await.map_err(ForwardError::Bind)?;
                (AnyAcceptor::Tcp(acceptor), LocalAddress::Tcp(local))
            }
            Endpoint::Unix(path) => {
                let path = PathBuf::from(path);
                let acceptor = runtime
                    .listen_unix(path.clone())
                    .await
                    .map_err(ForwardError::Bind)?;
                (
                    AnyAcceptor::Unix(acceptor, path.clone()),
                    LocalAddress::Unix(path),
                )
            }
        };
        let cancel = Cancel::default();
        let conn = self.clone();
        let stop = Box::pin(async move {
            conn.closed().await;
        });
        let on_accept: OnAccept = Box::new(move |stream, peer| on_accept(stream, peer));
        spawn_accept_loop(runtime, acceptor, cancel.clone(), stop, on_accept);
        Ok(LocalForward { cancel, local })
    }
}

/// One SOCKS client: the handshake, then the channel and the relay.
async fn serve_socks(
    conn: &Connection,
    mut stream: Box<dyn ByteStream>,
    originator: SocketAddr,
) -> io::Result<()> {
    let mut socks = SocksServer::new();
    let mut buf = [0u8; 512];
    let mut input: &[u8] = &[];
    let request = loop {
        match socks.feed(input) {
            Ok(SocksStep::NeedMore) => {
                let n = read(&mut stream, &mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                input = buf.get(..n).unwrap_or_default();
            }
            Ok(SocksStep::Send(reply)) => {
                write_all(&mut stream, &reply).await?;
                input = &[];
            }
            Ok(SocksStep::Connect(request)) => break request,
            Err(error) => {
                if let Some(reply) = error.reply(socks.version()) {
                    write_all(&mut stream, &reply).await?;
                }
                return Err(io::Error::new(io::ErrorKind::InvalidData, error));
            }
        }
    };
    let leftover = socks.take_leftover();
    match conn
        .open_direct_tcpip(&request.host, request.port, originator)
        .await
    {
        Ok(mut channel) => {
            write_all(&mut stream, &request.success_reply()).await?;
            write_all(&mut channel, &leftover).await?;
            relay(stream, channel).await.map(drop)
        }
        Err(error) => {
            write_all(&mut stream, &request.failure_reply()).await?;
            Err(io::Error::new(io::ErrorKind::ConnectionRefused, error))
        }
    }
}

async fn read<S: AsyncRead + Unpin + ?Sized>(stream: &mut S, buf: &mut [u8]) -> io::Result<usize> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, buf)).await
}

async fn write_all<S: AsyncWrite + Unpin + ?Sized>(
    stream: &mut S,
    mut data: &[u8],
) -> io::Result<()> {
    while !data.is_empty() {
        let n = std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = data.get(n..).unwrap_or_default();
    }
    Ok(())
}

/// The address to bind for a listening host as ssh takes it: an IP address,
/// `localhost` (IPv4 loopback), or `""`/`*` (every IPv4 address). Names are not
/// resolved for binding.
///
/// # Errors
/// [`ForwardError::Bind`] for any other name.
pub fn bind_address(host: &str, port: u16) -> Result<SocketAddr, ForwardError> {
    let ip = match host {
        "" | "*" | "0.0.0.0" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        "::" => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        other => other.parse().map_err(|_| {
            ForwardError::Bind(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot bind {other:?}: not an IP address or localhost"),
            ))
        })?,
    };
    Ok(SocketAddr::new(ip, port))
}

/// Where a local forward listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalAddress {
    /// A TCP address (with the port the system chose for port 0).
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

/// A running local forward (`-L`, `-D`): its listener and accept loop. Dropping it
/// (or [`Self::close`]) stops listening; connections already forwarded go on.
#[derive(Debug)]
pub struct LocalForward {
    cancel: Cancel,
    local: LocalAddress,
}

impl LocalForward {
    /// The TCP address it listens on (the chosen port for port 0); `None` for a
    /// Unix socket.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.local {
            LocalAddress::Tcp(addr) => Some(*addr),
            LocalAddress::Unix(_) => None,
        }
    }

    /// Where it listens.
    pub fn local_address(&self) -> &LocalAddress {
        &self.local
    }

    /// Stops listening (a Unix socket file is removed).
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for LocalForward {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

//! Entry points: run a client or a server connection over a byte stream, and the
//! address loop that the runtime crates' `connect` shares.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::driver::Driver;
use super::engine::Engine;
use super::error::ConnectError;
use super::handle::Connection;
use super::handler::{ClientHandler, Handler, ServerHandler};
use super::runtime::{ByteStream, Runtime, with_deadline};
use super::state::Shared;
use crate::config::{ClientConfig, ServerConfig};
use crate::{ClientConnection, ServerConnection};

/// Runs an SSH client over `stream` and waits for the first key exchange.
///
/// Spawns the connection's driver on `runtime`; `handler` answers the engine's
/// decisions (the server's host key). Returns once new keys are in use, with the
/// negotiated algorithms and session id on the handle.
///
/// # Errors
/// [`ConnectError::Handshake`] when the connection ends before the key exchange
/// completes (host key rejected, no common algorithm, the peer disconnected, ...).
pub async fn connect_with(
    runtime: Arc<dyn Runtime>,
    stream: impl ByteStream,
    config: ClientConfig,
    handler: impl ClientHandler,
) -> Result<Connection, ConnectError> {
    let engine = ClientConnection::new(config, runtime.now());
    connect_engine(runtime, stream, engine, handler).await
}

/// [`connect_with`] for an engine built by the caller (e.g. with its own random
/// source, [`ClientConnection::with_rng`]).
///
/// # Errors
/// As [`connect_with`].
pub async fn connect_engine(
    runtime: Arc<dyn Runtime>,
    stream: impl ByteStream,
    engine: ClientConnection,
    handler: impl ClientHandler,
) -> Result<Connection, ConnectError> {
    let handler = Handler::Client(Arc::new(handler));
    handshake(start(runtime, Box::new(stream), engine, handler)).await
}

/// Runs an SSH server connection over `stream` (one accepted client) and waits for
/// the first key exchange.
///
/// # Errors
/// [`ConnectError::Config`] when `config` has no host key that can sign with its
/// host key algorithms; [`ConnectError::Handshake`] when the connection ends before
/// the key exchange completes.
pub async fn accept_with(
    runtime: Arc<dyn Runtime>,
    stream: impl ByteStream,
    config: Arc<ServerConfig>,
    handler: impl ServerHandler,
) -> Result<Connection<ServerConnection>, ConnectError> {
    let engine = ServerConnection::new(config, runtime.now())?;
    accept_engine(runtime, stream, engine, handler).await
}

/// [`accept_with`] for an engine built by the caller.
///
/// # Errors
/// As [`accept_with`].
pub async fn accept_engine(
    runtime: Arc<dyn Runtime>,
    stream: impl ByteStream,
    engine: ServerConnection,
    handler: impl ServerHandler,
) -> Result<Connection<ServerConnection>, ConnectError> {
    let handler = Handler::Server(Arc::new(handler));
    handshake(start(runtime, Box::new(stream), engine, handler)).await
}

/// Creates the shared state, spawns the driver and returns the first handle.
pub(crate) fn start<E: Engine>(
    runtime: Arc<dyn Runtime>,
    stream: Box<dyn ByteStream>,
    engine: E,
    handler: Handler,
) -> Connection<E> {
    let shared = Shared::new(engine, runtime.clone(), handler);
    let connection = Connection::new(shared.clone());
    runtime.spawn(Box::pin(Driver::new(shared, stream)));
    connection
}

/// Waits for the first key exchange. Dropping this future drops the handle, which
/// closes the half-made connection.
pub(crate) async fn handshake<E: Engine>(
    connection: Connection<E>,
) -> Result<Connection<E>, ConnectError> {
    connection
        .wait_until(|state| (state.engine.key_exchanges() > 0).then_some(()))
        .await?;
    Ok(connection)
}

/// Opens a byte stream to the first address that answers: the runtime crates'
/// `connect` in one place.
///
/// `resolve` yields the addresses (the runtime's resolver); they are tried one at a
/// time, alternating IPv6 and IPv4 as RFC 8305 §4 suggests (so one unreachable
/// family does not cost a timeout per address), each attempt limited to `timeout`.
/// Name resolution gets the same limit.
///
/// # Errors
/// [`ConnectError::NoAddress`] when the name resolved to nothing; otherwise the
/// last attempt's error ([`ConnectError::Io`] or [`ConnectError::TimedOut`]).
pub async fn dial<S, R, C, F>(
    runtime: &dyn Runtime,
    timeout: Duration,
    resolve: R,
    mut connect: C,
) -> Result<S, ConnectError>
where
    R: Future<Output = io::Result<Vec<SocketAddr>>>,
    C: FnMut(SocketAddr) -> F,
    F: Future<Output = io::Result<S>>,
{
    let deadline = runtime.now() + timeout;
    let addrs = with_deadline(runtime, deadline, resolve)
        .await
        .ok_or(ConnectError::TimedOut(timeout))??;
    let mut last = ConnectError::NoAddress;
    for addr in interleave_families(addrs) {
        let deadline = runtime.now() + timeout;
        match with_deadline(runtime, deadline, connect(addr)).await {
            Some(Ok(stream)) => return Ok(stream),
            Some(Err(error)) => last = ConnectError::Io(error),
            None => last = ConnectError::TimedOut(timeout),
        }
    }
    Err(last)
}

/// Reorders addresses so that the families alternate, starting with the family of
/// the first (the resolver's preference), keeping the order within each family.
pub(crate) fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return addrs;
    };
    let first_is_v6 = first.is_ipv6();
    let (preferred, other): (Vec<SocketAddr>, Vec<SocketAddr>) =
        addrs.iter().partition(|a| a.is_ipv6() == first_is_v6);
    let mut preferred = preferred.into_iter();
    let mut other = other.into_iter();
    let mut out = Vec::with_capacity(addrs.len());
    loop {
        match (preferred.next(), other.next()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

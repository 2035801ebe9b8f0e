//! The client's remote forwards (`ssh -R`): the server listens (`tcpip-forward`,
//! RFC 4254 §7.1; `streamlocal-forward@openssh.com`, OpenSSH PROTOCOL §2.4) and
//! opens a channel back per connection, which we connect to a local target or
//! hand to the application.

use std::future::poll_fn;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::super::channel::Channel;
use super::super::handle::Connection;
use super::super::incoming::IncomingChannel;
use super::ForwardError;
use super::relay::relay;
use super::router::{Route, Router};
use super::spec::Endpoint;
use crate::channel::{ChannelKind, GlobalRequest, OpenFailureReason};

/// Where a forwarded connection came from, as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Originator {
    /// A TCP client's address and port (`forwarded-tcpip`).
    Tcp {
        /// The client's address, as text.
        address: String,
        /// The client's port.
        port: u32,
    },
    /// A Unix socket client (`forwarded-streamlocal@openssh.com`), which has none.
    Unix,
}

/// A listener on the server (`tcpip-forward` or
/// `streamlocal-forward@openssh.com`), whose connections arrive here as channels:
/// [`Self::accept`] hands them out, like a local listener's `accept`.
///
/// Dropping it cancels the forward on the server (without waiting for the
/// answer); [`Self::cancel`] waits for it. It keeps the connection open.
#[derive(Debug)]
pub struct RemoteListener {
    conn: Connection,
    router: Arc<Router>,
    route: Route,
    /// Set once nothing is left to cancel on the server.
    cancelled: AtomicBool,
}

impl Connection {
    /// Asks the server to listen on `address`:`port` (`tcpip-forward`) and returns
    /// the listener whose [`RemoteListener::accept`] gives each connection as a
    /// channel. Port 0 lets the server choose: [`RemoteListener::bound_port`].
    ///
    /// `address` is as ssh sends it: `localhost` for loopback only, `""` for every
    /// address, or an address (the server's `GatewayPorts` decides).
    ///
    /// # Errors
    /// [`ForwardError::Refused`] when the server refuses (`permitlisten`,
    /// `AllowTcpForwarding`, the port in use).
    pub async fn listen_remote_port(
        &self,
        address: &str,
        port: u16,
    ) -> Result<RemoteListener, ForwardError> {
        let router = Router::of(self);
        let mut route = Route::Tcp {
            address: address.to_owned(),
            port: u32::from(port),
        };
        // Registered first: the first connection may come right after the reply.
        router.add_route(self, route.clone());
        let mut listener = RemoteListener {
            conn: self.clone(),
            router: router.clone(),
            route: route.clone(),
            // Until the server agrees there is nothing to cancel.
            cancelled: AtomicBool::new(true),
        };
        let request = GlobalRequest::TcpipForward {
            address: address.to_owned(),
            port: u32::from(port),
        };
        let reply = self.global_request(request).await?;
        if !reply.success {
            return Err(ForwardError::Refused("tcpip-forward"));
        }
        listener.cancelled.store(false, Ordering::SeqCst);
        if port == 0 {
            let bound = reply.bound_port.ok_or(ForwardError::NoBoundPort)?;
            let named = Route::Tcp {
                address: address.to_owned(),
                port: bound,
            };
            router.rename_route(&route, named.clone());
            route = named;
            listener.route = route;
        }
        Ok(listener)
    }

    /// Asks the server to listen on the Unix socket `socket_path`
    /// (`streamlocal-forward@openssh.com`).
    ///
    /// # Errors
    /// As [`Self::listen_remote_port`].
    pub async fn listen_remote_path(
        &self,
        socket_path: &str,
    ) -> Result<RemoteListener, ForwardError> {
        let router = Router::of(self);
        let route = Route::Unix(socket_path.to_owned());
        router.add_route(self, route.clone());
        let listener = RemoteListener {
            conn: self.clone(),
            router,
            route,
            cancelled: AtomicBool::new(true),
        };
        let request = GlobalRequest::StreamlocalForward {
            socket_path: socket_path.to_owned(),
        };
        if !self.global_request(request).await?.success {
            return Err(ForwardError::Refused("streamlocal-forward@openssh.com"));
        }
        listener.cancelled.store(false, Ordering::SeqCst);
        Ok(listener)
    }

    /// `ssh -R`: the server listens on `address`:`port` and each connection to it
    /// is connected here to `target` (a TCP host and port, or a Unix socket), bytes
    /// copied both ways. A target that does not answer refuses the channel with
    /// `connect failed`.
    ///
    /// # Errors
    /// As [`Self::listen_remote_port`].
    pub async fn forward_remote_port(
        &self,
        address: &str,
        port: u16,
        target: Endpoint,
    ) -> Result<RemoteForward, ForwardError> {
        let listener = self.listen_remote_port(address, port).await?;
        Ok(RemoteForward::start(listener, target))
    }

    /// `ssh -R remote_socket:target`: as [`Self::forward_remote_port`] with a Unix
    /// socket on the server.
    ///
    /// # Errors
    /// As [`Self::listen_remote_port`].
    pub async fn forward_remote_path(
        &self,
        socket_path: &str,
        target: Endpoint,
    ) -> Result<RemoteForward, ForwardError> {
        let listener = self.listen_remote_path(socket_path).await?;
        Ok(RemoteForward::start(listener, target))
    }
}

impl RemoteListener {
    /// The port the server listens on (the one it chose for port 0); `None` for a
    /// Unix socket.
    pub fn bound_port(&self) -> Option<u32> {
        match &self.route {
            Route::Tcp { port, .. } => Some(*port),
            Route::Unix(_) => None,
        }
    }

    /// The next connection the server forwarded, accepted, with where it came
    /// from; `None` once the connection has ended.
    pub async fn accept(&self) -> Option<(Channel, Originator)> {
        loop {
            let open = self.next_open().await?;
            let originator = originator(open.kind());
            if let Ok(channel) = open.accept() {
                return Some((channel, originator));
            }
        }
    }

    /// The next open, still to be accepted or refused.
    async fn next_open(&self) -> Option<IncomingChannel> {
        poll_fn(|cx| {
            let closed = self.conn.is_closed();
            self.router.poll_next(&self.route, closed, cx)
        })
        .await
    }

    /// Cancels the forward (`cancel-tcpip-forward` or
    /// `cancel-streamlocal-forward@openssh.com`) and waits for the server's
    /// answer; connections already forwarded go on.
    ///
    /// # Errors
    /// [`ForwardError::Refused`] when the server refuses.
    pub async fn cancel(self) -> Result<(), ForwardError> {
        self.cancelled.store(true, Ordering::SeqCst);
        self.router.remove_route(&self.route);
        let request = self.cancel_request();
        if self.conn.global_request(request).await?.success {
            Ok(())
        } else {
            Err(ForwardError::Refused("cancel forward"))
        }
    }

    fn cancel_request(&self) -> GlobalRequest {
        match &self.route {
            Route::Tcp { address, port } => GlobalRequest::CancelTcpipForward {
                address: address.clone(),
                port: *port,
            },
            Route::Unix(path) => GlobalRequest::CancelStreamlocalForward {
                socket_path: path.clone(),
            },
        }
    }
}

impl Drop for RemoteListener {
    fn drop(&mut self) {
        self.router.remove_route(&self.route);
        if self.cancelled.load(Ordering::SeqCst) || self.conn.is_closed() {
            return;
        }
        let conn = self.conn.clone();
        let request = self.cancel_request();
        self.conn.runtime().spawn(Box::pin(async move {
            let _ = conn.global_request(request).await;
        }));
    }
}

fn originator(kind: &ChannelKind) -> Originator {
    match kind {
        ChannelKind::ForwardedTcpip {
            originator_address,
            originator_port,
            ..
        } => Originator::Tcp {
            address: originator_address.clone(),
            port: *originator_port,
        },
        _ => Originator::Unix,
    }
}

/// A remote forward connecting each connection to a local target (`ssh -R`).
/// Dropping it cancels the forward; [`Self::cancel`] waits for the server.
#[derive(Debug)]
pub struct RemoteForward {
    listener: Arc<RemoteListener>,
}

impl RemoteForward {
    fn start(listener: RemoteListener, target: Endpoint) -> Self {
        let listener = Arc::new(listener);
        let serving = Arc::downgrade(&listener);
        let runtime = listener.conn.runtime();
        let spawner = runtime.clone();
        runtime.spawn(Box::pin(async move {
            loop {
                // Only a weak hold between connections, so that dropping the
                // forward ends the loop.
                let Some(listener) = serving.upgrade() else {
                    return;
                };
                let Some(open) = listener.next_open().await else {
                    return;
                };
                drop(listener);
                let target = target.clone();
                let runtime = spawner.clone();
                spawner.spawn(Box::pin(async move {
                    let connecting = match &target {
                        Endpoint::Tcp { host, port } => runtime.connect_tcp(host.clone(), *port),
                        Endpoint::Unix(path) => runtime.connect_unix(PathBuf::from(path)),
                    };
                    match connecting.await {
                        Ok(stream) => {
                            if let Ok(channel) = open.accept() {
                                let _ = relay(channel, stream).await;
                            }
                        }
                        Err(_) => open.reject(OpenFailureReason::ConnectFailed, "connect failed"),
                    }
                }));
            }
        }));
        Self { listener }
    }

    /// The port the server listens on (the one it chose for port 0).
    pub fn bound_port(&self) -> Option<u32> {
        self.listener.bound_port()
    }

    /// Cancels the forward and waits for the server's answer.
    ///
    /// # Errors
    /// As [`RemoteListener::cancel`].
    pub async fn cancel(self) -> Result<(), ForwardError> {
        let request = self.listener.cancel_request();
        let conn = self.listener.conn.clone();
        // Sent here, so the listener's drop must not send it again.
        self.listener.cancelled.store(true, Ordering::SeqCst);
        drop(self);
        if conn.global_request(request).await?.success {
            Ok(())
        } else {
            Err(ForwardError::Refused("cancel forward"))
        }
    }
}

impl Drop for RemoteForward {
    fn drop(&mut self) {
        // Ends the serving loop, which then drops the listener: that cancels.
        self.listener.router.remove_route(&self.listener.route);
    }
}

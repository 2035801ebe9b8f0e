//! The server's side of forwarding: serving `direct-tcpip` and
//! `direct-streamlocal@openssh.com` channels (connect, then copy), and
//! `tcpip-forward` / `streamlocal-forward@openssh.com` requests (listen, then open
//! a channel back per connection), under a [`ForwardingPolicy`].

use std::collections::HashMap;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use super::super::global::IncomingGlobalRequest;
use super::super::handle::Connection;
use super::super::incoming::IncomingChannel;
use super::ForwardError;
use super::agent::AgentSocket;
use super::listen::{AnyAcceptor, Cancel, OnAccept, spawn_accept_loop};
use super::local::bind_address;
use super::policy::ForwardingPolicy;
use super::relay::relay;
use super::router::Route;
use crate::ServerConnection;
use crate::channel::{ChannelKind, GlobalRequest, OpenFailureReason};

/// Forwarding for one client connection on a server: give it the client's
/// forwarding channels and global requests, it checks them against the policy and
/// serves them.
///
/// A client may send `tcpip-forward` as soon as it is authenticated, and the
/// driver refuses global requests until someone serves them, so start serving
/// them before authentication ends ([`Self::pending`]) and give the policy once
/// the user is known ([`Self::set_policy`]); requests wait for it.
///
/// ```no_run
/// # use sansh_core::ServerConnection;
/// # use sansh_core::driver::Connection;
/// use sansh_core::driver::forward::{ForwardingPolicy, ServerForwarding};
///
/// async fn serve(conn: Connection<ServerConnection>) {
///     let forwarding = ServerForwarding::pending(&conn);
///     forwarding.serve_global_requests(); // tcpip-forward, streamlocal-forward
///     let user = conn.authenticated().await.expect("logged in");
///     forwarding.set_policy(ForwardingPolicy::allow_all().for_user(&user));
///     while let Some(open) = conn.accept_channel().await {
///         if let Some(session) = forwarding.handle_channel(open) {
///             // a `session` channel: the application's
/// #           drop(session);
///         }
///     }
/// }
/// ```
///
/// Listeners it opened for `tcpip-forward` close when cancelled, when the
/// connection ends, or when the last clone of it is dropped.
#[derive(Clone, Debug)]
pub struct ServerForwarding {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    conn: Connection<ServerConnection>,
    policy: Mutex<PolicySlot>,
    listeners: Mutex<HashMap<Route, Cancel>>,
}

/// The policy, once given, and who waits for it.
#[derive(Debug, Default)]
struct PolicySlot {
    policy: Option<ForwardingPolicy>,
    waiters: Vec<Waker>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    fn listeners(&self) -> MutexGuard<'_, HashMap<Route, Cancel>> {
        lock(&self.listeners)
    }

    /// The policy in force; nothing is allowed before one is given.
    fn policy(&self) -> ForwardingPolicy {
        lock(&self.policy)
            .policy
            .clone()
            .unwrap_or_else(ForwardingPolicy::deny_all)
    }

    /// The policy, once given.
    async fn policy_given(&self) -> ForwardingPolicy {
        poll_fn(|cx| {
            let mut slot = lock(&self.policy);
            match &slot.policy {
                Some(policy) => Poll::Ready(policy.clone()),
                None => {
                    slot.waiters.push(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for cancel in self.listeners().values() {
            cancel.cancel();
        }
    }
}

impl ServerForwarding {
    /// Forwarding for `conn` under `policy`.
    pub fn new(conn: &Connection<ServerConnection>, policy: ForwardingPolicy) -> Self {
        let forwarding = Self::pending(conn);
        forwarding.set_policy(policy);
        forwarding
    }

    /// Forwarding for `conn` whose policy comes later ([`Self::set_policy`]):
    /// global requests wait for it, and channels are refused until then.
    pub fn pending(conn: &Connection<ServerConnection>) -> Self {
        Self {
            inner: Arc::new(Inner {
                conn: conn.clone(),
                policy: Mutex::new(PolicySlot::default()),
                listeners: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Sets (or replaces) the policy; requests waiting for one go on.
    pub fn set_policy(&self, policy: ForwardingPolicy) {
        let mut slot = lock(&self.inner.policy);
        slot.policy = Some(policy);
        for waker in slot.waiters.drain(..) {
            waker.wake();
        }
    }

    /// The policy in force, once given.
    pub fn policy(&self) -> Option<ForwardingPolicy> {
        lock(&self.inner.policy).policy.clone()
    }

    /// Serves a `direct-tcpip` (connects to the target, then copies both ways) or
    /// `direct-streamlocal@openssh.com` channel, or refuses it (`administratively
    /// prohibited` by the policy, `connect failed` when the target does not
    /// answer). Any other kind is handed back.
    pub fn handle_channel(
        &self,
        open: IncomingChannel<ServerConnection>,
    ) -> Option<IncomingChannel<ServerConnection>> {
        let runtime = self.inner.conn.runtime();
        let connecting = match open.kind() {
            ChannelKind::DirectTcpip { host, port, .. } => {
                if let Err(refusal) = self.inner.policy().check_direct_tcpip(host, *port) {
                    open.reject(
                        OpenFailureReason::AdministrativelyProhibited,
                        &refusal.to_string(),
                    );
                    return None;
                }
                // The policy refuses ports past 65535.
                let port = u16::try_from(*port).unwrap_or_default();
                runtime.connect_tcp(host.clone(), port)
            }
            ChannelKind::DirectStreamlocal { socket_path } => {
                if let Err(refusal) = self.inner.policy().check_streamlocal() {
                    open.reject(
                        OpenFailureReason::AdministrativelyProhibited,
                        &refusal.to_string(),
                    );
                    return None;
                }
                runtime.connect_unix(PathBuf::from(socket_path))
            }
            _ => return Some(open),
        };
        runtime.spawn(Box::pin(async move {
            match connecting.await {
                Ok(stream) => {
                    if let Ok(channel) = open.accept() {
                        let _ = relay(channel, stream).await;
                    }
                }
                Err(error) => open.reject(
                    OpenFailureReason::ConnectFailed,
                    &format!("connect failed: {error}"),
                ),
            }
        }));
        None
    }

    /// Serves a `tcpip-forward`, `cancel-tcpip-forward`,
    /// `streamlocal-forward@openssh.com` or `cancel-streamlocal-forward@openssh.com`
    /// request (refusing what the policy does not allow, or what cannot be bound);
    /// any other request is handed back.
    pub async fn handle_global_request(
        &self,
        request: IncomingGlobalRequest<ServerConnection>,
    ) -> Option<IncomingGlobalRequest<ServerConnection>> {
        match request.request().clone() {
            GlobalRequest::TcpipForward { address, port } => {
                match self.listen_tcp(&address, port).await {
                    Ok(bound) => request.accept((port == 0).then_some(u32::from(bound))),
                    Err(_) => request.reject(),
                }
            }
            GlobalRequest::StreamlocalForward { socket_path } => {
                match self.listen_unix(&socket_path).await {
                    Ok(()) => request.accept(None),
                    Err(_) => request.reject(),
                }
            }
            GlobalRequest::CancelTcpipForward { address, port } => {
                self.cancel(&Route::Tcp { address, port }, request);
            }
            GlobalRequest::CancelStreamlocalForward { socket_path } => {
                self.cancel(&Route::Unix(socket_path), request);
            }
            _ => return Some(request),
        }
        None
    }

    /// Spawns a task answering every global request of the client with
    /// [`Self::handle_global_request`] (refusing the others), until the connection
    /// ends. From this call on the client's requests are queued for it.
    pub fn serve_global_requests(&self) {
        // Now, not when the task first runs: a request arriving in between would
        // be refused by the driver.
        self.inner.conn.lock().serving_globals = true;
        let forwarding = self.clone();
        let runtime = self.inner.conn.runtime();
        runtime.spawn(Box::pin(async move {
            while let Some(request) = forwarding.inner.conn.accept_global_request().await {
                // Dropped: REQUEST_FAILURE.
                drop(forwarding.handle_global_request(request).await);
            }
        }));
    }

    /// A forwarded agent socket for a session whose client asked for one
    /// (`auth-agent-req@openssh.com`), if the policy allows.
    ///
    /// # Errors
    /// [`ForwardError::Prohibited`] when the policy refuses; others as
    /// [`Connection::forward_agent_socket`].
    pub async fn agent_socket(&self) -> Result<AgentSocket, ForwardError> {
        self.inner.policy().check_agent()?;
        self.inner.conn.forward_agent_socket().await
    }

    fn cancel(&self, route: &Route, request: IncomingGlobalRequest<ServerConnection>) {
        match self.inner.listeners().remove(route) {
            Some(cancel) => {
                cancel.cancel();
                request.accept(None);
            }
            None => request.reject(),
        }
    }

    /// Binds for a `tcpip-forward` and starts its accept loop; returns the port.
    async fn listen_tcp(&self, address: &str, port: u32) -> Result<u16, ForwardError> {
        let policy = self.inner.policy_given().await;
        policy.check_tcpip_forward(address, port)?;
        let port = u16::try_from(port).map_err(|_| ForwardError::Refused("tcpip-forward"))?;
        let bind = bind_address(policy.listen_host(address), port)?;
        let runtime = self.inner.conn.runtime();
        let (acceptor, local) = runtime.listen_tcp(bind).await.map_err(ForwardError::Bind)?;
        let bound = local.port();
        let route = Route::Tcp {
            address: address.to_owned(),
            port: u32::from(bound),
        };
        let address = address.to_owned();
        self.start(route, AnyAcceptor::Tcp(acceptor), move |peer| {
            let peer = peer.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)));
            ChannelKind::ForwardedTcpip {
                address: address.clone(),
                port: u32::from(bound),
                originator_address: peer.ip().to_string(),
                originator_port: u32::from(peer.port()),
            }
        });
        Ok(bound)
    }

    /// Binds for a `streamlocal-forward@openssh.com` and starts its accept loop.
    async fn listen_unix(&self, socket_path: &str) -> Result<(), ForwardError> {
        self.inner.policy_given().await.check_streamlocal()?;
        let path = PathBuf::from(socket_path);
        let runtime = self.inner.conn.runtime();
        let acceptor = runtime
            .listen_unix(path.clone())
            .await
            .map_err(ForwardError::Bind)?;
        let socket_path = socket_path.to_owned();
        let route = Route::Unix(socket_path.clone());
        self.start(route, AnyAcceptor::Unix(acceptor, path), move |_| {
            ChannelKind::ForwardedStreamlocal {
                socket_path: socket_path.clone(),
            }
        });
        Ok(())
    }

    /// Runs the accept loop of a forward: each connection opens a channel of the
    /// kind `kind` gives, and is copied both ways once the client confirms it.
    fn start(
        &self,
        route: Route,
        acceptor: AnyAcceptor,
        kind: impl Fn(Option<SocketAddr>) -> ChannelKind + Send + 'static,
    ) {
        let cancel = Cancel::default();
        if let Some(old) = self.inner.listeners().insert(route, cancel.clone()) {
            old.cancel();
        }
        let conn = self.inner.conn.clone();
        let on_accept: OnAccept = Box::new(move |stream, peer| {
            let conn = conn.clone();
            let kind = kind(peer);
            Box::pin(async move {
                // A refused open closes the connection.
                if let Ok(channel) = conn.open_channel(kind).await {
                    let _ = relay(stream, channel).await;
                }
            })
        });
        let conn = self.inner.conn.clone();
        let stop = Box::pin(async move {
            conn.closed().await;
        });
        spawn_accept_loop(self.inner.conn.runtime(), acceptor, cancel, stop, on_accept);
    }
}

//! The client's routing of the channels a server opens towards it: each
//! `forwarded-tcpip` or `forwarded-streamlocal@openssh.com` channel to the remote
//! forward it belongs to, each `auth-agent@openssh.com` channel to the local agent.
//!
//! One dispatcher task per connection takes the server's opens from
//! [`Connection::accept_channel`] while any remote forward or agent forwarding is
//! registered, and ends (dropping its connection handle) once none is.

use std::collections::{HashMap, VecDeque};
use std::future::{Future, poll_fn};
use std::path::PathBuf;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::super::handle::Connection;
use super::super::incoming::IncomingChannel;
use super::relay::relay;
use crate::channel::{ChannelKind, OpenFailureReason};

/// Opens waiting per remote forward for its consumer; past this the server's
/// opens are refused with `resource shortage`.
const MAX_QUEUED: usize = 64;

/// What a server-opened channel is matched on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Route {
    /// A `tcpip-forward`: the address as requested and the bound port.
    Tcp {
        /// The listen address.
        address: String,
        /// The port the server bound.
        port: u32,
    },
    /// A `streamlocal-forward@openssh.com` socket path.
    Unix(String),
}

#[derive(Default)]
struct Queue {
    opens: VecDeque<IncomingChannel>,
    waker: Option<Waker>,
}

#[derive(Default)]
struct RouterState {
    routes: HashMap<Route, Queue>,
    /// Where `auth-agent@openssh.com` channels go, and how many holders want it.
    agent: Option<(PathBuf, usize)>,
    dispatching: bool,
    dispatcher: Option<Waker>,
}

impl RouterState {
    fn idle(&self) -> bool {
        self.routes.is_empty() && self.agent.is_none()
    }

    fn wake_dispatcher(&mut self) {
        if let Some(waker) = self.dispatcher.take() {
            waker.wake();
        }
    }
}

/// The routes of one client connection.
#[derive(Default)]
pub(crate) struct Router {
    state: Mutex<RouterState>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Router")
            .field("routes", &state.routes.keys().collect::<Vec<_>>())
            .field("agent", &state.agent)
            .finish()
    }
}

impl Router {
    fn lock(&self) -> MutexGuard<'_, RouterState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The router of `conn`, created on first use.
    pub(crate) fn of(conn: &Connection) -> Arc<Router> {
        conn.lock()
            .forward_router
            .get_or_insert_with(Default::default)
            .clone()
    }

    /// Starts the dispatcher unless it runs.
    fn ensure_dispatching(self: &Arc<Self>, state: &mut RouterState, conn: &Connection) {
        if state.dispatching {
            return;
        }
        state.dispatching = true;
        let router = self.clone();
        let conn_for_task = conn.clone();
        conn.runtime().spawn(Box::pin(
            async move { router.dispatch(conn_for_task).await },
        ));
    }

    /// Registers `route` (before the request that makes the server use it).
    pub(crate) fn add_route(self: &Arc<Self>, conn: &Connection, route: Route) {
        let mut state = self.lock();
        state.routes.entry(route).or_default();
        self.ensure_dispatching(&mut state, conn);
    }

    /// Renames a route (a port 0 forward once the server told the port).
    pub(crate) fn rename_route(&self, from: &Route, to: Route) {
        let mut state = self.lock();
        if let Some(queue) = state.routes.remove(from) {
            state.routes.insert(to, queue);
        }
    }

    /// Removes `route`: queued opens are refused, and the dispatcher ends if it was
    /// the last.
    pub(crate) fn remove_route(&self, route: &Route) {
        let removed = {
            let mut state = self.lock();
            let removed = state.routes.remove(route);
            state.wake_dispatcher();
            removed
        };
        // Dropped outside the lock: each refusal locks the connection.
        drop(removed);
    }

    /// Sends `auth-agent@openssh.com` channels to the agent at `path` while the
    /// returned count is held (see [`Self::remove_agent`]).
    pub(crate) fn add_agent(self: &Arc<Self>, conn: &Connection, path: PathBuf) {
        let mut state = self.lock();
        let holders = state.agent.as_ref().map_or(0, |(_, n)| *n);
        state.agent = Some((path, holders + 1));
        self.ensure_dispatching(&mut state, conn);
    }

    /// Drops one holder of agent forwarding.
    pub(crate) fn remove_agent(&self) {
        let mut state = self.lock();
        if let Some((_, holders)) = &mut state.agent {
            *holders -= 1;
            if *holders == 0 {
                state.agent = None;
            }
        }
        state.wake_dispatcher();
    }

    /// The next open for `route`; `None` once the route is gone or the connection
    /// ended (`closed`).
    pub(crate) fn poll_next(
        &self,
        route: &Route,
        closed: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Option<IncomingChannel>> {
        let mut state = self.lock();
        let Some(queue) = state.routes.get_mut(route) else {
            return Poll::Ready(None);
        };
        if let Some(open) = queue.opens.pop_front() {
            return Poll::Ready(Some(open));
        }
        if closed {
            return Poll::Ready(None);
        }
        queue.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Wakes every consumer (the connection ended, or the dispatcher did).
    fn wake_all(&self) {
        let mut state = self.lock();
        for queue in state.routes.values_mut() {
            if let Some(waker) = queue.waker.take() {
                waker.wake();
            }
        }
    }

    /// Takes the server's opens until no route is left or the connection ends.
    async fn dispatch(self: Arc<Self>, conn: Connection) {
        loop {
            let next = {
                let mut accepting = pin!(conn.accept_channel());
                poll_fn(|cx| {
                    {
                        let mut state = self.lock();
                        if state.idle() {
                            state.dispatching = false;
                            return Poll::Ready(None);
                        }
                        state.dispatcher = Some(cx.waker().clone());
                    }
                    accepting.as_mut().poll(cx).map(Some)
                })
                .await
            };
            match next {
                Some(Some(open)) => self.route(&conn, open),
                // The connection ended: stop, and let consumers see it.
                Some(None) => {
                    self.lock().dispatching = false;
                    self.wake_all();
                    return;
                }
                None => return,
            }
        }
    }

    /// Hands one open to its consumer, the agent relay, or refuses it.
    fn route(&self, conn: &Connection, open: IncomingChannel) {
        let mut state = self.lock();
        let key = match open.kind() {
            ChannelKind::ForwardedTcpip { address, port, .. } => {
                let exact = Route::Tcp {
                    address: address.clone(),
                    port: *port,
                };
                if state.routes.contains_key(&exact) {
                    Some(exact)
                } else {
                    // Servers may name the address differently from our request
                    // ("" for "0.0.0.0"): the port alone then decides, if unique.
                    let mut same_port = state
                        .routes
                        .keys()
                        .filter(|r| matches!(r, Route::Tcp { port: p, .. } if p == port));
                    match (same_port.next(), same_port.next()) {
                        (Some(route), None) => Some(route.clone()),
                        _ => None,
                    }
                }
            }
            ChannelKind::ForwardedStreamlocal { socket_path } => {
                Some(Route::Unix(socket_path.clone()))
            }
            ChannelKind::AuthAgent => {
                let agent = state.agent.as_ref().map(|(path, _)| path.clone());
                drop(state);
                match agent {
                    Some(path) => relay_to_agent(conn, open, path),
                    None => open.reject(
                        OpenFailureReason::AdministrativelyProhibited,
                        "agent forwarding is not enabled",
                    ),
                }
                return;
            }
            _ => None,
        };
        let refusal = match key.and_then(|key| state.routes.get_mut(&key)) {
            Some(queue) if queue.opens.len() < MAX_QUEUED => {
                queue.opens.push_back(open);
                if let Some(waker) = queue.waker.take() {
                    waker.wake();
                }
                return;
            }
            Some(_) => (
                open,
                OpenFailureReason::ResourceShortage,
                "too many forwarded connections waiting",
            ),
            None => (
                open,
                OpenFailureReason::AdministrativelyProhibited,
                "no such forward",
            ),
        };
        drop(state);
        let (open, reason, description) = refusal;
        open.reject(reason, description);
    }
}

/// Connects the agent channel to the local agent at `path` and copies both ways.
fn relay_to_agent(conn: &Connection, open: IncomingChannel, path: PathBuf) {
    let runtime = conn.runtime();
    let connecting = runtime.connect_unix(path);
    runtime.spawn(Box::pin(async move {
        match connecting.await {
            Ok(agent) => {
                if let Ok(channel) = open.accept() {
                    let _ = relay(channel, agent).await;
                }
            }
            Err(_) => open.reject(OpenFailureReason::ConnectFailed, "cannot reach the agent"),
        }
    }));
}

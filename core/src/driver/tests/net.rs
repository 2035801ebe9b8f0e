//! An in-memory network for the test runtime: TCP ports and Unix socket paths
//! whose connections are duplex pairs, so forwarding runs without sockets.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::duplex::{End, duplex};
use crate::driver::{Acceptor, ByteStream, UnixAcceptor};

/// Buffer of each direction of a connection.
const CAPACITY: usize = 16 * 1024;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Backlog {
    queue: VecDeque<(End, SocketAddr)>,
    waker: Option<Waker>,
}

type SharedBacklog = Arc<Mutex<Backlog>>;

#[derive(Default)]
struct NetState {
    /// Listeners by `tcp:port` (any address) or `unix:path`.
    listeners: HashMap<String, SharedBacklog>,
    next_port: u16,
    /// Connections made so far, for the originators' ports.
    connections: u16,
}

/// The network shared by a test runtime's clones.
#[derive(Default)]
pub(crate) struct Net {
    state: Arc<Mutex<NetState>>,
}

impl Net {
    /// Binds `tcp:port` (a free one for port 0).
    pub(crate) fn listen_tcp(
        &self,
        addr: SocketAddr,
    ) -> io::Result<(Box<dyn Acceptor>, SocketAddr)> {
        let mut state = lock(&self.state);
        let port = if addr.port() == 0 {
            state.next_port += 1;
            40000 + state.next_port
        } else {
            addr.port()
        };
        let key = format!("tcp:{port}");
        let backlog = self.bind(&mut state, &key)?;
        let local = SocketAddr::new(addr.ip(), port);
        let listener = NetListener {
            key,
            backlog,
            state: self.state.clone(),
        };
        Ok((Box::new(listener), local))
    }

    /// Binds `unix:path`.
    pub(crate) fn listen_unix(&self, path: PathBuf) -> io::Result<Box<dyn UnixAcceptor>> {
        let mut state = lock(&self.state);
        let key = format!("unix:{}", path.display());
        let backlog = self.bind(&mut state, &key)?;
        Ok(Box::new(NetListener {
            key,
            backlog,
            state: self.state.clone(),
        }))
    }

    fn bind(&self, state: &mut NetState, key: &str) -> io::Result<SharedBacklog> {
        if state.listeners.contains_key(key) {
            return Err(io::ErrorKind::AddrInUse.into());
        }
        let backlog = SharedBacklog::default();
        state.listeners.insert(key.to_owned(), backlog.clone());
        Ok(backlog)
    }

    /// Connects to the listener on `port` (any host) or refuses.
    pub(crate) fn connect_tcp(&self, port: u16) -> io::Result<Box<dyn ByteStream>> {
        self.connect(&format!("tcp:{port}"))
    }

    /// Connects to the listener at `path` or refuses.
    pub(crate) fn connect_unix(&self, path: PathBuf) -> io::Result<Box<dyn ByteStream>> {
        self.connect(&format!("unix:{}", path.display()))
    }

    fn connect(&self, key: &str) -> io::Result<Box<dyn ByteStream>> {
        let mut state = lock(&self.state);
        let backlog = state
            .listeners
            .get(key)
            .cloned()
            .ok_or(io::ErrorKind::ConnectionRefused)?;
        state.connections += 1;
        let peer = SocketAddr::from(([127, 0, 0, 1], 50000 + state.connections));
        drop(state);
        let (ours, theirs) = duplex(CAPACITY);
        let mut backlog = lock(&backlog);
        backlog.queue.push_back((theirs, peer));
        if let Some(waker) = backlog.waker.take() {
            waker.wake();
        }
        Ok(Box::new(ours))
    }

    /// Whether something listens on `key` (`tcp:port`, `unix:path`).
    pub(crate) fn is_bound(&self, key: &str) -> bool {
        lock(&self.state).listeners.contains_key(key)
    }
}

struct NetListener {
    key: String,
    backlog: SharedBacklog,
    state: Arc<Mutex<NetState>>,
}

impl NetListener {
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<(End, SocketAddr)> {
        let mut backlog = lock(&self.backlog);
        match backlog.queue.pop_front() {
            Some(next) => Poll::Ready(next),
            None => {
                backlog.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for NetListener {
    fn drop(&mut self) {
        lock(&self.state).listeners.remove(&self.key);
    }
}

impl Acceptor for NetListener {
    fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn ByteStream>, SocketAddr)>> {
        self.poll_next(cx)
            .map(|(end, peer)| Ok((Box::new(end) as Box<dyn ByteStream>, peer)))
    }
}

impl UnixAcceptor for NetListener {
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Box<dyn ByteStream>>> {
        self.poll_next(cx)
            .map(|(end, _)| Ok(Box::new(end) as Box<dyn ByteStream>))
    }
}

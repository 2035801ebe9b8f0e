//! Handlers, server configs, a pacing TCP relay and small waiting helpers shared by
//! the scenarios.

use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use sansh_core::crypto::SystemRandom;
use sansh_core::driver::{ClientHandler, Runtime, ServerHandler};
use sansh_core::keys::{KeyType, PrivateKey, PublicKey};
use sansh_core::{ServerConfig, TransportConfig};

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// How long any one wait in a scenario may take before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// Trusts every host key and remembers the ones it was shown.
#[derive(Clone, Default)]
pub(crate) struct AcceptAny {
    seen: Arc<Mutex<Vec<PublicKey>>>,
}

impl AcceptAny {
    pub(crate) fn seen(&self) -> Vec<PublicKey> {
        lock(&self.seen).clone()
    }
}

impl ClientHandler for AcceptAny {
    async fn check_server_key(&self, key: &PublicKey) -> bool {
        lock(&self.seen).push(key.clone());
        true
    }
}

/// A host key check that answers only when the test opens it.
#[derive(Clone, Default)]
pub(crate) struct Gate {
    inner: Arc<Mutex<GateState>>,
}

#[derive(Default)]
struct GateState {
    asked: bool,
    answer: Option<bool>,
    waker: Option<Waker>,
}

impl Gate {
    pub(crate) fn asked(&self) -> bool {
        lock(&self.inner).asked
    }

    pub(crate) fn open(&self, answer: bool) {
        let mut state = lock(&self.inner);
        state.answer = Some(answer);
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }
}

impl ClientHandler for Gate {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        lock(&self.inner).asked = true;
        std::future::poll_fn(|cx| {
            let mut state = lock(&self.inner);
            match state.answer {
                Some(answer) => Poll::Ready(answer),
                None => {
                    state.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Our server's handler: the transport needs no decisions.
pub(crate) struct NoDecisions;

impl ServerHandler for NoDecisions {}

/// A server config with a fresh Ed25519 host key.
pub(crate) fn ed25519_server() -> Arc<ServerConfig> {
    ed25519_server_with(TransportConfig::default())
}

/// A server config with a fresh Ed25519 host key and the given transport settings.
pub(crate) fn ed25519_server_with(transport: TransportConfig) -> Arc<ServerConfig> {
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom)
        .expect("ed25519 key generation");
    Arc::new(ServerConfig {
        host_keys: vec![key],
        transport,
        ..ServerConfig::default()
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The result of a task spawned on a runtime, awaited from the test thread.
pub(crate) struct Join<T> {
    slot: Arc<(Mutex<Option<T>>, Condvar)>,
}

pub(crate) fn spawn_join<T: Send + 'static>(
    runtime: &Arc<dyn Runtime>,
    future: impl Future<Output = T> + Send + 'static,
) -> Join<T> {
    let slot = Arc::new((Mutex::new(None), Condvar::new()));
    let result = slot.clone();
    runtime.spawn(Box::pin(async move {
        let value = future.await;
        *lock(&result.0) = Some(value);
        result.1.notify_all();
    }));
    Join { slot }
}

impl<T> Join<T> {
    pub(crate) fn is_done(&self) -> bool {
        lock(&self.slot.0).is_some()
    }

    /// Blocks until the task has finished, at most [`WAIT`].
    pub(crate) fn wait(self) -> Result<T, String> {
        let deadline = Instant::now() + WAIT;
        let mut value = lock(&self.slot.0);
        loop {
            if let Some(v) = value.take() {
                return Ok(v);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("spawned task did not finish in time".into());
            }
            value = self
                .slot
                .1
                .wait_timeout(value, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// Polls `condition` every 10 ms until it holds, at most [`WAIT`].
pub(crate) fn wait_for(what: &str, mut condition: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// A TCP relay for one connection that trickles the server's bytes to the client one
/// at a time, so that they keep arriving while the client is busy with a question.
pub(crate) struct Relay {
    addr: SocketAddr,
    /// Bytes written to the client so far.
    forwarded: Arc<AtomicUsize>,
    /// Bytes read from the server and not yet written to the client.
    holding: Arc<AtomicUsize>,
}

impl Relay {
    pub(crate) fn start(upstream: SocketAddr, pace: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let forwarded = Arc::new(AtomicUsize::new(0));
        let holding = Arc::new(AtomicUsize::new(0));
        let (count, held) = (forwarded.clone(), holding.clone());
        thread::spawn(move || -> io::Result<()> {
            let (mut client, _) = listener.accept()?;
            let mut server = TcpStream::connect(upstream)?;
            client.set_nodelay(true)?;
            server.set_nodelay(true)?;
            let (mut to_server, mut from_client) = (server.try_clone()?, client.try_clone()?);
            thread::spawn(move || io::copy(&mut from_client, &mut to_server));
            let mut buf = [0u8; 4096];
            loop {
                let n = server.read(&mut buf)?;
                if n == 0 {
                    return client.shutdown(std::net::Shutdown::Write);
                }
                held.fetch_add(n, Ordering::SeqCst);
                for byte in &buf[..n] {
                    client.write_all(std::slice::from_ref(byte))?;
                    held.fetch_sub(1, Ordering::SeqCst);
                    count.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(pace);
                }
            }
        });
        Ok(Self {
            addr,
            forwarded,
            holding,
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn forwarded(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }

    pub(crate) fn holding(&self) -> usize {
        self.holding.load(Ordering::SeqCst)
    }
}

/// Bytes the kernel holds for the TCP socket bound to `local` (connected to
/// `remote`) that its owner has not read yet: the rx_queue of `/proc/net/tcp`.
pub(crate) fn unread_by_socket(local: SocketAddr, remote: SocketAddr) -> Option<usize> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let local_port = format!(":{:04X}", local.port());
    let remote_port = format!(":{:04X}", remote.port());
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (l, r, queues) = (fields.get(1)?, fields.get(2)?, fields.get(4)?);
        if !(l.ends_with(&local_port) && r.ends_with(&remote_port)) {
            return None;
        }
        let rx = queues.split(':').nth(1)?;
        usize::from_str_radix(rx, 16).ok()
    })
}

/// The public key of an OpenSSH public key line.
pub(crate) fn parse_public(line: &str) -> PublicKey {
    PublicKey::from_openssh(line).expect("sshd host key line").0
}

/// A TCP relay for one connection that forwards both ways until frozen; then it
/// holds everything, as a peer that stopped answering would (the kernel still
/// acknowledges, nothing comes back).
pub(crate) struct FreezableRelay {
    addr: SocketAddr,
    frozen: Arc<AtomicBool>,
}

impl FreezableRelay {
    pub(crate) fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let frozen = Arc::new(AtomicBool::new(false));
        let gate = frozen.clone();
        thread::spawn(move || -> io::Result<()> {
            let (client, _) = listener.accept()?;
            let server = TcpStream::connect(upstream)?;
            let (client_in, server_in) = (client.try_clone()?, server.try_clone()?);
            let gate_up = gate.clone();
            thread::spawn(move || forward_until_frozen(client_in, server, &gate_up));
            forward_until_frozen(server_in, client, &gate)
        });
        Ok(Self { addr, frozen })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops forwarding in both directions, for good.
    pub(crate) fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` until EOF or `frozen`; once frozen it stops writing but
/// keeps the sockets open, so the peers see silence, not a close.
fn forward_until_frozen(
    mut from: TcpStream,
    mut to: TcpStream,
    frozen: &AtomicBool,
) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = from.read(&mut buf)?;
        if frozen.load(Ordering::SeqCst) {
            // Keep both sockets until the process ends: closing would be an answer.
            std::mem::forget((from, to));
            return Ok(());
        }
        if n == 0 {
            return to.shutdown(std::net::Shutdown::Write);
        }
        to.write_all(buf.get(..n).unwrap_or_default())?;
    }
}

/// `future`'s output, or `None` if it takes longer than `limit` (on the runtime's
/// timer): a bound on a wait, never a synchronisation.
pub(crate) async fn within<R: crate::runtimes::TestRuntime, T>(
    limit: Duration,
    future: impl Future<Output = T>,
) -> Option<T> {
    let mut future = std::pin::pin!(future);
    let mut timer = std::pin::pin!(R::sleep(limit));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Processes stopped with SIGSTOP; killed (and continued) when dropped.
pub(crate) struct Stopped(Vec<rustix::process::Pid>);

impl Stopped {
    /// Stops each of `pids`.
    pub(crate) fn stop(pids: &[i32]) -> Result<Self, String> {
        let pids: Vec<_> = pids
            .iter()
            .map(|&raw| rustix::process::Pid::from_raw(raw).ok_or(format!("bad pid {raw}")))
            .collect::<Result<_, _>>()?;
        let stopped = Self(pids);
        for &pid in &stopped.0 {
            rustix::process::kill_process(pid, rustix::process::Signal::STOP)
                .map_err(|e| format!("SIGSTOP {}: {e}", pid.as_raw_nonzero()))?;
        }
        Ok(stopped)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::CONT);
        }
    }
}

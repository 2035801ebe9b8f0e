//! Driver tests: a client and a server driver over an in-memory duplex stream, on a
//! single-threaded executor with a virtual clock.

mod auth;
mod channel;
mod connection;
mod dial;
pub(crate) mod duplex;
pub(crate) mod executor;
mod listener;
mod server;

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::config::{ClientConfig, TransportConfig};
use crate::crypto::SeededRandom;
use crate::driver::{ClientHandler, Connection, ServerHandler, accept_engine, connect_engine};
use crate::keys::PublicKey;
use crate::tests::{ed25519_server, epoch};
use crate::{ClientConnection, ServerConnection};

use duplex::{End, duplex};
use executor::{TestRuntime, until};

/// Trusts every host key and remembers the last one it saw.
#[derive(Default, Clone)]
struct AcceptAny {
    seen: Arc<Mutex<Option<PublicKey>>>,
}

impl ClientHandler for AcceptAny {
    async fn check_server_key(&self, key: &PublicKey) -> bool {
        *self.seen.lock().unwrap() = Some(key.clone());
        true
    }
}

/// Trusts no host key.
struct RejectAll;

impl ClientHandler for RejectAll {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        false
    }
}

struct NoDecisions;

impl ServerHandler for NoDecisions {}

fn client_engine(config: ClientConfig) -> ClientConnection {
    ClientConnection::with_rng(config, Box::new(SeededRandom::new(1)), epoch())
}

fn server_engine(transport: TransportConfig) -> ServerConnection {
    let config = ed25519_server(transport);
    ServerConnection::with_rng(config, Box::new(SeededRandom::new(2)), epoch()).unwrap()
}

/// The public half of the key [`server_engine`] uses.
fn server_public_key() -> PublicKey {
    ed25519_server(TransportConfig::default()).host_keys[0].public_key()
}

/// A spawned task's result, awaited with [`Join::join`].
struct Join<T>(Arc<Mutex<Option<T>>>);

fn spawn_join<T: Send + 'static>(
    rt: &TestRuntime,
    future: impl Future<Output = T> + Send + 'static,
) -> Join<T> {
    let slot = Arc::new(Mutex::new(None));
    let result = slot.clone();
    crate::driver::Runtime::spawn(
        rt,
        Box::pin(async move {
            let value = future.await;
            *result.lock().unwrap() = Some(value);
        }),
    );
    Join(slot)
}

impl<T> Join<T> {
    fn is_done(&self) -> bool {
        self.0.lock().unwrap().is_some()
    }

    async fn join(self) -> T {
        until(|| self.is_done()).await;
        self.0.lock().unwrap().take().unwrap()
    }
}

/// A client and a server driver connected over a duplex buffering `capacity` bytes
/// each way, after their first key exchange.
async fn connected_pair(
    rt: &TestRuntime,
    client: ClientConfig,
    server: TransportConfig,
    capacity: usize,
) -> (Connection, Connection<ServerConnection>) {
    let (client_end, server_end) = duplex(capacity);
    let server = spawn_join(
        rt,
        accept_engine(rt.handle(), server_end, server_engine(server), NoDecisions),
    );
    let client = connect_engine(
        rt.handle(),
        client_end,
        client_engine(client),
        AcceptAny::default(),
    )
    .await
    .unwrap();
    (client, server.join().await.unwrap())
}

/// The default pair: default configs, 64 KiB buffers.
async fn default_pair(rt: &TestRuntime) -> (Connection, Connection<ServerConnection>) {
    connected_pair(
        rt,
        ClientConfig::default(),
        TransportConfig::default(),
        64 * 1024,
    )
    .await
}

/// A stream end that a test keeps but never reads or writes: a silent peer.
fn silent_peer() -> (End, End) {
    duplex(64 * 1024)
}

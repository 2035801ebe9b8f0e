//! The accept loop: one driver per stream, established connections handed out,
//! graceful shutdown.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::*;
use crate::driver::{Acceptor, ByteStream, listen_with};

/// Streams the test pushes in, as if clients connected.
#[derive(Clone, Default)]
struct Incoming(Arc<Mutex<(VecDeque<End>, Option<Waker>)>>);

impl Incoming {
    fn push(&self, end: End) {
        let mut inner = self.0.lock().unwrap();
        inner.0.push_back(end);
        if let Some(waker) = inner.1.take() {
            waker.wake();
        }
    }
}

impl Acceptor for Incoming {
    fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Box<dyn ByteStream>, SocketAddr)>> {
        let mut inner = self.0.lock().unwrap();
        match inner.0.pop_front() {
            Some(end) => Poll::Ready(Ok((Box::new(end), "127.0.0.1:40000".parse().unwrap()))),
            None => {
                inner.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn listening(rt: &TestRuntime, incoming: &Incoming) -> crate::driver::Listener {
    let config = ed25519_server(TransportConfig::default());
    listen_with(
        rt.handle(),
        incoming.clone(),
        "127.0.0.1:2222".parse().unwrap(),
        config,
        NoDecisions,
    )
    .unwrap()
}

#[test]
fn listener_hands_out_each_established_connection() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let incoming = Incoming::default();
        let listener = listening(&rt, &incoming);
        let mut clients = Vec::new();
        for _ in 0..3 {
            let (client_end, server_end) = duplex(64 * 1024);
            incoming.push(server_end);
            let engine = client_engine(ClientConfig::default());
            clients.push(spawn_join(
                &rt,
                connect_engine(rt.handle(), client_end, engine, AcceptAny::default()),
            ));
        }
        let mut sessions = Vec::new();
        for _ in 0..3 {
            let (server, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, "127.0.0.1:40000".parse().unwrap());
            sessions.push(server.session_id().unwrap());
        }
        for client in clients {
            let client = client.join().await.unwrap();
            assert!(sessions.contains(&client.session_id().unwrap()));
        }
    });
}

#[test]
fn failed_handshakes_are_not_handed_out() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let incoming = Incoming::default();
        let listener = listening(&rt, &incoming);
        let (client_end, server_end) = duplex(64 * 1024);
        incoming.push(server_end);
        let engine = client_engine(ClientConfig::default());
        assert!(
            connect_engine(rt.handle(), client_end, engine, RejectAll)
                .await
                .is_err()
        );
        listener.shutdown();
        assert!(listener.accept().await.is_none());
    });
}

#[test]
fn shutdown_still_hands_out_handshakes_in_progress_then_ends() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let incoming = Incoming::default();
        let listener = listening(&rt, &incoming);
        let (client_end, server_end) = duplex(64 * 1024);
        incoming.push(server_end);
        let engine = client_engine(ClientConfig::default());
        let client = spawn_join(
            &rt,
            connect_engine(rt.handle(), client_end, engine, AcceptAny::default()),
        );
        // The loop has taken the stream; the handshake is under way.
        until(|| incoming.0.lock().unwrap().0.is_empty()).await;
        listener.shutdown();
        let (server, _) = listener.accept().await.unwrap();
        assert_eq!(server.key_exchanges(), 1);
        assert!(listener.accept().await.is_none());
        client.join().await.unwrap();
    });
}

#[test]
fn listener_refuses_a_config_without_usable_host_keys() {
    let rt = TestRuntime::new();
    let config = Arc::new(crate::config::ServerConfig::default());
    let result = listen_with(
        rt.handle(),
        Incoming::default(),
        "127.0.0.1:2222".parse().unwrap(),
        config,
        NoDecisions,
    );
    assert!(matches!(
        result,
        Err(crate::driver::ConnectError::Config(_))
    ));
}

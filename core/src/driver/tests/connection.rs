//! One client and one server connection through their drivers.

use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use super::*;
use crate::driver::ConnectError;
use crate::driver::state::HANDLES_DROPPED;
use crate::error::{ConnectionError, DisconnectReason, TimerKind};

#[test]
fn client_and_server_complete_the_key_exchange_and_agree_on_the_session() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = default_pair(&rt).await;
        assert_eq!(client.key_exchanges(), 1);
        assert_eq!(server.key_exchanges(), 1);
        assert!(client.algorithms().is_some());
        assert_eq!(client.algorithms(), server.algorithms());
        assert!(client.session_id().is_some());
        assert_eq!(client.session_id(), server.session_id());
        assert!(client.peer_version().unwrap().starts_with("SSH-2.0-sansh"));
    });
}

#[test]
fn host_key_handler_is_shown_the_server_key() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let handler = AcceptAny::default();
        let (client_end, server_end) = duplex(64 * 1024);
        let server = spawn_join(
            &rt,
            accept_engine(
                rt.handle(),
                server_end,
                server_engine(TransportConfig::default()),
                NoDecisions,
            ),
        );
        let engine = client_engine(ClientConfig::default());
        let _client = connect_engine(rt.handle(), client_end, engine, handler.clone())
            .await
            .unwrap();
        assert_eq!(*handler.seen.lock().unwrap(), Some(server_public_key()));
        server.join().await.unwrap();
    });
}

#[test]
fn rejected_host_key_fails_the_connect_and_the_server_hears_why() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client_end, server_end) = duplex(64 * 1024);
        let server = spawn_join(
            &rt,
            accept_engine(
                rt.handle(),
                server_end,
                server_engine(TransportConfig::default()),
                NoDecisions,
            ),
        );
        let engine = client_engine(ClientConfig::default());
        let result = connect_engine(rt.handle(), client_end, engine, RejectAll).await;
        assert!(matches!(
            result,
            Err(ConnectError::Handshake(ConnectionError::HostKeyRejected))
        ));
        match server.join().await {
            Err(ConnectError::Handshake(ConnectionError::PeerDisconnected { reason, .. })) => {
                assert_eq!(reason, DisconnectReason::HostKeyNotVerifiable)
            }
            other => panic!("server: {other:?}"),
        }
    });
}

/// A host key check the test answers when it wants to.
#[derive(Clone, Default)]
struct Gate {
    inner: Arc<Mutex<GateState>>,
}

#[derive(Default)]
struct GateState {
    asked: bool,
    answer: Option<bool>,
    waker: Option<Waker>,
}

impl Gate {
    fn asked(&self) -> bool {
        self.inner.lock().unwrap().asked
    }

    fn open(&self, answer: bool) {
        let mut state = self.inner.lock().unwrap();
        state.answer = Some(answer);
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }
}

impl ClientHandler for Gate {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        self.inner.lock().unwrap().asked = true;
        std::future::poll_fn(|cx| {
            let mut state = self.inner.lock().unwrap();
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

#[test]
fn driver_keeps_reading_while_the_host_key_handler_is_pending() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let gate = Gate::default();
        // A one-byte pipe: when the question is asked, the server's NEWKEYS and
        // EXT_INFO that follow the reply are still on their way.
        let (client_end, server_end) = duplex(1);
        let client_inbox = client_end.probe();
        let server = spawn_join(
            &rt,
            accept_engine(
                rt.handle(),
                server_end,
                server_engine(TransportConfig::default()),
                NoDecisions,
            ),
        );
        let engine = client_engine(ClientConfig::default());
        let client = spawn_join(
            &rt,
            connect_engine(rt.handle(), client_end, engine, gate.clone()),
        );
        until(|| gate.asked()).await;
        let delivered_when_asked = client_inbox.delivered();
        rt.sleep(Duration::from_secs(10)).await;
        // The server sent its NEWKEYS and EXT_INFO after the reply that raised the
        // question; the driver read them all while the handler was thinking.
        assert!(client_inbox.delivered() > delivered_when_asked + 16);
        assert_eq!(client_inbox.unread(), 0);
        assert!(!client.is_done(), "connect waits for the handler");
        gate.open(true);
        let client = client.join().await.unwrap();
        let server = server.join().await.unwrap();
        assert_eq!(client.session_id(), server.session_id());
    });
}

#[test]
fn writes_through_a_tiny_buffer_keep_their_partial_remainder() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        // Three bytes each way: nearly every write is partial.
        let (client, server) =
            connected_pair(&rt, ClientConfig::default(), TransportConfig::default(), 3).await;
        client.rekey().await.unwrap();
        until(|| server.key_exchanges() == 2).await;
    });
}

#[test]
fn rekey_from_a_handle_completes_on_both_sides() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = default_pair(&rt).await;
        let session = client.session_id();
        client.rekey().await.unwrap();
        assert_eq!(client.key_exchanges(), 2);
        until(|| server.key_exchanges() == 2).await;
        server.rekey().await.unwrap();
        assert_eq!(client.key_exchanges(), 3);
        assert_eq!(client.session_id(), session, "the session id never changes");
    });
}

#[test]
fn time_based_rekey_is_fired_by_the_driver_timer() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let mut client_config = ClientConfig::default();
        client_config.transport.rekey_after = Some(Duration::from_secs(60));
        let (client, server) =
            connected_pair(&rt, client_config, TransportConfig::default(), 64 * 1024).await;
        rt.sleep(Duration::from_secs(59)).await;
        assert_eq!(client.key_exchanges(), 1);
        rt.sleep(Duration::from_secs(2)).await;
        until(|| client.key_exchanges() == 2 && server.key_exchanges() == 2).await;
    });
}

#[test]
fn dropping_the_last_handle_sends_disconnect() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = default_pair(&rt).await;
        let copy = client.clone();
        drop(client);
        rt.sleep(Duration::from_secs(1)).await;
        assert!(!server.is_closed(), "a clone keeps the connection open");
        drop(copy);
        match server.closed().await {
            ConnectionError::PeerDisconnected {
                reason,
                description,
            } => {
                assert_eq!(reason, DisconnectReason::ByApplication);
                assert_eq!(description, HANDLES_DROPPED);
            }
            other => panic!("server saw {other:?}"),
        }
    });
}

#[test]
fn disconnect_closes_both_ends_with_the_description() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = default_pair(&rt).await;
        server.disconnect("maintenance");
        assert_eq!(
            server.closed().await,
            ConnectionError::LocallyClosed("maintenance".into())
        );
        assert_eq!(
            client.closed().await,
            ConnectionError::PeerDisconnected {
                reason: DisconnectReason::ByApplication,
                description: "maintenance".into(),
            }
        );
        assert!(
            client.rekey().await.is_err(),
            "a closed connection cannot rekey"
        );
    });
}

#[test]
fn silent_peer_fails_the_connect_when_the_key_exchange_times_out() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client_end, _peer) = silent_peer();
        let mut config = ClientConfig::default();
        config.transport.kex_timeout = Duration::from_secs(30);
        let result =
            connect_engine(rt.handle(), client_end, client_engine(config), RejectAll).await;
        assert!(matches!(
            result,
            Err(ConnectError::Handshake(ConnectionError::TimedOut(
                TimerKind::KeyExchange
            )))
        ));
        assert_eq!(rt.elapsed(), Duration::from_secs(30));
    });
}

#[test]
fn peer_closing_the_stream_fails_the_connect_with_connection_lost() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client_end, peer) = silent_peer();
        drop(peer);
        let result = connect_engine(
            rt.handle(),
            client_end,
            client_engine(ClientConfig::default()),
            RejectAll,
        )
        .await;
        assert!(matches!(
            result,
            Err(ConnectError::Handshake(ConnectionError::ConnectionLost))
        ));
    });
}

#[test]
fn service_accepted_waits_for_the_service_or_reports_the_close() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = default_pair(&rt).await;
        let waiting = spawn_join(&rt, {
            let server = server.clone();
            async move { server.service_accepted().await }
        });
        rt.sleep(Duration::from_secs(1)).await;
        assert!(!waiting.is_done());
        client.disconnect("done");
        assert!(matches!(
            waiting.join().await,
            Err(ConnectionError::PeerDisconnected { .. })
        ));
    });
}

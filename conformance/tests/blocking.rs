//! The blocking driver itself: deadlines, end of stream, and both engines over TCP.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use sansh_conformance::blocking::{DriveError, Driver};
use sansh_core::crypto::SystemRandom;
use sansh_core::keys::{KeyType, PrivateKey};
use sansh_core::{
    ClientConfig, ClientConnection, ConnectionError, Event, ServerConfig, ServerConnection,
};

fn listener() -> (TcpListener, std::net::SocketAddr) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("listener address");
    (listener, addr)
}

fn client_driver(stream: TcpStream, timeout: Duration) -> Driver<ClientConnection> {
    let client = ClientConnection::new(ClientConfig::default(), Instant::now());
    Driver::new(client, stream, timeout).expect("socket options")
}

#[test]
fn silent_peer_ends_in_deadline_error_not_a_hang() {
    // The kernel completes the TCP handshake; nobody ever speaks SSH.
    let (_listener, addr) = listener();
    let stream = TcpStream::connect(addr).expect("connect");
    let mut driver = client_driver(stream, Duration::from_millis(300));
    let started = Instant::now();
    let result = driver.run(|_, _| ControlFlow::<()>::Continue(()));
    assert!(matches!(result, Err(DriveError::Deadline(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn peer_closing_the_socket_reports_connection_lost() {
    let (listener, addr) = listener();
    let stream = TcpStream::connect(addr).expect("connect");
    let (accepted, _) = listener.accept().expect("accept");
    drop(accepted);
    let mut driver = client_driver(stream, Duration::from_secs(10));
    let mut closed_event = None;
    let result = driver.run(|_, event| {
        if let Event::Closed(error) = event {
            closed_event = Some(error);
        }
        ControlFlow::<()>::Continue(())
    });
    assert_eq!(closed_event, Some(ConnectionError::ConnectionLost));
    assert!(
        matches!(
            result,
            Err(DriveError::Closed(ConnectionError::ConnectionLost))
        ),
        "{result:?}"
    );
}

#[test]
fn our_client_and_server_rekey_over_tcp() {
    let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SystemRandom).expect("key");
    let config = Arc::new(ServerConfig {
        host_keys: vec![key],
        ..ServerConfig::default()
    });
    let (listener, addr) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let engine = ServerConnection::new(config, Instant::now()).expect("server config");
        let mut driver = Driver::new(engine, stream, Duration::from_secs(30)).expect("socket");
        // Serves until the client leaves; the rekeys happen along the way.
        let end = driver.run(|_, _| ControlFlow::<()>::Continue(()));
        (end, driver.engine().key_exchanges())
    });

    let mut client = client_driver(
        TcpStream::connect(addr).expect("connect"),
        Duration::from_secs(30),
    );
    client.engine_mut().request_service("ssh-userauth");
    let service = client
        .run(|client, event| match event {
            Event::HostKey(decision) => {
                client.accept_host_key(decision);
                ControlFlow::Continue(())
            }
            Event::ServiceAccepted(name) => ControlFlow::Break(name),
            _ => ControlFlow::Continue(()),
        })
        .expect("service accepted");
    assert_eq!(service, "ssh-userauth");
    for _ in 0..2 {
        client.engine_mut().rekey(Instant::now());
        client
            .run(|_, event| match event {
                Event::KeyExchangeComplete { rekey: true, .. } => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            })
            .expect("rekey completes");
    }
    assert_eq!(client.engine().key_exchanges(), 3);
    client
        .engine_mut()
        .disconnect(sansh_core::DisconnectReason::ByApplication, "test finished");
    client.close().expect("clean close");

    let (end, server_kex) = server.join().expect("server thread");
    assert_eq!(server_kex, 3);
    assert!(
        matches!(
            end,
            Err(DriveError::Closed(ConnectionError::PeerDisconnected { .. }))
        ),
        "{end:?}"
    );
}

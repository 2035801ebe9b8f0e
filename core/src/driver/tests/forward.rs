//! Forwarding through two drivers on the in-memory network: direct-tcpip and
//! direct-streamlocal, local, remote and SOCKS forwards, agent forwarding and a
//! jump, with open failures and their reason codes.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::Poll;

use futures_io::{AsyncRead, AsyncWrite};
use zeroize::Zeroizing;

use super::*;
use crate::auth::AuthMethod;
use crate::authorized_keys::KeyOptions;
use crate::channel::{ChannelKind, ChannelRequest, OpenFailureReason};
use crate::driver::forward::{
    Endpoint, ForwardError, ForwardingPolicy, Originator, ServerForwarding,
};
use crate::driver::{AuthDecision, ByteStream, ChannelError, Login, connect_with};

struct User;

impl ClientHandler for User {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        true
    }

    async fn password(&self, _user: &str) -> Option<Zeroizing<String>> {
        Some(Zeroizing::new("secret".into()))
    }
}

struct Accounts;

impl ServerHandler for Accounts {
    async fn auth_password(&self, _user: &str, _password: &str) -> AuthDecision {
        AuthDecision::Accept
    }
}

const ORIGIN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);

/// Runs a server connection's forwarding under `policy`: global requests, direct
/// channels, and sessions whose `auth-agent-req@openssh.com` gets an agent socket,
/// whose path the session's `exec` prints.
fn serve(rt: &TestRuntime, server: Connection<ServerConnection>, policy: ForwardingPolicy) {
    let forwarding = ServerForwarding::new(&server, policy);
    forwarding.serve_global_requests();
    let runtime = rt.handle();
    let spawner = runtime.clone();
    runtime.spawn(Box::pin(async move {
        while let Some(open) = server.accept_channel().await {
            let Some(open) = forwarding.handle_channel(open) else {
                continue;
            };
            let Ok(channel) = open.accept() else { continue };
            let forwarding = forwarding.clone();
            spawner.spawn(Box::pin(async move {
                let requests = channel.requests();
                let (_reader, mut writer) = channel.split();
                let mut agent = None;
                while let Some(request) = requests.next().await {
                    match request.request() {
                        ChannelRequest::AuthAgent => {
                            agent = forwarding.agent_socket().await.ok();
                            request.accept();
                        }
                        ChannelRequest::Exec { .. } => {
                            request.accept();
                            let path = agent.as_ref().map(|a| a.path().display().to_string());
                            write_all(&mut writer, path.unwrap_or_default().as_bytes()).await;
                            let _ = writer.send_exit_status(0);
                            writer.close_channel();
                        }
                        _ => request.reject(),
                    }
                }
                drop(agent);
            }));
        }
    }));
}

/// An authenticated client, and its server serving forwarding under `policy`.
async fn forwarding_pair(rt: &TestRuntime, policy: ForwardingPolicy) -> Connection {
    let (client, server) = logged_in(rt).await;
    serve(rt, server, policy);
    client
}

async fn logged_in(rt: &TestRuntime) -> (Connection, Connection<ServerConnection>) {
    let (client_end, server_end) = duplex(64 * 1024);
    let server = spawn_join(
        rt,
        accept_engine(
            rt.handle(),
            server_end,
            server_engine(TransportConfig::default()),
            Accounts,
        ),
    );
    let client = connect_engine(
        rt.handle(),
        client_end,
        client_engine(ClientConfig::default()),
        User,
    )
    .await
    .unwrap();
    let server = server.join().await.unwrap();
    let login = Login::new("alice").methods(&[AuthMethod::Password]);
    client.authenticate(&login, &User).await.unwrap();
    server.authenticated().await.unwrap();
    (client, server)
}

async fn write_all(mut writer: impl AsyncWrite + Unpin, mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut writer).poll_write(cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
}

async fn close_writer(mut writer: impl AsyncWrite + Unpin) {
    poll_fn(|cx| Pin::new(&mut writer).poll_close(cx))
        .await
        .unwrap();
}

async fn read_to_end(mut reader: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf))
            .await
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Writes `data`, closes the writing half, and reads everything back: what an
/// echo server returns proves each byte went both ways and EOF was passed on.
/// Writing and reading go on together, as an echo needs.
async fn round_trip(mut stream: impl AsyncRead + AsyncWrite + Unpin, data: &[u8]) -> Vec<u8> {
    let (mut sent, mut closed, mut eof) = (0, false, false);
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    poll_fn(|cx| {
        loop {
            let mut progress = false;
            if sent < data.len() {
                if let Poll::Ready(n) = Pin::new(&mut stream).poll_write(cx, &data[sent..]) {
                    sent += n.unwrap();
                    progress = true;
                }
            } else if !closed {
                if let Poll::Ready(r) = Pin::new(&mut stream).poll_close(cx) {
                    r.unwrap();
                    closed = true;
                    progress = true;
                }
            }
            if !eof {
                if let Poll::Ready(n) = Pin::new(&mut stream).poll_read(cx, &mut buf) {
                    let n = n.unwrap();
                    eof = n == 0;
                    out.extend_from_slice(&buf[..n]);
                    progress = true;
                }
            }
            if eof && closed {
                return Poll::Ready(());
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await;
    out
}

/// Polls two futures to completion together.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        match (ra.take(), rb.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (ra, rb) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}

/// Polls a listener for its next stream.
type NextStream = Box<dyn FnMut(&mut std::task::Context<'_>) -> Poll<Box<dyn ByteStream>> + Send>;

/// Echoes every connection on `port` (or the Unix socket `path`): reads until
/// EOF, writing back as it goes, then closes.
fn echo_server(rt: &TestRuntime, listen: Endpoint) {
    let runtime = rt.handle();
    let spawner = runtime.clone();
    runtime.spawn(Box::pin(async move {
        let mut next: NextStream = match listen {
            Endpoint::Tcp { port, .. } => {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                let (mut acceptor, _) = spawner.listen_tcp(addr).await.unwrap();
                Box::new(move |cx| acceptor.poll_accept(cx).map(|r| r.unwrap().0))
            }
            Endpoint::Unix(path) => {
                let mut acceptor = spawner.listen_unix(PathBuf::from(path)).await.unwrap();
                Box::new(move |cx| acceptor.poll_accept(cx).map(|r| r.unwrap()))
            }
        };
        loop {
            let stream = poll_fn(&mut next).await;
            spawner.spawn(Box::pin(async move {
                let (reader, writer) = split(stream);
                let _ = crate::driver::forward::relay(reader, writer).await;
            }));
        }
    }));
}

/// An echo: a stream relayed to itself through a loopback pair of halves.
fn split(stream: Box<dyn ByteStream>) -> (Box<dyn ByteStream>, Loopback) {
    (stream, Loopback::default())
}

/// A stream that gives back what is written to it, EOF after close.
#[derive(Default)]
struct Loopback {
    data: std::collections::VecDeque<u8>,
    closed: bool,
    reader: Option<std::task::Waker>,
}

impl AsyncRead for Loopback {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.data.is_empty() {
            if self.closed {
                return std::task::Poll::Ready(Ok(0));
            }
            self.reader = Some(cx.waker().clone());
            return std::task::Poll::Pending;
        }
        let n = buf.len().min(self.data.len());
        for (slot, byte) in buf.iter_mut().zip(self.data.drain(..n)) {
            *slot = byte;
        }
        std::task::Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Loopback {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.data.extend(buf);
        if let Some(waker) = self.reader.take() {
            waker.wake();
        }
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.closed = true;
        if let Some(waker) = self.reader.take() {
            waker.wake();
        }
        std::task::Poll::Ready(Ok(()))
    }
}

/// Bytes that differ at every offset, so that a lost or reordered chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn tcp(host: &str, port: u16) -> Endpoint {
    Endpoint::Tcp {
        host: host.into(),
        port,
    }
}

fn open_failure<T: std::fmt::Debug>(
    result: Result<T, ChannelError>,
) -> (OpenFailureReason, String) {
    match result {
        Err(ChannelError::OpenFailed {
            reason,
            description,
        }) => (reason, description),
        other => panic!("expected an open failure, got {other:?}"),
    }
}

#[test]
fn direct_tcpip_carries_a_mebibyte_both_ways_intact() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        echo_server(&rt, tcp("localhost", 7));
        let channel = client
            .open_direct_tcpip("localhost", 7, ORIGIN)
            .await
            .unwrap();
        let data = pattern(1 << 20);
        assert!(round_trip(channel, &data).await == data);
    });
}

#[test]
fn direct_streamlocal_reaches_a_unix_socket_on_the_server() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        echo_server(&rt, Endpoint::Unix("/run/echo.sock".into()));
        let channel = client
            .open_direct_streamlocal("/run/echo.sock")
            .await
            .unwrap();
        assert_eq!(
            round_trip(channel, b"over a unix socket").await,
            b"over a unix socket"
        );
    });
}

#[test]
fn a_target_nobody_listens_on_fails_with_connect_failed() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        let (reason, description) =
            open_failure(client.open_direct_tcpip("localhost", 9, ORIGIN).await);
        assert_eq!(reason, OpenFailureReason::ConnectFailed);
        assert!(description.contains("connect failed"), "{description}");
    });
}

#[test]
fn permitopen_refuses_other_targets_as_administratively_prohibited() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let options = KeyOptions::parse(r#"permitopen="localhost:7""#).unwrap();
        let policy = ForwardingPolicy::allow_all().with_key_options(&options.permissions);
        let client = forwarding_pair(&rt, policy).await;
        echo_server(&rt, tcp("localhost", 7));
        echo_server(&rt, tcp("localhost", 8));
        let (reason, description) =
            open_failure(client.open_direct_tcpip("localhost", 8, ORIGIN).await);
        assert_eq!(reason, OpenFailureReason::AdministrativelyProhibited);
        assert_eq!(description, "permitopen does not allow localhost:8");
        let allowed = client
            .open_direct_tcpip("localhost", 7, ORIGIN)
            .await
            .unwrap();
        assert_eq!(round_trip(allowed, b"ok").await, b"ok");
    });
}

#[test]
fn no_port_forwarding_refuses_direct_channels_and_remote_forwards() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let options = KeyOptions::parse("no-port-forwarding").unwrap();
        let policy = ForwardingPolicy::allow_all().with_key_options(&options.permissions);
        let client = forwarding_pair(&rt, policy).await;
        let (reason, _) = open_failure(client.open_direct_streamlocal("/run/x").await);
        assert_eq!(reason, OpenFailureReason::AdministrativelyProhibited);
        let refused = client
            .forward_remote_port("localhost", 0, tcp("localhost", 7))
            .await;
        assert!(
            matches!(refused, Err(ForwardError::Refused("tcpip-forward"))),
            "{refused:?}"
        );
    });
}

#[test]
fn local_forward_on_port_zero_reports_its_port_and_forwards_with_half_close() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        echo_server(&rt, tcp("localhost", 7));
        let forward = client
            .forward_local_port("127.0.0.1:0".parse().unwrap(), "localhost", 7)
            .await
            .unwrap();
        let port = forward.local_addr().unwrap().port();
        assert_ne!(port, 0);
        let data = pattern(300 * 1024);
        for _ in 0..3 {
            let stream = rt.net().connect_tcp(port).unwrap();
            assert!(round_trip(stream, &data).await == data);
        }
        forward.close();
        until(|| !rt.net().is_bound(&format!("tcp:{port}"))).await;
    });
}

#[test]
fn a_local_forward_to_a_refused_target_closes_the_accepted_connection() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let options = KeyOptions::parse(r#"permitopen="localhost:7""#).unwrap();
        let policy = ForwardingPolicy::allow_all().with_key_options(&options.permissions);
        let client = forwarding_pair(&rt, policy).await;
        let forward = client
            .forward_local_port("127.0.0.1:0".parse().unwrap(), "localhost", 22)
            .await
            .unwrap();
        let stream = rt
            .net()
            .connect_tcp(forward.local_addr().unwrap().port())
            .unwrap();
        assert_eq!(read_to_end(stream).await, b"");
    });
}

#[test]
fn local_forward_from_a_unix_socket() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        echo_server(&rt, tcp("localhost", 7));
        let listen = std::path::Path::new("/tmp/local.sock");
        let _forward = client
            .forward_local_path(listen, tcp("localhost", 7))
            .await
            .unwrap();
        let stream = rt.net().connect_unix(listen.into()).unwrap();
        assert_eq!(round_trip(stream, b"unix to tcp").await, b"unix to tcp");
    });
}

#[test]
fn remote_forward_on_port_zero_connects_each_connection_to_the_target() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        echo_server(&rt, tcp("localhost", 7));
        let forward = client
            .forward_remote_port("localhost", 0, tcp("localhost", 7))
            .await
            .unwrap();
        let port = u16::try_from(forward.bound_port().unwrap()).unwrap();
        assert_ne!(port, 0);
        let data = pattern(200 * 1024);
        // The server's listener is on the same in-memory network as the target.
        let stream = rt.net().connect_tcp(port).unwrap();
        assert!(round_trip(stream, &data).await == data);
        forward.cancel().await.unwrap();
        until(|| !rt.net().is_bound(&format!("tcp:{port}"))).await;
    });
}

#[test]
fn dropping_a_remote_forward_cancels_it_on_the_server() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        let forward = client
            .forward_remote_port("localhost", 6000, tcp("localhost", 7))
            .await
            .unwrap();
        assert_eq!(forward.bound_port(), Some(6000));
        assert!(rt.net().is_bound("tcp:6000"));
        drop(forward);
        until(|| !rt.net().is_bound("tcp:6000")).await;
    });
}

#[test]
fn a_remote_forward_to_a_dead_target_refuses_the_channel_and_closes_the_connection() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        let forward = client
            .forward_remote_port("localhost", 0, tcp("localhost", 9))
            .await
            .unwrap();
        let port = u16::try_from(forward.bound_port().unwrap()).unwrap();
        let stream = rt.net().connect_tcp(port).unwrap();
        assert_eq!(read_to_end(stream).await, b"");
    });
}

#[test]
fn a_remote_listener_hands_connections_to_the_application_with_their_origin() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        let listener = client.listen_remote_port("localhost", 0).await.unwrap();
        let port = u16::try_from(listener.bound_port().unwrap()).unwrap();
        let stream = rt.net().connect_tcp(port).unwrap();
        let talk = async {
            let mut stream = stream;
            write_all(&mut stream, b"hello").await;
            close_writer(&mut stream).await;
            read_to_end(stream).await
        };
        let serve = async {
            let (mut channel, origin) = listener.accept().await.unwrap();
            assert!(
                matches!(origin, Originator::Tcp { ref address, .. } if address == "127.0.0.1")
            );
            let got = read_to_end(&mut channel).await;
            write_all(&mut channel, &got).await;
            write_all(&mut channel, b", world").await;
            close_writer(&mut channel).await;
        };
        assert_eq!(join(talk, serve).await.0, b"hello, world");
    });
}

#[test]
fn remote_forward_of_a_unix_socket() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        echo_server(&rt, Endpoint::Unix("/tmp/target.sock".into()));
        let _forward = client
            .forward_remote_path(
                "/run/remote.sock",
                Endpoint::Unix("/tmp/target.sock".into()),
            )
            .await
            .unwrap();
        let stream = rt.net().connect_unix("/run/remote.sock".into()).unwrap();
        assert_eq!(round_trip(stream, b"back").await, b"back");
    });
}

#[test]
fn permitlisten_refuses_other_ports() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let options = KeyOptions::parse(r#"permitlisten="localhost:6000""#).unwrap();
        let policy = ForwardingPolicy::allow_all().with_key_options(&options.permissions);
        let client = forwarding_pair(&rt, policy).await;
        let refused = client.listen_remote_port("localhost", 6001).await;
        assert!(
            matches!(refused, Err(ForwardError::Refused(_))),
            "{refused:?}"
        );
        assert!(client.listen_remote_port("localhost", 6000).await.is_ok());
    });
}

#[test]
fn socks5_connect_to_a_domain_name_and_socks4_to_an_address() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        echo_server(&rt, tcp("localhost", 7));
        let socks = client
            .forward_socks("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let port = socks.local_addr().unwrap().port();

        let mut v5 = rt.net().connect_tcp(port).unwrap();
        let mut hello = vec![5, 1, 0, 5, 1, 0, 3, 9];
        hello.extend_from_slice(b"localhost");
        hello.extend_from_slice(&[0, 7]);
        hello.extend_from_slice(b"via socks5");
        write_all(&mut v5, &hello).await;
        close_writer(&mut v5).await;
        let answer = read_to_end(v5).await;
        assert_eq!(&answer[..2], [5, 0]);
        assert_eq!(&answer[2..4], [5, 0]);
        assert_eq!(&answer[12..], b"via socks5");

        let mut v4 = rt.net().connect_tcp(port).unwrap();
        write_all(&mut v4, &[4, 1, 0, 7, 127, 0, 0, 1, 0]).await;
        write_all(&mut v4, b"via socks4").await;
        close_writer(&mut v4).await;
        let answer = read_to_end(v4).await;
        assert_eq!(&answer[..2], [0, 90]);
        assert_eq!(&answer[8..], b"via socks4");
    });
}

#[test]
fn a_socks_connect_the_server_refuses_gets_a_failure_reply() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        let socks = client
            .forward_socks("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let mut v5 = rt
            .net()
            .connect_tcp(socks.local_addr().unwrap().port())
            .unwrap();
        write_all(&mut v5, &[5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 9]).await;
        let answer = read_to_end(v5).await;
        assert_eq!(answer, [5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    });
}

#[test]
fn agent_channels_from_the_server_reach_the_local_agent() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let client = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        // The "agent" echoes, which is enough to see bytes go both ways.
        echo_server(&rt, Endpoint::Unix("/home/alice/agent.sock".into()));
        let mut session = client.open_session().await.unwrap();
        let _forwarding = session
            .request_agent_forwarding_to("/home/alice/agent.sock".into())
            .unwrap();
        session.exec("print SSH_AUTH_SOCK").await.unwrap();
        let socket = String::from_utf8(read_to_end(&mut session).await).unwrap();
        assert!(socket.ends_with("agent.sock"), "{socket:?}");
        let stream = rt.net().connect_unix(socket.into()).unwrap();
        assert_eq!(
            round_trip(stream, b"\0\0\0\x01\x0b").await,
            b"\0\0\0\x01\x0b"
        );
    });
}

#[test]
fn agent_forwarding_refused_by_the_policy_gives_no_socket() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let options = KeyOptions::parse("no-agent-forwarding").unwrap();
        let policy = ForwardingPolicy::allow_all().with_key_options(&options.permissions);
        let client = forwarding_pair(&rt, policy).await;
        let mut session = client.open_session().await.unwrap();
        let _forwarding = session
            .request_agent_forwarding_to("/agent".into())
            .unwrap();
        session.exec("print SSH_AUTH_SOCK").await.unwrap();
        assert_eq!(read_to_end(&mut session).await, b"");
    });
}

#[test]
fn a_server_agent_channel_is_refused_without_agent_forwarding() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let forwarding = ServerForwarding::new(&server, ForwardingPolicy::allow_all());
        forwarding.serve_global_requests();
        // A remote forward routes the server's channels; agent ones have nowhere to go.
        let _listener = client.listen_remote_port("localhost", 0).await.unwrap();
        let (reason, description) = open_failure(server.open_channel(ChannelKind::AuthAgent).await);
        assert_eq!(reason, OpenFailureReason::AdministrativelyProhibited);
        assert_eq!(description, "agent forwarding is not enabled");
    });
}

#[test]
fn a_jump_runs_a_second_connection_over_a_direct_tcpip_channel() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let bastion = forwarding_pair(&rt, ForwardingPolicy::allow_all()).await;
        // The inner server listens on port 22 of the in-memory network.
        let runtime = rt.handle();
        let spawner = runtime.clone();
        let inner_rt = rt.clone();
        let (mut acceptor, _) = runtime
            .listen_tcp("127.0.0.1:22".parse().unwrap())
            .await
            .unwrap();
        runtime.spawn(Box::pin(async move {
            let (stream, _) = poll_fn(|cx| acceptor.poll_accept(cx)).await.unwrap();
            let engine = server_engine(TransportConfig::default());
            let inner = accept_engine(spawner.clone(), stream, engine, Accounts)
                .await
                .unwrap();
            serve(&inner_rt, inner, ForwardingPolicy::deny_all());
        }));
        let tunnel = bastion
            .open_direct_tcpip("inner", 22, ORIGIN)
            .await
            .unwrap();
        let inner = connect_with(rt.handle(), tunnel, ClientConfig::default(), User)
            .await
            .unwrap();
        let login = Login::new("alice").methods(&[AuthMethod::Password]);
        inner.authenticate(&login, &User).await.unwrap();
        assert!(inner.session_id().is_some());
        assert_ne!(inner.session_id(), bastion.session_id());
    });
}

#[test]
fn closing_the_target_side_ends_the_forwarded_connection() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let runtime = rt.handle();
        runtime.spawn(Box::pin(async move {
            // The server side opens a forwarded channel itself and closes it at once.
            let open = server.accept_channel().await.unwrap();
            let mut channel = open.accept().unwrap();
            write_all(&mut channel, b"bye").await;
            channel.close();
            channel.wait_closed().await.unwrap();
        }));
        let channel = client
            .open_direct_tcpip("anything", 1, ORIGIN)
            .await
            .unwrap();
        assert_eq!(read_to_end(channel).await, b"bye");
    });
}

#[test]
fn a_remote_forward_asked_before_the_policy_is_given_waits_for_it() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let forwarding = ServerForwarding::pending(&server);
        forwarding.serve_global_requests();
        let asking = spawn_join(&rt, async move {
            client
                .listen_remote_port("localhost", 7000)
                .await
                .map(|l| l.bound_port())
        });
        rt.sleep(std::time::Duration::from_secs(5)).await;
        assert!(!asking.is_done(), "answered before the policy was given");
        forwarding.set_policy(ForwardingPolicy::allow_all());
        assert_eq!(asking.join().await.unwrap(), Some(7000));
    });
}

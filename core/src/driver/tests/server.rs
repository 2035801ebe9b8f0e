//! The server's side of channels through the driver: accepting channel opens,
//! serving session requests, global requests, the bounded queues, and a client's
//! refusal of channel kinds it never asked for. Both sides are drivers.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use zeroize::Zeroizing;

use super::*;
use crate::auth::AuthMethod;
use crate::channel::{ChannelKind, ChannelRequest, GlobalRequest, OpenFailureReason, PtyRequest};
use crate::config::ServerConfig;
use crate::driver::{
    AuthDecision, Channel, ChannelError, ChannelRequests, ExitSignal, Login,
    MAX_PENDING_GLOBAL_REQUESTS, MAX_PENDING_OPENS, MAX_PENDING_REQUESTS,
};
use crate::error::{ConnectionError, PeerMisbehaved};

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
    async fn auth_password(&self, _user: &str, password: &str) -> AuthDecision {
        if password == "secret" {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }
}

type Server = Connection<ServerConnection>;
type Seen = Arc<Mutex<Vec<ChannelRequest>>>;

/// An authenticated client and its server, both plain drivers, with `client` and
/// `server` connection settings.
async fn logged_in_with(
    rt: &TestRuntime,
    client: ClientConfig,
    server: Arc<ServerConfig>,
) -> (Connection, Server) {
    let (client_end, server_end) = duplex(64 * 1024);
    let engine =
        ServerConnection::with_rng(server, Box::new(SeededRandom::new(2)), epoch()).unwrap();
    let server = spawn_join(rt, accept_engine(rt.handle(), server_end, engine, Accounts));
    let client = connect_engine(rt.handle(), client_end, client_engine(client), User)
        .await
        .unwrap();
    let server = server.join().await.unwrap();
    let login = Login::new("alice").methods(&[AuthMethod::Password]);
    client.authenticate(&login, &User).await.unwrap();
    server.authenticated().await.unwrap();
    (client, server)
}

async fn logged_in(rt: &TestRuntime) -> (Connection, Server) {
    let server = crate::tests::ed25519_server(TransportConfig::default());
    logged_in_with(rt, ClientConfig::default(), server).await
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

async fn read_some(mut reader: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut buf = vec![0; 64 * 1024];
    let n = poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf))
        .await
        .unwrap();
    buf.truncate(n);
    buf
}

async fn read_to_end(mut reader: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let chunk = read_some(&mut reader).await;
        if chunk.is_empty() {
            return out;
        }
        out.extend_from_slice(&chunk);
    }
}

/// The test server's session: accepts `pty-req` and `env`, refuses the rest, and
/// runs `exec` commands: `script` (stdout, stderr, exit 7), `cat` (echo through
/// the split halves, exit 0), `wait-signal` (dies of the first signal sent).
async fn serve_session(channel: Channel<ServerConnection>, seen: Seen) {
    let requests = channel.requests();
    while let Some(request) = requests.next().await {
        seen.lock().unwrap().push(request.request().clone());
        match request.request().clone() {
            ChannelRequest::Pty(_) | ChannelRequest::Env { .. } => request.accept(),
            ChannelRequest::Exec { command } => {
                request.accept();
                return run_command(channel, requests, &command, seen).await;
            }
            _ => request.reject(),
        }
    }
}

async fn run_command(
    mut channel: Channel<ServerConnection>,
    requests: ChannelRequests<ServerConnection>,
    command: &[u8],
    seen: Seen,
) {
    match command {
        b"script" => {
            write_all(&mut channel, b"out\n").await;
            write_all(channel.stderr(), b"err\n").await;
            channel.send_exit_status(7).unwrap();
            close_writer(&mut channel).await;
        }
        b"cat" => {
            let (mut reader, mut writer) = channel.split();
            loop {
                let chunk = read_some(&mut reader).await;
                if chunk.is_empty() {
                    break;
                }
                write_all(&mut writer, &chunk).await;
            }
            writer.send_exit_status(0).unwrap();
            close_writer(&mut writer).await;
        }
        b"wait-signal" => {
            while let Some(request) = requests.next().await {
                let name = match request.request() {
                    ChannelRequest::Signal { name } => Some(name.clone()),
                    _ => None,
                };
                seen.lock().unwrap().push(request.request().clone());
                if let Some(name) = name {
                    channel.send_exit_signal(&name, false, "signalled").unwrap();
                    return;
                }
            }
        }
        _ => channel.send_exit_status(127).unwrap(),
    }
}

/// Accepts every channel the client opens and serves it as a session.
fn spawn_sessions(rt: &TestRuntime, server: &Server) -> Seen {
    let seen = Seen::default();
    let (conn, record, handle) = (server.clone(), seen.clone(), rt.clone());
    crate::driver::Runtime::spawn(
        rt,
        Box::pin(async move {
            while let Some(incoming) = conn.accept_channel().await {
                assert_eq!(incoming.kind(), &ChannelKind::Session);
                let channel = incoming.accept().unwrap();
                let session = serve_session(channel, record.clone());
                crate::driver::Runtime::spawn(&handle, Box::pin(session));
            }
        }),
    );
    seen
}

#[test]
fn run_against_a_driver_server_collects_stdout_stderr_and_the_exit_status() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        spawn_sessions(&rt, &server);
        let output = client.run("script").await.unwrap();
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        assert_eq!(output.exit_status, Some(7));
        assert_eq!(output.exit_signal, None);
    });
}

#[test]
fn pty_env_and_exec_reach_the_server_in_order_and_are_answered() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let seen = spawn_sessions(&rt, &server);
        let mut channel = client.open_session().await.unwrap();
        let pty = PtyRequest {
            term: "xterm".into(),
            cols: 80,
            rows: 24,
            width_px: 0,
            height_px: 0,
            modes: crate::channel::TerminalModes::new(),
        };
        channel.request_pty(&pty).await.unwrap();
        channel.env("LANG", "C").await.unwrap();
        assert!(matches!(
            channel.subsystem("sftp").await,
            Err(ChannelError::Refused("subsystem"))
        ));
        channel.exec("script").await.unwrap();
        let stdout = read_to_end(&mut channel).await;
        channel.wait_closed().await.unwrap();
        assert_eq!(
            (stdout.as_slice(), channel.exit_status()),
            (&b"out\n"[..], Some(7))
        );
        let names: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.name().to_owned())
            .collect();
        assert_eq!(names, ["pty-req", "env", "subsystem", "exec"]);
        assert_eq!(seen.lock().unwrap()[0], ChannelRequest::Pty(pty));
    });
}

#[test]
fn data_through_split_halves_echoes_back_intact() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        spawn_sessions(&rt, &server);
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        let (reader, mut writer) = channel.split();
        // More than a window, so both sides block on the window and resume.
        let data: Vec<u8> = (0..3 * 1024 * 1024 + 5).map(|i| (i % 253) as u8).collect();
        let echo = spawn_join(&rt, read_to_end(reader));
        write_all(&mut writer, &data).await;
        close_writer(&mut writer).await;
        let echoed = echo.join().await;
        assert!(echoed == data, "echo differs ({} bytes)", echoed.len());
    });
}

#[test]
fn signals_and_window_changes_arrive_on_the_servers_requests() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let seen = spawn_sessions(&rt, &server);
        let mut channel = client.open_session().await.unwrap();
        channel.exec("wait-signal").await.unwrap();
        channel.change_terminal_size(100, 40, 0, 0).unwrap();
        channel.send_signal("INT").unwrap();
        channel.wait_closed().await.unwrap();
        let signal = ExitSignal {
            name: "INT".into(),
            core_dumped: false,
            message: "signalled".into(),
        };
        assert_eq!(channel.exit_signal(), Some(signal));
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen[1..],
            [
                ChannelRequest::WindowChange {
                    cols: 100,
                    rows: 40,
                    width_px: 0,
                    height_px: 0
                },
                ChannelRequest::Signal { name: "INT".into() },
            ]
        );
    });
}

#[test]
fn a_server_that_never_accepts_channels_still_rekeys_and_answers_keepalives() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let mut client_config = ClientConfig::default();
        client_config.connection.keepalive_interval = Some(Duration::from_secs(10));
        let server_config = crate::tests::ed25519_server(TransportConfig::default());
        let (client, server) = logged_in_with(&rt, client_config, server_config).await;
        let opener = client.clone();
        let open = spawn_join(&rt, async move { opener.open_session().await.map(drop) });
        until(|| server.lock().incoming_opens.len() == 1).await;
        // Ten keepalive rounds, each answered although the open is never taken.
        rt.sleep(Duration::from_secs(100)).await;
        assert!(!client.is_closed() && !server.is_closed());
        client.rekey().await.unwrap();
        server.rekey().await.unwrap();
        assert!(!open.is_done(), "the open waits for the server's answer");
    });
}

#[test]
fn opens_past_the_queue_bound_are_refused_with_resource_shortage() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let mut waiting = Vec::new();
        for _ in 0..MAX_PENDING_OPENS {
            let opener = client.clone();
            waiting.push(spawn_join(&rt, async move {
                opener.open_session().await.map(drop)
            }));
        }
        until(|| server.lock().incoming_opens.len() == MAX_PENDING_OPENS).await;
        match client.open_session().await {
            Err(ChannelError::OpenFailed { reason, .. }) => {
                assert_eq!(reason, OpenFailureReason::ResourceShortage);
            }
            other => panic!("the open past the bound got {other:?}"),
        }
        // The queued ones are still there to accept.
        let first = server.accept_channel().await.unwrap();
        first.accept().unwrap();
        until(|| waiting.iter().any(Join::is_done)).await;
    });
}

#[test]
fn a_dropped_incoming_channel_refuses_the_open() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let acceptor = server.clone();
        spawn_join(&rt, async move { drop(acceptor.accept_channel().await) });
        match client.open_session().await {
            Err(ChannelError::OpenFailed { reason, .. }) => {
                assert_eq!(reason, OpenFailureReason::AdministrativelyProhibited);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    });
}

#[test]
fn a_dropped_incoming_request_answers_failure() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let acceptor = server.clone();
        spawn_join(&rt, async move {
            let channel = acceptor.accept_channel().await.unwrap().accept().unwrap();
            let requests = channel.requests();
            while let Some(request) = requests.next().await {
                drop(request);
            }
        });
        let mut channel = client.open_session().await.unwrap();
        assert!(matches!(
            channel.env("A", "b").await,
            Err(ChannelError::Refused("env"))
        ));
    });
}

#[test]
fn split_halves_close_the_channel_only_once_both_are_dropped() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let acceptor = server.clone();
        let halves = spawn_join(&rt, async move {
            acceptor
                .accept_channel()
                .await
                .unwrap()
                .accept()
                .unwrap()
                .split()
        });
        let mut channel = client.open_session().await.unwrap();
        let (reader, mut writer) = halves.join().await;
        drop(reader);
        write_all(&mut writer, b"still open").await;
        assert_eq!(read_some(&mut channel).await, b"still open");
        rt.sleep(Duration::from_secs(1)).await;
        assert!(!client.lock().channels[&channel.id()].closed);
        drop(writer);
        channel.wait_closed().await.unwrap();
    });
}

#[test]
fn a_tcpip_forward_of_port_0_is_accepted_with_the_bound_port() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let acceptor = server.clone();
        spawn_join(&rt, async move {
            while let Some(request) = acceptor.accept_global_request().await {
                match request.request() {
                    GlobalRequest::TcpipForward { port: 0, .. } => request.accept(Some(4242)),
                    _ => drop(request),
                }
            }
        });
        let forward = GlobalRequest::TcpipForward {
            address: "localhost".into(),
            port: 0,
        };
        let reply = client.global_request(forward).await.unwrap();
        assert!(reply.success);
        assert_eq!(reply.bound_port, Some(4242));
        let cancel = GlobalRequest::CancelTcpipForward {
            address: "localhost".into(),
            port: 4242,
        };
        assert!(!client.global_request(cancel).await.unwrap().success);
    });
}

#[test]
fn global_requests_are_refused_until_the_application_serves_them() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let forward = GlobalRequest::TcpipForward {
            address: "localhost".into(),
            port: 22,
        };
        let reply = client.global_request(forward).await.unwrap();
        assert!(!reply.success);
        assert!(server.lock().incoming_globals.is_empty());
    });
}

#[test]
fn a_client_refuses_a_session_opened_by_the_server() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        match server.open_session().await {
            Err(ChannelError::OpenFailed { reason, .. }) => {
                assert_eq!(reason, OpenFailureReason::AdministrativelyProhibited);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(client.lock().incoming_opens.is_empty());
    });
}

#[test]
fn a_client_is_handed_forwarded_tcpip_channels_the_server_opens() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let kind = ChannelKind::ForwardedTcpip {
            address: "localhost".into(),
            port: 8080,
            originator_address: "127.0.0.1".into(),
            originator_port: 50000,
        };
        let acceptor = client.clone();
        let accepted = spawn_join(&rt, async move {
            let incoming = acceptor.accept_channel().await.unwrap();
            let kind = incoming.kind().clone();
            let mut channel = incoming.accept().unwrap();
            write_all(&mut channel, b"hello").await;
            kind
        });
        let mut channel = server.open_channel(kind.clone()).await.unwrap();
        assert_eq!(read_to_end(&mut channel).await, b"hello");
        assert_eq!(accepted.join().await, kind);
    });
}

#[test]
fn a_session_after_no_more_sessions_gets_the_client_disconnected() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        spawn_sessions(&rt, &server);
        let reply = client.global_request(GlobalRequest::NoMoreSessions).await;
        assert!(reply.unwrap().success);
        assert!(client.open_session().await.is_err());
        assert_eq!(
            server.closed().await,
            ConnectionError::PeerMisbehaved(PeerMisbehaved::SessionAfterNoMoreSessions)
        );
    });
}

#[test]
fn requests_past_the_channel_bound_are_answered_failure_after_the_queued_ones() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let acceptor = server.clone();
        let accepted = spawn_join(&rt, async move {
            acceptor.accept_channel().await.unwrap().accept().unwrap()
        });
        let channel = client.open_session().await.unwrap();
        let served = accepted.join().await;
        {
            let mut state = client.lock();
            for i in 0..=MAX_PENDING_REQUESTS {
                let name = format!("V{i}");
                let mut engine_channel = state.engine.channel(channel.id());
                engine_channel.request_env(&name, "x", true).unwrap();
            }
            state.wake_driver();
        }
        // The virtual clock moves only once every task is idle: all have arrived.
        rt.sleep(Duration::from_secs(1)).await;
        let queued = server.lock().channels[&served.id()].requests.len();
        assert_eq!(queued, MAX_PENDING_REQUESTS);
        let requests = served.requests();
        for _ in 0..MAX_PENDING_REQUESTS {
            requests.next().await.unwrap().accept();
        }
        let id = channel.id();
        until(|| client.lock().channels[&id].replies == MAX_PENDING_REQUESTS as u64 + 1).await;
        assert!(
            !client.lock().channels[&id].last_reply,
            "the one past the bound failed"
        );
    });
}

#[test]
fn global_requests_past_the_bound_are_refused() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let acceptor = server.clone();
        let first = spawn_join(&rt, async move { acceptor.accept_global_request().await });
        let forward = |port: u32| GlobalRequest::TcpipForward {
            address: "localhost".into(),
            port,
        };
        let mut replies = Vec::new();
        let requester = client.clone();
        let request = forward(1);
        replies.push(spawn_join(&rt, async move {
            requester.global_request(request).await.unwrap()
        }));
        let first = first.join().await.unwrap();
        for port in 0..=MAX_PENDING_GLOBAL_REQUESTS {
            let requester = client.clone();
            let request = forward(port as u32 + 2);
            replies.push(spawn_join(&rt, async move {
                requester.global_request(request).await.unwrap()
            }));
        }
        // The virtual clock moves only once every task is idle: all have arrived.
        rt.sleep(Duration::from_secs(1)).await;
        assert_eq!(
            server.lock().incoming_globals.len(),
            MAX_PENDING_GLOBAL_REQUESTS
        );
        first.accept(None);
        for _ in 0..MAX_PENDING_GLOBAL_REQUESTS {
            server.accept_global_request().await.unwrap().accept(None);
        }
        let mut successes = Vec::new();
        for reply in replies {
            successes.push(reply.join().await.success);
        }
        let refused: Vec<usize> = (0..successes.len()).filter(|i| !successes[*i]).collect();
        assert_eq!(refused, [MAX_PENDING_GLOBAL_REQUESTS + 1]);
    });
}

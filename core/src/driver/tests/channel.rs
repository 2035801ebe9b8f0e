//! Session channels through the client driver: [`Connection::run`], the channel's
//! byte streams with backpressure, requests, signals and close. The server's side of
//! each channel is played by a test hook driving the server engine's channel API.

use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use zeroize::Zeroizing;

use super::*;
use crate::Event;
use crate::auth::AuthMethod;
use crate::channel::{self, ChannelId, ChannelRequest, PtyRequest, TerminalModes, WriteError};
use crate::driver::{AuthDecision, ChannelError, ExitSignal, Login};

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

/// What the fake server does with a channel after `exec`.
#[derive(Default)]
struct Session {
    /// Echo stdin back to stdout (`cat`).
    echo: bool,
    /// Echoed bytes the window did not take yet.
    pending: Bytes,
}

/// The fake server: accepts sessions; `exec` of `script` prints to stdout and
/// stderr and exits 3, `killed` dies of TERM, `cat` echoes stdin (and stderr)
/// until EOF (or dies of a `signal` TERM); `pty-req` is accepted, `env` refused.
#[derive(Default)]
struct FakeServer {
    sessions: HashMap<ChannelId, Session>,
    /// The names of the requests received, in order.
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeServer {
    fn on_event(&mut self, engine: &mut ServerConnection, event: Event) -> Option<Event> {
        match event {
            Event::ChannelOpenRequest(decision) => {
                let id = engine.channels().accept_open(decision).unwrap();
                self.sessions.insert(id, Session::default());
            }
            Event::ChannelRequest(decision) => {
                let id = decision.channel();
                let name = decision.request().name().to_owned();
                self.requests.lock().unwrap().push(name);
                match decision.request().clone() {
                    ChannelRequest::Exec { command } => {
                        engine.channels().accept_request(decision);
                        self.exec(engine, id, &command);
                    }
                    ChannelRequest::Pty(_) => engine.channels().accept_request(decision),
                    ChannelRequest::Signal { name } => {
                        let mut ch = engine.channel(id);
                        ch.exit_signal(&name, false, "signalled").unwrap();
                        ch.close().unwrap();
                    }
                    _ => engine.channels().reject_request(decision),
                }
            }
            Event::ChannelReadable(id) | Event::ChannelWritable(id) | Event::ChannelEof(id) => {
                self.pump(engine, id);
            }
            Event::ChannelClosed(id) => {
                self.sessions.remove(&id);
                let _ = engine.channel(id).close();
            }
            other => return Some(other),
        }
        None
    }

    fn exec(&mut self, engine: &mut ServerConnection, id: ChannelId, command: &[u8]) {
        let mut ch = engine.channel(id);
        match command {
            b"script" => {
                ch.write(b"hi\n").unwrap();
                ch.write_stderr(b"err\n").unwrap();
                ch.exit_status(3).unwrap();
                ch.eof().unwrap();
                ch.close().unwrap();
            }
            b"killed" => {
                ch.exit_signal("TERM", false, "").unwrap();
                ch.close().unwrap();
            }
            b"cat" => {
                if let Some(session) = self.sessions.get_mut(&id) {
                    session.echo = true;
                }
                self.pump(engine, id);
            }
            _ => {
                ch.exit_status(127).unwrap();
                ch.close().unwrap();
            }
        }
    }

    /// Echoes what was read, never reading more than the window lets it write.
    fn pump(&mut self, engine: &mut ServerConnection, id: ChannelId) {
        let Some(session) = self.sessions.get_mut(&id).filter(|s| s.echo) else {
            return;
        };
        let mut ch = engine.channel(id);
        // Stderr comes back as stderr; tests send only a little of it.
        while let Some(chunk) = ch.read_stderr() {
            ch.write_stderr(&chunk).unwrap();
        }
        loop {
            if !session.pending.is_empty() {
                match ch.write(&session.pending) {
                    Ok(n) => drop(session.pending.split_to(n)),
                    Err(WriteError::Blocked) => return,
                    Err(_) => return,
                }
            } else if let Some(chunk) = ch.read_max(64 * 1024) {
                session.pending = chunk;
            } else {
                break;
            }
        }
        if ch.peer_eof() {
            session.echo = false;
            ch.exit_status(0).unwrap();
            ch.eof().unwrap();
            ch.close().unwrap();
        }
    }
}

/// An authenticated client and its server, whose channels the fake server plays.
async fn logged_in(rt: &TestRuntime) -> (Connection, Connection<ServerConnection>) {
    let (client, server, _) = logged_in_seeing_requests(rt).await;
    (client, server)
}

/// [`logged_in`], with the names of the requests the fake server receives.
async fn logged_in_seeing_requests(
    rt: &TestRuntime,
) -> (
    Connection,
    Connection<ServerConnection>,
    Arc<Mutex<Vec<String>>>,
) {
    let (client_end, server_end) = duplex(64 * 1024);
    let engine = server_engine(TransportConfig::default());
    let server = spawn_join(rt, accept_engine(rt.handle(), server_end, engine, Accounts));
    let client = connect_engine(
        rt.handle(),
        client_end,
        client_engine(ClientConfig::default()),
        User,
    )
    .await
    .unwrap();
    let server = server.join().await.unwrap();
    let mut fake = FakeServer::default();
    let requests = fake.requests.clone();
    server.lock().test_hook = Some(Box::new(move |engine, event| fake.on_event(engine, event)));
    let login = Login::new("alice").methods(&[AuthMethod::Password]);
    client.authenticate(&login, &User).await.unwrap();
    (client, server, requests)
}

/// Writes `data` to the channel while reading it back, then closes the writer
/// (EOF) and reads to the end.
async fn echo_through(channel: &mut crate::driver::Channel, data: &[u8]) -> Vec<u8> {
    let mut written = 0;
    let mut eof_sent = false;
    let mut received = Vec::new();
    let mut buf = vec![0; 48 * 1024];
    poll_fn(|cx| {
        loop {
            let mut progress = false;
            if written < data.len() {
                if let Poll::Ready(n) = Pin::new(&mut *channel).poll_write(cx, &data[written..]) {
                    written += n.unwrap();
                    progress = true;
                }
            } else if !eof_sent {
                assert!(Pin::new(&mut *channel).poll_close(cx).is_ready());
                eof_sent = true;
            }
            match Pin::new(&mut *channel).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(()),
                Poll::Ready(Ok(n)) => {
                    received.extend_from_slice(&buf[..n]);
                    progress = true;
                }
                Poll::Ready(Err(error)) => panic!("read failed: {error}"),
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await;
    received
}

/// Reads a stream to its end.
async fn read_to_end(mut reader: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0; 1024];
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

#[test]
fn run_collects_stdout_stderr_and_the_exit_status() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let output = client.run("script").await.unwrap();
        assert_eq!(output.stdout, b"hi\n");
        assert_eq!(output.stderr, b"err\n");
        assert_eq!(output.exit_status, Some(3));
        assert_eq!(output.exit_signal, None);
    });
}

#[test]
fn run_reports_the_signal_that_killed_the_command() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let output = client.run("killed").await.unwrap();
        let signal = ExitSignal {
            name: "TERM".into(),
            core_dumped: false,
            message: String::new(),
        };
        assert_eq!(
            (output.exit_status, output.exit_signal),
            (None, Some(signal))
        );
    });
}

#[test]
fn data_several_windows_long_echoes_back_intact_through_the_byte_streams() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        // Larger than both 2 MiB windows together, so both sides block and resume.
        let data: Vec<u8> = (0..5 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
        let echoed = echo_through(&mut channel, &data).await;
        assert!(echoed == data, "echo differs ({} bytes)", echoed.len());
        channel.wait_closed().await.unwrap();
        assert_eq!(channel.exit_status(), Some(0));
    });
}

#[test]
fn stderr_is_read_through_its_own_stream() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("script").await.unwrap();
        let stderr = read_to_end(channel.stderr()).await;
        let stdout = read_to_end(&mut channel).await;
        assert_eq!(
            (stdout.as_slice(), stderr.as_slice()),
            (&b"hi\n"[..], &b"err\n"[..])
        );
    });
}

#[test]
fn a_refused_request_is_reported_and_the_channel_stays_usable() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        let pty = PtyRequest {
            term: "xterm".into(),
            cols: 80,
            rows: 24,
            width_px: 0,
            height_px: 0,
            modes: TerminalModes::default(),
        };
        channel.request_pty(&pty).await.unwrap();
        let refused = channel.env("LANG", "C").await;
        assert!(
            matches!(refused, Err(ChannelError::Refused("env"))),
            "{refused:?}"
        );
        channel.exec("script").await.unwrap();
        assert_eq!(read_to_end(&mut channel).await, b"hi\n");
    });
}

#[test]
fn a_signal_sent_to_the_command_comes_back_as_its_exit_signal() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        channel.send_signal("TERM").unwrap();
        channel.wait_closed().await.unwrap();
        assert_eq!(channel.exit_signal().unwrap().name, "TERM");
        assert_eq!(channel.exit_status(), None);
    });
}

#[test]
fn dropping_the_channel_closes_it_on_the_server() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        assert_eq!(server.lock().engine.channels().len(), 1);
        drop(channel);
        until(|| server.lock().engine.channels().is_empty()).await;
        until(|| client.lock().engine.channels().is_empty()).await;
    });
}

#[test]
fn opening_a_session_before_authentication_is_not_ready() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = default_pair(&rt).await;
        let result = client.open_session().await;
        assert!(
            matches!(
                result,
                Err(ChannelError::Channel(channel::ChannelError::NotReady))
            ),
            "{result:?}"
        );
    });
}

#[test]
fn a_closed_connection_ends_reads_with_an_error() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        server.disconnect("going away");
        let mut buf = [0; 16];
        let read = poll_fn(|cx| Pin::new(&mut channel).poll_read(cx, &mut buf)).await;
        assert_eq!(
            read.unwrap_err().kind(),
            std::io::ErrorKind::ConnectionAborted
        );
    });
}

#[test]
fn requests_without_a_reply_reach_the_server_in_order() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server, requests) = logged_in_seeing_requests(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        channel.change_terminal_size(120, 40, 0, 0).unwrap();
        channel.send_break(250).unwrap();
        channel.send_signal("TERM").unwrap();
        channel.wait_closed().await.unwrap();
        let seen = requests.lock().unwrap().clone();
        assert_eq!(seen, ["exec", "window-change", "break", "signal"]);
    });
}

#[test]
fn a_writer_whose_data_is_not_read_back_blocks_at_a_bounded_amount_then_resumes() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        let data: Vec<u8> = (0..32 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
        // Write without reading the echo: once both windows, both send queues and
        // the stream buffers are full, the writer must stay blocked.
        let mut written = 0;
        loop {
            let before = written;
            while let Poll::Ready(n) =
                poll_fn(|cx| Poll::Ready(Pin::new(&mut channel).poll_write(cx, &data[written..])))
                    .await
            {
                written += n.unwrap();
            }
            rt.sleep(std::time::Duration::from_secs(1)).await;
            if written == before {
                break;
            }
        }
        assert!(written > 2 * 1024 * 1024, "blocked early, at {written}");
        assert!(written < 8 * 1024 * 1024, "took {written} bytes unread");
        // The echo of what was taken comes first, then that of the rest.
        let echoed = echo_through(&mut channel, &data[written..]).await;
        assert_eq!(echoed.len(), data.len());
        assert!(echoed == data, "echo differs");
    });
}

#[test]
fn stderr_written_by_the_client_reaches_the_server_as_extended_data() {
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let mut channel = client.open_session().await.unwrap();
        channel.exec("cat").await.unwrap();
        let mut stderr = channel.stderr();
        let n = poll_fn(|cx| Pin::new(&mut stderr).poll_write(cx, b"warning\n"))
            .await
            .unwrap();
        assert_eq!(n, 8);
        let echoed = echo_through(&mut channel, b"data").await;
        assert_eq!(echoed, b"data");
        assert_eq!(read_to_end(stderr).await, b"warning\n");
    });
}

#[test]
fn sixteen_channels_at_once_each_get_their_own_bytes_back() {
    // Far more in flight both ways than the driver's write high-water mark: two of
    // our drivers must keep reading each other while their writers wait.
    let rt = TestRuntime::new();
    rt.block_on(async {
        let (client, _server) = logged_in(&rt).await;
        let mut tasks = Vec::new();
        for n in 0..16u8 {
            let client = client.clone();
            tasks.push(spawn_join(&rt, async move {
                let mut channel = client.open_session().await.unwrap();
                channel.exec("cat").await.unwrap();
                let data: Vec<u8> = (0..700 * 1024 + usize::from(n))
                    .map(|i| (i as u8) ^ n)
                    .collect();
                let echoed = echo_through(&mut channel, &data).await;
                channel.wait_closed().await.unwrap();
                (echoed == data, channel.exit_status())
            }));
        }
        for task in tasks {
            assert_eq!(task.join().await, (true, Some(0)));
        }
    });
}

//! Requests OpenSSH's `ssh` cannot send on its own (`signal`, a `window-change`
//! from a scripted terminal), sent to the example by our own client.

use std::future::poll_fn;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};
use sansh_core::channel::{PtyRequest, TerminalModes};
use sansh_tokio::core::keys::PublicKey;
use sansh_tokio::{ClientConfig, ClientConnection, ClientHandler, Connection, Login};

use crate::support::Server;

type Channel = sansh_tokio::core::driver::Channel<ClientConnection>;

/// Trusts the example's host key: these tests are about sessions.
struct Trusting;

impl ClientHandler for Trusting {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        true
    }
}

async fn log_in(server: &Server) -> Connection {
    let conn = sansh_tokio::connect(server.addr, ClientConfig::default(), Trusting)
        .await
        .expect("connect to the example");
    let login = Login::new(server.user.clone())
        .identity_file(&server.identity)
        .no_agent();
    conn.authenticate(&login, &Trusting)
        .await
        .expect("log in with the client key");
    conn
}

/// Reads from `channel` until its output so far contains `needle`; panics at EOF.
async fn read_until(channel: &mut Channel, seen: &mut Vec<u8>, needle: &str) {
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(seen).contains(needle) {
        let n = poll_fn(|cx| Pin::new(&mut *channel).poll_read(cx, &mut chunk))
            .await
            .expect("read the channel");
        assert!(
            n > 0,
            "EOF before {needle:?} in {:?}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&chunk[..n]);
    }
}

async fn write(channel: &mut Channel, data: &[u8]) {
    let mut data = data;
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *channel).poll_write(cx, data))
            .await
            .expect("write the channel");
        data = &data[n..];
    }
}

/// Reads to EOF, then waits for the close.
async fn finish(channel: &mut Channel) {
    let mut chunk = [0u8; 4096];
    while poll_fn(|cx| Pin::new(&mut *channel).poll_read(cx, &mut chunk))
        .await
        .is_ok_and(|n| n > 0)
    {}
    channel.wait_closed().await.expect("channel closes");
}

#[tokio::test]
async fn a_signal_request_reaches_the_commands_process_group() {
    let server = Server::start(&[]);
    let conn = log_in(&server).await;
    let mut channel = conn.open_session().await.expect("session");
    // `exec`: the signal must find cat itself. A shell still between commands may
    // catch SIGINT (dash does under `-c`) and lose it as it forks.
    channel.exec("exec cat").await.expect("exec");
    // Echoed by cat, so the exec has happened.
    write(&mut channel, b"ready\n").await;
    read_until(&mut channel, &mut Vec::new(), "ready\n").await;
    channel.send_signal("INT").expect("send signal");
    finish(&mut channel).await;
    let signal = channel.exit_signal().expect("an exit-signal");
    assert_eq!(signal.name, "INT", "{}", server.log());
    assert!(!signal.core_dumped);
    assert_eq!(channel.exit_status(), None);
}

#[tokio::test]
async fn a_window_change_resizes_the_pty() {
    let server = Server::start(&[]);
    let conn = log_in(&server).await;
    let mut channel = conn.open_session().await.expect("session");
    let pty = PtyRequest {
        term: "xterm".into(),
        cols: 80,
        rows: 24,
        width_px: 0,
        height_px: 0,
        modes: TerminalModes::new(),
    };
    channel.request_pty(&pty).await.expect("pty-req");
    channel.shell().await.expect("shell");
    let mut seen = Vec::new();
    write(&mut channel, b"stty size\n").await;
    read_until(&mut channel, &mut seen, "24 80\r\n").await;
    channel
        .change_terminal_size(100, 30, 0, 0)
        .expect("window-change");
    // The request and the typed line travel apart once on the server (one to the
    // pty, one to the process), so ask again until the new size shows; each round
    // waits for its own answer.
    let mut rounds = 0;
    while !String::from_utf8_lossy(&seen).contains("30 100\r\n") {
        rounds += 1;
        assert!(rounds <= 100, "{}", String::from_utf8_lossy(&seen));
        // The terminal echoes the typed `$((N+0))`; only the shell's answer has N.
        let typed = format!("stty size; echo round-$(({rounds}+0))\n");
        write(&mut channel, typed.as_bytes()).await;
        read_until(&mut channel, &mut seen, &format!("round-{rounds}\r\n")).await;
    }
    write(&mut channel, b"exit 4\n").await;
    finish(&mut channel).await;
    assert_eq!(channel.exit_status(), Some(4));
}

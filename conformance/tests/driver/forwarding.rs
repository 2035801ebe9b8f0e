//! Forwarding through our client against sshd, on every runtime, with real TCP and
//! Unix echo servers behind: `-L`, `-R` (port 0), `-D` (SOCKS 5 with a domain
//! name, SOCKS 4), `direct-streamlocal`, a two-hop jump, a hundred forwarded
//! connections at once, and a `PermitOpen` refusal.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::pin::Pin;
use std::task::Poll;
use std::thread;

use futures_io::{AsyncRead, AsyncWrite};
use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::ClientConfig;
use sansh_core::driver::forward::Endpoint;
use sansh_core::driver::{ChannelError, Connection, Login, OpenFailureReason, connect_with};

use crate::peers::{KEY_TYPES, KeyFile, current_user};
use crate::runtimes::TestRuntime;
use crate::support::{AcceptAny, TestResult, WAIT};

/// Where our forwarded connections come from, for sshd's log.
pub(crate) const ORIGIN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// An sshd with a fresh key, the login for it, and the scratch directory.
pub(crate) struct SshdLogin {
    pub(crate) sshd: Sshd,
    pub(crate) login: Login,
    pub(crate) dir: ScratchDir,
}

/// Starts sshd with `config` lines, accepting a fresh key.
pub(crate) fn sshd_with(config: &[&str]) -> Result<SshdLogin, Box<dyn std::error::Error>> {
    let dir = ScratchDir::new("driver-forward")?;
    let key = KeyFile::generate(&dir, "id_forward", KEY_TYPES[0], None)?;
    let mut builder = Sshd::builder().authorized_key(key.public_line()?);
    for line in config {
        builder = builder.config(*line);
    }
    let sshd = builder.start()?;
    let login = Login::new(current_user()?)
        .no_agent()
        .identity_file(&key.path);
    Ok(SshdLogin { sshd, login, dir })
}

/// Connects and logs in to `target`.
async fn log_in<R: TestRuntime>(
    target: &SshdLogin,
) -> Result<Connection, Box<dyn std::error::Error>> {
    let handler = AcceptAny::default();
    let conn = R::connect(target.sshd.addr(), ClientConfig::default(), handler.clone()).await?;
    conn.authenticate(&target.login, &handler).await?;
    Ok(conn)
}

/// A TCP echo server on loopback: each connection gets its bytes back, and its EOF.
pub(crate) fn echo_tcp() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut reader = stream.try_clone()?;
                let mut writer = stream;
                io::copy(&mut reader, &mut writer)?;
                writer.shutdown(Shutdown::Write)
            });
        }
    });
    Ok(addr)
}

/// A Unix echo server at `path`.
pub(crate) fn echo_unix(path: &Path) -> io::Result<()> {
    let listener = UnixListener::bind(path)?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut reader = stream.try_clone()?;
                let mut writer = stream;
                io::copy(&mut reader, &mut writer)?;
                writer.shutdown(Shutdown::Write)
            });
        }
    });
    Ok(())
}

/// Bytes that differ at every offset, seeded so that connections differ too.
pub(crate) fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

/// Sends `data` over a blocking stream (then EOF) while reading the echo; the
/// echo must be `data` exactly.
pub(crate) fn check_echo<S>(stream: S, data: &[u8]) -> Result<(), String>
where
    S: Read + Write + Send + 'static + TryCloneStream,
{
    stream.timeouts().map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone_stream().map_err(|e| e.to_string())?;
    let mut reader = stream;
    let sent = data.to_vec();
    let writing = thread::spawn(move || -> io::Result<()> {
        writer.write_all(&sent)?;
        writer.shutdown_write()
    });
    let mut echoed = Vec::with_capacity(data.len());
    reader
        .read_to_end(&mut echoed)
        .map_err(|e| format!("reading the echo: {e}"))?;
    writing
        .join()
        .map_err(|_| "the writer panicked")?
        .map_err(|e| format!("writing: {e}"))?;
    if echoed != data {
        return Err(format!(
            "the echo differs: {} bytes back of {}",
            echoed.len(),
            data.len()
        ));
    }
    Ok(())
}

/// What [`check_echo`] needs of TCP and Unix streams alike.
pub(crate) trait TryCloneStream: Sized {
    fn try_clone_stream(&self) -> io::Result<Self>;
    fn shutdown_write(&self) -> io::Result<()>;
    fn timeouts(&self) -> io::Result<()>;
}

impl TryCloneStream for TcpStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
    fn timeouts(&self) -> io::Result<()> {
        self.set_read_timeout(Some(WAIT))?;
        self.set_write_timeout(Some(WAIT))
    }
}

impl TryCloneStream for UnixStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
    fn timeouts(&self) -> io::Result<()> {
        self.set_read_timeout(Some(WAIT))?;
        self.set_write_timeout(Some(WAIT))
    }
}

/// Writes `data` to an async stream, closes its writing half, and reads to the end,
/// both at once.
pub(crate) async fn round_trip(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    data: &[u8],
) -> io::Result<Vec<u8>> {
    let (mut sent, mut closed, mut eof) = (0, false, false);
    let mut out = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    poll_fn(|cx| {
        loop {
            let mut progress = false;
            if let Some(rest) = data.get(sent..).filter(|r| !r.is_empty()) {
                if let Poll::Ready(n) = Pin::new(&mut stream).poll_write(cx, rest) {
                    sent += n?;
                    progress = true;
                }
            } else if !closed {
                if let Poll::Ready(result) = Pin::new(&mut stream).poll_close(cx) {
                    result?;
                    closed = true;
                    progress = true;
                }
            }
            if !eof {
                if let Poll::Ready(n) = Pin::new(&mut stream).poll_read(cx, &mut buf) {
                    let n = n?;
                    eof = n == 0;
                    out.extend_from_slice(buf.get(..n).unwrap_or_default());
                    progress = true;
                }
            }
            if eof && closed {
                return Poll::Ready(Ok::<(), io::Error>(()));
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await?;
    Ok(out)
}

/// `-L`: a local port forwarded through sshd to a TCP echo server; port 0 reports
/// the port bound; three connections one after the other, each with EOF passed on.
pub(crate) fn local_forward_through_sshd_reaches_a_tcp_echo_server<R: TestRuntime>() -> TestResult {
    let target = sshd_with(&[])?;
    let echo = echo_tcp()?;
    let rt = R::start();
    let conn = rt.block_on(log_in::<R>(&target))?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let forward = rt.block_on(conn.forward_local_port(listen, "127.0.0.1", echo.port()))?;
    let local = forward.local_addr().ok_or("no local address")?;
    assert_ne!(local.port(), 0);
    for seed in 0..3 {
        check_echo(TcpStream::connect(local)?, &pattern(256 * 1024, seed))?;
    }
    forward.close();
    Ok(())
}

/// A hundred connections through one `-L` forward at once, a mebibyte each way
/// per connection, every byte checked.
pub(crate) fn a_hundred_forwarded_connections_at_once_each_carry_a_mebibyte<R: TestRuntime>()
-> TestResult {
    hundred_forwarded_connections::<R>(1024 * 1024)
}

/// 100 TCP connections at once through one local forward on sshd to an echo server,
/// each sending `size` bytes and checking every byte comes back (the heavy suite
/// runs it with 10 MiB each).
pub(crate) fn hundred_forwarded_connections<R: TestRuntime>(size: usize) -> TestResult {
    let target = sshd_with(&["MaxSessions 200"])?;
    let echo = echo_tcp()?;
    let rt = R::start();
    let conn = rt.block_on(log_in::<R>(&target))?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let forward = rt.block_on(conn.forward_local_port(listen, "127.0.0.1", echo.port()))?;
    let local = forward.local_addr().ok_or("no local address")?;
    let clients: Vec<_> = (0..100)
        .map(|seed| {
            thread::spawn(move || -> Result<(), String> {
                let stream = TcpStream::connect(local).map_err(|e| e.to_string())?;
                check_echo(stream, &pattern(size, seed))
            })
        })
        .collect();
    for client in clients {
        client.join().map_err(|_| "a client panicked")??;
    }
    Ok(())
}

/// `-R` with port 0: sshd chooses the port, reports it, and each connection to it
/// reaches our TCP echo server; cancelling stops sshd listening.
pub(crate) fn remote_forward_on_port_zero_through_sshd_reaches_our_echo_server<R: TestRuntime>()
-> TestResult {
    let target = sshd_with(&[])?;
    let echo = echo_tcp()?;
    let rt = R::start();
    let conn = rt.block_on(log_in::<R>(&target))?;
    let destination = Endpoint::Tcp {
        host: "127.0.0.1".into(),
        port: echo.port(),
    };
    let forward = rt.block_on(conn.forward_remote_port("127.0.0.1", 0, destination))?;
    let port = u16::try_from(forward.bound_port().ok_or("no bound port")?)?;
    assert_ne!(port, 0);
    let remote = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    for seed in 0..2 {
        check_echo(TcpStream::connect(remote)?, &pattern(200 * 1024, seed))?;
    }
    rt.block_on(forward.cancel())?;
    target.sshd.wait_for_log("cancel-tcpip-forward", WAIT)?;
    Ok(())
}

/// Connects through a SOCKS proxy with a blocking client: the greeting and the
/// request are sent, `expect` is the reply's prefix.
fn socks_client(proxy: SocketAddr, hello: &[u8], reply_len: usize) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(proxy).map_err(|e| e.to_string())?;
    stream.timeouts().map_err(|e| e.to_string())?;
    stream.write_all(hello).map_err(|e| e.to_string())?;
    let mut reply = vec![0; reply_len];
    stream
        .read_exact(&mut reply)
        .map_err(|e| format!("SOCKS reply: {e}"))?;
    let ok = match reply.first() {
        // SOCKS 5: method choice (5, 0), then VER REP RSV ATYP...
        Some(5) => reply.get(..4) == Some(&[5, 0, 5, 0][..]),
        Some(0) => reply.get(1) == Some(&90),
        _ => false,
    };
    if ok {
        Ok(stream)
    } else {
        Err(format!("SOCKS refused: {reply:?}"))
    }
}

/// `-D`: SOCKS 5 CONNECT to a domain name and SOCKS 4 CONNECT to an address both
/// reach the echo server through sshd.
pub(crate) fn socks_forward_through_sshd_connects_by_name_and_by_address<R: TestRuntime>()
-> TestResult {
    let target = sshd_with(&[])?;
    let echo = echo_tcp()?;
    let rt = R::start();
    let conn = rt.block_on(log_in::<R>(&target))?;
    let socks = rt.block_on(conn.forward_socks(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))?;
    let proxy = socks.local_addr().ok_or("no local address")?;

    let mut v5 = vec![5, 1, 0, 5, 1, 0, 3, 9];
    v5.extend_from_slice(b"localhost");
    v5.extend_from_slice(&echo.port().to_be_bytes());
    // Method choice (2 bytes) and the reply with an IPv4 address (10 bytes).
    check_echo(socks_client(proxy, &v5, 12)?, &pattern(100 * 1024, 5))?;

    let mut v4 = vec![4, 1];
    v4.extend_from_slice(&echo.port().to_be_bytes());
    v4.extend_from_slice(&[127, 0, 0, 1, b'u', 0]);
    check_echo(socks_client(proxy, &v4, 8)?, &pattern(100 * 1024, 4))?;
    Ok(())
}

/// `direct-streamlocal@openssh.com`: a channel to a Unix echo server beside sshd.
pub(crate) fn direct_streamlocal_through_sshd_reaches_a_unix_socket<R: TestRuntime>() -> TestResult
{
    let target = sshd_with(&[])?;
    let socket = target.dir.join("echo.sock");
    echo_unix(&socket)?;
    let rt = R::start();
    let data = pattern(300 * 1024, 9);
    let echoed = rt.block_on(async {
        let conn = log_in::<R>(&target).await?;
        let channel = conn
            .open_direct_streamlocal(&socket.display().to_string())
            .await?;
        Ok::<_, Box<dyn std::error::Error>>(round_trip(channel, &data).await?)
    })?;
    assert!(
        echoed == data,
        "{} bytes back of {}",
        echoed.len(),
        data.len()
    );
    Ok(())
}

/// `streamlocal-forward@openssh.com`: sshd listens on a Unix socket for us, and each
/// connection to it comes back as a channel our client connects to a TCP echo
/// server; cancelling makes sshd stop listening.
pub(crate) fn remote_streamlocal_forward_through_sshd_reaches_our_echo_server<R: TestRuntime>()
-> TestResult {
    let target = sshd_with(&[])?;
    let echo = echo_tcp()?;
    let socket = target.dir.join("forwarded.sock");
    let rt = R::start();
    let conn = rt.block_on(log_in::<R>(&target))?;
    let destination = Endpoint::Tcp {
        host: "127.0.0.1".into(),
        port: echo.port(),
    };
    // sshd binds the socket before it answers the request.
    let forward =
        rt.block_on(conn.forward_remote_path(&socket.display().to_string(), destination))?;
    for seed in 0..2 {
        check_echo(UnixStream::connect(&socket)?, &pattern(200 * 1024, seed))?;
    }
    rt.block_on(forward.cancel())?;
    target
        .sshd
        .wait_for_log("cancel-streamlocal-forward@openssh.com", WAIT)?;
    Ok(())
}

/// A jump: our client logs in to sshd, then over a `direct-tcpip` channel to sshd
/// again, then once more from there: two hops, each a connection over the last
/// one's channel, and a command runs at the end.
pub(crate) fn two_hop_jump_through_sshd_runs_a_command_at_the_end<R: TestRuntime>() -> TestResult {
    let target = sshd_with(&[])?;
    let rt = R::start();
    let runtime = rt.runtime();
    let output = rt.block_on(async {
        let mut conn = log_in::<R>(&target).await?;
        let mut hops = Vec::new();
        for _ in 0..2 {
            let tunnel = conn
                .open_direct_tcpip("127.0.0.1", target.sshd.port(), ORIGIN)
                .await?;
            let handler = AcceptAny::default();
            let next = connect_with(
                runtime.clone(),
                tunnel,
                ClientConfig::default(),
                handler.clone(),
            )
            .await?;
            next.authenticate(&target.login, &handler).await?;
            hops.push(std::mem::replace(&mut conn, next));
        }
        let output = conn.run("echo at the end of $SSH_CONNECTION").await?;
        drop(hops);
        Ok::<_, Box<dyn std::error::Error>>(output)
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("at the end of 127.0.0.1"), "{stdout}");
    assert_eq!(output.exit_status, Some(0));
    // Three logins: the first hop and the two through channels.
    let logins = target
        .sshd
        .wait_for_log_count("Accepted publickey", 3, WAIT);
    assert_eq!(logins, 3);
    Ok(())
}

/// sshd's `PermitOpen` refuses a target it does not list: the open fails with
/// `administratively prohibited` and an error that says so.
pub(crate) fn a_target_outside_permitopen_is_refused_by_sshd<R: TestRuntime>() -> TestResult {
    let target = sshd_with(&["PermitOpen 127.0.0.1:1"])?;
    let echo = echo_tcp()?;
    let rt = R::start();
    let result = rt.block_on(async {
        let conn = log_in::<R>(&target).await?;
        let refused = conn
            .open_direct_tcpip("127.0.0.1", echo.port(), ORIGIN)
            .await;
        Ok::<_, Box<dyn std::error::Error>>(refused.map(drop))
    })?;
    match result {
        Err(ChannelError::OpenFailed { reason, .. }) => {
            assert_eq!(reason, OpenFailureReason::AdministrativelyProhibited);
        }
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }
    target
        .sshd
        .wait_for_log("but the request was denied", WAIT)?;
    Ok(())
}

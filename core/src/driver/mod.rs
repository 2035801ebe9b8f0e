//! The runtime-agnostic async layer (cargo feature `driver`): runs an engine over a
//! byte stream on any async runtime, behind cheap, cloneable handles.
//!
//! It uses only `std::task`, `futures-io` and `futures-core`; the runtime crates
//! (`sansh-tokio`, `sansh-smol`, `sansh-async-std`) implement [`Runtime`] (clock,
//! timer, spawn), adapt their TCP streams and listeners, and re-export this module.
//!
//! # The driver
//!
//! Each connection gets one spawned task, its driver, that owns the byte stream and
//! shares the engine with the handles behind a mutex (quinn's model). One poll of
//! the driver repeats, until nothing moves or a work budget is spent:
//!
//! 1. **read** the stream while the engine wants input (it is open, and fewer than
//!    1 MiB of our output wait to be written) and feed it with `handle_input`; EOF or
//!    a read error is `handle_eof`;
//! 2. **fire timers**: read the runtime's clock, then call `handle_timeout` if the
//!    engine's deadline has passed (the clock decides, not the runtime timer, which
//!    may fire early or late);
//! 3. **flush** `poll_transmit` into the stream, keeping whatever a partial write
//!    left over for the next poll;
//! 4. **dispatch** `poll_event`: wake handles waiting on the key exchange, a
//!    service or the close, and hand decisions to the user's handler.
//!
//! It then arms the runtime timer for the engine's next deadline and sleeps until
//! the stream, the timer or a handle wakes it. After the engine has closed, it
//! finishes writing (the DISCONNECT, for at most a few seconds), closes the stream
//! and ends.
//!
//! Handles ([`Connection`]) lock the state, call the engine and wake the driver;
//! there is no queue between them and the driver, so nothing a handle does can pile
//! up unbounded. Dropping the last handle closes the connection with DISCONNECT.
//!
//! # Decisions and handlers
//!
//! The engine reports decisions as events carrying a token (the server's host key,
//! a client's authentication request). The driver spawns the user's handler
//! ([`ClientHandler`], [`ServerHandler`]) for each on the runtime and posts the
//! answer back when it resolves. The connection keeps running meanwhile: the stream
//! is read, rekeys and keepalives go on.
//!
//! # Example
//!
//! A client over any byte stream (the runtime crates' `connect(addr, ...)` resolves
//! the name and opens the TCP stream first):
//!
//! ```no_run
//! use std::sync::Arc;
//! use sansh_core::ClientConfig;
//! use sansh_core::driver::{ByteStream, ClientHandler, Runtime, connect_with};
//! use sansh_core::keys::PublicKey;
//!
//! struct TrustOnFirstUse;
//! impl ClientHandler for TrustOnFirstUse {
//!     async fn check_server_key(&self, key: &PublicKey) -> bool {
//!         println!("server key {}", key.fingerprint_sha256());
//!         true
//!     }
//! }
//!
//! async fn run(runtime: Arc<dyn Runtime>, stream: impl ByteStream) {
//!     let conn = connect_with(runtime, stream, ClientConfig::default(), TrustOnFirstUse)
//!         .await
//!         .expect("key exchange");
//!     println!("{:?}, session id {:02x?}", conn.algorithms(), conn.session_id());
//!     conn.rekey().await.expect("rekey");
//!     drop(conn); // sends DISCONNECT
//! }
//! ```
//!
//! # Authentication
//!
//! A client authenticates with [`Connection::authenticate`] (or
//! [`connect_and_authenticate`], which hands out the connection only once in),
//! following a [`Login`]: the user, key files, the ssh-agent, the method order. The
//! authentication loop runs in the caller's future: it starts each attempt, has the
//! agent ([`AgentClient`], over [`Runtime::connect_unix`]) sign what the engine asks,
//! and asks the [`ClientHandler`] for passwords, prompts and passphrases, while the
//! driver keeps the connection going.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use sansh_core::ClientConfig;
//! # use sansh_core::auth::Zeroizing;
//! # use sansh_core::driver::{ByteStream, ClientHandler, Login, Runtime, connect_and_authenticate};
//! # use sansh_core::keys::PublicKey;
//! struct Terminal;
//! impl ClientHandler for Terminal {
//!     async fn check_server_key(&self, _key: &PublicKey) -> bool { true }
//!     async fn password(&self, user: &str) -> Option<Zeroizing<String>> {
//!         Some(Zeroizing::new(format!("password of {user}")))
//!     }
//! }
//!
//! async fn run(runtime: Arc<dyn Runtime>, stream: impl ByteStream) {
//!     let login = Login::openssh("alice"); // agent, ~/.ssh/id_*, then password
//!     match connect_and_authenticate(runtime, stream, ClientConfig::default(), &login, Terminal).await {
//!         Ok(conn) => println!("logged in: {conn:?}"),
//!         Err(why) => println!("{why}"), // e.g. permission denied, naming the methods offered
//!     }
//! }
//! ```
//!
//! A server's [`ServerHandler`] gives a verdict ([`AuthDecision`]) on each request;
//! [`Connection::authenticated`] waits for the client to be in.
//!
//! # Channels
//!
//! Once authenticated, a client opens sessions: [`Connection::open_session`] gives a
//! [`Channel`], whose stdout and stdin are a `futures-io` [`AsyncRead`] and
//! [`AsyncWrite`] (closing the writer sends EOF) and whose stderr is
//! [`Channel::stderr`]. Received data stays in the engine, bounded by the channel's
//! window; written data waits in the engine's bounded send queue, and a writer past
//! it waits for the peer's window. The driver routes each channel's events to its
//! handle's wakers. [`Connection::run`] runs one command and collects its output:
//!
//! ```no_run
//! # async fn demo(conn: sansh_core::driver::Connection) -> Result<(), sansh_core::driver::ChannelError> {
//! let output = conn.run("echo hi; exit 3").await?;
//! assert_eq!((output.stdout.as_slice(), output.exit_status), (&b"hi\n"[..], Some(3)));
//!
//! let mut shell = conn.open_session().await?;
//! shell.shell().await?; // then read and write `shell` as a byte stream
//! shell.send_signal("INT")?;
//! shell.wait_closed().await?;
//! println!("{:?} {:?}", shell.exit_status(), shell.exit_signal());
//! # Ok(())
//! # }
//! ```
//!
//! # SFTP
//!
//! [`Connection::start_sftp_client`] opens a session with the `sftp` subsystem and
//! runs the SFTP client engine over it in a task of its own; [`sftp::SftpClient`]
//! has the path operations, pipelined transfers (`get`, `put`, `copy` and their
//! recursive and glob forms) and files that are async readers, writers and seekers.
//! See [`sftp`].
//!
//! [`AsyncRead`]: futures_io::AsyncRead
//! [`AsyncWrite`]: futures_io::AsyncWrite
//!
//! Port forwarding (`-L`, `-R`, `-D`), jump hosts over `direct-tcpip` channels and
//! agent forwarding, on both sides, are in [`forward`].
//!
//! A server: [`listen_with`] runs the accept loop (the runtime crates' `listen` binds
//! the socket), each handshake on its own task:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use sansh_core::ServerConfig;
//! # use sansh_core::driver::{Listener, ServerHandler};
//! struct MyServer;
//! impl ServerHandler for MyServer {}
//!
//! async fn serve(listener: Listener, runtime: Arc<dyn sansh_core::driver::Runtime>) {
//!     while let Some((conn, peer)) = listener.accept().await {
//!         println!("{peer} connected: {:?}", conn.peer_version());
//!         runtime.spawn(Box::pin(async move {
//!             let why = conn.closed().await;
//!             println!("{peer} left: {why}");
//!         }));
//!     }
//! }
//! ```
//!
//! # Serving channels
//!
//! The peer's channel opens, channel requests and global requests wait in bounded
//! queues until the application takes them: [`Connection::accept_channel`] hands
//! out each open as an [`IncomingChannel`] (accept it for a [`Channel`], or
//! reject it), [`Channel::requests`] each request on a channel as an
//! [`IncomingRequest`], [`Connection::accept_global_request`] each global request
//! as an [`IncomingGlobalRequest`]. Dropping any of them refuses it. Past the
//! bounds (for opens the configured channel limit,
//! [`ConnectionConfig::max_channels`](crate::ConnectionConfig::max_channels), which waiting opens
//! count towards; [`MAX_PENDING_REQUESTS`], [`MAX_PENDING_GLOBAL_REQUESTS`]) the
//! engine or the driver refuses by itself, so a slow
//! application never stalls the connection: the driver keeps reading, rekeying and
//! answering keepalives. Answers to requests go out in the order the requests
//! came (RFC 4254 §4, §5.4), so answer each promptly.
//!
//! A client is offered only what a server may open towards it (forwarded
//! connections, agent and X11 channels); `session`, `direct-tcpip` and
//! `direct-streamlocal@openssh.com` opens are refused at once, as OpenSSH does.
//!
//! A server's accept loop, its sessions' requests and a command's output:
//!
//! ```no_run
//! use std::future::poll_fn;
//! use std::pin::Pin;
//! use std::sync::Arc;
//! use futures_io::AsyncWrite;
//! use sansh_core::ServerConnection;
//! use sansh_core::driver::{
//!     Channel, ChannelKind, ChannelRequest, Listener, OpenFailureReason, Runtime,
//! };
//!
//! async fn serve(listener: Listener, runtime: Arc<dyn Runtime>) {
//!     while let Some((conn, _peer)) = listener.accept().await {
//!         let tasks = runtime.clone();
//!         runtime.spawn(Box::pin(async move {
//!             // Channels come once the client has logged in; None when it leaves.
//!             while let Some(incoming) = conn.accept_channel().await {
//!                 if incoming.kind() != &ChannelKind::Session {
//!                     incoming.reject(OpenFailureReason::AdministrativelyProhibited, "no");
//!                     continue;
//!                 }
//!                 if let Ok(channel) = incoming.accept() {
//!                     tasks.spawn(Box::pin(session(channel)));
//!                 }
//!             }
//!         }));
//!     }
//! }
//!
//! async fn session(mut channel: Channel<ServerConnection>) {
//!     let requests = channel.requests();
//!     while let Some(request) = requests.next().await {
//!         match request.request().clone() {
//!             // A terminal and variables for the command to come.
//!             ChannelRequest::Pty(pty) => {
//!                 println!("{} {}x{}", pty.term, pty.cols, pty.rows);
//!                 request.accept();
//!             }
//!             ChannelRequest::Env { .. } => request.accept(),
//!             ChannelRequest::Exec { command } => {
//!                 request.accept();
//!                 let reply = format!("ran {}\n", String::from_utf8_lossy(&command));
//!                 let _ = write_all(&mut channel, reply.as_bytes()).await;
//!                 let _ = write_all(&mut channel.stderr(), b"no errors\n").await;
//!                 let _ = channel.send_exit_status(0);
//!                 break; // dropping the channel sends EOF and CLOSE after the data
//!             }
//!             // Signals, window changes: a real server passes them on.
//!             _ => request.reject(),
//!         }
//!     }
//! }
//!
//! async fn write_all(out: &mut (impl AsyncWrite + Unpin), mut data: &[u8]) -> std::io::Result<()> {
//!     while !data.is_empty() {
//!         let n = poll_fn(|cx| Pin::new(&mut *out).poll_write(cx, data)).await?;
//!         data = &data[n..];
//!     }
//!     Ok(())
//! }
//! ```
//!
//! For a command running on in another task, [`Channel::split`] gives a
//! [`ChannelReader`] (its stdin) and a [`ChannelWriter`] (its stdout; closing it
//! sends EOF, and it reports the exit status too); the channel closes once every
//! handle on it is dropped. [`Connection::open_channel`] and
//! [`Connection::global_request`] go the other way: a server opens
//! `forwarded-tcpip` channels, a client asks for `tcpip-forward` and gets a
//! [`GlobalReply`].

//! # SFTP server
//!
//! [`sftp_server::serve_sftp`] runs the SFTP server engine over any byte stream (an
//! `sftp` subsystem channel, stdio pipes) with a synchronous
//! [`Backend`](crate::sftp::Backend), whose calls run in batches on
//! [`Runtime::spawn_blocking`] so file I/O never blocks the executor.
//! [`sftp_server::LocalFs`] serves a local directory as `/`, resolving every path
//! inside it (`openat2(RESOLVE_IN_ROOT)` on Linux).

mod agent;
mod authenticate;
mod channel;
mod connect;
#[allow(clippy::module_inception)]
mod driver;
mod engine;
mod error;
pub mod forward;
mod global;
mod handle;
mod handler;
mod incoming;
mod listener;
mod login;
mod quick_ack;
mod requests;
mod runtime;
mod server_auth;
mod session;
pub mod sftp;
#[cfg(unix)]
pub mod sftp_server;
mod state;
mod stream;
mod task;

/// The channel and request types the driver's API speaks, from [`crate::channel`].
pub use crate::channel::{
    ChannelId, ChannelKind, ChannelRequest, GlobalRequest, OpenFailureReason, PtyRequest,
    TerminalMode, TerminalModes,
};
pub use agent::{AgentClient, AgentClientError, SSH_AUTH_SOCK};
pub use authenticate::{AuthFailed, connect_and_authenticate};
pub use channel::{Channel, ChannelError, ExitSignal, MAX_PENDING_REQUESTS};
pub use connect::{accept_engine, accept_with, connect_engine, connect_with, dial};
pub use engine::Engine;
pub use error::ConnectError;
pub use global::{GlobalReply, IncomingGlobalRequest, MAX_PENDING_GLOBAL_REQUESTS};
pub use handle::Connection;
pub use handler::{AuthDecision, ClientHandler, ServerHandler};
pub use incoming::IncomingChannel;
pub use listener::{Acceptor, DEFAULT_BACKLOG, Listener, listen_with};
pub use login::{DEFAULT_IDENTITY_FILES, DEFAULT_PASSWORD_PROMPTS, Login};
pub use quick_ack::QuickAck;
pub use requests::{ChannelRequests, IncomingRequest};
pub use runtime::{
    AsyncTimer, BlockingTask, BoxFuture, ByteStream, Runtime, StreamFuture, TcpListenFuture,
    Unblock, UnixAcceptor, UnixListenFuture, unblock,
};
pub use session::RunOutput;
pub use stream::{ChannelReader, ChannelStderr, ChannelWriter};

#[cfg(test)]
mod tests;

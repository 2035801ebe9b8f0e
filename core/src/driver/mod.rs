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
mod requests;
mod runtime;
mod server_auth;
mod session;
mod state;
mod stream;

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
pub use incoming::{IncomingChannel, MAX_PENDING_OPENS};
pub use listener::{Acceptor, DEFAULT_BACKLOG, Listener, listen_with};
pub use login::{DEFAULT_IDENTITY_FILES, DEFAULT_PASSWORD_PROMPTS, Login};
pub use requests::{ChannelRequests, IncomingRequest};
pub use runtime::{
    AsyncTimer, BoxFuture, ByteStream, Runtime, StreamFuture, TcpListenFuture, UnixAcceptor,
    UnixListenFuture,
};
pub use session::RunOutput;
pub use stream::{ChannelReader, ChannelStderr, ChannelWriter};

#[cfg(test)]
mod tests;

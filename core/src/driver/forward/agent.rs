//! Agent forwarding (OpenSSH PROTOCOL.agent): on the client, asking for it on a
//! session (`auth-agent-req@openssh.com`) and relaying the server's
//! `auth-agent@openssh.com` channels to the local agent; on the server, a
//! listening socket whose connections become such channels.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::super::agent::SSH_AUTH_SOCK;
use super::super::channel::{Channel, request_no_reply};
use super::super::handle::Connection;
use super::ForwardError;
use super::listen::{AnyAcceptor, Cancel, OnAccept, spawn_accept_loop};
use super::relay::relay;
use super::router::Router;
use crate::ServerConnection;
use crate::channel::{ChannelKind, ChannelRequest};

/// Agent forwarding in effect on a client connection: while it is held, the
/// server's `auth-agent@openssh.com` channels are relayed to the local agent.
/// Dropping it refuses them from then on.
#[derive(Debug)]
pub struct AgentForwarding {
    router: Arc<Router>,
}

impl Drop for AgentForwarding {
    fn drop(&mut self) {
        self.router.remove_agent();
    }
}

impl Channel {
    /// Asks the server to forward the agent on this session
    /// (`auth-agent-req@openssh.com`, before `shell` or `exec`), relaying to the
    /// agent at `SSH_AUTH_SOCK`.
    ///
    /// Like ssh, it asks without waiting for an answer: a server that refuses
    /// simply opens no agent channel.
    ///
    /// # Errors
    /// [`ForwardError::NoAgent`] when `SSH_AUTH_SOCK` is unset; the channel's error
    /// if it is closed.
    pub fn request_agent_forwarding(&self) -> Result<AgentForwarding, ForwardError> {
        let socket = std::env::var_os(SSH_AUTH_SOCK)
            .filter(|s| !s.is_empty())
            .ok_or(ForwardError::NoAgent)?;
        self.request_agent_forwarding_to(PathBuf::from(socket))
    }

    /// [`Self::request_agent_forwarding`] relaying to the agent socket at `agent`.
    ///
    /// # Errors
    /// The channel's error if it is closed.
    pub fn request_agent_forwarding_to(
        &self,
        agent: PathBuf,
    ) -> Result<AgentForwarding, ForwardError> {
        let router = Router::of(&self.conn);
        // Relaying first: the server may open an agent channel at once.
        router.add_agent(&self.conn, agent);
        let forwarding = AgentForwarding { router };
        request_no_reply(&self.conn, self.id, &ChannelRequest::AuthAgent)?;
        Ok(forwarding)
    }
}

/// The server's end of a forwarded agent: a Unix socket in a fresh private
/// directory; each connection to it becomes an `auth-agent@openssh.com` channel
/// to the client. Give [`Self::path`] to the session as `SSH_AUTH_SOCK`.
///
/// Dropping it removes the socket and its directory and stops listening.
#[derive(Debug)]
pub struct AgentSocket {
    dir: PathBuf,
    path: PathBuf,
    cancel: Cancel,
}

impl AgentSocket {
    /// The socket's path (the session's `SSH_AUTH_SOCK`).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for AgentSocket {
    fn drop(&mut self) {
        self.cancel.cancel();
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Directory names already tried by this process (uniqueness within it; across
/// processes `create_dir` failing on an existing name moves on to the next).
static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

/// Creates a directory only we can enter, under the system's temporary directory.
fn private_dir() -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::temp_dir();
    let mut last = io::Error::other("no attempt");
    for _ in 0..100 {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("sansh-agent-{}-{n}", std::process::id()));
        // Fails on an existing name, so a directory someone else made is never used.
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) => last = error,
        }
    }
    Err(last)
}

impl Connection<ServerConnection> {
    /// Listens on a new agent socket for this client (the server's side of
    /// `auth-agent-req@openssh.com`): each connection to it opens an
    /// `auth-agent@openssh.com` channel to the client, bytes copied both ways.
    ///
    /// Checking the policy is the caller's ([`ForwardingPolicy::check_agent`],
    /// or [`ServerForwarding::agent_socket`] which does).
    ///
    /// [`ForwardingPolicy::check_agent`]: super::ForwardingPolicy::check_agent
    /// [`ServerForwarding::agent_socket`]: super::ServerForwarding::agent_socket
    ///
    /// # Errors
    /// [`ForwardError::Bind`] when the directory or socket cannot be made.
    pub async fn forward_agent_socket(&self) -> Result<AgentSocket, ForwardError> {
        let dir = private_dir().map_err(ForwardError::Bind)?;
        let path = dir.join("agent.sock");
        let runtime = self.runtime();
        let acceptor = match runtime.listen_unix(path.clone()).await {
            Ok(acceptor) => acceptor,
            Err(error) => {
                let _ = std::fs::remove_dir(&dir);
                return Err(ForwardError::Bind(error));
            }
        };
        let cancel = Cancel::default();
        let conn = self.clone();
        let on_accept: OnAccept = Box::new(move |stream, _| {
            let conn = conn.clone();
            Box::pin(async move {
                if let Ok(channel) = conn.open_channel(ChannelKind::AuthAgent).await {
                    let _ = relay(stream, channel).await;
                }
            })
        });
        let conn = self.clone();
        let stop = Box::pin(async move {
            conn.closed().await;
        });
        spawn_accept_loop(
            runtime,
            AnyAcceptor::Unix(acceptor, path.clone()),
            cancel.clone(),
            stop,
            on_accept,
        );
        Ok(AgentSocket { dir, path, cancel })
    }
}

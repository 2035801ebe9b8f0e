//! A small async ssh-agent client: lists the agent's keys and asks it to sign, over
//! a Unix socket the runtime opens (OpenSSH's PROTOCOL.agent, codec in
//! [`crate::auth::agent`]).

use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

use super::runtime::{ByteStream, Runtime};
use crate::auth::agent::{AgentError, AgentFramer, AgentRequest, AgentResponse};
use crate::auth::{Identity, SignRequest};

/// The environment variable naming the agent's socket.
pub const SSH_AUTH_SOCK: &str = "SSH_AUTH_SOCK";

/// Why talking to the agent failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentClientError {
    /// Opening, reading or writing the socket failed.
    #[error("ssh-agent socket {path}: {source}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The agent sent something the protocol does not allow.
    #[error("ssh-agent sent a malformed message: {0}")]
    Protocol(#[from] AgentError),
    /// The agent closed the connection before it answered.
    #[error("ssh-agent closed the connection")]
    Closed,
    /// The agent answered with something other than what was asked for
    /// (`SSH_AGENT_FAILURE` for a sign request: the key is gone or refused).
    #[error("ssh-agent refused the request")]
    Refused,
}

/// One connection to an ssh-agent.
pub struct AgentClient {
    path: PathBuf,
    stream: Box<dyn ByteStream>,
    framer: AgentFramer,
}

impl std::fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentClient")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AgentClient {
    /// Connects to the agent listening on `path`, through the runtime's
    /// [`Runtime::connect_unix`].
    ///
    /// # Errors
    /// [`AgentClientError::Io`] when the socket cannot be opened.
    pub async fn connect(runtime: &dyn Runtime, path: &Path) -> Result<Self, AgentClientError> {
        let stream = runtime
            .connect_unix(path.to_path_buf())
            .await
            .map_err(|source| AgentClientError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            stream,
            framer: AgentFramer::new(),
        })
    }

    /// The keys (and certificates) the agent holds, in its order. Blobs this crate
    /// cannot parse (key types it does not know) are skipped.
    ///
    /// # Errors
    /// As [`Self::request`]; [`AgentClientError::Refused`] for any answer but a list.
    pub async fn identities(&mut self) -> Result<Vec<(Identity, String)>, AgentClientError> {
        match self.request(&AgentRequest::RequestIdentities).await? {
            AgentResponse::Identities(list) => Ok(list
                .into_iter()
                .filter_map(|i| i.identity().ok().map(|id| (id, i.comment)))
                .collect()),
            _ => Err(AgentClientError::Refused),
        }
    }

    /// Asks the agent to sign what the engine's `request` wants signed; returns the
    /// signature blob to hand back with `answer_signature`.
    ///
    /// # Errors
    /// As [`Self::request`]; [`AgentClientError::Refused`] when the agent declines.
    pub async fn sign(&mut self, request: &SignRequest) -> Result<Vec<u8>, AgentClientError> {
        match self.request(&request.to_agent_request()).await? {
            AgentResponse::Signature(blob) => Ok(blob),
            _ => Err(AgentClientError::Refused),
        }
    }

    /// Sends one request and waits for its answer.
    ///
    /// # Errors
    /// [`AgentClientError::Io`], [`AgentClientError::Closed`] or
    /// [`AgentClientError::Protocol`].
    pub async fn request(
        &mut self,
        request: &AgentRequest,
    ) -> Result<AgentResponse, AgentClientError> {
        let frame = request.encode();
        let mut sent = 0;
        while sent < frame.len() {
            let rest = frame.get(sent..).unwrap_or_default();
            let n = poll_fn(|cx| Pin::new(&mut self.stream).poll_write(cx, rest))
                .await
                .map_err(|e| self.io(e))?;
            if n == 0 {
                return Err(AgentClientError::Closed);
            }
            sent += n;
        }
        poll_fn(|cx| Pin::new(&mut self.stream).poll_flush(cx))
            .await
            .map_err(|e| self.io(e))?;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(body) = self.framer.next_message()? {
                return Ok(AgentResponse::decode(&body)?);
            }
            let n = poll_fn(|cx| Pin::new(&mut self.stream).poll_read(cx, &mut buf))
                .await
                .map_err(|e| self.io(e))?;
            if n == 0 {
                return Err(AgentClientError::Closed);
            }
            self.framer.feed(buf.get(..n).unwrap_or_default());
        }
    }

    fn io(&self, source: io::Error) -> AgentClientError {
        AgentClientError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

//! The peer's channel opens: [`Connection::accept_channel`] hands them out as
//! [`IncomingChannel`]s, to accept (giving a [`Channel`]) or reject.
//!
//! Opens wait in the shared state, at most [`MAX_PENDING_OPENS`]; past that the
//! driver refuses them itself with `resource shortage`, so a peer cannot pile them
//! up and a slow (or absent) acceptor never stalls the connection. Kinds the role
//! never serves are refused at once, as OpenSSH does: a client accepts only the
//! channels a server opens towards it (`forwarded-tcpip`,
//! `forwarded-streamlocal@openssh.com`, `auth-agent@openssh.com`, `x11`), and a
//! server refuses those.

use super::channel::{Channel, ChannelError, ChannelSlot};
use super::engine::Engine;
use super::handle::Connection;
use super::state::State;
use crate::ClientConnection;
use crate::channel::{self, ChannelKind, ChannelOpenDecision, OpenFailureReason};

/// Most of the peer's channel opens waiting for [`Connection::accept_channel`].
pub const MAX_PENDING_OPENS: usize = 64;

/// A channel the peer asked to open (RFC 4254 §5.1), waiting for the
/// application's answer. Dropping it refuses the open as administratively
/// prohibited.
pub struct IncomingChannel<E: Engine = ClientConnection> {
    conn: Connection<E>,
    /// Taken by the answer (which consumes `self`), so `Some` while it is readable.
    decision: Option<ChannelOpenDecision>,
    kind: ChannelKind,
}

impl<E: Engine> Connection<E> {
    /// The peer's next channel open, in arrival order: `session`, `direct-tcpip`,
    /// `direct-streamlocal@openssh.com` (or a kind of your own) on a server;
    /// `forwarded-tcpip`, `forwarded-streamlocal@openssh.com`,
    /// `auth-agent@openssh.com` or `x11` on a client. `None` once the connection
    /// has ended.
    ///
    /// Opens wait for this call (at most [`MAX_PENDING_OPENS`] of them, more are
    /// refused with `resource shortage`); the connection runs on meanwhile.
    pub async fn accept_channel(&self) -> Option<IncomingChannel<E>> {
        let decision = self
            .wait_until(|state| state.incoming_opens.pop_front())
            .await
            .ok()?;
        Some(IncomingChannel {
            conn: self.clone(),
            kind: decision.kind().clone(),
            decision: Some(decision),
        })
    }
}

impl<E: Engine> IncomingChannel<E> {
    /// What the peer wants the channel for.
    pub fn kind(&self) -> &ChannelKind {
        &self.kind
    }

    /// Accepts: OPEN_CONFIRMATION goes out and the channel is open at once. Its
    /// requests are queued from now on for [`Channel::requests`].
    ///
    /// # Errors
    /// The engine's error if the connection has closed meanwhile.
    pub fn accept(mut self) -> Result<Channel<E>, ChannelError> {
        let Some(decision) = self.decision.take() else {
            return Err(channel::ChannelError::Closed.into());
        };
        let id = {
            let mut state = self.conn.lock();
            let accepted = state.engine.channels().accept_open(decision);
            state.wake_driver();
            let id = accepted?;
            state.channels.insert(id, ChannelSlot::new(true));
            if let Some(slot) = state.channels.get_mut(&id) {
                slot.opened = Some(Ok(()));
            }
            id
        };
        Ok(Channel {
            conn: self.conn.clone(),
            id,
        })
    }

    /// Refuses with a reason code (RFC 4254 §5.1) and a description for the peer.
    pub fn reject(mut self, reason: OpenFailureReason, description: &str) {
        if let Some(decision) = self.decision.take() {
            let mut state = self.conn.lock();
            state
                .engine
                .channels()
                .reject_open(decision, reason, description);
            state.wake_driver();
        }
    }
}

impl<E: Engine> Drop for IncomingChannel<E> {
    fn drop(&mut self) {
        if let Some(decision) = self.decision.take() {
            let mut state = self.conn.lock();
            // Dropped, the engine refuses it as administratively prohibited on the
            // driver's next call.
            drop(decision);
            state.wake_driver();
        }
    }
}

impl<E: Engine> std::fmt::Debug for IncomingChannel<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingChannel")
            .field("kind", &self.kind)
            .finish()
    }
}

/// Whether a role serves channels of `kind` opened by its peer.
fn served(kind: &ChannelKind, server: bool) -> bool {
    let towards_client = matches!(
        kind,
        ChannelKind::ForwardedTcpip { .. }
            | ChannelKind::ForwardedStreamlocal { .. }
            | ChannelKind::AuthAgent
            | ChannelKind::X11 { .. }
    );
    if server {
        !towards_client
    } else {
        towards_client
    }
}

impl<E: Engine> State<E> {
    /// Queues the peer's channel open for [`Connection::accept_channel`], or
    /// refuses it: a kind this role does not serve, or too many waiting.
    pub(crate) fn on_open_request(&mut self, decision: ChannelOpenDecision) {
        let refusal = if !served(decision.kind(), self.is_server()) {
            Some(match decision.kind() {
                ChannelKind::Unknown { .. } => (
                    OpenFailureReason::UnknownChannelType,
                    "unknown channel type",
                ),
                _ => (
                    OpenFailureReason::AdministrativelyProhibited,
                    "channel type not served",
                ),
            })
        } else if self.incoming_opens.len() >= MAX_PENDING_OPENS {
            Some((
                OpenFailureReason::ResourceShortage,
                "too many channel opens waiting",
            ))
        } else {
            None
        };
        match refusal {
            Some((reason, description)) => {
                self.engine
                    .channels()
                    .reject_open(decision, reason, description);
                self.wake_driver();
            }
            None => {
                self.incoming_opens.push_back(decision);
                self.wake_watchers();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_serves_only_the_kinds_a_server_opens_towards_it() {
        let session = ChannelKind::Session;
        let agent = ChannelKind::AuthAgent;
        let local = ChannelKind::DirectStreamlocal {
            socket_path: "/tmp/s".into(),
        };
        assert!(!served(&session, false));
        assert!(!served(&local, false));
        assert!(served(&agent, false));
        assert!(served(&session, true));
        assert!(served(&local, true));
        assert!(!served(&agent, true));
    }
}

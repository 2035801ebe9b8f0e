//! The peer's requests on a channel (`pty-req`, `env`, `exec`, `signal`, ...):
//! [`Channel::requests`] hands them out one by one as [`IncomingRequest`]s.
//!
//! They wait in the channel's slot, at most
//! [`MAX_PENDING_REQUESTS`](super::channel::MAX_PENDING_REQUESTS) of them; past
//! that the driver answers failure itself. The engine sends the answers in the
//! order the requests came, whatever order they are decided in (RFC 4254 §5.4), so
//! a request left undecided holds back the answers to the later ones on its
//! channel (and only there).

use std::sync::Arc;

use super::channel::Channel;
use super::engine::Engine;
use super::handle::wait_on;
use super::state::Shared;
use crate::ClientConnection;
use crate::channel::{ChannelId, ChannelRequest, ChannelRequestDecision};

/// The peer's requests on one channel, in arrival order. Get it from
/// [`Channel::requests`]; clones share the one queue.
///
/// It does not keep the channel (nor the connection) open: once the channel is
/// closed, or every handle on it dropped, [`Self::next`] gives `None`.
pub struct ChannelRequests<E: Engine = ClientConnection> {
    shared: Arc<Shared<E>>,
    id: ChannelId,
}

/// A request from the peer, waiting for the application's answer.
///
/// Answer it with [`Self::accept`] or [`Self::reject`]; dropping it answers
/// CHANNEL_FAILURE when the peer wants a reply (RFC 4254 §5.4). Requests without
/// `want reply` (`window-change`, `signal`, ...) need no answer: both methods then
/// only consume it.
pub struct IncomingRequest<E: Engine = ClientConnection> {
    shared: Arc<Shared<E>>,
    channel: ChannelId,
    /// Taken by the answer (which consumes `self`), so `Some` while it is readable.
    decision: Option<ChannelRequestDecision>,
}

impl<E: Engine> Channel<E> {
    /// A handle on the peer's requests on this channel (`pty-req`, `env`, `shell`,
    /// `exec`, `subsystem`, `window-change`, `signal`, `break`, `xon-xoff`,
    /// `x11-req`, `auth-agent-req@openssh.com`, ...), usable from another task
    /// while the channel's data is read and written.
    ///
    /// On a channel the peer opened, requests are queued from the start; on one we
    /// opened, from the first call of this method (before it the driver answers
    /// them failure, as a client that serves no requests does). `exit-status` and
    /// `exit-signal` never show up here: they are [`Self::exit_status`] and
    /// [`Self::exit_signal`].
    pub fn requests(&self) -> ChannelRequests<E> {
        let shared = self.conn.shared().clone();
        if let Some(slot) = shared.lock().channels.get_mut(&self.id) {
            slot.serving_requests = true;
        }
        ChannelRequests {
            shared,
            id: self.id,
        }
    }
}

impl<E: Engine> ChannelRequests<E> {
    /// The channel the requests are for.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The next request, `None` once the channel is closed (or the connection
    /// ended). Requests that came before the close are handed out first.
    pub async fn next(&self) -> Option<IncomingRequest<E>> {
        let id = self.id;
        let decision = wait_on(&self.shared, |state| match state.channels.get_mut(&id) {
            Some(slot) => match slot.requests.pop_front() {
                Some(decision) => Some(Some(decision)),
                None if slot.closed => Some(None),
                None => None,
            },
            None => Some(None),
        })
        .await
        .ok()
        .flatten()?;
        Some(IncomingRequest {
            shared: self.shared.clone(),
            channel: id,
            decision: Some(decision),
        })
    }
}

impl<E: Engine> Clone for ChannelRequests<E> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            id: self.id,
        }
    }
}

impl<E: Engine> std::fmt::Debug for ChannelRequests<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelRequests")
            .field("id", &self.id)
            .finish()
    }
}

impl<E: Engine> IncomingRequest<E> {
    /// The request.
    pub fn request(&self) -> &ChannelRequest {
        match &self.decision {
            Some(decision) => decision.request(),
            // Unreachable: only the answers take the decision, and they consume
            // `self`; a keepalive (which the engine answers itself) stands in.
            None => &ChannelRequest::KeepAlive,
        }
    }

    /// The channel it came on.
    pub fn channel(&self) -> ChannelId {
        self.channel
    }

    /// Whether the peer waits for an answer.
    pub fn want_reply(&self) -> bool {
        self.decision
            .as_ref()
            .is_some_and(ChannelRequestDecision::want_reply)
    }

    /// Answers CHANNEL_SUCCESS (when a reply is wanted).
    pub fn accept(mut self) {
        self.answer(true);
    }

    /// Answers CHANNEL_FAILURE (when a reply is wanted).
    pub fn reject(mut self) {
        self.answer(false);
    }

    fn answer(&mut self, success: bool) {
        let Some(decision) = self.decision.take() else {
            return;
        };
        let mut state = self.shared.lock();
        if success {
            state.engine.channels().accept_request(decision);
        } else {
            state.engine.channels().reject_request(decision);
        }
        state.wake_driver();
    }
}

impl<E: Engine> Drop for IncomingRequest<E> {
    fn drop(&mut self) {
        self.answer(false);
    }
}

impl<E: Engine> std::fmt::Debug for IncomingRequest<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingRequest")
            .field("request", &self.request())
            .field("want_reply", &self.want_reply())
            .finish()
    }
}

//! Global requests (RFC 4254 §4) both ways: [`Connection::global_request`] sends
//! one and waits for its [`GlobalReply`]; [`Connection::accept_global_request`]
//! hands out the peer's as [`IncomingGlobalRequest`]s.
//!
//! The engine answers `keepalive@openssh.com`, `no-more-sessions@openssh.com` and
//! `hostkeys-00@openssh.com` itself. The others are answered in the order they came
//! (RFC 4254 §4), the engine's own answers included, so a request left undecided
//! holds back every later answer, the peer's keepalive probes' too. Hence the
//! driver queues the peer's requests only once the application asks for them with
//! [`Connection::accept_global_request`] (refusing them before), at most
//! [`MAX_PENDING_GLOBAL_REQUESTS`], and refuses the rest itself.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

use bytes::Bytes;

use super::channel::ChannelError;
use super::engine::Engine;
use super::handle::Connection;
use super::state::{Shared, State};
use crate::ClientConnection;
use crate::channel::{GlobalRequest, GlobalRequestDecision};

/// Most of the peer's global requests waiting for
/// [`Connection::accept_global_request`].
pub const MAX_PENDING_GLOBAL_REQUESTS: usize = 64;

/// The peer's answer to a global request of ours (RFC 4254 §4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlobalReply {
    /// REQUEST_SUCCESS (true) or REQUEST_FAILURE.
    pub success: bool,
    /// The port the peer bound for a `tcpip-forward` of port 0 (RFC 4254 §7.1).
    pub bound_port: Option<u32>,
    /// The reply's request-specific data, raw.
    pub data: Bytes,
}

/// A global request from the peer (`tcpip-forward`, `cancel-tcpip-forward`,
/// `streamlocal-forward@openssh.com`, ...) waiting for the application's answer.
/// Dropping it answers REQUEST_FAILURE.
pub struct IncomingGlobalRequest<E: Engine = ClientConnection> {
    conn: Connection<E>,
    request: GlobalRequest,
    /// Taken by the answer (which consumes `self`).
    decision: Option<GlobalRequestDecision>,
}

/// The driver's bookkeeping of our global requests that want a reply: replies come
/// in order, so the n-th reply answers the n-th request.
#[derive(Debug, Default)]
pub(crate) struct GlobalReplies {
    sent: u64,
    received: u64,
    /// Replies not collected yet, by request number.
    ready: HashMap<u64, GlobalReply>,
    /// Requests whose waiter gave up: their replies are dropped on arrival.
    abandoned: HashSet<u64>,
}

impl<E: Engine> Connection<E> {
    /// The peer's next global request, in arrival order; `None` once the
    /// connection has ended.
    ///
    /// The first call switches queueing on: before it, the driver refuses the
    /// peer's global requests itself. At most [`MAX_PENDING_GLOBAL_REQUESTS`] wait;
    /// answer them promptly, as later answers (keepalives' too) wait for them.
    pub async fn accept_global_request(&self) -> Option<IncomingGlobalRequest<E>> {
        self.lock().serving_globals = true;
        let decision = self
            .wait_until(|state| state.incoming_globals.pop_front())
            .await
            .ok()?;
        Some(IncomingGlobalRequest {
            conn: self.clone(),
            request: decision.request().clone(),
            decision: Some(decision),
        })
    }

    /// Sends a global request (RFC 4254 §4) and waits for the peer's answer.
    ///
    /// Every request wants a reply except `no-more-sessions@openssh.com`, which
    /// OpenSSH sends without one; its [`GlobalReply`] is a success at once.
    ///
    /// # Errors
    /// The engine's error (not authenticated yet, too many requests pending); the
    /// connection's error if it ends first.
    pub async fn global_request(
        &self,
        request: GlobalRequest,
    ) -> Result<GlobalReply, ChannelError> {
        let want_reply = !matches!(request, GlobalRequest::NoMoreSessions);
        let number = {
            let mut state = self.lock();
            state
                .engine
                .channels()
                .global_request(&request, want_reply)?;
            state.wake_driver();
            if !want_reply {
                return Ok(GlobalReply {
                    success: true,
                    ..GlobalReply::default()
                });
            }
            state.global_replies.sent += 1;
            state.global_replies.sent
        };
        // Abandons the reply if this future is dropped before it arrives.
        let waiter = ReplyWaiter {
            shared: Arc::downgrade(self.shared()),
            number,
        };
        let reply = self
            .wait_until(|state| state.global_replies.ready.remove(&number))
            .await;
        drop(waiter);
        Ok(reply?)
    }
}

/// Marks a global request's reply as abandoned when its waiter goes away.
struct ReplyWaiter<E: Engine> {
    shared: Weak<Shared<E>>,
    number: u64,
}

impl<E: Engine> Drop for ReplyWaiter<E> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut state = shared.lock();
        let replies = &mut state.global_replies;
        if replies.ready.remove(&self.number).is_none() && replies.received < self.number {
            replies.abandoned.insert(self.number);
        }
    }
}

impl<E: Engine> IncomingGlobalRequest<E> {
    /// The request.
    pub fn request(&self) -> &GlobalRequest {
        &self.request
    }

    /// Whether the peer waits for an answer.
    pub fn want_reply(&self) -> bool {
        self.decision
            .as_ref()
            .is_some_and(GlobalRequestDecision::want_reply)
    }

    /// Answers REQUEST_SUCCESS; `bound_port` is the port chosen for a
    /// `tcpip-forward` of port 0 (RFC 4254 §7.1).
    pub fn accept(mut self, bound_port: Option<u32>) {
        if let Some(decision) = self.decision.take() {
            let mut state = self.conn.lock();
            state.engine.channels().accept_global(decision, bound_port);
            state.wake_driver();
        }
    }

    /// Answers REQUEST_FAILURE.
    pub fn reject(mut self) {
        self.refuse();
    }

    fn refuse(&mut self) {
        if let Some(decision) = self.decision.take() {
            let mut state = self.conn.lock();
            state.engine.channels().reject_global(decision);
            state.wake_driver();
        }
    }
}

impl<E: Engine> Drop for IncomingGlobalRequest<E> {
    fn drop(&mut self) {
        self.refuse();
    }
}

impl<E: Engine> std::fmt::Debug for IncomingGlobalRequest<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingGlobalRequest")
            .field("request", &self.request)
            .field("want_reply", &self.want_reply())
            .finish()
    }
}

impl<E: Engine> State<E> {
    /// Queues the peer's global request for [`Connection::accept_global_request`],
    /// or drops it (the engine answers failure) when nobody serves them or too
    /// many wait.
    pub(crate) fn on_global_request(&mut self, decision: GlobalRequestDecision) {
        if self.serving_globals && self.incoming_globals.len() < MAX_PENDING_GLOBAL_REQUESTS {
            self.incoming_globals.push_back(decision);
            self.wake_watchers();
        } else {
            drop(decision);
            self.wake_driver();
        }
    }

    /// Files the reply to our next global request wanting one.
    pub(crate) fn on_global_reply(&mut self, reply: GlobalReply) {
        let replies = &mut self.global_replies;
        replies.received += 1;
        let number = replies.received;
        if !replies.abandoned.remove(&number) {
            replies.ready.insert(number, reply);
            self.wake_watchers();
        }
    }
}

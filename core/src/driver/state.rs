//! The state a connection's driver and its handles share behind one mutex.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Waker;

use super::channel::ChannelSlot;
use super::engine::Engine;
use super::global::{GlobalReplies, GlobalReply};
use super::handler::{AuthDecision, Handler};
use super::runtime::Runtime;
use crate::auth::{AuthRequest, AuthenticatedUser};
use crate::channel::{ChannelId, ChannelOpenDecision, GlobalRequestDecision};
use crate::error::{ConnectionError, DisconnectReason};
use crate::event::{Event, HostKeyDecision};

/// What the description of our DISCONNECT says when the last handle goes away.
pub(crate) const HANDLES_DROPPED: &str = "connection closed by the application";

/// Client authentication events kept for the authentication loop. Results and
/// decisions come one attempt at a time; only banners could pile up, and those
/// beyond this many are dropped.
const MAX_AUTH_EVENTS: usize = 16;

/// The engine and everything around it that handles and the driver need.
pub(crate) struct State<E> {
    pub(crate) engine: E,
    pub(crate) runtime: Arc<dyn Runtime>,
    handler: Handler,
    /// Live user handles; the last one dropped closes the connection.
    handles: usize,
    driver: Option<Waker>,
    /// Futures waiting for a change: key exchange done, service accepted, closed.
    watchers: Vec<Waker>,
    pub(crate) closed: Option<ConnectionError>,
    pub(crate) service_accepted: Option<String>,
    /// The host key decision while the handler is thinking about it.
    host_key: Option<HostKeyDecision>,
    /// Set when the driver task has finished (or was dropped by its runtime).
    pub(crate) driver_done: bool,
    /// (Client) Authentication results, banners and decisions, in order, for the
    /// authentication loop.
    pub(crate) auth_events: VecDeque<Event>,
    /// (Server) The authentication request the handler is deciding, with the
    /// number of its question (an answer to an older one is ignored).
    auth_request: Option<(u64, AuthRequest)>,
    auth_questions: u64,
    /// (Server) The user, once authenticated.
    pub(crate) authenticated: Option<AuthenticatedUser>,
    /// The channels handles hold: their wakers and what the peer reported.
    pub(crate) channels: HashMap<ChannelId, ChannelSlot>,
    /// The peer's channel opens waiting for `accept_channel` (bounded).
    pub(crate) incoming_opens: VecDeque<ChannelOpenDecision>,
    /// The peer's global requests waiting for `accept_global_request` (bounded),
    /// queued only once the application serves them.
    pub(crate) incoming_globals: VecDeque<GlobalRequestDecision>,
    pub(crate) serving_globals: bool,
    /// Replies to our global requests, until their waiters collect them.
    pub(crate) global_replies: GlobalReplies,
    /// (Client) Where the server's forwarded channels go, once a remote forward or
    /// agent forwarding exists.
    pub(crate) forward_router: Option<Arc<super::forward::Router>>,
    /// Bytes the driver could not write to the stream yet.
    backlog: usize,
    /// Channel writers waiting for the backlog to drain below the high-water mark.
    backlog_waiters: Vec<Waker>,
    /// Tests play a server's side of channels by taking events here first; an event
    /// returned goes on to the normal dispatch.
    #[cfg(test)]
    pub(crate) test_hook: Option<TestHook<E>>,
}

/// See [`State::test_hook`].
#[cfg(test)]
pub(crate) type TestHook<E> = Box<dyn FnMut(&mut E, Event) -> Option<Event> + Send>;

/// The shared half of a connection: owned by its driver, its handles and (weakly) by
/// handler tasks in flight.
pub(crate) struct Shared<E> {
    state: Mutex<State<E>>,
}

impl<E: Engine> Shared<E> {
    pub(crate) fn new(engine: E, runtime: Arc<dyn Runtime>, handler: Handler) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                engine,
                runtime,
                handler,
                handles: 0,
                driver: None,
                watchers: Vec::new(),
                closed: None,
                service_accepted: None,
                host_key: None,
                driver_done: false,
                auth_events: VecDeque::new(),
                auth_request: None,
                auth_questions: 0,
                authenticated: None,
                channels: HashMap::new(),
                incoming_opens: VecDeque::new(),
                incoming_globals: VecDeque::new(),
                serving_globals: false,
                global_replies: GlobalReplies::default(),
                forward_router: None,
                backlog: 0,
                backlog_waiters: Vec::new(),
                #[cfg(test)]
                test_hook: None,
            }),
        })
    }

    /// Locks the state. A panic elsewhere while it was held leaves it usable: every
    /// mutation below keeps it consistent step by step.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State<E>> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl<E: Engine> State<E> {
    /// True on a server's connection.
    pub(crate) fn is_server(&self) -> bool {
        matches!(self.handler, Handler::Server(_))
    }

    /// Registers the driver's waker.
    pub(crate) fn set_driver_waker(&mut self, waker: &Waker) {
        match &mut self.driver {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// Asks the driver to run: the engine has new output or input to act on.
    /// Records the driver's unwritten bytes; writers waiting on them resume once the
    /// backlog is below the high-water mark.
    pub(crate) fn set_backlog(&mut self, bytes: usize) {
        self.backlog = bytes;
        if bytes < super::driver::WRITE_HIGH_WATER {
            self.wake_backlog_waiters();
        }
    }

    pub(crate) fn wake_backlog_waiters(&mut self) {
        for waker in self.backlog_waiters.drain(..) {
            waker.wake();
        }
    }

    /// True (and `waker` stored) when channel writers must wait for the stream.
    pub(crate) fn wait_for_backlog(&mut self, waker: &Waker) -> bool {
        if self.backlog < super::driver::WRITE_HIGH_WATER {
            return false;
        }
        if !self.backlog_waiters.iter().any(|w| w.will_wake(waker)) {
            self.backlog_waiters.push(waker.clone());
        }
        true
    }

    pub(crate) fn wake_driver(&mut self) {
        if let Some(waker) = self.driver.take() {
            waker.wake();
        }
    }

    /// Registers a future waiting for a change of state.
    pub(crate) fn watch(&mut self, waker: &Waker) {
        if !self.watchers.iter().any(|w| w.will_wake(waker)) {
            self.watchers.push(waker.clone());
        }
    }

    pub(crate) fn wake_watchers(&mut self) {
        for waker in self.watchers.drain(..) {
            waker.wake();
        }
    }

    pub(crate) fn add_handle(&mut self) {
        self.handles += 1;
    }

    /// Drops one handle; the last one closes the connection with DISCONNECT.
    pub(crate) fn remove_handle(&mut self) {
        self.handles = self.handles.saturating_sub(1);
        if self.handles == 0 && !self.engine.is_closed() {
            self.engine
                .disconnect(DisconnectReason::ByApplication, HANDLES_DROPPED);
            self.wake_driver();
        }
    }

    /// Drains the engine's events, handing decisions to the handler and waking
    /// whoever waits on a change. Returns whether there was any event.
    pub(crate) fn dispatch_events(&mut self, shared: &Arc<Shared<E>>) -> bool {
        let mut any = false;
        while let Some(event) = self.engine.poll_event() {
            any = true;
            #[cfg(test)]
            let Some(event) = (match &mut self.test_hook {
                Some(hook) => hook(&mut self.engine, event),
                None => Some(event),
            }) else {
                continue;
            };
            match event {
                Event::HostKey(decision) => self.ask_host_key(shared, decision),
                Event::KeyExchangeComplete { .. } => self.wake_watchers(),
                Event::ServiceAccepted(name) => {
                    self.service_accepted.get_or_insert(name);
                    self.wake_watchers();
                }
                Event::AuthRequest(request) => self.ask_auth(shared, *request),
                Event::Authenticated(user) => {
                    self.authenticated.get_or_insert(*user);
                    self.wake_watchers();
                }
                Event::AuthBanner(_) if self.auth_events.len() >= MAX_AUTH_EVENTS => {}
                event @ (Event::AuthSuccess
                | Event::AuthFailure { .. }
                | Event::AuthBanner(_)
                | Event::SignRequest(_)
                | Event::KeyboardInteractive(_)
                | Event::PasswordChange(_)) => {
                    self.auth_events.push_back(event);
                    self.wake_watchers();
                }
                Event::ChannelOpenRequest(decision) => self.on_open_request(decision),
                Event::GlobalRequest(decision) => self.on_global_request(decision),
                Event::GlobalRequestResult {
                    success,
                    bound_port,
                    data,
                } => self.on_global_reply(GlobalReply {
                    success,
                    bound_port,
                    data,
                }),
                Event::Closed(error) => {
                    self.closed.get_or_insert(error);
                    // A decision still out can no longer be answered.
                    self.host_key = None;
                    self.auth_request = None;
                    self.incoming_opens.clear();
                    self.incoming_globals.clear();
                    for slot in self.channels.values_mut() {
                        slot.requests.clear();
                    }
                    self.wake_watchers();
                    self.wake_all_channels();
                }
                // DEBUG messages are for diagnostics; nothing reads them yet, and
                // queueing them would let a peer grow memory without bound.
                event => self.route_channel_event(event),
            }
        }
        any
    }

    /// Spawns the handler's host key check; its answer comes back through
    /// [`HostKeyAnswer`], also when the task is dropped unfinished (as a rejection).
    fn ask_host_key(&mut self, shared: &Arc<Shared<E>>, decision: HostKeyDecision) {
        let Handler::Client(handler) = &self.handler else {
            // A server engine never asks; dropping the decision rejects it.
            return;
        };
        let question = match decision.certificate() {
            Some(certificate) => handler
                .clone()
                .check_server_certificate(certificate.clone()),
            None => handler.clone().check_server_key(decision.key().clone()),
        };
        self.host_key = Some(decision);
        let answer = HostKeyAnswer {
            shared: Arc::downgrade(shared),
            accept: false,
        };
        self.runtime.spawn(Box::pin(async move {
            let accept = question.await;
            answer.post(accept);
        }));
    }

    /// Spawns the handler's verdict on an authentication request; the answer comes
    /// back through [`AuthAnswer`], also when the task is dropped unfinished (as a
    /// rejection).
    fn ask_auth(&mut self, shared: &Arc<Shared<E>>, request: AuthRequest) {
        let Handler::Server(handler) = &self.handler else {
            // A client engine never asks; dropping the request rejects it.
            return;
        };
        let Some(question) = super::server_auth::question(&request) else {
            self.engine.answer_auth(request, AuthDecision::Reject);
            return;
        };
        let verdict = handler.clone().decide(request.user().to_owned(), question);
        self.auth_questions += 1;
        let number = self.auth_questions;
        self.auth_request = Some((number, request));
        let answer = AuthAnswer {
            shared: Arc::downgrade(shared),
            number,
            decision: AuthDecision::Reject,
        };
        self.runtime.spawn(Box::pin(async move {
            let decision = verdict.await;
            answer.post(decision);
        }));
    }

    /// Records the end of the driver; handles waiting on it see the connection closed.
    pub(crate) fn finish_driver(&mut self) {
        self.driver_done = true;
        if self.closed.is_none() {
            self.closed = Some(ConnectionError::ConnectionLost);
        }
        self.wake_watchers();
        self.wake_all_channels();
    }
}

/// Posts a host key verdict when dropped: after the handler's future resolved, or
/// early (a rejection) if the runtime dropped the task first.
struct HostKeyAnswer<E: Engine> {
    shared: Weak<Shared<E>>,
    accept: bool,
}

impl<E: Engine> HostKeyAnswer<E> {
    fn post(mut self, accept: bool) {
        self.accept = accept;
    }
}

impl<E: Engine> Drop for HostKeyAnswer<E> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut state = shared.lock();
        if let Some(decision) = state.host_key.take() {
            state.engine.answer_host_key(decision, self.accept);
            state.wake_driver();
        }
    }
}

/// Posts a verdict on an authentication request when dropped: after the handler's
/// future resolved, or early (a rejection) if the runtime dropped the task first.
struct AuthAnswer<E: Engine> {
    shared: Weak<Shared<E>>,
    number: u64,
    decision: AuthDecision,
}

impl<E: Engine> AuthAnswer<E> {
    fn post(mut self, decision: AuthDecision) {
        self.decision = decision;
    }
}

impl<E: Engine> Drop for AuthAnswer<E> {
    fn drop(&mut self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut state = shared.lock();
        if !matches!(&state.auth_request, Some((n, _)) if *n == self.number) {
            return;
        }
        if let Some((_, request)) = state.auth_request.take() {
            let decision = std::mem::replace(&mut self.decision, AuthDecision::Reject);
            state.engine.answer_auth(request, decision);
            state.wake_driver();
        }
    }
}

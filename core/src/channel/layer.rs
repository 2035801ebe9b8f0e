//! The connection layer: the channel table, global requests and keepalives, driven by
//! the connection protocol messages (80..=127) the transport hands up once user
//! authentication has succeeded.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use super::state::{ChannelState, Reply, ReplySlot};
use super::wire::{self, ConnectionMessage};
use super::{GlobalRequest, OpenFailureReason};
use crate::config::ConnectionConfig;
use crate::decision::{DroppedTokens, TokenGuard};
use crate::error::{ConnectionError, PeerMisbehaved, TimerKind};
use crate::keys::PublicKey;
use crate::timer::TimerTable;
use crate::transport::{Role, Transport};

/// Most connection-level messages held while the transport refuses more (a key
/// exchange the peer lets stall with our hold-back queue full).
const MAX_HELD_GLOBAL_MESSAGES: usize = 4096;

/// A channel open from the peer that the application has not answered yet.
#[derive(Debug)]
pub(super) struct PendingOpen {
    pub(super) remote: u32,
    pub(super) window: u32,
    pub(super) max_packet: u32,
}

/// One of our global requests that wants a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AwaitingGlobal {
    /// A keepalive probe of ours: any reply proves the peer alive.
    Keepalive,
    /// The application's request; `tcpip-forward` of port 0 gets the port back.
    Application { port_in_reply: bool },
}

/// The connection protocol state of one connection.
pub(crate) struct ConnectionLayer {
    pub(super) role: Role,
    pub(super) config: ConnectionConfig,
    /// (Server) the host keys announced after authentication.
    host_keys: Vec<PublicKey>,
    /// Set once user authentication succeeded; before that every connection
    /// message is a protocol violation.
    pub(super) active: bool,
    pub(super) channels: BTreeMap<u32, ChannelState>,
    next_id: u32,
    pub(super) pending_opens: BTreeMap<u64, PendingOpen>,
    /// Connection-level messages (opens, open answers, global requests and replies)
    /// waiting for the transport; channel traffic waits behind them.
    pub(super) global_out: VecDeque<Vec<u8>>,
    pub(super) global_awaiting: VecDeque<AwaitingGlobal>,
    pub(super) global_slots: VecDeque<ReplySlot>,
    /// (Server) the client sent `no-more-sessions@openssh.com`.
    pub(super) no_more_sessions: bool,
    unanswered_probes: u32,
    timers: TimerTable,
    dropped: DroppedTokens,
    next_token: u64,
    /// The transport refused a message; retry on the next call into the engine.
    pub(super) blocked: bool,
    /// Where the next round of sending starts, so no channel starves the others.
    pub(super) pump_cursor: u32,
    pub(super) scratch: Vec<u8>,
}

impl std::fmt::Debug for ConnectionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionLayer")
            .field("active", &self.active)
            .field("channels", &self.channels.len())
            .finish_non_exhaustive()
    }
}

impl ConnectionLayer {
    pub(crate) fn new(role: Role, mut config: ConnectionConfig, host_keys: Vec<PublicKey>) -> Self {
        // A zero maximum packet would leave the peer unable to send data at all.
        config.max_packet_size = config.max_packet_size.max(1);
        Self {
            role,
            config,
            host_keys,
            active: false,
            channels: BTreeMap::new(),
            next_id: 0,
            pending_opens: BTreeMap::new(),
            global_out: VecDeque::new(),
            global_awaiting: VecDeque::new(),
            global_slots: VecDeque::new(),
            no_more_sessions: false,
            unanswered_probes: 0,
            timers: TimerTable::default(),
            dropped: DroppedTokens::default(),
            next_token: 0,
            blocked: false,
            pump_cursor: 0,
            scratch: Vec::new(),
        }
    }

    /// Starts the connection protocol once user authentication has succeeded: arms
    /// the keepalive timer and, on a server, announces the host keys.
    pub(crate) fn start(&mut self, t: &mut Transport, now: Instant) {
        if self.active {
            return;
        }
        self.active = true;
        self.heard_from_peer(now);
        if self.role == Role::Server && self.config.announce_host_keys && !self.host_keys.is_empty()
        {
            let announce = GlobalRequest::HostKeys(self.host_keys.clone());
            self.send_global(t, wire::encode_global_request(&announce, false));
        }
    }

    // ---- input ----

    /// True once the connection protocol has started.
    pub(crate) fn is_active(&self) -> bool {
        self.active
    }

    /// Handles one connection protocol message (numbers 80..=127).
    pub(crate) fn handle(&mut self, t: &mut Transport, now: Instant, seq: u32, payload: Bytes) {
        let number = payload.first().copied().unwrap_or_default();
        if !self.active {
            let context = "before user authentication";
            return t.fail(PeerMisbehaved::UnexpectedMessage { number, context }.into());
        }
        self.heard_from_peer(now);
        let message = match ConnectionMessage::decode(&payload) {
            Ok(Some(message)) => message,
            Ok(None) => return t.reply_unimplemented(seq),
            Err(error) => {
                return t.fail(PeerMisbehaved::MalformedMessage { number, error }.into());
            }
        };
        self.dispatch(t, number, message, &payload);
        self.after_call(t);
    }

    /// Any message from the peer proves it alive (as OpenSSH counts it).
    fn heard_from_peer(&mut self, now: Instant) {
        self.unanswered_probes = 0;
        if let Some(interval) = self.config.keepalive_interval {
            self.timers.set(TimerKind::Keepalive, now + interval);
        }
    }

    pub(crate) fn handle_timeout(&mut self, t: &mut Transport, now: Instant) {
        let fired: Vec<TimerKind> = self.timers.expire(now).collect();
        for kind in fired {
            if kind == TimerKind::Keepalive {
                self.keepalive_due(t, now);
            }
        }
        self.after_call(t);
    }

    fn keepalive_due(&mut self, t: &mut Transport, now: Instant) {
        let Some(interval) = self.config.keepalive_interval else {
            return;
        };
        if t.is_closed() {
            return;
        }
        if self.unanswered_probes >= self.config.keepalive_max {
            return t.fail(ConnectionError::TimedOut(TimerKind::Keepalive));
        }
        self.unanswered_probes += 1;
        self.global_awaiting.push_back(AwaitingGlobal::Keepalive);
        let probe = wire::encode_global_request(&GlobalRequest::KeepAlive, true);
        self.send_global(t, probe);
        self.timers.set(TimerKind::Keepalive, now + interval);
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.active {
            self.timers.earliest()
        } else {
            None
        }
    }

    /// Work owed after any call into the engine: answers for dropped decisions, and
    /// messages the transport refused earlier.
    pub(crate) fn after_call(&mut self, t: &mut Transport) {
        self.process_dropped(t);
        if self.blocked {
            self.flush(t);
        }
    }

    // ---- decisions ----

    /// A fresh decision token and its id.
    pub(super) fn new_token(&mut self) -> (u64, TokenGuard) {
        self.next_token += 1;
        (
            self.next_token,
            TokenGuard::new(self.next_token, &self.dropped),
        )
    }

    /// Answers the decisions the application dropped: opens are refused, requests
    /// answered failure.
    pub(crate) fn process_dropped(&mut self, t: &mut Transport) {
        for token in self.dropped.take() {
            if let Some(open) = self.pending_opens.remove(&token) {
                let reason = OpenFailureReason::AdministrativelyProhibited.code();
                let refusal = wire::encode_open_failure(open.remote, reason, "refused");
                self.send_global(t, refusal);
            } else if self.global_slots.iter().any(|s| s.token == Some(token)) {
                self.answer_global(t, token, Reply::FAILURE);
            } else {
                let channel = self
                    .channels
                    .iter()
                    .find(|(_, ch)| ch.reply_slots.iter().any(|s| s.token == Some(token)))
                    .map(|(id, _)| *id);
                if let Some(id) = channel {
                    self.answer_channel_request(t, id, token, false);
                }
            }
        }
    }

    /// Records the answer to the peer's global request `token` and sends every
    /// answer that is now due, in order.
    pub(super) fn answer_global(&mut self, t: &mut Transport, token: u64, reply: Reply) {
        if let Some(slot) = self
            .global_slots
            .iter_mut()
            .find(|s| s.token == Some(token) && s.answer.is_none())
        {
            slot.answer = Some(reply);
        }
        self.flush_global_replies(t);
    }

    pub(super) fn flush_global_replies(&mut self, t: &mut Transport) {
        while let Some(reply) = self.global_slots.front().and_then(|s| s.answer) {
            self.global_slots.pop_front();
            self.send_global(
                t,
                wire::encode_global_reply(reply.success, reply.bound_port),
            );
        }
    }

    /// Records the answer to the peer's request `token` on channel `id` and sends
    /// the answers now due, in order.
    pub(super) fn answer_channel_request(
        &mut self,
        t: &mut Transport,
        id: u32,
        token: u64,
        success: bool,
    ) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        if let Some(slot) = ch
            .reply_slots
            .iter_mut()
            .find(|s| s.token == Some(token) && s.answer.is_none())
        {
            slot.answer = Some(Reply {
                success,
                bound_port: None,
            });
        }
        self.flush_channel_replies(t, id);
    }

    pub(super) fn flush_channel_replies(&mut self, t: &mut Transport, id: u32) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        while let Some(reply) = ch.reply_slots.front().and_then(|s| s.answer) {
            ch.reply_slots.pop_front();
            let number = if reply.success {
                crate::wire::msg::CHANNEL_SUCCESS
            } else {
                crate::wire::msg::CHANNEL_FAILURE
            };
            ch.control
                .push_back(wire::encode_channel_only(number, ch.remote.unwrap_or(0)));
        }
        self.pump(t, id);
    }

    // ---- channel numbers ----

    /// The next free channel number. Numbers count up and wrap, so a stale
    /// [`ChannelId`](super::ChannelId) does not name a new channel soon after.
    pub(super) fn allocate_id(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if !self.channels.contains_key(&id) {
                return id;
            }
        }
    }

    /// Channels open or being opened, in either direction.
    pub(super) fn channel_count(&self) -> usize {
        self.channels.len() + self.pending_opens.len()
    }

    /// Fails the connection when the peer piles up too many held messages.
    pub(super) fn check_held(&mut self, t: &mut Transport) {
        if self.global_out.len() > MAX_HELD_GLOBAL_MESSAGES {
            self.global_out.clear();
            t.fail(PeerMisbehaved::QueueOverflow.into());
        }
    }
}

//! Receiving: each connection protocol message checked against the channel's state,
//! every peer-controlled value checked before it is used.

use bytes::Bytes;

use super::decision::{ChannelOpenDecision, ChannelRequestDecision, GlobalRequestDecision};
use super::layer::{AwaitingGlobal, ConnectionLayer, PendingOpen};
use super::state::{ChannelState, Reply, ReplySlot};
use super::wire::{self, ConnectionMessage, EXTENDED_DATA_STDERR};
use super::{ChannelId, ChannelKind, ChannelRequest, GlobalRequest, OpenFailureReason};
use crate::error::PeerMisbehaved;
use crate::event::Event;
use crate::transport::{Role, Transport};
use crate::wire::WireError;

impl ConnectionLayer {
    pub(super) fn dispatch(
        &mut self,
        t: &mut Transport,
        number: u8,
        message: ConnectionMessage<'_>,
        payload: &Bytes,
    ) {
        let malformed = |error: WireError| PeerMisbehaved::MalformedMessage { number, error };
        match message {
            ConnectionMessage::GlobalRequest {
                name,
                want_reply,
                data,
            } => match GlobalRequest::decode(name, data) {
                Ok(request) => self.on_global_request(t, request, want_reply),
                Err(e) => t.fail(malformed(e).into()),
            },
            ConnectionMessage::RequestSuccess { data } => {
                self.on_global_reply(t, true, payload.slice_ref(data))
            }
            ConnectionMessage::RequestFailure => self.on_global_reply(t, false, Bytes::new()),
            ConnectionMessage::Open {
                kind,
                sender,
                window,
                max_packet,
                data,
            } => match ChannelKind::decode(kind, data) {
                Ok(kind) => self.on_open(t, kind, sender, window, max_packet),
                Err(e) => t.fail(malformed(e).into()),
            },
            ConnectionMessage::OpenConfirmation {
                recipient,
                sender,
                window,
                max_packet,
            } => self.on_open_confirmation(t, number, recipient, sender, window, max_packet),
            ConnectionMessage::OpenFailure {
                recipient,
                reason,
                description,
            } => self.on_open_failure(t, number, recipient, reason, description),
            ConnectionMessage::WindowAdjust { recipient, bytes } => {
                self.on_window_adjust(t, number, recipient, bytes)
            }
            ConnectionMessage::Data { recipient, data } => {
                self.on_data(t, number, recipient, None, payload.slice_ref(data))
            }
            ConnectionMessage::ExtendedData {
                recipient,
                code,
                data,
            } => self.on_data(t, number, recipient, Some(code), payload.slice_ref(data)),
            ConnectionMessage::Eof { recipient } => self.on_eof(t, number, recipient),
            ConnectionMessage::Close { recipient } => self.on_close(t, number, recipient),
            ConnectionMessage::Request {
                recipient,
                name,
                want_reply,
                data,
            } => match ChannelRequest::decode(name, data) {
                Ok(request) => self.on_request(t, number, recipient, request, want_reply),
                Err(e) => t.fail(malformed(e).into()),
            },
            ConnectionMessage::Success { recipient } => {
                self.on_request_reply(t, number, recipient, true)
            }
            ConnectionMessage::Failure { recipient } => {
                self.on_request_reply(t, number, recipient, false)
            }
        }
    }

    /// The open channel a message names. Fails the connection (and returns `None`)
    /// for a channel number we do not have, one whose open is not confirmed, or one
    /// the peer already closed.
    fn open_channel(
        &mut self,
        t: &mut Transport,
        number: u8,
        channel: u32,
    ) -> Option<&mut ChannelState> {
        let error = match self.channels.get(&channel) {
            None => PeerMisbehaved::UnknownChannel { number, channel },
            Some(ch) if ch.remote.is_none() => PeerMisbehaved::ChannelNotOpen { number, channel },
            Some(ch) if ch.peer_closed => PeerMisbehaved::MessageAfterClose { number, channel },
            Some(_) => return self.channels.get_mut(&channel),
        };
        t.fail(error.into());
        None
    }

    /// The channel an open answer names: it must be one we are opening.
    fn opening_channel(&mut self, t: &mut Transport, number: u8, channel: u32) -> bool {
        let error = match self.channels.get(&channel) {
            None => PeerMisbehaved::UnknownChannel { number, channel },
            Some(ch) if ch.remote.is_some() => PeerMisbehaved::ChannelNotOpen { number, channel },
            Some(_) => return true,
        };
        t.fail(error.into());
        false
    }

    // ---- channel lifecycle ----

    fn on_open(
        &mut self,
        t: &mut Transport,
        kind: ChannelKind,
        remote: u32,
        window: u32,
        max_packet: u32,
    ) {
        if kind == ChannelKind::Session && self.role == Role::Server && self.no_more_sessions {
            return t.fail(PeerMisbehaved::SessionAfterNoMoreSessions.into());
        }
        let refusal = if max_packet == 0 {
            Some((
                OpenFailureReason::AdministrativelyProhibited,
                "maximum packet size 0",
            ))
        } else if self.channel_count() >= self.config.max_channels {
            Some((OpenFailureReason::ResourceShortage, "too many channels"))
        } else {
            None
        };
        if let Some((reason, description)) = refusal {
            let failure = wire::encode_open_failure(remote, reason.code(), description);
            return self.send_global(t, failure);
        }
        let (token, guard) = self.new_token();
        self.pending_opens.insert(
            token,
            PendingOpen {
                remote,
                window,
                max_packet,
            },
        );
        let decision = ChannelOpenDecision::new(guard, kind, window, max_packet);
        t.push_event(Event::ChannelOpenRequest(decision));
    }

    fn on_open_confirmation(
        &mut self,
        t: &mut Transport,
        number: u8,
        id: u32,
        remote: u32,
        window: u32,
        max_packet: u32,
    ) {
        if !self.opening_channel(t, number, id) {
            return;
        }
        if max_packet == 0 {
            return t.fail(PeerMisbehaved::ZeroMaxPacket(id).into());
        }
        if let Some(ch) = self.channels.get_mut(&id) {
            ch.remote = Some(remote);
            ch.send = super::window::SendWindow::new(window);
            ch.peer_max_packet = max_packet;
        }
        t.push_event(Event::ChannelOpened(ChannelId(id)));
        self.pump(t, id);
    }

    fn on_open_failure(
        &mut self,
        t: &mut Transport,
        number: u8,
        id: u32,
        reason: u32,
        description: String,
    ) {
        if !self.opening_channel(t, number, id) {
            return;
        }
        self.channels.remove(&id);
        t.push_event(Event::ChannelOpenFailed {
            id: ChannelId(id),
            reason: OpenFailureReason::from_code(reason),
            description,
        });
    }

    fn on_window_adjust(&mut self, t: &mut Transport, number: u8, id: u32, bytes: u32) {
        let Some(ch) = self.open_channel(t, number, id) else {
            return;
        };
        if ch.send.adjust(bytes).is_err() {
            return t.fail(PeerMisbehaved::WindowOverflow(id).into());
        }
        self.pump(t, id);
    }

    fn on_data(&mut self, t: &mut Transport, number: u8, id: u32, ext: Option<u32>, data: Bytes) {
        let Some(ch) = self.open_channel(t, number, id) else {
            return;
        };
        // Bounded by the packet size, far below 4 GiB.
        let len = data.len() as u32;
        let error = if ch.peer_eof {
            Some(PeerMisbehaved::DataAfterEof(id))
        } else if len > ch.max_packet {
            Some(PeerMisbehaved::ChannelPacketTooLarge {
                channel: id,
                len,
                max: ch.max_packet,
            })
        } else {
            ch.recv
                .receive(len)
                .err()
                .map(|available| PeerMisbehaved::WindowExceeded {
                    channel: id,
                    len,
                    available,
                })
        };
        if let Some(error) = error {
            return t.fail(error.into());
        }
        let wanted = !(ch.discard_input || ch.close_sent) && len > 0;
        let stored = match ext {
            _ if !wanted => false,
            None => {
                ch.stdout.push_back(data);
                true
            }
            Some(EXTENDED_DATA_STDERR) => {
                ch.stderr.push_back(data);
                true
            }
            // RFC 4254 defines no other type; its data is accounted for and dropped.
            Some(_) => false,
        };
        if !stored {
            // Dropped data counts as read: its credit goes back to the peer.
            ch.recv.consume(len);
            self.pump(t, id);
            return;
        }
        if !ch.readable_reported {
            ch.readable_reported = true;
            t.push_event(Event::ChannelReadable(ChannelId(id)));
        }
    }

    fn on_eof(&mut self, t: &mut Transport, number: u8, id: u32) {
        let Some(ch) = self.open_channel(t, number, id) else {
            return;
        };
        if ch.peer_eof {
            return t.fail(PeerMisbehaved::DuplicateEof(id).into());
        }
        ch.peer_eof = true;
        if !ch.discard_input {
            t.push_event(Event::ChannelEof(ChannelId(id)));
        }
    }

    fn on_close(&mut self, t: &mut Transport, number: u8, id: u32) {
        let Some(ch) = self.open_channel(t, number, id) else {
            return;
        };
        ch.peer_closed = true;
        if !ch.close_sent {
            // The peer reads nothing more: what we still had to send is moot, and
            // RFC 4254 §5.3 wants our CLOSE back.
            ch.drop_outbound();
            ch.reply_slots.clear();
            ch.close_requested = true;
        }
        self.pump(t, id);
    }

    // ---- channel requests ----

    fn on_request(
        &mut self,
        t: &mut Transport,
        number: u8,
        id: u32,
        request: ChannelRequest,
        want_reply: bool,
    ) {
        let limit = self.config.max_pending_requests;
        let Some(ch) = self.open_channel(t, number, id) else {
            return;
        };
        if ch.close_sent {
            // We closed; the peer will not expect answers any more.
            return;
        }
        if request == ChannelRequest::KeepAlive {
            // Answered failure, as OpenSSH does: the reply itself shows we are alive.
            if want_reply {
                ch.reply_slots
                    .push_back(ReplySlot::answered(Reply::FAILURE));
                self.flush_channel_replies(t, id);
            }
            return;
        }
        let guard = if want_reply {
            if ch.reply_slots.len() >= limit {
                return t.fail(PeerMisbehaved::TooManyPendingRequests(limit).into());
            }
            self.next_token_guard(id)
        } else {
            None
        };
        let decision = ChannelRequestDecision::new(guard, ChannelId(id), request);
        t.push_event(Event::ChannelRequest(decision));
    }

    /// A decision token for a request on channel `id`, with its reply slot queued.
    fn next_token_guard(&mut self, id: u32) -> Option<crate::decision::TokenGuard> {
        let (token, guard) = self.new_token();
        let ch = self.channels.get_mut(&id)?;
        ch.reply_slots.push_back(ReplySlot::awaiting(token));
        Some(guard)
    }

    fn on_request_reply(&mut self, t: &mut Transport, number: u8, id: u32, success: bool) {
        let Some(ch) = self.open_channel(t, number, id) else {
            return;
        };
        if ch.awaiting_replies == 0 {
            return t.fail(PeerMisbehaved::UnsolicitedChannelReply(id).into());
        }
        ch.awaiting_replies -= 1;
        if ch.writable() {
            t.push_event(Event::ChannelRequestResult {
                id: ChannelId(id),
                success,
            });
        }
    }

    // ---- global requests ----

    fn on_global_request(&mut self, t: &mut Transport, request: GlobalRequest, want_reply: bool) {
        let request = match (request, self.role) {
            (GlobalRequest::HostKeys(keys), Role::Client) => {
                t.push_event(Event::HostKeysAnnounced(keys));
                return self.answer_internally(t, want_reply, Reply::FAILURE);
            }
            (GlobalRequest::NoMoreSessions, Role::Server) => {
                self.no_more_sessions = true;
                return self.answer_internally(t, want_reply, Reply::SUCCESS);
            }
            // A probe, or a request meaningless in this direction: answered failure
            // without troubling the application.
            (
                GlobalRequest::KeepAlive
                | GlobalRequest::NoMoreSessions
                | GlobalRequest::HostKeys(_),
                _,
            ) => return self.answer_internally(t, want_reply, Reply::FAILURE),
            (request, _) => request,
        };
        let guard = if want_reply {
            let limit = self.config.max_pending_requests;
            if self.global_slots.len() >= limit {
                return t.fail(PeerMisbehaved::TooManyPendingRequests(limit).into());
            }
            let (token, guard) = self.new_token();
            self.global_slots.push_back(ReplySlot::awaiting(token));
            Some(guard)
        } else {
            None
        };
        let decision = GlobalRequestDecision::new(guard, request);
        t.push_event(Event::GlobalRequest(decision));
    }

    /// Queues the engine's own answer to a global request, behind earlier answers.
    fn answer_internally(&mut self, t: &mut Transport, want_reply: bool, reply: Reply) {
        if want_reply {
            let limit = self.config.max_pending_requests;
            if self.global_slots.len() >= limit {
                return t.fail(PeerMisbehaved::TooManyPendingRequests(limit).into());
            }
            self.global_slots.push_back(ReplySlot::answered(reply));
            self.flush_global_replies(t);
        }
    }

    fn on_global_reply(&mut self, t: &mut Transport, success: bool, data: Bytes) {
        match self.global_awaiting.pop_front() {
            None => t.fail(PeerMisbehaved::UnsolicitedGlobalReply.into()),
            Some(AwaitingGlobal::Keepalive) => {}
            Some(AwaitingGlobal::Application { port_in_reply }) => {
                let bound_port = match (success && port_in_reply, data.get(..4)) {
                    (true, Some(b)) => Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    _ => None,
                };
                t.push_event(Event::GlobalRequestResult {
                    success,
                    bound_port,
                    data,
                });
            }
        }
    }
}

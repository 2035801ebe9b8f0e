//! The SSH transport layer (RFC 4253): identification, the binary packet protocol,
//! key exchange and re-exchange, and the generic transport messages.
//!
//! [`Transport`] is shared by the client and server engines; the key-exchange round
//! lives in `handshake`, packet framing in `framing`.

mod framing;
mod handshake;
mod ident;
mod negotiate;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::config::{ServerConfig, TransportConfig};
use crate::crypto::SecureRandom;
use crate::decision::DroppedTokens;
use crate::error::{ConnectionError, DisconnectReason, PeerMisbehaved, TimerKind};
use crate::event::{Event, sanitize};
use crate::kex::GexRequest;
use crate::timer::TimerTable;
use crate::wire::msg;
use crate::wire::transport::{self as tmsg, TransportMessage};

#[cfg(fuzzing)]
pub(crate) use framing::PacketReader as FuzzPacketReader;
use framing::{PacketReader, PacketWriter};
use handshake::KexRound;
use ident::{IdentProgress, IdentReader};

pub use negotiate::Negotiated;

/// Which end of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Client,
    Server,
}

/// The one service this engine offers before authentication (RFC 4252).
pub(crate) const USERAUTH_SERVICE: &str = "ssh-userauth";

/// The transport state shared by both roles.
pub(crate) struct Transport {
    role: Role,
    config: TransportConfig,
    gex: GexRequest,
    server: Option<Arc<ServerConfig>>,
    rng: Box<dyn SecureRandom>,
    ident: Option<IdentReader>,
    our_version: String,
    peer_version: Option<String>,
    inbuf: BytesMut,
    out: Vec<u8>,
    writer: PacketWriter,
    reader: PacketReader,
    session_id: Option<Vec<u8>>,
    round: Option<KexRound>,
    completed_kex: u32,
    strict_kex: bool,
    negotiated: Option<Negotiated>,
    accepted_host_key: Option<Vec<u8>>,
    queued: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    events: VecDeque<Event>,
    timers: TimerTable,
    closed: bool,
    dropped: DroppedTokens,
    next_token: u64,
    /// The peer may send EXT_INFO as its next packet (RFC 8308 §2.4).
    ext_info_next: bool,
    server_sig_algs: Option<Vec<String>>,
    pending_service: Option<String>,
    /// (Client) Authentication is running: RFC 8308 §2.4 lets the server send a
    /// second EXT_INFO just before USERAUTH_SUCCESS.
    ext_info_in_auth: bool,
    /// (Client) An EXT_INFO arrived during authentication: USERAUTH_SUCCESS must follow.
    success_must_follow: bool,
    /// Tests can capture upper-layer messages instead of handing them up.
    #[cfg(test)]
    upper_capture: Option<VecDeque<Bytes>>,
    /// The time of the latest call into the engine.
    now: Instant,
}

impl Transport {
    pub(crate) fn new(
        role: Role,
        config: TransportConfig,
        gex: GexRequest,
        server: Option<Arc<ServerConfig>>,
        rng: Box<dyn SecureRandom>,
        now: Instant,
    ) -> Self {
        let limits = &config.limits;
        let mut out = Vec::with_capacity(4096);
        let our_version = ident::our_identification(&config.software_version, &mut out);
        let mut transport = Self {
            role,
            ident: Some(IdentReader::new(
                role == Role::Client,
                limits.max_preamble_lines,
            )),
            reader: PacketReader::new(limits.max_packet_len, limits.max_inflated_payload),
            gex,
            server,
            rng,
            our_version,
            peer_version: None,
            inbuf: BytesMut::new(),
            out,
            writer: PacketWriter::new(),
            session_id: None,
            round: None,
            completed_kex: 0,
            strict_kex: false,
            negotiated: None,
            accepted_host_key: None,
            queued: VecDeque::new(),
            queued_bytes: 0,
            events: VecDeque::new(),
            timers: TimerTable::default(),
            closed: false,
            dropped: DroppedTokens::default(),
            next_token: 0,
            ext_info_next: false,
            server_sig_algs: None,
            pending_service: None,
            ext_info_in_auth: false,
            success_must_follow: false,
            #[cfg(test)]
            upper_capture: None,
            now,
            config,
        };
        // Both sides send KEXINIT right after their identification, without waiting.
        transport.start_round(now);
        transport
    }

    // ---- getters ----

    pub(crate) fn peer_version(&self) -> Option<&str> {
        self.peer_version.as_deref()
    }

    pub(crate) fn our_version(&self) -> &str {
        &self.our_version
    }

    pub(crate) fn session_id(&self) -> Option<&[u8]> {
        self.session_id.as_deref()
    }

    pub(crate) fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    pub(crate) fn server_sig_algs(&self) -> Option<&[String]> {
        self.server_sig_algs.as_deref()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn completed_kex(&self) -> u32 {
        self.completed_kex
    }

    pub(crate) fn strict_kex(&self) -> bool {
        self.strict_kex
    }

    // ---- input ----

    /// Takes bytes received from the peer. Call [`Transport::next_upper`] until it
    /// returns `None` to process them.
    pub(crate) fn feed(&mut self, now: Instant, mut data: &[u8]) {
        self.now = now;
        self.process_dropped_tokens();
        if self.closed {
            return;
        }
        if let Some(reader) = &mut self.ident {
            match reader.feed(data) {
                Ok(IdentProgress::NeedMore) => return,
                Ok(IdentProgress::Done { version, consumed }) => {
                    self.peer_version = Some(version);
                    self.ident = None;
                    data = &data[consumed..];
                }
                Err(e) => return self.fail(e.into()),
            }
        }
        self.inbuf.extend_from_slice(data);
    }

    /// Processes buffered packets until one for the layers above the transport
    /// (authentication, connection) turns up, and returns it with its sequence number.
    /// Transport messages are handled on the way.
    pub(crate) fn next_upper(&mut self) -> Option<(u32, Bytes)> {
        while !self.closed {
            match self.reader.read(&mut self.inbuf) {
                Ok(Some((seq, payload))) => {
                    if self.reader.wrapped && self.completed_kex == 0 {
                        self.fail(PeerMisbehaved::SequenceWrapped.into());
                        return None;
                    }
                    let upper = self.dispatch(self.now, seq, payload);
                    self.maybe_rekey(self.now);
                    if let Some(upper) = upper {
                        #[cfg(test)]
                        if let Some(capture) = &mut self.upper_capture {
                            capture.push_back(upper.1);
                            continue;
                        }
                        return Some(upper);
                    }
                }
                Ok(None) => return None,
                Err(e) => {
                    self.fail(e.into());
                    return None;
                }
            }
        }
        None
    }

    /// Answers an upper-layer message no layer handles (RFC 4253 §11.4).
    pub(crate) fn reply_unimplemented(&mut self, seq: u32) {
        self.send_transport(&tmsg::encode_unimplemented(seq));
    }

    pub(crate) fn handle_eof(&mut self) {
        if !self.closed {
            self.fail(ConnectionError::ConnectionLost);
        }
    }

    /// Fires the transport's due timers; returns the due timers of the layers above.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Vec<TimerKind> {
        self.now = now;
        self.process_dropped_tokens();
        let fired: Vec<TimerKind> = self.timers.expire(now).collect();
        let mut upper = Vec::new();
        for kind in fired {
            match kind {
                TimerKind::KeyExchange => self.fail(ConnectionError::TimedOut(kind)),
                TimerKind::Rekey => self.rekey(now),
                other => upper.push(other),
            }
        }
        upper
    }

    /// Handles one packet; returns it when it belongs to an upper layer.
    fn dispatch(&mut self, now: Instant, seq: u32, payload: Bytes) -> Option<(u32, Bytes)> {
        let number = payload[0];
        let after_newkeys = std::mem::take(&mut self.ext_info_next);
        let ext_info_allowed =
            after_newkeys || (self.ext_info_in_auth && !self.success_must_follow);
        if let Err(e) = self.check_allowed(number) {
            self.fail(e.into());
            return None;
        }
        if std::mem::take(&mut self.success_must_follow) && number != msg::USERAUTH_SUCCESS {
            let context = "after an EXT_INFO that must precede USERAUTH_SUCCESS";
            self.fail(PeerMisbehaved::UnexpectedMessage { number, context }.into());
            return None;
        }
        let decoded = match TransportMessage::decode(&payload) {
            Ok(m) => m,
            Err(error) => {
                self.fail(PeerMisbehaved::MalformedMessage { number, error }.into());
                return None;
            }
        };
        match decoded {
            Some(TransportMessage::Disconnect {
                reason,
                description,
            }) => {
                let error = ConnectionError::PeerDisconnected {
                    reason: DisconnectReason::from_code(reason),
                    description: sanitize(description),
                };
                self.close(error);
            }
            Some(TransportMessage::Ignore) => {}
            Some(TransportMessage::Unimplemented(seq)) => {
                if self
                    .round
                    .as_ref()
                    .is_some_and(|r| r.refuses_our_kexinit(seq))
                {
                    self.fail(ConnectionError::KeyExchangeRefused);
                }
            }
            Some(TransportMessage::Debug {
                always_display,
                message,
            }) => {
                let message = sanitize(message);
                self.events.push_back(Event::Debug {
                    always_display,
                    message,
                });
            }
            // Both are handled here and then handed up, so the authentication layer
            // knows where the service stands.
            Some(TransportMessage::ServiceRequest(name)) => {
                self.on_service_request(name);
                return (!self.closed).then_some((seq, payload));
            }
            Some(TransportMessage::ServiceAccept(name)) => {
                self.on_service_accept(name);
                return (!self.closed).then_some((seq, payload));
            }
            Some(TransportMessage::ExtInfo(extensions)) => {
                if !ext_info_allowed {
                    let context = "outside the places RFC 8308 allows";
                    self.fail(PeerMisbehaved::UnexpectedMessage { number, context }.into());
                    return None;
                }
                if let Some((_, value)) = extensions.iter().find(|(n, _)| *n == "server-sig-algs") {
                    if let Ok(list) = crate::wire::NameList::parse(value) {
                        self.server_sig_algs = Some(list.iter().map(str::to_owned).collect());
                    }
                }
                self.success_must_follow = !after_newkeys;
            }
            Some(TransportMessage::NewKeys) => self.on_newkeys(),
            None if number == msg::KEXINIT => self.on_kexinit(now, seq, &payload),
            None if (msg::KEX_METHOD_FIRST..=msg::KEX_METHOD_LAST).contains(&number) => {
                self.on_kex_method(&payload)
            }
            None => return self.on_upper(seq, payload),
        }
        None
    }

    /// Which messages the peer may send in the current state.
    fn check_allowed(&self, number: u8) -> Result<(), PeerMisbehaved> {
        let kex_message = number == msg::KEXINIT
            || number == msg::NEWKEYS
            || (msg::KEX_METHOD_FIRST..=msg::KEX_METHOD_LAST).contains(&number);
        let in_initial_kex = self.completed_kex == 0;
        // The peer's messages are keyed once its NEWKEYS of the current round arrived.
        let peer_keyed = match &self.round {
            Some(round) if round.peer_started() => round.received_newkeys(),
            _ => self.completed_kex > 0,
        };
        if self.strict_kex
            && in_initial_kex
            && !peer_keyed
            && !kex_message
            && number != msg::DISCONNECT
        {
            return Err(PeerMisbehaved::StrictKex(
                "only key exchange messages before NEWKEYS",
            ));
        }
        if msg::sent_only_by_server(number) && self.role == Role::Server
            || msg::sent_only_by_client(number) && self.role == Role::Client
        {
            return Err(PeerMisbehaved::WrongRole(number));
        }
        // Between its KEXINIT and its NEWKEYS a peer may only send transport messages
        // (RFC 4253 §7.1); before its first NEWKEYS nothing else is keyed.
        let service_or_upper = number == msg::SERVICE_REQUEST
            || number == msg::SERVICE_ACCEPT
            || number >= msg::USERAUTH_REQUEST;
        if service_or_upper && !peer_keyed {
            let context = if in_initial_kex {
                "before the key exchange completed"
            } else {
                "during a key re-exchange"
            };
            return Err(PeerMisbehaved::UnexpectedMessage { number, context });
        }
        Ok(())
    }

    fn on_service_request(&mut self, name: &str) {
        if name == USERAUTH_SERVICE && self.completed_kex > 0 {
            let accept = tmsg::encode_with_string(msg::SERVICE_ACCEPT, name.as_bytes());
            self.send_upper(&accept);
            self.events
                .push_back(Event::ServiceAccepted(name.to_owned()));
        } else {
            self.fail(PeerMisbehaved::ServiceNotAvailable(sanitize(name)).into());
        }
    }

    fn on_service_accept(&mut self, name: &str) {
        if self.pending_service.as_deref() == Some(name) {
            self.pending_service = None;
            self.events
                .push_back(Event::ServiceAccepted(name.to_owned()));
        } else {
            let context = "for a service we did not request";
            self.fail(
                PeerMisbehaved::UnexpectedMessage {
                    number: msg::SERVICE_ACCEPT,
                    context,
                }
                .into(),
            );
        }
    }

    fn on_upper(&mut self, seq: u32, payload: Bytes) -> Option<(u32, Bytes)> {
        // Compression must start before the next packet is read.
        if self.role == Role::Client && payload[0] == msg::USERAUTH_SUCCESS {
            self.start_delayed_compression();
        }
        Some((seq, payload))
    }

    // ---- output ----

    /// Sends a transport message now, even during a key exchange.
    fn send_transport(&mut self, payload: &[u8]) {
        self.writer.write(payload, &mut self.out, self.rng.as_mut());
    }

    /// Sends an upper-layer (or service) message, holding it back while our side of a
    /// key exchange runs (RFC 4253 §7.1). Returns false when the hold-back queue is
    /// full, in which case the message was not taken.
    pub(crate) fn send_upper(&mut self, payload: &[u8]) -> bool {
        self.send_upper_parts(&[payload])
    }

    /// [`Transport::send_upper`] for a payload given in parts (a header and the data
    /// behind it), which the packet takes without joining them first.
    pub(crate) fn send_upper_parts(&mut self, parts: &[&[u8]]) -> bool {
        if self.closed {
            return false;
        }
        if self.round.as_ref().is_some_and(|r| !r.sent_newkeys()) {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            if self.queued_bytes + len > self.config.limits.max_queued_during_kex {
                return false;
            }
            self.queued_bytes += len;
            self.queued.push_back(parts.concat());
            return true;
        }
        self.write_upper(parts);
        // A sender whose peer stays silent must still rekey at its byte limit.
        self.maybe_rekey(self.now);
        true
    }

    fn write_upper(&mut self, parts: &[&[u8]]) {
        self.writer
            .write_parts(parts, &mut self.out, self.rng.as_mut());
        let first = parts.iter().find_map(|p| p.first());
        if self.role == Role::Server && first == Some(&msg::USERAUTH_SUCCESS) {
            self.start_delayed_compression();
        }
    }

    /// zlib@openssh.com starts in both directions once authentication has succeeded:
    /// on the server after sending USERAUTH_SUCCESS, on the client on receiving it.
    fn start_delayed_compression(&mut self) {
        self.writer.start_delayed_compression();
        self.reader.start_delayed_compression();
    }

    fn flush_queued(&mut self) {
        while let Some(payload) = self.queued.pop_front() {
            self.queued_bytes -= payload.len();
            self.write_upper(&[&payload]);
        }
    }

    pub(crate) fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        let n = self.out.len();
        if out.is_empty() {
            // The caller's empty buffer becomes ours: the sealed packets reach it
            // without a copy, and both allocations keep being reused.
            std::mem::swap(out, &mut self.out);
        } else {
            out.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// True when sealed bytes wait for `poll_transmit` or events for `poll_event`.
    pub(crate) fn has_output(&self) -> bool {
        !self.out.is_empty() || !self.events.is_empty()
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            None
        } else {
            self.timers.earliest()
        }
    }

    /// Queues an event from a layer above; nothing follows `Closed`.
    pub(crate) fn push_event(&mut self, event: Event) {
        if !self.closed {
            self.events.push_back(event);
        }
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.process_dropped_tokens();
        self.events.pop_front()
    }

    // ---- commands ----

    pub(crate) fn request_service(&mut self, name: &str) {
        self.pending_service = Some(name.to_owned());
        let request = tmsg::encode_with_string(msg::SERVICE_REQUEST, name.as_bytes());
        self.send_upper(&request);
    }

    /// Starts a key re-exchange unless one is running (or the first has not finished).
    pub(crate) fn rekey(&mut self, now: Instant) {
        self.now = now;
        if !self.closed && self.round.is_none() && self.completed_kex > 0 {
            self.start_round(now);
        }
    }

    pub(crate) fn send_debug(&mut self, always_display: bool, message: &str) {
        if self.completed_kex > 0 || !self.strict_kex {
            self.send_upper(&tmsg::encode_debug(always_display, message));
        }
    }

    pub(crate) fn send_ignore(&mut self, data: &[u8]) {
        if self.completed_kex > 0 {
            self.send_upper(&tmsg::encode_with_string(msg::IGNORE, data));
        }
    }

    pub(crate) fn disconnect(&mut self, reason: DisconnectReason, description: &str) {
        if self.closed {
            return;
        }
        self.send_transport(&tmsg::encode_disconnect(reason.code(), description));
        self.close(ConnectionError::LocallyClosed(description.to_owned()));
    }

    fn maybe_rekey(&mut self, now: Instant) {
        if self.round.is_some() || self.completed_kex == 0 {
            return;
        }
        let limit = self.rekey_byte_limit();
        let packets = 1u64 << 31;
        if self.writer.bytes >= limit
            || self.reader.bytes >= limit
            || self.writer.packets >= packets
            || self.reader.packets >= packets
        {
            self.start_round(now);
        }
    }

    /// RFC 4344 §3.2: rekey before 2^(L/4) blocks of an L-bit block cipher, as OpenSSH
    /// does (1 GiB for 8-byte-block ciphers), or the configured limit if lower.
    fn rekey_byte_limit(&self) -> u64 {
        let cipher_limit = self.negotiated.map_or(1 << 30, |n| {
            let block = n.cipher_c2s.block_size().min(n.cipher_s2c.block_size()) as u64;
            if block >= 16 {
                (1u64 << (block * 2)).saturating_mul(block)
            } else {
                1 << 30
            }
        });
        self.config
            .rekey_after_bytes
            .map_or(cipher_limit, |l| l.min(cipher_limit))
    }

    // ---- for the layers above ----

    /// Arms the timer of `kind` (one slot per kind: this replaces an earlier deadline).
    pub(crate) fn set_timer(&mut self, kind: TimerKind, at: Instant) {
        if !self.closed {
            self.timers.set(kind, at);
        }
    }

    /// Disarms the timer of `kind`.
    pub(crate) fn stop_timer(&mut self, kind: TimerKind) {
        self.timers.stop(kind);
    }

    /// The time of the latest call into the engine.
    pub(crate) fn now(&self) -> Instant {
        self.now
    }

    /// The connection's random generator.
    pub(crate) fn rng(&mut self) -> &mut dyn SecureRandom {
        self.rng.as_mut()
    }

    /// (Client) Allows the server's second EXT_INFO while authentication runs
    /// (RFC 8308 §2.4); switched off again on USERAUTH_SUCCESS.
    pub(crate) fn set_ext_info_in_auth(&mut self, allowed: bool) {
        self.ext_info_in_auth = allowed;
    }

    // ---- decisions ----

    pub(crate) fn new_token_id(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    fn process_dropped_tokens(&mut self) {
        for id in self.dropped.take() {
            if self.round.as_ref().and_then(KexRound::awaiting_host_key) == Some(id) {
                self.fail(ConnectionError::HostKeyRejected);
            }
        }
    }

    // ---- ending ----

    /// Ends the connection with an error of ours or the peer's, queueing DISCONNECT
    /// first when the error calls for one.
    pub(crate) fn fail(&mut self, error: ConnectionError) {
        if self.closed {
            return;
        }
        if let Some(reason) = error.disconnect_reason() {
            let description = error.to_string();
            self.send_transport(&tmsg::encode_disconnect(reason.code(), &description));
        }
        self.close(error);
    }

    fn close(&mut self, error: ConnectionError) {
        self.closed = true;
        self.round = None;
        self.queued.clear();
        self.queued_bytes = 0;
        self.timers = TimerTable::default();
        self.events.push_back(Event::Closed(error));
    }

    // ---- test hooks ----

    /// Keeps upper-layer messages for `poll_upper` instead of handing them up.
    #[cfg(test)]
    pub(crate) fn deliver_upper_messages(&mut self) {
        self.upper_capture = Some(VecDeque::new());
    }

    #[cfg(test)]
    pub(crate) fn poll_upper(&mut self) -> Option<Bytes> {
        self.upper_capture.as_mut().and_then(VecDeque::pop_front)
    }
}

#[cfg(test)]
impl Transport {
    /// Seals `payload` as the next packet without any state check (for tests that
    /// play a misbehaving peer).
    pub(crate) fn inject_packet(&mut self, payload: &[u8]) {
        self.writer.write(payload, &mut self.out, self.rng.as_mut());
    }

    /// Sequence number the next packet from the peer will carry.
    pub(crate) fn next_read_sequence(&self) -> u32 {
        self.reader.next_sequence()
    }
}

//! The client engine: sends requests, matches responses to them by id.

use std::collections::{BTreeMap, HashSet, VecDeque};

use bytes::Bytes;

use crate::sftp::error::{PeerMisbehaved, RequestError, SessionError};
use crate::sftp::reply::decode_response;
use crate::sftp::request::encode_write_header;
use crate::sftp::wire::{Deframer, MIN_PACKET_LEN, SFTP_VERSION, begin_packet, end_packet, fxp};
use crate::sftp::{
    Extension, Extensions, Handle, Limits, Reply, Request, RequestId, RequestKind, SftpError,
    StatusCode,
};
use crate::wire::{Reader, Writer};

mod requests;

/// Bytes of a WRITE packet besides its data, with the longest handle: type, id,
/// handle string, offset, data length.
const WRITE_OVERHEAD: u64 = 1 + 4 + 4 + Handle::MAX_LEN as u64 + 8 + 4;
/// Bytes of a DATA packet besides its data: type, id, data length.
const DATA_OVERHEAD: u64 = 1 + 4 + 4;
/// What a server's "no specific limit" (0) is taken to mean: OpenSSH's own limits.
const UNLIMITED_PACKET: u64 = 256 * 1024;
const UNLIMITED_IO: u64 = 255 * 1024;
/// Write data from this size on is handed out by `poll_transmit_vectored` as the
/// caller gave it; smaller data is copied along with its header.
const UNCOPIED_WRITE_MIN: usize = 16 * 1024;

/// Read and write lengths every server accepts, used without `limits@openssh.com`.
const DEFAULT_IO: u64 = 32 * 1024;

/// Settings of an [`SftpClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Largest packet accepted from the server (its length field). Reads are capped
    /// so that their replies fit. Default 256 KiB, OpenSSH's own limit.
    pub max_packet_len: u32,
    /// Most requests in flight at once; more are refused with
    /// [`RequestError::TooManyInFlight`]. Default 256.
    pub max_in_flight: usize,
    /// Ask the server's limits with `limits@openssh.com` (when it offers it) before
    /// reporting `Ready`. Default true.
    pub negotiate_limits: bool,
    /// Extension pairs to send in SSH_FXP_INIT (none by default).
    pub extensions: Extensions,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            max_packet_len: 256 * 1024,
            max_in_flight: 256,
            negotiate_limits: true,
            extensions: Extensions::default(),
        }
    }
}

/// What the client engine reports. Drain with [`SftpClient::poll_event`] after every
/// call into the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The server's version, extensions and (when negotiated) limits are known;
    /// requests may be sent from now on.
    Ready,
    /// The response to a request.
    Response {
        /// The id the request method returned.
        id: RequestId,
        /// The reply, or the status the server failed the request with. Requests in
        /// flight when the session ends fail with SSH_FX_CONNECTION_LOST.
        result: Result<Reply, SftpError>,
    },
    /// The session ended; always the last event.
    Closed(SessionError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitVersion,
    AwaitLimits(RequestId),
    Ready,
    Closed,
}

/// The SFTP client engine: a sans-IO state machine over the subsystem's byte stream.
///
/// Run loop: feed bytes from the channel to [`handle_input`](Self::handle_input)
/// (any chunking), then drain [`poll_transmit`](Self::poll_transmit) into the channel
/// and [`poll_event`](Self::poll_event) until empty. Commands (one method per
/// operation, or [`send`](Self::send)) return the request's id at once; its
/// [`ClientEvent::Response`] arrives later, in any order relative to other requests.
///
/// ```
/// use sansh_core::sftp::{
///     Backend, ClientConfig, ClientEvent, MemoryFs, Reply, ServerConfig, ServerEvent, SftpClient,
///     SftpServer,
/// };
///
/// let mut client = SftpClient::new(ClientConfig::default());
/// let mut server = SftpServer::new(ServerConfig::default());
/// let mut fs = MemoryFs::new();
/// let mut wire = Vec::new();
/// let mut pump = |client: &mut SftpClient, server: &mut SftpServer, fs: &mut MemoryFs| {
///     for _ in 0..8 {
///         wire.clear();
///         let _ = client.poll_transmit(&mut wire);
///         server.handle_input(&wire);
///         while let Some(ServerEvent::Request { id, request }) = server.poll_event() {
///             server.respond(id, fs.dispatch(request)).unwrap();
///         }
///         wire.clear();
///         let _ = server.poll_transmit(&mut wire);
///         client.handle_input(&wire);
///     }
/// };
/// pump(&mut client, &mut server, &mut fs);
/// assert_eq!(client.poll_event(), Some(ClientEvent::Ready));
/// let id = client.mkdir("/docs", &Default::default()).unwrap();
/// pump(&mut client, &mut server, &mut fs);
/// assert_eq!(client.poll_event(), Some(ClientEvent::Response { id, result: Ok(Reply::Ok) }));
/// ```
#[derive(Debug)]
pub struct SftpClient {
    config: ClientConfig,
    state: State,
    input: Deframer,
    out: Vec<u8>,
    /// Output cut at the data of large writes, in order before `out`: the bytes
    /// encoded before each such write's data, then the data, which
    /// [`Self::poll_transmit_vectored`] hands out without copying it.
    cut: VecDeque<(Vec<u8>, Bytes)>,
    events: VecDeque<ClientEvent>,
    /// Requests in flight, by id. Ordered so that failing them all on close reports
    /// them in a deterministic order.
    pending: BTreeMap<u32, RequestKind>,
    next_id: u32,
    extensions: Extensions,
    limits: Limits,
    /// Handles the server handed out and we have not closed, and opens in flight:
    /// together they stay under the server's `max_open_handles`.
    handles: HashSet<Handle>,
    opens_in_flight: usize,
}

impl SftpClient {
    /// A client that has queued its SSH_FXP_INIT.
    pub fn new(config: ClientConfig) -> Self {
        let mut out = Vec::new();
        let start = begin_packet(&mut out, fxp::INIT);
        out.put_u32(SFTP_VERSION);
        config.extensions.encode(&mut out);
        end_packet(&mut out, start);
        Self {
            input: Deframer::new(config.max_packet_len),
            limits: effective_limits(None, config.max_packet_len),
            config,
            state: State::AwaitVersion,
            out,
            cut: VecDeque::new(),
            events: VecDeque::new(),
            pending: BTreeMap::new(),
            next_id: 0,
            extensions: Extensions::default(),
            handles: HashSet::new(),
            opens_in_flight: 0,
        }
    }

    // ----- getters -----

    /// True once the `Ready` event has been queued and until the session ends.
    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// True once the session has ended (the `Closed` event was queued).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The extensions the server advertised (empty before `Ready`).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The limits in force: the server's (from `limits@openssh.com`) capped by our
    /// own, or defaults every server accepts. Read lengths are clamped to
    /// `max_read_len`; writes longer than `max_write_len` are refused.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// How many requests are waiting for a response.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// How many handles are open (handed out by the server and not closed since),
    /// counting opens in flight.
    pub fn open_handle_count(&self) -> usize {
        self.handles.len() + self.opens_in_flight
    }

    /// How many more requests may be sent before the in-flight cap.
    pub fn capacity(&self) -> usize {
        self.config.max_in_flight.saturating_sub(self.pending.len())
    }

    // ----- input -----

    /// Feeds bytes received from the server, in chunks of any size.
    pub fn handle_input(&mut self, data: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        self.input.push(data);
        loop {
            let packet = match self.input.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return,
                Err(e) => return self.fail(SessionError::PeerMisbehaved(e.into())),
            };
            if let Err(e) = self.handle_packet(&packet) {
                return self.fail(e.into());
            }
        }
    }

    /// Tells the engine the byte stream ended. Requests in flight fail with
    /// SSH_FX_CONNECTION_LOST, then the session closes.
    pub fn handle_eof(&mut self) {
        if self.state != State::Closed {
            self.fail(SessionError::EndOfStream);
        }
    }

    /// Ends the session from our side: requests in flight fail with
    /// SSH_FX_CONNECTION_LOST, then `Closed(LocallyClosed)` is reported. Close the
    /// channel afterwards.
    pub fn close(&mut self) {
        if self.state != State::Closed {
            self.fail(SessionError::LocallyClosed);
        }
    }

    // ----- output -----

    /// Appends bytes to send to the server; returns how many were appended.
    #[must_use]
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        let before = out.len();
        for (encoded, data) in self.cut.drain(..) {
            out.extend_from_slice(&encoded);
            out.extend_from_slice(&data);
        }
        self.move_out(out);
        out.len() - before
    }

    /// Moves `self.out` to the end of `out`: by swapping when `out` is empty, which
    /// copies nothing and gives the engine the caller's buffer to fill next.
    fn move_out(&mut self, out: &mut Vec<u8>) {
        if out.is_empty() {
            std::mem::swap(out, &mut self.out);
        } else {
            out.append(&mut self.out);
        }
    }

    /// Like [`Self::poll_transmit`], without copying the data of large writes: appends
    /// the bytes to send up to the next such data and returns that data, which goes
    /// out right after them; `None` when everything is in `out`. Call until `None`.
    ///
    /// ```
    /// # use sansh_core::sftp::{ClientConfig, SftpClient};
    /// let mut client = SftpClient::new(ClientConfig::default());
    /// let mut wire = Vec::new();
    /// loop {
    ///     let data = client.poll_transmit_vectored(&mut wire);
    ///     // Send `wire`, then `data` (a write's bytes, as the caller gave them).
    ///     wire.clear();
    ///     if data.is_none() {
    ///         break;
    ///     }
    /// }
    /// ```
    pub fn poll_transmit_vectored(&mut self, out: &mut Vec<u8>) -> Option<Bytes> {
        if let Some((encoded, data)) = self.cut.pop_front() {
            if out.is_empty() {
                *out = encoded;
            } else {
                out.extend_from_slice(&encoded);
            }
            return Some(data);
        }
        self.move_out(out);
        None
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    // ----- commands -----

    /// Sends any request; returns its id. Each request also has a shorthand
    /// ([`Self::open`], [`Self::read`], [`Self::write`], ...).
    ///
    /// # Errors
    /// [`RequestError`] when the session is not ready or has ended, the in-flight cap
    /// is reached, the server lacks the extension, or the request exceeds a limit.
    pub fn send(&mut self, request: &Request) -> Result<RequestId, RequestError> {
        let kind = request.kind();
        self.check_sendable(kind)?;
        for (handle, _) in request.handles() {
            if handle.len() > Handle::MAX_LEN {
                return Err(RequestError::HandleTooLong(handle.len()));
            }
        }
        let clamped;
        let request = match request {
            Request::Read {
                handle,
                offset,
                len,
            } if u64::from(*len) > self.limits.max_read_len => {
                clamped = Request::Read {
                    handle: handle.clone(),
                    offset: *offset,
                    len: clamp_u32(self.limits.max_read_len),
                };
                &clamped
            }
            Request::Write { data, .. } => {
                self.check_write_len(data.len())?;
                request
            }
            other => other,
        };
        let id = self.allocate_id();
        let start = self.out.len();
        let id = match request {
            Request::Write {
                handle,
                offset,
                data,
            } if data.len() >= UNCOPIED_WRITE_MIN => {
                encode_write_header(&mut self.out, id, handle, *offset, data.len());
                let id = self.commit_with(start, data.len(), id, kind)?;
                self.cut
                    .push_back((std::mem::take(&mut self.out), data.clone()));
                id
            }
            _ => {
                request.encode(id, &mut self.out);
                self.commit(start, id, kind)?
            }
        };
        if let Request::Close { handle } = request {
            self.handles.remove(handle);
        }
        Ok(id)
    }

    // ----- internals -----

    fn check_sendable(&self, kind: RequestKind) -> Result<(), RequestError> {
        match self.state {
            State::Ready => {}
            State::Closed => return Err(RequestError::Closed),
            State::AwaitVersion | State::AwaitLimits(_) => return Err(RequestError::NotReady),
        }
        if let Some(ext) = kind.extension() {
            if !self.extensions.supports(ext) {
                return Err(RequestError::Unsupported(ext));
            }
        }
        if self.pending.len() >= self.config.max_in_flight {
            return Err(RequestError::TooManyInFlight {
                limit: self.config.max_in_flight,
            });
        }
        let max_handles = self.limits.max_open_handles;
        if matches!(kind, RequestKind::Open | RequestKind::Opendir)
            && max_handles > 0
            && self.open_handle_count() as u64 >= max_handles
        {
            return Err(RequestError::TooManyHandles { limit: max_handles });
        }
        Ok(())
    }

    fn check_write_len(&self, len: usize) -> Result<(), RequestError> {
        if len as u64 > self.limits.max_write_len {
            return Err(RequestError::TooLarge {
                len,
                max: usize::try_from(self.limits.max_write_len).unwrap_or(usize::MAX),
            });
        }
        Ok(())
    }

    /// Keeps the packet encoded at `start` if it fits the server's packet limit.
    fn commit(
        &mut self,
        start: usize,
        id: RequestId,
        kind: RequestKind,
    ) -> Result<RequestId, RequestError> {
        self.commit_with(start, 0, id, kind)
    }

    /// [`Self::commit`] for a packet whose last `trailing` bytes are not in `out`.
    fn commit_with(
        &mut self,
        start: usize,
        trailing: usize,
        id: RequestId,
        kind: RequestKind,
    ) -> Result<RequestId, RequestError> {
        let len = self.out.len() - start - 4 + trailing;
        if len as u64 > self.limits.max_packet_len {
            self.out.truncate(start);
            return Err(RequestError::TooLarge {
                len,
                max: usize::try_from(self.limits.max_packet_len).unwrap_or(usize::MAX),
            });
        }
        self.pending.insert(id.0, kind);
        self.next_id = id.0.wrapping_add(1);
        if matches!(kind, RequestKind::Open | RequestKind::Opendir) {
            self.opens_in_flight += 1;
        }
        Ok(id)
    }

    fn allocate_id(&self) -> RequestId {
        // The in-flight cap keeps the map far smaller than the id space, so a free id
        // is always found.
        let mut id = self.next_id;
        while self.pending.contains_key(&id) {
            id = id.wrapping_add(1);
        }
        RequestId(id)
    }

    fn handle_packet(&mut self, packet: &Bytes) -> Result<(), PeerMisbehaved> {
        let ty = packet.first().copied().unwrap_or(0);
        let mut r = Reader::new(packet.get(1..).unwrap_or_default());
        if self.state == State::AwaitVersion {
            return self.handle_version(ty, &mut r);
        }
        match ty {
            fxp::VERSION => return Err(PeerMisbehaved::DuplicateVersion),
            fxp::STATUS
            | fxp::HANDLE
            | fxp::DATA
            | fxp::NAME
            | fxp::ATTRS
            | fxp::EXTENDED_REPLY => {}
            other => return Err(PeerMisbehaved::UnexpectedPacket(other)),
        }
        let id = RequestId(r.u32().map_err(|e| PeerMisbehaved::MalformedResponse {
            packet_type: ty,
            error: e.into(),
        })?);
        let kind = self
            .pending
            .remove(&id.0)
            .ok_or(PeerMisbehaved::UnknownRequestId(id))?;
        let result = decode_response(kind, ty, packet, &mut r)?;
        if matches!(kind, RequestKind::Open | RequestKind::Opendir) {
            self.opens_in_flight = self.opens_in_flight.saturating_sub(1);
            if let Ok(Reply::Handle(handle)) = &result {
                self.handles.insert(handle.clone());
            }
        }
        if self.state == State::AwaitLimits(id) {
            let server = match result {
                Ok(Reply::Limits(limits)) => Some(limits),
                // A server that advertised limits but fails the request gets the
                // defaults every server accepts.
                _ => None,
            };
            self.limits = effective_limits(server, self.config.max_packet_len);
            self.state = State::Ready;
            self.events.push_back(ClientEvent::Ready);
        } else {
            self.events.push_back(ClientEvent::Response { id, result });
        }
        Ok(())
    }

    fn handle_version(&mut self, ty: u8, r: &mut Reader<'_>) -> Result<(), PeerMisbehaved> {
        if ty != fxp::VERSION {
            return Err(PeerMisbehaved::ResponseBeforeVersion(ty));
        }
        let version = r
            .u32()
            .map_err(|e| PeerMisbehaved::MalformedHello(e.into()))?;
        if version != SFTP_VERSION {
            return Err(PeerMisbehaved::UnsupportedVersion(version));
        }
        self.extensions = Extensions::decode(r).map_err(PeerMisbehaved::MalformedHello)?;
        if self.config.negotiate_limits && self.extensions.supports(Extension::Limits) {
            let id = self.allocate_id();
            let start = self.out.len();
            Request::Limits.encode(id, &mut self.out);
            debug_assert!(self.out.len() - start < MIN_PACKET_LEN as usize);
            self.pending.insert(id.0, RequestKind::Limits);
            self.next_id = id.0.wrapping_add(1);
            self.state = State::AwaitLimits(id);
        } else {
            self.state = State::Ready;
            self.events.push_back(ClientEvent::Ready);
        }
        Ok(())
    }

    fn fail(&mut self, error: SessionError) {
        let was_awaiting_limits = matches!(self.state, State::AwaitLimits(_));
        self.state = State::Closed;
        self.handles.clear();
        self.opens_in_flight = 0;
        let pending = std::mem::take(&mut self.pending);
        if !was_awaiting_limits {
            for id in pending.into_keys() {
                self.events.push_back(ClientEvent::Response {
                    id: RequestId(id),
                    result: Err(SftpError::from_code(StatusCode::ConnectionLost)),
                });
            }
        }
        self.events.push_back(ClientEvent::Closed(error));
    }
}

/// The limits the client works with, from the server's answer (if any) and our cap on
/// incoming packets.
fn effective_limits(server: Option<Limits>, max_incoming: u32) -> Limits {
    let read_room = u64::from(max_incoming).saturating_sub(DATA_OVERHEAD).max(1);
    let Some(s) = server else {
        return Limits {
            max_packet_len: u64::from(MIN_PACKET_LEN),
            max_read_len: DEFAULT_IO.min(read_room),
            max_write_len: DEFAULT_IO,
            max_open_handles: 0,
        };
    };
    let or = |v: u64, default: u64| if v == 0 { default } else { v };
    let packet = or(s.max_packet_len, UNLIMITED_PACKET).min(u64::from(u32::MAX));
    Limits {
        max_packet_len: packet,
        max_read_len: or(s.max_read_len, UNLIMITED_IO).min(read_room),
        max_write_len: or(s.max_write_len, UNLIMITED_IO)
            .min(packet.saturating_sub(WRITE_OVERHEAD))
            .max(1),
        max_open_handles: s.max_open_handles,
    }
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

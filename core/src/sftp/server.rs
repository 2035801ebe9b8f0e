//! The server engine: parses requests into events and encodes the application's
//! responses. It owns no filesystem; see [`Backend`](super::Backend).

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use crate::sftp::error::{PeerMisbehaved, RespondError, SessionError};
use crate::sftp::handles::{HandleKind, HandleTable};
use crate::sftp::reply::{encode_response, encode_status};
use crate::sftp::wire::{Deframer, SFTP_VERSION, begin_packet, end_packet, fxp};
use crate::sftp::{
    Extension, Extensions, Handle, Limits, Reply, Request, RequestId, RequestKind, SftpError,
    StatusCode,
};
use crate::wire::{Reader, Writer};

/// Settings of an [`SftpServer`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest packet accepted from the client (its length field), and largest
    /// response sent. A longer incoming packet closes the session. Default 256 KiB,
    /// OpenSSH's limit.
    pub max_packet_len: u32,
    /// READ lengths are clamped to this. Default 255 KiB.
    pub max_read_len: u32,
    /// Advertised in the limits reply as the largest WRITE. Default 255 KiB.
    pub max_write_len: u32,
    /// Most handles open at once; further opens fail with SSH_FX_FAILURE. Default 256.
    pub max_handles: usize,
    /// Longest handle the application may hand out (at most 256). Default 256.
    pub max_handle_len: usize,
    /// Most requests waiting for a response; while at the cap the engine parses no
    /// further input and [`SftpServer::wants_input`] is false. Default 1024.
    pub max_outstanding: usize,
    /// Extensions to advertise and accept. Default: all of them.
    pub extensions: Vec<Extension>,
    /// Further extensions to advertise, as (name, data); their requests reach the
    /// application as [`Request::Extended`]. Default none.
    pub custom_extensions: Vec<(String, Vec<u8>)>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_packet_len: 256 * 1024,
            max_read_len: 255 * 1024,
            max_write_len: 255 * 1024,
            max_handles: 256,
            max_handle_len: Handle::MAX_LEN,
            max_outstanding: 1024,
            extensions: Extension::ALL.to_vec(),
            custom_extensions: Vec::new(),
        }
    }
}

/// What the server engine reports. Drain with [`SftpServer::poll_event`] after every
/// call into the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// The client's SSH_FXP_INIT arrived and SSH_FXP_VERSION is queued.
    Initialized {
        /// The version the client asked for (we answer 3 whatever it is).
        client_version: u32,
        /// The extensions the client listed.
        extensions: Extensions,
    },
    /// A request to answer with [`SftpServer::respond`]. Its handles, if any, are open
    /// and of the right kind; READ lengths are already clamped.
    Request {
        /// Pass it back to `respond`.
        id: RequestId,
        /// The typed request.
        request: Request,
    },
    /// The session ended; always the last event. `EndOfStream` is the ordinary end.
    /// Handles still open are listed by [`SftpServer::open_handles`].
    Closed(SessionError),
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    kind: RequestKind,
    /// For READ, the (clamped) length asked.
    read_len: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitInit,
    Running,
    Closed,
}

/// READ data at least this long is queued as the backend's `Bytes` behind a
/// separate header instead of being copied into the output buffer.
const ZERO_COPY_DATA: usize = 4096;

/// The SFTP server engine: a sans-IO state machine over the subsystem's byte stream.
///
/// Run loop: while [`wants_input`](Self::wants_input), feed bytes from the channel
/// to [`handle_input`](Self::handle_input); drain [`poll_event`](Self::poll_event)
/// and answer each request with [`respond`](Self::respond) (now or later, in any
/// order); drain [`poll_transmit`](Self::poll_transmit) into the channel.
///
/// The engine answers by itself what needs no filesystem: malformed requests
/// (SSH_FX_BAD_MESSAGE), unknown packet types and extensions not enabled
/// (SSH_FX_OP_UNSUPPORTED), handles that are not open (SSH_FX_FAILURE), opens past
/// the handle cap (SSH_FX_FAILURE), and `limits@openssh.com`.
#[derive(Debug)]
pub struct SftpServer {
    config: ServerConfig,
    state: State,
    input: Deframer,
    /// Output not yet taken, in order: `chunks`, then `out`. READ data goes into
    /// `chunks` as the `Bytes` the backend gave, behind its header, never copied.
    chunks: VecDeque<Bytes>,
    chunk_bytes: usize,
    out: Vec<u8>,
    events: VecDeque<ServerEvent>,
    outstanding: HashMap<u32, Pending>,
    handles: HandleTable,
}

impl SftpServer {
    /// A server waiting for the client's SSH_FXP_INIT.
    pub fn new(config: ServerConfig) -> Self {
        Self {
            input: Deframer::new(config.max_packet_len),
            handles: HandleTable::new(config.max_handles, config.max_handle_len),
            config,
            state: State::AwaitInit,
            chunks: VecDeque::new(),
            chunk_bytes: 0,
            out: Vec::new(),
            events: VecDeque::new(),
            outstanding: HashMap::new(),
        }
    }

    // ----- getters -----

    /// True once the session has ended (the `Closed` event was queued).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// False while the engine holds as many unanswered requests as allowed, or has
    /// too much output waiting: stop reading the channel until it turns true again
    /// (after `respond` and `poll_transmit`). This is the backpressure that bounds
    /// the engine's memory.
    pub fn wants_input(&self) -> bool {
        self.state != State::Closed && !self.blocked()
    }

    /// How many requests wait for a response.
    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// The handles currently open (for closing them in the backend when the session
    /// ends).
    pub fn open_handles(&self) -> impl Iterator<Item = (&Handle, HandleKind)> {
        self.handles.iter()
    }

    /// How many handles are open.
    pub fn open_handle_count(&self) -> usize {
        self.handles.len()
    }

    /// The limits this server advertises through `limits@openssh.com`.
    pub fn limits(&self) -> Limits {
        Limits {
            max_packet_len: u64::from(self.config.max_packet_len),
            max_read_len: u64::from(self.config.max_read_len),
            max_write_len: u64::from(self.config.max_write_len),
            max_open_handles: self.config.max_handles as u64,
        }
    }

    // ----- input -----

    /// Feeds bytes received from the client, in chunks of any size.
    pub fn handle_input(&mut self, data: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        self.input.push(data);
        self.process();
    }

    /// Tells the engine the byte stream ended: the session closes with
    /// `EndOfStream`; requests still unanswered are dropped.
    pub fn handle_eof(&mut self) {
        if self.state != State::Closed {
            self.fail(SessionError::EndOfStream);
        }
    }

    /// Ends the session from our side (`Closed(LocallyClosed)`); close the channel
    /// after draining `poll_transmit`.
    pub fn close(&mut self) {
        if self.state != State::Closed {
            self.fail(SessionError::LocallyClosed);
        }
    }

    // ----- commands -----

    /// Answers request `id` with a reply or a status error.
    ///
    /// # Errors
    /// [`RespondError`] when no such request waits, the reply cannot answer it (e.g.
    /// DATA for a STAT), a handle is too long or already open, READ data exceeds the
    /// length asked, or the response exceeds the packet limit. Except for
    /// `UnknownRequest` and `Closed`, the request still waits for a valid answer.
    pub fn respond(
        &mut self,
        id: RequestId,
        result: Result<Reply, SftpError>,
    ) -> Result<(), RespondError> {
        if self.state == State::Closed {
            return Err(RespondError::Closed);
        }
        let pending = *self
            .outstanding
            .get(&id.0)
            .ok_or(RespondError::UnknownRequest(id))?;
        if let Ok(reply) = &result {
            check_reply(&self.handles, pending, reply)?;
        }
        match &result {
            Ok(Reply::Data(data)) if data.len() >= ZERO_COPY_DATA => {
                let len = 1 + 4 + 4 + data.len();
                if len > self.config.max_packet_len as usize {
                    return Err(RespondError::TooLarge {
                        len,
                        max: self.config.max_packet_len as usize,
                    });
                }
                // Checked against max_packet_len above, which is a u32.
                self.out.put_u32(len as u32);
                self.out.put_u8(fxp::DATA);
                self.out.put_u32(id.0);
                self.out.put_u32(data.len() as u32);
                let header = Bytes::from(std::mem::take(&mut self.out));
                self.push_chunk(header);
                self.push_chunk(data.clone());
            }
            _ => {
                let start = self.out.len();
                encode_response(&mut self.out, id, &result);
                let len = self.out.len() - start - 4;
                if len > self.config.max_packet_len as usize {
                    self.out.truncate(start);
                    return Err(RespondError::TooLarge {
                        len,
                        max: self.config.max_packet_len as usize,
                    });
                }
            }
        }
        self.outstanding.remove(&id.0);
        match (pending.kind, result) {
            (RequestKind::Open, Ok(Reply::Handle(h))) => self.handles.insert(h, HandleKind::File),
            (RequestKind::Opendir, Ok(Reply::Handle(h))) => self.handles.insert(h, HandleKind::Dir),
            (RequestKind::Open | RequestKind::Opendir, _) => self.handles.release(),
            _ => {}
        }
        self.process();
        Ok(())
    }

    // ----- output -----

    /// Appends bytes to send to the client; returns how many were appended.
    #[must_use]
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> usize {
        let n = self.pending_bytes();
        for chunk in self.chunks.drain(..) {
            out.extend_from_slice(&chunk);
        }
        self.chunk_bytes = 0;
        if out.is_empty() {
            std::mem::swap(out, &mut self.out);
        } else {
            out.append(&mut self.out);
        }
        if n > 0 {
            self.process();
        }
        n
    }

    /// Takes the next piece of output to send to the client, `None` when there is
    /// none: the zero-copy form of [`poll_transmit`](Self::poll_transmit), handing
    /// READ data out as the very `Bytes` given to [`respond`](Self::respond). Write
    /// the pieces in order (vectored writes suit them).
    #[must_use]
    pub fn poll_transmit_bytes(&mut self) -> Option<Bytes> {
        let chunk = match self.chunks.pop_front() {
            Some(chunk) => {
                self.chunk_bytes -= chunk.len();
                chunk
            }
            None if !self.out.is_empty() => Bytes::from(std::mem::take(&mut self.out)),
            None => return None,
        };
        self.process();
        Some(chunk)
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    // ----- internals -----

    fn blocked(&self) -> bool {
        self.outstanding.len() >= self.config.max_outstanding
            || self.pending_bytes() >= 4 * self.config.max_packet_len as usize
    }

    fn pending_bytes(&self) -> usize {
        self.chunk_bytes + self.out.len()
    }

    fn push_chunk(&mut self, chunk: Bytes) {
        self.chunk_bytes += chunk.len();
        self.chunks.push_back(chunk);
    }

    /// Parses buffered packets while there is room for more work.
    fn process(&mut self) {
        while self.state != State::Closed && !self.blocked() {
            match self.input.next_packet() {
                Ok(Some(packet)) => {
                    if let Err(e) = self.handle_packet(&packet) {
                        self.fail(e.into());
                    }
                }
                Ok(None) => return,
                Err(e) => self.fail(SessionError::PeerMisbehaved(e.into())),
            }
        }
    }

    fn handle_packet(&mut self, packet: &Bytes) -> Result<(), PeerMisbehaved> {
        let ty = packet.first().copied().unwrap_or(0);
        let mut r = Reader::new(packet.get(1..).unwrap_or_default());
        if self.state == State::AwaitInit {
            return self.handle_init(ty, &mut r);
        }
        if ty == fxp::INIT {
            return Err(PeerMisbehaved::DuplicateInit);
        }
        let id = RequestId(r.u32().map_err(|_| PeerMisbehaved::MissingRequestId(ty))?);
        if self.outstanding.contains_key(&id.0) {
            return Err(PeerMisbehaved::DuplicateRequestId(id));
        }
        match Request::decode(ty, packet, &mut r) {
            Ok(Some(request)) => self.admit(id, request),
            Ok(None) => self.status(id, StatusCode::OpUnsupported, "Unknown packet type"),
            Err(e) => self.status(id, StatusCode::BadMessage, &format!("Bad message: {e}")),
        }
        Ok(())
    }

    fn handle_init(&mut self, ty: u8, r: &mut Reader<'_>) -> Result<(), PeerMisbehaved> {
        if ty != fxp::INIT {
            return Err(PeerMisbehaved::RequestBeforeInit(ty));
        }
        let client_version = r
            .u32()
            .map_err(|e| PeerMisbehaved::MalformedHello(e.into()))?;
        let extensions = Extensions::decode(r).map_err(PeerMisbehaved::MalformedHello)?;
        let start = begin_packet(&mut self.out, fxp::VERSION);
        self.out.put_u32(SFTP_VERSION);
        Extensions::advertising(&self.config.extensions).encode(&mut self.out);
        for (name, data) in &self.config.custom_extensions {
            self.out.put_string(name.as_bytes());
            self.out.put_string(data);
        }
        end_packet(&mut self.out, start);
        self.state = State::Running;
        self.events.push_back(ServerEvent::Initialized {
            client_version,
            extensions,
        });
        Ok(())
    }

    /// Answers what the engine can answer alone; queues the rest for the application.
    fn admit(&mut self, id: RequestId, mut request: Request) {
        let kind = request.kind();
        if let Some(ext) = kind.extension() {
            if !self.config.extensions.contains(&ext) {
                return self.status(id, StatusCode::OpUnsupported, "Unsupported extension");
            }
        }
        if let Request::Extended { name, .. } = &request {
            if !self.config.custom_extensions.iter().any(|(n, _)| n == name) {
                return self.status(id, StatusCode::OpUnsupported, "Unsupported extension");
            }
        }
        if request
            .handles()
            .any(|(h, usage)| !self.handles.permits(h, usage))
        {
            return self.status(id, StatusCode::Failure, "Invalid handle");
        }
        let mut read_len = 0;
        match &mut request {
            Request::Limits => {
                let limits = self.limits();
                encode_response(&mut self.out, id, &Ok(Reply::Limits(limits)));
                return;
            }
            Request::Read { len, .. } => {
                *len = (*len).min(self.config.max_read_len);
                read_len = *len;
            }
            // The guard takes a handle reservation when there is room.
            Request::Open { .. } | Request::Opendir { .. } if !self.handles.reserve() => {
                return self.status(id, StatusCode::Failure, "Too many open handles");
            }
            Request::Close { handle } => self.handles.remove(handle),
            Request::CopyData {
                read_handle,
                write_handle,
                ..
            } if read_handle == write_handle => {
                return self.status(
                    id,
                    StatusCode::Failure,
                    "Source and destination are the same handle",
                );
            }
            _ => {}
        }
        self.outstanding.insert(id.0, Pending { kind, read_len });
        self.events.push_back(ServerEvent::Request { id, request });
    }

    fn status(&mut self, id: RequestId, code: StatusCode, message: &str) {
        encode_status(&mut self.out, id, code, message, "");
    }

    fn fail(&mut self, error: SessionError) {
        self.state = State::Closed;
        self.outstanding.clear();
        self.events.push_back(ServerEvent::Closed(error));
    }
}

/// Checks that `reply` may answer the request `pending` describes.
fn check_reply(handles: &HandleTable, pending: Pending, reply: &Reply) -> Result<(), RespondError> {
    if !pending.kind.accepts(reply) {
        return Err(RespondError::WrongReply {
            request: pending.kind,
            reply: reply.kind_name(),
        });
    }
    match reply {
        Reply::Handle(h) => handles.check_new(h),
        Reply::Data(d) if d.len() > pending.read_len as usize => Err(RespondError::TooMuchData {
            len: d.len(),
            requested: pending.read_len,
        }),
        _ => Ok(()),
    }
}

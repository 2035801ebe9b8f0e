//! The state of one channel: windows, what waits to be sent, what waits to be read,
//! and where it is in the EOF and CLOSE handshakes (RFC 4254 §5).

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::window::{ReceiveWindow, SendWindow};

/// Data written in small pieces is gathered into chunks up to this size, so a queue
/// of many tiny writes costs bytes, not a node per write.
const QUEUE_CHUNK: usize = 64 * 1024;

/// An answer owed to the peer, kept in arrival order (RFC 4254 §4, §5.4: replies go
/// out in the order the requests came).
#[derive(Debug)]
pub(crate) struct ReplySlot {
    /// The decision token the application holds; `None` when the engine answered.
    pub(crate) token: Option<u64>,
    pub(crate) answer: Option<Reply>,
}

/// An answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) success: bool,
    /// For a global `tcpip-forward` of port 0: the port that was bound.
    pub(crate) bound_port: Option<u32>,
}

impl Reply {
    pub(crate) const FAILURE: Self = Self {
        success: false,
        bound_port: None,
    };

    pub(crate) const SUCCESS: Self = Self {
        success: true,
        bound_port: None,
    };
}

impl ReplySlot {
    pub(crate) fn answered(reply: Reply) -> Self {
        Self {
            token: None,
            answer: Some(reply),
        }
    }

    pub(crate) fn awaiting(token: u64) -> Self {
        Self {
            token: Some(token),
            answer: None,
        }
    }
}

/// One channel.
#[derive(Debug)]
pub(crate) struct ChannelState {
    /// The peer's number for the channel; `None` while our open awaits its answer.
    pub(crate) remote: Option<u32>,
    pub(crate) send: SendWindow,
    pub(crate) peer_max_packet: u32,
    pub(crate) recv: ReceiveWindow,
    pub(crate) max_packet: u32,

    /// Encoded requests and replies, sent ahead of data (a `signal` must not wait
    /// behind data the peer is not reading). Their recipient field is filled in
    /// when they are sent.
    pub(crate) control: VecDeque<Vec<u8>>,
    /// Data to send: extended data type (`None` for plain data) and bytes.
    pub(crate) data: VecDeque<(Option<u32>, BytesMut)>,
    /// The last chunk sent in full, emptied, for the next one to reuse: a bulk
    /// writer then queues into the same allocation instead of fresh pages each time.
    spare: BytesMut,
    pub(crate) queued: usize,
    pub(crate) eof_requested: bool,
    pub(crate) eof_sent: bool,
    pub(crate) close_requested: bool,
    pub(crate) close_sent: bool,
    /// A write returned `Blocked`; report `ChannelWritable` once there is room.
    pub(crate) wants_writable: bool,
    /// Our requests that want a reply and have not had one.
    pub(crate) awaiting_replies: usize,

    pub(crate) stdout: VecDeque<Bytes>,
    pub(crate) stderr: VecDeque<Bytes>,
    /// `ChannelReadable` was reported and the application has not drained a stream
    /// since.
    pub(crate) readable_reported: bool,
    pub(crate) peer_eof: bool,
    pub(crate) peer_closed: bool,
    /// The application closed the channel: what the peer still sends is dropped.
    pub(crate) discard_input: bool,
    pub(crate) closed_reported: bool,
    /// The peer's requests awaiting our answers, in arrival order.
    pub(crate) reply_slots: VecDeque<ReplySlot>,
}

impl ChannelState {
    /// A channel we are opening: the peer's number and window come with its answer.
    pub(crate) fn opening(window: u32, max_packet: u32) -> Self {
        Self::new(None, 0, 0, window, max_packet)
    }

    /// A channel the peer opened and we accepted.
    pub(crate) fn accepted(
        remote: u32,
        peer_window: u32,
        peer_max_packet: u32,
        window: u32,
        max_packet: u32,
    ) -> Self {
        Self::new(
            Some(remote),
            peer_window,
            peer_max_packet,
            window,
            max_packet,
        )
    }

    fn new(
        remote: Option<u32>,
        peer_window: u32,
        peer_max_packet: u32,
        window: u32,
        max_packet: u32,
    ) -> Self {
        Self {
            remote,
            send: SendWindow::new(peer_window),
            peer_max_packet,
            recv: ReceiveWindow::new(window),
            max_packet,
            control: VecDeque::new(),
            data: VecDeque::new(),
            spare: BytesMut::new(),
            queued: 0,
            eof_requested: false,
            eof_sent: false,
            close_requested: false,
            close_sent: false,
            wants_writable: false,
            awaiting_replies: 0,
            stdout: VecDeque::new(),
            stderr: VecDeque::new(),
            readable_reported: false,
            peer_eof: false,
            peer_closed: false,
            discard_input: false,
            closed_reported: false,
            reply_slots: VecDeque::new(),
        }
    }

    /// Appends data to the send queue, joining it to the last chunk when it can.
    pub(crate) fn enqueue(&mut self, ext: Option<u32>, bytes: &[u8]) {
        match self.data.back_mut() {
            Some((back_ext, back)) if *back_ext == ext && back.len() < QUEUE_CHUNK => {
                back.extend_from_slice(bytes)
            }
            _ => {
                let mut chunk = std::mem::take(&mut self.spare);
                chunk.extend_from_slice(bytes);
                self.data.push_back((ext, chunk));
            }
        }
        self.queued += bytes.len();
    }

    /// Takes back a chunk whose bytes were all sent, to queue the next data into.
    /// At most one chunk is kept per channel, and none once the application has
    /// finished writing.
    pub(crate) fn recycle(&mut self, mut chunk: BytesMut) {
        if !self.eof_requested {
            chunk.clear();
            self.spare = chunk;
        }
    }

    /// Drops everything waiting to be sent (the peer closed; it reads no more).
    pub(crate) fn drop_outbound(&mut self) {
        self.data.clear();
        self.spare = BytesMut::new();
        self.control.clear();
        self.queued = 0;
    }

    /// True while the application may still write and send requests.
    pub(crate) fn writable(&self) -> bool {
        !(self.close_requested || self.close_sent || self.peer_closed)
    }

    /// True once CLOSE went both ways (RFC 4254 §5.3).
    pub(crate) fn handshake_done(&self) -> bool {
        self.close_sent && self.peer_closed
    }

    /// True when nothing is left for the application to read.
    pub(crate) fn drained(&self) -> bool {
        self.discard_input || (self.stdout.is_empty() && self.stderr.is_empty())
    }

    /// Takes the next received chunk of a stream, at most `max` bytes of it.
    pub(crate) fn read(&mut self, stderr: bool, max: usize) -> Option<Bytes> {
        let queue = if stderr {
            &mut self.stderr
        } else {
            &mut self.stdout
        };
        let front = queue.front_mut()?;
        let chunk = if front.len() > max {
            front.split_to(max)
        } else {
            queue.pop_front()?
        };
        self.recv.consume(chunk.len() as u32);
        Some(chunk)
    }

    /// Drops what was received and not read, returning its credit to the window.
    pub(crate) fn discard_received(&mut self) {
        for chunk in self.stdout.drain(..).chain(self.stderr.drain(..)) {
            self.recv.consume(chunk.len() as u32);
        }
    }
}

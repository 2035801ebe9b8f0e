//! Sending: connection-level messages, each channel's requests, data, EOF and CLOSE
//! in order, within the peer's window and the transport's backpressure.

use bytes::Buf;

use super::layer::{AwaitingGlobal, ConnectionLayer};
use super::state::ChannelState;
use super::wire;
use super::{ChannelError, ChannelId, ChannelKind, ChannelRequest, GlobalRequest, WriteError};
use crate::event::Event;
use crate::transport::Transport;
use crate::wire::msg;

impl ConnectionLayer {
    /// Sends a connection-level message now, or holds it behind earlier ones while
    /// the transport refuses more.
    pub(super) fn send_global(&mut self, t: &mut Transport, payload: Vec<u8>) {
        if t.is_closed() {
            return;
        }
        if self.global_out.is_empty() && t.send_upper(&payload) {
            return;
        }
        self.global_out.push_back(payload);
        self.blocked = true;
        self.check_held(t);
    }

    /// Retries what the transport refused: connection-level messages first, then
    /// every channel, starting after the one served last.
    pub(super) fn flush(&mut self, t: &mut Transport) {
        self.blocked = false;
        while let Some(front) = self.global_out.front() {
            if t.is_closed() || !t.send_upper(front) {
                self.blocked = !t.is_closed();
                return;
            }
            self.global_out.pop_front();
        }
        let ids: Vec<u32> = self
            .channels
            .range(self.pump_cursor..)
            .chain(self.channels.range(..self.pump_cursor))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if !self.pump(t, id) {
                self.pump_cursor = id;
                return;
            }
        }
    }

    /// Sends what channel `id` has ready: requests and replies, a window adjust,
    /// data within the peer's window, then EOF and CLOSE once the data is out.
    /// Returns false when the transport refused a message (it is retried later).
    pub(super) fn pump(&mut self, t: &mut Transport, id: u32) -> bool {
        let sent_all = if t.is_closed() {
            true
        } else if !self.global_out.is_empty() {
            // Channel traffic must not overtake an open confirmation held there.
            false
        } else {
            self.pump_channel(t, id)
        };
        if !sent_all {
            self.blocked = true;
        }
        self.after_pump(t, id);
        sent_all
    }

    fn pump_channel(&mut self, t: &mut Transport, id: u32) -> bool {
        let scratch = &mut self.scratch;
        let Some(ch) = self.channels.get_mut(&id) else {
            return true;
        };
        let Some(remote) = ch.remote else {
            return true;
        };
        if ch.close_sent {
            return true;
        }
        while let Some(front) = ch.control.front_mut() {
            wire::set_recipient(front, remote);
            if !t.send_upper(front) {
                return false;
            }
            ch.control.pop_front();
        }
        if !(ch.peer_eof || ch.peer_closed) {
            if let Some(credit) = ch.recv.adjust_due() {
                if !t.send_upper(&wire::encode_window_adjust(remote, credit)) {
                    return false;
                }
                ch.recv.adjusted(credit);
            }
        }
        while let Some((ext, front)) = ch.data.front_mut() {
            let len = sendable(ch.send.available(), ch.peer_max_packet, front.len());
            if len == 0 {
                break;
            }
            scratch.clear();
            wire::put_data_header(scratch, remote, *ext, len);
            if !t.send_upper_parts(&[scratch, &front[..len]]) {
                return false;
            }
            ch.send.consume(len as u32);
            ch.queued -= len;
            front.advance(len);
            if front.is_empty() {
                if let Some((_, spent)) = ch.data.pop_front() {
                    ch.recycle(spent);
                }
            }
        }
        if !ch.data.is_empty() {
            return true;
        }
        // EOF before CLOSE tells peers that act on EOF alone; not owed once the peer
        // has closed.
        let eof_due = (ch.eof_requested || ch.close_requested) && !ch.eof_sent && !ch.peer_closed;
        if eof_due {
            if !t.send_upper(&wire::encode_channel_only(msg::CHANNEL_EOF, remote)) {
                return false;
            }
            ch.eof_sent = true;
        }
        if ch.close_requested {
            if !t.send_upper(&wire::encode_channel_only(msg::CHANNEL_CLOSE, remote)) {
                return false;
            }
            ch.close_sent = true;
            // No replies go out after our CLOSE; the peer's pending requests lapse.
            ch.reply_slots.clear();
            ch.control.clear();
        }
        true
    }

    /// Reports room to write and a finished close handshake, and frees the channel
    /// number once nothing is left to read.
    pub(super) fn after_pump(&mut self, t: &mut Transport, id: u32) {
        let cap = self.config.max_buffered_per_channel;
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        // With no queue at all (a bound of 0), room means an open window.
        let room =
            ch.queued < cap || (ch.queued == 0 && ch.remote.is_some() && ch.send.available() > 0);
        if ch.wants_writable && room && ch.writable() && !ch.eof_requested {
            ch.wants_writable = false;
            t.push_event(Event::ChannelWritable(ChannelId(id)));
        }
        if ch.handshake_done() {
            if !ch.closed_reported {
                ch.closed_reported = true;
                t.push_event(Event::ChannelClosed(ChannelId(id)));
            }
            if ch.drained() {
                self.channels.remove(&id);
            }
        }
    }

    // ---- commands ----

    fn check_ready(&self, t: &Transport) -> Result<(), ChannelError> {
        if t.is_closed() {
            Err(ChannelError::ConnectionClosed)
        } else if !self.active {
            Err(ChannelError::NotReady)
        } else {
            Ok(())
        }
    }

    pub(super) fn open(
        &mut self,
        t: &mut Transport,
        kind: &ChannelKind,
    ) -> Result<ChannelId, ChannelError> {
        let (window, max_packet) = (self.config.window_size, self.config.max_packet_size);
        self.open_with(t, kind, window, max_packet)
    }

    /// Opens a channel with its own receive window and maximum packet size.
    pub(super) fn open_with(
        &mut self,
        t: &mut Transport,
        kind: &ChannelKind,
        window: u32,
        max_packet: u32,
    ) -> Result<ChannelId, ChannelError> {
        self.check_ready(t)?;
        if self.channel_count() >= self.config.max_channels {
            return Err(ChannelError::TooManyChannels);
        }
        let id = self.allocate_id();
        // As in the configuration: a zero maximum would leave the peer mute.
        let max_packet = max_packet.max(1);
        self.channels
            .insert(id, ChannelState::opening(window, max_packet));
        self.send_global(t, wire::encode_open(kind, id, window, max_packet));
        Ok(ChannelId(id))
    }

    pub(super) fn global_request(
        &mut self,
        t: &mut Transport,
        request: &GlobalRequest,
        want_reply: bool,
    ) -> Result<(), ChannelError> {
        self.check_ready(t)?;
        if want_reply {
            if self.global_awaiting.len() >= self.config.max_pending_requests {
                return Err(ChannelError::TooManyPending);
            }
            let port_in_reply = matches!(request, GlobalRequest::TcpipForward { port: 0, .. });
            self.global_awaiting
                .push_back(AwaitingGlobal::Application { port_in_reply });
        }
        self.send_global(t, wire::encode_global_request(request, want_reply));
        Ok(())
    }

    /// Writes `data` (or extended data of type `ext`): sent at once as far as the
    /// peer's window allows, the rest queued up to the per-channel bound.
    pub(super) fn write(
        &mut self,
        t: &mut Transport,
        id: u32,
        ext: Option<u32>,
        data: &[u8],
    ) -> Result<usize, WriteError> {
        if t.is_closed() {
            return Err(WriteError::Closed);
        }
        let cap = self.config.max_buffered_per_channel;
        let direct = self.global_out.is_empty();
        let scratch = &mut self.scratch;
        let ch = self.channels.get_mut(&id).ok_or(WriteError::Closed)?;
        if !ch.writable() {
            return Err(WriteError::Closed);
        }
        if ch.eof_requested {
            return Err(WriteError::Finished);
        }
        let mut taken = 0;
        let nothing_ahead = ch.data.is_empty() && ch.control.is_empty();
        if let (Some(remote), true) = (ch.remote, direct && nothing_ahead) {
            while taken < data.len() {
                let len = sendable(ch.send.available(), ch.peer_max_packet, data.len() - taken);
                if len == 0 {
                    break;
                }
                scratch.clear();
                wire::put_data_header(scratch, remote, ext, len);
                if !t.send_upper_parts(&[scratch, &data[taken..taken + len]]) {
                    self.blocked = true;
                    break;
                }
                ch.send.consume(len as u32);
                taken += len;
            }
        }
        let room = cap.saturating_sub(ch.queued);
        let queue = room.min(data.len() - taken);
        if queue > 0 {
            ch.enqueue(ext, &data[taken..taken + queue]);
            taken += queue;
        }
        if taken == 0 && !data.is_empty() {
            ch.wants_writable = true;
            return Err(WriteError::Blocked);
        }
        Ok(taken)
    }

    pub(super) fn request(
        &mut self,
        t: &mut Transport,
        id: u32,
        request: &ChannelRequest,
        want_reply: bool,
    ) -> Result<(), ChannelError> {
        self.check_ready(t)?;
        if request.sender().is_some_and(|role| role != self.role) {
            return Err(ChannelError::WrongSide(request.static_name()));
        }
        let limit = self.config.max_pending_requests;
        let ch = self.channels.get_mut(&id).ok_or(ChannelError::Closed)?;
        if !ch.writable() {
            return Err(ChannelError::Closed);
        }
        if ch.control.len() + ch.awaiting_replies >= limit {
            return Err(ChannelError::TooManyPending);
        }
        let recipient = ch.remote.unwrap_or(0);
        ch.control
            .push_back(wire::encode_channel_request(recipient, request, want_reply));
        if want_reply {
            ch.awaiting_replies += 1;
        }
        self.pump(t, id);
        Ok(())
    }

    pub(super) fn eof(&mut self, t: &mut Transport, id: u32) -> Result<(), ChannelError> {
        let ch = self.channels.get_mut(&id).ok_or(ChannelError::Closed)?;
        if !ch.writable() {
            return Err(ChannelError::Closed);
        }
        ch.eof_requested = true;
        self.pump(t, id);
        Ok(())
    }

    pub(super) fn close(&mut self, t: &mut Transport, id: u32) -> Result<(), ChannelError> {
        let ch = self.channels.get_mut(&id).ok_or(ChannelError::Closed)?;
        ch.discard_input = true;
        ch.discard_received();
        if ch.close_requested {
            // Closing again only gives up what was left to read.
            self.after_pump(t, id);
            return Ok(());
        }
        ch.close_requested = true;
        self.pump(t, id);
        Ok(())
    }

    /// Reads from channel `id`, returning window credit as the application consumes.
    pub(super) fn read(
        &mut self,
        t: &mut Transport,
        id: u32,
        stderr: bool,
        max: usize,
    ) -> Option<bytes::Bytes> {
        let ch = self.channels.get_mut(&id)?;
        let chunk = ch.read(stderr, max.max(1));
        if chunk.is_none() {
            ch.readable_reported = false;
        }
        self.pump(t, id);
        chunk
    }
}

/// Most data we put in one packet whatever maximum the peer announces: RFC 4253
/// §6.1 only promises that 35000-byte packets get through, and OpenSSH refuses
/// packets past 256 KiB, so a peer announcing gigabytes must not get them.
const MAX_DATA_PER_PACKET: u32 = 255 * 1024;

/// How much of `len` queued bytes fit in one data packet now.
fn sendable(window: u32, peer_max_packet: u32, len: usize) -> usize {
    let packet = peer_max_packet.min(MAX_DATA_PER_PACKET);
    (window.min(packet) as usize).min(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_is_bounded_by_window_peer_maximum_and_our_cap() {
        assert_eq!(sendable(100, 1000, 5000), 100);
        assert_eq!(sendable(5000, 1000, 5000), 1000);
        assert_eq!(sendable(5000, 1000, 10), 10);
        assert_eq!(sendable(u32::MAX, u32::MAX, usize::MAX), 255 * 1024);
        assert_eq!(sendable(0, 1000, 10), 0);
    }
}

//! One direction of the simulated wire: bytes in flight with their arrival times,
//! the record of what went on it, and the faults applied to it.

use std::collections::VecDeque;
use std::time::Instant;

use crate::crypto::SeededRandom;

/// The bytes one side sent that the other has not yet received.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// Bytes in flight (a deque: delivering from the front of megabytes must not
    /// move the rest).
    bytes: VecDeque<u8>,
    /// Arrival times: (stream offset where a batch ends, when it may arrive), in
    /// sending order. A batch is what one `poll_transmit` or injection added.
    arrivals: VecDeque<(u64, Instant)>,
    /// Stream offsets: bytes ever sent, and bytes ever delivered.
    sent: u64,
    delivered: u64,
    /// Everything that went on the wire, faults included.
    transcript: Vec<u8>,
    /// How many of the next bytes sent get corrupted.
    corrupt_next: usize,
    /// The link was cut: nothing more travels on it.
    dropped: bool,
    /// The receiver has yet to learn that the stream ended.
    eof_pending: bool,
}

impl Link {
    /// Puts bytes on the wire, arriving at `due`; discarded once the link is cut.
    /// Bytes inside a corruption window are flipped with nonzero masks from `rng`.
    pub(crate) fn send(&mut self, data: &[u8], due: Instant, rng: &mut SeededRandom) {
        if self.dropped || data.is_empty() {
            return;
        }
        let start = self.transcript.len();
        self.transcript.extend_from_slice(data);
        let corrupt = self.corrupt_next.min(data.len());
        for byte in &mut self.transcript[start..start + corrupt] {
            // Never zero: a corrupted byte always differs from the original.
            *byte ^= (rng.next_u64() as u8).max(1);
        }
        self.corrupt_next -= corrupt;
        self.bytes.extend(&self.transcript[start..]);
        self.sent += data.len() as u64;
        self.arrivals.push_back((self.sent, due));
    }

    /// Corrupts the next `count` bytes sent on this link.
    pub(crate) fn corrupt(&mut self, count: usize) {
        self.corrupt_next = self.corrupt_next.saturating_add(count);
    }

    /// Cuts the link: what is in flight is lost, and the receiver sees end of stream.
    pub(crate) fn cut(&mut self) {
        if !self.dropped {
            self.dropped = true;
            self.eof_pending = true;
            self.bytes.clear();
            self.arrivals.clear();
        }
    }

    /// The contiguous bytes that may arrive at `now` (empty when none may).
    pub(crate) fn deliverable(&self, now: Instant) -> &[u8] {
        let arrived_end = self
            .arrivals
            .iter()
            .take_while(|(_, due)| *due <= now)
            .last()
            .map_or(self.delivered, |(end, _)| *end);
        let due = usize::try_from(arrived_end - self.delivered).unwrap_or(usize::MAX);
        let front = self.bytes.as_slices().0;
        &front[..front.len().min(due)]
    }

    /// Removes `count` delivered bytes from the front.
    pub(crate) fn consume(&mut self, count: usize) {
        self.bytes.drain(..count);
        self.delivered += count as u64;
        while self
            .arrivals
            .front()
            .is_some_and(|(end, _)| *end <= self.delivered)
        {
            self.arrivals.pop_front();
        }
    }

    /// True (once) when the receiver should now be told the stream ended.
    pub(crate) fn take_eof(&mut self) -> bool {
        std::mem::take(&mut self.eof_pending)
    }

    /// When the first bytes still travelling may arrive, if later than `now`.
    pub(crate) fn next_arrival(&self, now: Instant) -> Option<Instant> {
        self.arrivals
            .iter()
            .map(|(_, due)| *due)
            .find(|due| *due > now)
    }

    /// Bytes sent and not yet delivered.
    pub(crate) fn in_flight(&self) -> usize {
        self.bytes.len()
    }

    /// Everything that went on the wire in this direction.
    pub(crate) fn transcript(&self) -> &[u8] {
        &self.transcript
    }
}

//! Faults a simulation can inject: a side that freezes, a cut link, bytes that are
//! not what the sender sent.

use std::time::Duration;

use super::{Side, Simulation, Stall};

impl Simulation {
    /// Freezes `side` for `duration` of virtual time: it reads nothing, sends
    /// nothing and fires no timer, like a peer whose host stopped or whose network
    /// went silent. Bytes for it wait on the wire. Meanwhile the other side's
    /// timers (keepalive, login grace, key exchange) run as they would.
    pub fn stall(&mut self, side: Side, duration: Duration) {
        self.stalls[side.index()] = Some(Stall::Until(self.now + duration));
    }

    /// Freezes `side` until [`resume`](Self::resume) is called.
    pub fn stall_forever(&mut self, side: Side) {
        self.stalls[side.index()] = Some(Stall::Forever);
    }

    /// Ends a stall of `side` now; it catches up with its timers and the bytes
    /// waiting for it on the next steps.
    pub fn resume(&mut self, side: Side) {
        self.stalls[side.index()] = None;
        let now = self.now;
        self.advance_to(now);
    }

    /// Cuts the connection: bytes in flight are lost, nothing sent from now on
    /// arrives, and each side is told the stream ended (`handle_eof`) once it is not
    /// frozen: a TCP reset or a dead route.
    pub fn drop_link(&mut self) {
        for link in &mut self.links {
            link.cut();
        }
    }

    /// Puts `bytes` on the wire as if `from` had sent them after everything it sent
    /// so far: a peer (or a middlebox) that speaks garbage. Its engine knows nothing
    /// of them.
    pub fn inject_garbage(&mut self, from: Side, bytes: &[u8]) {
        let due = self.now + self.options.latency;
        self.links[from.index()].send(bytes, due, &mut self.faults);
    }

    /// Corrupts the next `count` bytes `from` puts on the wire, each XORed with a
    /// nonzero mask drawn from the seed: line noise that a MAC or AEAD tag must catch.
    pub fn corrupt(&mut self, from: Side, count: usize) {
        self.links[from.index()].corrupt(count);
    }
}

//! The client and server engines: the public face of the protocol state machine.
//!
//! Both follow one run loop contract. After any call that feeds the engine
//! (`handle_input`, `handle_eof`, `handle_timeout`, or a command), drain its output:
//!
//! 1. `poll_transmit` until it returns 0, and write those bytes to the peer;
//! 2. `poll_event` until it returns `None`, and act on each event;
//! 3. `poll_timeout`, and call `handle_timeout` when that instant has passed.
//!
//! Methods come in four groups: getters, `handle_*` (input from the network),
//! commands (from the application), and `poll_*` (output). Channel commands go
//! through borrowed sub-handles: `channels()` and `channel(id)` (see
//! [`crate::channel`]).

mod client;
mod server;

pub use client::ClientConnection;
pub use server::ServerConnection;

/// Generates the methods both engines share, delegating to the transport.
macro_rules! shared_engine_methods {
    () => {
        /// The peer's identification string (without CR LF), once received.
        pub fn peer_version(&self) -> Option<&str> {
            self.transport.peer_version()
        }

        /// Our identification string (without CR LF).
        pub fn our_version(&self) -> &str {
            self.transport.our_version()
        }

        /// The session identifier: the exchange hash of the first key exchange.
        pub fn session_id(&self) -> Option<&[u8]> {
            self.transport.session_id()
        }

        /// The algorithms of the latest completed key exchange.
        pub fn algorithms(&self) -> Option<&$crate::transport::Negotiated> {
            self.transport.negotiated()
        }

        /// How many key exchanges have completed (the first one included).
        pub fn key_exchanges(&self) -> u32 {
            self.transport.completed_kex()
        }

        /// True when strict key exchange (the Terrapin countermeasure) is in force.
        pub fn strict_kex(&self) -> bool {
            self.transport.strict_kex()
        }

        /// True once the connection has ended (the `Closed` event was queued).
        pub fn is_closed(&self) -> bool {
            self.transport.is_closed()
        }

        /// Feeds bytes received from the peer, in chunks of any size.
        pub fn handle_input(&mut self, now: std::time::Instant, data: &[u8]) {
            self.transport.feed(now, data);
            self.upper_upkeep(now);
            while let Some((seq, payload)) = self.transport.next_upper() {
                self.handle_upper(now, seq, payload);
            }
            self.upper_upkeep(now);
        }

        /// Tells the engine the peer closed its side of the byte stream.
        pub fn handle_eof(&mut self, _now: std::time::Instant) {
            self.transport.handle_eof();
        }

        /// Fires the timers that are due at `now`. Calling it early is harmless.
        pub fn handle_timeout(&mut self, now: std::time::Instant) {
            for kind in self.transport.handle_timeout(now) {
                self.handle_upper_timer(now, kind);
            }
            self.channels.handle_timeout(&mut self.transport, now);
            self.upper_upkeep(now);
        }

        /// Starts a key re-exchange now (unless one is running).
        pub fn rekey(&mut self, now: std::time::Instant) {
            self.transport.rekey(now);
        }

        /// Sends SSH_MSG_DEBUG to the peer.
        pub fn send_debug(&mut self, always_display: bool, message: &str) {
            self.transport.send_debug(always_display, message);
        }

        /// Sends SSH_MSG_IGNORE carrying `data` (traffic padding, keepalive probes).
        pub fn send_ignore(&mut self, data: &[u8]) {
            self.transport.send_ignore(data);
        }

        /// Closes the connection: queues DISCONNECT and ends with `Closed(LocallyClosed)`.
        pub fn disconnect(&mut self, reason: $crate::error::DisconnectReason, description: &str) {
            self.transport.disconnect(reason, description);
        }

        /// Appends bytes to send to the peer; returns how many were appended.
        #[must_use]
        pub fn poll_transmit(&mut self, now: std::time::Instant, out: &mut Vec<u8>) -> usize {
            // Answers for decisions dropped since the last call go out with this batch.
            self.upper_upkeep(now);
            self.transport.poll_transmit(out)
        }

        /// True when `poll_transmit` or `poll_event` has something to hand out now.
        /// A driver that parked with both empty needs waking only when a call it
        /// made on the engine's behalf (a read returning window credit, say) turns
        /// this true.
        #[must_use]
        pub fn has_output(&self) -> bool {
            self.transport.has_output()
        }

        /// The next instant at which `handle_timeout` must be called.
        #[must_use]
        pub fn poll_timeout(&self) -> Option<std::time::Instant> {
            let transport = self.transport.poll_timeout();
            if self.transport.is_closed() {
                return None;
            }
            match (transport, self.channels.poll_timeout()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }

        /// The next event for the application.
        #[must_use]
        pub fn poll_event(&mut self) -> Option<$crate::event::Event> {
            self.upper_upkeep(self.transport.now());
            self.transport.poll_event()
        }

        /// The connection's channels: open one, answer the peer's opens and
        /// requests, send global requests (RFC 4254).
        pub fn channels(&mut self) -> $crate::channel::Channels<'_> {
            $crate::channel::Channels::new(&mut self.channels, &mut self.transport)
        }

        /// One channel: write, read, send requests, EOF and close.
        pub fn channel(&mut self, id: $crate::channel::ChannelId) -> $crate::channel::Channel<'_> {
            $crate::channel::Channel::new(id, &mut self.channels, &mut self.transport)
        }

        /// Starts the connection protocol as if user authentication had succeeded:
        /// the pair tests' stand-in until authentication exists.
        #[cfg(test)]
        pub(crate) fn mark_authenticated(&mut self, now: std::time::Instant) {
            self.channels.start(&mut self.transport, now);
        }
    };
}

pub(crate) use shared_engine_methods;

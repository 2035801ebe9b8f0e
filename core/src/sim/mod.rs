//! Simulation: your client code and your server logic against each other, in memory,
//! in virtual time (feature `sim`).
//!
//! A [`Simulation`] owns a [`ClientConnection`] and a [`ServerConnection`] and the
//! wire between them. It moves the bytes each engine sends to the other, cut into
//! chunks at random points; when nothing else can happen it jumps a virtual clock to
//! the next timer (keepalive, rekey, login grace, ...) and fires it. An hour of
//! protocol time takes milliseconds, and the same seed gives the same run every time.
//!
//! Same run, same bytes, with one exception: aws-lc generates ML-KEM keys from its
//! own generator, so when `mlkem768x25519-sha256` (the default key exchange) is
//! negotiated, the session keys and so every encrypted byte differ between runs,
//! while what happens, when, and in which chunk sizes stays the same (unless the run
//! depends on the values of encrypted bytes, as garbage injected after the key
//! exchange does). Put another key exchange first (e.g. `curve25519-sha256`) where a
//! test compares transcripts or injects faults into an encrypted stream.
//!
//! Faults are one call away: [`stall`](Simulation::stall) a side (a peer that stops
//! reading and sending), [`drop_link`](Simulation::drop_link) (both sides see the
//! stream end), [`inject_garbage`](Simulation::inject_garbage) or
//! [`corrupt`](Simulation::corrupt) bytes on the wire.
//!
//! Your code plays both applications: it uses the engines directly
//! ([`client`](Simulation::client), [`server`](Simulation::server)) and answers the
//! events each side reports ([`client_events`](Simulation::client_events),
//! [`server_events`](Simulation::server_events)), typically inside the condition of
//! [`run_until`](Simulation::run_until), which runs between steps.
//!
//! # Example
//!
//! A server that answers `exec "echo hi"` with `hi` and exit status 0, and a client
//! that runs it and reads the answer:
//!
#![doc = concat!("```\n", include_str!("example.rs"), "```")]

mod connect;
mod error;
mod faults;
mod link;
mod options;
mod run;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{ClientConfig, ServerConfig};
use crate::crypto::SeededRandom;
use crate::error::ConnectionError;
use crate::event::Event;
use crate::{ClientConnection, ServerConnection};

pub use connect::Login;
pub use error::SimError;
pub use options::{Chunking, Side, SimOptions};
pub use run::Step;

use link::Link;

/// The instant virtual time starts from unless [`SimOptions::start`] says otherwise:
/// read from the system clock once per process.
///
/// Engines only compare instants with each other, so where time starts changes
/// nothing in a simulation's transcript. This is the one clock read in the crate.
#[allow(clippy::disallowed_methods)]
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// What one side has reported and the application has not taken yet.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    pub(crate) events: Vec<Event>,
    /// The error of the side's `Closed` event, kept after the events are taken.
    closed: Option<ConnectionError>,
}

impl Observed {
    /// How the side's connection ended, if it has.
    pub(crate) fn closed(&self) -> Option<&ConnectionError> {
        self.closed.as_ref()
    }

    fn record(&mut self, event: Event) {
        if let Event::Closed(error) = &event {
            self.closed = Some(error.clone());
        }
        self.events.push(event);
    }
}

/// How long a side stays frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stall {
    Until(Instant),
    Forever,
}

/// A client engine and a server engine connected in memory, with a virtual clock.
///
/// See the [module documentation](self) for an example.
pub struct Simulation {
    pub(crate) client: ClientConnection,
    pub(crate) server: ServerConnection,
    /// The virtual clock.
    pub(crate) now: Instant,
    start: Instant,
    pub(crate) options: SimOptions,
    /// Cuts the byte streams into chunks.
    chunks: SeededRandom,
    /// Draws the masks of corrupted bytes.
    faults: SeededRandom,
    /// The wire, indexed by the sending side ([`Side::index`]).
    links: [Link; 2],
    pub(crate) client_seen: Observed,
    pub(crate) server_seen: Observed,
    /// Frozen sides, indexed by [`Side::index`].
    stalls: [Option<Stall>; 2],
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("elapsed", &self.elapsed())
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

impl Simulation {
    /// A client with `client` and a server with `server`, not yet connected: the
    /// first step sends their identification strings.
    ///
    /// Both engines draw randomness from generators seeded by `options` (a plain
    /// `u64` seed gives the default options). Fails when the server configuration
    /// cannot run.
    pub fn new(
        client: ClientConfig,
        server: Arc<ServerConfig>,
        options: impl Into<SimOptions>,
    ) -> Result<Self, SimError> {
        let options = options.into();
        let seed = options.seed;
        let now = options.start.unwrap_or_else(epoch);
        let client = ClientConnection::with_rng(client, Box::new(SeededRandom::new(seed)), now);
        let server_rng = Box::new(SeededRandom::new(seed ^ 0x5eed));
        let server = ServerConnection::with_rng(server, server_rng, now)?;
        Ok(Self {
            client,
            server,
            now,
            start: now,
            chunks: SeededRandom::new(seed.wrapping_mul(31)),
            faults: SeededRandom::new(seed.wrapping_mul(37)),
            options,
            links: [Link::default(), Link::default()],
            client_seen: Observed::default(),
            server_seen: Observed::default(),
            stalls: [None, None],
        })
    }

    /// The client engine, to give it commands (open channels, authenticate, write).
    pub fn client(&mut self) -> &mut ClientConnection {
        &mut self.client
    }

    /// The server engine, to give it commands (answer requests, write, exit status).
    pub fn server(&mut self) -> &mut ServerConnection {
        &mut self.server
    }

    /// The virtual clock: pass it to engine calls that take `now`.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Virtual time since the simulation started.
    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// The options the simulation runs with.
    pub fn options(&self) -> &SimOptions {
        &self.options
    }

    /// Takes the events the client has reported since the last call, oldest first.
    /// Host key decisions are answered by the simulation unless
    /// [`SimOptions::accept_host_keys`] is false.
    pub fn client_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_seen.events)
    }

    /// Takes the events the server has reported since the last call, oldest first.
    pub fn server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_seen.events)
    }

    /// Takes the events `side` has reported since the last call.
    pub fn events(&mut self, side: Side) -> Vec<Event> {
        std::mem::take(&mut self.observed_mut(side).events)
    }

    /// How `side`'s connection ended (its `Closed` event), even once the events
    /// were taken; `None` while it is open.
    pub fn closed(&self, side: Side) -> Option<&ConnectionError> {
        match side {
            Side::Client => self.client_seen.closed(),
            Side::Server => self.server_seen.closed(),
        }
    }

    /// Every byte `side` put on the wire so far (faults included), for comparing
    /// runs or inspecting the protocol.
    pub fn transcript(&self, side: Side) -> &[u8] {
        self.links[side.index()].transcript()
    }

    /// Bytes sent and not yet received, both directions together.
    pub fn in_flight(&self) -> usize {
        self.links.iter().map(Link::in_flight).sum()
    }

    fn observed_mut(&mut self, side: Side) -> &mut Observed {
        match side {
            Side::Client => &mut self.client_seen,
            Side::Server => &mut self.server_seen,
        }
    }
}

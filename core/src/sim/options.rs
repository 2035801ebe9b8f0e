//! How a simulation cuts, delays and counts: the knobs fixed before it starts.

use std::time::{Duration, Instant};

use crate::crypto::SeededRandom;

/// One end of the simulated connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The [`ClientConnection`](crate::ClientConnection).
    Client,
    /// The [`ServerConnection`](crate::ServerConnection).
    Server,
}

impl Side {
    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// 0 for the client, 1 for the server: the index of per-side state.
    pub(crate) fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// How the byte streams are cut into the chunks each engine's `handle_input` sees.
///
/// Real sockets deliver whatever the kernel has: a packet split across reads, or many
/// packets in one. Cutting at random points (from the simulation's seed) exercises
/// the engines' reassembly on every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunking {
    /// A quarter of the deliveries are 1 to 16 bytes, the rest 1 byte to 64 KiB:
    /// tiny cuts often, large batches too (the default).
    Mixed,
    /// Each delivery is between `min` and `max` bytes (inclusive, at least 1), or
    /// what is left when less is in flight. `Uniform { min: 1, max: 1 }` feeds one
    /// byte at a time.
    Uniform {
        /// The smallest chunk.
        min: usize,
        /// The largest chunk.
        max: usize,
    },
}

impl Chunking {
    /// The next chunk length, at most `available` (which is at least 1).
    pub(crate) fn next_len(&self, rng: &mut SeededRandom, available: usize) -> usize {
        let r = rng.next_u64();
        let len = match *self {
            Chunking::Mixed => {
                let max = if r % 4 == 0 { 16 } else { 64 * 1024 };
                1 + (r >> 8) as usize % max
            }
            Chunking::Uniform { min, max } => {
                let min = min.max(1);
                let span = max.max(min) - min + 1;
                min + (r >> 8) as usize % span
            }
        };
        len.min(available)
    }
}

/// The settings of a [`Simulation`](super::Simulation).
///
/// `SimOptions::new(seed)` gives the defaults: [`Chunking::Mixed`], no latency,
/// host keys accepted, a million steps per run. Change fields as needed:
///
/// ```
/// # use std::time::Duration;
/// use sansh_core::sim::{Chunking, SimOptions};
/// let options = SimOptions {
///     chunking: Chunking::Uniform { min: 1, max: 1 },
///     latency: Duration::from_millis(40),
///     ..SimOptions::new(7)
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Seeds everything random: both engines' random sources, the chunking and the
    /// corruption. The same seed, configurations and calls give byte-identical
    /// transcripts (except for an ML-KEM key exchange: see the
    /// [module documentation](super)).
    pub seed: u64,
    /// How the byte streams are cut.
    pub chunking: Chunking,
    /// One-way delay: bytes sent at virtual time `t` can arrive from `t + latency`.
    pub latency: Duration,
    /// Each call that runs the simulation (`run_until`, `run_for`, `settle`) fails
    /// with [`SimError::StepLimit`](super::SimError::StepLimit) after this many
    /// steps, so a simulation that never reaches its goal ends instead of looping.
    pub max_steps: u64,
    /// Accept the server's host key without asking (true), or leave
    /// [`Event::HostKey`](crate::Event::HostKey) in the client's events for the test
    /// to answer (false).
    pub accept_host_keys: bool,
    /// Where virtual time starts. `None` uses [`epoch`](super::epoch). Only the
    /// differences between instants matter to the engines, so the transcripts do not
    /// depend on it.
    pub start: Option<Instant>,
}

impl SimOptions {
    /// The defaults with this seed.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            chunking: Chunking::Mixed,
            latency: Duration::ZERO,
            max_steps: 1_000_000,
            accept_host_keys: true,
            start: None,
        }
    }
}

impl From<u64> for SimOptions {
    fn from(seed: u64) -> Self {
        Self::new(seed)
    }
}

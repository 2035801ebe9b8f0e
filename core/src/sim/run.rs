//! Running a simulation: rounds of byte exchange at one instant, and jumps of the
//! virtual clock when nothing else can happen.

use std::time::{Duration, Instant};

use crate::event::Event;
use crate::{ClientConnection, ServerConnection};

use super::{Side, SimError, Simulation, Stall};

/// What one [`Simulation::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Bytes moved or events came out, at the same instant.
    Progress,
    /// Nothing could happen at the old instant: the clock jumped to this one (a
    /// timer, an arrival delayed by latency, or the end of a stall) and the timers
    /// due were fired.
    Advanced(Instant),
    /// Nothing can happen any more: no bytes can arrive, no timer is armed, no stall
    /// ends. Only a command from the application can restart things.
    Idle,
}

/// The calls the simulation makes on either engine.
trait Endpoint {
    fn transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize;
    fn input(&mut self, now: Instant, data: &[u8]);
    fn eof(&mut self, now: Instant);
    fn timeout(&mut self, now: Instant);
    fn next_timeout(&self) -> Option<Instant>;
}

macro_rules! endpoint {
    ($engine:ty) => {
        impl Endpoint for $engine {
            fn transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize {
                self.poll_transmit(now, out)
            }
            fn input(&mut self, now: Instant, data: &[u8]) {
                self.handle_input(now, data)
            }
            fn eof(&mut self, now: Instant) {
                self.handle_eof(now)
            }
            fn timeout(&mut self, now: Instant) {
                self.handle_timeout(now)
            }
            fn next_timeout(&self) -> Option<Instant> {
                self.poll_timeout()
            }
        }
    };
}
endpoint!(ClientConnection);
endpoint!(ServerConnection);

const SIDES: [Side; 2] = [Side::Client, Side::Server];

impl Simulation {
    /// One round at the current instant: collects what both engines send, delivers
    /// one chunk in each direction, collects events. Returns false when nothing
    /// happened. The clock does not move.
    pub fn round(&mut self) -> bool {
        let mut progress = self.collect_output();
        progress |= self.deliver();
        progress |= self.collect_events();
        progress
    }

    /// One round, or when nothing can happen now, a jump of the clock to the next
    /// instant when something can (firing the timers then due).
    pub fn step(&mut self) -> Step {
        if self.round() {
            return Step::Progress;
        }
        match self.next_wakeup() {
            Some(at) => {
                self.advance_to(at);
                Step::Advanced(self.now)
            }
            None => Step::Idle,
        }
    }

    /// Runs rounds until nothing more happens at the current instant: every byte
    /// that can arrive now has, every event is collected. The clock does not move.
    pub fn settle(&mut self) -> Result<(), SimError> {
        for _ in 0..self.options.max_steps {
            if !self.round() {
                return Ok(());
            }
        }
        Err(self.step_limit())
    }

    /// Steps until `done` returns true, advancing virtual time as needed.
    ///
    /// `done` is called before every step with the whole simulation: it may take
    /// events, answer them and give the engines commands, which is where the test's
    /// client and server logic usually lives. Fails when nothing can happen any
    /// more ([`SimError::Stuck`]) or the step budget runs out.
    pub fn run_until(
        &mut self,
        mut done: impl FnMut(&mut Simulation) -> bool,
    ) -> Result<(), SimError> {
        self.try_run_until(|sim| Ok::<_, SimError>(done(sim)))
    }

    /// [`run_until`](Self::run_until) with a condition that may fail: its first
    /// error ends the run and is returned.
    pub fn try_run_until<E: From<SimError>>(
        &mut self,
        mut done: impl FnMut(&mut Simulation) -> Result<bool, E>,
    ) -> Result<(), E> {
        // One idle step may be followed by commands `done` gives: stuck only when
        // it happens twice running.
        let mut idle = false;
        for _ in 0..self.options.max_steps {
            if done(self)? {
                return Ok(());
            }
            match self.step() {
                Step::Idle if idle => {
                    let elapsed = self.elapsed();
                    return Err(SimError::Stuck { elapsed }.into());
                }
                Step::Idle => idle = true,
                _ => idle = false,
            }
        }
        if done(self)? {
            return Ok(());
        }
        Err(self.step_limit().into())
    }

    /// Runs for `duration` of virtual time: everything that happens in that span
    /// happens, and the clock ends exactly `duration` later.
    pub fn run_for(&mut self, duration: Duration) -> Result<(), SimError> {
        let deadline = self.now + duration;
        for _ in 0..self.options.max_steps {
            if self.round() {
                continue;
            }
            match self.next_wakeup() {
                Some(at) if at <= deadline => self.advance_to(at),
                _ => {
                    self.advance_to(deadline);
                    self.settle()?;
                    return Ok(());
                }
            }
        }
        Err(self.step_limit())
    }

    /// Moves the clock forward by `by` at once and fires the timers then due,
    /// delivering nothing: what a sleeping host sees when it wakes up.
    pub fn advance(&mut self, by: Duration) {
        self.advance_to(self.now + by);
    }

    /// Moves the clock to `at` (never backwards), ends the stalls that are over,
    /// and fires the due timers of the sides that are not frozen.
    pub(crate) fn advance_to(&mut self, at: Instant) {
        self.now = self.now.max(at);
        for stall in &mut self.stalls {
            if matches!(stall, Some(Stall::Until(end)) if *end <= self.now) {
                *stall = None;
            }
        }
        for side in SIDES {
            if !self.frozen(side) {
                let now = self.now;
                self.engine(side).timeout(now);
            }
        }
    }

    /// The next instant at which something can happen: a timer of a side that is
    /// not frozen, bytes arriving at a side that is not frozen, a stall ending.
    fn next_wakeup(&self) -> Option<Instant> {
        let timers = [
            (Side::Client, self.client.next_timeout()),
            (Side::Server, self.server.next_timeout()),
        ];
        let timers = timers
            .into_iter()
            .filter(|(side, _)| !self.frozen(*side))
            .filter_map(|(_, at)| at);
        let arrivals = SIDES
            .into_iter()
            .filter(|sender| !self.frozen(sender.peer()))
            .filter_map(|sender| self.links[sender.index()].next_arrival(self.now));
        let thaws = self.stalls.iter().filter_map(|stall| match stall {
            Some(Stall::Until(end)) => Some(*end),
            _ => None,
        });
        timers.chain(arrivals).chain(thaws).min()
    }

    /// True while `side` is stalled: it neither reads, sends nor fires timers.
    pub(crate) fn frozen(&self, side: Side) -> bool {
        match self.stalls[side.index()] {
            Some(Stall::Until(end)) => end > self.now,
            Some(Stall::Forever) => true,
            None => false,
        }
    }

    fn engine(&mut self, side: Side) -> &mut dyn Endpoint {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Puts what each side has to send on the wire (client first).
    fn collect_output(&mut self) -> bool {
        let mut progress = false;
        let mut out = Vec::new();
        for side in SIDES {
            if self.frozen(side) {
                continue;
            }
            out.clear();
            let now = self.now;
            if self.engine(side).transmit(now, &mut out) > 0 {
                progress = true;
                let due = now + self.options.latency;
                self.links[side.index()].send(&out, due, &mut self.faults);
            }
        }
        progress
    }

    /// Delivers one chunk in each direction that has bytes due (to the server
    /// first), or the end of the stream once a cut link has drained.
    fn deliver(&mut self) -> bool {
        let mut progress = false;
        for sender in SIDES {
            let receiver = sender.peer();
            if self.frozen(receiver) {
                continue;
            }
            let now = self.now;
            let link = &mut self.links[sender.index()];
            let due = link.deliverable(now);
            let engine: &mut dyn Endpoint = match receiver {
                Side::Client => &mut self.client,
                Side::Server => &mut self.server,
            };
            if !due.is_empty() {
                let n = self.options.chunking.next_len(&mut self.chunks, due.len());
                engine.input(now, &due[..n]);
                link.consume(n);
                progress = true;
            } else if link.in_flight() == 0 && link.take_eof() {
                engine.eof(now);
                progress = true;
            }
        }
        progress
    }

    /// Takes both sides' events into their queues, answering host key decisions
    /// when the options say so.
    fn collect_events(&mut self) -> bool {
        let mut progress = false;
        if !self.frozen(Side::Client) {
            while let Some(event) = self.client.poll_event() {
                progress = true;
                match event {
                    Event::HostKey(decision) if self.options.accept_host_keys => {
                        self.client.accept_host_key(decision)
                    }
                    other => self.client_seen.record(other),
                }
            }
        }
        if !self.frozen(Side::Server) {
            while let Some(event) = self.server.poll_event() {
                progress = true;
                self.server_seen.record(event);
            }
        }
        progress
    }

    fn step_limit(&self) -> SimError {
        SimError::StepLimit {
            steps: self.options.max_steps,
            elapsed: self.elapsed(),
        }
    }
}

//! The engine's timers: one slot per kind; the earliest is what `poll_timeout` reports.

use std::time::Instant;

use crate::error::TimerKind;

const KINDS: [TimerKind; 5] = [
    TimerKind::KeyExchange,
    TimerKind::Rekey,
    TimerKind::LoginGrace,
    TimerKind::AuthFailureDelay,
    TimerKind::Keepalive,
];

/// A fixed table of optional deadlines, one per [`TimerKind`].
#[derive(Debug, Default, Clone)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; KINDS.len()],
}

fn slot(kind: TimerKind) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(0)
}

impl TimerTable {
    pub(crate) fn set(&mut self, kind: TimerKind, at: Instant) {
        self.deadlines[slot(kind)] = Some(at);
    }

    pub(crate) fn stop(&mut self, kind: TimerKind) {
        self.deadlines[slot(kind)] = None;
    }

    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Clears and returns the kinds whose deadline is at or before `now`.
    pub(crate) fn expire(&mut self, now: Instant) -> impl Iterator<Item = TimerKind> + use<> {
        let mut fired = Vec::new();
        for (i, deadline) in self.deadlines.iter_mut().enumerate() {
            if deadline.is_some_and(|d| d <= now) {
                *deadline = None;
                fired.push(KINDS[i]);
            }
        }
        fired.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_and_expiry_are_per_kind() {
        let t0 = crate::tests::epoch();
        let mut table = TimerTable::default();
        table.set(TimerKind::Rekey, t0 + Duration::from_secs(10));
        table.set(TimerKind::KeyExchange, t0 + Duration::from_secs(5));
        assert_eq!(table.earliest(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(
            table
                .expire(t0 + Duration::from_secs(6))
                .collect::<Vec<_>>(),
            [TimerKind::KeyExchange]
        );
        assert_eq!(table.expire(t0 + Duration::from_secs(6)).count(), 0);
        assert_eq!(table.earliest(), Some(t0 + Duration::from_secs(10)));
    }
}

//! Channel flow control (RFC 4254 §5.2).
//!
//! Our receive window gives credit back in batches, once the application has read
//! half of it (as h2 does), so a bulk transfer costs one WINDOW_ADJUST per half window
//! rather than one per packet. The invariant `available + buffered + consumed == max`
//! holds, where `buffered` is data received but not yet read: the peer can never make
//! us hold more than the window.

/// The window we give the peer.
#[derive(Debug, Clone)]
pub(crate) struct ReceiveWindow {
    max: u32,
    /// Credit the peer still has.
    available: u32,
    /// Bytes the application has read that we have not given back yet.
    consumed: u32,
}

impl ReceiveWindow {
    pub(crate) fn new(max: u32) -> Self {
        Self {
            max,
            available: max,
            consumed: 0,
        }
    }

    pub(crate) fn available(&self) -> u32 {
        self.available
    }

    /// Takes `len` bytes of credit for received data; fails (leaving the window as it
    /// was) when the peer sent more than it was given.
    pub(crate) fn receive(&mut self, len: u32) -> Result<(), u32> {
        match self.available.checked_sub(len) {
            Some(left) => {
                self.available = left;
                Ok(())
            }
            None => Err(self.available),
        }
    }

    /// Records that the application read (or we discarded) `len` received bytes.
    pub(crate) fn consume(&mut self, len: u32) {
        self.consumed = self.consumed.saturating_add(len);
    }

    /// The WINDOW_ADJUST due now, if half the window has been read.
    pub(crate) fn adjust_due(&self) -> Option<u32> {
        (self.consumed > 0 && self.consumed >= self.max / 2).then_some(self.consumed)
    }

    /// Records that a WINDOW_ADJUST of `len` (from [`Self::adjust_due`]) was sent.
    pub(crate) fn adjusted(&mut self, len: u32) {
        self.consumed -= len;
        self.available += len;
    }
}

/// The window the peer gives us.
#[derive(Debug, Clone)]
pub(crate) struct SendWindow {
    available: u32,
}

impl SendWindow {
    pub(crate) fn new(initial: u32) -> Self {
        Self { available: initial }
    }

    pub(crate) fn available(&self) -> u32 {
        self.available
    }

    /// Adds the peer's WINDOW_ADJUST; fails when the window would pass 2^32 - 1.
    pub(crate) fn adjust(&mut self, len: u32) -> Result<(), ()> {
        self.available = self.available.checked_add(len).ok_or(())?;
        Ok(())
    }

    pub(crate) fn consume(&mut self, len: u32) {
        self.available -= len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_returns_once_half_the_window_is_read() {
        let mut w = ReceiveWindow::new(100);
        w.receive(60).unwrap();
        w.consume(49);
        assert_eq!(w.adjust_due(), None);
        w.consume(1);
        assert_eq!(w.adjust_due(), Some(50));
        w.adjusted(50);
        assert_eq!(w.available(), 90);
        assert_eq!(w.adjust_due(), None);
    }

    #[test]
    fn receiving_more_than_the_window_fails_and_keeps_it() {
        let mut w = ReceiveWindow::new(10);
        assert_eq!(w.receive(10), Ok(()));
        assert_eq!(w.receive(1), Err(0));
        assert_eq!(w.available(), 0);
    }

    #[test]
    fn send_window_refuses_to_overflow() {
        let mut w = SendWindow::new(u32::MAX - 5);
        assert_eq!(w.adjust(5), Ok(()));
        assert_eq!(w.adjust(1), Err(()));
        assert_eq!(w.available(), u32::MAX);
    }
}

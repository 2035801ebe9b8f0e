//! Injected randomness: the system RNG by default, a seeded generator in tests.
//!
//! Nothing else in the engine may draw random bytes: a connection owns one
//! [`SecureRandom`] and passes it down, so that the same seed gives the same bytes.

use aws_lc_rs::digest;

/// A source of cryptographically secure random bytes.
pub trait SecureRandom: Send {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]);
}

/// The operating system's generator, through aws-lc-rs.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl SecureRandom for SystemRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        #[allow(clippy::disallowed_methods)] // the one sanctioned call site
        if aws_lc_rs::rand::fill(dest).is_err() {
            // aws-lc's generator only fails when the OS cannot supply entropy, where no
            // key material can be made safely; stopping is the only sound answer.
            panic!("system random generator failed");
        }
    }
}

/// A deterministic generator for tests and simulations: SHA-256 over the seed and a
/// block counter. Never use it for real connections.
#[derive(Clone)]
pub struct SeededRandom {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRandom {
    /// A generator whose output is fully determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_be_bytes());
        Self {
            seed: s,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&self.seed);
        ctx.update(&self.counter.to_be_bytes());
        self.block.copy_from_slice(ctx.finish().as_ref());
        self.counter += 1;
        self.used = 0;
    }

    /// The next random `u64` (handy for seeded chunk sizes in test harnesses).
    pub fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_be_bytes(b)
    }
}

impl std::fmt::Debug for SeededRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeededRandom")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

impl SecureRandom for SeededRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        for byte in dest.iter_mut() {
            if self.used == self.block.len() {
                self.refill();
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_bytes() {
        let (mut a, mut b) = (SeededRandom::new(7), SeededRandom::new(7));
        let (mut x, mut y) = ([0u8; 100], [0u8; 100]);
        a.fill(&mut x);
        b.fill(&mut y);
        assert_eq!(x, y);
        let mut c = SeededRandom::new(8);
        c.fill(&mut y);
        assert_ne!(x, y);
    }
}

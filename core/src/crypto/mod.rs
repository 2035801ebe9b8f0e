//! The one door to aws-lc-rs randomness, and shared crypto helpers.

pub mod rng;

pub use rng::{SecureRandom, SeededRandom, SystemRandom};

//! What the sansh-core fuzz targets share: the engines under test (fixed configurations,
//! seeded randomness, a host key from a fixed seed), the driver that feeds them a fuzz
//! input in chunks while checking the invariants every connection must keep, and the
//! seed transcripts (real handshakes between our own engines) the corpora start from;
//! and for the parser targets, fixed keys and certificates and seed files of every format.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod engine;
pub mod fixtures;
pub mod parser_seeds;
pub mod seeds;

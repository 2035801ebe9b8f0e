//! sansh on smol: runtime adapter (grows with the connection-layer issue).
#![forbid(unsafe_code)]

pub use sansh_core as core;

//! Interop tests and benchmarks of sansh against real OpenSSH peers.
#![forbid(unsafe_code)]

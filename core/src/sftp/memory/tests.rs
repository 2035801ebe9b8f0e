//! MemoryFs tests.

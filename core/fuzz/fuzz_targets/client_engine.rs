//! Raw bytes from a server into a `ClientConnection` (which accepts any host key and
//! asks for `ssh-userauth`): a valid identification line (or the raw stream, see
//! `sansh_core_fuzz::engine`), then anything, in fuzzer-chosen chunks with a moving
//! virtual clock, then the timers and EOF. Never a panic, and the invariants of
//! `engine::run` hold throughout.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansh_core_fuzz::{engine, seeds};

fuzz_target!(
    init: seeds::export_if_requested(seeds::client_seeds),
    |data: &[u8]| {
        let now = engine::epoch();
        engine::run(engine::new_client(now), now, data);
    }
);

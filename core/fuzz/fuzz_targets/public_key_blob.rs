//! `PublicKey::from_blob` on arbitrary bytes: never a panic, a blob that parses
//! re-encodes to exactly the same bytes (decoding is strict, so it is canonical), and
//! verifying a signature blob with the parsed key never panics either.
//!
//! Input: a big-endian `u16` blob length, the blob, then a signature blob.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansh_core::keys::PublicKey;
use sansh_core_fuzz::seeds;

fuzz_target!(init: seeds::export_if_requested(seeds::public_key_seeds), |data: &[u8]| {
    let Some((&len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let (blob, signature) = rest.split_at(usize::from(u16::from_be_bytes(len)).min(rest.len()));
    if let Ok(key) = PublicKey::from_blob(blob) {
        assert_eq!(key.to_blob(), blob, "a parsed blob re-encodes differently");
        assert_eq!(PublicKey::from_blob(&key.to_blob()).as_ref(), Ok(&key));
        let _ = key.bits();
        let _ = key.fingerprint_sha256();
        for &alg in key.key_type().signature_algorithms() {
            let _ = key.verify(alg, b"fuzz", signature);
        }
    }
});

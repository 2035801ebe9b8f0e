//! authorized_keys: every option and quoting rule, and every way a line admits or
//! refuses an attempt.

mod authorize;
mod lines;
mod options;

use crate::crypto::SeededRandom;
use crate::keys::{KeyType, PrivateKey, PublicKey};

fn private(seed: u64) -> PrivateKey {
    PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(seed)).unwrap()
}

fn key(seed: u64) -> PublicKey {
    private(seed).public_key()
}

/// `key`'s `type base64` fields.
fn k(key: &PublicKey) -> String {
    key.to_openssh("")
}

//! Tests of the keys module, grouped by what they exercise.

mod blob;
mod certificate;
mod fixtures;
mod openssh_private;
mod public_line;
mod sign;

use std::sync::OnceLock;

use base64ct::{Base64, Encoding};

use super::{KeyType, PrivateKey, PublicKey};
use crate::crypto::SeededRandom;

/// One RSA key for all tests: generating RSA keys is slow and never reproducible.
fn rsa_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        PrivateKey::generate(KeyType::Rsa, Some(2048), &mut SeededRandom::new(0))
            .expect("RSA generation")
    })
}

/// A key of `key_type`, seeded (except RSA, which is shared).
fn key(key_type: KeyType) -> &'static PrivateKey {
    static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    if key_type == KeyType::Rsa {
        return rsa_key();
    }
    let keys = KEYS.get_or_init(|| {
        [
            KeyType::Ed25519,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::EcdsaP521,
        ]
        .iter()
        .map(|&t| PrivateKey::generate(t, None, &mut SeededRandom::new(1)).expect("generate"))
        .collect()
    });
    keys.iter()
        .find(|k| k.key_type() == key_type)
        .expect("key of that type")
}

/// The public key in an OpenSSH public key line (`type base64 [comment]`).
fn public_from_line(line: &str) -> PublicKey {
    let b64 = line.split_whitespace().nth(1).expect("base64 field");
    PublicKey::from_blob(&Base64::decode_vec(b64).expect("base64")).expect("blob")
}

//! The private key parsers on arbitrary bytes, without a passphrase and with a fixed
//! one: `PrivateKey::from_pem` (OpenSSH, PKCS#1, SEC1, PKCS#8 and their encrypted
//! forms), `from_openssh`, `from_openssh_binary`, `from_der`, and the PKCS#1, SEC1,
//! PKCS#8 and encrypted PKCS#8 DER readers. Never a panic; a key that parses signs what
//! its public key verifies, and survives a write and read in the OpenSSH, PKCS#8 and
//! (but for Ed25519) traditional formats.
//!
//! Fuzz builds cap bcrypt-pbkdf at 2 rounds and PBKDF2 at 4096 iterations (core's
//! `cfg(fuzzing)`), so an input asking for more costs nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansh_core::crypto::SeededRandom;
use sansh_core::keys::{KeyType, PrivateKey};
use sansh_core_fuzz::fixtures::PASSPHRASE;
use sansh_core_fuzz::{parser_seeds, seeds};

fuzz_target!(init: seeds::export_if_requested(parser_seeds::private_key_file_seeds), |data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for passphrase in [None, Some(PASSPHRASE)] {
        if let Ok(key) = PrivateKey::from_pem(&text, passphrase) {
            check(&key);
        }
        if let Ok(key) = PrivateKey::from_openssh(&text, passphrase) {
            check(&key);
        }
        if let Ok(key) = PrivateKey::from_openssh_binary(data, passphrase) {
            check(&key);
        }
        if let Ok(key) = PrivateKey::from_der(data, passphrase) {
            check(&key);
        }
    }
    for key in [
        PrivateKey::from_pkcs1_der(data),
        PrivateKey::from_sec1_der(data),
        PrivateKey::from_pkcs8_der(data),
        PrivateKey::from_encrypted_pkcs8_der(data, PASSPHRASE),
    ]
    .into_iter()
    .flatten()
    {
        check(&key);
    }
});

fn check(key: &PrivateKey) {
    let public = key.public_key();
    let rng = &mut SeededRandom::new(1);
    for &alg in key.signature_algorithms() {
        let signature = key.sign(alg, b"fuzz", rng).expect("a parsed key signs");
        assert_eq!(
            public.verify(alg, b"fuzz", &signature),
            Ok(()),
            "a parsed key's signature does not verify with its public key"
        );
    }

    let openssh = key.to_openssh(None, rng).expect("OpenSSH export");
    let reread = PrivateKey::from_openssh(&openssh, None).expect("our OpenSSH file reads back");
    assert_eq!(reread.public_key(), public, "OpenSSH round trip");
    assert_eq!(
        reread.comment(),
        key.comment(),
        "OpenSSH round trip loses the comment"
    );

    let pkcs8 = key.to_pkcs8_der().expect("PKCS#8 export");
    let reread = PrivateKey::from_pkcs8_der(&pkcs8).expect("our PKCS#8 reads back");
    assert_eq!(reread.public_key(), public, "PKCS#8 round trip");

    if key.key_type() != KeyType::Ed25519 {
        let der = key.to_traditional_der().expect("traditional export");
        let reread = PrivateKey::from_der(&der, None).expect("our traditional DER reads back");
        assert_eq!(reread.public_key(), public, "traditional DER round trip");
    }
}

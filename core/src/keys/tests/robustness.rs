//! Seeded random mutations of real files: every parser returns, none panics.
//!
//! A cheap stand-in for the fuzz targets between fuzzing runs. Encrypted inputs are
//! left out: a mutated KDF cost would make the loop slow without reaching new code.

use base64ct::{Base64, Encoding};

use super::fixtures;
use crate::crypto::SeededRandom;
use crate::keys::{Certificate, PrivateKey, PublicKey};

const ROUNDS: usize = 3000;

/// Calls `parse` on `ROUNDS` mutations of `input` (1 to 4 bytes replaced).
fn mutate(seed: u64, input: &[u8], parse: impl Fn(&[u8])) {
    let mut rng = SeededRandom::new(seed);
    for _ in 0..ROUNDS {
        let mut m = input.to_vec();
        for _ in 0..=(rng.next_u64() % 4) {
            let at = (rng.next_u64() % m.len() as u64) as usize;
            m[at] = rng.next_u64() as u8;
        }
        parse(&m);
    }
}

fn blob_of_line(name: &str) -> Vec<u8> {
    let text = fixtures::text(name);
    Base64::decode_vec(text.split_whitespace().nth(1).unwrap()).unwrap()
}

fn openssh_binary(name: &str) -> Vec<u8> {
    let body: String = fixtures::text(name)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    Base64::decode_vec(&body).unwrap()
}

#[test]
fn mutated_public_key_blobs_never_panic() {
    for (seed, name) in ["ed25519.pub", "ecdsa521.pub", "rsa2048.pub"]
        .iter()
        .enumerate()
    {
        mutate(seed as u64, &blob_of_line(name), |b| {
            let _ = PublicKey::from_blob(b);
        });
    }
}

#[test]
fn mutated_certificates_never_panic() {
    for (seed, name) in ["ed25519-user-cert.pub", "rsa2048-host-cert.pub"]
        .iter()
        .enumerate()
    {
        mutate(seed as u64, &blob_of_line(name), |b| {
            if let Ok(cert) = Certificate::from_blob(b) {
                let _ = cert.verify_signature(crate::keys::DEFAULT_CA_ALGORITHMS);
            }
        });
    }
}

#[test]
fn mutated_openssh_private_keys_never_panic() {
    for (seed, name) in ["ed25519", "ecdsa384", "rsa2048"].iter().enumerate() {
        mutate(seed as u64, &openssh_binary(name), |b| {
            let _ = PrivateKey::from_openssh_binary(b, None);
        });
    }
}

#[test]
fn mutated_der_keys_never_panic() {
    for (seed, name) in ["rsa2048-p8.der", "ecdsa256-sec1.der", "rsa2048-pkcs1.der"]
        .iter()
        .enumerate()
    {
        let der = std::fs::read(fixtures::dir().join(name)).unwrap();
        mutate(seed as u64, &der, |b| {
            let _ = PrivateKey::from_der(b, None);
            let _ = PublicKey::from_spki_der(b);
        });
    }
}

#[test]
fn mutated_text_files_never_panic() {
    for (seed, name) in [
        "ecdsa256-enc.pem",
        "ecdsa384.p8",
        "rsa2048.rfc4716",
        "ed25519.pub",
    ]
    .iter()
    .enumerate()
    {
        let text = fixtures::text(name);
        mutate(seed as u64, text.as_bytes(), |b| {
            let Ok(text) = std::str::from_utf8(b) else {
                return;
            };
            let _ = PrivateKey::from_pem(text, Some(b"wrong"));
            let _ = PublicKey::from_rfc4716(text);
            let _ = PublicKey::from_openssh(text);
            let _ = PublicKey::from_pem(text);
        });
    }
}

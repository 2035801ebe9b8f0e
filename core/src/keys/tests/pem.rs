//! PEM, DER (PKCS#1, SEC1, PKCS#8, SubjectPublicKeyInfo) and RFC 4716, checked against
//! files made by ssh-keygen and OpenSSL.

use super::{fixtures, key};
use crate::crypto::SeededRandom;
use crate::keys::{KeyError, KeyType, PemFormat, PrivateKey, PublicKey};

const PASSPHRASE: &[u8] = b"correct horse";
const PEM_TYPES: &[&str] = &["rsa2048", "ecdsa256", "ecdsa384", "ecdsa521"];

fn public_of(name: &str) -> PublicKey {
    PublicKey::from_openssh(&fixtures::text(&format!("{name}.pub")))
        .unwrap()
        .0
}

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixtures::dir().join(name)).unwrap()
}

#[test]
fn ssh_keygen_pem_and_pkcs8_keys_load() {
    for t in PEM_TYPES {
        for file in [format!("{t}.pem"), format!("{t}.p8")] {
            let key = PrivateKey::from_pem(&fixtures::text(&file), None).unwrap();
            assert_eq!(key.public_key(), public_of(t), "{file}");
        }
    }
}

#[test]
fn ssh_keygen_encrypted_pem_and_pkcs8_keys_load_with_passphrase() {
    for t in PEM_TYPES {
        for file in [format!("{t}-enc.pem"), format!("{t}-enc.p8")] {
            let key = PrivateKey::from_pem(&fixtures::text(&file), Some(PASSPHRASE)).unwrap();
            assert_eq!(key.public_key(), public_of(t), "{file}");
        }
    }
}

#[test]
fn openssl_variants_load() {
    let cases = [
        ("ecdsa256-sha1-aes256.p8", "ecdsa256"),
        ("ecdsa521-aes256.pem", "ecdsa521"),
        ("ed25519-openssl-enc.p8", "ed25519-openssl"),
        ("ed25519-openssl.p8", "ed25519-openssl"),
    ];
    for (file, public) in cases {
        let key = PrivateKey::from_pem(&fixtures::text(file), Some(PASSPHRASE)).unwrap();
        assert_eq!(key.public_key(), public_of(public), "{file}");
    }
}

#[test]
fn der_keys_load_by_shape() {
    let cases = [
        ("rsa2048-pkcs1.der", "rsa2048"),
        ("ecdsa256-sec1.der", "ecdsa256"),
        ("rsa2048-p8.der", "rsa2048"),
        ("ecdsa384-enc-p8.der", "ecdsa384"),
    ];
    for (file, public) in cases {
        let key = PrivateKey::from_der(&bytes(file), Some(PASSPHRASE)).unwrap();
        assert_eq!(key.public_key(), public_of(public), "{file}");
    }
}

#[test]
fn wrong_passphrase_is_reported_for_every_encrypted_form() {
    for file in [
        "rsa2048-enc.pem",
        "ecdsa256-enc.pem",
        "rsa2048-enc.p8",
        "ecdsa256-sha1-aes256.p8",
        "ed25519-openssl-enc.p8",
    ] {
        assert_eq!(
            PrivateKey::from_pem(&fixtures::text(file), Some(b"wrong")).unwrap_err(),
            KeyError::WrongPassphrase,
            "{file}"
        );
        assert_eq!(
            PrivateKey::from_pem(&fixtures::text(file), None).unwrap_err(),
            KeyError::PassphraseRequired,
            "{file}"
        );
    }
}

#[test]
fn ssh_keygen_public_exports_load() {
    for t in PEM_TYPES {
        for file in [format!("{t}-pub.pem"), format!("{t}-spki.pem")] {
            assert_eq!(
                PublicKey::from_pem(&fixtures::text(&file)).unwrap(),
                public_of(t),
                "{file}"
            );
        }
    }
}

#[test]
fn public_exports_match_ssh_keygen_byte_for_byte() {
    for t in PEM_TYPES {
        let public = public_of(t);
        assert_eq!(
            public.to_spki_pem().unwrap(),
            fixtures::text(&format!("{t}-spki.pem"))
        );
        let pem = if public.key_type() == KeyType::Rsa {
            public.to_pkcs1_pem().unwrap()
        } else {
            public.to_spki_pem().unwrap()
        };
        assert_eq!(pem, fixtures::text(&format!("{t}-pub.pem")), "{t}");
    }
}

#[test]
fn rfc4716_files_load_and_write_like_ssh_keygen() {
    for t in [
        "ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa2048", "rsa3072",
    ] {
        let text = fixtures::text(&format!("{t}.rfc4716"));
        let (public, comment) = PublicKey::from_rfc4716(&text).unwrap();
        assert_eq!(public, public_of(t), "{t}");
        assert!(comment.contains("converted by"), "{t}: {comment}");
        assert_eq!(public.to_rfc4716(&comment), text, "{t}");
    }
}

#[test]
fn rfc4716_long_header_continues_over_lines() {
    let public = key(KeyType::Ed25519).public_key();
    let comment = "x".repeat(150);
    let text = public.to_rfc4716(&comment);
    assert!(text.lines().all(|l| l.len() <= 72));
    assert_eq!(PublicKey::from_rfc4716(&text).unwrap(), (public, comment));
}

#[test]
fn private_keys_round_trip_through_every_pem_form() {
    for &t in KeyType::ALL {
        let original = key(t);
        for format in [PemFormat::Pkcs8, PemFormat::Traditional] {
            for passphrase in [None, Some(PASSPHRASE)] {
                if format == PemFormat::Traditional && t == KeyType::Ed25519 {
                    assert!(matches!(
                        original.to_pem(format, passphrase, &mut SeededRandom::new(0)),
                        Err(KeyError::UnsupportedFormat(_))
                    ));
                    continue;
                }
                let pem = original
                    .to_pem(format, passphrase, &mut SeededRandom::new(0))
                    .unwrap();
                let loaded = PrivateKey::from_pem(&pem, passphrase).unwrap();
                assert_eq!(loaded.public_key(), original.public_key(), "{t} {format:?}");
            }
        }
    }
}

#[test]
fn private_keys_round_trip_through_der() {
    for &t in KeyType::ALL {
        let original = key(t);
        let der = original.to_pkcs8_der().unwrap();
        let loaded = PrivateKey::from_der(&der, None).unwrap();
        assert_eq!(loaded.public_key(), original.public_key(), "{t}");
        if t != KeyType::Ed25519 {
            let der = original.to_traditional_der().unwrap();
            let loaded = PrivateKey::from_der(&der, None).unwrap();
            assert_eq!(loaded.public_key(), original.public_key(), "{t}");
        }
    }
}

#[test]
fn public_keys_round_trip_through_spki() {
    for &t in KeyType::ALL {
        let public = key(t).public_key();
        assert_eq!(
            PublicKey::from_spki_der(&public.to_spki_der()).unwrap(),
            public
        );
    }
}

#[test]
fn every_truncation_of_der_is_an_error() {
    for file in ["rsa2048-p8.der", "ecdsa256-sec1.der", "ecdsa384-enc-p8.der"] {
        let der = bytes(file);
        for len in 0..der.len() {
            assert!(
                PrivateKey::from_der(&der[..len], Some(PASSPHRASE)).is_err(),
                "{file} at {len}"
            );
        }
    }
}

#[test]
fn unknown_algorithm_oid_is_named() {
    let mut der = bytes("rsa2048-p8.der");
    let rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let at = der.windows(rsa.len()).position(|w| w == rsa).unwrap();
    der[at + 8] = 0x05;
    assert_eq!(
        PrivateKey::from_der(&der, None).unwrap_err(),
        KeyError::UnsupportedAlgorithm("1.2.840.113549.1.1.5".into())
    );
}

#[test]
fn unknown_pem_label_is_named() {
    let text = fixtures::text("rsa2048.pem").replace("RSA PRIVATE KEY", "DSA PRIVATE KEY");
    assert_eq!(
        PrivateKey::from_pem(&text, None).unwrap_err(),
        KeyError::UnknownPemLabel("DSA PRIVATE KEY".into())
    );
}

#[test]
fn unknown_legacy_cipher_is_named() {
    let text = fixtures::text("rsa2048-enc.pem").replace("AES-128-CBC", "DES-EDE3-CBC");
    assert_eq!(
        PrivateKey::from_pem(&text, Some(PASSPHRASE)).unwrap_err(),
        KeyError::UnknownCipher("DES-EDE3-CBC".into())
    );
}

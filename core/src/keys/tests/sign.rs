//! Signing and verification.

use super::{key, public_from_line, rsa_key};
use crate::crypto::SeededRandom;
use crate::keys::{KeyError, KeyType, SignatureAlgorithm};
use crate::wire::{Reader, Writer};

const DATA: &[u8] = b"exchange hash stand-in";

fn sign(alg: SignatureAlgorithm) -> Vec<u8> {
    key(alg.key_type())
        .sign(alg, DATA, &mut SeededRandom::new(9))
        .expect("sign")
}

fn round_trip(alg: SignatureAlgorithm) {
    let blob = sign(alg);
    key(alg.key_type())
        .public_key()
        .verify(alg, DATA, &blob)
        .expect("verify");
}

#[test]
fn ed25519_signature_verifies() {
    round_trip(SignatureAlgorithm::Ed25519);
}

#[test]
fn ecdsa_p256_signature_verifies() {
    round_trip(SignatureAlgorithm::EcdsaP256);
}

#[test]
fn ecdsa_p384_signature_verifies() {
    round_trip(SignatureAlgorithm::EcdsaP384);
}

#[test]
fn ecdsa_p521_signature_verifies() {
    round_trip(SignatureAlgorithm::EcdsaP521);
}

#[test]
fn rsa_sha2_512_signature_verifies() {
    round_trip(SignatureAlgorithm::RsaSha2_512);
}

#[test]
fn rsa_sha2_256_signature_verifies() {
    round_trip(SignatureAlgorithm::RsaSha2_256);
}

#[test]
fn signature_blob_names_its_algorithm() {
    for &alg in SignatureAlgorithm::DEFAULT_HOST_KEY {
        let blob = sign(alg);
        let mut r = Reader::new(&blob);
        assert_eq!(r.string().unwrap(), alg.name().as_bytes());
        r.string().unwrap();
        r.finish().unwrap();
    }
}

#[test]
fn flipped_signature_bit_fails_for_every_algorithm() {
    for &alg in SignatureAlgorithm::DEFAULT_HOST_KEY {
        let mut blob = sign(alg);
        let last = blob.len() - 1;
        blob[last] ^= 0x01;
        let err = key(alg.key_type())
            .public_key()
            .verify(alg, DATA, &blob)
            .unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::BadSignature | KeyError::MalformedSignature(_)
            ),
            "{alg}: {err:?}"
        );
    }
}

#[test]
fn flipped_data_bit_fails_for_every_algorithm() {
    for &alg in SignatureAlgorithm::DEFAULT_HOST_KEY {
        let blob = sign(alg);
        let mut data = DATA.to_vec();
        data[0] ^= 0x80;
        let err = key(alg.key_type())
            .public_key()
            .verify(alg, &data, &blob)
            .unwrap_err();
        assert_eq!(err, KeyError::BadSignature, "{alg}");
    }
}

#[test]
fn rsa_sha256_signature_presented_as_sha512_fails() {
    let blob = sign(SignatureAlgorithm::RsaSha2_256);
    let public = rsa_key().public_key();
    assert!(matches!(
        public.verify(SignatureAlgorithm::RsaSha2_512, DATA, &blob),
        Err(KeyError::SignatureAlgorithmMismatch { .. })
    ));
    // Relabelling the blob does not help: the digest inside the signature differs.
    let mut r = Reader::new(&blob);
    r.string().unwrap();
    let mut relabelled = Vec::new();
    relabelled.put_string(b"rsa-sha2-512");
    relabelled.put_string(r.string().unwrap());
    assert_eq!(
        public.verify(SignatureAlgorithm::RsaSha2_512, DATA, &relabelled),
        Err(KeyError::BadSignature)
    );
}

#[test]
fn blob_naming_another_algorithm_fails() {
    let blob = sign(SignatureAlgorithm::EcdsaP256);
    let mut r = Reader::new(&blob);
    r.string().unwrap();
    let mut renamed = Vec::new();
    renamed.put_string(b"ecdsa-sha2-nistp384");
    renamed.put_string(r.string().unwrap());
    let err = key(KeyType::EcdsaP256)
        .public_key()
        .verify(SignatureAlgorithm::EcdsaP256, DATA, &renamed)
        .unwrap_err();
    assert!(matches!(
        err,
        KeyError::SignatureAlgorithmMismatch { ref found, .. } if found == "ecdsa-sha2-nistp384"
    ));
}

#[test]
fn algorithm_of_another_key_type_is_refused() {
    let public = key(KeyType::Ed25519).public_key();
    let blob = sign(SignatureAlgorithm::EcdsaP256);
    assert!(matches!(
        public.verify(SignatureAlgorithm::EcdsaP256, DATA, &blob),
        Err(KeyError::AlgorithmKeyMismatch { .. })
    ));
    assert!(matches!(
        key(KeyType::Ed25519).sign(
            SignatureAlgorithm::RsaSha2_256,
            DATA,
            &mut SeededRandom::new(0)
        ),
        Err(KeyError::AlgorithmKeyMismatch { .. })
    ));
}

#[test]
fn signature_blob_with_trailing_bytes_fails() {
    let mut blob = sign(SignatureAlgorithm::Ed25519);
    blob.push(0);
    assert!(matches!(
        key(KeyType::Ed25519)
            .public_key()
            .verify(SignatureAlgorithm::Ed25519, DATA, &blob),
        Err(KeyError::Wire(_))
    ));
}

#[test]
fn truncated_signature_blobs_fail_without_panicking() {
    for &alg in SignatureAlgorithm::DEFAULT_HOST_KEY {
        let blob = sign(alg);
        let public = key(alg.key_type()).public_key();
        for len in 0..blob.len() {
            assert!(
                public.verify(alg, DATA, &blob[..len]).is_err(),
                "{alg} at {len}"
            );
        }
    }
}

#[test]
fn ecdsa_signature_with_oversized_r_is_malformed() {
    let mut inner = Vec::new();
    inner.put_mpint_unsigned(&[0x01; 33]);
    inner.put_mpint_unsigned(&[0x01; 32]);
    let mut blob = Vec::new();
    blob.put_string(b"ecdsa-sha2-nistp256");
    blob.put_string(&inner);
    assert_eq!(
        key(KeyType::EcdsaP256)
            .public_key()
            .verify(SignatureAlgorithm::EcdsaP256, DATA, &blob),
        Err(KeyError::MalformedSignature(SignatureAlgorithm::EcdsaP256))
    );
}

#[test]
fn rsa_signature_longer_than_modulus_is_malformed() {
    let alg = SignatureAlgorithm::RsaSha2_256;
    let mut blob = Vec::new();
    blob.put_string(alg.name().as_bytes());
    blob.put_string(&[0xff; 257]);
    assert_eq!(
        rsa_key().public_key().verify(alg, DATA, &blob),
        Err(KeyError::MalformedSignature(alg))
    );
}

#[test]
fn ssh_rsa_cannot_sign() {
    assert!(!SignatureAlgorithm::SshRsa.can_sign());
    assert_eq!(
        rsa_key().sign(SignatureAlgorithm::SshRsa, DATA, &mut SeededRandom::new(0)),
        Err(KeyError::SigningNotSupported(SignatureAlgorithm::SshRsa))
    );
}

const KAT_MESSAGE: &[u8] = b"sansh ssh-rsa known answer";

fn raw_signature_blob(name: &str, sig: &[u8]) -> Vec<u8> {
    let mut blob = Vec::new();
    blob.put_string(name.as_bytes());
    blob.put_string(sig);
    blob
}

#[test]
fn ssh_rsa_sha1_signature_from_openssl_verifies() {
    let public = public_from_line(include_str!(
        "../../../tests/fixtures/keys/rsa2048-sha1.pub"
    ));
    let blob = raw_signature_blob(
        "ssh-rsa",
        include_bytes!("../../../tests/fixtures/keys/rsa2048-sha1.sig"),
    );
    public
        .verify(SignatureAlgorithm::SshRsa, KAT_MESSAGE, &blob)
        .unwrap();
    assert!(
        public
            .verify(SignatureAlgorithm::SshRsa, b"another message", &blob)
            .is_err()
    );
}

#[test]
fn rsa_1024_bit_signature_verifies_as_openssh_allows() {
    let public = public_from_line(include_str!(
        "../../../tests/fixtures/keys/rsa1024-sha512.pub"
    ));
    assert_eq!(public.bits(), 1024);
    let blob = raw_signature_blob(
        "rsa-sha2-512",
        include_bytes!("../../../tests/fixtures/keys/rsa1024-sha512.sig"),
    );
    public
        .verify(SignatureAlgorithm::RsaSha2_512, KAT_MESSAGE, &blob)
        .unwrap();
}

/// RFC 8032 §7.1 TEST 2: a one-byte message.
#[test]
fn ed25519_matches_rfc8032_test_vector() {
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let seed = hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    let public = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
    let signature = hex(concat!(
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da",
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
    ));
    let key = crate::keys::ed25519::Ed25519Private::from_seed(&seed, Some(&public)).unwrap();
    assert_eq!(key.sign(&[0x72]).unwrap(), signature);
}

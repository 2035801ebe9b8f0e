//! OpenSSH private key files: ssh-keygen's fixtures and our own round trips.

use super::{fixtures, key};
use crate::crypto::SeededRandom;
use crate::keys::{
    KeyError, KeyType, OpenSshCipher, OpenSshEncryption, PrivateKey, PublicKey, SignatureAlgorithm,
};
use crate::wire::{Reader, Writer};

const PASSPHRASE: &[u8] = b"correct horse";
const PLAIN: &[&str] = &[
    "ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa2048", "rsa3072",
];
const ENCRYPTED: &[&str] = &[
    "ed25519-enc-aes256-ctr",
    "ed25519-enc-aes128-ctr",
    "ed25519-enc-aes256-gcm",
    "ed25519-enc-chacha20-poly1305",
    "rsa2048-enc",
    "ecdsa384-enc",
];

fn load(name: &str, passphrase: Option<&[u8]>) -> Result<PrivateKey, KeyError> {
    PrivateKey::from_openssh(&fixtures::text(name), passphrase)
}

fn expected_public(name: &str) -> (PublicKey, String) {
    PublicKey::from_openssh(&fixtures::text(&format!("{name}.pub"))).unwrap()
}

/// Signs and verifies, proving the loaded private half works with its public half.
fn assert_signs(key: &PrivateKey) {
    let alg = key.signature_algorithms()[0];
    let sig = key.sign(alg, b"data", &mut SeededRandom::new(0)).unwrap();
    key.public_key().verify(alg, b"data", &sig).unwrap();
}

#[test]
fn unencrypted_ssh_keygen_keys_load_with_their_public_key_and_comment() {
    for name in PLAIN {
        let key = load(name, None).unwrap();
        let (public, comment) = expected_public(name);
        assert_eq!(key.public_key(), public, "{name}");
        assert_eq!(key.comment(), comment, "{name}");
        assert_signs(&key);
    }
}

#[test]
fn encrypted_ssh_keygen_keys_load_with_the_passphrase() {
    for name in ENCRYPTED {
        let key = load(name, Some(PASSPHRASE)).unwrap();
        assert_eq!(key.public_key(), expected_public(name).0, "{name}");
        assert_signs(&key);
    }
}

#[test]
fn wrong_passphrase_is_reported_for_every_cipher() {
    for name in ENCRYPTED {
        assert_eq!(
            load(name, Some(b"battery staple")).unwrap_err(),
            KeyError::WrongPassphrase,
            "{name}"
        );
    }
}

#[test]
fn encrypted_key_without_passphrase_asks_for_one() {
    assert_eq!(
        load("ed25519-enc-aes256-ctr", None).unwrap_err(),
        KeyError::PassphraseRequired
    );
    assert_eq!(
        load("ed25519-enc-aes256-ctr", Some(b"")).unwrap_err(),
        KeyError::PassphraseRequired
    );
}

#[test]
fn public_key_reads_from_encrypted_file_without_passphrase() {
    let public = PublicKey::from_openssh_private(&fixtures::text("rsa2048-enc")).unwrap();
    assert_eq!(public, expected_public("rsa2048").0);
}

#[test]
fn unencrypted_key_round_trips_for_every_type() {
    for &t in KeyType::ALL {
        let original = key(t);
        let text = original
            .to_openssh(None, &mut SeededRandom::new(3))
            .unwrap();
        assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert!(text.lines().all(|l| l.len() <= 70));
        let loaded = PrivateKey::from_openssh(&text, None).unwrap();
        assert_eq!(loaded.public_key(), original.public_key(), "{t}");
        assert_signs(&loaded);
    }
}

#[test]
fn encrypted_key_round_trips_for_every_cipher() {
    let mut original =
        PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(5)).unwrap();
    original.set_comment("round trip");
    for &cipher in OpenSshCipher::ALL {
        let encryption = OpenSshEncryption {
            passphrase: PASSPHRASE,
            cipher,
            rounds: 2,
        };
        let text = original
            .to_openssh(Some(&encryption), &mut SeededRandom::new(6))
            .unwrap();
        let loaded = PrivateKey::from_openssh(&text, Some(PASSPHRASE)).unwrap();
        assert_eq!(loaded.public_key(), original.public_key(), "{cipher}");
        assert_eq!(loaded.comment(), "round trip", "{cipher}");
        assert_eq!(
            PrivateKey::from_openssh(&text, Some(b"nope")).unwrap_err(),
            KeyError::WrongPassphrase,
            "{cipher}"
        );
    }
}

#[test]
fn rsa_key_loaded_from_file_signs_like_the_original() {
    let text = fixtures::text("rsa2048");
    let key = PrivateKey::from_openssh(&text, None).unwrap();
    let rewritten = key.to_openssh(None, &mut SeededRandom::new(1)).unwrap();
    let again = PrivateKey::from_openssh(&rewritten, None).unwrap();
    let rng = &mut SeededRandom::new(0);
    let alg = SignatureAlgorithm::RsaSha2_256;
    // PKCS#1 v1.5 is deterministic: equal keys give equal signatures.
    assert_eq!(
        key.sign(alg, b"m", rng).unwrap(),
        again.sign(alg, b"m", rng).unwrap()
    );
}

#[test]
fn writing_is_deterministic_under_a_seed() {
    let original = key(KeyType::EcdsaP256);
    let encryption = OpenSshEncryption {
        rounds: 2,
        ..OpenSshEncryption::new(PASSPHRASE)
    };
    let a = original
        .to_openssh(Some(&encryption), &mut SeededRandom::new(8))
        .unwrap();
    let b = original
        .to_openssh(Some(&encryption), &mut SeededRandom::new(8))
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn empty_passphrase_writes_an_unencrypted_key() {
    let original = key(KeyType::Ed25519);
    let text = original
        .to_openssh(
            Some(&OpenSshEncryption::new(b"")),
            &mut SeededRandom::new(0),
        )
        .unwrap();
    assert!(PrivateKey::from_openssh(&text, None).is_ok());
}

fn binary(name: &str) -> Vec<u8> {
    use base64ct::{Base64, Encoding};
    let text = fixtures::text(name);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    Base64::decode_vec(&body).unwrap()
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for name in ["ed25519", "ed25519-enc-chacha20-poly1305"] {
        let blob = binary(name);
        for len in 0..blob.len() {
            assert!(
                PrivateKey::from_openssh_binary(&blob[..len], Some(PASSPHRASE)).is_err(),
                "{name} at {len}"
            );
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut blob = binary("ed25519");
    blob.push(0);
    assert!(matches!(
        PrivateKey::from_openssh_binary(&blob, None),
        Err(KeyError::Wire(_))
    ));
}

#[test]
fn bad_magic_is_not_an_openssh_key() {
    let mut blob = binary("ed25519");
    blob[0] ^= 0x20;
    assert_eq!(
        PrivateKey::from_openssh_binary(&blob, None).unwrap_err(),
        KeyError::NotOpenSshKey
    );
}

#[test]
fn missing_armor_is_reported() {
    assert!(matches!(
        PrivateKey::from_openssh("hello", None),
        Err(KeyError::MissingArmor { .. })
    ));
}

/// Rebuilds a key file blob with its header fields replaced.
fn rebuild(blob: &[u8], cipher: &[u8], kdf: &[u8], count: u32) -> Vec<u8> {
    let mut r = Reader::new(&blob[15..]);
    let (_, _, options) = (
        r.string().unwrap(),
        r.string().unwrap(),
        r.string().unwrap(),
    );
    r.u32().unwrap();
    let mut out = b"openssh-key-v1\0".to_vec();
    out.put_string(cipher);
    out.put_string(kdf);
    out.put_string(options);
    out.put_u32(count);
    out.put_raw(r.rest());
    out
}

#[test]
fn unknown_cipher_is_named() {
    let blob = rebuild(&binary("ed25519-enc-aes256-ctr"), b"3des-cbc", b"bcrypt", 1);
    assert_eq!(
        PrivateKey::from_openssh_binary(&blob, Some(PASSPHRASE)).unwrap_err(),
        KeyError::UnknownCipher("3des-cbc".into())
    );
}

#[test]
fn unknown_kdf_is_named() {
    let blob = rebuild(
        &binary("ed25519-enc-aes256-ctr"),
        b"aes256-ctr",
        b"scrypt",
        1,
    );
    assert_eq!(
        PrivateKey::from_openssh_binary(&blob, Some(PASSPHRASE)).unwrap_err(),
        KeyError::UnknownKdf("scrypt".into())
    );
}

#[test]
fn more_than_one_key_is_refused() {
    let blob = rebuild(&binary("ed25519"), b"none", b"none", 2);
    assert_eq!(
        PrivateKey::from_openssh_binary(&blob, None).unwrap_err(),
        KeyError::KeyCount(2)
    );
}

#[test]
fn excessive_kdf_rounds_are_refused_before_deriving() {
    let blob = binary("ed25519-enc-aes256-ctr");
    let mut r = Reader::new(&blob[15..]);
    let (cipher, kdf, options) = (
        r.string().unwrap(),
        r.string().unwrap(),
        r.string().unwrap(),
    );
    let salt = Reader::new(options).string().unwrap().to_vec();
    let mut new_options = Vec::new();
    new_options.put_string(&salt);
    new_options.put_u32(u32::MAX);
    let mut out = b"openssh-key-v1\0".to_vec();
    out.put_string(cipher);
    out.put_string(kdf);
    out.put_string(&new_options);
    out.put_raw(r.rest());
    assert_eq!(
        PrivateKey::from_openssh_binary(&out, Some(PASSPHRASE)).unwrap_err(),
        KeyError::KdfRoundsTooHigh(u32::MAX)
    );
}

#[test]
fn public_key_that_does_not_match_private_is_refused() {
    let blob = binary("ed25519");
    let mut r = Reader::new(&blob[15..]);
    let (cipher, kdf, options) = (
        r.string().unwrap(),
        r.string().unwrap(),
        r.string().unwrap(),
    );
    let count = r.u32().unwrap();
    r.string().unwrap();
    let mut out = b"openssh-key-v1\0".to_vec();
    out.put_string(cipher);
    out.put_string(kdf);
    out.put_string(options);
    out.put_u32(count);
    out.put_string(&key(KeyType::Ed25519).public_key().to_blob());
    out.put_raw(r.rest());
    assert_eq!(
        PrivateKey::from_openssh_binary(&out, None).unwrap_err(),
        KeyError::PublicKeyMismatch
    );
}

#[test]
fn unencrypted_file_with_differing_check_numbers_is_corrupt() {
    let mut blob = binary("ed25519");
    // The private section starts after magic, 3 strings, count and the public blob.
    let mut r = Reader::new(&blob[15..]);
    for _ in 0..3 {
        r.string().unwrap();
    }
    r.u32().unwrap();
    r.string().unwrap();
    let offset = blob.len() - r.remaining() + 4;
    blob[offset] ^= 1;
    assert_eq!(
        PrivateKey::from_openssh_binary(&blob, None).unwrap_err(),
        KeyError::CorruptKeyFile("check numbers differ")
    );
}

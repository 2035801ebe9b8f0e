//! Public key blobs, names and generation.

use super::key;
use crate::crypto::SeededRandom;
use crate::keys::{KeyError, KeyType, PrivateKey, PublicKey, SignatureAlgorithm};
use crate::wire::{Reader, Writer};

#[test]
fn blobs_round_trip_for_every_type() {
    for &t in KeyType::ALL {
        let public = key(t).public_key();
        let blob = public.to_blob();
        let parsed = PublicKey::from_blob(&blob).unwrap();
        assert_eq!(parsed, public, "{t}");
        assert_eq!(parsed.to_blob(), blob, "{t}");
        assert_eq!(parsed.key_type(), t);
    }
}

#[test]
fn blob_opens_with_the_type_name() {
    for &t in KeyType::ALL {
        let blob = key(t).public_key().to_blob();
        assert_eq!(Reader::new(&blob).string().unwrap(), t.name().as_bytes());
    }
}

#[test]
fn truncated_blobs_are_errors_for_every_type() {
    for &t in KeyType::ALL {
        let blob = key(t).public_key().to_blob();
        for len in 0..blob.len() {
            assert!(PublicKey::from_blob(&blob[..len]).is_err(), "{t} at {len}");
        }
    }
}

#[test]
fn trailing_bytes_after_blob_are_rejected() {
    for &t in KeyType::ALL {
        let mut blob = key(t).public_key().to_blob();
        blob.push(0);
        assert_eq!(
            PublicKey::from_blob(&blob),
            Err(KeyError::Wire(crate::wire::WireError::TrailingBytes(1)))
        );
    }
}

#[test]
fn unknown_key_type_is_named_in_the_error() {
    let mut blob = Vec::new();
    blob.put_string(b"ssh-dss");
    blob.put_string(b"whatever");
    assert_eq!(
        PublicKey::from_blob(&blob),
        Err(KeyError::UnknownKeyType("ssh-dss".into()))
    );
}

/// An ECDSA blob with the given type name, curve identifier and point.
fn ecdsa_blob(name: &str, curve: &str, point: &[u8]) -> Vec<u8> {
    let mut blob = Vec::new();
    blob.put_string(name.as_bytes());
    blob.put_string(curve.as_bytes());
    blob.put_string(point);
    blob
}

fn p256_point() -> Vec<u8> {
    let blob = key(KeyType::EcdsaP256).public_key().to_blob();
    let mut r = Reader::new(&blob);
    r.string().unwrap();
    r.string().unwrap();
    r.string().unwrap().to_vec()
}

#[test]
fn ecdsa_blob_with_wrong_curve_name_is_rejected() {
    let blob = ecdsa_blob("ecdsa-sha2-nistp256", "nistp384", &p256_point());
    assert_eq!(
        PublicKey::from_blob(&blob),
        Err(KeyError::CurveMismatch {
            key_type: KeyType::EcdsaP256,
            curve: "nistp384".into()
        })
    );
}

#[test]
fn ecdsa_point_not_on_curve_is_rejected() {
    let mut point = p256_point();
    point[64] ^= 0x01;
    let blob = ecdsa_blob("ecdsa-sha2-nistp256", "nistp256", &point);
    assert_eq!(
        PublicKey::from_blob(&blob),
        Err(KeyError::InvalidEcPoint(KeyType::EcdsaP256))
    );
}

#[test]
fn ecdsa_compressed_point_is_rejected() {
    let point = p256_point();
    let mut compressed = vec![0x02 | (point[64] & 1)];
    compressed.extend_from_slice(&point[1..33]);
    let blob = ecdsa_blob("ecdsa-sha2-nistp256", "nistp256", &compressed);
    assert_eq!(
        PublicKey::from_blob(&blob),
        Err(KeyError::InvalidEcPoint(KeyType::EcdsaP256))
    );
}

#[test]
fn ecdsa_point_of_another_curve_is_rejected() {
    let point = p256_point();
    let blob = ecdsa_blob("ecdsa-sha2-nistp384", "nistp384", &point);
    assert_eq!(
        PublicKey::from_blob(&blob),
        Err(KeyError::InvalidEcPoint(KeyType::EcdsaP384))
    );
}

#[test]
fn ed25519_key_of_wrong_length_is_rejected() {
    let mut blob = Vec::new();
    blob.put_string(b"ssh-ed25519");
    blob.put_string(&[7u8; 31]);
    assert_eq!(
        PublicKey::from_blob(&blob),
        Err(KeyError::InvalidEd25519Key(31))
    );
}

fn rsa_blob(e: &[u8], n: &[u8]) -> Vec<u8> {
    let mut blob = Vec::new();
    blob.put_string(b"ssh-rsa");
    blob.put_mpint_unsigned(e);
    blob.put_mpint_unsigned(n);
    blob
}

#[test]
fn rsa_modulus_below_1024_bits_is_rejected() {
    let mut n = vec![0xffu8; 127];
    n[126] = 0xfb;
    assert!(matches!(
        PublicKey::from_blob(&rsa_blob(&[1, 0, 1], &n)),
        Err(KeyError::InvalidRsaModulus { bits: 1016, .. })
    ));
}

#[test]
fn rsa_modulus_above_16384_bits_is_rejected() {
    let n = vec![0xffu8; 2049];
    assert!(matches!(
        PublicKey::from_blob(&rsa_blob(&[1, 0, 1], &n)),
        Err(KeyError::InvalidRsaModulus { bits: 16392, .. })
    ));
}

#[test]
fn rsa_even_modulus_is_rejected() {
    let mut n = vec![0xffu8; 256];
    n[255] = 0xfe;
    assert!(matches!(
        PublicKey::from_blob(&rsa_blob(&[1, 0, 1], &n)),
        Err(KeyError::InvalidRsaModulus { .. })
    ));
}

#[test]
fn rsa_bad_exponents_are_rejected() {
    let n = vec![0xffu8; 256];
    for e in [&[][..], &[1], &[2], &[1, 0, 0], &[3, 0, 0, 0, 1]] {
        assert_eq!(
            PublicKey::from_blob(&rsa_blob(e, &n)),
            Err(KeyError::InvalidRsaExponent),
            "{e:?}"
        );
    }
}

#[test]
fn rsa_non_minimal_mpint_is_rejected() {
    let mut blob = Vec::new();
    blob.put_string(b"ssh-rsa");
    blob.put_string(&[0, 1, 0, 1]);
    blob.put_mpint_unsigned(&[0xff; 256]);
    assert_eq!(
        PublicKey::from_blob(&blob),
        Err(KeyError::Wire(crate::wire::WireError::NonMinimalMpint))
    );
}

#[test]
fn seeded_ed25519_and_ecdsa_generation_is_reproducible() {
    for &t in &KeyType::ALL[..4] {
        let a = PrivateKey::generate(t, None, &mut SeededRandom::new(42)).unwrap();
        let b = PrivateKey::generate(t, None, &mut SeededRandom::new(42)).unwrap();
        let c = PrivateKey::generate(t, None, &mut SeededRandom::new(43)).unwrap();
        assert_eq!(a.public_key(), b.public_key(), "{t}");
        assert_ne!(a.public_key(), c.public_key(), "{t}");
    }
}

#[test]
fn unsupported_rsa_size_is_refused() {
    assert_eq!(
        PrivateKey::generate(KeyType::Rsa, Some(2049), &mut SeededRandom::new(0)).unwrap_err(),
        KeyError::UnsupportedRsaSize(2049)
    );
}

#[test]
fn size_for_fixed_size_type_must_match() {
    let rng = &mut SeededRandom::new(0);
    assert!(PrivateKey::generate(KeyType::EcdsaP384, Some(384), rng).is_ok());
    assert_eq!(
        PrivateKey::generate(KeyType::EcdsaP256, Some(384), rng).unwrap_err(),
        KeyError::KeySizeNotApplicable {
            key_type: KeyType::EcdsaP256,
            bits: 384
        }
    );
}

#[test]
fn private_key_debug_shows_no_secret() {
    let k = key(KeyType::Ed25519);
    let PrivateKeyInner::Ed25519(inner) = &k.inner else {
        panic!("not Ed25519")
    };
    let seed_hex: String = inner.seed().iter().map(|b| format!("{b:02x}")).collect();
    let debug = format!("{k:?}");
    assert!(!debug.contains(&seed_hex));
    assert!(!debug.contains(&format!("{:?}", inner.seed())));
    assert!(debug.contains(&k.public_key().fingerprint_sha256()));
}

use crate::keys::private::PrivateData as PrivateKeyInner;

#[test]
fn names_round_trip() {
    for &t in KeyType::ALL {
        assert_eq!(KeyType::from_name(t.name()), Some(t));
    }
    for &a in SignatureAlgorithm::ALL {
        assert_eq!(SignatureAlgorithm::from_name(a.name()), Some(a));
    }
    assert_eq!(SignatureAlgorithm::from_name("ssh-dss"), None);
}

#[test]
fn default_host_key_order_is_openssh_10() {
    let names: Vec<_> = SignatureAlgorithm::DEFAULT_HOST_KEY
        .iter()
        .map(|a| a.name())
        .collect();
    assert_eq!(
        names,
        [
            "ssh-ed25519",
            "ecdsa-sha2-nistp256",
            "ecdsa-sha2-nistp384",
            "ecdsa-sha2-nistp521",
            "rsa-sha2-512",
            "rsa-sha2-256"
        ]
    );
}

#[test]
fn rsa_key_signs_with_sha2_only() {
    assert_eq!(
        key(KeyType::Rsa).signature_algorithms(),
        [
            SignatureAlgorithm::RsaSha2_512,
            SignatureAlgorithm::RsaSha2_256
        ]
    );
}

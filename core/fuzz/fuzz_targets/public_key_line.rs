//! The public key text and DER parsers on arbitrary bytes: `PublicKey::from_openssh`,
//! `from_rfc4716`, `from_pem` (SubjectPublicKeyInfo and PKCS#1), `from_spki_der` and
//! `from_pkcs1_der`. Never a panic, and whatever parses writes back out in the same
//! format and reads back as the same key (and comment).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansh_core::keys::{KeyType, PublicKey};
use sansh_core_fuzz::{parser_seeds, seeds};

fuzz_target!(init: seeds::export_if_requested(parser_seeds::public_key_line_seeds), |data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok((key, comment)) = PublicKey::from_openssh(&text) {
        check_key(&key);
        let line = key.to_openssh(&comment);
        assert_eq!(
            PublicKey::from_openssh(&line),
            Ok((key.clone(), comment)),
            "an OpenSSH line re-encodes differently"
        );
    }
    if let Ok((key, _comment)) = PublicKey::from_rfc4716(&text) {
        check_key(&key);
        let file = key.to_rfc4716("");
        assert_eq!(
            PublicKey::from_rfc4716(&file),
            Ok((key, String::new())),
            "an RFC 4716 file re-encodes differently"
        );
    }
    if let Ok(key) = PublicKey::from_pem(&text) {
        check_key(&key);
        check_spki(&key);
    }
    if let Ok(key) = PublicKey::from_spki_der(data) {
        check_key(&key);
        assert_eq!(key.to_spki_der(), data, "SPKI DER re-encodes differently");
    }
    if let Ok(key) = PublicKey::from_pkcs1_der(data) {
        check_key(&key);
        assert_eq!(key.key_type(), KeyType::Rsa);
        assert_eq!(key.to_pkcs1_der().as_deref(), Ok(data), "PKCS#1 DER re-encodes differently");
    }
});

/// The SSH blob of any parsed key reads back as the same key.
fn check_key(key: &PublicKey) {
    assert_eq!(PublicKey::from_blob(&key.to_blob()).as_ref(), Ok(key));
    let _ = key.fingerprint_sha256();
}

/// The SPKI PEM and DER of any parsed key read back as the same key.
fn check_spki(key: &PublicKey) {
    let pem = key.to_spki_pem().expect("every key type has an SPKI form");
    assert_eq!(
        PublicKey::from_pem(&pem).as_ref(),
        Ok(key),
        "SPKI PEM round trip"
    );
    let der = key.to_spki_der();
    assert_eq!(
        PublicKey::from_spki_der(&der).as_ref(),
        Ok(key),
        "SPKI DER round trip"
    );
    if key.key_type() == KeyType::Rsa {
        let pem = key.to_pkcs1_pem().expect("RSA has a PKCS#1 form");
        assert_eq!(
            PublicKey::from_pem(&pem).as_ref(),
            Ok(key),
            "PKCS#1 PEM round trip"
        );
    }
}

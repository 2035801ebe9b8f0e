//! OpenSSH public key lines, fingerprints and randomart, checked against ssh-keygen.

use super::{fixtures, key};
use crate::keys::{FingerprintHash, KeyError, KeyType, PublicKey};

#[test]
fn fingerprints_match_ssh_keygen_for_every_fixture() {
    let sections = fixtures::sections("fingerprints.txt");
    assert!(sections.len() >= 12);
    for (file, lines) in sections {
        let (key, comment) = PublicKey::from_openssh(&fixtures::text(&file)).unwrap();
        // ssh-keygen stands in "no comment" for an empty one.
        let comment = if comment.is_empty() {
            "no comment".into()
        } else {
            comment
        };
        for (line, hash) in lines
            .iter()
            .zip([FingerprintHash::Sha256, FingerprintHash::Md5])
        {
            let expected = format!(
                "{} {} {} ({})",
                key.bits(),
                key.fingerprint(hash),
                comment,
                key.key_type().label()
            );
            assert_eq!(&expected, line, "{file}");
        }
    }
}

#[test]
fn randomart_matches_ssh_keygen_for_every_type() {
    let sections = fixtures::sections("randomart.txt");
    assert_eq!(sections.len(), 12);
    for (heading, lines) in sections {
        let (file, hash) = heading.split_once(' ').unwrap();
        let hash = if hash == "md5" {
            FingerprintHash::Md5
        } else {
            FingerprintHash::Sha256
        };
        let (key, _) = PublicKey::from_openssh(&fixtures::text(file)).unwrap();
        assert_eq!(key.randomart(hash), lines[1..].join("\n"), "{heading}");
    }
}

#[test]
fn line_round_trips_with_comment() {
    let text = fixtures::text("rsa3072.pub");
    let (key, comment) = PublicKey::from_openssh(&text).unwrap();
    assert_eq!(comment, "sansh-fixture-rsa3072");
    assert_eq!(key.to_openssh(&comment), text.trim_end());
}

#[test]
fn comment_may_contain_spaces_and_fields_tabs() {
    let public = key(KeyType::Ed25519).public_key();
    let line = public.to_openssh("").replace(' ', "\t") + "  alice at home \n";
    let (parsed, comment) = PublicKey::from_openssh(&line).unwrap();
    assert_eq!(parsed, public);
    assert_eq!(comment, "alice at home");
}

#[test]
fn line_without_comment_formats_without_trailing_space() {
    let public = key(KeyType::EcdsaP256).public_key();
    let line = public.to_openssh("");
    assert!(!line.ends_with(' '));
    assert_eq!(
        PublicKey::from_openssh(&line).unwrap(),
        (public, String::new())
    );
}

#[test]
fn line_with_one_field_is_malformed() {
    assert_eq!(
        PublicKey::from_openssh("ssh-ed25519"),
        Err(KeyError::MalformedPublicKeyLine)
    );
    assert_eq!(
        PublicKey::from_openssh("   "),
        Err(KeyError::MalformedPublicKeyLine)
    );
}

#[test]
fn line_type_must_match_blob() {
    let line = key(KeyType::Ed25519)
        .public_key()
        .to_openssh("x")
        .replace("ssh-ed25519 ", "ssh-rsa ");
    assert!(matches!(
        PublicKey::from_openssh(&line),
        Err(KeyError::KeyTypeMismatch { .. })
    ));
}

#[test]
fn line_with_bad_base64_is_rejected() {
    assert_eq!(
        PublicKey::from_openssh("ssh-ed25519 AAAA*AAA comment"),
        Err(KeyError::InvalidBase64)
    );
}

#[test]
fn md5_fingerprint_is_colon_hex() {
    let fp = key(KeyType::Ed25519).public_key().fingerprint_md5();
    let hex = fp.strip_prefix("MD5:").unwrap();
    assert_eq!(hex.split(':').count(), 16);
    assert!(hex.split(':').all(|b| b.len() == 2));
}

//! Whole lines: options before the key, comments, and lines that are skipped.

use base64ct::{Base64, Encoding};

use super::{k, key};
use crate::authorized_keys::{AuthorizedKeys, AuthorizedKeysError, OptionError};
use crate::crypto::SeededRandom;
use crate::keys::{CertType, CertificateBuilder, KeyError, SignatureAlgorithm};
use crate::wire::Writer;

fn single_error(text: &str) -> AuthorizedKeysError {
    let keys = AuthorizedKeys::parse(text);
    assert!(keys.entries().is_empty(), "{text}");
    assert_eq!(keys.invalid_lines().len(), 1, "{text}");
    keys.invalid_lines()[0].error.clone()
}

#[test]
fn key_line_without_options_is_read_with_its_comment() {
    let keys = AuthorizedKeys::parse(&format!("{} alice@laptop (work)\n", k(&key(1))));
    let entry = &keys.entries()[0];
    assert_eq!(entry.key, key(1));
    assert_eq!(entry.comment, "alice@laptop (work)");
    assert_eq!(entry.line, 1);
}

#[test]
fn options_precede_the_key() {
    let keys = AuthorizedKeys::parse(&format!("no-pty,command=\"uptime\" {} c\n", k(&key(1))));
    let entry = &keys.entries()[0];
    assert!(!entry.options.permissions.pty);
    assert_eq!(
        entry.options.permissions.force_command.as_deref(),
        Some("uptime")
    );
    assert_eq!(entry.comment, "c");
}

#[test]
fn quoted_option_values_may_hold_blanks_before_the_key() {
    let keys = AuthorizedKeys::parse(&format!(
        "command=\"echo a b\",environment=\"X=1 2\" \t {}\n",
        k(&key(1))
    ));
    let p = &keys.entries()[0].options.permissions;
    assert_eq!(p.force_command.as_deref(), Some("echo a b"));
    assert_eq!(p.environment[0].value, "1 2");
}

#[test]
fn comments_blank_lines_and_leading_blanks_are_skipped_silently() {
    let keys = AuthorizedKeys::parse(&format!("# keys\n\n  \t\n   {}\r\n", k(&key(1))));
    assert_eq!(keys.entries().len(), 1);
    assert_eq!(keys.entries()[0].line, 4);
    assert!(keys.invalid_lines().is_empty());
}

#[test]
fn bad_line_is_reported_with_its_number_and_the_rest_still_parses() {
    let text = format!(
        "{}\nfrobnicate {}\n{}\n",
        k(&key(1)),
        k(&key(2)),
        k(&key(3))
    );
    let keys = AuthorizedKeys::parse(&text);
    assert_eq!(keys.entries().len(), 2);
    assert_eq!(keys.invalid_lines()[0].line, 2);
    assert_eq!(
        keys.invalid_lines()[0].error,
        AuthorizedKeysError::Options(OptionError::Unknown("frobnicate".into()))
    );
}

#[test]
fn unterminated_quote_in_the_options_skips_the_line() {
    assert_eq!(
        single_error(&format!("command=\"ls {}\n", k(&key(1)))),
        AuthorizedKeysError::UnterminatedQuote
    );
}

#[test]
fn options_without_a_key_skip_the_line() {
    assert!(matches!(
        single_error("no-pty\n"),
        AuthorizedKeysError::InvalidKey(KeyError::MalformedPublicKeyLine)
    ));
    assert!(matches!(
        single_error("no-pty garbage\n"),
        AuthorizedKeysError::InvalidKey(_)
    ));
}

#[test]
fn corrupt_key_skips_the_line() {
    assert_eq!(
        single_error("ssh-ed25519 !!!!\n"),
        AuthorizedKeysError::InvalidKey(KeyError::InvalidBase64)
    );
}

#[test]
fn security_key_line_is_reported_as_unsupported() {
    let mut blob = Vec::new();
    blob.put_string(b"sk-ssh-ed25519@openssh.com");
    blob.put_string(&[1; 32]);
    blob.put_string(b"ssh:");
    let line = format!(
        "no-touch-required sk-ssh-ed25519@openssh.com {}\n",
        Base64::encode_string(&blob)
    );
    assert_eq!(
        single_error(&line),
        AuthorizedKeysError::UnsupportedKeyType("sk-ssh-ed25519@openssh.com".into())
    );
}

#[test]
fn certificate_in_place_of_a_key_skips_the_line() {
    let cert = CertificateBuilder::new(key(1), CertType::User)
        .sign(
            &super::private(2),
            SignatureAlgorithm::Ed25519,
            &mut SeededRandom::new(1),
        )
        .unwrap();
    assert_eq!(
        single_error(&format!("{}\n", cert.to_openssh(""))),
        AuthorizedKeysError::CertificateAsKey
    );
}

#[test]
fn random_text_never_panics_and_every_line_is_accounted_for() {
    use std::time::UNIX_EPOCH;

    use crate::authorized_keys::{AuthorizationRequest, KeyOptions};
    let k1 = k(&key(1));
    let (type1, b64) = k1.split_once(' ').unwrap();
    let whole_key = format!(" {k1} ");
    let vocabulary = [
        "no-pty",
        "pty",
        "restrict",
        "cert-authority",
        "command=",
        "from=",
        "principals=",
        "environment=",
        "permitopen=",
        "permitlisten=",
        "expiry-time=",
        "tunnel=",
        "no-",
        "\"",
        "\\\"",
        "\\",
        ",",
        " ",
        " ",
        "\t",
        "\n",
        "\n",
        "#",
        "=",
        "A=1",
        "20300101",
        "10.0.0.0/8",
        "!",
        "*",
        "[::1]:22",
        "h:80",
        "any",
        "é",
        type1,
        b64,
        "ssh-rsa",
        &whole_key,
        &whole_key,
    ];
    let rng = &mut SeededRandom::new(22);
    let probe = key(1);
    let mut parsed = 0;
    for _ in 0..3000 {
        let text = crate::key_field::token_soup(rng, &vocabulary, 40);
        let keys = AuthorizedKeys::parse(&text);
        let lines = crate::key_field::numbered_lines(&text).count();
        assert!(
            keys.entries().len() + keys.invalid_lines().len() <= lines,
            "{text:?}"
        );
        parsed += keys.entries().len();
        let request =
            AuthorizationRequest::new("u", &probe, "10.1.2.3".parse().unwrap(), UNIX_EPOCH);
        let _ = keys.authorize(&request);
        let _ = KeyOptions::parse(&text);
    }
    assert!(parsed > 200, "the soup should hold entries ({parsed})");
}

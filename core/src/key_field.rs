//! The `type base64 [comment]` key fields that end `known_hosts` and `authorized_keys`
//! lines, read as OpenSSH's `sshkey_read` reads them.

use base64ct::{Base64, Encoding};

use crate::keys::{Certificate, KeyError, KeyType, PublicKey};
use crate::wire::Reader;

/// Key types OpenSSH 10 reads that this crate cannot use (FIDO security keys). Lines
/// holding them are valid for OpenSSH, so they are recognised rather than called
/// malformed.
pub(crate) const UNSUPPORTED_KEY_TYPES: &[&str] = &[
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
];

/// What a key field holds.
#[derive(Debug, Clone)]
pub(crate) enum FieldKey {
    /// A plain key of a supported type.
    Key(PublicKey),
    /// A certificate of a supported type.
    Certificate(Box<Certificate>),
    /// A well-formed key of a type OpenSSH knows and we do not support.
    Unsupported {
        /// The type name, e.g. `sk-ssh-ed25519@openssh.com`.
        key_type: String,
        /// The decoded key blob.
        blob: Vec<u8>,
    },
}

/// Whether `name` opens a key field: a key or certificate type name OpenSSH knows,
/// or one of the short names (`RSA`, `ED25519`) it also accepts for plain keys.
pub(crate) fn is_key_type_name(name: &str) -> bool {
    plain_type(name).is_some()
        || KeyType::from_certificate_name(name).is_some()
        || UNSUPPORTED_KEY_TYPES.contains(&name)
}

/// Parses `type base64 [comment]` (leading blanks allowed), returning the key and the
/// comment (the rest of the line, trimmed).
pub(crate) fn parse_key_field(text: &str) -> Result<(FieldKey, &str), KeyError> {
    let (type_name, rest) = split_field(trim_blanks_start(text));
    let (base64, comment) = split_field(rest);
    if type_name.is_empty() || base64.is_empty() {
        return Err(KeyError::MalformedPublicKeyLine);
    }
    let comment = comment.trim_end_matches(is_blank);
    if let Some(key_type) = plain_type(type_name) {
        // Short names are accepted by OpenSSH for plain keys, so check the blob's type
        // against the canonical name.
        let key = PublicKey::from_openssh_fields(key_type.name(), base64)?;
        return Ok((FieldKey::Key(key), comment));
    }
    if KeyType::from_certificate_name(type_name).is_some() {
        let cert = Certificate::from_openssh_fields(type_name, base64)?;
        return Ok((FieldKey::Certificate(Box::new(cert)), comment));
    }
    if UNSUPPORTED_KEY_TYPES.contains(&type_name) {
        let blob = Base64::decode_vec(base64).map_err(|_| KeyError::InvalidBase64)?;
        let inner = Reader::new(&blob).string()?;
        if inner != type_name.as_bytes() {
            return Err(KeyError::KeyTypeMismatch {
                text: type_name.to_owned(),
                inner: String::from_utf8_lossy(inner).into_owned(),
            });
        }
        return Ok((
            FieldKey::Unsupported {
                key_type: type_name.to_owned(),
                blob,
            },
            comment,
        ));
    }
    Err(KeyError::UnknownKeyType(type_name.to_owned()))
}

/// The plain key type named `name`, by its SSH name or OpenSSH's case-insensitive
/// short name (`RSA`, `ED25519`; `ECDSA` never matches a key, as the curve is unknown).
fn plain_type(name: &str) -> Option<KeyType> {
    KeyType::from_name(name).or_else(|| {
        if name.eq_ignore_ascii_case("rsa") {
            Some(KeyType::Rsa)
        } else if name.eq_ignore_ascii_case("ed25519") {
            Some(KeyType::Ed25519)
        } else {
            None
        }
    })
}

/// Space and tab: the only field separators OpenSSH's file parsers know.
pub(crate) fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

pub(crate) fn trim_blanks_start(s: &str) -> &str {
    s.trim_start_matches(is_blank)
}

/// Splits off the first blank-separated field, returning it and the rest with its
/// leading blanks removed.
pub(crate) fn split_field(s: &str) -> (&str, &str) {
    match s.find(is_blank) {
        Some(i) => {
            let (field, rest) = s.split_at(i);
            (field, trim_blanks_start(rest))
        }
        None => (s, ""),
    }
}

/// Splits `text` into lines as OpenSSH's readers do (on `\n`), numbering them from 1.
/// A final `\n` does not start another line. Lines are returned as written (a `\r`
/// before the `\n` included): see [`line_content`].
pub(crate) fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let empty = text.is_empty();
    body.split('\n')
        .filter(move |_| !empty)
        .enumerate()
        .map(|(i, line)| (i + 1, line))
}

/// A line without the `\r` of a CRLF ending, so that files edited on Windows parse the
/// same.
pub(crate) fn line_content(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

/// Random text stitched from `vocabulary`, for the parsers' never-panic tests: up to
/// `max_tokens` tokens, each picked by `rng`.
#[cfg(test)]
pub(crate) fn token_soup(
    rng: &mut crate::crypto::SeededRandom,
    vocabulary: &[&str],
    max_tokens: u64,
) -> String {
    let count = rng.next_u64() % (max_tokens + 1);
    (0..count)
        .filter_map(|_| {
            let index = usize::try_from(rng.next_u64() % vocabulary.len() as u64).ok()?;
            vocabulary.get(index).copied()
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;
    use crate::keys::PrivateKey;

    fn ed25519_line() -> String {
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(7)).unwrap();
        key.public_key().to_openssh("")
    }

    #[test]
    fn key_field_keeps_the_comment_with_inner_spaces() {
        let line = format!("{} \t a comment  here \t", ed25519_line());
        let (key, comment) = parse_key_field(&line).unwrap();
        assert!(matches!(key, FieldKey::Key(_)));
        assert_eq!(comment, "a comment  here");
    }

    #[test]
    fn short_type_names_are_accepted_for_plain_keys() {
        let line = ed25519_line().replacen("ssh-ed25519", "ED25519", 1);
        assert!(matches!(parse_key_field(&line), Ok((FieldKey::Key(_), ""))));
    }

    #[test]
    fn type_name_must_match_the_blob() {
        let line = ed25519_line().replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(matches!(
            parse_key_field(&line),
            Err(KeyError::KeyTypeMismatch { .. })
        ));
    }

    #[test]
    fn security_key_types_are_recognised_as_unsupported() {
        let mut blob = Vec::new();
        crate::wire::Writer::put_string(&mut blob, b"sk-ssh-ed25519@openssh.com");
        let line = format!(
            "sk-ssh-ed25519@openssh.com {}",
            Base64::encode_string(&blob)
        );
        assert!(matches!(
            parse_key_field(&line),
            Ok((FieldKey::Unsupported { .. }, ""))
        ));
    }

    #[test]
    fn unknown_type_is_an_error() {
        assert_eq!(
            parse_key_field("ssh-dss AAAA").unwrap_err(),
            KeyError::UnknownKeyType("ssh-dss".into())
        );
    }

    #[test]
    fn missing_base64_is_an_error() {
        assert_eq!(
            parse_key_field("ssh-ed25519").unwrap_err(),
            KeyError::MalformedPublicKeyLine
        );
    }

    #[test]
    fn lines_are_numbered_from_one_without_a_phantom_last_line() {
        let lines: Vec<_> = numbered_lines("a\r\n\nb\n").collect();
        assert_eq!(lines, [(1, "a\r"), (2, ""), (3, "b")]);
        assert_eq!(line_content("a\r"), "a");
        assert_eq!(numbered_lines("").count(), 0);
        assert_eq!(numbered_lines("x").collect::<Vec<_>>(), [(1, "x")]);
    }
}

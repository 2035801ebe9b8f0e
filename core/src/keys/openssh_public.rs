//! OpenSSH public key lines: `type base64 [comment]` (as in `id_ed25519.pub`).

use base64ct::{Base64, Encoding};

use super::{KeyError, PublicKey};

impl PublicKey {
    /// Parses an OpenSSH public key line, `type base64 [comment]`, returning the key
    /// and its comment (empty when absent).
    ///
    /// Fields are separated by spaces or tabs; the comment is the rest of the line with
    /// surrounding whitespace trimmed, so it may contain spaces. The type field must
    /// name the key inside the base64 blob. Options (as in `authorized_keys`) and
    /// markers (as in `known_hosts`) are not accepted here.
    pub fn from_openssh(line: &str) -> Result<(Self, String), KeyError> {
        let (type_name, rest) = split_field(line.trim());
        let (base64, comment) = split_field(rest);
        if type_name.is_empty() || base64.is_empty() {
            return Err(KeyError::MalformedPublicKeyLine);
        }
        let key = Self::from_openssh_fields(type_name, base64)?;
        Ok((key, comment.to_owned()))
    }

    /// Builds a key from the type and base64 fields of a line (for the `known_hosts`
    /// and `authorized_keys` parsers, which split lines themselves).
    pub fn from_openssh_fields(type_name: &str, base64: &str) -> Result<Self, KeyError> {
        let blob = Base64::decode_vec(base64).map_err(|_| KeyError::InvalidBase64)?;
        let key = Self::from_blob(&blob)?;
        if key.key_type().name() != type_name {
            return Err(KeyError::KeyTypeMismatch {
                text: type_name.to_owned(),
                inner: key.key_type().name().to_owned(),
            });
        }
        Ok(key)
    }

    /// Formats the key as an OpenSSH public key line, `type base64` followed by
    /// ` comment` when `comment` is not empty (no trailing newline). The comment
    /// should be a single line.
    pub fn to_openssh(&self, comment: &str) -> String {
        let mut line = format!(
            "{} {}",
            self.key_type().name(),
            Base64::encode_string(&self.to_blob())
        );
        if !comment.is_empty() {
            line.push(' ');
            line.push_str(comment);
        }
        line
    }
}

/// Splits off the first space- or tab-separated field, returning it and the rest with
/// its leading blanks removed.
pub(crate) fn split_field(s: &str) -> (&str, &str) {
    let blank = |c: char| c == ' ' || c == '\t';
    match s.find(blank) {
        Some(i) => (&s[..i], s[i..].trim_start_matches(blank)),
        None => (s, ""),
    }
}

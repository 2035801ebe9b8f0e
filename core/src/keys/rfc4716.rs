//! The SSH public key file format of RFC 4716 (`---- BEGIN SSH2 PUBLIC KEY ----`), as
//! `ssh-keygen -e` writes and `ssh-keygen -i` reads.

use base64ct::{Base64, Encoding};

use super::{KeyError, PublicKey};

const BEGIN: &str = "---- BEGIN SSH2 PUBLIC KEY ----";
const END: &str = "---- END SSH2 PUBLIC KEY ----";
/// RFC 4716 §3: lines are at most 72 bytes.
const MAX_LINE: usize = 72;
/// ssh-keygen wraps the base64 at 70 columns.
const BODY_WIDTH: usize = 70;

impl PublicKey {
    /// Reads an RFC 4716 public key file, returning the key and the value of its
    /// `Comment` header (quotes removed; empty when absent).
    ///
    /// Headers (RFC 4716 §3.3) may continue over lines ending in `\`; headers other
    /// than `Comment` are read and ignored.
    pub fn from_rfc4716(text: &str) -> Result<(Self, String), KeyError> {
        let mut lines = text.lines().map(str::trim);
        lines
            .by_ref()
            .find(|l| *l == BEGIN)
            .ok_or(KeyError::MissingArmor { expected: BEGIN })?;
        let mut comment = String::new();
        let mut body = String::new();
        let mut header: Option<String> = None;
        let mut ended = false;
        for line in lines {
            if line == END {
                ended = true;
                break;
            }
            if let Some(partial) = header.as_mut() {
                partial.push_str(line.strip_suffix('\\').unwrap_or(line));
                if !line.ends_with('\\') {
                    take_comment(header.take(), &mut comment);
                }
                continue;
            }
            if body.is_empty() && line.contains(':') {
                let text = line.strip_suffix('\\').unwrap_or(line).to_owned();
                if line.ends_with('\\') {
                    header = Some(text);
                } else {
                    take_comment(Some(text), &mut comment);
                }
                continue;
            }
            body.push_str(line);
        }
        if !ended || header.is_some() {
            return Err(KeyError::MissingArmor { expected: END });
        }
        let blob = Base64::decode_vec(&body).map_err(|_| KeyError::InvalidBase64)?;
        Ok((Self::from_blob(&blob)?, comment))
    }

    /// Writes the key as an RFC 4716 file with a `Comment` header when `comment` is
    /// not empty (long headers continue over lines ending in `\`).
    pub fn to_rfc4716(&self, comment: &str) -> String {
        let mut out = String::from(BEGIN);
        out.push('\n');
        if !comment.is_empty() {
            let header = format!("Comment: \"{comment}\"");
            let mut rest = header.as_str();
            while rest.len() > MAX_LINE {
                let mut cut = MAX_LINE - 1;
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.push_str(&rest[..cut]);
                out.push_str("\\\n");
                rest = &rest[cut..];
            }
            out.push_str(rest);
            out.push('\n');
        }
        let b64 = Base64::encode_string(&self.to_blob());
        for line in b64.as_bytes().chunks(BODY_WIDTH) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str(END);
        out.push('\n');
        out
    }
}

/// Keeps the value of a complete `Comment` header.
fn take_comment(header: Option<String>, comment: &mut String) {
    let Some(header) = header else { return };
    let Some((tag, value)) = header.split_once(':') else {
        return;
    };
    if tag.trim().eq_ignore_ascii_case("comment") {
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        *comment = value.to_owned();
    }
}

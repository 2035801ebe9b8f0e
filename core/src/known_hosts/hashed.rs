//! Hashed host names: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as written by
//! `ssh-keygen -H` and by ssh with `HashKnownHosts yes`.

use aws_lc_rs::hmac;
use base64ct::{Base64, Encoding};

use super::KnownHostsError;
use crate::crypto::SecureRandom;

/// The only hash format OpenSSH writes or reads.
const MAGIC: &str = "|1|";

/// Salt length: the HMAC-SHA1 key, as long as its output (OpenSSH refuses others).
pub const SALT_LEN: usize = 20;

/// OpenSSH's sanity limit on the encoded salt.
const MAX_SALT_TEXT: usize = 1024;

/// A hashed host field: it matches one host name and reveals nothing else.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HashedHost {
    salt: [u8; SALT_LEN],
    text: String,
}

impl HashedHost {
    /// Hashes `name` (already in `known_hosts` form, see
    /// [`host_port_name`](super::host_port_name)) with a fresh salt from `rng`.
    pub fn new(name: &str, rng: &mut dyn SecureRandom) -> Self {
        let mut salt = [0u8; SALT_LEN];
        rng.fill(&mut salt);
        Self::with_salt(name, salt)
    }

    /// Hashes `name` with a given salt (known answers, reproducible files).
    pub fn with_salt(name: &str, salt: [u8; SALT_LEN]) -> Self {
        Self {
            text: encode(&salt, name),
            salt,
        }
    }

    /// Reads a host field that starts with `|`.
    ///
    /// The salt must decode to exactly 20 bytes, as OpenSSH requires; anything after it
    /// is kept as written, so a field that is not the hash of any name simply never
    /// matches (as in OpenSSH, which compares whole fields).
    pub(crate) fn parse(field: &str) -> Result<Self, KnownHostsError> {
        let invalid = || KnownHostsError::InvalidHashedHost;
        let rest = field.strip_prefix(MAGIC).ok_or_else(invalid)?;
        let (salt_text, _) = rest.split_once('|').ok_or_else(invalid)?;
        if salt_text.is_empty() || salt_text.len() > MAX_SALT_TEXT {
            return Err(invalid());
        }
        let decoded = Base64::decode_vec(salt_text).map_err(|_| invalid())?;
        let salt: [u8; SALT_LEN] = decoded.try_into().map_err(|_| invalid())?;
        Ok(Self {
            salt,
            text: field.to_owned(),
        })
    }

    /// Whether this field is the hash of `name` (in `known_hosts` form).
    pub fn matches(&self, name: &str) -> bool {
        encode(&self.salt, name) == self.text
    }

    /// The salt.
    pub fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// The field as written in the file.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Debug for HashedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("HashedHost").field(&self.text).finish()
    }
}

impl std::fmt::Display for HashedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn encode(salt: &[u8; SALT_LEN], name: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
    let tag = hmac::sign(&key, name.as_bytes());
    format!(
        "{MAGIC}{}|{}",
        Base64::encode_string(salt),
        Base64::encode_string(tag.as_ref())
    )
}

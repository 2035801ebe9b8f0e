//! Typed transport-layer messages (RFC 4253 §7, §10, §11; RFC 8308).

use super::{Reader, WireError, Writer, msg};

/// SSH_MSG_KEXINIT (RFC 4253 §7.1), with the name-lists as owned strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KexInit {
    /// The 16 random bytes.
    pub cookie: [u8; 16],
    /// kex_algorithms.
    pub kex: Vec<String>,
    /// server_host_key_algorithms.
    pub host_key: Vec<String>,
    /// encryption_algorithms_client_to_server.
    pub cipher_c2s: Vec<String>,
    /// encryption_algorithms_server_to_client.
    pub cipher_s2c: Vec<String>,
    /// mac_algorithms_client_to_server.
    pub mac_c2s: Vec<String>,
    /// mac_algorithms_server_to_client.
    pub mac_s2c: Vec<String>,
    /// compression_algorithms_client_to_server.
    pub compression_c2s: Vec<String>,
    /// compression_algorithms_server_to_client.
    pub compression_s2c: Vec<String>,
    /// first_kex_packet_follows.
    pub first_kex_packet_follows: bool,
}

impl KexInit {
    /// Encodes the whole message, message number included (this is I_C / I_S).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.put_u8(msg::KEXINIT);
        out.put_raw(&self.cookie);
        for list in [
            &self.kex,
            &self.host_key,
            &self.cipher_c2s,
            &self.cipher_s2c,
            &self.mac_c2s,
            &self.mac_s2c,
            &self.compression_c2s,
            &self.compression_s2c,
        ] {
            out.put_name_list(list);
        }
        // Two empty language lists.
        out.put_u32(0);
        out.put_u32(0);
        out.put_bool(self.first_kex_packet_follows);
        out.put_u32(0);
        out
    }

    /// Decodes a whole KEXINIT payload, message number included.
    pub fn decode(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        r.u8()?;
        let mut cookie = [0u8; 16];
        cookie.copy_from_slice(r.bytes(16)?);
        let mut list = || -> Result<Vec<String>, WireError> {
            Ok(r.name_list()?.iter().map(str::to_owned).collect())
        };
        let kex = list()?;
        let host_key = list()?;
        let cipher_c2s = list()?;
        let cipher_s2c = list()?;
        let mac_c2s = list()?;
        let mac_s2c = list()?;
        let compression_c2s = list()?;
        let compression_s2c = list()?;
        let _languages_c2s = list()?;
        let _languages_s2c = list()?;
        let first_kex_packet_follows = r.bool()?;
        let _reserved = r.u32()?;
        r.finish()?;
        Ok(Self {
            cookie,
            kex,
            host_key,
            cipher_c2s,
            cipher_s2c,
            mac_c2s,
            mac_s2c,
            compression_c2s,
            compression_s2c,
            first_kex_packet_follows,
        })
    }
}

/// The transport-layer messages other than KEXINIT and the key-exchange methods'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportMessage<'a> {
    /// SSH_MSG_DISCONNECT.
    Disconnect {
        /// Reason code.
        reason: u32,
        /// Description (UTF-8).
        description: &'a str,
    },
    /// SSH_MSG_IGNORE.
    Ignore,
    /// SSH_MSG_UNIMPLEMENTED with the rejected packet's sequence number.
    Unimplemented(u32),
    /// SSH_MSG_DEBUG.
    Debug {
        /// always_display.
        always_display: bool,
        /// The message.
        message: &'a str,
    },
    /// SSH_MSG_SERVICE_REQUEST.
    ServiceRequest(&'a str),
    /// SSH_MSG_SERVICE_ACCEPT.
    ServiceAccept(&'a str),
    /// SSH_MSG_EXT_INFO (RFC 8308 §2.3): extension names and raw values.
    ExtInfo(Vec<(&'a str, &'a [u8])>),
    /// SSH_MSG_NEWKEYS.
    NewKeys,
}

/// At most this many extensions in one EXT_INFO; more is a hostile peer.
const MAX_EXTENSIONS: u32 = 64;

impl<'a> TransportMessage<'a> {
    /// Decodes `payload` when its number is one of the messages above; `Ok(None)` for
    /// other message numbers.
    pub fn decode(payload: &'a [u8]) -> Result<Option<Self>, WireError> {
        let mut r = Reader::new(payload);
        let number = r.u8()?;
        let message = match number {
            msg::DISCONNECT => {
                let reason = r.u32()?;
                let description = lossy_text(r.string()?);
                let _language = r.string()?;
                Self::Disconnect {
                    reason,
                    description,
                }
            }
            msg::IGNORE => {
                r.string()?;
                Self::Ignore
            }
            msg::UNIMPLEMENTED => Self::Unimplemented(r.u32()?),
            msg::DEBUG => {
                let always_display = r.bool()?;
                let message = lossy_text(r.string()?);
                let _language = r.string()?;
                Self::Debug {
                    always_display,
                    message,
                }
            }
            msg::SERVICE_REQUEST => Self::ServiceRequest(r.utf8()?),
            msg::SERVICE_ACCEPT => Self::ServiceAccept(r.utf8()?),
            msg::EXT_INFO => {
                let count = r.u32()?;
                if count > MAX_EXTENSIONS {
                    return Err(WireError::TooMany {
                        what: "EXT_INFO extensions",
                        count,
                        limit: MAX_EXTENSIONS,
                    });
                }
                let mut extensions = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    extensions.push((r.utf8()?, r.string()?));
                }
                Self::ExtInfo(extensions)
            }
            msg::NEWKEYS => Self::NewKeys,
            _ => return Ok(None),
        };
        r.finish()?;
        Ok(Some(message))
    }
}

/// Peers send text that is meant to be UTF-8 but sometimes is not; we keep what is
/// valid rather than fail the whole message. Invalid input yields an empty string.
fn lossy_text(raw: &[u8]) -> &str {
    match std::str::from_utf8(raw) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&raw[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// Encodes SSH_MSG_DISCONNECT.
pub fn encode_disconnect(reason: u32, description: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + description.len());
    out.put_u8(msg::DISCONNECT);
    out.put_u32(reason);
    out.put_string(description.as_bytes());
    out.put_string(b"");
    out
}

/// Encodes a message whose body is one string (SERVICE_REQUEST, SERVICE_ACCEPT, IGNORE).
pub fn encode_with_string(number: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + value.len());
    out.put_u8(number);
    out.put_string(value);
    out
}

/// Encodes SSH_MSG_DEBUG.
pub fn encode_debug(always_display: bool, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(10 + message.len());
    out.put_u8(msg::DEBUG);
    out.put_bool(always_display);
    out.put_string(message.as_bytes());
    out.put_string(b"");
    out
}

/// Encodes SSH_MSG_UNIMPLEMENTED for the packet with sequence number `seq`.
pub fn encode_unimplemented(seq: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    out.put_u8(msg::UNIMPLEMENTED);
    out.put_u32(seq);
    out
}

/// Encodes SSH_MSG_EXT_INFO from (name, value) pairs.
pub fn encode_ext_info(extensions: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.put_u8(msg::EXT_INFO);
    out.put_u32(extensions.len() as u32);
    for (name, value) in extensions {
        out.put_string(name.as_bytes());
        out.put_string(value);
    }
    out
}

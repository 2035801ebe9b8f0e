//! The USERAUTH_* messages on the wire (RFC 4252 §5-§9, RFC 4256 §3), and the data
//! that public key and host-based signatures cover.

use zeroize::Zeroizing;

use crate::wire::{Reader, WireError, Writer, msg};

/// SSH_MSG_USERAUTH_PK_OK, SSH_MSG_USERAUTH_PASSWD_CHANGEREQ and
/// SSH_MSG_USERAUTH_INFO_REQUEST share this number; the method in progress says which.
pub(crate) const USERAUTH_METHOD_SPECIFIC: u8 = 60;
/// SSH_MSG_USERAUTH_INFO_RESPONSE (RFC 4256 §3.4).
pub(crate) const USERAUTH_INFO_RESPONSE: u8 = 61;
/// The last number of the authentication range (RFC 4250 §4.1.2).
pub(crate) const USERAUTH_LAST: u8 = 79;

/// Most prompts in one INFO_REQUEST, and responses in one INFO_RESPONSE, checked
/// before anything is allocated for them (OpenSSH's own limit is 100).
pub(crate) const MAX_PROMPTS: u32 = 256;

/// The method-specific part of a USERAUTH_REQUEST, borrowed from the payload.
#[derive(Clone)]
pub(crate) enum MethodFields<'a> {
    None,
    Password {
        password: &'a str,
        new_password: Option<&'a str>,
    },
    PublicKey {
        algorithm: &'a str,
        key_blob: &'a [u8],
        signature: Option<&'a [u8]>,
    },
    KeyboardInteractive {
        submethods: &'a str,
    },
    Hostbased {
        algorithm: &'a str,
        key_blob: &'a [u8],
        client_host: &'a str,
        client_user: &'a str,
        signature: &'a [u8],
    },
    /// A method we do not implement; its fields are not read.
    Unknown(&'a str),
}

/// SSH_MSG_USERAUTH_REQUEST (RFC 4252 §5).
#[derive(Clone)]
pub(crate) struct UserauthRequest<'a> {
    pub(crate) user: &'a str,
    pub(crate) service: &'a str,
    pub(crate) method: MethodFields<'a>,
}

impl<'a> UserauthRequest<'a> {
    /// Decodes a whole payload, message number included. Trailing bytes are refused
    /// except after a method we do not know.
    pub(crate) fn decode(payload: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        r.u8()?;
        let user = r.utf8()?;
        let service = r.utf8()?;
        let method_name = r.utf8()?;
        let method = match method_name {
            "none" => MethodFields::None,
            "password" => {
                let change = r.bool()?;
                let password = r.utf8()?;
                let new_password = if change { Some(r.utf8()?) } else { None };
                MethodFields::Password {
                    password,
                    new_password,
                }
            }
            "publickey" => {
                let signed = r.bool()?;
                let algorithm = r.utf8()?;
                let key_blob = r.string()?;
                let signature = if signed { Some(r.string()?) } else { None };
                MethodFields::PublicKey {
                    algorithm,
                    key_blob,
                    signature,
                }
            }
            "keyboard-interactive" => {
                let _language = r.string()?;
                MethodFields::KeyboardInteractive {
                    submethods: r.utf8()?,
                }
            }
            "hostbased" => MethodFields::Hostbased {
                algorithm: r.utf8()?,
                key_blob: r.string()?,
                client_host: r.utf8()?,
                client_user: r.utf8()?,
                signature: r.string()?,
            },
            other => return Ok(Self::unknown(user, service, other)),
        };
        r.finish()?;
        Ok(Self {
            user,
            service,
            method,
        })
    }

    fn unknown(user: &'a str, service: &'a str, method: &'a str) -> Self {
        Self {
            user,
            service,
            method: MethodFields::Unknown(method),
        }
    }

    /// The method's name as sent.
    pub(crate) fn method_name(&self) -> &'a str {
        match self.method {
            MethodFields::None => "none",
            MethodFields::Password { .. } => "password",
            MethodFields::PublicKey { .. } => "publickey",
            MethodFields::KeyboardInteractive { .. } => "keyboard-interactive",
            MethodFields::Hostbased { .. } => "hostbased",
            MethodFields::Unknown(name) => name,
        }
    }

    /// Encodes the request (zeroized on drop: it may carry a password).
    pub(crate) fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(256));
        out.put_u8(msg::USERAUTH_REQUEST);
        out.put_string(self.user.as_bytes());
        out.put_string(self.service.as_bytes());
        out.put_string(self.method_name().as_bytes());
        match &self.method {
            MethodFields::None | MethodFields::Unknown(_) => {}
            MethodFields::Password {
                password,
                new_password,
            } => {
                out.put_bool(new_password.is_some());
                out.put_string(password.as_bytes());
                if let Some(new) = new_password {
                    out.put_string(new.as_bytes());
                }
            }
            MethodFields::PublicKey {
                algorithm,
                key_blob,
                signature,
            } => {
                out.put_bool(signature.is_some());
                out.put_string(algorithm.as_bytes());
                out.put_string(key_blob);
                if let Some(signature) = signature {
                    out.put_string(signature);
                }
            }
            MethodFields::KeyboardInteractive { submethods } => {
                out.put_string(b"");
                out.put_string(submethods.as_bytes());
            }
            MethodFields::Hostbased {
                algorithm,
                key_blob,
                client_host,
                client_user,
                signature,
            } => {
                out.put_string(algorithm.as_bytes());
                out.put_string(key_blob);
                out.put_string(client_host.as_bytes());
                out.put_string(client_user.as_bytes());
                out.put_string(signature);
            }
        }
        out
    }
}

/// The data a `publickey` signature covers (RFC 4252 §7).
pub(crate) fn publickey_signed_data(
    session_id: &[u8],
    user: &str,
    service: &str,
    algorithm: &str,
    key_blob: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(session_id.len() + key_blob.len() + 128);
    out.put_string(session_id);
    out.put_u8(msg::USERAUTH_REQUEST);
    out.put_string(user.as_bytes());
    out.put_string(service.as_bytes());
    out.put_string(b"publickey");
    out.put_bool(true);
    out.put_string(algorithm.as_bytes());
    out.put_string(key_blob);
    out
}

/// What a `hostbased` request says about the client host and user.
pub(crate) struct HostbasedFields<'a> {
    pub(crate) algorithm: &'a str,
    pub(crate) key_blob: &'a [u8],
    pub(crate) client_host: &'a str,
    pub(crate) client_user: &'a str,
}

/// The data a `hostbased` signature covers (RFC 4252 §9).
pub(crate) fn hostbased_signed_data(
    session_id: &[u8],
    user: &str,
    service: &str,
    fields: &HostbasedFields<'_>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(session_id.len() + fields.key_blob.len() + 160);
    out.put_string(session_id);
    out.put_u8(msg::USERAUTH_REQUEST);
    out.put_string(user.as_bytes());
    out.put_string(service.as_bytes());
    out.put_string(b"hostbased");
    out.put_string(fields.algorithm.as_bytes());
    out.put_string(fields.key_blob);
    out.put_string(fields.client_host.as_bytes());
    out.put_string(fields.client_user.as_bytes());
    out
}

/// SSH_MSG_USERAUTH_FAILURE (RFC 4252 §5.1).
pub(crate) fn encode_failure(methods: &[&str], partial_success: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.put_u8(msg::USERAUTH_FAILURE);
    out.put_name_list(methods);
    out.put_bool(partial_success);
    out
}

/// Decodes SSH_MSG_USERAUTH_FAILURE: the methods that can continue and the partial
/// success flag.
pub(crate) fn decode_failure(payload: &[u8]) -> Result<(Vec<String>, bool), WireError> {
    let mut r = Reader::new(payload);
    r.u8()?;
    let methods = r.name_list()?.iter().map(str::to_owned).collect();
    let partial = r.bool()?;
    r.finish()?;
    Ok((methods, partial))
}

/// SSH_MSG_USERAUTH_BANNER (RFC 4252 §5.4).
pub(crate) fn encode_banner(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    out.put_u8(msg::USERAUTH_BANNER);
    out.put_string(message.as_bytes());
    out.put_string(b"");
    out
}

/// Decodes SSH_MSG_USERAUTH_BANNER, returning the message (invalid UTF-8 replaced).
pub(crate) fn decode_banner(payload: &[u8]) -> Result<String, WireError> {
    let mut r = Reader::new(payload);
    r.u8()?;
    let message = String::from_utf8_lossy(r.string()?).into_owned();
    let _language = r.string()?;
    r.finish()?;
    Ok(message)
}

/// SSH_MSG_USERAUTH_PK_OK (RFC 4252 §7): the algorithm and key blob of the query.
pub(crate) fn encode_pk_ok(algorithm: &str, key_blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key_blob.len() + 64);
    out.put_u8(USERAUTH_METHOD_SPECIFIC);
    out.put_string(algorithm.as_bytes());
    out.put_string(key_blob);
    out
}

/// Decodes SSH_MSG_USERAUTH_PK_OK.
pub(crate) fn decode_pk_ok(payload: &[u8]) -> Result<(&[u8], &[u8]), WireError> {
    let mut r = Reader::new(payload);
    r.u8()?;
    let algorithm = r.string()?;
    let blob = r.string()?;
    r.finish()?;
    Ok((algorithm, blob))
}

/// SSH_MSG_USERAUTH_PASSWD_CHANGEREQ (RFC 4252 §8).
pub(crate) fn encode_passwd_changereq(prompt: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(prompt.len() + 16);
    out.put_u8(USERAUTH_METHOD_SPECIFIC);
    out.put_string(prompt.as_bytes());
    out.put_string(b"");
    out
}

/// Decodes SSH_MSG_USERAUTH_PASSWD_CHANGEREQ, returning the prompt.
pub(crate) fn decode_passwd_changereq(payload: &[u8]) -> Result<String, WireError> {
    let mut r = Reader::new(payload);
    r.u8()?;
    let prompt = String::from_utf8_lossy(r.string()?).into_owned();
    let _language = r.string()?;
    r.finish()?;
    Ok(prompt)
}

/// SSH_MSG_USERAUTH_INFO_REQUEST (RFC 4256 §3.2), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InfoRequest {
    pub(crate) name: String,
    pub(crate) instruction: String,
    pub(crate) prompts: Vec<(String, bool)>,
}

impl InfoRequest {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.put_u8(USERAUTH_METHOD_SPECIFIC);
        out.put_string(self.name.as_bytes());
        out.put_string(self.instruction.as_bytes());
        out.put_string(b"");
        out.put_u32(self.prompts.len() as u32);
        for (prompt, echo) in &self.prompts {
            out.put_string(prompt.as_bytes());
            out.put_bool(*echo);
        }
        out
    }

    pub(crate) fn decode(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        r.u8()?;
        let text = |r: &mut Reader<'_>| -> Result<String, WireError> {
            Ok(String::from_utf8_lossy(r.string()?).into_owned())
        };
        let name = text(&mut r)?;
        let instruction = text(&mut r)?;
        let _language = r.string()?;
        let count = bounded_count(&mut r)?;
        let mut prompts = Vec::with_capacity(count);
        for _ in 0..count {
            let prompt = text(&mut r)?;
            prompts.push((prompt, r.bool()?));
        }
        r.finish()?;
        Ok(Self {
            name,
            instruction,
            prompts,
        })
    }
}

/// Reads a prompt or response count, refusing more than [`MAX_PROMPTS`] before
/// anything is allocated for them.
fn bounded_count(r: &mut Reader<'_>) -> Result<usize, WireError> {
    let count = r.u32()?;
    if count > MAX_PROMPTS {
        return Err(WireError::Truncated {
            needed: count as usize,
            remaining: MAX_PROMPTS as usize,
        });
    }
    Ok(count as usize)
}

/// SSH_MSG_USERAUTH_INFO_RESPONSE (RFC 4256 §3.4).
pub(crate) fn encode_info_response(responses: &[Zeroizing<String>]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(64));
    out.put_u8(USERAUTH_INFO_RESPONSE);
    out.put_u32(responses.len() as u32);
    for response in responses {
        out.put_string(response.as_bytes());
    }
    out
}

/// Decodes SSH_MSG_USERAUTH_INFO_RESPONSE into zeroizing strings.
pub(crate) fn decode_info_response(payload: &[u8]) -> Result<Vec<Zeroizing<String>>, WireError> {
    let mut r = Reader::new(payload);
    r.u8()?;
    let count = bounded_count(&mut r)?;
    let mut responses = Vec::with_capacity(count);
    for _ in 0..count {
        responses.push(Zeroizing::new(r.utf8()?.to_owned()));
    }
    r.finish()?;
    Ok(responses)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_request_method_round_trips() {
        let requests = [
            MethodFields::None,
            MethodFields::Password {
                password: "hunter2",
                new_password: None,
            },
            MethodFields::Password {
                password: "old",
                new_password: Some("new"),
            },
            MethodFields::PublicKey {
                algorithm: "ssh-ed25519",
                key_blob: b"blob",
                signature: None,
            },
            MethodFields::PublicKey {
                algorithm: "rsa-sha2-512",
                key_blob: b"blob",
                signature: Some(b"sig"),
            },
            MethodFields::KeyboardInteractive { submethods: "pam" },
            MethodFields::Hostbased {
                algorithm: "ssh-ed25519",
                key_blob: b"k",
                client_host: "client.example.",
                client_user: "alice",
                signature: b"s",
            },
        ];
        for method in requests {
            let request = UserauthRequest {
                user: "alice",
                service: "ssh-connection",
                method,
            };
            let encoded = request.encode();
            let decoded = UserauthRequest::decode(&encoded).unwrap();
            assert_eq!(decoded.encode()[..], encoded[..]);
            assert_eq!(decoded.user, "alice");
            assert_eq!(decoded.method_name(), request.method_name());
        }
    }

    #[test]
    fn request_with_trailing_bytes_is_refused() {
        let mut encoded = UserauthRequest {
            user: "a",
            service: "ssh-connection",
            method: MethodFields::None,
        }
        .encode()
        .to_vec();
        encoded.push(0);
        assert!(matches!(
            UserauthRequest::decode(&encoded),
            Err(WireError::TrailingBytes(1))
        ));
    }

    #[test]
    fn unknown_method_keeps_its_name_and_ignores_its_fields() {
        let mut out = Vec::new();
        out.put_u8(msg::USERAUTH_REQUEST);
        out.put_string(b"u");
        out.put_string(b"ssh-connection");
        out.put_string(b"gssapi-with-mic");
        out.put_u32(7);
        let request = UserauthRequest::decode(&out).unwrap();
        assert_eq!(request.method_name(), "gssapi-with-mic");
    }

    #[test]
    fn failure_round_trips() {
        let encoded = encode_failure(&["publickey", "password"], true);
        let (methods, partial) = decode_failure(&encoded).unwrap();
        assert_eq!(methods, ["publickey", "password"]);
        assert!(partial);
        assert_eq!(
            decode_failure(&encode_failure(&[], false)).unwrap().0.len(),
            0
        );
    }

    #[test]
    fn info_request_round_trips_and_caps_prompts() {
        let request = InfoRequest {
            name: "n".into(),
            instruction: "i".into(),
            prompts: vec![("Password: ".into(), false), ("Code: ".into(), true)],
        };
        assert_eq!(InfoRequest::decode(&request.encode()).unwrap(), request);
        let mut hostile = vec![USERAUTH_METHOD_SPECIFIC];
        for _ in 0..3 {
            hostile.put_string(b"");
        }
        hostile.put_u32(u32::MAX);
        assert!(InfoRequest::decode(&hostile).is_err());
    }

    #[test]
    fn info_response_round_trips() {
        let responses = vec![Zeroizing::new("a".to_owned()), Zeroizing::new("".into())];
        let decoded = decode_info_response(&encode_info_response(&responses)).unwrap();
        assert_eq!(decoded, responses);
    }

    #[test]
    fn publickey_signed_data_follows_rfc_4252_section_7() {
        let data = publickey_signed_data(b"SID", "u", "ssh-connection", "ssh-ed25519", b"K");
        let mut expected = Vec::new();
        expected.put_string(b"SID");
        expected.put_u8(50);
        expected.put_string(b"u");
        expected.put_string(b"ssh-connection");
        expected.put_string(b"publickey");
        expected.put_u8(1);
        expected.put_string(b"ssh-ed25519");
        expected.put_string(b"K");
        assert_eq!(data, expected);
    }
}

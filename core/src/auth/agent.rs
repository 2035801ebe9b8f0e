//! The ssh-agent protocol (draft-ietf-sshm-ssh-agent, OpenSSH's PROTOCOL.agent) as a
//! pure codec: requests and responses to and from bytes, and a framer for the byte
//! stream. The socket (`SSH_AUTH_SOCK`) belongs to the driver layer.
//!
//! Every message is `uint32 length, byte type, contents`; [`AgentRequest::encode`] and
//! [`AgentResponse::encode`] produce whole frames, [`AgentFramer`] splits a received
//! stream into message bodies for the `decode` functions.
//!
//! ```
//! use sansh_core::auth::agent::{AgentFramer, AgentRequest, AgentResponse};
//! let frame = AgentRequest::RequestIdentities.encode();
//! let mut framer = AgentFramer::new();
//! framer.feed(&frame);
//! let body = framer.next_message()?.expect("one whole message");
//! assert!(matches!(AgentRequest::decode(&body)?, AgentRequest::RequestIdentities));
//! let reply = AgentResponse::Identities(Vec::new()).encode();
//! assert_eq!(AgentResponse::decode(&reply[4..])?, AgentResponse::Identities(Vec::new()));
//! # Ok::<(), sansh_core::auth::agent::AgentError>(())
//! ```

use std::sync::Arc;

use zeroize::Zeroizing;

use super::Identity;
use crate::crypto::SeededRandom;
use crate::keys::{Certificate, KeyError, KeyType, PrivateKey, PublicKey, SignatureAlgorithm};
use crate::wire::{Reader, WireError, Writer};

/// SSH_AGENT_FAILURE.
pub const AGENT_FAILURE: u8 = 5;
/// SSH_AGENT_SUCCESS.
pub const AGENT_SUCCESS: u8 = 6;
/// SSH_AGENTC_REQUEST_IDENTITIES.
pub const AGENTC_REQUEST_IDENTITIES: u8 = 11;
/// SSH_AGENT_IDENTITIES_ANSWER.
pub const AGENT_IDENTITIES_ANSWER: u8 = 12;
/// SSH_AGENTC_SIGN_REQUEST.
pub const AGENTC_SIGN_REQUEST: u8 = 13;
/// SSH_AGENT_SIGN_RESPONSE.
pub const AGENT_SIGN_RESPONSE: u8 = 14;
/// SSH_AGENTC_ADD_IDENTITY.
pub const AGENTC_ADD_IDENTITY: u8 = 17;
/// SSH_AGENTC_REMOVE_IDENTITY.
pub const AGENTC_REMOVE_IDENTITY: u8 = 18;
/// SSH_AGENTC_REMOVE_ALL_IDENTITIES.
pub const AGENTC_REMOVE_ALL_IDENTITIES: u8 = 19;
/// SSH_AGENTC_LOCK.
pub const AGENTC_LOCK: u8 = 22;
/// SSH_AGENTC_UNLOCK.
pub const AGENTC_UNLOCK: u8 = 23;
/// SSH_AGENTC_ADD_ID_CONSTRAINED.
pub const AGENTC_ADD_ID_CONSTRAINED: u8 = 25;
/// SSH_AGENTC_EXTENSION.
pub const AGENTC_EXTENSION: u8 = 27;
/// SSH_AGENT_EXTENSION_FAILURE.
pub const AGENT_EXTENSION_FAILURE: u8 = 28;

/// Sign flag: make an `rsa-sha2-256` signature with an RSA key.
pub const RSA_SHA2_256: u32 = 2;
/// Sign flag: make an `rsa-sha2-512` signature with an RSA key.
pub const RSA_SHA2_512: u32 = 4;

/// Constraint: the key expires after a number of seconds.
const CONSTRAIN_LIFETIME: u8 = 1;
/// Constraint: each use must be confirmed by the user.
const CONSTRAIN_CONFIRM: u8 = 2;
/// Constraint: a named extension.
const CONSTRAIN_EXTENSION: u8 = 255;

/// Largest message accepted, as OpenSSH's `AGENT_MAX_LEN`.
pub const MAX_MESSAGE_LEN: usize = 256 * 1024;
/// Most identities accepted in one answer, as OpenSSH's `MAX_AGENT_IDENTITIES`.
pub const MAX_IDENTITIES: usize = 2048;

/// The sign flags that select `alg` (non-zero only for the RSA SHA-2 algorithms).
pub fn sign_flags(alg: SignatureAlgorithm) -> u32 {
    match alg {
        SignatureAlgorithm::RsaSha2_256 => RSA_SHA2_256,
        SignatureAlgorithm::RsaSha2_512 => RSA_SHA2_512,
        _ => 0,
    }
}

/// Why an agent message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// A field does not decode.
    #[error("malformed agent message: {0}")]
    Wire(#[from] WireError),
    /// The length prefix exceeds [`MAX_MESSAGE_LEN`] (or is zero).
    #[error("agent message length {0} is out of range")]
    BadLength(usize),
    /// More identities than [`MAX_IDENTITIES`].
    #[error("too many identities ({0})")]
    TooManyIdentities(u32),
    /// A message type this codec does not know.
    #[error("unknown agent message type {0}")]
    UnknownMessage(u8),
    /// A key in the message is invalid or unsupported.
    #[error("key: {0}")]
    Key(#[from] KeyError),
}

/// A restriction on a key added to the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// The agent forgets the key after this many seconds.
    Lifetime(u32),
    /// The agent asks the user to confirm each use.
    Confirm,
    /// A named extension constraint and its data.
    Extension {
        /// Its name, e.g. `restrict-destination-v00@openssh.com`.
        name: String,
        /// Its contents, as sent.
        data: Vec<u8>,
    },
}

/// A message from a client to the agent.
#[derive(Clone)]
#[non_exhaustive]
pub enum AgentRequest {
    /// List the keys the agent holds.
    RequestIdentities,
    /// Sign `data` with the key whose blob (or certificate blob) is `key_blob`.
    Sign {
        /// The key or certificate blob.
        key_blob: Vec<u8>,
        /// The data to sign.
        data: Vec<u8>,
        /// [`RSA_SHA2_256`] or [`RSA_SHA2_512`] for RSA keys, else 0.
        flags: u32,
    },
    /// Hand a private key to the agent.
    AddIdentity {
        /// The key.
        key: Arc<PrivateKey>,
        /// Its comment.
        comment: String,
        /// Restrictions; non-empty sends SSH_AGENTC_ADD_ID_CONSTRAINED.
        constraints: Vec<Constraint>,
    },
    /// Forget the key with this blob.
    RemoveIdentity {
        /// The key blob.
        key_blob: Vec<u8>,
    },
    /// Forget every key.
    RemoveAllIdentities,
    /// Lock the agent with a passphrase.
    Lock {
        /// The passphrase.
        passphrase: Zeroizing<Vec<u8>>,
    },
    /// Unlock the agent.
    Unlock {
        /// The passphrase.
        passphrase: Zeroizing<Vec<u8>>,
    },
    /// A vendor extension.
    Extension {
        /// The extension's name.
        name: String,
        /// Everything after the name.
        contents: Vec<u8>,
    },
}

impl std::fmt::Debug for AgentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RequestIdentities => f.write_str("RequestIdentities"),
            Self::Sign { flags, data, .. } => f
                .debug_struct("Sign")
                .field("data_len", &data.len())
                .field("flags", flags)
                .finish_non_exhaustive(),
            Self::AddIdentity {
                key,
                comment,
                constraints,
            } => f
                .debug_struct("AddIdentity")
                .field("key", key)
                .field("comment", comment)
                .field("constraints", constraints)
                .finish(),
            Self::RemoveIdentity { .. } => f.write_str("RemoveIdentity"),
            Self::RemoveAllIdentities => f.write_str("RemoveAllIdentities"),
            Self::Lock { .. } => f.write_str("Lock(<redacted>)"),
            Self::Unlock { .. } => f.write_str("Unlock(<redacted>)"),
            Self::Extension { name, .. } => f
                .debug_struct("Extension")
                .field("name", name)
                .finish_non_exhaustive(),
        }
    }
}

/// One key the agent holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    /// The public key or certificate blob.
    pub key_blob: Vec<u8>,
    /// The comment (usually the file it was loaded from).
    pub comment: String,
}

impl AgentIdentity {
    /// Parses the blob as a plain key or a certificate.
    pub fn identity(&self) -> Result<Identity, KeyError> {
        let name = Reader::new(&self.key_blob).utf8().map_err(KeyError::from)?;
        if name.ends_with("-cert-v01@openssh.com") {
            Certificate::from_blob(&self.key_blob).map(|c| Identity::Certificate(Box::new(c)))
        } else {
            PublicKey::from_blob(&self.key_blob).map(Identity::Key)
        }
    }
}

/// A message from the agent to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentResponse {
    /// The request succeeded (add, remove, lock, unlock).
    Success,
    /// The request failed.
    Failure,
    /// The keys the agent holds.
    Identities(Vec<AgentIdentity>),
    /// A signature blob (`string algorithm, string signature`).
    Signature(Vec<u8>),
    /// The agent does not support the extension.
    ExtensionFailure,
}

/// Starts a frame; [`finish_frame`] fills in its length.
fn start_frame(number: u8) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(64));
    out.put_u32(0);
    out.put_u8(number);
    out
}

fn finish_frame(mut out: Zeroizing<Vec<u8>>) -> Zeroizing<Vec<u8>> {
    let len = (out.len() - 4) as u32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out
}

impl AgentRequest {
    /// Encodes the whole frame (length prefix included). Zeroized on drop: it may
    /// carry a private key or a passphrase.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let out = match self {
            Self::RequestIdentities => start_frame(AGENTC_REQUEST_IDENTITIES),
            Self::Sign {
                key_blob,
                data,
                flags,
            } => {
                let mut out = start_frame(AGENTC_SIGN_REQUEST);
                out.put_string(key_blob);
                out.put_string(data);
                out.put_u32(*flags);
                out
            }
            Self::AddIdentity {
                key,
                comment,
                constraints,
            } => {
                let number = if constraints.is_empty() {
                    AGENTC_ADD_IDENTITY
                } else {
                    AGENTC_ADD_ID_CONSTRAINED
                };
                let mut out = start_frame(number);
                out.put_raw(&private_fields(key));
                out.put_string(comment.as_bytes());
                for constraint in constraints {
                    match constraint {
                        Constraint::Lifetime(seconds) => {
                            out.put_u8(CONSTRAIN_LIFETIME);
                            out.put_u32(*seconds);
                        }
                        Constraint::Confirm => out.put_u8(CONSTRAIN_CONFIRM),
                        Constraint::Extension { name, data } => {
                            out.put_u8(CONSTRAIN_EXTENSION);
                            out.put_string(name.as_bytes());
                            out.put_raw(data);
                        }
                    }
                }
                out
            }
            Self::RemoveIdentity { key_blob } => {
                let mut out = start_frame(AGENTC_REMOVE_IDENTITY);
                out.put_string(key_blob);
                out
            }
            Self::RemoveAllIdentities => start_frame(AGENTC_REMOVE_ALL_IDENTITIES),
            Self::Lock { passphrase } | Self::Unlock { passphrase } => {
                let number = if matches!(self, Self::Lock { .. }) {
                    AGENTC_LOCK
                } else {
                    AGENTC_UNLOCK
                };
                let mut out = start_frame(number);
                out.put_string(passphrase);
                out
            }
            Self::Extension { name, contents } => {
                let mut out = start_frame(AGENTC_EXTENSION);
                out.put_string(name.as_bytes());
                out.put_raw(contents);
                out
            }
        };
        finish_frame(out)
    }

    /// Decodes a message body (type byte and contents, without the length prefix),
    /// as an agent receives it.
    pub fn decode(body: &[u8]) -> Result<Self, AgentError> {
        let mut r = Reader::new(body);
        let number = r.u8()?;
        let request = match number {
            AGENTC_REQUEST_IDENTITIES => Self::RequestIdentities,
            AGENTC_SIGN_REQUEST => Self::Sign {
                key_blob: r.string()?.to_vec(),
                data: r.string()?.to_vec(),
                flags: r.u32()?,
            },
            AGENTC_ADD_IDENTITY | AGENTC_ADD_ID_CONSTRAINED => {
                let key = read_private_fields(&mut r)?;
                let comment = String::from_utf8_lossy(r.string()?).into_owned();
                let mut constraints = Vec::new();
                while number == AGENTC_ADD_ID_CONSTRAINED && r.remaining() > 0 {
                    constraints.push(match r.u8()? {
                        CONSTRAIN_LIFETIME => Constraint::Lifetime(r.u32()?),
                        CONSTRAIN_CONFIRM => Constraint::Confirm,
                        CONSTRAIN_EXTENSION => Constraint::Extension {
                            name: r.utf8()?.to_owned(),
                            data: r.take_rest().to_vec(),
                        },
                        other => return Err(AgentError::UnknownMessage(other)),
                    });
                }
                Self::AddIdentity {
                    key: Arc::new(key),
                    comment,
                    constraints,
                }
            }
            AGENTC_REMOVE_IDENTITY => Self::RemoveIdentity {
                key_blob: r.string()?.to_vec(),
            },
            AGENTC_REMOVE_ALL_IDENTITIES => Self::RemoveAllIdentities,
            AGENTC_LOCK => Self::Lock {
                passphrase: Zeroizing::new(r.string()?.to_vec()),
            },
            AGENTC_UNLOCK => Self::Unlock {
                passphrase: Zeroizing::new(r.string()?.to_vec()),
            },
            AGENTC_EXTENSION => Self::Extension {
                name: r.utf8()?.to_owned(),
                contents: r.take_rest().to_vec(),
            },
            other => return Err(AgentError::UnknownMessage(other)),
        };
        r.finish()?;
        Ok(request)
    }
}

impl AgentResponse {
    /// Encodes the whole frame (length prefix included), as an agent sends it.
    pub fn encode(&self) -> Vec<u8> {
        let out = match self {
            Self::Success => start_frame(AGENT_SUCCESS),
            Self::Failure => start_frame(AGENT_FAILURE),
            Self::ExtensionFailure => start_frame(AGENT_EXTENSION_FAILURE),
            Self::Identities(identities) => {
                let mut out = start_frame(AGENT_IDENTITIES_ANSWER);
                out.put_u32(identities.len() as u32);
                for identity in identities {
                    out.put_string(&identity.key_blob);
                    out.put_string(identity.comment.as_bytes());
                }
                out
            }
            Self::Signature(signature) => {
                let mut out = start_frame(AGENT_SIGN_RESPONSE);
                out.put_string(signature);
                out
            }
        };
        finish_frame(out).to_vec()
    }

    /// Decodes a message body (type byte and contents, without the length prefix).
    pub fn decode(body: &[u8]) -> Result<Self, AgentError> {
        let mut r = Reader::new(body);
        let response = match r.u8()? {
            AGENT_SUCCESS => Self::Success,
            AGENT_FAILURE => Self::Failure,
            AGENT_EXTENSION_FAILURE => Self::ExtensionFailure,
            AGENT_IDENTITIES_ANSWER => {
                let count = r.u32()?;
                if count as usize > MAX_IDENTITIES {
                    return Err(AgentError::TooManyIdentities(count));
                }
                let mut identities = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    identities.push(AgentIdentity {
                        key_blob: r.string()?.to_vec(),
                        comment: String::from_utf8_lossy(r.string()?).into_owned(),
                    });
                }
                Self::Identities(identities)
            }
            AGENT_SIGN_RESPONSE => Self::Signature(r.string()?.to_vec()),
            other => return Err(AgentError::UnknownMessage(other)),
        };
        r.finish()?;
        Ok(response)
    }
}

/// Splits a byte stream from an agent (or a client) into message bodies.
#[derive(Debug, Default)]
pub struct AgentFramer {
    buf: Zeroizing<Vec<u8>>,
}

impl AgentFramer {
    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole message body (type byte and contents), if one has arrived.
    /// A length of zero or over [`MAX_MESSAGE_LEN`] is an error (the stream cannot
    /// be resynchronised: close it).
    pub fn next_message(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, AgentError> {
        let Some(header) = self.buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len == 0 || len > MAX_MESSAGE_LEN {
            return Err(AgentError::BadLength(len));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let body = Zeroizing::new(self.buf[4..4 + len].to_vec());
        self.buf.drain(..4 + len);
        Ok(Some(body))
    }
}

/// How many length-prefixed fields follow the type name in a key's private
/// serialization (PROTOCOL.key; the agent uses the same layout).
fn private_field_count(key_type: KeyType) -> usize {
    match key_type {
        KeyType::Ed25519 => 2,
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => 3,
        KeyType::Rsa => 6,
    }
}

/// `string type` and the key's private fields, as ADD_IDENTITY carries them.
///
/// The keys module writes this layout inside OpenSSH private key files; we take it
/// from an unencrypted file image rather than keep a second copy of the encoder.
fn private_fields(key: &PrivateKey) -> Zeroizing<Vec<u8>> {
    // The check numbers are random in a file but discarded here, so a fixed seed
    // keeps this function free of an RNG argument.
    let mut unused = SeededRandom::new(0);
    let Ok(file) = key.to_openssh_binary(None, &mut unused) else {
        return Zeroizing::new(Vec::new());
    };
    let fields = (|| -> Result<Zeroizing<Vec<u8>>, WireError> {
        let mut r = Reader::new(&file);
        r.bytes(b"openssh-key-v1\0".len())?;
        r.string()?; // cipher "none"
        r.string()?; // kdf "none"
        r.string()?; // kdf options
        r.u32()?; // one key
        r.string()?; // public key
        let section = r.string()?;
        let mut s = Reader::new(section);
        s.bytes(8)?; // check numbers
        let start = section.len() - s.remaining();
        s.string()?; // type name
        for _ in 0..private_field_count(key.key_type()) {
            s.string()?;
        }
        let end = section.len() - s.remaining();
        Ok(Zeroizing::new(section[start..end].to_vec()))
    })();
    fields.unwrap_or_default()
}

/// Reads `string type` and the private fields, rebuilding the key through the
/// OpenSSH key file reader (which checks every component).
fn read_private_fields(r: &mut Reader<'_>) -> Result<PrivateKey, AgentError> {
    let start = r.rest();
    let name = r.utf8()?;
    let key_type =
        KeyType::from_name(name).ok_or_else(|| KeyError::UnknownKeyType(name.to_owned()))?;
    let mut fields = Vec::with_capacity(6);
    for _ in 0..private_field_count(key_type) {
        fields.push(r.string()?);
    }
    let consumed = &start[..start.len() - r.rest().len()];
    let mut public = Vec::new();
    public.put_string(name.as_bytes());
    match (key_type, fields.as_slice()) {
        (KeyType::Ed25519, [pk, _]) => public.put_string(pk),
        (KeyType::Rsa, [n, e, ..]) => {
            public.put_string(e);
            public.put_string(n);
        }
        (_, [curve, point, _]) => {
            public.put_string(curve);
            public.put_string(point);
        }
        _ => return Err(AgentError::Key(KeyError::UnknownKeyType(name.to_owned()))),
    }
    let mut section = Zeroizing::new(Vec::with_capacity(consumed.len() + 16));
    section.put_raw(&[0, 0, 0, 0, 0, 0, 0, 0]);
    section.put_raw(consumed);
    section.put_string(b"");
    let mut pad = 1u8;
    while section.len() % 8 != 0 {
        section.put_u8(pad);
        pad += 1;
    }
    let mut file = Zeroizing::new(Vec::with_capacity(section.len() + public.len() + 64));
    file.put_raw(b"openssh-key-v1\0");
    file.put_string(b"none");
    file.put_string(b"none");
    file.put_string(b"");
    file.put_u32(1);
    file.put_string(&public);
    file.put_string(&section);
    Ok(PrivateKey::from_openssh_binary(&file, None)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn body(frame: &[u8]) -> &[u8] {
        &frame[4..]
    }

    #[test]
    fn frame_length_prefix_counts_the_body() {
        let frame = AgentRequest::RemoveAllIdentities.encode();
        assert_eq!(&frame[..], &[0, 0, 0, 1, AGENTC_REMOVE_ALL_IDENTITIES]);
    }

    #[test]
    fn sign_request_round_trips_with_flags() {
        let request = AgentRequest::Sign {
            key_blob: b"key".to_vec(),
            data: b"data".to_vec(),
            flags: RSA_SHA2_512,
        };
        let frame = request.encode();
        match AgentRequest::decode(body(&frame)).unwrap() {
            AgentRequest::Sign {
                key_blob,
                data,
                flags,
            } => {
                assert_eq!(
                    (key_blob, data, flags),
                    (b"key".to_vec(), b"data".to_vec(), 4)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sign_flags_select_rsa_sha2() {
        assert_eq!(sign_flags(SignatureAlgorithm::RsaSha2_256), 2);
        assert_eq!(sign_flags(SignatureAlgorithm::RsaSha2_512), 4);
        assert_eq!(sign_flags(SignatureAlgorithm::Ed25519), 0);
    }

    #[test]
    fn add_identity_round_trips_every_key_type() {
        let mut rng = SeededRandom::new(4);
        for &key_type in KeyType::ALL {
            let bits = (key_type == KeyType::Rsa).then_some(2048);
            let key = Arc::new(PrivateKey::generate(key_type, bits, &mut rng).unwrap());
            let request = AgentRequest::AddIdentity {
                key: key.clone(),
                comment: "test key".into(),
                constraints: vec![Constraint::Lifetime(60), Constraint::Confirm],
            };
            let frame = request.encode();
            assert_eq!(frame[4], AGENTC_ADD_ID_CONSTRAINED);
            match AgentRequest::decode(body(&frame)).unwrap() {
                AgentRequest::AddIdentity {
                    key: decoded,
                    comment,
                    constraints,
                } => {
                    assert_eq!(decoded.public_key(), key.public_key(), "{key_type}");
                    assert_eq!(comment, "test key");
                    assert_eq!(constraints, [Constraint::Lifetime(60), Constraint::Confirm]);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn identities_answer_round_trips_and_parses_keys() {
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(1))
            .unwrap()
            .public_key();
        let answer = AgentResponse::Identities(vec![AgentIdentity {
            key_blob: key.to_blob(),
            comment: "c".into(),
        }]);
        let frame = answer.encode();
        let decoded = AgentResponse::decode(body(&frame)).unwrap();
        assert_eq!(decoded, answer);
        let AgentResponse::Identities(list) = decoded else {
            unreachable!()
        };
        assert_eq!(list[0].identity().unwrap(), Identity::Key(key));
    }

    #[test]
    fn hostile_identity_count_is_refused_before_allocation() {
        let mut hostile = vec![AGENT_IDENTITIES_ANSWER];
        hostile.put_u32(u32::MAX);
        assert_eq!(
            AgentResponse::decode(&hostile),
            Err(AgentError::TooManyIdentities(u32::MAX))
        );
    }

    #[test]
    fn framer_waits_for_whole_messages_and_refuses_huge_lengths() {
        let mut framer = AgentFramer::new();
        let frame = AgentResponse::Signature(b"sig".to_vec()).encode();
        framer.feed(&frame[..3]);
        assert!(framer.next_message().unwrap().is_none());
        framer.feed(&frame[3..]);
        framer.feed(&AgentResponse::Success.encode());
        let first = framer.next_message().unwrap().unwrap();
        assert_eq!(
            AgentResponse::decode(&first).unwrap(),
            AgentResponse::Signature(b"sig".to_vec())
        );
        let second = framer.next_message().unwrap().unwrap();
        assert_eq!(
            AgentResponse::decode(&second).unwrap(),
            AgentResponse::Success
        );
        framer.feed(&[0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            framer.next_message(),
            Err(AgentError::BadLength(_))
        ));
    }

    #[test]
    fn unknown_message_type_is_an_error() {
        assert_eq!(
            AgentResponse::decode(&[99]),
            Err(AgentError::UnknownMessage(99))
        );
        assert_eq!(
            AgentRequest::decode(&[99]).map(|_| ()),
            Err(AgentError::UnknownMessage(99))
        );
    }

    #[test]
    fn lock_passphrase_is_not_printed() {
        let request = AgentRequest::Lock {
            passphrase: Zeroizing::new(b"secret".to_vec()),
        };
        assert!(!format!("{request:?}").contains("secret"));
    }
}

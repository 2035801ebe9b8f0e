//! Global requests (RFC 4254 §4, §7.1; OpenSSH PROTOCOL §2.2, §2.4, §2.5), typed.

use bytes::Bytes;

use super::wire::lossy;
use crate::keys::PublicKey;
use crate::wire::{Reader, WireError, Writer};

/// Most keys taken from one `hostkeys-00@openssh.com` announcement; more is noise.
const MAX_ANNOUNCED_HOST_KEYS: usize = 64;

/// A global request and its type-specific fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GlobalRequest {
    /// `tcpip-forward`: listen on `address:port` and forward connections back
    /// (RFC 4254 §7.1). Port 0 asks the server to choose; it is then told in the reply.
    TcpipForward {
        /// Address to bind (`""` all protocols, `0.0.0.0`, `localhost`, ...).
        address: String,
        /// Port to bind, 0 for any.
        port: u32,
    },
    /// `cancel-tcpip-forward`: stop a `tcpip-forward` (RFC 4254 §7.1).
    CancelTcpipForward {
        /// The bound address.
        address: String,
        /// The bound port.
        port: u32,
    },
    /// `streamlocal-forward@openssh.com`: listen on a Unix socket and forward back.
    StreamlocalForward {
        /// The socket path.
        socket_path: String,
    },
    /// `cancel-streamlocal-forward@openssh.com`.
    CancelStreamlocalForward {
        /// The socket path.
        socket_path: String,
    },
    /// `no-more-sessions@openssh.com`: the client will open no more sessions; the
    /// server refuses any further `session` opens.
    NoMoreSessions,
    /// `hostkeys-00@openssh.com`: the server's host keys, announced after
    /// authentication. Keys of types we cannot parse are left out.
    HostKeys(Vec<PublicKey>),
    /// `keepalive@openssh.com`: a liveness probe; the engine answers it itself.
    KeepAlive,
    /// A request this engine does not know, with its raw type-specific data.
    Unknown {
        /// The request name.
        name: String,
        /// The bytes after `want reply`.
        data: Bytes,
    },
}

impl GlobalRequest {
    /// The request name on the wire.
    pub fn name(&self) -> &str {
        match self {
            Self::TcpipForward { .. } => "tcpip-forward",
            Self::CancelTcpipForward { .. } => "cancel-tcpip-forward",
            Self::StreamlocalForward { .. } => "streamlocal-forward@openssh.com",
            Self::CancelStreamlocalForward { .. } => "cancel-streamlocal-forward@openssh.com",
            Self::NoMoreSessions => "no-more-sessions@openssh.com",
            Self::HostKeys(_) => "hostkeys-00@openssh.com",
            Self::KeepAlive => "keepalive@openssh.com",
            Self::Unknown { name, .. } => name,
        }
    }

    /// Appends the type-specific fields that follow `want reply`.
    pub(crate) fn encode_data(&self, out: &mut Vec<u8>) {
        match self {
            Self::TcpipForward { address, port } | Self::CancelTcpipForward { address, port } => {
                out.put_string(address.as_bytes());
                out.put_u32(*port);
            }
            Self::StreamlocalForward { socket_path }
            | Self::CancelStreamlocalForward { socket_path } => {
                out.put_string(socket_path.as_bytes())
            }
            Self::NoMoreSessions | Self::KeepAlive => {}
            Self::HostKeys(keys) => {
                for key in keys {
                    out.put_string(&key.to_blob());
                }
            }
            Self::Unknown { data, .. } => out.put_raw(data),
        }
    }

    /// Decodes the type-specific fields of request `name`.
    pub(crate) fn decode(name: &str, data: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(data);
        let request = match name {
            "tcpip-forward" => Self::TcpipForward {
                address: lossy(r.string()?),
                port: r.u32()?,
            },
            "cancel-tcpip-forward" => Self::CancelTcpipForward {
                address: lossy(r.string()?),
                port: r.u32()?,
            },
            "streamlocal-forward@openssh.com" => Self::StreamlocalForward {
                socket_path: lossy(r.string()?),
            },
            "cancel-streamlocal-forward@openssh.com" => Self::CancelStreamlocalForward {
                socket_path: lossy(r.string()?),
            },
            "no-more-sessions@openssh.com" => Self::NoMoreSessions,
            "keepalive@openssh.com" => {
                // A probe's payload means nothing; some peers pad it.
                r.take_rest();
                Self::KeepAlive
            }
            "hostkeys-00@openssh.com" => {
                let mut keys = Vec::new();
                while r.remaining() > 0 {
                    let blob = r.string()?;
                    // A key type we do not know is the server's to offer, not an error.
                    if keys.len() < MAX_ANNOUNCED_HOST_KEYS {
                        if let Ok(key) = PublicKey::from_blob(blob) {
                            keys.push(key);
                        }
                    }
                }
                Self::HostKeys(keys)
            }
            _ => Self::Unknown {
                name: name.to_owned(),
                data: Bytes::copy_from_slice(r.take_rest()),
            },
        };
        r.finish()?;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;
    use crate::keys::{KeyType, PrivateKey};

    #[test]
    fn tcpip_forward_encodes_address_then_port() {
        let mut out = Vec::new();
        GlobalRequest::TcpipForward {
            address: "::".into(),
            port: 22,
        }
        .encode_data(&mut out);
        assert_eq!(out, b"\x00\x00\x00\x02::\x00\x00\x00\x16".to_vec());
    }

    #[test]
    fn host_keys_of_unknown_types_are_left_out() {
        let key = PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(1))
            .unwrap()
            .public_key();
        let mut data = Vec::new();
        data.put_string(b"\x00\x00\x00\x0bssh-unknown\x00\x00\x00\x01x");
        data.put_string(&key.to_blob());
        data.put_string(b"garbage");
        assert_eq!(
            GlobalRequest::decode("hostkeys-00@openssh.com", &data),
            Ok(GlobalRequest::HostKeys(vec![key]))
        );
    }

    #[test]
    fn a_cut_host_key_list_is_malformed() {
        assert!(GlobalRequest::decode("hostkeys-00@openssh.com", &[0, 0, 0, 9, 1]).is_err());
    }

    #[test]
    fn no_more_sessions_carries_nothing() {
        assert_eq!(
            GlobalRequest::decode("no-more-sessions@openssh.com", &[]),
            Ok(GlobalRequest::NoMoreSessions)
        );
        assert!(GlobalRequest::decode("no-more-sessions@openssh.com", &[1]).is_err());
    }
}

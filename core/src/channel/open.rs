//! Channel types (RFC 4254 §6.1, §6.3.2, §7.1, §7.2; OpenSSH PROTOCOL §2.4 and
//! PROTOCOL.agent) and the reasons an open can fail (RFC 4254 §5.1).

use bytes::Bytes;

use super::wire::lossy;
use crate::wire::{Reader, WireError, Writer};

/// What a channel is for: the channel type of SSH_MSG_CHANNEL_OPEN and its
/// type-specific fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelKind {
    /// `session`: a shell, command or subsystem (RFC 4254 §6.1).
    Session,
    /// `x11`: an X11 connection forwarded to the client (RFC 4254 §6.3.2).
    X11 {
        /// Address of the X11 client that connected.
        originator_address: String,
        /// Its port.
        originator_port: u32,
    },
    /// `direct-tcpip`: local port forwarding; the server connects to `host:port`
    /// (RFC 4254 §7.2).
    DirectTcpip {
        /// Host to connect to.
        host: String,
        /// Port to connect to.
        port: u32,
        /// Address the forwarded connection came from.
        originator_address: String,
        /// Port it came from.
        originator_port: u32,
    },
    /// `forwarded-tcpip`: a connection to a port the client asked the server to
    /// listen on (RFC 4254 §7.2).
    ForwardedTcpip {
        /// The address that was connected to.
        address: String,
        /// The port that was connected to.
        port: u32,
        /// Address the connection came from.
        originator_address: String,
        /// Port it came from.
        originator_port: u32,
    },
    /// `direct-streamlocal@openssh.com`: connect to a Unix socket on the server.
    DirectStreamlocal {
        /// The socket path.
        socket_path: String,
    },
    /// `forwarded-streamlocal@openssh.com`: a connection to a Unix socket the client
    /// asked the server to listen on.
    ForwardedStreamlocal {
        /// The socket path.
        socket_path: String,
    },
    /// `auth-agent@openssh.com`: a connection to the client's agent.
    AuthAgent,
    /// A channel type this engine does not know, with its raw type-specific data.
    Unknown {
        /// The channel type name.
        name: String,
        /// The bytes after the maximum packet size field.
        data: Bytes,
    },
}

impl ChannelKind {
    /// The channel type name on the wire.
    pub fn name(&self) -> &str {
        match self {
            Self::Session => "session",
            Self::X11 { .. } => "x11",
            Self::DirectTcpip { .. } => "direct-tcpip",
            Self::ForwardedTcpip { .. } => "forwarded-tcpip",
            Self::DirectStreamlocal { .. } => "direct-streamlocal@openssh.com",
            Self::ForwardedStreamlocal { .. } => "forwarded-streamlocal@openssh.com",
            Self::AuthAgent => "auth-agent@openssh.com",
            Self::Unknown { name, .. } => name,
        }
    }

    /// Appends the type-specific fields that follow the maximum packet size.
    pub(crate) fn encode_data(&self, out: &mut Vec<u8>) {
        match self {
            Self::Session | Self::AuthAgent => {}
            Self::X11 {
                originator_address,
                originator_port,
            } => {
                out.put_string(originator_address.as_bytes());
                out.put_u32(*originator_port);
            }
            Self::DirectTcpip {
                host: a,
                port: p,
                originator_address: oa,
                originator_port: op,
            }
            | Self::ForwardedTcpip {
                address: a,
                port: p,
                originator_address: oa,
                originator_port: op,
            } => {
                out.put_string(a.as_bytes());
                out.put_u32(*p);
                out.put_string(oa.as_bytes());
                out.put_u32(*op);
            }
            Self::DirectStreamlocal { socket_path } => {
                out.put_string(socket_path.as_bytes());
                out.put_string(b"");
                out.put_u32(0);
            }
            Self::ForwardedStreamlocal { socket_path } => {
                out.put_string(socket_path.as_bytes());
                out.put_string(b"");
            }
            Self::Unknown { data, .. } => out.put_raw(data),
        }
    }

    /// Decodes the type-specific fields of a channel type.
    pub(crate) fn decode(name: &str, data: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(data);
        let kind = match name {
            "session" => Self::Session,
            "auth-agent@openssh.com" => Self::AuthAgent,
            "x11" => Self::X11 {
                originator_address: lossy(r.string()?),
                originator_port: r.u32()?,
            },
            "direct-tcpip" => Self::DirectTcpip {
                host: lossy(r.string()?),
                port: r.u32()?,
                originator_address: lossy(r.string()?),
                originator_port: r.u32()?,
            },
            "forwarded-tcpip" => Self::ForwardedTcpip {
                address: lossy(r.string()?),
                port: r.u32()?,
                originator_address: lossy(r.string()?),
                originator_port: r.u32()?,
            },
            "direct-streamlocal@openssh.com" => {
                let socket_path = lossy(r.string()?);
                let _reserved = r.string()?;
                let _reserved = r.u32()?;
                Self::DirectStreamlocal { socket_path }
            }
            "forwarded-streamlocal@openssh.com" => {
                let socket_path = lossy(r.string()?);
                let _reserved = r.string()?;
                Self::ForwardedStreamlocal { socket_path }
            }
            _ => Self::Unknown {
                name: name.to_owned(),
                data: Bytes::copy_from_slice(r.take_rest()),
            },
        };
        r.finish()?;
        Ok(kind)
    }
}

/// Why a channel open was refused (RFC 4254 §5.1, RFC 4250 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFailureReason {
    /// 1: SSH_OPEN_ADMINISTRATIVELY_PROHIBITED.
    AdministrativelyProhibited,
    /// 2: SSH_OPEN_CONNECT_FAILED.
    ConnectFailed,
    /// 3: SSH_OPEN_UNKNOWN_CHANNEL_TYPE.
    UnknownChannelType,
    /// 4: SSH_OPEN_RESOURCE_SHORTAGE.
    ResourceShortage,
    /// A code outside RFC 4250's table.
    Unknown(u32),
}

impl OpenFailureReason {
    /// The wire code.
    pub fn code(self) -> u32 {
        match self {
            Self::AdministrativelyProhibited => 1,
            Self::ConnectFailed => 2,
            Self::UnknownChannelType => 3,
            Self::ResourceShortage => 4,
            Self::Unknown(code) => code,
        }
    }

    /// The reason for a wire code.
    pub fn from_code(code: u32) -> Self {
        match code {
            1 => Self::AdministrativelyProhibited,
            2 => Self::ConnectFailed,
            3 => Self::UnknownChannelType,
            4 => Self::ResourceShortage,
            code => Self::Unknown(code),
        }
    }
}

impl std::fmt::Display for OpenFailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Self::AdministrativelyProhibited => "administratively prohibited",
            Self::ConnectFailed => "connect failed",
            Self::UnknownChannelType => "unknown channel type",
            Self::ResourceShortage => "resource shortage",
            Self::Unknown(code) => return write!(f, "unknown reason {code}"),
        };
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_tcpip_decodes_its_four_fields() {
        let mut data = Vec::new();
        data.put_string(b"example.org");
        data.put_u32(443);
        data.put_string(b"10.1.2.3");
        data.put_u32(50000);
        assert_eq!(
            ChannelKind::decode("direct-tcpip", &data),
            Ok(ChannelKind::DirectTcpip {
                host: "example.org".into(),
                port: 443,
                originator_address: "10.1.2.3".into(),
                originator_port: 50000,
            })
        );
        assert!(ChannelKind::decode("direct-tcpip", &data[..data.len() - 1]).is_err());
    }

    #[test]
    fn a_session_open_carries_no_fields() {
        assert_eq!(
            ChannelKind::decode("session", &[]),
            Ok(ChannelKind::Session)
        );
        assert_eq!(
            ChannelKind::decode("session", &[0]),
            Err(WireError::TrailingBytes(1))
        );
    }

    #[test]
    fn reason_codes_follow_rfc_4250() {
        for (code, reason) in [
            (1, OpenFailureReason::AdministrativelyProhibited),
            (2, OpenFailureReason::ConnectFailed),
            (3, OpenFailureReason::UnknownChannelType),
            (4, OpenFailureReason::ResourceShortage),
            (9, OpenFailureReason::Unknown(9)),
        ] {
            assert_eq!(OpenFailureReason::from_code(code), reason);
            assert_eq!(reason.code(), code);
        }
    }
}

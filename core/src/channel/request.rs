//! Channel requests (RFC 4254 §6.2-§6.10, RFC 4335, OpenSSH PROTOCOL and
//! PROTOCOL.agent), typed.

use bytes::Bytes;

use super::pty::PtyRequest;
use super::wire::lossy;
use crate::transport::Role;
use crate::wire::{Reader, WireError, Writer};

/// An `x11-req`: forward X11 connections to the client (RFC 4254 §6.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X11Request {
    /// Forward only one connection.
    pub single_connection: bool,
    /// The X11 authentication protocol (e.g. `MIT-MAGIC-COOKIE-1`).
    pub auth_protocol: String,
    /// The authentication cookie, hex-encoded.
    pub auth_cookie: String,
    /// The X11 screen number.
    pub screen: u32,
}

/// A channel request and its type-specific fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelRequest {
    /// `pty-req`: allocate a pseudo-terminal (RFC 4254 §6.2).
    Pty(PtyRequest),
    /// `x11-req`: X11 forwarding (RFC 4254 §6.3.1).
    X11(X11Request),
    /// `env`: set an environment variable (RFC 4254 §6.4).
    Env {
        /// Variable name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `shell`: start the user's shell (RFC 4254 §6.5).
    Shell,
    /// `exec`: run a command (RFC 4254 §6.5). The command is bytes, as a shell
    /// receives it.
    Exec {
        /// The command line.
        command: Vec<u8>,
    },
    /// `subsystem`: start a subsystem such as `sftp` (RFC 4254 §6.5).
    Subsystem {
        /// The subsystem name.
        name: String,
    },
    /// `window-change`: the terminal was resized (RFC 4254 §6.7).
    WindowChange {
        /// Width in characters.
        cols: u32,
        /// Height in rows.
        rows: u32,
        /// Width in pixels.
        width_px: u32,
        /// Height in pixels.
        height_px: u32,
    },
    /// `xon-xoff`: whether the client may do ^S/^Q flow control locally
    /// (RFC 4254 §6.8).
    XonXoff {
        /// The client can do it.
        client_can_do: bool,
    },
    /// `signal`: deliver a signal to the remote process (RFC 4254 §6.9).
    Signal {
        /// The signal name without the `SIG` prefix (`INT`, `TERM`, ...).
        name: String,
    },
    /// `exit-status`: the remote command exited with this status (RFC 4254 §6.10).
    ExitStatus(u32),
    /// `exit-signal`: the remote command was killed by a signal (RFC 4254 §6.10).
    ExitSignal {
        /// The signal name without the `SIG` prefix.
        name: String,
        /// Whether it dumped core.
        core_dumped: bool,
        /// An error message for the user (control characters removed on receipt).
        message: String,
    },
    /// `break`: send a BREAK of `ms` milliseconds to a serial line (RFC 4335).
    Break {
        /// Length of the break in milliseconds.
        ms: u32,
    },
    /// `auth-agent-req@openssh.com`: forward the client's agent.
    AuthAgent,
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

impl ChannelRequest {
    /// The request name on the wire.
    pub fn name(&self) -> &str {
        match self {
            Self::Pty(_) => "pty-req",
            Self::X11(_) => "x11-req",
            Self::Env { .. } => "env",
            Self::Shell => "shell",
            Self::Exec { .. } => "exec",
            Self::Subsystem { .. } => "subsystem",
            Self::WindowChange { .. } => "window-change",
            Self::XonXoff { .. } => "xon-xoff",
            Self::Signal { .. } => "signal",
            Self::ExitStatus(_) => "exit-status",
            Self::ExitSignal { .. } => "exit-signal",
            Self::Break { .. } => "break",
            Self::AuthAgent => "auth-agent-req@openssh.com",
            Self::KeepAlive => "keepalive@openssh.com",
            Self::Unknown { name, .. } => name,
        }
    }

    /// Which side sends this request on a session channel, when only one does.
    pub(crate) fn sender(&self) -> Option<Role> {
        match self {
            Self::Pty(_)
            | Self::X11(_)
            | Self::Env { .. }
            | Self::Shell
            | Self::Exec { .. }
            | Self::Subsystem { .. }
            | Self::WindowChange { .. }
            | Self::Signal { .. }
            | Self::Break { .. }
            | Self::AuthAgent => Some(Role::Client),
            Self::XonXoff { .. } | Self::ExitStatus(_) | Self::ExitSignal { .. } => {
                Some(Role::Server)
            }
            Self::KeepAlive | Self::Unknown { .. } => None,
        }
    }

    /// The name of a request that only the other side sends, as a `'static` string
    /// for [`ChannelError::WrongSide`](super::ChannelError::WrongSide).
    pub(crate) fn static_name(&self) -> &'static str {
        match self {
            Self::Pty(_) => "pty-req",
            Self::X11(_) => "x11-req",
            Self::Env { .. } => "env",
            Self::Shell => "shell",
            Self::Exec { .. } => "exec",
            Self::Subsystem { .. } => "subsystem",
            Self::WindowChange { .. } => "window-change",
            Self::XonXoff { .. } => "xon-xoff",
            Self::Signal { .. } => "signal",
            Self::ExitStatus(_) => "exit-status",
            Self::ExitSignal { .. } => "exit-signal",
            Self::Break { .. } => "break",
            Self::AuthAgent => "auth-agent-req@openssh.com",
            Self::KeepAlive => "keepalive@openssh.com",
            Self::Unknown { .. } => "unknown",
        }
    }

    /// Appends the type-specific fields that follow `want reply`.
    pub(crate) fn encode_data(&self, out: &mut Vec<u8>) {
        match self {
            Self::Pty(pty) => pty.encode(out),
            Self::X11(x11) => {
                out.put_bool(x11.single_connection);
                out.put_string(x11.auth_protocol.as_bytes());
                out.put_string(x11.auth_cookie.as_bytes());
                out.put_u32(x11.screen);
            }
            Self::Env { name, value } => {
                out.put_string(name.as_bytes());
                out.put_string(value.as_bytes());
            }
            Self::Shell | Self::AuthAgent | Self::KeepAlive => {}
            Self::Exec { command } => out.put_string(command),
            Self::Subsystem { name } | Self::Signal { name } => out.put_string(name.as_bytes()),
            Self::WindowChange {
                cols,
                rows,
                width_px,
                height_px,
            } => {
                for v in [cols, rows, width_px, height_px] {
                    out.put_u32(*v);
                }
            }
            Self::XonXoff { client_can_do } => out.put_bool(*client_can_do),
            Self::ExitStatus(status) => out.put_u32(*status),
            Self::ExitSignal {
                name,
                core_dumped,
                message,
            } => {
                out.put_string(name.as_bytes());
                out.put_bool(*core_dumped);
                out.put_string(message.as_bytes());
                out.put_string(b"");
            }
            Self::Break { ms } => out.put_u32(*ms),
            Self::Unknown { data, .. } => out.put_raw(data),
        }
    }

    /// Decodes the type-specific fields of request `name`. Known requests must be
    /// well-formed, with no trailing bytes.
    pub(crate) fn decode(name: &str, data: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(data);
        let request = match name {
            "pty-req" => Self::Pty(PtyRequest::decode(&mut r)?),
            "x11-req" => Self::X11(X11Request {
                single_connection: r.bool()?,
                auth_protocol: lossy(r.string()?),
                auth_cookie: lossy(r.string()?),
                screen: r.u32()?,
            }),
            "env" => Self::Env {
                name: lossy(r.string()?),
                value: lossy(r.string()?),
            },
            "shell" => Self::Shell,
            "exec" => Self::Exec {
                command: r.string()?.to_vec(),
            },
            "subsystem" => Self::Subsystem {
                name: lossy(r.string()?),
            },
            "window-change" => Self::WindowChange {
                cols: r.u32()?,
                rows: r.u32()?,
                width_px: r.u32()?,
                height_px: r.u32()?,
            },
            "xon-xoff" => Self::XonXoff {
                client_can_do: r.bool()?,
            },
            "signal" => Self::Signal {
                name: lossy(r.string()?),
            },
            "exit-status" => Self::ExitStatus(r.u32()?),
            "exit-signal" => {
                let name = lossy(r.string()?);
                let core_dumped = r.bool()?;
                let message = crate::event::sanitize(&lossy(r.string()?));
                let _language = r.string()?;
                Self::ExitSignal {
                    name,
                    core_dumped,
                    message,
                }
            }
            "break" => Self::Break { ms: r.u32()? },
            "auth-agent-req@openssh.com" => Self::AuthAgent,
            "keepalive@openssh.com" => {
                // A probe's payload means nothing; some peers pad it.
                r.take_rest();
                Self::KeepAlive
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

    #[test]
    fn exit_signal_encodes_as_rfc_4254_lays_it_out() {
        let request = ChannelRequest::ExitSignal {
            name: "TERM".into(),
            core_dumped: false,
            message: "bye".into(),
        };
        let mut out = Vec::new();
        request.encode_data(&mut out);
        assert_eq!(
            out,
            b"\x00\x00\x00\x04TERM\x00\x00\x00\x00\x03bye\x00\x00\x00\x00".to_vec()
        );
        assert_eq!(ChannelRequest::decode("exit-signal", &out), Ok(request));
    }

    #[test]
    fn exit_signal_message_loses_control_characters() {
        let mut data = Vec::new();
        ChannelRequest::ExitSignal {
            name: "HUP".into(),
            core_dumped: false,
            message: "\x1b[2Jgone".into(),
        }
        .encode_data(&mut data);
        match ChannelRequest::decode("exit-signal", &data) {
            Ok(ChannelRequest::ExitSignal { message, .. }) => assert_eq!(message, "[2Jgone"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn window_change_and_break_are_plain_integers() {
        let mut out = Vec::new();
        ChannelRequest::WindowChange {
            cols: 1,
            rows: 2,
            width_px: 3,
            height_px: 4,
        }
        .encode_data(&mut out);
        assert_eq!(out, [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
        assert_eq!(
            ChannelRequest::decode("break", &[0, 0, 1, 0]),
            Ok(ChannelRequest::Break { ms: 256 })
        );
    }

    #[test]
    fn a_known_request_with_trailing_bytes_is_rejected() {
        assert_eq!(
            ChannelRequest::decode("shell", &[0]),
            Err(WireError::TrailingBytes(1))
        );
        assert!(ChannelRequest::decode("exit-status", &[0, 0, 1]).is_err());
    }

    #[test]
    fn keepalive_tolerates_a_payload() {
        assert_eq!(
            ChannelRequest::decode("keepalive@openssh.com", b"pad"),
            Ok(ChannelRequest::KeepAlive)
        );
    }

    #[test]
    fn an_unknown_request_keeps_its_name_and_data() {
        assert_eq!(
            ChannelRequest::decode("eow@openssh.com", b""),
            Ok(ChannelRequest::Unknown {
                name: "eow@openssh.com".into(),
                data: Bytes::new()
            })
        );
    }

    #[test]
    fn each_session_request_names_its_sender() {
        assert_eq!(ChannelRequest::Shell.sender(), Some(Role::Client));
        assert_eq!(ChannelRequest::ExitStatus(0).sender(), Some(Role::Server));
        assert_eq!(ChannelRequest::KeepAlive.sender(), None);
    }
}

//! Connection protocol messages (RFC 4254 §4, §5): decoding of messages 80..=100 and
//! encoders for the ones we send.

use crate::wire::{Reader, WireError, Writer, msg};

/// SSH_EXTENDED_DATA_STDERR (RFC 4254 §5.2).
pub(crate) const EXTENDED_DATA_STDERR: u32 = 1;

/// Converts peer text to a `String`, replacing invalid UTF-8 rather than failing:
/// peers send names and paths in whatever encoding their system uses.
pub(crate) fn lossy(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// A decoded connection protocol message, borrowing from the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConnectionMessage<'a> {
    GlobalRequest {
        name: &'a str,
        want_reply: bool,
        data: &'a [u8],
    },
    RequestSuccess {
        data: &'a [u8],
    },
    RequestFailure,
    Open {
        kind: &'a str,
        sender: u32,
        window: u32,
        max_packet: u32,
        data: &'a [u8],
    },
    OpenConfirmation {
        recipient: u32,
        sender: u32,
        window: u32,
        max_packet: u32,
    },
    OpenFailure {
        recipient: u32,
        reason: u32,
        description: String,
    },
    WindowAdjust {
        recipient: u32,
        bytes: u32,
    },
    Data {
        recipient: u32,
        data: &'a [u8],
    },
    ExtendedData {
        recipient: u32,
        code: u32,
        data: &'a [u8],
    },
    Eof {
        recipient: u32,
    },
    Close {
        recipient: u32,
    },
    Request {
        recipient: u32,
        name: &'a str,
        want_reply: bool,
        data: &'a [u8],
    },
    Success {
        recipient: u32,
    },
    Failure {
        recipient: u32,
    },
}

impl<'a> ConnectionMessage<'a> {
    /// Decodes messages 80..=100; `Ok(None)` for other numbers.
    pub(crate) fn decode(payload: &'a [u8]) -> Result<Option<Self>, WireError> {
        let mut r = Reader::new(payload);
        let message = match r.u8()? {
            msg::GLOBAL_REQUEST => Self::GlobalRequest {
                name: r.utf8()?,
                want_reply: r.bool()?,
                data: r.take_rest(),
            },
            msg::REQUEST_SUCCESS => Self::RequestSuccess {
                data: r.take_rest(),
            },
            msg::REQUEST_FAILURE => Self::RequestFailure,
            msg::CHANNEL_OPEN => Self::Open {
                kind: r.utf8()?,
                sender: r.u32()?,
                window: r.u32()?,
                max_packet: r.u32()?,
                data: r.take_rest(),
            },
            msg::CHANNEL_OPEN_CONFIRMATION => {
                let message = Self::OpenConfirmation {
                    recipient: r.u32()?,
                    sender: r.u32()?,
                    window: r.u32()?,
                    max_packet: r.u32()?,
                };
                // Channel-type-specific data may follow; no type we open defines any.
                r.take_rest();
                message
            }
            msg::CHANNEL_OPEN_FAILURE => {
                let recipient = r.u32()?;
                let reason = r.u32()?;
                let description = crate::event::sanitize(&lossy(r.string()?));
                // Some old peers leave the language tag out.
                if r.remaining() > 0 {
                    r.string()?;
                }
                Self::OpenFailure {
                    recipient,
                    reason,
                    description,
                }
            }
            msg::CHANNEL_WINDOW_ADJUST => Self::WindowAdjust {
                recipient: r.u32()?,
                bytes: r.u32()?,
            },
            msg::CHANNEL_DATA => Self::Data {
                recipient: r.u32()?,
                data: r.string()?,
            },
            msg::CHANNEL_EXTENDED_DATA => Self::ExtendedData {
                recipient: r.u32()?,
                code: r.u32()?,
                data: r.string()?,
            },
            msg::CHANNEL_EOF => Self::Eof {
                recipient: r.u32()?,
            },
            msg::CHANNEL_CLOSE => Self::Close {
                recipient: r.u32()?,
            },
            msg::CHANNEL_REQUEST => Self::Request {
                recipient: r.u32()?,
                name: r.utf8()?,
                want_reply: r.bool()?,
                data: r.take_rest(),
            },
            msg::CHANNEL_SUCCESS => Self::Success {
                recipient: r.u32()?,
            },
            msg::CHANNEL_FAILURE => Self::Failure {
                recipient: r.u32()?,
            },
            _ => return Ok(None),
        };
        r.finish()?;
        Ok(Some(message))
    }
}

/// A message whose body is just the recipient channel (EOF, CLOSE, SUCCESS, FAILURE).
pub(crate) fn encode_channel_only(number: u8, recipient: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    out.put_u8(number);
    out.put_u32(recipient);
    out
}

pub(crate) fn encode_open(
    kind: &super::ChannelKind,
    sender: u32,
    window: u32,
    max_packet: u32,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.put_u8(msg::CHANNEL_OPEN);
    out.put_string(kind.name().as_bytes());
    out.put_u32(sender);
    out.put_u32(window);
    out.put_u32(max_packet);
    kind.encode_data(&mut out);
    out
}

pub(crate) fn encode_open_confirmation(
    recipient: u32,
    sender: u32,
    window: u32,
    max_packet: u32,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(17);
    out.put_u8(msg::CHANNEL_OPEN_CONFIRMATION);
    out.put_u32(recipient);
    out.put_u32(sender);
    out.put_u32(window);
    out.put_u32(max_packet);
    out
}

pub(crate) fn encode_open_failure(recipient: u32, reason: u32, description: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(17 + description.len());
    out.put_u8(msg::CHANNEL_OPEN_FAILURE);
    out.put_u32(recipient);
    out.put_u32(reason);
    out.put_string(description.as_bytes());
    out.put_string(b"");
    out
}

pub(crate) fn encode_window_adjust(recipient: u32, bytes: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    out.put_u8(msg::CHANNEL_WINDOW_ADJUST);
    out.put_u32(recipient);
    out.put_u32(bytes);
    out
}

/// Writes the header of CHANNEL_DATA (`ext` None) or CHANNEL_EXTENDED_DATA into
/// `out`, which the caller then extends with exactly `len` bytes of data.
pub(crate) fn put_data_header(out: &mut Vec<u8>, recipient: u32, ext: Option<u32>, len: usize) {
    match ext {
        None => out.put_u8(msg::CHANNEL_DATA),
        Some(code) => {
            out.put_u8(msg::CHANNEL_EXTENDED_DATA);
            out.put_u32(recipient);
            out.put_u32(code);
            out.put_u32(len as u32);
            return;
        }
    }
    out.put_u32(recipient);
    out.put_u32(len as u32);
}

pub(crate) fn encode_channel_request(
    recipient: u32,
    request: &super::ChannelRequest,
    want_reply: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.put_u8(msg::CHANNEL_REQUEST);
    out.put_u32(recipient);
    out.put_string(request.name().as_bytes());
    out.put_bool(want_reply);
    request.encode_data(&mut out);
    out
}

pub(crate) fn encode_global_request(request: &super::GlobalRequest, want_reply: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.put_u8(msg::GLOBAL_REQUEST);
    out.put_string(request.name().as_bytes());
    out.put_bool(want_reply);
    request.encode_data(&mut out);
    out
}

/// REQUEST_SUCCESS (with the bound port when a `tcpip-forward` asked for port 0)
/// or REQUEST_FAILURE.
pub(crate) fn encode_global_reply(success: bool, bound_port: Option<u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    if success {
        out.put_u8(msg::REQUEST_SUCCESS);
        if let Some(port) = bound_port {
            out.put_u32(port);
        }
    } else {
        out.put_u8(msg::REQUEST_FAILURE);
    }
    out
}

/// Overwrites the recipient channel of an encoded channel message (bytes 1..5): our
/// messages for a channel still being opened are built before the peer's number is
/// known.
pub(crate) fn set_recipient(payload: &mut [u8], recipient: u32) {
    if let Some(field) = payload.get_mut(1..5) {
        field.copy_from_slice(&recipient.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_header_lengths_match_the_encoding() {
        let mut out = Vec::new();
        put_data_header(&mut out, 7, None, 3);
        // Number, recipient, string length.
        assert_eq!(out.len(), 9);
        out.clear();
        put_data_header(&mut out, 7, Some(EXTENDED_DATA_STDERR), 3);
        // And the type code.
        assert_eq!(out.len(), 13);
        out.extend_from_slice(b"abc");
        assert_eq!(
            ConnectionMessage::decode(&out).unwrap(),
            Some(ConnectionMessage::ExtendedData {
                recipient: 7,
                code: 1,
                data: b"abc"
            })
        );
    }

    #[test]
    fn open_failure_without_language_tag_decodes() {
        let mut m = vec![msg::CHANNEL_OPEN_FAILURE];
        m.put_u32(1);
        m.put_u32(2);
        m.put_string(b"no\x07");
        assert_eq!(
            ConnectionMessage::decode(&m).unwrap(),
            Some(ConnectionMessage::OpenFailure {
                recipient: 1,
                reason: 2,
                description: "no".into()
            })
        );
    }

    #[test]
    fn trailing_bytes_after_a_fixed_message_are_rejected() {
        let mut m = encode_window_adjust(1, 2);
        m.push(0);
        assert_eq!(
            ConnectionMessage::decode(&m),
            Err(WireError::TrailingBytes(1))
        );
    }

    #[test]
    fn recipient_can_be_filled_in_later() {
        let mut m = encode_channel_only(msg::CHANNEL_EOF, 0);
        set_recipient(&mut m, 0x01020304);
        assert_eq!(m, [msg::CHANNEL_EOF, 1, 2, 3, 4]);
    }
}

//! Responses from server to client ([draft-ietf-secsh-filexfer-02 §7]): the typed
//! [`Reply`] both engines share, which replies answer which requests, the server's
//! encoding and the client's decoding.
//!
//! [draft-ietf-secsh-filexfer-02 §7]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt

use bytes::Bytes;

use crate::sftp::error::{DecodeError, PeerMisbehaved};
use crate::sftp::extensions::{decode_names, encode_names};
use crate::sftp::status::sanitize;
use crate::sftp::wire::{begin_packet, end_packet, fxp};
use crate::sftp::{
    FileAttributes, Handle, Limits, Name, RequestId, RequestKind, SftpError, StatVfs, StatusCode,
};
use crate::wire::{Reader, Writer};

/// A successful answer to a request.
///
/// The server engine takes `Result<Reply, SftpError>` in `respond`; the client engine
/// reports the same type in its `Response` event. `Ok` and `Eof` travel as
/// SSH_FXP_STATUS; an `SftpError` travels as SSH_FXP_STATUS with its code.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// SSH_FX_OK: the request succeeded and returns nothing.
    Ok,
    /// SSH_FX_EOF to READ (no data at that offset) or READDIR (no more names).
    Eof,
    /// SSH_FXP_HANDLE: the handle of a file or directory just opened.
    Handle(Handle),
    /// SSH_FXP_DATA: bytes read (possibly fewer than asked).
    Data(Bytes),
    /// SSH_FXP_NAME: directory entries, or the one name of REALPATH, READLINK,
    /// `expand-path@openssh.com` and `home-directory`.
    Names(Vec<Name>),
    /// SSH_FXP_ATTRS: a file's attributes.
    Attrs(FileAttributes),
    /// The reply of `statvfs@openssh.com` and `fstatvfs@openssh.com`.
    StatVfs(StatVfs),
    /// The reply of `limits@openssh.com`.
    Limits(Limits),
    /// The reply of `users-groups-by-id@openssh.com`: names in request order, empty
    /// where an id has no name.
    UsersGroups {
        /// One name per requested uid.
        users: Vec<String>,
        /// One name per requested gid.
        groups: Vec<String>,
    },
    /// SSH_FXP_EXTENDED_REPLY to an extension this crate does not know: its raw data.
    Extended(Bytes),
}

impl Reply {
    /// The reply's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Ok => "status OK",
            Self::Eof => "status EOF",
            Self::Handle(_) => "HANDLE",
            Self::Data(_) => "DATA",
            Self::Names(_) => "NAME",
            Self::Attrs(_) => "ATTRS",
            Self::StatVfs(_) => "statvfs reply",
            Self::Limits(_) => "limits reply",
            Self::UsersGroups { .. } => "users-groups reply",
            Self::Extended(_) => "EXTENDED_REPLY",
        }
    }
}

impl RequestKind {
    /// True when `reply` is a valid success answer to this kind of request.
    pub fn accepts(self, reply: &Reply) -> bool {
        use RequestKind as K;
        match reply {
            Reply::Ok => !matches!(
                self,
                K::Open
                    | K::Opendir
                    | K::Read
                    | K::Readdir
                    | K::Lstat
                    | K::Fstat
                    | K::Stat
                    | K::Realpath
                    | K::Readlink
                    | K::ExpandPath
                    | K::HomeDirectory
                    | K::Statvfs
                    | K::Fstatvfs
                    | K::Limits
                    | K::UsersGroupsById
            ),
            Reply::Eof => matches!(self, K::Read | K::Readdir),
            Reply::Handle(_) => matches!(self, K::Open | K::Opendir),
            Reply::Data(_) => self == K::Read,
            Reply::Names(_) => matches!(
                self,
                K::Readdir | K::Realpath | K::Readlink | K::ExpandPath | K::HomeDirectory
            ),
            Reply::Attrs(_) => matches!(self, K::Lstat | K::Fstat | K::Stat),
            Reply::StatVfs(_) => matches!(self, K::Statvfs | K::Fstatvfs),
            Reply::Limits(_) => self == K::Limits,
            Reply::UsersGroups { .. } => self == K::UsersGroupsById,
            Reply::Extended(_) => self == K::Extended,
        }
    }
}

/// Appends the response packet for `result` to request `id`.
pub(crate) fn encode_response(out: &mut Vec<u8>, id: RequestId, result: &Result<Reply, SftpError>) {
    let reply = match result {
        Err(e) => return encode_status(out, id, e.code, &e.message, &e.language),
        Ok(reply) => reply,
    };
    let ty = match reply {
        Reply::Ok => return encode_status(out, id, StatusCode::Ok, "Success", ""),
        Reply::Eof => return encode_status(out, id, StatusCode::Eof, "End of file", ""),
        Reply::Handle(_) => fxp::HANDLE,
        Reply::Data(_) => fxp::DATA,
        Reply::Names(_) => fxp::NAME,
        Reply::Attrs(_) => fxp::ATTRS,
        Reply::StatVfs(_) | Reply::Limits(_) | Reply::UsersGroups { .. } | Reply::Extended(_) => {
            fxp::EXTENDED_REPLY
        }
    };
    let start = begin_packet(out, ty);
    out.put_u32(id.0);
    match reply {
        Reply::Ok | Reply::Eof => {}
        Reply::Handle(h) => out.put_string(h.as_bytes()),
        Reply::Data(d) => out.put_string(d),
        Reply::Names(names) => {
            out.put_u32(u32::try_from(names.len()).unwrap_or(u32::MAX));
            for n in names {
                out.put_string(&n.filename);
                out.put_string(&n.longname);
                n.attrs.encode(out);
            }
        }
        Reply::Attrs(a) => a.encode(out),
        Reply::StatVfs(s) => s.encode(out),
        Reply::Limits(l) => l.encode(out),
        Reply::UsersGroups { users, groups } => {
            out.put_string(&encode_names(users));
            out.put_string(&encode_names(groups));
        }
        Reply::Extended(data) => out.put_raw(data),
    }
    end_packet(out, start);
}

/// Appends an SSH_FXP_STATUS packet.
pub(crate) fn encode_status(
    out: &mut Vec<u8>,
    id: RequestId,
    code: StatusCode,
    message: &str,
    language: &str,
) {
    let start = begin_packet(out, fxp::STATUS);
    out.put_u32(id.0);
    out.put_u32(code.to_u32());
    out.put_string(message.as_bytes());
    out.put_string(language.as_bytes());
    end_packet(out, start);
}

/// Decodes the body (after the id) of a response of packet type `ty` to a request of
/// `kind`. A status is a per-request result; a reply of the wrong type, or one that
/// does not decode, is the server's fault and ends the session.
pub(crate) fn decode_response(
    kind: RequestKind,
    ty: u8,
    packet: &Bytes,
    r: &mut Reader<'_>,
) -> Result<Result<Reply, SftpError>, PeerMisbehaved> {
    let malformed = |error: DecodeError| PeerMisbehaved::MalformedResponse {
        packet_type: ty,
        error,
    };
    if ty == fxp::STATUS {
        return decode_status(kind, r).map_err(malformed);
    }
    let reply = decode_reply(kind, ty, packet, r).map_err(malformed)?;
    match reply {
        Some(reply) if kind.accepts(&reply) => Ok(Ok(reply)),
        _ => Err(PeerMisbehaved::UnexpectedReply {
            request: kind,
            reply: ty,
        }),
    }
}

fn decode_status(
    kind: RequestKind,
    r: &mut Reader<'_>,
) -> Result<Result<Reply, SftpError>, DecodeError> {
    let code = StatusCode::from_u32(r.u32()?);
    // Some old servers end the status after the code; OpenSSH accepts that too.
    let (message, language) = if r.remaining() == 0 {
        (code.default_message().to_owned(), String::new())
    } else {
        (sanitize(r.string()?), sanitize(r.string()?))
    };
    r.finish()?;
    Ok(match code {
        StatusCode::Ok if kind.accepts(&Reply::Ok) => Ok(Reply::Ok),
        StatusCode::Eof if kind.accepts(&Reply::Eof) => Ok(Reply::Eof),
        code => Err(SftpError {
            code,
            message,
            language,
        }),
    })
}

fn decode_reply(
    kind: RequestKind,
    ty: u8,
    packet: &Bytes,
    r: &mut Reader<'_>,
) -> Result<Option<Reply>, DecodeError> {
    let reply = match ty {
        fxp::HANDLE => {
            let raw = r.string()?;
            if raw.len() > Handle::MAX_LEN {
                return Err(DecodeError::HandleTooLong(raw.len()));
            }
            Reply::Handle(Handle::new(packet.slice_ref(raw)))
        }
        fxp::DATA => Reply::Data(packet.slice_ref(r.string()?)),
        fxp::NAME => {
            let count = r.u32()?;
            let mut names = Vec::new();
            for _ in 0..count {
                names.push(Name {
                    filename: r.string()?.to_vec(),
                    longname: r.string()?.to_vec(),
                    attrs: FileAttributes::decode(r)?,
                });
            }
            Reply::Names(names)
        }
        fxp::ATTRS => Reply::Attrs(FileAttributes::decode(r)?),
        fxp::EXTENDED_REPLY => match kind {
            RequestKind::Statvfs | RequestKind::Fstatvfs => Reply::StatVfs(StatVfs::decode(r)?),
            RequestKind::Limits => Reply::Limits(Limits::decode(r)?),
            RequestKind::UsersGroupsById => Reply::UsersGroups {
                users: decode_names(r.string()?)?,
                groups: decode_names(r.string()?)?,
            },
            RequestKind::Extended => Reply::Extended(packet.slice_ref(r.take_rest())),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    r.finish()?;
    Ok(Some(reply))
}

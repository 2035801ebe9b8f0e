//! Requests from client to server ([draft-ietf-secsh-filexfer-02 §6]) and the OpenSSH
//! extension requests ([OpenSSH PROTOCOL §4]), typed, with their encoding.
//!
//! [draft-ietf-secsh-filexfer-02 §6]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt
//! [OpenSSH PROTOCOL §4]: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL

use bytes::Bytes;

use crate::sftp::error::DecodeError;
use crate::sftp::extensions::{decode_ids, encode_ids};
use crate::sftp::wire::{begin_packet, end_packet, fxp};
use crate::sftp::{Extension, FileAttributes, Handle, OpenFlags, RequestId};
use crate::wire::{Reader, Writer};

/// A request, as the client sends it and the server receives it.
///
/// Paths are raw bytes: version 3 defines no character set, and Unix file names are
/// bytes. Relative paths are relative to the server's idea of the current directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// SSH_FXP_OPEN: open or create a file; answered with a handle.
    Open {
        /// The file.
        path: Vec<u8>,
        /// How to open it.
        flags: OpenFlags,
        /// Attributes for a file created by this open.
        attrs: FileAttributes,
    },
    /// SSH_FXP_CLOSE: close a file or directory handle.
    Close {
        /// The handle.
        handle: Handle,
    },
    /// SSH_FXP_READ: read up to `len` bytes at `offset`; answered with data or EOF.
    Read {
        /// An open file.
        handle: Handle,
        /// Where to read.
        offset: u64,
        /// How many bytes at most.
        len: u32,
    },
    /// SSH_FXP_WRITE: write `data` at `offset`.
    Write {
        /// An open file.
        handle: Handle,
        /// Where to write.
        offset: u64,
        /// The bytes.
        data: Bytes,
    },
    /// SSH_FXP_LSTAT: attributes, not following a final symlink.
    Lstat {
        /// The file.
        path: Vec<u8>,
    },
    /// SSH_FXP_FSTAT: attributes of an open file.
    Fstat {
        /// An open file.
        handle: Handle,
    },
    /// SSH_FXP_SETSTAT: change attributes (following symlinks).
    Setstat {
        /// The file.
        path: Vec<u8>,
        /// The fields to change.
        attrs: FileAttributes,
    },
    /// SSH_FXP_FSETSTAT: change attributes of an open file.
    Fsetstat {
        /// An open file.
        handle: Handle,
        /// The fields to change.
        attrs: FileAttributes,
    },
    /// SSH_FXP_OPENDIR: open a directory for listing; answered with a handle.
    Opendir {
        /// The directory.
        path: Vec<u8>,
    },
    /// SSH_FXP_READDIR: the next names of an open directory, or EOF.
    Readdir {
        /// An open directory.
        handle: Handle,
    },
    /// SSH_FXP_REMOVE: remove a file.
    Remove {
        /// The file.
        path: Vec<u8>,
    },
    /// SSH_FXP_MKDIR: create a directory.
    Mkdir {
        /// The new directory.
        path: Vec<u8>,
        /// Its initial attributes.
        attrs: FileAttributes,
    },
    /// SSH_FXP_RMDIR: remove an empty directory.
    Rmdir {
        /// The directory.
        path: Vec<u8>,
    },
    /// SSH_FXP_REALPATH: canonicalise a path; answered with one name.
    Realpath {
        /// The path (`.` for the current directory).
        path: Vec<u8>,
    },
    /// SSH_FXP_STAT: attributes, following symlinks.
    Stat {
        /// The file.
        path: Vec<u8>,
    },
    /// SSH_FXP_RENAME: rename; fails if `to` exists.
    Rename {
        /// The current name.
        from: Vec<u8>,
        /// The new name.
        to: Vec<u8>,
    },
    /// SSH_FXP_READLINK: a symlink's target; answered with one name.
    Readlink {
        /// The symlink.
        path: Vec<u8>,
    },
    /// SSH_FXP_SYMLINK: create a symlink at `link` pointing to `target`.
    ///
    /// On the wire `target` comes first: the order OpenSSH uses, reversed from the
    /// draft ([OpenSSH PROTOCOL §4.1]), which is what every deployed peer expects.
    ///
    /// [OpenSSH PROTOCOL §4.1]: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL
    Symlink {
        /// What the link points to.
        target: Vec<u8>,
        /// The link to create.
        link: Vec<u8>,
    },
    /// `posix-rename@openssh.com`: rename, replacing `to` if it exists.
    PosixRename {
        /// The current name.
        from: Vec<u8>,
        /// The new name.
        to: Vec<u8>,
    },
    /// `statvfs@openssh.com`: file system statistics.
    Statvfs {
        /// Any path on the file system.
        path: Vec<u8>,
    },
    /// `fstatvfs@openssh.com`: file system statistics of an open file.
    Fstatvfs {
        /// An open file.
        handle: Handle,
    },
    /// `hardlink@openssh.com`: create a hard link at `link` to the file `target`.
    Hardlink {
        /// The existing file.
        target: Vec<u8>,
        /// The new name.
        link: Vec<u8>,
    },
    /// `fsync@openssh.com`: flush an open file to stable storage.
    Fsync {
        /// An open file.
        handle: Handle,
    },
    /// `lsetstat@openssh.com`: change attributes without following a final symlink.
    Lsetstat {
        /// The file.
        path: Vec<u8>,
        /// The fields to change.
        attrs: FileAttributes,
    },
    /// `limits@openssh.com`: the server's limits.
    Limits,
    /// `expand-path@openssh.com`: canonicalise, expanding `~` and `~user`.
    ExpandPath {
        /// The path.
        path: Vec<u8>,
    },
    /// `copy-data`: copy `len` bytes (0: to end of file) between open files.
    CopyData {
        /// The file to read.
        read_handle: Handle,
        /// Where to start reading.
        read_offset: u64,
        /// How many bytes; 0 copies until end of file.
        len: u64,
        /// The file to write (must differ from `read_handle`).
        write_handle: Handle,
        /// Where to start writing.
        write_offset: u64,
    },
    /// `home-directory`: a user's home directory; answered with one name.
    HomeDirectory {
        /// The user; empty for the session's user.
        username: Vec<u8>,
    },
    /// `users-groups-by-id@openssh.com`: names for numeric ids.
    UsersGroupsById {
        /// User ids to name.
        uids: Vec<u32>,
        /// Group ids to name.
        gids: Vec<u32>,
    },
    /// An extension request this crate does not know: its name and raw data.
    Extended {
        /// The request name.
        name: String,
        /// Everything after the name.
        data: Bytes,
    },
}

/// Which request a response answers; decides how the response is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // one variant per `Request` variant, same names
pub enum RequestKind {
    Open,
    Close,
    Read,
    Write,
    Lstat,
    Fstat,
    Setstat,
    Fsetstat,
    Opendir,
    Readdir,
    Remove,
    Mkdir,
    Rmdir,
    Realpath,
    Stat,
    Rename,
    Readlink,
    Symlink,
    PosixRename,
    Statvfs,
    Fstatvfs,
    Hardlink,
    Fsync,
    Lsetstat,
    Limits,
    ExpandPath,
    CopyData,
    HomeDirectory,
    UsersGroupsById,
    Extended,
}

impl RequestKind {
    /// The extension this request needs, if any.
    pub fn extension(self) -> Option<Extension> {
        Some(match self {
            Self::PosixRename => Extension::PosixRename,
            Self::Statvfs => Extension::Statvfs,
            Self::Fstatvfs => Extension::Fstatvfs,
            Self::Hardlink => Extension::Hardlink,
            Self::Fsync => Extension::Fsync,
            Self::Lsetstat => Extension::Lsetstat,
            Self::Limits => Extension::Limits,
            Self::ExpandPath => Extension::ExpandPath,
            Self::CopyData => Extension::CopyData,
            Self::HomeDirectory => Extension::HomeDirectory,
            Self::UsersGroupsById => Extension::UsersGroupsById,
            _ => return None,
        })
    }
}

/// What kind of handle a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandleUse {
    /// A file or a directory (CLOSE).
    Any,
    /// An open file.
    File,
    /// An open directory.
    Dir,
}

impl Request {
    /// Which request this is.
    pub fn kind(&self) -> RequestKind {
        match self {
            Self::Open { .. } => RequestKind::Open,
            Self::Close { .. } => RequestKind::Close,
            Self::Read { .. } => RequestKind::Read,
            Self::Write { .. } => RequestKind::Write,
            Self::Lstat { .. } => RequestKind::Lstat,
            Self::Fstat { .. } => RequestKind::Fstat,
            Self::Setstat { .. } => RequestKind::Setstat,
            Self::Fsetstat { .. } => RequestKind::Fsetstat,
            Self::Opendir { .. } => RequestKind::Opendir,
            Self::Readdir { .. } => RequestKind::Readdir,
            Self::Remove { .. } => RequestKind::Remove,
            Self::Mkdir { .. } => RequestKind::Mkdir,
            Self::Rmdir { .. } => RequestKind::Rmdir,
            Self::Realpath { .. } => RequestKind::Realpath,
            Self::Stat { .. } => RequestKind::Stat,
            Self::Rename { .. } => RequestKind::Rename,
            Self::Readlink { .. } => RequestKind::Readlink,
            Self::Symlink { .. } => RequestKind::Symlink,
            Self::PosixRename { .. } => RequestKind::PosixRename,
            Self::Statvfs { .. } => RequestKind::Statvfs,
            Self::Fstatvfs { .. } => RequestKind::Fstatvfs,
            Self::Hardlink { .. } => RequestKind::Hardlink,
            Self::Fsync { .. } => RequestKind::Fsync,
            Self::Lsetstat { .. } => RequestKind::Lsetstat,
            Self::Limits => RequestKind::Limits,
            Self::ExpandPath { .. } => RequestKind::ExpandPath,
            Self::CopyData { .. } => RequestKind::CopyData,
            Self::HomeDirectory { .. } => RequestKind::HomeDirectory,
            Self::UsersGroupsById { .. } => RequestKind::UsersGroupsById,
            Self::Extended { .. } => RequestKind::Extended,
        }
    }

    /// The handles this request names, and what each must be.
    pub(crate) fn handles(&self) -> impl Iterator<Item = (&Handle, HandleUse)> {
        let (first, second) = match self {
            Self::Close { handle } => (Some((handle, HandleUse::Any)), None),
            Self::Read { handle, .. }
            | Self::Write { handle, .. }
            | Self::Fstat { handle }
            | Self::Fsetstat { handle, .. }
            | Self::Fstatvfs { handle }
            | Self::Fsync { handle } => (Some((handle, HandleUse::File)), None),
            Self::Readdir { handle } => (Some((handle, HandleUse::Dir)), None),
            Self::CopyData {
                read_handle,
                write_handle,
                ..
            } => (
                Some((read_handle, HandleUse::File)),
                Some((write_handle, HandleUse::File)),
            ),
            _ => (None, None),
        };
        first.into_iter().chain(second)
    }

    /// Appends the whole packet (length, type, id, body) to `out`.
    pub fn encode(&self, id: RequestId, out: &mut Vec<u8>) {
        if let Self::Write {
            handle,
            offset,
            data,
        } = self
        {
            encode_write(out, id, handle, *offset, data);
            return;
        }
        let start = begin_packet(out, self.packet_type());
        out.put_u32(id.0);
        self.encode_body(out);
        end_packet(out, start);
    }

    fn packet_type(&self) -> u8 {
        match self.kind() {
            RequestKind::Open => fxp::OPEN,
            RequestKind::Close => fxp::CLOSE,
            RequestKind::Read => fxp::READ,
            RequestKind::Write => fxp::WRITE,
            RequestKind::Lstat => fxp::LSTAT,
            RequestKind::Fstat => fxp::FSTAT,
            RequestKind::Setstat => fxp::SETSTAT,
            RequestKind::Fsetstat => fxp::FSETSTAT,
            RequestKind::Opendir => fxp::OPENDIR,
            RequestKind::Readdir => fxp::READDIR,
            RequestKind::Remove => fxp::REMOVE,
            RequestKind::Mkdir => fxp::MKDIR,
            RequestKind::Rmdir => fxp::RMDIR,
            RequestKind::Realpath => fxp::REALPATH,
            RequestKind::Stat => fxp::STAT,
            RequestKind::Rename => fxp::RENAME,
            RequestKind::Readlink => fxp::READLINK,
            RequestKind::Symlink => fxp::SYMLINK,
            _ => fxp::EXTENDED,
        }
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        if let Some(ext) = self.kind().extension() {
            out.put_string(ext.name().as_bytes());
        }
        match self {
            Self::Open { path, flags, attrs } => {
                out.put_string(path);
                out.put_u32(flags.0);
                attrs.encode(out);
            }
            Self::Close { handle }
            | Self::Fstat { handle }
            | Self::Readdir { handle }
            | Self::Fstatvfs { handle }
            | Self::Fsync { handle } => out.put_string(handle.as_bytes()),
            Self::Read {
                handle,
                offset,
                len,
            } => {
                out.put_string(handle.as_bytes());
                out.put_u64(*offset);
                out.put_u32(*len);
            }
            Self::Write {
                handle,
                offset,
                data,
            } => {
                out.put_string(handle.as_bytes());
                out.put_u64(*offset);
                out.put_string(data);
            }
            Self::Lstat { path }
            | Self::Opendir { path }
            | Self::Remove { path }
            | Self::Rmdir { path }
            | Self::Realpath { path }
            | Self::Stat { path }
            | Self::Readlink { path }
            | Self::Statvfs { path }
            | Self::ExpandPath { path } => out.put_string(path),
            Self::Setstat { path, attrs }
            | Self::Mkdir { path, attrs }
            | Self::Lsetstat { path, attrs } => {
                out.put_string(path);
                attrs.encode(out);
            }
            Self::Fsetstat { handle, attrs } => {
                out.put_string(handle.as_bytes());
                attrs.encode(out);
            }
            Self::Rename { from, to } | Self::PosixRename { from, to } => {
                out.put_string(from);
                out.put_string(to);
            }
            Self::Symlink { target, link } | Self::Hardlink { target, link } => {
                out.put_string(target);
                out.put_string(link);
            }
            Self::Limits => {}
            Self::CopyData {
                read_handle,
                read_offset,
                len,
                write_handle,
                write_offset,
            } => {
                out.put_string(read_handle.as_bytes());
                out.put_u64(*read_offset);
                out.put_u64(*len);
                out.put_string(write_handle.as_bytes());
                out.put_u64(*write_offset);
            }
            Self::HomeDirectory { username } => out.put_string(username),
            Self::UsersGroupsById { uids, gids } => {
                out.put_string(&encode_ids(uids));
                out.put_string(&encode_ids(gids));
            }
            Self::Extended { name, data } => {
                out.put_string(name.as_bytes());
                out.put_raw(data);
            }
        }
    }

    /// Decodes the body of a request of packet type `ty`, after its id. `packet` is
    /// the whole packet the reader reads from (WRITE data is sliced from it without a
    /// copy). Returns `None` for a packet type that is not a request.
    pub(crate) fn decode(
        ty: u8,
        packet: &Bytes,
        r: &mut Reader<'_>,
    ) -> Result<Option<Self>, DecodeError> {
        let request = match ty {
            fxp::OPEN => Self::Open {
                path: path(r)?,
                flags: OpenFlags(r.u32()?),
                attrs: FileAttributes::decode(r)?,
            },
            fxp::CLOSE => Self::Close { handle: handle(r)? },
            fxp::READ => Self::Read {
                handle: handle(r)?,
                offset: r.u64()?,
                len: r.u32()?,
            },
            fxp::WRITE => Self::Write {
                handle: handle(r)?,
                offset: r.u64()?,
                data: packet.slice_ref(r.string()?),
            },
            fxp::LSTAT => Self::Lstat { path: path(r)? },
            fxp::FSTAT => Self::Fstat { handle: handle(r)? },
            fxp::SETSTAT => Self::Setstat {
                path: path(r)?,
                attrs: FileAttributes::decode(r)?,
            },
            fxp::FSETSTAT => Self::Fsetstat {
                handle: handle(r)?,
                attrs: FileAttributes::decode(r)?,
            },
            fxp::OPENDIR => Self::Opendir { path: path(r)? },
            fxp::READDIR => Self::Readdir { handle: handle(r)? },
            fxp::REMOVE => Self::Remove { path: path(r)? },
            fxp::MKDIR => Self::Mkdir {
                path: path(r)?,
                attrs: FileAttributes::decode(r)?,
            },
            fxp::RMDIR => Self::Rmdir { path: path(r)? },
            fxp::REALPATH => Self::Realpath { path: path(r)? },
            fxp::STAT => Self::Stat { path: path(r)? },
            fxp::RENAME => Self::Rename {
                from: path(r)?,
                to: path(r)?,
            },
            fxp::READLINK => Self::Readlink { path: path(r)? },
            fxp::SYMLINK => Self::Symlink {
                target: path(r)?,
                link: path(r)?,
            },
            fxp::EXTENDED => Self::decode_extended(packet, r)?,
            _ => return Ok(None),
        };
        r.finish()?;
        Ok(Some(request))
    }

    fn decode_extended(packet: &Bytes, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name = std::str::from_utf8(r.string()?).map_err(|_| DecodeError::ExtensionName)?;
        let Some(ext) = Extension::from_name(name) else {
            return Ok(Self::Extended {
                name: name.to_owned(),
                data: packet.slice_ref(r.take_rest()),
            });
        };
        Ok(match ext {
            Extension::PosixRename => Self::PosixRename {
                from: path(r)?,
                to: path(r)?,
            },
            Extension::Statvfs => Self::Statvfs { path: path(r)? },
            Extension::Fstatvfs => Self::Fstatvfs { handle: handle(r)? },
            Extension::Hardlink => Self::Hardlink {
                target: path(r)?,
                link: path(r)?,
            },
            Extension::Fsync => Self::Fsync { handle: handle(r)? },
            Extension::Lsetstat => Self::Lsetstat {
                path: path(r)?,
                attrs: FileAttributes::decode(r)?,
            },
            Extension::Limits => Self::Limits,
            Extension::ExpandPath => Self::ExpandPath { path: path(r)? },
            Extension::CopyData => Self::CopyData {
                read_handle: handle(r)?,
                read_offset: r.u64()?,
                len: r.u64()?,
                write_handle: handle(r)?,
                write_offset: r.u64()?,
            },
            Extension::HomeDirectory => Self::HomeDirectory { username: path(r)? },
            Extension::UsersGroupsById => Self::UsersGroupsById {
                uids: decode_ids(r.string()?)?,
                gids: decode_ids(r.string()?)?,
            },
        })
    }
}

/// Encodes SSH_FXP_WRITE straight from borrowed data, the client's hot path.
pub(crate) fn encode_write(
    out: &mut Vec<u8>,
    id: RequestId,
    handle: &Handle,
    offset: u64,
    data: &[u8],
) {
    out.reserve(WRITE_HEADER_LEN + handle.len() + data.len());
    encode_write_header(out, id, handle, offset, data.len());
    out.extend_from_slice(data);
}

/// Bytes of an SSH_FXP_WRITE packet besides the handle and the data: length, type,
/// id, handle length, offset, data length.
const WRITE_HEADER_LEN: usize = 4 + 1 + 4 + 4 + 8 + 4;

/// Appends an SSH_FXP_WRITE packet up to its data, whose `data_len` bytes the packet
/// length counts and which the caller sends right after.
pub(crate) fn encode_write_header(
    out: &mut Vec<u8>,
    id: RequestId,
    handle: &Handle,
    offset: u64,
    data_len: usize,
) {
    out.reserve(WRITE_HEADER_LEN + handle.len());
    let start = begin_packet(out, fxp::WRITE);
    out.put_u32(id.0);
    out.put_string(handle.as_bytes());
    out.put_u64(offset);
    // Write lengths are checked against limits far below 4 GiB before encoding.
    out.put_u32(u32::try_from(data_len).unwrap_or(u32::MAX));
    let len = out.len() - start - 4 + data_len;
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

fn path(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    Ok(r.string()?.to_vec())
}

fn handle(r: &mut Reader<'_>) -> Result<Handle, DecodeError> {
    let raw = r.string()?;
    if raw.len() > Handle::MAX_LEN {
        return Err(DecodeError::HandleTooLong(raw.len()));
    }
    Ok(Handle::new(Bytes::copy_from_slice(raw)))
}

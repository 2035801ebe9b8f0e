//! SFTP packet framing and the small types every packet uses.
//!
//! Every SFTP packet is `uint32 length, byte type, data` over the byte stream
//! ([draft-ietf-secsh-filexfer-02 §3]); every request after INIT carries a `uint32`
//! request id right after the type. Strings are RFC 4251 strings, so the crate's
//! [`Reader`](crate::wire::Reader) and [`Writer`](crate::wire::Writer) decode and
//! encode them.
//!
//! [draft-ietf-secsh-filexfer-02 §3]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use crate::wire::Writer;

/// The protocol version both engines speak ([draft-ietf-secsh-filexfer-02 §4]).
///
/// [draft-ietf-secsh-filexfer-02 §4]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt
pub const SFTP_VERSION: u32 = 3;

/// Packet type numbers ([draft-ietf-secsh-filexfer-02 §3]).
///
/// [draft-ietf-secsh-filexfer-02 §3]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt
pub mod fxp {
    /// SSH_FXP_INIT: the client's hello.
    pub const INIT: u8 = 1;
    /// SSH_FXP_VERSION: the server's hello.
    pub const VERSION: u8 = 2;
    /// SSH_FXP_OPEN.
    pub const OPEN: u8 = 3;
    /// SSH_FXP_CLOSE.
    pub const CLOSE: u8 = 4;
    /// SSH_FXP_READ.
    pub const READ: u8 = 5;
    /// SSH_FXP_WRITE.
    pub const WRITE: u8 = 6;
    /// SSH_FXP_LSTAT.
    pub const LSTAT: u8 = 7;
    /// SSH_FXP_FSTAT.
    pub const FSTAT: u8 = 8;
    /// SSH_FXP_SETSTAT.
    pub const SETSTAT: u8 = 9;
    /// SSH_FXP_FSETSTAT.
    pub const FSETSTAT: u8 = 10;
    /// SSH_FXP_OPENDIR.
    pub const OPENDIR: u8 = 11;
    /// SSH_FXP_READDIR.
    pub const READDIR: u8 = 12;
    /// SSH_FXP_REMOVE.
    pub const REMOVE: u8 = 13;
    /// SSH_FXP_MKDIR.
    pub const MKDIR: u8 = 14;
    /// SSH_FXP_RMDIR.
    pub const RMDIR: u8 = 15;
    /// SSH_FXP_REALPATH.
    pub const REALPATH: u8 = 16;
    /// SSH_FXP_STAT.
    pub const STAT: u8 = 17;
    /// SSH_FXP_RENAME.
    pub const RENAME: u8 = 18;
    /// SSH_FXP_READLINK.
    pub const READLINK: u8 = 19;
    /// SSH_FXP_SYMLINK.
    pub const SYMLINK: u8 = 20;
    /// SSH_FXP_STATUS.
    pub const STATUS: u8 = 101;
    /// SSH_FXP_HANDLE.
    pub const HANDLE: u8 = 102;
    /// SSH_FXP_DATA.
    pub const DATA: u8 = 103;
    /// SSH_FXP_NAME.
    pub const NAME: u8 = 104;
    /// SSH_FXP_ATTRS.
    pub const ATTRS: u8 = 105;
    /// SSH_FXP_EXTENDED: a named extension request.
    pub const EXTENDED: u8 = 200;
    /// SSH_FXP_EXTENDED_REPLY: the success reply to an extension request.
    pub const EXTENDED_REPLY: u8 = 201;
}

/// The smallest packet limit every server must accept ([draft-ietf-secsh-filexfer-02
/// §3]: "all servers SHOULD support packets of at least 34000 bytes").
pub const MIN_PACKET_LEN: u32 = 34_000;

/// The identifier that pairs a response with its request.
///
/// The client picks it; the server echoes it. Responses may come back in any order
/// ([draft-ietf-secsh-filexfer-02 §6.1]).
///
/// [draft-ietf-secsh-filexfer-02 §6.1]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u32);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An open file or directory handle: opaque bytes the server hands out.
///
/// Handles are at most [`Handle::MAX_LEN`] bytes ([draft-ietf-secsh-filexfer-02 §6.3]);
/// both engines enforce that on what they receive.
///
/// [draft-ietf-secsh-filexfer-02 §6.3]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(Bytes);

impl Handle {
    /// The longest handle the protocol allows.
    pub const MAX_LEN: usize = 256;

    /// Wraps handle bytes (lengths are checked where handles cross the wire).
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        Self(bytes.into())
    }

    /// The handle's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The handle's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty handle.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.0.escape_ascii())
    }
}

impl From<&str> for Handle {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<Vec<u8>> for Handle {
    fn from(v: Vec<u8>) -> Self {
        Self(Bytes::from(v))
    }
}

/// The `pflags` of SSH_FXP_OPEN ([draft-ietf-secsh-filexfer-02 §6.3]).
///
/// Combine with `|`; unknown bits from a peer are kept, so a backend can refuse them.
///
/// ```
/// use sansh_core::sftp::OpenFlags;
/// let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
/// assert!(flags.contains(OpenFlags::CREATE));
/// assert!(!flags.contains(OpenFlags::READ));
/// ```
///
/// [draft-ietf-secsh-filexfer-02 §6.3]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    /// SSH_FXF_READ: open for reading.
    pub const READ: Self = Self(0x01);
    /// SSH_FXF_WRITE: open for writing.
    pub const WRITE: Self = Self(0x02);
    /// SSH_FXF_APPEND: every write goes to the end of the file.
    pub const APPEND: Self = Self(0x04);
    /// SSH_FXF_CREAT: create the file if it does not exist.
    pub const CREATE: Self = Self(0x08);
    /// SSH_FXF_TRUNC: truncate an existing file (needs CREATE).
    pub const TRUNCATE: Self = Self(0x10);
    /// SSH_FXF_EXCL: fail if the file exists (needs CREATE).
    pub const EXCLUSIVE: Self = Self(0x20);

    /// The bits version 3 defines.
    pub const KNOWN: Self = Self(0x3f);

    /// True when every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for OpenFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for OpenFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// One entry of an SSH_FXP_NAME reply: a file name, its `ls -l` style long name, and
/// its attributes ([draft-ietf-secsh-filexfer-02 §7]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Name {
    /// The file name (a path for REALPATH and READLINK replies), as raw bytes.
    pub filename: Vec<u8>,
    /// A display line in the format of `ls -l`; clients must not parse it.
    pub longname: Vec<u8>,
    /// The file's attributes (may be empty).
    pub attrs: crate::sftp::FileAttributes,
}

impl Name {
    /// A name whose long name repeats the file name and whose attributes are empty,
    /// the shape of REALPATH and READLINK replies.
    pub fn bare(path: impl Into<Vec<u8>>) -> Self {
        let filename = path.into();
        Self {
            longname: filename.clone(),
            filename,
            attrs: crate::sftp::FileAttributes::default(),
        }
    }

    /// The file name as text, with invalid UTF-8 replaced.
    pub fn filename_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.filename)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Name")
            .field("filename", &self.filename.escape_ascii().to_string())
            .field("longname", &self.longname.escape_ascii().to_string())
            .field("attrs", &self.attrs)
            .finish()
    }
}

/// Why the byte stream could not be cut into packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A length field announced a packet beyond the cap.
    #[error("packet of {len} bytes exceeds the {max}-byte limit")]
    TooLong {
        /// The announced length.
        len: u32,
        /// The cap in force.
        max: u32,
    },
    /// A length field of zero: no room for the type byte.
    #[error("empty packet (length 0)")]
    Empty,
}

/// Cuts a byte stream into SFTP packets, refusing any longer than a cap before
/// buffering it.
#[derive(Debug)]
pub(crate) struct Deframer {
    buf: BytesMut,
    max_len: u32,
}

impl Deframer {
    pub(crate) fn new(max_len: u32) -> Self {
        Self {
            buf: BytesMut::new(),
            max_len,
        }
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole packet (type byte first, length stripped), if one has arrived.
    pub(crate) fn next_packet(&mut self) -> Result<Option<Bytes>, FrameError> {
        let Some(prefix) = self.buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        if len == 0 {
            return Err(FrameError::Empty);
        }
        if len > self.max_len {
            return Err(FrameError::TooLong {
                len,
                max: self.max_len,
            });
        }
        let total = 4 + len as usize;
        if self.buf.len() < total {
            // Reserve only what the (capped) length announced, so the next reads land
            // in one allocation.
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(4);
        Ok(Some(self.buf.split_to(len as usize).freeze()))
    }
}

/// Starts a packet of type `ty` in `out`; finish it with [`end_packet`].
pub(crate) fn begin_packet(out: &mut Vec<u8>, ty: u8) -> usize {
    let start = out.len();
    out.put_u32(0);
    out.put_u8(ty);
    start
}

/// Writes the length of the packet begun at `start`.
pub(crate) fn end_packet(out: &mut [u8], start: usize) {
    let len = out.len() - start - 4;
    // Engines check sizes against caps far below 4 GiB before encoding.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

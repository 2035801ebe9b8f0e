//! SFTP packet framing and the small types every packet uses.
//!
//! Every SFTP packet is `uint32 length, byte type, data` over the byte stream
//! ([draft-ietf-secsh-filexfer-02 §3]); every request after INIT carries a `uint32`
//! request id right after the type. Strings are RFC 4251 strings, so the crate's
//! [`Reader`](crate::wire::Reader) and [`Writer`](crate::wire::Writer) decode and
//! encode them.
//!
//! [draft-ietf-secsh-filexfer-02 §3]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt

use std::collections::VecDeque;
use std::fmt;

use bytes::{Bytes, BytesMut};

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
///
/// Each packet is assembled in one allocation of exactly its announced size, so a
/// stream of 256 KiB READ replies arriving in 32 KiB channel packets costs one copy
/// and one allocation of a single size per packet: no buffer regrowth, and freed
/// packets are reused by the allocator instead of fresh pages being faulted in.
#[derive(Debug)]
pub(crate) struct Deframer {
    /// Whole packets not yet taken.
    ready: VecDeque<Bytes>,
    /// The length prefix of the next packet, as far as it has arrived.
    prefix: [u8; 4],
    prefix_len: usize,
    /// The packet being assembled, once its length is known.
    partial: Option<(BytesMut, usize)>,
    /// A bad length prefix: reported after the packets before it.
    error: Option<FrameError>,
    max_len: u32,
}

impl Deframer {
    pub(crate) fn new(max_len: u32) -> Self {
        Self {
            ready: VecDeque::new(),
            prefix: [0; 4],
            prefix_len: 0,
            partial: None,
            error: None,
            max_len,
        }
    }

    pub(crate) fn push(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.error.is_none() {
            match &mut self.partial {
                Some((packet, len)) => {
                    let take = (*len - packet.len()).min(data.len());
                    let (now, rest) = data.split_at(take);
                    packet.extend_from_slice(now);
                    data = rest;
                    if packet.len() == *len {
                        let packet = std::mem::take(packet);
                        self.ready.push_back(packet.freeze());
                        self.partial = None;
                    }
                }
                None => {
                    let take = (4 - self.prefix_len).min(data.len());
                    let (now, rest) = data.split_at(take);
                    self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(now);
                    self.prefix_len += take;
                    data = rest;
                    if self.prefix_len == 4 {
                        self.prefix_len = 0;
                        self.start_packet(u32::from_be_bytes(self.prefix));
                    }
                }
            }
        }
    }

    /// Checks an announced length and makes room for exactly that packet.
    fn start_packet(&mut self, len: u32) {
        if len == 0 {
            self.error = Some(FrameError::Empty);
        } else if len > self.max_len {
            self.error = Some(FrameError::TooLong {
                len,
                max: self.max_len,
            });
        } else {
            let len = len as usize;
            self.partial = Some((BytesMut::with_capacity(len), len));
        }
    }

    /// The next whole packet (type byte first, length stripped), if one has arrived;
    /// after the packets before it, a bad length prefix is an error from then on.
    pub(crate) fn next_packet(&mut self) -> Result<Option<Bytes>, FrameError> {
        match (self.ready.pop_front(), self.error) {
            (Some(packet), _) => Ok(Some(packet)),
            (None, Some(error)) => Err(error),
            (None, None) => Ok(None),
        }
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

#[cfg(test)]
mod deframer_tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    fn drain(deframer: &mut Deframer) -> Vec<Bytes> {
        let mut packets = Vec::new();
        while let Ok(Some(packet)) = deframer.next_packet() {
            packets.push(packet);
        }
        packets
    }

    #[test]
    fn packets_split_across_pushes_of_any_size_come_out_whole() {
        let stream = [framed(b"\x65first"), framed(&[7; 1000]), framed(b"\x66")].concat();
        for chunk in [1, 3, 4, 5, 999, stream.len()] {
            let mut deframer = Deframer::new(4096);
            for piece in stream.chunks(chunk) {
                deframer.push(piece);
            }
            let packets = drain(&mut deframer);
            assert_eq!(packets.len(), 3, "chunks of {chunk}");
            assert_eq!(&packets[0][..], b"\x65first");
            assert_eq!(&packets[1][..], &[7; 1000][..]);
            assert_eq!(&packets[2][..], b"\x66");
        }
    }

    #[test]
    fn a_packet_is_not_returned_before_its_last_byte() {
        let stream = framed(b"\x65abc");
        let mut deframer = Deframer::new(4096);
        deframer.push(&stream[..stream.len() - 1]);
        assert_eq!(deframer.next_packet(), Ok(None));
        deframer.push(&stream[stream.len() - 1..]);
        assert_eq!(
            deframer.next_packet(),
            Ok(Some(Bytes::from_static(b"\x65abc")))
        );
    }

    #[test]
    fn an_oversized_length_is_refused_after_the_packets_before_it() {
        let mut stream = framed(b"\x65ok");
        stream.extend_from_slice(&5000u32.to_be_bytes());
        let mut deframer = Deframer::new(4096);
        deframer.push(&stream);
        deframer.push(&[0; 100]);
        assert_eq!(
            deframer.next_packet(),
            Ok(Some(Bytes::from_static(b"\x65ok")))
        );
        let too_long = Err(FrameError::TooLong {
            len: 5000,
            max: 4096,
        });
        assert_eq!(deframer.next_packet(), too_long);
        assert_eq!(deframer.next_packet(), too_long);
    }

    #[test]
    fn a_zero_length_is_refused() {
        let mut deframer = Deframer::new(4096);
        deframer.push(&[0, 0, 0, 0, 1]);
        assert_eq!(deframer.next_packet(), Err(FrameError::Empty));
    }
}

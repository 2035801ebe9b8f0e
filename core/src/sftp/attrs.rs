//! File attributes, the ATTRS structure of [draft-ietf-secsh-filexfer-02 §5].
//!
//! [draft-ietf-secsh-filexfer-02 §5]: https://www.openssh.com/txt/draft-ietf-secsh-filexfer-02.txt

use std::fmt;

use crate::sftp::error::DecodeError;
use crate::wire::{Reader, Writer};

const ATTR_SIZE: u32 = 0x0000_0001;
const ATTR_UIDGID: u32 = 0x0000_0002;
const ATTR_PERMISSIONS: u32 = 0x0000_0004;
const ATTR_ACMODTIME: u32 = 0x0000_0008;
const ATTR_EXTENDED: u32 = 0x8000_0000;
const ATTR_KNOWN: u32 = ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME | ATTR_EXTENDED;

/// The file type bits of `st_mode` (`S_IFMT`).
const S_IFMT: u32 = 0o170_000;

/// A file's owner, as numeric ids (version 3 carries both or neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ownership {
    /// The owning user id.
    pub uid: u32,
    /// The owning group id.
    pub gid: u32,
}

/// Access and modification times, in seconds since the Unix epoch (version 3 carries
/// both or neither, as `uint32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileTimes {
    /// Last access.
    pub atime: u32,
    /// Last modification.
    pub mtime: u32,
}

/// One vendor-specific attribute: a `name@domain` type and its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtendedAttr {
    /// The attribute's type name.
    pub name: Vec<u8>,
    /// Its data.
    pub data: Vec<u8>,
}

/// What kind of file the permission bits describe (`S_IFMT` of `st_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// Type bits this crate does not know.
    Other(u32),
}

impl FileType {
    /// The `S_IFMT` bits of this type.
    pub fn mode_bits(self) -> u32 {
        match self {
            Self::Fifo => 0o010_000,
            Self::CharDevice => 0o020_000,
            Self::Directory => 0o040_000,
            Self::BlockDevice => 0o060_000,
            Self::Regular => 0o100_000,
            Self::Symlink => 0o120_000,
            Self::Socket => 0o140_000,
            Self::Other(bits) => bits & S_IFMT,
        }
    }

    /// The type encoded in a full `st_mode`.
    pub fn from_mode(mode: u32) -> Self {
        match mode & S_IFMT {
            0o010_000 => Self::Fifo,
            0o020_000 => Self::CharDevice,
            0o040_000 => Self::Directory,
            0o060_000 => Self::BlockDevice,
            0o100_000 => Self::Regular,
            0o120_000 => Self::Symlink,
            0o140_000 => Self::Socket,
            other => Self::Other(other),
        }
    }
}

/// File attributes: every field is optional, as on the wire.
///
/// The same structure describes a file (STAT replies, directory entries) and a change
/// to make (SETSTAT, or the initial attributes of OPEN and MKDIR).
///
/// ```
/// use sansh_core::sftp::{FileAttributes, FileType};
/// let attrs = FileAttributes::default().with_size(42).with_permissions(0o100644);
/// assert_eq!(attrs.file_type(), Some(FileType::Regular));
/// let mut wire = Vec::new();
/// attrs.encode(&mut wire);
/// assert_eq!(&wire[..4], &[0, 0, 0, 5]); // SIZE | PERMISSIONS
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct FileAttributes {
    /// Size in bytes.
    pub size: Option<u64>,
    /// Owner and group ids.
    pub owner: Option<Ownership>,
    /// The `st_mode` bits: file type and permissions.
    pub permissions: Option<u32>,
    /// Access and modification times.
    pub times: Option<FileTimes>,
    /// Vendor-specific attributes.
    pub extended: Vec<ExtendedAttr>,
}

impl FileAttributes {
    /// Sets the size.
    #[must_use]
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }

    /// Sets the owner and group ids.
    #[must_use]
    pub fn with_owner(mut self, uid: u32, gid: u32) -> Self {
        self.owner = Some(Ownership { uid, gid });
        self
    }

    /// Sets the mode bits.
    #[must_use]
    pub fn with_permissions(mut self, mode: u32) -> Self {
        self.permissions = Some(mode);
        self
    }

    /// Sets the access and modification times.
    #[must_use]
    pub fn with_times(mut self, atime: u32, mtime: u32) -> Self {
        self.times = Some(FileTimes { atime, mtime });
        self
    }

    /// True when no field is present.
    pub fn is_empty(&self) -> bool {
        self.size.is_none()
            && self.owner.is_none()
            && self.permissions.is_none()
            && self.times.is_none()
            && self.extended.is_empty()
    }

    /// The file type, when the permissions carry one.
    pub fn file_type(&self) -> Option<FileType> {
        self.permissions
            .filter(|m| m & S_IFMT != 0)
            .map(FileType::from_mode)
    }

    /// True when the attributes describe a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == Some(FileType::Directory)
    }

    /// True when the attributes describe a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type() == Some(FileType::Regular)
    }

    /// True when the attributes describe a symbolic link.
    pub fn is_symlink(&self) -> bool {
        self.file_type() == Some(FileType::Symlink)
    }

    /// The owning user id.
    pub fn uid(&self) -> Option<u32> {
        self.owner.map(|o| o.uid)
    }

    /// The owning group id.
    pub fn gid(&self) -> Option<u32> {
        self.owner.map(|o| o.gid)
    }

    /// The access time.
    pub fn atime(&self) -> Option<u32> {
        self.times.map(|t| t.atime)
    }

    /// The modification time.
    pub fn mtime(&self) -> Option<u32> {
        self.times.map(|t| t.mtime)
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        4 + self.size.map_or(0, |_| 8)
            + self.owner.map_or(0, |_| 8)
            + self.permissions.map_or(0, |_| 4)
            + self.times.map_or(0, |_| 8)
            + if self.extended.is_empty() {
                0
            } else {
                4 + self
                    .extended
                    .iter()
                    .map(|e| 8 + e.name.len() + e.data.len())
                    .sum::<usize>()
            }
    }

    /// Appends the ATTRS encoding.
    pub fn encode(&self, out: &mut impl Writer) {
        let mut flags = 0;
        if self.size.is_some() {
            flags |= ATTR_SIZE;
        }
        if self.owner.is_some() {
            flags |= ATTR_UIDGID;
        }
        if self.permissions.is_some() {
            flags |= ATTR_PERMISSIONS;
        }
        if self.times.is_some() {
            flags |= ATTR_ACMODTIME;
        }
        if !self.extended.is_empty() {
            flags |= ATTR_EXTENDED;
        }
        out.put_u32(flags);
        if let Some(size) = self.size {
            out.put_u64(size);
        }
        if let Some(o) = self.owner {
            out.put_u32(o.uid);
            out.put_u32(o.gid);
        }
        if let Some(p) = self.permissions {
            out.put_u32(p);
        }
        if let Some(t) = self.times {
            out.put_u32(t.atime);
            out.put_u32(t.mtime);
        }
        if !self.extended.is_empty() {
            out.put_u32(u32::try_from(self.extended.len()).unwrap_or(u32::MAX));
            for e in &self.extended {
                out.put_string(&e.name);
                out.put_string(&e.data);
            }
        }
    }

    /// Decodes ATTRS. Flag bits version 3 does not define are refused: their fields'
    /// sizes are unknown, so nothing after them could be read.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let flags = r.u32()?;
        if flags & !ATTR_KNOWN != 0 {
            return Err(DecodeError::UnknownAttributeFlags(flags & !ATTR_KNOWN));
        }
        let mut attrs = Self::default();
        if flags & ATTR_SIZE != 0 {
            attrs.size = Some(r.u64()?);
        }
        if flags & ATTR_UIDGID != 0 {
            attrs.owner = Some(Ownership {
                uid: r.u32()?,
                gid: r.u32()?,
            });
        }
        if flags & ATTR_PERMISSIONS != 0 {
            attrs.permissions = Some(r.u32()?);
        }
        if flags & ATTR_ACMODTIME != 0 {
            attrs.times = Some(FileTimes {
                atime: r.u32()?,
                mtime: r.u32()?,
            });
        }
        if flags & ATTR_EXTENDED != 0 {
            // No preallocation from the count: each pair is read (or found missing)
            // from the bytes actually present.
            let count = r.u32()?;
            for _ in 0..count {
                let name = r.string()?.to_vec();
                let data = r.string()?.to_vec();
                attrs.extended.push(ExtendedAttr { name, data });
            }
        }
        Ok(attrs)
    }
}

impl fmt::Debug for FileAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("FileAttributes");
        if let Some(size) = self.size {
            d.field("size", &size);
        }
        if let Some(o) = self.owner {
            d.field("uid", &o.uid).field("gid", &o.gid);
        }
        if let Some(p) = self.permissions {
            d.field("permissions", &format_args!("{p:o}"));
        }
        if let Some(t) = self.times {
            d.field("atime", &t.atime).field("mtime", &t.mtime);
        }
        if !self.extended.is_empty() {
            d.field("extended", &self.extended);
        }
        d.finish()
    }
}

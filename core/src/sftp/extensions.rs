//! The OpenSSH extensions both engines implement ([OpenSSH PROTOCOL §4]): their names
//! and versions, how a server advertises them in SSH_FXP_VERSION, and the structures
//! their replies carry.
//!
//! [OpenSSH PROTOCOL §4]: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL

use std::fmt;

use crate::sftp::error::DecodeError;
use crate::wire::{Reader, Writer};

/// An extension request this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extension {
    /// `posix-rename@openssh.com`: rename with POSIX semantics (replaces the target).
    PosixRename,
    /// `statvfs@openssh.com`: file system statistics for a path.
    Statvfs,
    /// `fstatvfs@openssh.com`: file system statistics for an open handle.
    Fstatvfs,
    /// `hardlink@openssh.com`: create a hard link.
    Hardlink,
    /// `fsync@openssh.com`: flush an open file to stable storage.
    Fsync,
    /// `lsetstat@openssh.com`: set attributes without following a final symlink.
    Lsetstat,
    /// `limits@openssh.com`: the server's packet, read, write and handle limits.
    Limits,
    /// `expand-path@openssh.com`: canonicalise a path, expanding `~` and `~user`.
    ExpandPath,
    /// `copy-data`: copy between two open handles on the server.
    CopyData,
    /// `home-directory`: a user's home directory.
    HomeDirectory,
    /// `users-groups-by-id@openssh.com`: user and group names for numeric ids.
    UsersGroupsById,
}

impl Extension {
    /// Every extension, in the order OpenSSH's server advertises them.
    pub const ALL: [Self; 11] = [
        Self::PosixRename,
        Self::Statvfs,
        Self::Fstatvfs,
        Self::Hardlink,
        Self::Fsync,
        Self::Lsetstat,
        Self::Limits,
        Self::ExpandPath,
        Self::CopyData,
        Self::HomeDirectory,
        Self::UsersGroupsById,
    ];

    /// The extension's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::PosixRename => "posix-rename@openssh.com",
            Self::Statvfs => "statvfs@openssh.com",
            Self::Fstatvfs => "fstatvfs@openssh.com",
            Self::Hardlink => "hardlink@openssh.com",
            Self::Fsync => "fsync@openssh.com",
            Self::Lsetstat => "lsetstat@openssh.com",
            Self::Limits => "limits@openssh.com",
            Self::ExpandPath => "expand-path@openssh.com",
            Self::CopyData => "copy-data",
            Self::HomeDirectory => "home-directory",
            Self::UsersGroupsById => "users-groups-by-id@openssh.com",
        }
    }

    /// The version this crate implements, as advertised in SSH_FXP_VERSION. Clients
    /// must check it before use ([OpenSSH PROTOCOL §4.2]).
    ///
    /// [OpenSSH PROTOCOL §4.2]: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL
    pub fn version(self) -> &'static str {
        match self {
            Self::Statvfs | Self::Fstatvfs => "2",
            _ => "1",
        }
    }

    /// The extension with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.name() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The extensions a peer advertised in its hello (SSH_FXP_INIT or SSH_FXP_VERSION).
///
/// ```
/// use sansh_core::sftp::{Extension, Extensions};
/// let ext = Extensions::from_pairs([("statvfs@openssh.com", "2"), ("hardlink@openssh.com", "1")]);
/// assert!(ext.supports(Extension::Statvfs));
/// assert!(!ext.supports(Extension::Fsync));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    known: u16,
    pairs: Vec<(String, Vec<u8>)>,
}

impl Extensions {
    /// Builds the set from (name, data) pairs as they appear on the wire.
    pub fn from_pairs<N: Into<String>, D: AsRef<[u8]>>(
        pairs: impl IntoIterator<Item = (N, D)>,
    ) -> Self {
        let mut ext = Self::default();
        for (name, data) in pairs {
            ext.push(name.into(), data.as_ref().to_vec());
        }
        ext
    }

    /// The set this crate's server advertises for `enabled` extensions.
    pub fn advertising(enabled: &[Extension]) -> Self {
        Self::from_pairs(enabled.iter().map(|e| (e.name(), e.version())))
    }

    fn push(&mut self, name: String, data: Vec<u8>) {
        if let Some(e) = Extension::from_name(&name) {
            // Only the version we implement enables it: a changed version is an
            // incompatible protocol ([OpenSSH PROTOCOL §4.2]).
            if data == e.version().as_bytes() {
                self.known |= e.bit();
            }
        }
        self.pairs.push((name, data));
    }

    /// True when the peer advertised `ext` with the version this crate implements.
    pub fn supports(&self, ext: Extension) -> bool {
        self.known & ext.bit() != 0
    }

    /// Every advertised (name, data) pair, known or not, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.pairs.iter().map(|(n, d)| (n.as_str(), d.as_slice()))
    }

    /// The data advertised with `name`, if any.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_slice())
    }

    /// Appends the pairs as they go in a hello.
    pub(crate) fn encode(&self, out: &mut impl Writer) {
        for (name, data) in &self.pairs {
            out.put_string(name.as_bytes());
            out.put_string(data);
        }
    }

    /// Reads pairs until the end of a hello.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut ext = Self::default();
        while r.remaining() > 0 {
            let name = std::str::from_utf8(r.string()?)
                .map_err(|_| DecodeError::ExtensionName)?
                .to_owned();
            let data = r.string()?.to_vec();
            ext.push(name, data);
        }
        Ok(ext)
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.pairs
                    .iter()
                    .map(|(n, d)| (n, String::from_utf8_lossy(d))),
            )
            .finish()
    }
}

/// File system statistics: the reply of `statvfs@openssh.com` and
/// `fstatvfs@openssh.com` ([OpenSSH PROTOCOL §4.4]), all `uint64`.
///
/// [OpenSSH PROTOCOL §4.4]: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StatVfs {
    /// File system block size.
    pub bsize: u64,
    /// Fundamental block size (the unit of the block counts).
    pub frsize: u64,
    /// Total blocks.
    pub blocks: u64,
    /// Free blocks.
    pub bfree: u64,
    /// Free blocks for unprivileged users.
    pub bavail: u64,
    /// Total inodes.
    pub files: u64,
    /// Free inodes.
    pub ffree: u64,
    /// Free inodes for unprivileged users.
    pub favail: u64,
    /// File system id.
    pub fsid: u64,
    /// Flags: [`StatVfs::READ_ONLY`], [`StatVfs::NO_SUID`].
    pub flag: u64,
    /// Longest file name.
    pub namemax: u64,
}

impl StatVfs {
    /// SSH_FXE_STATVFS_ST_RDONLY: mounted read-only.
    pub const READ_ONLY: u64 = 0x1;
    /// SSH_FXE_STATVFS_ST_NOSUID: setuid bits are ignored.
    pub const NO_SUID: u64 = 0x2;

    fn fields(&self) -> [u64; 11] {
        [
            self.bsize,
            self.frsize,
            self.blocks,
            self.bfree,
            self.bavail,
            self.files,
            self.ffree,
            self.favail,
            self.fsid,
            self.flag,
            self.namemax,
        ]
    }

    pub(crate) fn encode(&self, out: &mut impl Writer) {
        for v in self.fields() {
            out.put_u64(v);
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            bsize: r.u64()?,
            frsize: r.u64()?,
            blocks: r.u64()?,
            bfree: r.u64()?,
            bavail: r.u64()?,
            files: r.u64()?,
            ffree: r.u64()?,
            favail: r.u64()?,
            fsid: r.u64()?,
            flag: r.u64()?,
            namemax: r.u64()?,
        })
    }
}

/// A server's limits, the reply of `limits@openssh.com` ([OpenSSH PROTOCOL §4.8]).
///
/// On the wire, 0 means "no specific limit". [`SftpClient::limits`] reports the
/// effective values, never 0 except for `max_open_handles`.
///
/// [OpenSSH PROTOCOL §4.8]: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL
/// [`SftpClient::limits`]: crate::sftp::SftpClient::limits
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest packet (the length field's value) the server accepts.
    pub max_packet_len: u64,
    /// Largest length a READ may ask for.
    pub max_read_len: u64,
    /// Largest data a WRITE may carry.
    pub max_write_len: u64,
    /// Most handles open at once.
    pub max_open_handles: u64,
}

impl Limits {
    pub(crate) fn encode(&self, out: &mut impl Writer) {
        out.put_u64(self.max_packet_len);
        out.put_u64(self.max_read_len);
        out.put_u64(self.max_write_len);
        out.put_u64(self.max_open_handles);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            max_packet_len: r.u64()?,
            max_read_len: r.u64()?,
            max_write_len: r.u64()?,
            max_open_handles: r.u64()?,
        })
    }
}

/// Encodes a list of ids as the inner string of `users-groups-by-id@openssh.com`.
pub(crate) fn encode_ids(ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 4);
    for &id in ids {
        out.put_u32(id);
    }
    out
}

/// Decodes the inner string of ids of `users-groups-by-id@openssh.com`.
pub(crate) fn decode_ids(raw: &[u8]) -> Result<Vec<u32>, DecodeError> {
    let mut r = Reader::new(raw);
    let mut ids = Vec::new();
    while r.remaining() > 0 {
        ids.push(r.u32()?);
    }
    Ok(ids)
}

/// Encodes a list of names as the inner string of a `users-groups-by-id` reply.
pub(crate) fn encode_names(names: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        out.put_string(n.as_bytes());
    }
    out
}

/// Decodes the inner string of names of a `users-groups-by-id` reply.
pub(crate) fn decode_names(raw: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut r = Reader::new(raw);
    let mut names = Vec::new();
    while r.remaining() > 0 {
        names.push(super::status::sanitize(r.string()?));
    }
    Ok(names)
}

//! Translations between the OS and SFTP: errno to status codes, `stat` to file
//! attributes, `statvfs`, and user and group names.

use std::collections::HashMap;

use rustix::fs::{Stat, StatVfsMountFlags};
use rustix::io::Errno;

use crate::sftp::{FileAttributes, SftpError, StatVfs, StatusCode};

/// Maps an OS error to the status OpenSSH's server sends for it (its
/// `errno_to_portable`), keeping the OS's text as the message.
pub(crate) fn status(e: Errno) -> SftpError {
    let code = match e {
        Errno::NOENT | Errno::NOTDIR | Errno::BADF | Errno::LOOP => StatusCode::NoSuchFile,
        Errno::PERM | Errno::ACCESS | Errno::FAULT => StatusCode::PermissionDenied,
        Errno::NAMETOOLONG | Errno::INVAL => StatusCode::BadMessage,
        Errno::NOSYS | Errno::OPNOTSUPP => StatusCode::OpUnsupported,
        _ => StatusCode::Failure,
    };
    SftpError::new(code, std::io::Error::from(e).to_string())
}

/// [`status`] for a `std::io::Error` (from `std::fs::File` methods).
pub(crate) fn io_status(e: &std::io::Error) -> SftpError {
    match Errno::from_io_error(e) {
        Some(errno) => status(errno),
        None => SftpError::failure(e.to_string()),
    }
}

fn unsigned<T: TryInto<u64>>(v: T) -> u64 {
    v.try_into().unwrap_or(0)
}

/// Seconds since the epoch as SFTP v3's 32-bit field: negative times become 0,
/// times past 2106 saturate.
fn secs<T: TryInto<i64>>(v: T) -> u32 {
    let v: i64 = v.try_into().unwrap_or(0);
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// The SFTP attributes of a `stat` result.
pub(crate) fn attrs_of(st: &Stat) -> FileAttributes {
    let mode = u32::try_from(unsigned(st.st_mode)).unwrap_or(0);
    let uid = u32::try_from(unsigned(st.st_uid)).unwrap_or(u32::MAX);
    let gid = u32::try_from(unsigned(st.st_gid)).unwrap_or(u32::MAX);
    FileAttributes::default()
        .with_size(unsigned(st.st_size))
        .with_owner(uid, gid)
        .with_permissions(mode)
        .with_times(secs(st.st_atime), secs(st.st_mtime))
}

/// The hard link count of a `stat` result, for long names.
pub(crate) fn links_of(st: &Stat) -> u64 {
    unsigned(st.st_nlink)
}

/// The `statvfs@openssh.com` reply of a `statvfs` result.
pub(crate) fn statvfs_of(s: &rustix::fs::StatVfs) -> StatVfs {
    let mut flag = 0;
    if s.f_flag.contains(StatVfsMountFlags::RDONLY) {
        flag |= StatVfs::READ_ONLY;
    }
    if s.f_flag.contains(StatVfsMountFlags::NOSUID) {
        flag |= StatVfs::NO_SUID;
    }
    StatVfs {
        bsize: unsigned(s.f_bsize),
        frsize: unsigned(s.f_frsize),
        blocks: unsigned(s.f_blocks),
        bfree: unsigned(s.f_bfree),
        bavail: unsigned(s.f_bavail),
        files: unsigned(s.f_files),
        ffree: unsigned(s.f_ffree),
        favail: unsigned(s.f_favail),
        fsid: unsigned(s.f_fsid),
        flag,
        namemax: unsigned(s.f_namemax),
    }
}

/// User and group names by id, read once from `/etc/passwd` and `/etc/group`.
///
/// Only the local files: the names are for display (`ls -l`,
/// `users-groups-by-id@openssh.com`), and an id without a name shows as a number.
#[derive(Debug, Default)]
pub(crate) struct IdNames {
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
}

impl IdNames {
    /// Reads the system's files; missing ones give no names.
    pub(crate) fn load() -> Self {
        Self {
            users: read_id_file("/etc/passwd"),
            groups: read_id_file("/etc/group"),
        }
    }

    /// The name of user `uid`.
    pub(crate) fn user(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }

    /// The name of group `gid`.
    pub(crate) fn group(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }
}

/// `name:x:id:...` lines into id → name (the first name wins for a shared id).
fn read_id_file(path: &str) -> HashMap<u32, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut map = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(id)) = (fields.next(), fields.nth(1)) else {
            continue;
        };
        if let Ok(id) = id.parse() {
            map.entry(id).or_insert_with(|| name.to_owned());
        }
    }
    map
}

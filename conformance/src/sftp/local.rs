//! [`LocalFs`]: a blocking local-filesystem [`Backend`] confined to a root directory.
//!
//! The client sees the root as `/`. Paths are resolved here, one component at a time,
//! before the operating system sees them: `..` never climbs above the root, and each
//! symlink met on the way is read and its target resolved inside the root (an
//! absolute target starts again from the root, as under `chroot`). The path handed to
//! the OS therefore contains no symlink the OS would follow, and files are opened
//! with `O_NOFOLLOW`.
//!
//! Limit: another process swapping a directory for a symlink between our check and
//! the OS call could still redirect one operation (the classic check-then-use race).
//! The driver layer's backend should use `openat2(RESOLVE_IN_ROOT)` instead; this one
//! serves tests, where no such process runs.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sansh_core::sftp::{
    Backend, FileAttributes, Handle, LongNameContext, Name, OpenFlags, SftpError, StatVfs,
    StatusCode, long_name,
};

/// Symlinks followed in one resolution before giving up, as the kernel does (ELOOP).
const MAX_SYMLINK_HOPS: usize = 40;
/// Names returned by one READDIR, as OpenSSH's server does.
const READDIR_BATCH: usize = 100;

enum Open {
    File { file: File, append: bool },
    Dir { entries: fs::ReadDir },
}

/// A local directory served over SFTP as `/`.
pub struct LocalFs {
    root: PathBuf,
    handles: HashMap<Handle, Open>,
    next_handle: u64,
    users: HashMap<u32, String>,
    groups: HashMap<u32, String>,
    uid: u32,
}

/// A path resolved inside the root: the real path for the OS and the virtual one for
/// the client.
struct Resolved {
    real: PathBuf,
    components: Vec<Vec<u8>>,
}

impl Resolved {
    fn virtual_path(&self) -> Vec<u8> {
        if self.components.is_empty() {
            return b"/".to_vec();
        }
        let mut p = Vec::new();
        for c in &self.components {
            p.push(b'/');
            p.extend_from_slice(c);
        }
        p
    }
}

impl LocalFs {
    /// Serves `root` (which must be an existing directory).
    ///
    /// # Errors
    /// When `root` cannot be canonicalised.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "root is not a directory",
            ));
        }
        Ok(Self {
            root,
            handles: HashMap::new(),
            next_handle: 0,
            users: read_id_file("/etc/passwd"),
            groups: read_id_file("/etc/group"),
            uid: rustix::process::getuid().as_raw(),
        })
    }

    /// The directory served as `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `path` inside the root. Symlinks are followed in every component but
    /// the last, and in the last when `follow_last`. A missing last component is
    /// allowed (for creation); a missing earlier one is not.
    fn resolve(&self, path: &[u8], follow_last: bool) -> Result<Resolved, SftpError> {
        let mut stack: Vec<Vec<u8>> = Vec::new();
        let mut pending: Vec<Vec<u8>> = components(path).rev().collect();
        let mut hops = 0;
        while let Some(name) = pending.pop() {
            if name == b".." {
                stack.pop();
                continue;
            }
            let real = self.real_path(&stack).join(OsStr::from_bytes(&name));
            match fs::symlink_metadata(&real) {
                Ok(meta)
                    if meta.file_type().is_symlink() && (follow_last || !pending.is_empty()) =>
                {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(SftpError::new(
                            StatusCode::NoSuchFile,
                            "Too many levels of symbolic links",
                        ));
                    }
                    let target = fs::read_link(&real).map_err(status)?;
                    let target = target.as_os_str().as_bytes();
                    if target.first() == Some(&b'/') {
                        stack.clear();
                    }
                    pending.extend(components(target).rev());
                }
                Ok(meta) if !pending.is_empty() && !meta.is_dir() => {
                    return Err(SftpError::new(StatusCode::NoSuchFile, "Not a directory"));
                }
                Ok(_) => stack.push(name),
                Err(e) if e.kind() == io::ErrorKind::NotFound && pending.is_empty() => {
                    stack.push(name)
                }
                Err(e) => return Err(status(e)),
            }
        }
        Ok(Resolved {
            real: self.real_path(&stack),
            components: stack,
        })
    }

    fn real_path(&self, components: &[Vec<u8>]) -> PathBuf {
        let mut p = self.root.clone();
        for c in components {
            p.push(OsStr::from_bytes(c));
        }
        p
    }

    fn real(&self, path: &[u8], follow_last: bool) -> Result<PathBuf, SftpError> {
        Ok(self.resolve(path, follow_last)?.real)
    }

    /// The real path of a name to create or remove: the parent resolved, the last
    /// component taken as is (never `.`, `..` or the root itself).
    fn entry(&self, path: &[u8]) -> Result<PathBuf, SftpError> {
        let last = path.rsplit(|&b| b == b'/').find(|c| !c.is_empty());
        if matches!(last, Some(b"." | b"..")) {
            return Err(SftpError::failure("Invalid file name"));
        }
        let resolved = self.resolve(path, false)?;
        if resolved.components.is_empty() {
            return Err(SftpError::failure("Operation not permitted on the root"));
        }
        Ok(resolved.real)
    }

    fn new_handle(&mut self, open: Open) -> Handle {
        self.next_handle += 1;
        let handle = Handle::from(format!("{}", self.next_handle).into_bytes());
        self.handles.insert(handle.clone(), open);
        handle
    }

    fn file(&mut self, handle: &Handle) -> Result<&mut File, SftpError> {
        match self.handles.get_mut(handle) {
            Some(Open::File { file, .. }) => Ok(file),
            _ => Err(SftpError::failure("Invalid handle")),
        }
    }

    fn long_entry(&self, name: &[u8], meta: &fs::Metadata) -> Name {
        let attrs = attrs_of(meta);
        let user = self
            .users
            .get(&meta.uid())
            .cloned()
            .unwrap_or_else(|| meta.uid().to_string());
        let group = self
            .groups
            .get(&meta.gid())
            .cloned()
            .unwrap_or_else(|| meta.gid().to_string());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let ctx = LongNameContext {
            links: meta.nlink(),
            user: &user,
            group: &group,
            now,
        };
        Name {
            filename: name.to_vec(),
            longname: long_name(name, &attrs, &ctx),
            attrs,
        }
    }
}

fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
}

/// Maps an OS error to a status the way OpenSSH's server does (`errno_to_portable`).
fn status(e: io::Error) -> SftpError {
    const EPERM: i32 = 1;
    const ENOENT: i32 = 2;
    const EBADF: i32 = 9;
    const EACCES: i32 = 13;
    const ENOTDIR: i32 = 20;
    const EINVAL: i32 = 22;
    const ENAMETOOLONG: i32 = 36;
    const ENOSYS: i32 = 38;
    const ELOOP: i32 = 40;
    const EOPNOTSUPP: i32 = 95;
    let code = match e.raw_os_error() {
        Some(ENOENT | ENOTDIR | EBADF | ELOOP) => StatusCode::NoSuchFile,
        Some(EPERM | EACCES) => StatusCode::PermissionDenied,
        Some(ENAMETOOLONG | EINVAL) => StatusCode::BadMessage,
        Some(ENOSYS | EOPNOTSUPP) => StatusCode::OpUnsupported,
        _ => match e.kind() {
            io::ErrorKind::NotFound => StatusCode::NoSuchFile,
            io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
            _ => StatusCode::Failure,
        },
    };
    SftpError::new(code, e.to_string())
}

fn clamp_time(t: i64) -> u32 {
    u32::try_from(t.max(0)).unwrap_or(u32::MAX)
}

fn attrs_of(meta: &fs::Metadata) -> FileAttributes {
    FileAttributes::default()
        .with_size(meta.size())
        .with_owner(meta.uid(), meta.gid())
        .with_permissions(meta.mode())
        .with_times(clamp_time(meta.atime()), clamp_time(meta.mtime()))
}

fn read_id_file(path: &str) -> HashMap<u32, String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?.parse().ok()?;
            Some((id, name.to_owned()))
        })
        .collect()
}

fn statvfs_of(s: &rustix::fs::StatVfs) -> StatVfs {
    let mut flag = 0;
    if s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) {
        flag |= StatVfs::READ_ONLY;
    }
    if s.f_flag.contains(rustix::fs::StatVfsMountFlags::NOSUID) {
        flag |= StatVfs::NO_SUID;
    }
    StatVfs {
        bsize: s.f_bsize,
        frsize: s.f_frsize,
        blocks: s.f_blocks,
        bfree: s.f_bfree,
        bavail: s.f_bavail,
        files: s.f_files,
        ffree: s.f_ffree,
        favail: s.f_favail,
        fsid: s.f_fsid,
        flag,
        namemax: s.f_namemax,
    }
}

fn timestamps(atime: u32, mtime: u32) -> rustix::fs::Timestamps {
    let ts = |secs: u32| rustix::fs::Timespec {
        tv_sec: i64::from(secs),
        tv_nsec: 0,
    };
    rustix::fs::Timestamps {
        last_access: ts(atime),
        last_modification: ts(mtime),
    }
}

/// Applies `attrs` to the file at `path` (whose last component is not followed when
/// `follow` is false).
fn set_path_attrs(path: &Path, attrs: &FileAttributes, follow: bool) -> Result<(), SftpError> {
    let is_link = fs::symlink_metadata(path)
        .map_err(status)?
        .file_type()
        .is_symlink();
    if let Some(size) = attrs.size {
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path)
            .map_err(status)?;
        file.set_len(size).map_err(status)?;
    }
    if let Some(mode) = attrs.permissions {
        if is_link && !follow {
            // Linux cannot change a symlink's own mode.
            return Err(SftpError::unsupported());
        }
        fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777)).map_err(status)?;
    }
    if let Some(owner) = attrs.owner {
        std::os::unix::fs::lchown(path, Some(owner.uid), Some(owner.gid)).map_err(status)?;
    }
    if let Some(t) = attrs.times {
        rustix::fs::utimensat(
            rustix::fs::CWD,
            path,
            &timestamps(t.atime, t.mtime),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| status(e.into()))?;
    }
    Ok(())
}

impl Backend for LocalFs {
    fn open(
        &mut self,
        path: &[u8],
        flags: OpenFlags,
        attrs: &FileAttributes,
    ) -> Result<Handle, SftpError> {
        let real = self.real(path, true)?;
        let write = flags.contains(OpenFlags::WRITE);
        let append = flags.contains(OpenFlags::APPEND);
        let mut options = OpenOptions::new();
        options
            .read(flags.contains(OpenFlags::READ) || !write)
            .write(write)
            .append(write && append)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .mode(attrs.permissions.unwrap_or(0o666) & 0o7777);
        if flags.contains(OpenFlags::CREATE) {
            if flags.contains(OpenFlags::EXCLUSIVE) {
                options.create_new(true);
            } else {
                options.create(true);
            }
        }
        if flags.contains(OpenFlags::TRUNCATE) && write {
            options.truncate(true);
        }
        let file = options.open(&real).map_err(status)?;
        if file.metadata().map_err(status)?.is_dir() {
            return Err(SftpError::failure("Is a directory"));
        }
        Ok(self.new_handle(Open::File { file, append }))
    }

    fn close(&mut self, handle: &Handle) -> Result<(), SftpError> {
        self.handles
            .remove(handle)
            .map(drop)
            .ok_or_else(|| SftpError::failure("Invalid handle"))
    }

    fn read(&mut self, handle: &Handle, offset: u64, len: u32) -> Result<Option<Bytes>, SftpError> {
        let file = self.file(handle)?;
        let mut buf = vec![0u8; len as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(status(e)),
            }
        }
        if filled == 0 {
            return Ok(None);
        }
        buf.truncate(filled);
        Ok(Some(Bytes::from(buf)))
    }

    fn write(&mut self, handle: &Handle, offset: u64, data: &[u8]) -> Result<(), SftpError> {
        match self.handles.get_mut(handle) {
            Some(Open::File { file, append: true }) => file.write_all(data).map_err(status),
            Some(Open::File { file, .. }) => file.write_all_at(data, offset).map_err(status),
            _ => Err(SftpError::failure("Invalid handle")),
        }
    }

    fn lstat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError> {
        let real = self.real(path, false)?;
        Ok(attrs_of(&fs::symlink_metadata(real).map_err(status)?))
    }

    fn fstat(&mut self, handle: &Handle) -> Result<FileAttributes, SftpError> {
        Ok(attrs_of(&self.file(handle)?.metadata().map_err(status)?))
    }

    fn setstat(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        let real = self.real(path, true)?;
        set_path_attrs(&real, attrs, true)
    }

    fn fsetstat(&mut self, handle: &Handle, attrs: &FileAttributes) -> Result<(), SftpError> {
        let file = self.file(handle)?;
        if let Some(size) = attrs.size {
            file.set_len(size).map_err(status)?;
        }
        if let Some(mode) = attrs.permissions {
            file.set_permissions(fs::Permissions::from_mode(mode & 0o7777))
                .map_err(status)?;
        }
        if let Some(owner) = attrs.owner {
            std::os::unix::fs::fchown(&*file, Some(owner.uid), Some(owner.gid)).map_err(status)?;
        }
        if let Some(t) = attrs.times {
            rustix::fs::futimens(&*file, &timestamps(t.atime, t.mtime))
                .map_err(|e| status(e.into()))?;
        }
        Ok(())
    }

    fn opendir(&mut self, path: &[u8]) -> Result<Handle, SftpError> {
        let real = self.real(path, true)?;
        let entries = fs::read_dir(real).map_err(status)?;
        Ok(self.new_handle(Open::Dir { entries }))
    }

    fn readdir(&mut self, handle: &Handle) -> Result<Option<Vec<Name>>, SftpError> {
        let Some(Open::Dir { entries }) = self.handles.get_mut(handle) else {
            return Err(SftpError::failure("Invalid handle"));
        };
        let mut batch = Vec::new();
        for entry in entries.by_ref().take(READDIR_BATCH) {
            let entry = entry.map_err(status)?;
            // An entry removed since the listing began is skipped, not an error.
            if let Ok(meta) = entry.metadata() {
                batch.push((entry.file_name(), meta));
            }
        }
        if batch.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            batch
                .iter()
                .map(|(name, meta)| self.long_entry(name.as_bytes(), meta))
                .collect(),
        ))
    }

    fn remove(&mut self, path: &[u8]) -> Result<(), SftpError> {
        fs::remove_file(self.entry(path)?).map_err(status)
    }

    fn mkdir(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        let real = self.entry(path)?;
        fs::DirBuilder::new()
            .mode(attrs.permissions.unwrap_or(0o777) & 0o7777)
            .create(real)
            .map_err(status)
    }

    fn rmdir(&mut self, path: &[u8]) -> Result<(), SftpError> {
        fs::remove_dir(self.entry(path)?).map_err(status)
    }

    fn realpath(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        Ok(self.resolve(path, true)?.virtual_path())
    }

    fn stat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError> {
        let real = self.real(path, true)?;
        Ok(attrs_of(&fs::metadata(real).map_err(status)?))
    }

    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), SftpError> {
        let (from, to) = (self.entry(from)?, self.entry(to)?);
        if fs::symlink_metadata(&to).is_ok() {
            return Err(SftpError::failure("File exists"));
        }
        fs::rename(from, to).map_err(status)
    }

    fn readlink(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        let target = fs::read_link(self.entry(path)?).map_err(status)?;
        Ok(target.into_os_string().into_vec())
    }

    fn symlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), SftpError> {
        // The target is stored as given: this server resolves it inside the root
        // whenever it follows the link.
        std::os::unix::fs::symlink(OsStr::from_bytes(target), self.entry(link)?).map_err(status)
    }

    fn posix_rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), SftpError> {
        fs::rename(self.entry(from)?, self.entry(to)?).map_err(status)
    }

    fn statvfs(&mut self, path: &[u8]) -> Result<StatVfs, SftpError> {
        let real = self.real(path, true)?;
        rustix::fs::statvfs(&real)
            .map(|s| statvfs_of(&s))
            .map_err(|e| status(e.into()))
    }

    fn fstatvfs(&mut self, handle: &Handle) -> Result<StatVfs, SftpError> {
        let file = self.file(handle)?;
        rustix::fs::fstatvfs(&*file)
            .map(|s| statvfs_of(&s))
            .map_err(|e| status(e.into()))
    }

    fn hardlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), SftpError> {
        fs::hard_link(self.entry(target)?, self.entry(link)?).map_err(status)
    }

    fn fsync(&mut self, handle: &Handle) -> Result<(), SftpError> {
        self.file(handle)?.sync_all().map_err(status)
    }

    fn lsetstat(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        let real = self.real(path, false)?;
        set_path_attrs(&real, attrs, false)
    }

    fn expand_path(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        let expanded = match path.strip_prefix(b"~") {
            None => path.to_vec(),
            Some(rest) => {
                let split = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
                let (user, tail) = rest.split_at(split);
                [self.home_directory(user)?.as_slice(), tail].concat()
            }
        };
        self.realpath(&expanded)
    }

    fn copy_data(
        &mut self,
        read_handle: &Handle,
        read_offset: u64,
        len: u64,
        write_handle: &Handle,
        write_offset: u64,
    ) -> Result<(), SftpError> {
        let mut copied = 0u64;
        loop {
            let want = if len == 0 {
                64 * 1024
            } else {
                (len - copied).min(64 * 1024)
            };
            if want == 0 {
                return Ok(());
            }
            let Some(chunk) = self.read(read_handle, read_offset + copied, want as u32)? else {
                return Ok(());
            };
            let n = chunk.len() as u64;
            match self.handles.get_mut(write_handle) {
                Some(Open::File { file, .. }) => {
                    file.write_all_at(&chunk, write_offset + copied)
                        .map_err(status)?;
                }
                _ => return Err(SftpError::failure("Invalid handle")),
            }
            copied += n;
        }
    }

    fn home_directory(&mut self, username: &[u8]) -> Result<Vec<u8>, SftpError> {
        let own = self.users.get(&self.uid).map(String::as_bytes);
        if username.is_empty() || Some(username) == own {
            Ok(b"/".to_vec())
        } else {
            Err(SftpError::no_such_file())
        }
    }

    fn users_groups_by_id(
        &mut self,
        uids: &[u32],
        gids: &[u32],
    ) -> Result<(Vec<String>, Vec<String>), SftpError> {
        let name = |map: &HashMap<u32, String>, id: &u32| map.get(id).cloned().unwrap_or_default();
        Ok((
            uids.iter().map(|u| name(&self.users, u)).collect(),
            gids.iter().map(|g| name(&self.groups, g)).collect(),
        ))
    }
}

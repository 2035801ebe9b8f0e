//! [`LocalFs`]: a local directory served over SFTP as `/`.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use rustix::fs::{AtFlags, Dir, Mode, OFlags, Timestamps};
use rustix::io::Errno;

use super::meta::{IdNames, attrs_of, io_status, links_of, status, statvfs_of};
use super::root::{LOOKUP, Root, Target};
use crate::sftp::{
    Backend, FileAttributes, Handle, LongNameContext, Name, OpenFlags, SftpError, StatVfs,
    long_name,
};

/// Names returned by one READDIR, as OpenSSH's server does.
const READDIR_BATCH: usize = 100;
/// Bytes moved per step of `copy-data`.
const COPY_CHUNK: usize = 256 * 1024;
/// The size of each buffer READ data is cut from: a batch of
/// [`serve_sftp`](super::serve_sftp) reads at most 4 MiB.
const READ_ARENA: usize = 4 * 1024 * 1024;
/// Filled read buffers kept for reuse: with the one being filled, room for 16 MiB of
/// replies in flight and a batch being read. Released when no file is open.
const READ_ARENAS: usize = 5;

/// The buffers READ data is cut from. A filled buffer is taken back whole once every
/// reply cut from it is gone (written out), so a transfer allocates no memory, and
/// faults in and clears no fresh pages, per READ; a client keeping many large reads
/// in flight (OpenSSH's sftp and ours: 64 of 255 KiB) needs several buffers.
#[derive(Default)]
struct ReadArenas {
    current: Option<BytesMut>,
    /// Filled buffers, oldest first, waiting for their replies to go.
    filled: VecDeque<BytesMut>,
}

impl ReadArenas {
    /// The buffer to read `len` bytes into: the current one while it has room, else
    /// a filled one whose replies are gone, else a new one.
    fn with_room(&mut self, len: usize) -> &mut BytesMut {
        let wanted = READ_ARENA.max(len);
        let full = match self.current.take() {
            Some(current) if current.capacity() >= len => current,
            previous => {
                let reclaimed = self
                    .filled
                    .iter_mut()
                    .position(|buffer| buffer.try_reclaim(wanted))
                    .and_then(|i| self.filled.remove(i));
                if let Some(previous) = previous {
                    if self.filled.len() >= READ_ARENAS {
                        // Forgotten here; its memory goes with its last reply.
                        self.filled.pop_front();
                    }
                    self.filled.push_back(previous);
                }
                reclaimed.unwrap_or_else(|| BytesMut::with_capacity(wanted))
            }
        };
        self.current.insert(full)
    }
}

enum Open {
    File { file: File, append: bool },
    Dir(Dir),
}

/// A local directory served over SFTP as `/`, no path escaping it.
///
/// Every client path is resolved inside the root by the kernel (`openat2` with
/// `RESOLVE_IN_ROOT` on Linux) or by a walk that opens one directory at a time
/// without following symlinks (elsewhere), so `..`, absolute paths and symlinks,
/// absolute or relative, all stay inside, even when another process swaps a
/// directory for a symlink mid-resolution. Symlinks the client creates keep the target
/// it gave; this server follows them inside the root like any other.
///
/// Paths shown to the client are root-relative: `realpath` answers `/` for the root,
/// `~` expands to `/`, `home-directory` is `/`. Long names (`ls -l`) show user and
/// group names from `/etc/passwd` and `/etc/group`. It implements every extension of
/// [`Backend`]; the engine caps the open handles
/// ([`ServerConfig::max_handles`](crate::sftp::ServerConfig::max_handles)).
///
/// It blocks on file I/O: run it off the async executor, as
/// [`serve_sftp`](super::serve_sftp) does.
pub struct LocalFs {
    root: Root,
    path: PathBuf,
    handles: HashMap<Handle, Open>,
    next_handle: u64,
    names: IdNames,
    own_name: Option<String>,
    read_arenas: ReadArenas,
}

impl std::fmt::Debug for LocalFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFs")
            .field("root", &self.path)
            .field("open_handles", &self.handles.len())
            .finish_non_exhaustive()
    }
}

impl LocalFs {
    /// Serves the directory `root` as `/`.
    ///
    /// # Errors
    /// When `root` cannot be opened as a directory.
    pub fn new(root: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = root.as_ref().to_path_buf();
        let root = Root::open(&path)?;
        let names = IdNames::load();
        let own_name = names
            .user(rustix::process::getuid().as_raw())
            .map(str::to_owned);
        Ok(Self {
            root,
            path,
            handles: HashMap::new(),
            next_handle: 0,
            names,
            own_name,
            read_arenas: ReadArenas::default(),
        })
    }

    /// The directory served as `/`, as given to [`new`](Self::new).
    pub fn root(&self) -> &Path {
        &self.path
    }

    /// True when paths are resolved by the kernel's `openat2` (Linux 5.6 and later),
    /// false when by the portable walk.
    pub fn uses_openat2(&self) -> bool {
        self.root.uses_openat2()
    }

    /// The same backend resolving with the portable walk only, to test it on Linux.
    #[cfg(test)]
    pub(crate) fn without_openat2(mut self) -> Self {
        self.root = self.root.without_openat2();
        self
    }

    fn new_handle(&mut self, open: Open) -> Handle {
        self.next_handle += 1;
        let handle = Handle::from(self.next_handle.to_string().into_bytes());
        self.handles.insert(handle.clone(), open);
        handle
    }

    fn file(&self, handle: &Handle) -> Result<&File, SftpError> {
        match self.handles.get(handle) {
            Some(Open::File { file, .. }) => Ok(file),
            _ => Err(SftpError::failure("Invalid handle")),
        }
    }

    /// The parent and last name of an entry to create, remove or rename: never the
    /// root itself, nor a path ending in `.` or `..`.
    fn entry(&self, path: &[u8]) -> Result<(OwnedFd, Vec<u8>), SftpError> {
        match self.root.locate(path, false).map_err(status)? {
            Target::Entry { dir, name } => Ok((dir, name)),
            Target::Dir(_) => Err(SftpError::failure("Not a name in a directory")),
        }
    }

    fn stat_target(&self, path: &[u8], follow: bool) -> Result<FileAttributes, SftpError> {
        let st = match self.root.locate(path, follow).map_err(status)? {
            Target::Dir(fd) => rustix::fs::fstat(&fd),
            Target::Entry { dir, name } => {
                rustix::fs::statat(&dir, name.as_slice(), AtFlags::SYMLINK_NOFOLLOW)
            }
        };
        st.map(|st| attrs_of(&st)).map_err(status)
    }

    fn set_attrs(
        &self,
        path: &[u8],
        attrs: &FileAttributes,
        follow: bool,
    ) -> Result<(), SftpError> {
        match self.root.locate(path, follow).map_err(status)? {
            Target::Dir(fd) => {
                let dir = rustix::fs::openat(
                    &fd,
                    ".",
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(status)?;
                set_fd_attrs(&File::from(dir), attrs)
            }
            Target::Entry { dir, name } => set_entry_attrs(&dir, &name, attrs),
        }
    }

    fn long_entry(&self, name: &[u8], st: &rustix::fs::Stat) -> Name {
        let attrs = attrs_of(st);
        let (uid, gid) = attrs.owner.map_or((0, 0), |o| (o.uid, o.gid));
        let user = self
            .names
            .user(uid)
            .map_or_else(|| uid.to_string(), str::to_owned);
        let group = self
            .names
            .group(gid)
            .map_or_else(|| gid.to_string(), str::to_owned);
        let ctx = LongNameContext {
            links: links_of(st),
            user: &user,
            group: &group,
            now: unix_now(),
        };
        Name {
            filename: name.to_vec(),
            longname: long_name(name, &attrs, &ctx),
            attrs,
        }
    }
}

/// The wall clock, in seconds: long names show a time for files from the last six
/// months and a year for older ones, as `ls -l` does.
#[allow(clippy::disallowed_methods)] // The driver's filesystem backend, not the engine.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn mode_of(attrs: &FileAttributes, default: u32) -> Mode {
    Mode::from_bits_truncate((attrs.permissions.unwrap_or(default) & 0o7777) as _)
}

fn timestamps(atime: u32, mtime: u32) -> Timestamps {
    let ts = |secs: u32| rustix::fs::Timespec {
        tv_sec: secs.into(),
        tv_nsec: 0,
    };
    Timestamps {
        last_access: ts(atime),
        last_modification: ts(mtime),
    }
}

/// Applies `attrs` to an open file or directory.
fn set_fd_attrs(file: &File, attrs: &FileAttributes) -> Result<(), SftpError> {
    if let Some(size) = attrs.size {
        file.set_len(size).map_err(|e| io_status(&e))?;
    }
    if attrs.permissions.is_some() {
        rustix::fs::fchmod(file, mode_of(attrs, 0)).map_err(status)?;
    }
    if let Some(owner) = attrs.owner {
        let (uid, gid) = ids(owner.uid, owner.gid);
        rustix::fs::fchown(file, Some(uid), Some(gid)).map_err(status)?;
    }
    if let Some(t) = attrs.times {
        rustix::fs::futimens(file, &timestamps(t.atime, t.mtime)).map_err(status)?;
    }
    Ok(())
}

fn ids(uid: u32, gid: u32) -> (rustix::fs::Uid, rustix::fs::Gid) {
    (
        rustix::fs::Uid::from_raw(uid),
        rustix::fs::Gid::from_raw(gid),
    )
}

/// Applies `attrs` to the entry `name` of `dir` without following it if it is a
/// symlink (a symlink there now was swapped in after resolution, or lsetstat asked
/// for the link itself).
fn set_entry_attrs(dir: &OwnedFd, name: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
    if let Some(size) = attrs.size {
        let flags = OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(status)?;
        rustix::fs::ftruncate(&fd, size).map_err(status)?;
    }
    if attrs.permissions.is_some() {
        chmod_entry(dir, name, mode_of(attrs, 0)).map_err(status)?;
    }
    if let Some(owner) = attrs.owner {
        let (uid, gid) = ids(owner.uid, owner.gid);
        rustix::fs::chownat(dir, name, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(status)?;
    }
    if let Some(t) = attrs.times {
        let times = timestamps(t.atime, t.mtime);
        rustix::fs::utimensat(dir, name, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(status)?;
    }
    Ok(())
}

/// chmod of `name` in `dir`, never through a symlink.
///
/// Linux has no `fchmodat(AT_SYMLINK_NOFOLLOW)` before 6.6 (and rustix does not use
/// `fchmodat2`): the entry is opened `O_PATH | O_NOFOLLOW` and changed through its
/// `/proc/self/fd` link, which names that very inode (what glibc's `lchmod` does).
/// Without `/proc`, the name is changed directly after checking it is no symlink.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn chmod_entry(dir: &OwnedFd, name: &[u8], mode: Mode) -> Result<(), Errno> {
    use std::os::fd::AsRawFd;
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
    if rustix::fs::FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode)
        == rustix::fs::FileType::Symlink
    {
        return Err(Errno::OPNOTSUPP);
    }
    let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
    match rustix::fs::chmodat(rustix::fs::CWD, link.as_str(), mode, AtFlags::empty()) {
        Err(Errno::NOENT) => rustix::fs::chmodat(dir, name, mode, AtFlags::empty()),
        other => other,
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn chmod_entry(dir: &OwnedFd, name: &[u8], mode: Mode) -> Result<(), Errno> {
    rustix::fs::chmodat(dir, name, mode, AtFlags::SYMLINK_NOFOLLOW)
}

/// Fills `buf` from `offset`; returns how much was read, less only at end of file.
fn read_into(file: &File, offset: u64, buf: &mut [u8]) -> Result<usize, SftpError> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_status(&e)),
        }
    }
    Ok(filled)
}

/// Reads up to `len` bytes at `offset`, fewer only at end of file.
fn read_full(file: &File, offset: u64, len: usize) -> Result<Vec<u8>, SftpError> {
    let mut buf = vec![0u8; len];
    let filled = read_into(file, offset, &mut buf)?;
    buf.truncate(filled);
    Ok(buf)
}

fn open_flags(flags: OpenFlags) -> OFlags {
    let write = flags.contains(OpenFlags::WRITE);
    let mut o = match (flags.contains(OpenFlags::READ), write) {
        (true, true) => OFlags::RDWR,
        (false, true) => OFlags::WRONLY,
        _ => OFlags::RDONLY,
    };
    if write && flags.contains(OpenFlags::APPEND) {
        o |= OFlags::APPEND;
    }
    if flags.contains(OpenFlags::CREATE) {
        o |= OFlags::CREATE;
        if flags.contains(OpenFlags::EXCLUSIVE) {
            o |= OFlags::EXCL;
        }
    }
    if write && flags.contains(OpenFlags::TRUNCATE) {
        o |= OFlags::TRUNC;
    }
    o
}

fn is_dir(file: &File) -> Result<bool, SftpError> {
    let st = rustix::fs::fstat(file).map_err(status)?;
    Ok(rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory)
}

/// Renames unless the target exists (SFTP's RENAME), atomically where the kernel
/// and filesystem have `RENAME_NOREPLACE`.
fn rename_no_replace(
    from_dir: &OwnedFd,
    from_name: &[u8],
    to_dir: &OwnedFd,
    to_name: &[u8],
) -> Result<(), SftpError> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    match rustix::fs::renameat_with(
        from_dir,
        from_name,
        to_dir,
        to_name,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        // A filesystem without it: check, then rename.
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {}
        other => return other.map_err(status),
    }
    if rustix::fs::statat(to_dir, to_name, AtFlags::SYMLINK_NOFOLLOW).is_ok() {
        return Err(SftpError::failure("File exists"));
    }
    rustix::fs::renameat(from_dir, from_name, to_dir, to_name).map_err(status)
}

impl Backend for LocalFs {
    fn open(
        &mut self,
        path: &[u8],
        flags: OpenFlags,
        attrs: &FileAttributes,
    ) -> Result<Handle, SftpError> {
        let fd = self
            .root
            .open_path(path, open_flags(flags), mode_of(attrs, 0o666))
            .map_err(status)?;
        let file = File::from(fd);
        if is_dir(&file)? {
            return Err(SftpError::failure("Is a directory"));
        }
        let append = flags.contains(OpenFlags::APPEND);
        Ok(self.new_handle(Open::File { file, append }))
    }

    fn close(&mut self, handle: &Handle) -> Result<(), SftpError> {
        match self.handles.remove(handle) {
            Some(_) => {
                if !self
                    .handles
                    .values()
                    .any(|h| matches!(h, Open::File { .. }))
                {
                    // An idle session holds no read buffers.
                    self.read_arenas = ReadArenas::default();
                }
                Ok(())
            }
            None => Err(SftpError::failure("Invalid handle")),
        }
    }

    fn read(&mut self, handle: &Handle, offset: u64, len: u32) -> Result<Option<Bytes>, SftpError> {
        let len = len as usize;
        let file = match self.handles.get(handle) {
            Some(Open::File { file, .. }) => file,
            _ => return Err(SftpError::failure("Invalid handle")),
        };
        let arena = self.read_arenas.with_room(len);
        arena.resize(len, 0);
        let filled = read_into(file, offset, arena)?;
        arena.truncate(filled);
        let data = arena.split().freeze();
        Ok((!data.is_empty()).then_some(data))
    }

    fn write(&mut self, handle: &Handle, offset: u64, data: &[u8]) -> Result<(), SftpError> {
        match self.handles.get_mut(handle) {
            Some(Open::File { file, append: true }) => file.write_all(data),
            Some(Open::File { file, .. }) => file.write_all_at(data, offset),
            _ => return Err(SftpError::failure("Invalid handle")),
        }
        .map_err(|e| io_status(&e))
    }

    fn lstat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError> {
        self.stat_target(path, false)
    }

    fn fstat(&mut self, handle: &Handle) -> Result<FileAttributes, SftpError> {
        let st = rustix::fs::fstat(self.file(handle)?).map_err(status)?;
        Ok(attrs_of(&st))
    }

    fn setstat(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        self.set_attrs(path, attrs, true)
    }

    fn fsetstat(&mut self, handle: &Handle, attrs: &FileAttributes) -> Result<(), SftpError> {
        set_fd_attrs(self.file(handle)?, attrs)
    }

    fn opendir(&mut self, path: &[u8]) -> Result<Handle, SftpError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        let fd = self
            .root
            .open_path(path, flags, Mode::empty())
            .map_err(status)?;
        let dir = Dir::new(fd).map_err(status)?;
        Ok(self.new_handle(Open::Dir(dir)))
    }

    fn readdir(&mut self, handle: &Handle) -> Result<Option<Vec<Name>>, SftpError> {
        let Some(Open::Dir(dir)) = self.handles.get_mut(handle) else {
            return Err(SftpError::failure("Invalid handle"));
        };
        let mut batch = Vec::new();
        while batch.len() < READDIR_BATCH {
            let Some(entry) = dir.read() else { break };
            let entry = entry.map_err(status)?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let fd = dir.fd().map_err(status)?;
            // An entry removed since the listing began is skipped, not an error.
            if let Ok(st) = rustix::fs::statat(fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                batch.push((name.to_vec(), st));
            }
        }
        if batch.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            batch
                .iter()
                .map(|(name, st)| self.long_entry(name, st))
                .collect(),
        ))
    }

    fn remove(&mut self, path: &[u8]) -> Result<(), SftpError> {
        let (dir, name) = self.entry(path)?;
        rustix::fs::unlinkat(&dir, name.as_slice(), AtFlags::empty()).map_err(status)
    }

    fn mkdir(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        let (dir, name) = self.entry(path)?;
        rustix::fs::mkdirat(&dir, name.as_slice(), mode_of(attrs, 0o777)).map_err(status)
    }

    fn rmdir(&mut self, path: &[u8]) -> Result<(), SftpError> {
        let (dir, name) = self.entry(path)?;
        rustix::fs::unlinkat(&dir, name.as_slice(), AtFlags::REMOVEDIR).map_err(status)
    }

    fn realpath(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        self.root.realpath(path).map_err(status)
    }

    fn stat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError> {
        self.stat_target(path, true)
    }

    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), SftpError> {
        let (from_dir, from_name) = self.entry(from)?;
        let (to_dir, to_name) = self.entry(to)?;
        rename_no_replace(&from_dir, &from_name, &to_dir, &to_name)
    }

    fn readlink(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        let (dir, name) = self.entry(path)?;
        let target = rustix::fs::readlinkat(&dir, name.as_slice(), Vec::new()).map_err(status)?;
        Ok(target.into_bytes())
    }

    fn symlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), SftpError> {
        let (dir, name) = self.entry(link)?;
        rustix::fs::symlinkat(target, &dir, name.as_slice()).map_err(status)
    }

    fn posix_rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), SftpError> {
        let (from_dir, from_name) = self.entry(from)?;
        let (to_dir, to_name) = self.entry(to)?;
        rustix::fs::renameat(&from_dir, from_name.as_slice(), &to_dir, to_name.as_slice())
            .map_err(status)
    }

    fn statvfs(&mut self, path: &[u8]) -> Result<StatVfs, SftpError> {
        let fd = self
            .root
            .open_path(path, LOOKUP, Mode::empty())
            .map_err(status)?;
        rustix::fs::fstatvfs(&fd)
            .map(|s| statvfs_of(&s))
            .map_err(status)
    }

    fn fstatvfs(&mut self, handle: &Handle) -> Result<StatVfs, SftpError> {
        rustix::fs::fstatvfs(self.file(handle)?)
            .map(|s| statvfs_of(&s))
            .map_err(status)
    }

    fn hardlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), SftpError> {
        let (target_dir, target_name) = self.entry(target)?;
        let (link_dir, link_name) = self.entry(link)?;
        // Without AT_SYMLINK_FOLLOW a symlink is linked itself, never its target.
        rustix::fs::linkat(
            &target_dir,
            target_name.as_slice(),
            &link_dir,
            link_name.as_slice(),
            AtFlags::empty(),
        )
        .map_err(status)
    }

    fn fsync(&mut self, handle: &Handle) -> Result<(), SftpError> {
        self.file(handle)?.sync_all().map_err(|e| io_status(&e))
    }

    fn lsetstat(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        self.set_attrs(path, attrs, false)
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
        let from = self.file(read_handle)?;
        let to = self.file(write_handle)?;
        let mut copied = 0u64;
        while len == 0 || copied < len {
            let want = if len == 0 {
                COPY_CHUNK
            } else {
                usize::try_from(len - copied).map_or(COPY_CHUNK, |n| n.min(COPY_CHUNK))
            };
            let chunk = read_full(from, read_offset.saturating_add(copied), want)?;
            if chunk.is_empty() {
                break;
            }
            to.write_all_at(&chunk, write_offset.saturating_add(copied))
                .map_err(|e| io_status(&e))?;
            copied += chunk.len() as u64;
        }
        Ok(())
    }

    fn home_directory(&mut self, username: &[u8]) -> Result<Vec<u8>, SftpError> {
        let own = self.own_name.as_deref().map(str::as_bytes);
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
        let users = uids
            .iter()
            .map(|&u| self.names.user(u).unwrap_or_default().to_owned());
        let groups = gids
            .iter()
            .map(|&g| self.names.group(g).unwrap_or_default().to_owned());
        Ok((users.collect(), groups.collect()))
    }
}

#[cfg(test)]
mod read_arena_tests {
    use super::*;

    /// Cuts `len` bytes from the arenas, as `read` does.
    fn cut(arenas: &mut ReadArenas, len: usize) -> Bytes {
        let arena = arenas.with_room(len);
        arena.resize(len, 7);
        arena.split().freeze()
    }

    #[test]
    fn a_filled_buffer_is_reused_once_its_replies_are_gone() {
        let mut arenas = ReadArenas::default();
        let first = cut(&mut arenas, READ_ARENA);
        let start = first.as_ptr();
        drop(first);
        // The buffer is full: the next read takes another, the first waits.
        let second = cut(&mut arenas, 1024);
        assert_ne!(second.as_ptr(), start);
        // Once that one is full too, the first (its reply gone) comes back whole.
        drop(cut(&mut arenas, READ_ARENA - 1024));
        let third = cut(&mut arenas, 1024);
        assert_eq!(third.as_ptr(), start, "reclaimed, not allocated");
        drop(second);
    }

    #[test]
    fn a_buffer_with_a_reply_still_out_is_not_reused_and_at_most_a_few_are_kept() {
        let mut arenas = ReadArenas::default();
        let held: Vec<Bytes> = (0..READ_ARENAS + 3)
            .map(|_| cut(&mut arenas, READ_ARENA))
            .collect();
        let fresh = cut(&mut arenas, 1024);
        assert!(held.iter().all(|reply| reply.as_ptr() != fresh.as_ptr()));
        assert!(
            held.iter().all(|reply| reply.iter().all(|&b| b == 7)),
            "untouched"
        );
        assert!(arenas.filled.len() <= READ_ARENAS);
    }
}

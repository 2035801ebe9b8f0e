//! [`MemoryFs`]: an in-memory filesystem implementing [`Backend`], for tests of SFTP
//! clients and servers (ours and yours) without touching a disk.

mod tree;

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use crate::sftp::longname::{LongNameContext, long_name};
use crate::sftp::{
    Backend, FileAttributes, Handle, Name, OpenFlags, SftpError, StatVfs, StatusCode,
};

use tree::{
    EXEC, NAME_MAX, Node, NodeKind, READ, Tree, WRITE, Walk, components, denied, not_found,
};

/// Names returned by one READDIR.
const READDIR_BATCH: usize = 100;

/// Caps that keep a [`MemoryFs`] from growing without bound, whatever a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryFsLimits {
    /// Largest file. Default 1 GiB.
    pub max_file_size: u64,
    /// Total bytes of all files. Default 2 GiB.
    pub max_total_bytes: u64,
    /// Files, directories and symlinks in all. Default 1,000,000.
    pub max_nodes: usize,
}

impl Default for MemoryFsLimits {
    fn default() -> Self {
        Self {
            max_file_size: 1 << 30,
            max_total_bytes: 2 << 30,
            max_nodes: 1_000_000,
        }
    }
}

#[derive(Debug, Clone)]
enum OpenHandle {
    File {
        node: usize,
        read: bool,
        write: bool,
        append: bool,
    },
    Dir {
        node: usize,
        /// The last name returned; listing resumes after it.
        after: Option<Vec<u8>>,
    },
}

/// An in-memory filesystem served over SFTP: files, directories, symlinks and hard
/// links, owner/group/other permission checks, a virtual clock, and status codes
/// mapped from errno the way OpenSSH's server maps them.
///
/// Relative paths are relative to the home directory (`/` unless set with
/// [`with_home`](Self::with_home)). Times come from [`set_clock`](Self::set_clock):
/// nothing reads the system clock.
///
/// ```
/// use sansh_core::sftp::{Backend, MemoryFs, OpenFlags, Reply, Request};
/// let mut fs = MemoryFs::new();
/// fs.write_file("/hello.txt", b"hi").unwrap();
/// let handle = fs.open(b"/hello.txt", OpenFlags::READ, &Default::default()).unwrap();
/// assert_eq!(fs.read(&handle, 0, 10).unwrap().as_deref(), Some(&b"hi"[..]));
/// assert_eq!(fs.dispatch(Request::Close { handle }), Ok(Reply::Ok));
/// ```
#[derive(Debug, Clone)]
pub struct MemoryFs {
    tree: Tree,
    handles: HashMap<Handle, OpenHandle>,
    next_handle: u64,
    home: Vec<u8>,
    user: String,
    group: String,
    clock: u32,
    limits: MemoryFsLimits,
}

impl Default for MemoryFs {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryFs {
    /// An empty filesystem owned by uid 1000 ("user"), gid 1000 ("users"), home `/`.
    pub fn new() -> Self {
        Self {
            tree: Tree::new(1000, 1000),
            handles: HashMap::new(),
            next_handle: 0,
            home: b"/".to_vec(),
            user: "user".into(),
            group: "users".into(),
            clock: 0,
            limits: MemoryFsLimits::default(),
        }
    }

    /// Sets the caps on sizes and counts.
    #[must_use]
    pub fn with_limits(mut self, limits: MemoryFsLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Creates `home` (and its parents) and makes it the directory relative paths
    /// start from.
    ///
    /// # Errors
    /// When a component exists and is not a directory.
    pub fn with_home(mut self, home: &str) -> Result<Self, SftpError> {
        let mut path = Vec::new();
        for c in components(home.as_bytes()) {
            path.push(b'/');
            path.extend_from_slice(c);
            if self.lstat(&path).is_err() {
                self.mkdir(&path, &FileAttributes::default().with_permissions(0o755))?;
            }
        }
        self.home = if path.is_empty() { b"/".to_vec() } else { path };
        Ok(self)
    }

    /// Sets the virtual time (seconds since the epoch) stamped on changes.
    pub fn set_clock(&mut self, now: u32) {
        self.clock = now;
    }

    /// The session user's uid and gid.
    pub fn ids(&self) -> (u32, u32) {
        (self.tree.uid, self.tree.gid)
    }

    /// Creates or replaces a file with `data` (test setup; permission checks apply).
    ///
    /// # Errors
    /// As SSH_FXP_OPEN and SSH_FXP_WRITE would fail.
    pub fn write_file(&mut self, path: &str, data: &[u8]) -> Result<(), SftpError> {
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let h = self.open(path.as_bytes(), flags, &FileAttributes::default())?;
        let result = self.write(&h, 0, data);
        self.close(&h)?;
        result
    }

    /// A file's contents, following symlinks; `None` if it is missing or not a file.
    pub fn read_file(&self, path: &str) -> Option<Vec<u8>> {
        let walk = self
            .tree
            .walk(&self.cwd().ok()?, path.as_bytes(), true)
            .ok()?;
        match &self.tree.get(walk.node()).ok()?.kind {
            NodeKind::File(data) => Some(data.clone()),
            _ => None,
        }
    }

    /// True when `path` names something (not following a final symlink).
    pub fn exists(&self, path: &str) -> bool {
        self.cwd()
            .and_then(|cwd| self.tree.walk(&cwd, path.as_bytes(), false))
            .is_ok()
    }

    /// How many handles are open.
    pub fn open_handle_count(&self) -> usize {
        self.handles.len()
    }

    // ----- internals -----

    fn cwd(&self) -> Result<Walk, SftpError> {
        self.tree.walk(&Walk::default(), &self.home, true)
    }

    fn resolve(&self, path: &[u8], follow: bool) -> Result<Walk, SftpError> {
        self.tree.walk(&self.cwd()?, path, follow)
    }

    fn parent(&self, path: &[u8]) -> Result<(usize, Vec<u8>), SftpError> {
        let (dir, name) = self.tree.walk_parent(&self.cwd()?, path)?;
        Ok((dir.node(), name))
    }

    fn new_handle(&mut self, open: OpenHandle) -> Handle {
        self.next_handle += 1;
        let handle = Handle::from(format!("h{}", self.next_handle).into_bytes());
        self.handles.insert(handle.clone(), open);
        handle
    }

    fn handle(&self, handle: &Handle) -> Result<&OpenHandle, SftpError> {
        // EBADF, which OpenSSH reports as "no such file"; the engine filters unknown
        // handles before they get here.
        self.handles.get(handle).ok_or_else(not_found)
    }

    fn file_handle(&self, handle: &Handle) -> Result<(usize, bool, bool, bool), SftpError> {
        match self.handle(handle)? {
            OpenHandle::File {
                node,
                read,
                write,
                append,
            } => Ok((*node, *read, *write, *append)),
            OpenHandle::Dir { .. } => Err(SftpError::failure("Is a directory")),
        }
    }

    fn new_node(&self, kind: NodeKind, mode: u32) -> Result<Node, SftpError> {
        if self.tree.live_nodes() >= self.limits.max_nodes {
            return Err(SftpError::failure("No space left on device"));
        }
        Ok(Node {
            kind,
            mode: mode & 0o7777,
            uid: self.tree.uid,
            gid: self.tree.gid,
            atime: self.clock,
            mtime: self.clock,
            links: 1,
            open: 0,
        })
    }

    /// Creates a new entry in `path`'s parent, which must be writable and lack it.
    fn create_entry(&mut self, path: &[u8], kind: NodeKind, mode: u32) -> Result<usize, SftpError> {
        let (dir, name) = self.parent(path)?;
        if self.tree.lookup(dir, &name)?.is_some() {
            return Err(SftpError::failure("File exists"));
        }
        self.tree.require(dir, WRITE | EXEC)?;
        let node = self.new_node(kind, mode)?;
        Ok(self.tree.create(dir, name, node))
    }

    /// Checks that a file may grow from `old` to `new` bytes.
    fn check_size(&self, old: usize, new: u64) -> Result<(), SftpError> {
        let total = self.tree.used_bytes.saturating_sub(old as u64) + new;
        if new > self.limits.max_file_size || total > self.limits.max_total_bytes {
            return Err(SftpError::failure("File too large"));
        }
        Ok(())
    }

    fn write_at(&mut self, node: usize, offset: u64, data: &[u8]) -> Result<(), SftpError> {
        if data.is_empty() {
            return Ok(());
        }
        let old = self.tree.file_data_mut(node)?.len();
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| SftpError::failure("File too large"))?;
        self.check_size(old, end.max(old as u64))?;
        // Both bounds are below max_file_size, which fits in memory by construction.
        let (offset, end) = (offset as usize, end as usize);
        let file = self.tree.file_data_mut(node)?;
        if file.len() < end {
            file.resize(end, 0);
        }
        file[offset..end].copy_from_slice(data);
        let new = file.len();
        self.tree.account(old, new);
        let clock = self.clock;
        self.tree.get_mut(node)?.mtime = clock;
        Ok(())
    }

    fn apply_attrs(&mut self, node: usize, attrs: &FileAttributes) -> Result<(), SftpError> {
        let n = self.tree.get(node)?;
        if n.uid != self.tree.uid {
            return Err(denied());
        }
        if let Some(size) = attrs.size {
            let old = self.tree.file_data_mut(node)?.len();
            self.check_size(old, size)?;
            let file = self.tree.file_data_mut(node)?;
            file.resize(size as usize, 0);
            self.tree.account(old, size as usize);
        }
        let n = self.tree.get_mut(node)?;
        if let Some(mode) = attrs.permissions {
            n.mode = mode & 0o7777;
        }
        if let Some(owner) = attrs.owner {
            n.uid = owner.uid;
            n.gid = owner.gid;
        }
        if let Some(times) = attrs.times {
            n.atime = times.atime;
            n.mtime = times.mtime;
        }
        Ok(())
    }

    fn long_entry(&self, name: &[u8], node: usize) -> Result<Name, SftpError> {
        let n = self.tree.get(node)?;
        let attrs = n.attrs();
        let (user, group) = (self.user_name(n.uid), self.group_name(n.gid));
        let ctx = LongNameContext {
            links: u64::from(n.links),
            user: if user.is_empty() { "?" } else { &user },
            group: if group.is_empty() { "?" } else { &group },
            now: u64::from(self.clock),
        };
        Ok(Name {
            filename: name.to_vec(),
            longname: long_name(name, &attrs, &ctx),
            attrs,
        })
    }

    fn user_name(&self, uid: u32) -> String {
        match uid {
            0 => "root".into(),
            u if u == self.tree.uid => self.user.clone(),
            _ => String::new(),
        }
    }

    fn group_name(&self, gid: u32) -> String {
        match gid {
            0 => "root".into(),
            g if g == self.tree.gid => self.group.clone(),
            _ => String::new(),
        }
    }

    /// Moves the entry `from` to `to`; `replace` allows an existing `to`.
    fn move_entry(&mut self, from: &[u8], to: &[u8], replace: bool) -> Result<(), SftpError> {
        let (from_dir, from_name) = self.parent(from)?;
        let node = self
            .tree
            .lookup(from_dir, &from_name)?
            .ok_or_else(not_found)?;
        let (to_walk, to_name) = self.tree.walk_parent(&self.cwd()?, to)?;
        let to_dir = to_walk.node();
        self.tree.require(from_dir, WRITE | EXEC)?;
        self.tree.require(to_dir, WRITE | EXEC)?;
        let moving_dir = matches!(self.tree.get(node)?.kind, NodeKind::Dir(_));
        if moving_dir && Tree::is_within(&to_walk, node) {
            return Err(SftpError::failure("Cannot move a directory into itself"));
        }
        if let Some(existing) = self.tree.lookup(to_dir, &to_name)? {
            if !replace {
                return Err(SftpError::failure("File exists"));
            }
            if existing == node {
                return Ok(());
            }
            match (&self.tree.get(existing)?.kind, moving_dir) {
                (NodeKind::Dir(entries), true) if entries.is_empty() => {}
                (NodeKind::Dir(_), true) => return Err(SftpError::failure("Directory not empty")),
                (NodeKind::Dir(_), false) => return Err(SftpError::failure("Is a directory")),
                (_, true) => return Err(SftpError::failure("Not a directory")),
                (_, false) => {}
            }
            self.tree.unlink(to_dir, &to_name)?;
        }
        self.tree.link(to_dir, to_name, node)?;
        self.tree.unlink(from_dir, &from_name)
    }

    fn statvfs_now(&self) -> StatVfs {
        let block = 4096;
        let blocks = self.limits.max_total_bytes / block;
        let used = self.tree.used_bytes.div_ceil(block);
        let files = self.limits.max_nodes as u64;
        let free_files = files.saturating_sub(self.tree.live_nodes() as u64);
        StatVfs {
            bsize: block,
            frsize: block,
            blocks,
            bfree: blocks.saturating_sub(used),
            bavail: blocks.saturating_sub(used),
            files,
            ffree: free_files,
            favail: free_files,
            fsid: 0x5346_5450,
            flag: 0,
            namemax: NAME_MAX as u64,
        }
    }
}

impl Backend for MemoryFs {
    fn open(
        &mut self,
        path: &[u8],
        flags: OpenFlags,
        attrs: &FileAttributes,
    ) -> Result<Handle, SftpError> {
        let read = flags.contains(OpenFlags::READ) || !flags.contains(OpenFlags::WRITE);
        let write = flags.contains(OpenFlags::WRITE);
        let create = flags.contains(OpenFlags::CREATE);
        let existing = match self.resolve(path, true) {
            Ok(walk) => Some(walk.node()),
            Err(e) if e.code == StatusCode::NoSuchFile && create => None,
            Err(e) => return Err(e),
        };
        let node = match existing {
            Some(_) if create && flags.contains(OpenFlags::EXCLUSIVE) => {
                return Err(SftpError::failure("File exists"));
            }
            Some(node) => {
                if matches!(self.tree.get(node)?.kind, NodeKind::Dir(_)) {
                    return Err(SftpError::failure("Is a directory"));
                }
                if read {
                    self.tree.require(node, READ)?;
                }
                if write {
                    self.tree.require(node, WRITE)?;
                }
                node
            }
            None => {
                let mode = attrs.permissions.unwrap_or(0o666);
                self.create_entry(path, NodeKind::File(Vec::new()), mode)?
            }
        };
        if write && flags.contains(OpenFlags::TRUNCATE) {
            let file = self.tree.file_data_mut(node)?;
            let old = file.len();
            file.clear();
            self.tree.account(old, 0);
        }
        self.tree.get_mut(node)?.open += 1;
        Ok(self.new_handle(OpenHandle::File {
            node,
            read,
            write,
            append: flags.contains(OpenFlags::APPEND),
        }))
    }

    fn close(&mut self, handle: &Handle) -> Result<(), SftpError> {
        let open = self.handles.remove(handle).ok_or_else(not_found)?;
        let node = match open {
            OpenHandle::File { node, .. } | OpenHandle::Dir { node, .. } => node,
        };
        if let Ok(n) = self.tree.get_mut(node) {
            n.open = n.open.saturating_sub(1);
        }
        self.tree.release_if_unused(node);
        Ok(())
    }

    fn read(&mut self, handle: &Handle, offset: u64, len: u32) -> Result<Option<Bytes>, SftpError> {
        let (node, read, _, _) = self.file_handle(handle)?;
        if !read {
            return Err(SftpError::new(
                StatusCode::PermissionDenied,
                "Handle not open for reading",
            ));
        }
        let NodeKind::File(data) = &self.tree.get(node)?.kind else {
            return Err(SftpError::failure("Not a regular file"));
        };
        let Some(rest) = usize::try_from(offset).ok().and_then(|o| data.get(o..)) else {
            return Ok(None);
        };
        if rest.is_empty() {
            return Ok(None);
        }
        let n = rest.len().min(len as usize);
        Ok(Some(Bytes::copy_from_slice(&rest[..n])))
    }

    fn write(&mut self, handle: &Handle, offset: u64, data: &[u8]) -> Result<(), SftpError> {
        let (node, _, write, append) = self.file_handle(handle)?;
        if !write {
            return Err(SftpError::new(
                StatusCode::PermissionDenied,
                "Handle not open for writing",
            ));
        }
        let offset = if append {
            self.tree.get(node)?.size()
        } else {
            offset
        };
        self.write_at(node, offset, data)
    }

    fn lstat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError> {
        let walk = self.resolve(path, false)?;
        Ok(self.tree.get(walk.node())?.attrs())
    }

    fn fstat(&mut self, handle: &Handle) -> Result<FileAttributes, SftpError> {
        let (node, ..) = self.file_handle(handle)?;
        Ok(self.tree.get(node)?.attrs())
    }

    fn setstat(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        let node = self.resolve(path, true)?.node();
        self.apply_attrs(node, attrs)
    }

    fn fsetstat(&mut self, handle: &Handle, attrs: &FileAttributes) -> Result<(), SftpError> {
        let (node, ..) = self.file_handle(handle)?;
        self.apply_attrs(node, attrs)
    }

    fn opendir(&mut self, path: &[u8]) -> Result<Handle, SftpError> {
        let node = self.resolve(path, true)?.node();
        self.tree.entries(node)?;
        self.tree.require(node, READ)?;
        self.tree.get_mut(node)?.open += 1;
        Ok(self.new_handle(OpenHandle::Dir { node, after: None }))
    }

    fn readdir(&mut self, handle: &Handle) -> Result<Option<Vec<Name>>, SftpError> {
        let OpenHandle::Dir { node, after } = self.handle(handle)? else {
            return Err(SftpError::failure("Not a directory"));
        };
        let entries = self.tree.entries(*node)?;
        let batch: Vec<(Vec<u8>, usize)> = match after {
            None => entries
                .iter()
                .take(READDIR_BATCH)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            Some(last) => entries
                .range::<Vec<u8>, _>((std::ops::Bound::Excluded(last), std::ops::Bound::Unbounded))
                .take(READDIR_BATCH)
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        };
        let Some((last, _)) = batch.last() else {
            return Ok(None);
        };
        let last = last.clone();
        let names = batch
            .iter()
            .map(|(name, node)| self.long_entry(name, *node))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(OpenHandle::Dir { after, .. }) = self.handles.get_mut(handle) {
            *after = Some(last);
        }
        Ok(Some(names))
    }

    fn remove(&mut self, path: &[u8]) -> Result<(), SftpError> {
        let (dir, name) = self.parent(path)?;
        let node = self.tree.lookup(dir, &name)?.ok_or_else(not_found)?;
        if matches!(self.tree.get(node)?.kind, NodeKind::Dir(_)) {
            return Err(SftpError::failure("Is a directory"));
        }
        self.tree.require(dir, WRITE | EXEC)?;
        self.tree.unlink(dir, &name)
    }

    fn mkdir(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        let mode = attrs.permissions.unwrap_or(0o777);
        self.create_entry(path, NodeKind::Dir(BTreeMap::new()), mode)
            .map(|_| ())
    }

    fn rmdir(&mut self, path: &[u8]) -> Result<(), SftpError> {
        let (dir, name) = self.parent(path)?;
        let node = self.tree.lookup(dir, &name)?.ok_or_else(not_found)?;
        if !self.tree.entries(node)?.is_empty() {
            return Err(SftpError::failure("Directory not empty"));
        }
        self.tree.require(dir, WRITE | EXEC)?;
        self.tree.unlink(dir, &name)
    }

    fn realpath(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        match self.resolve(path, true) {
            Ok(walk) => Ok(walk.path()),
            // A missing last component is kept, so a client can name a file it is
            // about to create.
            Err(e) if e.code == StatusCode::NoSuchFile => {
                let (dir, name) = self.tree.walk_parent(&self.cwd()?, path).map_err(|_| e)?;
                let mut p = dir.path();
                if p != b"/" {
                    p.push(b'/');
                }
                p.extend_from_slice(&name);
                Ok(p)
            }
            Err(e) => Err(e),
        }
    }

    fn stat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError> {
        let walk = self.resolve(path, true)?;
        Ok(self.tree.get(walk.node())?.attrs())
    }

    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), SftpError> {
        self.move_entry(from, to, false)
    }

    fn readlink(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        let walk = self.resolve(path, false)?;
        match &self.tree.get(walk.node())?.kind {
            NodeKind::Symlink(target) => Ok(target.clone()),
            _ => Err(SftpError::failure("Not a symbolic link")),
        }
    }

    fn symlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), SftpError> {
        if self.tree.used_bytes + target.len() as u64 > self.limits.max_total_bytes {
            return Err(SftpError::failure("No space left on device"));
        }
        self.create_entry(link, NodeKind::Symlink(target.to_vec()), 0o777)
            .map(|_| ())
    }

    fn posix_rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), SftpError> {
        self.move_entry(from, to, true)
    }

    fn statvfs(&mut self, path: &[u8]) -> Result<StatVfs, SftpError> {
        self.resolve(path, true)?;
        Ok(self.statvfs_now())
    }

    fn fstatvfs(&mut self, handle: &Handle) -> Result<StatVfs, SftpError> {
        self.handle(handle)?;
        Ok(self.statvfs_now())
    }

    fn hardlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), SftpError> {
        let node = self.resolve(target, false)?.node();
        if matches!(self.tree.get(node)?.kind, NodeKind::Dir(_)) {
            // link(2) refuses directories with EPERM.
            return Err(denied());
        }
        let (dir, name) = self.parent(link)?;
        if self.tree.lookup(dir, &name)?.is_some() {
            return Err(SftpError::failure("File exists"));
        }
        self.tree.require(dir, WRITE | EXEC)?;
        self.tree.link(dir, name, node)
    }

    fn fsync(&mut self, handle: &Handle) -> Result<(), SftpError> {
        self.file_handle(handle).map(|_| ())
    }

    fn lsetstat(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError> {
        let node = self.resolve(path, false)?.node();
        self.apply_attrs(node, attrs)
    }

    fn expand_path(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError> {
        let expanded = match path.strip_prefix(b"~") {
            None => path.to_vec(),
            Some(rest) => {
                let split = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
                let (user, tail) = rest.split_at(split);
                let home = self.home_directory(user)?;
                [home.as_slice(), tail].concat()
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
        let (src, readable, ..) = self.file_handle(read_handle)?;
        let (dst, _, writable, _) = self.file_handle(write_handle)?;
        if !readable || !writable {
            return Err(denied());
        }
        let NodeKind::File(data) = &self.tree.get(src)?.kind else {
            return Err(SftpError::failure("Not a regular file"));
        };
        let start = usize::try_from(read_offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = if len == 0 {
            data.len()
        } else {
            start
                .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
                .min(data.len())
        };
        let chunk = data[start..end].to_vec();
        self.write_at(dst, write_offset, &chunk)
    }

    fn home_directory(&mut self, username: &[u8]) -> Result<Vec<u8>, SftpError> {
        if username.is_empty() || username == self.user.as_bytes() {
            Ok(self.home.clone())
        } else {
            Err(not_found())
        }
    }

    fn users_groups_by_id(
        &mut self,
        uids: &[u32],
        gids: &[u32],
    ) -> Result<(Vec<String>, Vec<String>), SftpError> {
        Ok((
            uids.iter().map(|&u| self.user_name(u)).collect(),
            gids.iter().map(|&g| self.group_name(g)).collect(),
        ))
    }
}

#[cfg(test)]
mod tests;

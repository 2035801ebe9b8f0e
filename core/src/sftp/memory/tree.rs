//! The node tree behind [`MemoryFs`](super::MemoryFs): files, directories and symlinks
//! in a slab, path resolution with `..` and symlinks, and Unix-style permission checks.

use std::collections::BTreeMap;

use crate::sftp::{FileAttributes, FileType, SftpError, StatusCode};

/// The root directory's slot.
pub(super) const ROOT: usize = 0;
/// Symlinks followed in one resolution before giving up (ELOOP).
const MAX_SYMLINK_HOPS: usize = 32;
/// The longest file name component.
pub(super) const NAME_MAX: usize = 255;

pub(super) const READ: u32 = 0o4;
pub(super) const WRITE: u32 = 0o2;
pub(super) const EXEC: u32 = 0o1;

#[derive(Debug, Clone)]
pub(super) enum NodeKind {
    File(Vec<u8>),
    Dir(BTreeMap<Vec<u8>, usize>),
    Symlink(Vec<u8>),
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) kind: NodeKind,
    /// Permission bits (`0o7777`), without the type.
    pub(super) mode: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) atime: u32,
    pub(super) mtime: u32,
    /// Directory entries naming this node.
    pub(super) links: u32,
    /// Handles open on this node; an unlinked node lives until they close.
    pub(super) open: u32,
}

impl Node {
    pub(super) fn file_type(&self) -> FileType {
        match self.kind {
            NodeKind::File(_) => FileType::Regular,
            NodeKind::Dir(_) => FileType::Directory,
            NodeKind::Symlink(_) => FileType::Symlink,
        }
    }

    pub(super) fn size(&self) -> u64 {
        match &self.kind {
            NodeKind::File(data) => data.len() as u64,
            NodeKind::Dir(_) => 4096,
            NodeKind::Symlink(target) => target.len() as u64,
        }
    }

    pub(super) fn attrs(&self) -> FileAttributes {
        FileAttributes::default()
            .with_size(self.size())
            .with_owner(self.uid, self.gid)
            .with_permissions(self.file_type().mode_bits() | self.mode)
            .with_times(self.atime, self.mtime)
    }
}

/// A path resolved to a node: the chain of (name, node) from the root.
#[derive(Debug, Clone, Default)]
pub(super) struct Walk(pub(super) Vec<(Vec<u8>, usize)>);

impl Walk {
    pub(super) fn node(&self) -> usize {
        self.0.last().map_or(ROOT, |(_, n)| *n)
    }

    /// The canonical absolute path.
    pub(super) fn path(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return b"/".to_vec();
        }
        let mut p = Vec::new();
        for (name, _) in &self.0 {
            p.push(b'/');
            p.extend_from_slice(name);
        }
        p
    }
}

/// The slab of nodes.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    nodes: Vec<Option<Node>>,
    free: Vec<usize>,
    live: usize,
    /// Bytes held in file contents and symlink targets.
    pub(super) used_bytes: u64,
    /// The user whose permissions apply.
    pub(super) uid: u32,
    pub(super) gid: u32,
}

pub(super) fn not_found() -> SftpError {
    SftpError::no_such_file()
}

pub(super) fn denied() -> SftpError {
    SftpError::permission_denied()
}

impl Tree {
    pub(super) fn new(uid: u32, gid: u32) -> Self {
        let root = Node {
            kind: NodeKind::Dir(BTreeMap::new()),
            mode: 0o755,
            uid,
            gid,
            atime: 0,
            mtime: 0,
            links: 1,
            open: 0,
        };
        Self {
            nodes: vec![Some(root)],
            free: Vec::new(),
            live: 1,
            used_bytes: 0,
            uid,
            gid,
        }
    }

    pub(super) fn live_nodes(&self) -> usize {
        self.live
    }

    pub(super) fn get(&self, id: usize) -> Result<&Node, SftpError> {
        self.nodes
            .get(id)
            .and_then(Option::as_ref)
            .ok_or_else(not_found)
    }

    pub(super) fn get_mut(&mut self, id: usize) -> Result<&mut Node, SftpError> {
        self.nodes
            .get_mut(id)
            .and_then(Option::as_mut)
            .ok_or_else(not_found)
    }

    pub(super) fn entries(&self, dir: usize) -> Result<&BTreeMap<Vec<u8>, usize>, SftpError> {
        match &self.get(dir)?.kind {
            NodeKind::Dir(entries) => Ok(entries),
            // ENOTDIR, which OpenSSH reports as "no such file".
            _ => Err(not_found()),
        }
    }

    fn entries_mut(&mut self, dir: usize) -> Result<&mut BTreeMap<Vec<u8>, usize>, SftpError> {
        match &mut self.get_mut(dir)?.kind {
            NodeKind::Dir(entries) => Ok(entries),
            _ => Err(not_found()),
        }
    }

    /// True when the user may access `node` with `want` (READ, WRITE, EXEC bits).
    pub(super) fn permits(&self, node: usize, want: u32) -> bool {
        let Ok(n) = self.get(node) else {
            return false;
        };
        let bits = if n.uid == self.uid {
            n.mode >> 6
        } else if n.gid == self.gid {
            n.mode >> 3
        } else {
            n.mode
        } & 0o7;
        bits & want == want
    }

    pub(super) fn require(&self, node: usize, want: u32) -> Result<(), SftpError> {
        if self.permits(node, want) {
            Ok(())
        } else {
            Err(denied())
        }
    }

    /// Resolves `path` (absolute, or relative to `cwd`), following symlinks in every
    /// component, and in the last one only when `follow_last`.
    pub(super) fn walk(
        &self,
        cwd: &Walk,
        path: &[u8],
        follow_last: bool,
    ) -> Result<Walk, SftpError> {
        let mut stack = if path.first() == Some(&b'/') {
            Vec::new()
        } else {
            cwd.0.clone()
        };
        let mut pending: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
        let mut hops = 0;
        while let Some(name) = pending.pop() {
            if name == b".." {
                stack.pop();
                continue;
            }
            let dir = stack.last().map_or(ROOT, |(_, n)| *n);
            let entries = self.entries(dir)?;
            self.require(dir, EXEC)?;
            let child = *entries.get(&name).ok_or_else(not_found)?;
            if let NodeKind::Symlink(target) = &self.get(child)?.kind {
                if !pending.is_empty() || follow_last {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        // ELOOP, which OpenSSH reports as "no such file".
                        return Err(SftpError::new(
                            StatusCode::NoSuchFile,
                            "Too many levels of symbolic links",
                        ));
                    }
                    if target.first() == Some(&b'/') {
                        stack.clear();
                    }
                    pending.extend(components(target).rev().map(<[u8]>::to_vec));
                    continue;
                }
            }
            stack.push((name, child));
        }
        Ok(Walk(stack))
    }

    /// Resolves the directory that holds `path`'s last component, and that component.
    /// The name must be a real entry name (not empty, `.` or `..`).
    pub(super) fn walk_parent(
        &self,
        cwd: &Walk,
        path: &[u8],
    ) -> Result<(Walk, Vec<u8>), SftpError> {
        let trimmed = trim_trailing_slashes(path);
        let (parent, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => (&b""[..], trimmed),
        };
        if name.is_empty() || name == b"." || name == b".." {
            return Err(SftpError::failure("Invalid file name"));
        }
        if name.len() > NAME_MAX {
            return Err(SftpError::bad_message("File name too long"));
        }
        let dir = self.walk(cwd, parent, true)?;
        self.entries(dir.node())?;
        Ok((dir, name.to_vec()))
    }

    pub(super) fn lookup(&self, dir: usize, name: &[u8]) -> Result<Option<usize>, SftpError> {
        Ok(self.entries(dir)?.get(name).copied())
    }

    /// Adds a new node under `dir` as `name`.
    pub(super) fn create(&mut self, dir: usize, name: Vec<u8>, node: Node) -> usize {
        self.used_bytes += match &node.kind {
            NodeKind::File(d) => d.len() as u64,
            NodeKind::Symlink(t) => t.len() as u64,
            NodeKind::Dir(_) => 0,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id] = Some(node);
                id
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        };
        self.live += 1;
        if let Ok(entries) = self.entries_mut(dir) {
            entries.insert(name, id);
        }
        id
    }

    /// Adds another name for an existing node (a hard link, or the far end of a move).
    pub(super) fn link(&mut self, dir: usize, name: Vec<u8>, node: usize) -> Result<(), SftpError> {
        self.entries_mut(dir)?.insert(name, node);
        self.get_mut(node)?.links += 1;
        Ok(())
    }

    /// Removes the entry `name` from `dir`, freeing its node once nothing refers to it.
    pub(super) fn unlink(&mut self, dir: usize, name: &[u8]) -> Result<(), SftpError> {
        let node = self.entries_mut(dir)?.remove(name).ok_or_else(not_found)?;
        let n = self.get_mut(node)?;
        n.links = n.links.saturating_sub(1);
        self.release_if_unused(node);
        Ok(())
    }

    /// Frees `node` if no entry names it and no handle holds it.
    pub(super) fn release_if_unused(&mut self, node: usize) {
        let unused = self.get(node).is_ok_and(|n| n.links == 0 && n.open == 0);
        if unused && node != ROOT {
            if let Some(Some(n)) = self.nodes.get(node) {
                self.used_bytes = self.used_bytes.saturating_sub(match &n.kind {
                    NodeKind::File(d) => d.len() as u64,
                    NodeKind::Symlink(t) => t.len() as u64,
                    NodeKind::Dir(_) => 0,
                });
            }
            self.nodes[node] = None;
            self.free.push(node);
            self.live -= 1;
        }
    }

    /// True when `ancestor` is `node` or one of the directories on `walk`'s chain.
    pub(super) fn is_within(walk: &Walk, ancestor: usize) -> bool {
        ancestor == ROOT || walk.0.iter().any(|(_, n)| *n == ancestor)
    }

    /// Mutable access to a file's contents.
    pub(super) fn file_data_mut(&mut self, node: usize) -> Result<&mut Vec<u8>, SftpError> {
        match &mut self.get_mut(node)?.kind {
            NodeKind::File(data) => Ok(data),
            _ => Err(SftpError::failure("Not a regular file")),
        }
    }

    /// Records a change of `old` to `new` bytes of content.
    pub(super) fn account(&mut self, old: usize, new: usize) {
        self.used_bytes = self.used_bytes.saturating_sub(old as u64) + new as u64;
    }
}

/// The non-empty, non-`.` components of a path.
pub(super) fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    &path[..end]
}

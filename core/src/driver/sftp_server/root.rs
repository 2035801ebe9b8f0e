//! Resolving client paths inside the served directory, race-free.
//!
//! Every path is resolved relative to a descriptor of the root, never as a string
//! handed to the OS whole. On Linux the kernel does it: `openat2` with
//! `RESOLVE_IN_ROOT` treats the root descriptor as `/` for `..`, absolute paths and
//! every symlink met, atomically with the lookup, and `RESOLVE_NO_MAGICLINKS` refuses
//! `/proc/*/fd` style links. Elsewhere (or on kernels before 5.6) [`walk`] opens one
//! directory at a time with `O_NOFOLLOW`, reading each symlink and resolving its
//! target from the root itself; a symlink swapped in between two steps is opened by
//! neither, so no step ever lands outside.
//!
//! Operations on a directory entry (unlink, mkdir, rename, lstat, ...) open the
//! parent in-root and call the `*at` function on the last name, which never follows
//! a symlink.

use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// Symlinks followed in one resolution before giving up with ELOOP, as the kernel.
const MAX_SYMLINK_HOPS: usize = 40;

/// Flags for directories opened only to resolve names in them.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const LOOKUP: OFlags = OFlags::PATH;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const LOOKUP: OFlags = OFlags::RDONLY;

/// What a client path names, located inside the root.
#[derive(Debug)]
pub(crate) enum Target {
    /// A directory named as a whole: the root, or a path ending in `.` or `..`.
    Dir(OwnedFd),
    /// The entry `name` in the directory `dir` (which may not exist yet).
    Entry {
        /// The parent directory, opened in-root.
        dir: OwnedFd,
        /// One path component: never empty, `.` or `..`, never containing `/`.
        name: Vec<u8>,
    },
}

/// A path split at its last component.
enum Split<'a> {
    Whole,
    Entry { parent: &'a [u8], name: &'a [u8] },
}

/// Splits `path` into its parent and last component, ignoring trailing slashes.
fn split(path: &[u8]) -> Split<'_> {
    let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let trimmed = &path[..end];
    let start = trimmed
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    let name = &trimmed[start..];
    if name.is_empty() || name == b"." || name == b".." {
        return Split::Whole;
    }
    let parent = &trimmed[..start];
    let parent_end = parent.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let parent = match &parent[..parent_end] {
        b"" if path.first() == Some(&b'/') => b"/".as_slice(),
        b"" => b".".as_slice(),
        p => p,
    };
    Split::Entry { parent, name }
}

/// The path `target` names when read in the directory `parent` (a symlink's target).
fn join(parent: &[u8], target: &[u8]) -> Vec<u8> {
    if target.first() == Some(&b'/') {
        return target.to_vec();
    }
    [parent, b"/", target].concat()
}

/// The components of `path` that name something (no empty ones, no `.`).
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

/// The served directory: a descriptor every client path is resolved under.
#[derive(Debug)]
pub(crate) struct Root {
    fd: OwnedFd,
    /// Whether `openat2` works here (Linux 5.6+, not filtered by a sandbox).
    openat2: bool,
}

impl Root {
    /// Opens `dir` as the root; probes once whether the kernel has `openat2`.
    pub(crate) fn open(dir: &std::path::Path) -> Result<Self, Errno> {
        let fd = rustix::fs::open(
            dir,
            LOOKUP | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut root = Self { fd, openat2: false };
        root.openat2 = root.probe_openat2();
        Ok(root)
    }

    /// The same root, resolving with the portable walk only (for tests).
    #[cfg(test)]
    pub(crate) fn without_openat2(mut self) -> Self {
        self.openat2 = false;
        self
    }

    /// True when paths are resolved by the kernel's `openat2`.
    pub(crate) fn uses_openat2(&self) -> bool {
        self.openat2
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn probe_openat2(&self) -> bool {
        self.openat2_raw(b".", LOOKUP | OFlags::DIRECTORY, Mode::empty())
            .is_ok()
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn probe_openat2(&self) -> bool {
        false
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn openat2_raw(&self, path: &[u8], flags: OFlags, mode: Mode) -> Result<OwnedFd, Errno> {
        use rustix::fs::ResolveFlags;
        let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
        // openat2, unlike openat, refuses a mode without O_CREAT.
        let mode = if flags.contains(OFlags::CREATE) {
            mode
        } else {
            Mode::empty()
        };
        let mut attempts = 0;
        loop {
            // EAGAIN: a rename or mount raced the lookup; the kernel asks for a retry.
            match rustix::fs::openat2(&self.fd, path, flags | OFlags::CLOEXEC, mode, resolve) {
                Err(Errno::AGAIN) if attempts < 8 => attempts += 1,
                other => return other,
            }
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn openat2_raw(&self, _path: &[u8], _flags: OFlags, _mode: Mode) -> Result<OwnedFd, Errno> {
        Err(Errno::NOSYS)
    }

    /// Opens `path` (following every symlink, inside the root) with `flags`; `mode`
    /// for a file created.
    pub(crate) fn open_path(
        &self,
        path: &[u8],
        flags: OFlags,
        mode: Mode,
    ) -> Result<OwnedFd, Errno> {
        let path = nonempty(path);
        if self.openat2 {
            return self.openat2_raw(path, flags, mode);
        }
        match self.locate(path, true)? {
            Target::Dir(dir) => rustix::fs::openat(&dir, ".", flags | OFlags::CLOEXEC, mode),
            Target::Entry { dir, name } => rustix::fs::openat(
                &dir,
                name.as_slice(),
                flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                mode,
            ),
        }
    }

    /// Opens the directory `path` for lookups (`O_PATH` where there is one).
    pub(crate) fn open_dir(&self, path: &[u8]) -> Result<OwnedFd, Errno> {
        let path = nonempty(path);
        if self.openat2 {
            return self.openat2_raw(path, LOOKUP | OFlags::DIRECTORY, Mode::empty());
        }
        walk(&self.fd, path).map(|(fd, _)| fd)
    }

    /// Locates what `path` names: its parent directory and last name, the last
    /// symlink followed (inside the root) when `follow_last`.
    pub(crate) fn locate(&self, path: &[u8], follow_last: bool) -> Result<Target, Errno> {
        let mut path = nonempty(path).to_vec();
        let mut hops = 0;
        loop {
            let (parent, name) = match split(&path) {
                Split::Whole => return self.open_dir(&path).map(Target::Dir),
                Split::Entry { parent, name } => (parent, name),
            };
            let dir = self.open_dir(parent)?;
            if follow_last {
                if let Ok(target) = rustix::fs::readlinkat(&dir, name, Vec::new()) {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(Errno::LOOP);
                    }
                    path = join(parent, target.as_bytes());
                    continue;
                }
            }
            let name = name.to_vec();
            return Ok(Target::Entry { dir, name });
        }
    }

    /// The canonical root-relative form of `path` (`/` is the root), every symlink
    /// resolved inside the root. The last component need not exist.
    pub(crate) fn realpath(&self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let mut path = nonempty(path).to_vec();
        let mut hops = 0;
        loop {
            let (parent, name) = match split(&path) {
                Split::Whole => {
                    return walk(&self.fd, &path).map(|(_, names)| virtual_path(&names));
                }
                Split::Entry { parent, name } => (parent, name),
            };
            let (dir, mut names) = walk(&self.fd, parent)?;
            match rustix::fs::readlinkat(&dir, name, Vec::new()) {
                Ok(target) => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(Errno::LOOP);
                    }
                    path = join(parent, target.as_bytes());
                }
                Err(Errno::INVAL | Errno::NOENT) => {
                    names.push(name.to_vec());
                    return Ok(virtual_path(&names));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// An empty path means the current directory, the root.
fn nonempty(path: &[u8]) -> &[u8] {
    if path.is_empty() { b"." } else { path }
}

/// `/a/b` from the components `a`, `b`; `/` from none.
fn virtual_path(names: &[Vec<u8>]) -> Vec<u8> {
    if names.is_empty() {
        return b"/".to_vec();
    }
    let mut p = Vec::new();
    for name in names {
        p.push(b'/');
        p.extend_from_slice(name);
    }
    p
}

/// Opens the directory `path` under `root` one component at a time, never letting
/// the OS follow a symlink: each one is read and its target resolved here, from the
/// root when absolute, `..` never climbing above the root. Returns the directory and
/// its root-relative components.
pub(crate) fn walk(root: &OwnedFd, path: &[u8]) -> Result<(OwnedFd, Vec<Vec<u8>>), Errno> {
    let mut stack: Vec<(OwnedFd, Vec<u8>)> = Vec::new();
    let mut pending: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
    let mut hops = 0;
    while let Some(name) = pending.pop() {
        if name == b".." {
            stack.pop();
            continue;
        }
        let dir = stack.last().map_or(root.as_fd(), |(fd, _)| fd.as_fd());
        let flags = LOOKUP | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(dir, name.as_slice(), flags, Mode::empty()) {
            Ok(fd) => stack.push((fd, name)),
            Err(error) => {
                // Not opened: a symlink (ELOOP, or ENOTDIR on some systems), or a real
                // failure, which is reported as such.
                let Ok(target) = rustix::fs::readlinkat(dir, name.as_slice(), Vec::new()) else {
                    return Err(error);
                };
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(Errno::LOOP);
                }
                let target = target.as_bytes();
                if target.first() == Some(&b'/') {
                    stack.clear();
                }
                pending.extend(components(target).rev().map(<[u8]>::to_vec));
            }
        }
    }
    let names = stack.iter().map(|(_, n)| n.clone()).collect();
    let fd = match stack.pop() {
        Some((fd, _)) => fd,
        None => root
            .try_clone()
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?,
    };
    Ok((fd, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &[u8]) -> (Vec<u8>, Vec<u8>) {
        match split(path) {
            Split::Entry { parent, name } => (parent.to_vec(), name.to_vec()),
            Split::Whole => panic!("{path:?} split whole"),
        }
    }

    #[test]
    fn split_takes_the_last_name_and_ignores_trailing_slashes() {
        assert_eq!(entry(b"/a/b"), (b"/a".to_vec(), b"b".to_vec()));
        assert_eq!(entry(b"a/b//"), (b"a".to_vec(), b"b".to_vec()));
        assert_eq!(entry(b"/b"), (b"/".to_vec(), b"b".to_vec()));
        assert_eq!(entry(b"b"), (b".".to_vec(), b"b".to_vec()));
    }

    #[test]
    fn split_keeps_dot_dotdot_and_the_root_whole() {
        for path in [&b"/"[..], b"//", b".", b"a/..", b"/a/./", b""] {
            assert!(matches!(split(path), Split::Whole), "{path:?}");
        }
    }

    #[test]
    fn join_reads_relative_targets_from_the_parent_and_absolute_from_the_root() {
        assert_eq!(join(b"/a", b"b/c"), b"/a/b/c");
        assert_eq!(join(b"/a", b"/etc"), b"/etc");
    }
}

//! Temporary directories for test fixtures, removed when dropped.
//!
//! A thin layer over the `tempfile` crate that adds what the harness needs on top:
//! writing a fixture file with owner-only permissions in one call, and errors that
//! say which path failed.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::openssh::HarnessError;

/// A temporary directory, deleted with its contents when dropped.
///
/// ```
/// use sansh_conformance::scratch::ScratchDir;
///
/// let dir = ScratchDir::new("example")?;
/// let path = dir.write("known_hosts", "[127.0.0.1]:2222 ssh-ed25519 AAAA...\n")?;
/// assert!(path.starts_with(dir.path()));
/// # Ok::<(), sansh_conformance::openssh::HarnessError>(())
/// ```
#[derive(Debug)]
pub struct ScratchDir {
    dir: tempfile::TempDir,
}

impl ScratchDir {
    /// Creates a fresh directory under the system temporary directory.
    ///
    /// `label` becomes part of the directory name (`sansh-<label>-XXXXXX`), which helps
    /// when reading a leftover path in a log.
    pub fn new(label: &str) -> Result<Self, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("sansh-{label}-"))
            .tempdir()
            .map_err(|source| HarnessError::Io {
                action: "create a temporary directory".into(),
                source,
            })?;
        Ok(Self { dir })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of `name` inside the directory (the file need not exist).
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `contents` to `name` inside the directory, readable by the owner only
    /// (mode 0600, as OpenSSH demands of key files), replacing any previous file.
    ///
    /// Returns the file's full path.
    pub fn write(
        &self,
        name: impl AsRef<Path>,
        contents: impl AsRef<[u8]>,
    ) -> Result<PathBuf, HarnessError> {
        let path = self.join(name);
        let io_error = |source| HarnessError::Io {
            action: format!("write {}", path.display()),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(io_error)?;
        file.write_all(contents.as_ref()).map_err(io_error)?;
        Ok(path)
    }
}

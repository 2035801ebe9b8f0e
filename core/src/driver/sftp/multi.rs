//! The public transfers: `get`, `put`, `copy` of a file or (with `recurse`) a tree,
//! and their glob forms `mget`, `mput`, `mcopy`.

use std::path::{Path, PathBuf};

use super::client::{SftpClient, join};
use super::error::SftpClientError;
use super::glob::local_glob;
use super::transfer::{TransferOptions, local_attrs, preserved_attrs};
use crate::driver::unblock;
use crate::sftp::{FileAttributes, SftpError, StatusCode};

/// The last component of a remote path.
fn basename(path: &[u8]) -> &[u8] {
    let trimmed = match path.iter().rposition(|&c| c != b'/') {
        Some(end) => path.get(..=end).unwrap_or(path),
        None => path,
    };
    match trimmed.iter().rposition(|&c| c == b'/') {
        Some(slash) => trimmed.get(slash + 1..).unwrap_or(trimmed),
        None => trimmed,
    }
}

fn is_dir_error(path: &[u8]) -> SftpClientError {
    SftpClientError::Transfer(format!(
        "{} is a directory (transfer it with recurse)",
        String::from_utf8_lossy(path)
    ))
}

impl SftpClient {
    /// Downloads `remote` to `local`; into `local/<name>` when `local` is an
    /// existing directory. With `options.recurse` a directory comes with everything
    /// in it (symlinks followed).
    ///
    /// # Errors
    /// The server's status, a local I/O error, or [`SftpClientError::Transfer`] for a
    /// directory without `recurse`.
    pub async fn get(
        &self,
        remote: impl AsRef<[u8]>,
        local: impl AsRef<Path>,
        options: &TransferOptions,
    ) -> Result<(), SftpClientError> {
        let remote = self.resolve(remote.as_ref());
        let mut local = local.as_ref().to_path_buf();
        let target = local.clone();
        if unblock(&*self.runtime(), move || target.is_dir()).await {
            local.push(String::from_utf8_lossy(basename(&remote)).as_ref());
        }
        self.get_tree(remote, local, options).await
    }

    async fn get_tree(
        &self,
        remote: Vec<u8>,
        local: PathBuf,
        options: &TransferOptions,
    ) -> Result<(), SftpClientError> {
        // An explicit stack instead of recursion: async recursion needs boxing, and
        // a deep tree must not grow the future.
        let mut stack = vec![(remote, local)];
        // Directory attributes are applied last: a read-only mode set first would
        // refuse the files going in.
        let mut late = Vec::new();
        while let Some((remote, local)) = stack.pop() {
            let attrs = self.stat(&remote).await?;
            if !attrs.is_dir() {
                self.get_file(remote, local, options).await?;
                continue;
            }
            if !options.recurse {
                return Err(is_dir_error(&remote));
            }
            let dir = local.clone();
            unblock(&*self.runtime(), move || match std::fs::create_dir(&dir) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
                other => other,
            })
            .await?;
            if options.preserve {
                late.push((local.clone(), attrs.clone()));
            }
            for entry in self.readdir(&remote).await?.into_iter().rev() {
                if entry.filename == b"." || entry.filename == b".." {
                    continue;
                }
                let name = String::from_utf8_lossy(&entry.filename).into_owned();
                stack.push((join(&remote, &entry.filename), local.join(name)));
            }
        }
        for (dir, attrs) in late.into_iter().rev() {
            unblock(&*self.runtime(), move || preserve_dir(&dir, &attrs)).await?;
        }
        Ok(())
    }

    /// Uploads `local` to `remote`; into `remote/<name>` when `remote` is an
    /// existing directory. With `options.recurse` a directory goes with everything
    /// in it.
    ///
    /// # Errors
    /// As [`Self::get`].
    pub async fn put(
        &self,
        local: impl AsRef<Path>,
        remote: impl AsRef<[u8]>,
        options: &TransferOptions,
    ) -> Result<(), SftpClientError> {
        let local = local.as_ref().to_path_buf();
        let mut remote = self.resolve(remote.as_ref());
        if self.isdir(&remote).await? {
            let name = local.file_name().map(|n| n.to_string_lossy().into_owned());
            remote = join(&remote, name.unwrap_or_default().as_bytes());
        }
        let mut stack = vec![(local, remote)];
        let mut late = Vec::new();
        while let Some((local, remote)) = stack.pop() {
            let path = local.clone();
            let meta = unblock(&*self.runtime(), move || std::fs::metadata(path)).await?;
            if !meta.is_dir() {
                self.put_file(local, remote, options).await?;
                continue;
            }
            if !options.recurse {
                return Err(is_dir_error(local.to_string_lossy().as_bytes()));
            }
            match self.mkdir(&remote).await {
                Err(e) if e.code() == Some(StatusCode::Failure) && self.isdir(&remote).await? => {}
                other => other?,
            }
            if options.preserve {
                late.push((remote.clone(), preserved_attrs(&local_attrs(&meta))));
            }
            let dir = local.clone();
            let mut names = unblock(&*self.runtime(), move || {
                std::fs::read_dir(dir)?
                    .map(|e| e.map(|e| e.file_name()))
                    .collect::<std::io::Result<Vec<_>>>()
            })
            .await?;
            names.sort();
            for name in names.into_iter().rev() {
                let child = join(&remote, name.to_string_lossy().as_bytes());
                stack.push((local.join(name), child));
            }
        }
        for (dir, attrs) in late.into_iter().rev() {
            self.setstat(&dir, &attrs).await?;
        }
        Ok(())
    }

    /// Copies `source` to `destination` on the server (into `destination/<name>`
    /// when that is an existing directory), with the `copy-data` extension when the
    /// server offers it, else through the client. With `options.recurse` a
    /// directory goes with everything in it.
    ///
    /// # Errors
    /// As [`Self::get`].
    pub async fn copy(
        &self,
        source: impl AsRef<[u8]>,
        destination: impl AsRef<[u8]>,
        options: &TransferOptions,
    ) -> Result<(), SftpClientError> {
        let source = self.resolve(source.as_ref());
        let mut destination = self.resolve(destination.as_ref());
        if self.isdir(&destination).await? {
            destination = join(&destination, basename(&source));
        }
        let mut stack = vec![(source, destination)];
        let mut late = Vec::new();
        while let Some((source, destination)) = stack.pop() {
            let attrs = self.stat(&source).await?;
            if !attrs.is_dir() {
                self.copy_file(source, destination, options).await?;
                continue;
            }
            if !options.recurse {
                return Err(is_dir_error(&source));
            }
            match self.mkdir(&destination).await {
                Err(e)
                    if e.code() == Some(StatusCode::Failure)
                        && self.isdir(&destination).await? => {}
                other => other?,
            }
            if options.preserve {
                late.push((destination.clone(), preserved_attrs(&attrs)));
            }
            for entry in self.readdir(&source).await?.into_iter().rev() {
                if entry.filename == b"." || entry.filename == b".." {
                    continue;
                }
                stack.push((
                    join(&source, &entry.filename),
                    join(&destination, &entry.filename),
                ));
            }
        }
        for (dir, attrs) in late.into_iter().rev() {
            self.setstat(&dir, &attrs).await?;
        }
        Ok(())
    }

    /// Downloads everything matching the remote glob `patterns` into the local
    /// directory `local_dir`.
    ///
    /// # Errors
    /// SSH_FX_NO_SUCH_FILE (as a status) for a pattern matching nothing; as
    /// [`Self::get`].
    pub async fn mget<P: AsRef<[u8]>>(
        &self,
        patterns: &[P],
        local_dir: impl AsRef<Path>,
        options: &TransferOptions,
    ) -> Result<(), SftpClientError> {
        let local_dir = local_dir.as_ref();
        for pattern in patterns {
            for path in self.glob_some(pattern.as_ref()).await? {
                let name = String::from_utf8_lossy(basename(path.as_bytes())).into_owned();
                self.get_tree(self.resolve(path.as_bytes()), local_dir.join(name), options)
                    .await?;
            }
        }
        Ok(())
    }

    /// Uploads every local path matching the glob `patterns` into the remote
    /// directory `remote_dir`.
    ///
    /// # Errors
    /// [`SftpClientError::Io`] (not found) for a pattern matching nothing; as
    /// [`Self::put`].
    pub async fn mput<P: AsRef<Path>>(
        &self,
        patterns: &[P],
        remote_dir: impl AsRef<[u8]>,
        options: &TransferOptions,
    ) -> Result<(), SftpClientError> {
        let remote_dir = self.resolve(remote_dir.as_ref());
        for pattern in patterns {
            let pattern = pattern.as_ref().to_path_buf();
            let shown = pattern.display().to_string();
            let paths = unblock(&*self.runtime(), move || local_glob(&pattern)).await?;
            if paths.is_empty() {
                return Err(SftpClientError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{shown}: no such file"),
                )));
            }
            for path in paths {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.put(&path, join(&remote_dir, name.as_bytes()), options)
                    .await?;
            }
        }
        Ok(())
    }

    /// Copies every remote path matching the glob `patterns` into the remote
    /// directory `remote_dir`.
    ///
    /// # Errors
    /// As [`Self::mget`] and [`Self::copy`].
    pub async fn mcopy<P: AsRef<[u8]>>(
        &self,
        patterns: &[P],
        remote_dir: impl AsRef<[u8]>,
        options: &TransferOptions,
    ) -> Result<(), SftpClientError> {
        let remote_dir = self.resolve(remote_dir.as_ref());
        for pattern in patterns {
            for path in self.glob_some(pattern.as_ref()).await? {
                let destination = join(&remote_dir, basename(path.as_bytes()));
                self.copy(path.as_bytes(), destination, options).await?;
            }
        }
        Ok(())
    }

    async fn glob_some(&self, pattern: &[u8]) -> Result<Vec<String>, SftpClientError> {
        let paths = self.glob(pattern).await?;
        if paths.is_empty() {
            let message = format!("{}: no such file", String::from_utf8_lossy(pattern));
            return Err(SftpError::new(StatusCode::NoSuchFile, message).into());
        }
        Ok(paths)
    }
}

fn preserve_dir(dir: &Path, attrs: &FileAttributes) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(mode) = attrs.permissions {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o7777))?;
    }
    let _ = (dir, attrs);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::basename;

    #[test]
    fn basename_is_the_last_component_without_trailing_slashes() {
        assert_eq!(basename(b"/a/b/c.txt"), b"c.txt");
        assert_eq!(basename(b"dir/"), b"dir");
        assert_eq!(basename(b"plain"), b"plain");
    }
}

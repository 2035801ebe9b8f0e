//! The client engine's shorthands: one method per request, each building it for
//! [`SftpClient::send`] (WRITE from a borrowed slice encodes its data directly).

use bytes::Bytes;

use super::SftpClient;
use crate::sftp::request::encode_write;
use crate::sftp::{
    FileAttributes, Handle, OpenFlags, Request, RequestError, RequestId, RequestKind,
};

impl SftpClient {
    /// SSH_FXP_OPEN: opens (or creates) a file; the reply is a handle.
    pub fn open(
        &mut self,
        path: impl AsRef<[u8]>,
        flags: OpenFlags,
        attrs: &FileAttributes,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Open {
            path: path.as_ref().to_vec(),
            flags,
            attrs: attrs.clone(),
        })
    }

    /// SSH_FXP_CLOSE: closes a file or directory handle.
    pub fn close_handle(&mut self, handle: &Handle) -> Result<RequestId, RequestError> {
        self.send(&Request::Close {
            handle: handle.clone(),
        })
    }

    /// SSH_FXP_READ: reads up to `len` bytes at `offset` (clamped to the negotiated
    /// read length); the reply is data, possibly shorter, or EOF.
    pub fn read(
        &mut self,
        handle: &Handle,
        offset: u64,
        len: u32,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Read {
            handle: handle.clone(),
            offset,
            len,
        })
    }

    /// SSH_FXP_WRITE: writes `data` at `offset`. `data` must not exceed the
    /// negotiated write length ([`limits`](Self::limits)).
    pub fn write(
        &mut self,
        handle: &Handle,
        offset: u64,
        data: &[u8],
    ) -> Result<RequestId, RequestError> {
        self.check_sendable(RequestKind::Write)?;
        if handle.len() > Handle::MAX_LEN {
            return Err(RequestError::HandleTooLong(handle.len()));
        }
        self.check_write_len(data.len())?;
        let id = self.allocate_id();
        let start = self.out.len();
        encode_write(&mut self.out, id, handle, offset, data);
        self.commit(start, id, RequestKind::Write)
    }

    /// SSH_FXP_LSTAT: attributes, not following a final symlink.
    pub fn lstat(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Lstat {
            path: path.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_FSTAT: attributes of an open file.
    pub fn fstat(&mut self, handle: &Handle) -> Result<RequestId, RequestError> {
        self.send(&Request::Fstat {
            handle: handle.clone(),
        })
    }

    /// SSH_FXP_SETSTAT: changes the attributes present in `attrs`.
    pub fn setstat(
        &mut self,
        path: impl AsRef<[u8]>,
        attrs: &FileAttributes,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Setstat {
            path: path.as_ref().to_vec(),
            attrs: attrs.clone(),
        })
    }

    /// SSH_FXP_FSETSTAT: changes the attributes of an open file.
    pub fn fsetstat(
        &mut self,
        handle: &Handle,
        attrs: &FileAttributes,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Fsetstat {
            handle: handle.clone(),
            attrs: attrs.clone(),
        })
    }

    /// SSH_FXP_OPENDIR: opens a directory for listing; the reply is a handle.
    pub fn opendir(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Opendir {
            path: path.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_READDIR: the next names of an open directory, or EOF at the end.
    pub fn readdir(&mut self, handle: &Handle) -> Result<RequestId, RequestError> {
        self.send(&Request::Readdir {
            handle: handle.clone(),
        })
    }

    /// SSH_FXP_REMOVE: removes a file.
    pub fn remove(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Remove {
            path: path.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_MKDIR: creates a directory.
    pub fn mkdir(
        &mut self,
        path: impl AsRef<[u8]>,
        attrs: &FileAttributes,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Mkdir {
            path: path.as_ref().to_vec(),
            attrs: attrs.clone(),
        })
    }

    /// SSH_FXP_RMDIR: removes an empty directory.
    pub fn rmdir(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Rmdir {
            path: path.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_REALPATH: canonicalises a path; the reply is one name.
    pub fn realpath(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Realpath {
            path: path.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_STAT: attributes, following symlinks.
    pub fn stat(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Stat {
            path: path.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_RENAME: renames; fails if `to` exists.
    pub fn rename(
        &mut self,
        from: impl AsRef<[u8]>,
        to: impl AsRef<[u8]>,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Rename {
            from: from.as_ref().to_vec(),
            to: to.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_READLINK: a symlink's target; the reply is one name.
    pub fn readlink(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Readlink {
            path: path.as_ref().to_vec(),
        })
    }

    /// SSH_FXP_SYMLINK: creates `link` pointing to `target` (sent in OpenSSH's order).
    pub fn symlink(
        &mut self,
        target: impl AsRef<[u8]>,
        link: impl AsRef<[u8]>,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Symlink {
            target: target.as_ref().to_vec(),
            link: link.as_ref().to_vec(),
        })
    }

    /// `posix-rename@openssh.com`: renames, replacing `to` if it exists.
    pub fn posix_rename(
        &mut self,
        from: impl AsRef<[u8]>,
        to: impl AsRef<[u8]>,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::PosixRename {
            from: from.as_ref().to_vec(),
            to: to.as_ref().to_vec(),
        })
    }

    /// `statvfs@openssh.com`: file system statistics.
    pub fn statvfs(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::Statvfs {
            path: path.as_ref().to_vec(),
        })
    }

    /// `fstatvfs@openssh.com`: file system statistics of an open file.
    pub fn fstatvfs(&mut self, handle: &Handle) -> Result<RequestId, RequestError> {
        self.send(&Request::Fstatvfs {
            handle: handle.clone(),
        })
    }

    /// `hardlink@openssh.com`: creates the hard link `link` to `target`.
    pub fn hardlink(
        &mut self,
        target: impl AsRef<[u8]>,
        link: impl AsRef<[u8]>,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Hardlink {
            target: target.as_ref().to_vec(),
            link: link.as_ref().to_vec(),
        })
    }

    /// `fsync@openssh.com`: flushes an open file to stable storage.
    pub fn fsync(&mut self, handle: &Handle) -> Result<RequestId, RequestError> {
        self.send(&Request::Fsync {
            handle: handle.clone(),
        })
    }

    /// `lsetstat@openssh.com`: changes attributes without following a final symlink.
    pub fn lsetstat(
        &mut self,
        path: impl AsRef<[u8]>,
        attrs: &FileAttributes,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Lsetstat {
            path: path.as_ref().to_vec(),
            attrs: attrs.clone(),
        })
    }

    /// `limits@openssh.com`: asks the server's limits again (the engine already asked
    /// them before `Ready` unless configured not to).
    pub fn server_limits(&mut self) -> Result<RequestId, RequestError> {
        self.send(&Request::Limits)
    }

    /// `expand-path@openssh.com`: canonicalises, expanding `~` and `~user`.
    pub fn expand_path(&mut self, path: impl AsRef<[u8]>) -> Result<RequestId, RequestError> {
        self.send(&Request::ExpandPath {
            path: path.as_ref().to_vec(),
        })
    }

    /// `copy-data`: copies `len` bytes (0: until end of file) from one open file to
    /// another on the server.
    pub fn copy_data(
        &mut self,
        read_handle: &Handle,
        read_offset: u64,
        len: u64,
        write_handle: &Handle,
        write_offset: u64,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::CopyData {
            read_handle: read_handle.clone(),
            read_offset,
            len,
            write_handle: write_handle.clone(),
            write_offset,
        })
    }

    /// `home-directory`: the home directory of `username` (empty: the session's user).
    pub fn home_directory(
        &mut self,
        username: impl AsRef<[u8]>,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::HomeDirectory {
            username: username.as_ref().to_vec(),
        })
    }

    /// `users-groups-by-id@openssh.com`: names for numeric user and group ids.
    pub fn users_groups_by_id(
        &mut self,
        uids: &[u32],
        gids: &[u32],
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::UsersGroupsById {
            uids: uids.to_vec(),
            gids: gids.to_vec(),
        })
    }

    /// SSH_FXP_EXTENDED with any name and raw data (for extensions this crate does not
    /// know; the reply is `Extended` or a status).
    pub fn extended(
        &mut self,
        name: &str,
        data: impl Into<Bytes>,
    ) -> Result<RequestId, RequestError> {
        self.send(&Request::Extended {
            name: name.to_owned(),
            data: data.into(),
        })
    }
}

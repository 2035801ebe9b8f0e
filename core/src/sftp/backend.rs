//! The filesystem behind a server: one method per operation.
//!
//! The server engine never calls a backend: it emits [`Request`]s, and whoever drives
//! it answers them with [`SftpServer::respond`](super::SftpServer::respond). A
//! synchronous backend plugs in through [`Backend::dispatch`]; an async driver can
//! mirror this trait with async methods and the same [`Reply`] mapping, answering
//! requests concurrently and in any order.

use bytes::Bytes;

use crate::sftp::{
    FileAttributes, Handle, Limits, Name, OpenFlags, Reply, Request, SftpError, StatVfs,
};

/// A filesystem served over SFTP.
///
/// Paths are the client's raw bytes; mapping them onto storage (and refusing ones that
/// escape a root) is the backend's job. Handles passed in were handed out by this
/// backend and are still open: the engine checks that before a request reaches it.
/// Extension methods default to SSH_FX_OP_UNSUPPORTED; advertise only the extensions
/// you implement ([`ServerConfig::extensions`](super::ServerConfig::extensions)).
pub trait Backend {
    /// Opens or creates a file ([`Request::Open`]); returns a new handle.
    fn open(
        &mut self,
        path: &[u8],
        flags: OpenFlags,
        attrs: &FileAttributes,
    ) -> Result<Handle, SftpError>;
    /// Closes a file or directory handle.
    fn close(&mut self, handle: &Handle) -> Result<(), SftpError>;
    /// Reads up to `len` bytes at `offset`; `None` at end of file.
    fn read(&mut self, handle: &Handle, offset: u64, len: u32) -> Result<Option<Bytes>, SftpError>;
    /// Writes `data` at `offset`.
    fn write(&mut self, handle: &Handle, offset: u64, data: &[u8]) -> Result<(), SftpError>;
    /// Attributes, not following a final symlink.
    fn lstat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError>;
    /// Attributes of an open file.
    fn fstat(&mut self, handle: &Handle) -> Result<FileAttributes, SftpError>;
    /// Changes the attributes present in `attrs` (size truncates or extends).
    fn setstat(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError>;
    /// Changes the attributes of an open file.
    fn fsetstat(&mut self, handle: &Handle, attrs: &FileAttributes) -> Result<(), SftpError>;
    /// Opens a directory for listing; returns a new handle.
    fn opendir(&mut self, path: &[u8]) -> Result<Handle, SftpError>;
    /// The next entries of an open directory; `None` when there are no more.
    fn readdir(&mut self, handle: &Handle) -> Result<Option<Vec<Name>>, SftpError>;
    /// Removes a file (not a directory).
    fn remove(&mut self, path: &[u8]) -> Result<(), SftpError>;
    /// Creates a directory.
    fn mkdir(&mut self, path: &[u8], attrs: &FileAttributes) -> Result<(), SftpError>;
    /// Removes an empty directory.
    fn rmdir(&mut self, path: &[u8]) -> Result<(), SftpError>;
    /// The canonical absolute form of `path`.
    fn realpath(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError>;
    /// Attributes, following symlinks.
    fn stat(&mut self, path: &[u8]) -> Result<FileAttributes, SftpError>;
    /// Renames; fails if `to` exists.
    fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), SftpError>;
    /// A symlink's target.
    fn readlink(&mut self, path: &[u8]) -> Result<Vec<u8>, SftpError>;
    /// Creates the symlink `link` pointing to `target`.
    fn symlink(&mut self, target: &[u8], link: &[u8]) -> Result<(), SftpError>;

    /// `posix-rename@openssh.com`: renames, replacing `to`.
    fn posix_rename(&mut self, _from: &[u8], _to: &[u8]) -> Result<(), SftpError> {
        Err(SftpError::unsupported())
    }
    /// `statvfs@openssh.com`.
    fn statvfs(&mut self, _path: &[u8]) -> Result<StatVfs, SftpError> {
        Err(SftpError::unsupported())
    }
    /// `fstatvfs@openssh.com`.
    fn fstatvfs(&mut self, _handle: &Handle) -> Result<StatVfs, SftpError> {
        Err(SftpError::unsupported())
    }
    /// `hardlink@openssh.com`: creates the hard link `link` to `target`.
    fn hardlink(&mut self, _target: &[u8], _link: &[u8]) -> Result<(), SftpError> {
        Err(SftpError::unsupported())
    }
    /// `fsync@openssh.com`.
    fn fsync(&mut self, _handle: &Handle) -> Result<(), SftpError> {
        Err(SftpError::unsupported())
    }
    /// `lsetstat@openssh.com`: like setstat, not following a final symlink.
    fn lsetstat(&mut self, _path: &[u8], _attrs: &FileAttributes) -> Result<(), SftpError> {
        Err(SftpError::unsupported())
    }
    /// `expand-path@openssh.com`: the canonical path with `~` expanded.
    fn expand_path(&mut self, _path: &[u8]) -> Result<Vec<u8>, SftpError> {
        Err(SftpError::unsupported())
    }
    /// `copy-data`: copies `len` bytes (0: until end of file) between open files.
    fn copy_data(
        &mut self,
        _read_handle: &Handle,
        _read_offset: u64,
        _len: u64,
        _write_handle: &Handle,
        _write_offset: u64,
    ) -> Result<(), SftpError> {
        Err(SftpError::unsupported())
    }
    /// `home-directory`: the home directory of `username` (empty: the session's user).
    fn home_directory(&mut self, _username: &[u8]) -> Result<Vec<u8>, SftpError> {
        Err(SftpError::unsupported())
    }
    /// `users-groups-by-id@openssh.com`: a name per id, empty where unknown.
    fn users_groups_by_id(
        &mut self,
        _uids: &[u32],
        _gids: &[u32],
    ) -> Result<(Vec<String>, Vec<String>), SftpError> {
        Err(SftpError::unsupported())
    }
    /// A custom extension advertised through
    /// [`ServerConfig::custom_extensions`](super::ServerConfig::custom_extensions).
    /// `Ok(None)` answers with status OK, `Ok(Some(data))` with an extended reply.
    fn extended(&mut self, _name: &str, _data: &[u8]) -> Result<Option<Bytes>, SftpError> {
        Err(SftpError::unsupported())
    }

    /// Runs `request` against this backend and shapes the result as the reply the
    /// protocol expects, ready for [`SftpServer::respond`](super::SftpServer::respond).
    fn dispatch(&mut self, request: Request) -> Result<Reply, SftpError>
    where
        Self: Sized,
    {
        dispatch(self, request)
    }
}

/// Runs `request` against `backend` (see [`Backend::dispatch`]).
pub fn dispatch(backend: &mut dyn Backend, request: Request) -> Result<Reply, SftpError> {
    let done = |r: Result<(), SftpError>| r.map(|()| Reply::Ok);
    let one_name = |r: Result<Vec<u8>, SftpError>| r.map(|p| Reply::Names(vec![Name::bare(p)]));
    match request {
        Request::Open { path, flags, attrs } => {
            backend.open(&path, flags, &attrs).map(Reply::Handle)
        }
        Request::Close { handle } => done(backend.close(&handle)),
        Request::Read {
            handle,
            offset,
            len,
        } => backend
            .read(&handle, offset, len)
            .map(|d| d.map_or(Reply::Eof, Reply::Data)),
        Request::Write {
            handle,
            offset,
            data,
        } => done(backend.write(&handle, offset, &data)),
        Request::Lstat { path } => backend.lstat(&path).map(Reply::Attrs),
        Request::Fstat { handle } => backend.fstat(&handle).map(Reply::Attrs),
        Request::Setstat { path, attrs } => done(backend.setstat(&path, &attrs)),
        Request::Fsetstat { handle, attrs } => done(backend.fsetstat(&handle, &attrs)),
        Request::Opendir { path } => backend.opendir(&path).map(Reply::Handle),
        Request::Readdir { handle } => backend
            .readdir(&handle)
            .map(|n| n.map_or(Reply::Eof, Reply::Names)),
        Request::Remove { path } => done(backend.remove(&path)),
        Request::Mkdir { path, attrs } => done(backend.mkdir(&path, &attrs)),
        Request::Rmdir { path } => done(backend.rmdir(&path)),
        Request::Realpath { path } => one_name(backend.realpath(&path)),
        Request::Stat { path } => backend.stat(&path).map(Reply::Attrs),
        Request::Rename { from, to } => done(backend.rename(&from, &to)),
        Request::Readlink { path } => one_name(backend.readlink(&path)),
        Request::Symlink { target, link } => done(backend.symlink(&target, &link)),
        Request::PosixRename { from, to } => done(backend.posix_rename(&from, &to)),
        Request::Statvfs { path } => backend.statvfs(&path).map(Reply::StatVfs),
        Request::Fstatvfs { handle } => backend.fstatvfs(&handle).map(Reply::StatVfs),
        Request::Hardlink { target, link } => done(backend.hardlink(&target, &link)),
        Request::Fsync { handle } => done(backend.fsync(&handle)),
        Request::Lsetstat { path, attrs } => done(backend.lsetstat(&path, &attrs)),
        // The engine answers limits itself; a driver that forwards it anyway gets
        // "no specific limits".
        Request::Limits => Ok(Reply::Limits(Limits::default())),
        Request::ExpandPath { path } => one_name(backend.expand_path(&path)),
        Request::CopyData {
            read_handle,
            read_offset,
            len,
            write_handle,
            write_offset,
        } => done(backend.copy_data(&read_handle, read_offset, len, &write_handle, write_offset)),
        Request::HomeDirectory { username } => one_name(backend.home_directory(&username)),
        Request::UsersGroupsById { uids, gids } => backend
            .users_groups_by_id(&uids, &gids)
            .map(|(users, groups)| Reply::UsersGroups { users, groups }),
        Request::Extended { name, data } => backend
            .extended(&name, &data)
            .map(|d| d.map_or(Reply::Ok, Reply::Extended)),
    }
}

//! SFTP engine tests: a client engine and a server engine wired in memory
//! ([`pair::SftpPair`]), plus codec known-answer and hostile-input tests.

mod codec;
mod errors;
mod handles;
mod malformed;
mod operations;
mod pair;
mod pipelining;

/// Implements the required [`Backend`](crate::sftp::Backend) methods by delegating to
/// the field given (a `MemoryFs`), so a test backend overrides only what it needs.
macro_rules! delegate_backend {
    ($field:tt) => {
        fn open(
            &mut self,
            p: &[u8],
            f: crate::sftp::OpenFlags,
            a: &crate::sftp::FileAttributes,
        ) -> Result<crate::sftp::Handle, crate::sftp::SftpError> {
            self.$field.open(p, f, a)
        }
        fn close(&mut self, h: &crate::sftp::Handle) -> Result<(), crate::sftp::SftpError> {
            self.$field.close(h)
        }
        fn read(
            &mut self,
            h: &crate::sftp::Handle,
            o: u64,
            l: u32,
        ) -> Result<Option<bytes::Bytes>, crate::sftp::SftpError> {
            self.$field.read(h, o, l)
        }
        fn write(
            &mut self,
            h: &crate::sftp::Handle,
            o: u64,
            d: &[u8],
        ) -> Result<(), crate::sftp::SftpError> {
            self.$field.write(h, o, d)
        }
        fn lstat(
            &mut self,
            p: &[u8],
        ) -> Result<crate::sftp::FileAttributes, crate::sftp::SftpError> {
            self.$field.lstat(p)
        }
        fn fstat(
            &mut self,
            h: &crate::sftp::Handle,
        ) -> Result<crate::sftp::FileAttributes, crate::sftp::SftpError> {
            self.$field.fstat(h)
        }
        fn setstat(
            &mut self,
            p: &[u8],
            a: &crate::sftp::FileAttributes,
        ) -> Result<(), crate::sftp::SftpError> {
            self.$field.setstat(p, a)
        }
        fn fsetstat(
            &mut self,
            h: &crate::sftp::Handle,
            a: &crate::sftp::FileAttributes,
        ) -> Result<(), crate::sftp::SftpError> {
            self.$field.fsetstat(h, a)
        }
        fn opendir(&mut self, p: &[u8]) -> Result<crate::sftp::Handle, crate::sftp::SftpError> {
            self.$field.opendir(p)
        }
        fn readdir(
            &mut self,
            h: &crate::sftp::Handle,
        ) -> Result<Option<Vec<crate::sftp::Name>>, crate::sftp::SftpError> {
            self.$field.readdir(h)
        }
        fn remove(&mut self, p: &[u8]) -> Result<(), crate::sftp::SftpError> {
            self.$field.remove(p)
        }
        fn mkdir(
            &mut self,
            p: &[u8],
            a: &crate::sftp::FileAttributes,
        ) -> Result<(), crate::sftp::SftpError> {
            self.$field.mkdir(p, a)
        }
        fn rmdir(&mut self, p: &[u8]) -> Result<(), crate::sftp::SftpError> {
            self.$field.rmdir(p)
        }
        fn realpath(&mut self, p: &[u8]) -> Result<Vec<u8>, crate::sftp::SftpError> {
            self.$field.realpath(p)
        }
        fn stat(
            &mut self,
            p: &[u8],
        ) -> Result<crate::sftp::FileAttributes, crate::sftp::SftpError> {
            self.$field.stat(p)
        }
        fn rename(&mut self, f: &[u8], t: &[u8]) -> Result<(), crate::sftp::SftpError> {
            self.$field.rename(f, t)
        }
        fn readlink(&mut self, p: &[u8]) -> Result<Vec<u8>, crate::sftp::SftpError> {
            self.$field.readlink(p)
        }
        fn symlink(&mut self, t: &[u8], l: &[u8]) -> Result<(), crate::sftp::SftpError> {
            self.$field.symlink(t, l)
        }
    };
}
pub(crate) use delegate_backend;

//! Remote files: [`SftpClient::open`] and [`SftpFile`], a `futures-io` reader,
//! writer and seeker with read-ahead and write-behind.

use std::collections::VecDeque;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::client::{SftpClient, expect_handle, expect_ok, unexpected};
use super::error::SftpClientError;
use super::shared::Pending;
use crate::sftp::{FileAttributes, Handle, OpenFlags, Reply, Request, StatVfs};

/// Requests a file keeps in flight at most, reading ahead or writing behind.
pub const DEFAULT_FILE_REQUESTS: usize = 32;

/// How an [`SftpFile`] was opened, parsed from a Python-style mode string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenMode {
    /// The SSH_FXF_* flags sent.
    pub flags: OpenFlags,
    /// `a`: writes go to the end of the file.
    pub append: bool,
    /// `b`: binary. Only noted: an SFTP file is bytes either way.
    pub binary: bool,
}

impl OpenMode {
    /// Parses `r`, `w`, `a` or `x` (read; write, create, truncate; append, create;
    /// write, create exclusively), each optionally with `+` (read and write) and
    /// `b` (binary) or `t` (text), in any order.
    ///
    /// ```
    /// use sansh_core::driver::sftp::OpenMode;
    /// use sansh_core::sftp::OpenFlags;
    /// let mode = OpenMode::parse("r+b").unwrap();
    /// assert_eq!(mode.flags, OpenFlags::READ | OpenFlags::WRITE);
    /// assert!(mode.binary);
    /// assert!(OpenMode::parse("rw").is_err());
    /// ```
    ///
    /// # Errors
    /// [`SftpClientError::InvalidMode`] for anything else.
    pub fn parse(mode: &str) -> Result<Self, SftpClientError> {
        let invalid = || SftpClientError::InvalidMode(mode.to_owned());
        let (mut base, mut plus, mut binary, mut text) = (None, false, false, false);
        for c in mode.chars() {
            match c {
                'r' | 'w' | 'a' | 'x' if base.is_none() => base = Some(c),
                '+' if !plus => plus = true,
                'b' if !binary && !text => binary = true,
                't' if !binary && !text => text = true,
                _ => return Err(invalid()),
            }
        }
        let mut flags = match base.ok_or_else(invalid)? {
            'r' => OpenFlags::READ,
            'w' => OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE,
            'a' => OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::APPEND,
            _ => OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
        };
        if plus {
            flags |= OpenFlags::READ | OpenFlags::WRITE;
        }
        Ok(Self {
            flags,
            append: base == Some('a'),
            binary,
        })
    }
}

impl SftpClient {
    /// Opens `path` with a mode string (see [`OpenMode::parse`]): `"r"`, `"w"`,
    /// `"a"`, `"x"`, with `"+"` and `"b"`. New files get mode 0666 less the server's
    /// umask.
    ///
    /// # Errors
    /// [`SftpClientError::InvalidMode`]; the server's status (SSH_FX_NO_SUCH_FILE,
    /// SSH_FX_PERMISSION_DENIED, SSH_FX_FAILURE for an existing file with `x`).
    pub async fn open(
        &self,
        path: impl AsRef<[u8]>,
        mode: &str,
    ) -> Result<SftpFile, SftpClientError> {
        self.open_with(path, mode, &FileAttributes::default()).await
    }

    /// [`Self::open`] with the attributes a created file gets (e.g. permissions).
    ///
    /// # Errors
    /// As [`Self::open`].
    pub async fn open_with(
        &self,
        path: impl AsRef<[u8]>,
        mode: &str,
        attrs: &FileAttributes,
    ) -> Result<SftpFile, SftpClientError> {
        let mode = OpenMode::parse(mode)?;
        let path = self.resolve(path.as_ref());
        let request = Request::Open {
            path,
            flags: mode.flags,
            attrs: attrs.clone(),
        };
        let handle = expect_handle(self.request(request).await?)?;
        let mut file = SftpFile::new(self.clone(), handle, mode);
        if mode.append {
            // OpenSSH's server opens with O_APPEND, but other servers honour the
            // offset: start at the end either way.
            file.position = file.stat().await?.size.unwrap_or(0);
            file.next_read = file.position;
        }
        Ok(file)
    }
}

/// An open remote file: `futures-io` [`AsyncRead`], [`AsyncWrite`] and
/// [`AsyncSeek`], with the file's own operations as async methods.
///
/// Sequential reads are read ahead: the requests in flight grow from 2 up to
/// [`Self::set_max_requests`] blocks of the server's read length, and a seek drops
/// them. Writes are written behind: each block goes out at once and `poll_write`
/// returns while it is in flight, at most as many as the cap; a failed write is
/// reported by a later write, `flush` or `close`. Flush (or close) to know that the
/// data arrived. Dropping a file closes its handle without waiting.
pub struct SftpFile {
    client: SftpClient,
    handle: Option<Handle>,
    mode: OpenMode,
    position: u64,
    max_requests: usize,
    read_len: u32,
    write_len: usize,
    /// Read-ahead: requests in order of offset, the next offset to ask for, data at
    /// `position` not returned yet, and EOF seen at `position`.
    reads: VecDeque<(u64, Pending)>,
    read_depth: usize,
    next_read: u64,
    buffered: Bytes,
    read_eof: bool,
    /// Write-behind: requests in flight, bytes not sent yet (they start at
    /// `position - wbuf.len()`), and a failure not reported yet.
    writes: VecDeque<Pending>,
    wbuf: BytesMut,
    write_error: Option<SftpClientError>,
    /// A seek from the end waiting for the file's size.
    seek_stat: Option<(Pending, i64)>,
    closing: Option<Pending>,
}

impl SftpFile {
    fn new(client: SftpClient, handle: Handle, mode: OpenMode) -> Self {
        let limits = client.limits();
        let read_len = u32::try_from(limits.max_read_len)
            .unwrap_or(u32::MAX)
            .max(1);
        let write_len = usize::try_from(limits.max_write_len)
            .unwrap_or(usize::MAX)
            .max(1);
        Self {
            client,
            handle: Some(handle),
            mode,
            position: 0,
            max_requests: DEFAULT_FILE_REQUESTS,
            read_len,
            write_len,
            reads: VecDeque::new(),
            read_depth: 2,
            next_read: 0,
            buffered: Bytes::new(),
            read_eof: false,
            writes: VecDeque::new(),
            wbuf: BytesMut::new(),
            write_error: None,
            seek_stat: None,
            closing: None,
        }
    }

    /// How the file was opened.
    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// The offset of the next read or write.
    pub fn tell(&self) -> u64 {
        self.position
    }

    /// Sets how many requests the file keeps in flight (at least 1).
    pub fn set_max_requests(&mut self, requests: usize) {
        self.max_requests = requests.max(1);
    }

    /// Sets the length of each read and write request, capped by the server's limits.
    pub fn set_block_size(&mut self, len: u32) {
        let limits = self.client.limits();
        self.read_len = u64::from(len).min(limits.max_read_len).max(1) as u32;
        self.write_len = usize::try_from(u64::from(len).min(limits.max_write_len))
            .unwrap_or(1)
            .max(1);
    }

    fn handle(&self) -> Result<Handle, SftpClientError> {
        self.handle
            .clone()
            .ok_or(SftpClientError::Io(io::ErrorKind::BrokenPipe.into()))
    }

    /// Reads `len` bytes at `offset` in one request (fewer at the end of the file;
    /// empty at or past it), independent of the position.
    ///
    /// # Errors
    /// The server's status, or the session's end.
    pub async fn read_at(&self, offset: u64, len: u32) -> Result<Bytes, SftpClientError> {
        let request = Request::Read {
            handle: self.handle()?,
            offset,
            len,
        };
        match self.client.request(request).await? {
            Reply::Data(data) => Ok(data),
            Reply::Eof => Ok(Bytes::new()),
            other => Err(unexpected(&other)),
        }
    }

    /// Writes `data` at `offset` (in requests of the server's write length), waiting
    /// for each; independent of the position.
    ///
    /// # Errors
    /// As [`Self::read_at`].
    pub async fn write_at(&self, offset: u64, data: &[u8]) -> Result<(), SftpClientError> {
        let handle = self.handle()?;
        let mut pending = VecDeque::new();
        let mut at = offset;
        for chunk in data.chunks(self.write_len) {
            let request = Request::Write {
                handle: handle.clone(),
                offset: at,
                data: Bytes::copy_from_slice(chunk),
            };
            pending.push_back(self.client.shared.send(&request).await?);
            at += chunk.len() as u64;
        }
        for request in pending {
            expect_ok(request.await?)?;
        }
        Ok(())
    }

    /// The file's attributes (SSH_FXP_FSTAT).
    ///
    /// # Errors
    /// As [`Self::read_at`].
    pub async fn stat(&self) -> Result<FileAttributes, SftpClientError> {
        let handle = self.handle()?;
        match self.client.request(Request::Fstat { handle }).await? {
            Reply::Attrs(attrs) => Ok(attrs),
            other => Err(unexpected(&other)),
        }
    }

    /// Changes the file's attributes (SSH_FXP_FSETSTAT).
    ///
    /// # Errors
    /// As [`Self::read_at`].
    pub async fn setstat(&self, attrs: &FileAttributes) -> Result<(), SftpClientError> {
        let handle = self.handle()?;
        let attrs = attrs.clone();
        expect_ok(
            self.client
                .request(Request::Fsetstat { handle, attrs })
                .await?,
        )
    }

    /// Sets the file's size.
    ///
    /// # Errors
    /// As [`Self::read_at`].
    pub async fn truncate(&self, size: u64) -> Result<(), SftpClientError> {
        self.setstat(&FileAttributes::default().with_size(size))
            .await
    }

    /// Sets the file's permission bits.
    ///
    /// # Errors
    /// As [`Self::read_at`].
    pub async fn chmod(&self, mode: u32) -> Result<(), SftpClientError> {
        self.setstat(&FileAttributes::default().with_permissions(mode))
            .await
    }

    /// Sets the file's owner and group ids.
    ///
    /// # Errors
    /// As [`Self::read_at`].
    pub async fn chown(&self, uid: u32, gid: u32) -> Result<(), SftpClientError> {
        self.setstat(&FileAttributes::default().with_owner(uid, gid))
            .await
    }

    /// Sets the file's access and modification times.
    ///
    /// # Errors
    /// As [`Self::read_at`].
    pub async fn utime(&self, atime: u32, mtime: u32) -> Result<(), SftpClientError> {
        self.setstat(&FileAttributes::default().with_times(atime, mtime))
            .await
    }

    /// Statistics of the file's file system (`fstatvfs@openssh.com`).
    ///
    /// # Errors
    /// As [`Self::read_at`]; [`SftpClientError::Request`] if the server lacks it.
    pub async fn statvfs(&self) -> Result<StatVfs, SftpClientError> {
        let handle = self.handle()?;
        match self.client.request(Request::Fstatvfs { handle }).await? {
            Reply::StatVfs(stats) => Ok(stats),
            other => Err(unexpected(&other)),
        }
    }

    /// Flushes written data to stable storage on the server (`fsync@openssh.com`),
    /// after the writes in flight.
    ///
    /// # Errors
    /// A failed earlier write; as [`Self::statvfs`].
    pub async fn fsync(&mut self) -> Result<(), SftpClientError> {
        std::future::poll_fn(|cx| self.poll_flush_writes(cx)).await?;
        let handle = self.handle()?;
        expect_ok(self.client.request(Request::Fsync { handle }).await?)
    }

    /// Writes what is buffered, waits for the writes in flight, and closes the handle.
    ///
    /// # Errors
    /// A failed write, or the server's status for the CLOSE.
    pub async fn close(mut self) -> Result<(), SftpClientError> {
        std::future::poll_fn(|cx| self.poll_close_file(cx)).await
    }

    // ----- polling machinery -----

    fn drop_read_ahead(&mut self) {
        self.reads.clear();
        self.buffered = Bytes::new();
        self.read_eof = false;
        self.read_depth = 2;
        self.next_read = self.position;
    }

    /// Sends the buffered bytes as one WRITE.
    fn poll_send_wbuf(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SftpClientError>> {
        if self.wbuf.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let offset = self.position - self.wbuf.len() as u64;
        let data = Bytes::copy_from_slice(&self.wbuf);
        match self.poll_send_write(cx, offset, data) {
            Poll::Ready(Ok(())) => {
                self.wbuf.clear();
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }

    /// Sends one WRITE once a slot is free under the file's cap.
    fn poll_send_write(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        data: Bytes,
    ) -> Poll<Result<(), SftpClientError>> {
        self.reap_writes(cx)?;
        while self.writes.len() >= self.max_requests {
            match self.writes.front_mut().map(|p| p.poll_reply(cx)) {
                Some(Poll::Ready(result)) => {
                    self.writes.pop_front();
                    expect_ok(result?)?;
                }
                _ => return Poll::Pending,
            }
        }
        let request = Request::Write {
            handle: self.handle()?,
            offset,
            data,
        };
        let pending = std::task::ready!(self.client.shared.poll_send(cx, &request))?;
        self.writes.push_back(pending);
        Poll::Ready(Ok(()))
    }

    /// Takes the replies of finished writes at the front.
    fn reap_writes(&mut self, cx: &mut Context<'_>) -> Result<(), SftpClientError> {
        if let Some(error) = self.write_error.take() {
            return Err(error);
        }
        while let Some(Poll::Ready(result)) = self.writes.front_mut().map(|p| p.poll_reply(cx)) {
            self.writes.pop_front();
            expect_ok(result?)?;
        }
        Ok(())
    }

    /// Sends the buffer and waits for every write in flight.
    fn poll_flush_writes(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SftpClientError>> {
        std::task::ready!(self.poll_send_wbuf(cx))?;
        while let Some(front) = self.writes.front_mut() {
            let result = std::task::ready!(front.poll_reply(cx));
            self.writes.pop_front();
            if let Err(error) = result.and_then(expect_ok) {
                self.writes.clear();
                return Poll::Ready(Err(error));
            }
        }
        match self.write_error.take() {
            Some(error) => Poll::Ready(Err(error)),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_close_file(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SftpClientError>> {
        if self.closing.is_none() {
            let Some(handle) = self.handle.clone() else {
                return Poll::Ready(Ok(()));
            };
            let flushed = std::task::ready!(self.poll_flush_writes(cx));
            self.reads.clear();
            if let Err(error) = flushed {
                // Close anyway, then report the write's failure.
                self.write_error = Some(error);
            }
            let pending =
                std::task::ready!(self.client.shared.poll_send(cx, &Request::Close { handle }))?;
            self.closing = Some(pending);
        }
        let Some(closing) = self.closing.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let result = std::task::ready!(closing.poll_reply(cx));
        self.closing = None;
        self.handle = None;
        if let Some(error) = self.write_error.take() {
            return Poll::Ready(Err(error));
        }
        Poll::Ready(result.and_then(expect_ok))
    }

    fn poll_read_bytes(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, SftpClientError>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if !self.wbuf.is_empty() || !self.writes.is_empty() {
            std::task::ready!(self.poll_flush_writes(cx))?;
            self.drop_read_ahead();
        }
        if self.reads.is_empty() && self.buffered.is_empty() && !self.read_eof {
            // Nothing read ahead: the next request starts where the file stands
            // (writes and appends move it without touching the read state).
            self.next_read = self.position;
        }
        loop {
            if !self.buffered.is_empty() {
                let n = buf.len().min(self.buffered.len());
                let chunk = self.buffered.split_to(n);
                if let Some(dest) = buf.get_mut(..n) {
                    dest.copy_from_slice(&chunk);
                }
                self.position += n as u64;
                return Poll::Ready(Ok(n));
            }
            if self.read_eof {
                return Poll::Ready(Ok(0));
            }
            let handle = self.handle()?;
            while self.reads.len() < self.read_depth.min(self.max_requests) {
                let request = Request::Read {
                    handle: handle.clone(),
                    offset: self.next_read,
                    len: self.read_len,
                };
                match self.client.shared.poll_send(cx, &request) {
                    Poll::Ready(Ok(pending)) => {
                        self.reads.push_back((self.next_read, pending));
                        self.next_read = self.next_read.saturating_add(u64::from(self.read_len));
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => break,
                }
            }
            let Some((offset, front)) = self.reads.front_mut() else {
                return Poll::Pending;
            };
            let offset = *offset;
            let result = std::task::ready!(front.poll_reply(cx));
            self.reads.pop_front();
            match result {
                Ok(Reply::Data(mut data)) => {
                    // More than asked would overlap the next request's data.
                    data.truncate(self.read_len as usize);
                    let short = (data.len() as u64) < u64::from(self.read_len);
                    self.buffered = data;
                    if short {
                        // The requests after it asked for the wrong offsets.
                        self.reads.clear();
                        self.next_read = offset + self.buffered.len() as u64;
                    } else {
                        self.read_depth = (self.read_depth * 2).min(self.max_requests);
                    }
                    if self.buffered.is_empty() {
                        self.read_eof = true;
                    }
                }
                Ok(Reply::Eof) => {
                    self.reads.clear();
                    self.read_eof = true;
                }
                Ok(other) => return Poll::Ready(Err(unexpected(&other))),
                Err(error) => {
                    self.reads.clear();
                    self.next_read = self.position;
                    return Poll::Ready(Err(error));
                }
            }
        }
    }

    fn poll_write_bytes(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, SftpClientError>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if !self.reads.is_empty() || !self.buffered.is_empty() || self.read_eof {
            self.drop_read_ahead();
        }
        if let Some(error) = self.write_error.take() {
            return Poll::Ready(Err(error));
        }
        if self.wbuf.is_empty() && buf.len() >= self.write_len {
            // A whole block: straight to a request, no buffering.
            let n = self.write_len;
            let data = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
            std::task::ready!(self.poll_send_write(cx, self.position, data))?;
            self.position += n as u64;
            return Poll::Ready(Ok(n));
        }
        if self.wbuf.len() >= self.write_len {
            std::task::ready!(self.poll_send_wbuf(cx))?;
        }
        let n = buf.len().min(self.write_len - self.wbuf.len());
        self.wbuf
            .extend_from_slice(buf.get(..n).unwrap_or_default());
        self.position += n as u64;
        if self.wbuf.len() >= self.write_len {
            // Sent now if a slot is free, else by the next write or the flush.
            if let Poll::Ready(Err(error)) = self.poll_send_wbuf(cx) {
                self.write_error = Some(error);
            }
        }
        Poll::Ready(Ok(n))
    }

    fn poll_seek_to(
        &mut self,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<Result<u64, SftpClientError>> {
        std::task::ready!(self.poll_flush_writes(cx))?;
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
            SeekFrom::End(delta) => {
                if self.seek_stat.is_none() {
                    let request = Request::Fstat {
                        handle: self.handle()?,
                    };
                    let pending = std::task::ready!(self.client.shared.poll_send(cx, &request))?;
                    self.seek_stat = Some((pending, delta));
                }
                let Some((pending, delta)) = self.seek_stat.as_mut() else {
                    return Poll::Pending;
                };
                let delta = *delta;
                let result = std::task::ready!(pending.poll_reply(cx));
                self.seek_stat = None;
                let size = match result? {
                    Reply::Attrs(attrs) => attrs.size.unwrap_or(0),
                    other => return Poll::Ready(Err(unexpected(&other))),
                };
                size.checked_add_signed(delta)
            }
        };
        let Some(target) = target else {
            return Poll::Ready(Err(SftpClientError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ))));
        };
        if target != self.position {
            self.position = target;
            self.drop_read_ahead();
        }
        Poll::Ready(Ok(target))
    }
}

impl std::fmt::Debug for SftpFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpFile")
            .field("mode", &self.mode)
            .field("position", &self.position)
            .field("open", &self.handle.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for SftpFile {
    fn drop(&mut self) {
        self.reads.clear();
        if let Some(handle) = self.handle.take() {
            if !self.wbuf.is_empty() {
                let offset = self.position - self.wbuf.len() as u64;
                let data = self.wbuf.split().freeze();
                self.client.shared.send_detached(&Request::Write {
                    handle: handle.clone(),
                    offset,
                    data,
                });
            }
            self.client.shared.send_detached(&Request::Close { handle });
        }
    }
}

impl AsyncRead for SftpFile {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_bytes(cx, buf).map_err(Into::into)
    }
}

impl AsyncWrite for SftpFile {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bytes(cx, buf).map_err(Into::into)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_writes(cx).map_err(Into::into)
    }

    /// Flushes and closes the handle; the file cannot be used afterwards.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_close_file(cx).map_err(Into::into)
    }
}

impl AsyncSeek for SftpFile {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().poll_seek_to(cx, pos).map_err(Into::into)
    }
}

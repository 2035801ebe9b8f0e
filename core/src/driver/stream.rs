//! A channel's byte streams: the [`AsyncRead`]/[`AsyncWrite`] of [`Channel`], its
//! stderr ([`ChannelStderr`]) and the independent halves of [`Channel::split`].
//!
//! Received data stays in the engine, whose receive window bounds it; a reader takes
//! it straight from there and stores its waker when there is none. A writer hands
//! bytes to the engine, whose bounded send queue takes what the peer's window and
//! the queue allow; on `Blocked` it stores its waker until `ChannelWritable`.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};

use super::channel::ChannelError;
use super::channel::{Channel, acquire, exit_signal, release, request_no_reply, store, write_eof};
use super::engine::Engine;
use super::handle::Connection;
use super::state::State;
use crate::ClientConnection;
use crate::channel::{ChannelId, ChannelRequest, WriteError};

impl<E: Engine> State<E> {
    /// The next chunk of stdout (or stderr) data of `id`, at most `max` bytes;
    /// `None` at EOF. Stores the waker when nothing is there yet.
    pub(crate) fn poll_chunk(
        &mut self,
        id: ChannelId,
        stderr: bool,
        max: usize,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Bytes>>> {
        let chunk = if stderr {
            self.engine.channel(id).read_stderr_max(max)
        } else {
            self.engine.channel(id).read_max(max)
        };
        if let Some(chunk) = chunk {
            // Reading may have made a WINDOW_ADJUST due (once per half window). Only
            // then is there work for the driver: waking it for every chunk would cost
            // a task switch per packet of a bulk download.
            if self.engine.has_output() {
                self.wake_driver();
            }
            return Poll::Ready(Ok(Some(chunk)));
        }
        let Some(slot) = self.channels.get_mut(&id) else {
            return Poll::Ready(Ok(None));
        };
        if slot.peer_eof || slot.closed {
            return Poll::Ready(Ok(None));
        }
        if let Some(error) = &self.closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                error.clone(),
            )));
        }
        store(
            if stderr {
                &mut slot.stderr
            } else {
                &mut slot.reader
            },
            cx.waker(),
        );
        Poll::Pending
    }

    /// Writes `buf` as data (or stderr extended data) of `id`; stores the waker
    /// when the peer's window and the send queue are full.
    fn poll_write_from(
        &mut self,
        id: ChannelId,
        stderr: bool,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if self.closed.is_none() && self.wait_for_backlog(cx.waker()) {
            return Poll::Pending;
        }
        let result = if stderr {
            self.engine.channel(id).write_stderr(buf)
        } else {
            self.engine.channel(id).write(buf)
        };
        match result {
            Ok(n) => {
                // Taken into a queue the peer's window holds back: nothing to send yet.
                if self.engine.has_output() {
                    self.wake_driver();
                }
                Poll::Ready(Ok(n))
            }
            Err(WriteError::Blocked) => {
                if let Some(error) = &self.closed {
                    let error = io::Error::new(io::ErrorKind::ConnectionAborted, error.clone());
                    return Poll::Ready(Err(error));
                }
                match self.channels.get_mut(&id) {
                    Some(slot) => {
                        let waiting = if stderr {
                            &mut slot.stderr_writer
                        } else {
                            &mut slot.writer
                        };
                        store(waiting, cx.waker());
                        Poll::Pending
                    }
                    None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
                }
            }
            Err(error) => Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, error))),
        }
    }

    fn poll_read_into(
        &mut self,
        id: ChannelId,
        stderr: bool,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match self.poll_chunk(id, stderr, buf.len(), cx) {
            Poll::Ready(Ok(Some(chunk))) => {
                let n = chunk.len().min(buf.len());
                if let (Some(dest), Some(src)) = (buf.get_mut(..n), chunk.get(..n)) {
                    dest.copy_from_slice(src);
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Ok(None)) => Poll::Ready(Ok(0)),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A channel's stderr (extended data type 1, RFC 4254 §5.2) as byte streams: read
/// the peer's, write ours. Get it from [`Channel::stderr`]. It is a handle on the
/// channel: the channel closes once it and every other handle are dropped.
pub struct ChannelStderr<E: Engine = ClientConnection> {
    conn: Connection<E>,
    id: ChannelId,
}

impl<E: Engine> std::fmt::Debug for ChannelStderr<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelStderr")
            .field("id", &self.id)
            .finish()
    }
}

impl<E: Engine> AsyncRead for Channel<E> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        self.conn.lock().poll_read_into(id, false, cx, buf)
    }
}

impl<E: Engine> AsyncRead for ChannelStderr<E> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        self.conn.lock().poll_read_into(id, true, cx, buf)
    }
}

impl<E: Engine> AsyncWrite for Channel<E> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        self.conn.lock().poll_write_from(id, false, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        let joined = join_slices(bufs);
        self.conn.lock().poll_write_from(id, false, cx, &joined)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are in the engine's queue; the driver sends them as the
        // peer's window allows, and EOF or CLOSE go out after them.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A channel already closing has nothing more to say.
        let _ = self.write_eof();
        Poll::Ready(Ok(()))
    }
}

/// Writes stderr extended data (a server's side of a session, mostly); flushing is
/// immediate and closing does nothing: EOF covers both streams and is the
/// [`Channel`]'s to send.
impl<E: Engine> AsyncWrite for ChannelStderr<E> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        self.conn.lock().poll_write_from(id, true, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl<E: Engine> ChannelStderr<E> {
    /// A new (counted) handle on the stderr of channel `id`.
    pub(crate) fn new(conn: &Connection<E>, id: ChannelId) -> Self {
        acquire(conn, id);
        Self {
            conn: conn.clone(),
            id,
        }
    }
}

impl<E: Engine> Drop for ChannelStderr<E> {
    fn drop(&mut self) {
        release(&self.conn, self.id);
    }
}

/// The reading half of a [`Channel`] ([`Channel::split`]): the peer's data (a
/// command's stdout on a client, its stdin on a server) as an [`AsyncRead`].
pub struct ChannelReader<E: Engine = ClientConnection> {
    conn: Connection<E>,
    id: ChannelId,
}

/// The writing half of a [`Channel`] ([`Channel::split`]): our data as an
/// [`AsyncWrite`]; closing it ([`AsyncWrite::poll_close`]) sends EOF. On a server
/// it also reports how the command ended.
pub struct ChannelWriter<E: Engine = ClientConnection> {
    conn: Connection<E>,
    id: ChannelId,
}

impl<E: Engine> Channel<E> {
    /// Splits the channel into a reader and a writer that two tasks can use at
    /// once. The channel closes once both halves (and every other handle on it,
    /// such as a [`ChannelStderr`]) are dropped.
    pub fn split(self) -> (ChannelReader<E>, ChannelWriter<E>) {
        // Two new handles; `self` dropping gives its own back.
        acquire(&self.conn, self.id);
        acquire(&self.conn, self.id);
        let reader = ChannelReader {
            conn: self.conn.clone(),
            id: self.id,
        };
        let writer = ChannelWriter {
            conn: self.conn.clone(),
            id: self.id,
        };
        (reader, writer)
    }
}

impl<E: Engine> ChannelReader<E> {
    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The channel's stderr stream (a handle of its own).
    pub fn stderr(&self) -> ChannelStderr<E> {
        ChannelStderr::new(&self.conn, self.id)
    }
}

impl<E: Engine> ChannelWriter<E> {
    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The channel's stderr stream (a handle of its own), to write a command's
    /// stderr.
    pub fn stderr(&self) -> ChannelStderr<E> {
        ChannelStderr::new(&self.conn, self.id)
    }

    /// Sends EOF once the data written before it has gone out; as `poll_close`.
    ///
    /// # Errors
    /// The engine's error if the channel is closed.
    pub fn write_eof(&self) -> Result<(), ChannelError> {
        write_eof(&self.conn, self.id)
    }

    /// As [`Channel::send_exit_status`].
    ///
    /// # Errors
    /// The engine's error if the channel is closed.
    pub fn send_exit_status(&self, status: u32) -> Result<(), ChannelError> {
        request_no_reply(&self.conn, self.id, &ChannelRequest::ExitStatus(status))
    }

    /// As [`Channel::send_exit_signal`].
    ///
    /// # Errors
    /// The engine's error if the channel is closed.
    pub fn send_exit_signal(
        &self,
        signal: &str,
        core_dumped: bool,
        message: &str,
    ) -> Result<(), ChannelError> {
        let request = exit_signal(signal, core_dumped, message);
        request_no_reply(&self.conn, self.id, &request)
    }

    /// Closes the channel now, whatever other handles remain (CLOSE goes out
    /// after every byte written before it), as [`Channel::close`].
    pub fn close_channel(&self) {
        super::channel::close(&self.conn, self.id);
    }
}

impl<E: Engine> Drop for ChannelReader<E> {
    fn drop(&mut self) {
        release(&self.conn, self.id);
    }
}

impl<E: Engine> Drop for ChannelWriter<E> {
    fn drop(&mut self) {
        release(&self.conn, self.id);
    }
}

impl<E: Engine> std::fmt::Debug for ChannelReader<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelReader")
            .field("id", &self.id)
            .finish()
    }
}

impl<E: Engine> std::fmt::Debug for ChannelWriter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelWriter")
            .field("id", &self.id)
            .finish()
    }
}

impl<E: Engine> AsyncRead for ChannelReader<E> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        self.conn.lock().poll_read_into(id, false, cx, buf)
    }
}

impl<E: Engine> AsyncWrite for ChannelWriter<E> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        self.conn.lock().poll_write_from(id, false, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let id = self.id;
        let joined = join_slices(bufs);
        self.conn.lock().poll_write_from(id, false, cx, &joined)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A channel already closing has nothing more to say.
        let _ = self.write_eof();
        Poll::Ready(Ok(()))
    }
}

/// Most bytes a vectored write joins into one channel write.
const VECTORED_MAX: usize = 256 * 1024;

/// The front of `bufs` as one buffer: a channel write becomes whole packets, so a
/// small header written apart from its data would cost a packet of its own.
fn join_slices(bufs: &[IoSlice<'_>]) -> Vec<u8> {
    let total: usize = bufs.iter().map(|b| b.len()).sum();
    let mut joined = Vec::with_capacity(total.min(VECTORED_MAX));
    for buf in bufs {
        let room = VECTORED_MAX - joined.len();
        if room == 0 {
            break;
        }
        joined.extend_from_slice(buf.get(..room.min(buf.len())).unwrap_or_default());
    }
    joined
}

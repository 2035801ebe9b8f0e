//! Channels through the driver: an owned [`Channel`] handle per channel, its byte
//! streams (stdout and stdin as [`AsyncRead`]/[`AsyncWrite`], stderr as
//! [`ChannelStderr`]) and its requests.
//!
//! Received data stays in the engine, whose receive window bounds it; a reader takes
//! it straight from there and stores its waker when there is none. A writer hands
//! bytes to the engine, whose bounded send queue takes what the peer's window and
//! the queue allow; on `Blocked` it stores its waker until `ChannelWritable`. So
//! nothing between a handle and the driver can grow without bound.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};

use super::engine::Engine;
use super::handle::Connection;
use super::state::State;
use crate::ClientConnection;
use crate::channel::{self, ChannelId, ChannelRequest, OpenFailureReason, PtyRequest, WriteError};
use crate::error::ConnectionError;
use crate::event::Event;

/// Why a channel operation through the driver failed.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The peer refused to open the channel (RFC 4254 §5.1).
    #[error("the peer refused the channel ({reason:?}): {description}")]
    OpenFailed {
        /// The peer's reason code.
        reason: OpenFailureReason,
        /// Its text.
        description: String,
    },
    /// The peer answered a request with CHANNEL_FAILURE (RFC 4254 §5.4).
    #[error("the peer refused the {0} request")]
    Refused(&'static str),
    /// The engine refused the operation (channel closed, not authenticated, ...).
    #[error(transparent)]
    Channel(#[from] channel::ChannelError),
    /// The connection ended.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// Reading the channel's output failed.
    #[error("reading the channel failed: {0}")]
    Io(#[from] io::Error),
}

/// How a remote command was killed (`exit-signal`, RFC 4254 §6.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitSignal {
    /// The signal name without `SIG` (`TERM`, `KILL`, ...).
    pub name: String,
    /// Whether it dumped core.
    pub core_dumped: bool,
    /// The peer's message (control characters removed).
    pub message: String,
}

/// What the driver keeps per channel: wakers and what the peer reported. No data:
/// that stays in the engine, bounded by the receive window.
#[derive(Default)]
pub(crate) struct ChannelSlot {
    opened: Option<Result<(), (OpenFailureReason, String)>>,
    reader: Option<Waker>,
    stderr: Option<Waker>,
    writer: Option<Waker>,
    stderr_writer: Option<Waker>,
    peer_eof: bool,
    closed: bool,
    /// Requests sent wanting a reply, replies received, and the latest reply:
    /// replies come in order, so request number n reads reply number n.
    requests_sent: u64,
    replies: u64,
    last_reply: bool,
    exit_status: Option<u32>,
    exit_signal: Option<ExitSignal>,
}

fn store(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) if w.will_wake(waker) => {}
        slot => *slot = Some(waker.clone()),
    }
}

fn wake(slot: &mut Option<Waker>) {
    if let Some(waker) = slot.take() {
        waker.wake();
    }
}

impl ChannelSlot {
    fn wake_all(&mut self) {
        wake(&mut self.reader);
        wake(&mut self.stderr);
        wake(&mut self.writer);
        wake(&mut self.stderr_writer);
    }
}

impl<E: Engine> State<E> {
    /// Routes a channel event to its channel's slot; events of channels no handle
    /// holds are dropped (a decision dropped is refused by the engine).
    pub(crate) fn route_channel_event(&mut self, event: Event) {
        let id = match &event {
            Event::ChannelOpened(id)
            | Event::ChannelReadable(id)
            | Event::ChannelWritable(id)
            | Event::ChannelEof(id)
            | Event::ChannelClosed(id)
            | Event::ChannelOpenFailed { id, .. }
            | Event::ChannelRequestResult { id, .. } => *id,
            Event::ChannelRequest(decision) => decision.channel(),
            _ => return,
        };
        let Some(slot) = self.channels.get_mut(&id) else {
            return;
        };
        match event {
            Event::ChannelOpened(_) => slot.opened = Some(Ok(())),
            Event::ChannelOpenFailed {
                reason,
                description,
                ..
            } => slot.opened = Some(Err((reason, description))),
            Event::ChannelReadable(_) => {
                wake(&mut slot.reader);
                wake(&mut slot.stderr);
                return;
            }
            Event::ChannelWritable(_) => {
                wake(&mut slot.writer);
                wake(&mut slot.stderr_writer);
                return;
            }
            Event::ChannelEof(_) => slot.peer_eof = true,
            Event::ChannelClosed(_) => slot.closed = true,
            Event::ChannelRequestResult { success, .. } => {
                slot.replies += 1;
                slot.last_reply = success;
            }
            Event::ChannelRequest(decision) => match decision.request() {
                ChannelRequest::ExitStatus(status) => slot.exit_status = Some(*status),
                ChannelRequest::ExitSignal {
                    name,
                    core_dumped,
                    message,
                } => {
                    slot.exit_signal = Some(ExitSignal {
                        name: name.clone(),
                        core_dumped: *core_dumped,
                        message: message.clone(),
                    });
                }
                // Anything else a client does not serve; dropping answers failure.
                _ => {}
            },
            _ => {}
        }
        slot.wake_all();
        self.wake_watchers();
    }

    /// Wakes every channel's readers and writers (the connection ended).
    pub(crate) fn wake_all_channels(&mut self) {
        for slot in self.channels.values_mut() {
            slot.wake_all();
        }
        self.wake_backlog_waiters();
    }

    /// The next chunk of stdout (or stderr) data of `id`, at most `max` bytes;
    /// `None` at EOF. Stores the waker when nothing is there yet.
    fn poll_chunk(
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
            // Reading may have reopened the window: WINDOW_ADJUST to send.
            self.wake_driver();
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
                self.wake_driver();
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

/// An open channel (a session, usually): its stdin and stdout as a byte stream,
/// its requests, and what the peer reported about it.
///
/// Reading ([`AsyncRead`]) gives the channel's data (a command's stdout); writing
/// ([`AsyncWrite`]) sends data (its stdin), and closing the writer sends EOF. The
/// stderr stream is read through [`Self::stderr`]. Dropping the handle closes the
/// channel. The handle keeps the connection open.
///
/// ```no_run
/// # async fn demo(conn: sansh_core::driver::Connection) -> Result<(), sansh_core::driver::ChannelError> {
/// let mut channel = conn.open_session().await?;
/// channel.exec("uname -a").await?;
/// channel.write_eof()?;
/// channel.wait_closed().await?;
/// println!("exit status {:?}", channel.exit_status());
/// # Ok(())
/// # }
/// ```
pub struct Channel<E: Engine = ClientConnection> {
    conn: Connection<E>,
    id: ChannelId,
}

/// A channel's stderr (extended data type 1, RFC 4254 §5.2) as byte streams: read
/// the peer's, write ours. Get it from [`Channel::stderr`]. It reads EOF once the
/// channel is gone.
pub struct ChannelStderr<E: Engine = ClientConnection> {
    conn: Connection<E>,
    id: ChannelId,
}

impl<E: Engine> Connection<E> {
    /// Opens a `session` channel (RFC 4254 §6.1) and waits for the peer to confirm it.
    ///
    /// # Errors
    /// [`ChannelError::OpenFailed`] if the peer refuses; the engine's error (e.g.
    /// not authenticated yet); the connection's error if it ends first.
    pub async fn open_session(&self) -> Result<Channel<E>, ChannelError> {
        let id = {
            let mut state = self.lock();
            let id = state.engine.channels().open_session()?;
            state.channels.insert(id, ChannelSlot::default());
            state.wake_driver();
            id
        };
        // Built first, so that a cancelled open still closes the channel.
        let channel = Channel {
            conn: self.clone(),
            id,
        };
        let opened = self
            .wait_until(|state| state.channels.get(&id).and_then(|s| s.opened.clone()))
            .await?;
        match opened {
            Ok(()) => Ok(channel),
            Err((reason, description)) => Err(ChannelError::OpenFailed {
                reason,
                description,
            }),
        }
    }
}

impl<E: Engine> Channel<E> {
    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The channel's stderr stream.
    pub fn stderr(&self) -> ChannelStderr<E> {
        ChannelStderr {
            conn: self.conn.clone(),
            id: self.id,
        }
    }

    /// Sends a request wanting a reply and waits for it.
    async fn request_reply(
        &mut self,
        request: ChannelRequest,
        name: &'static str,
    ) -> Result<(), ChannelError> {
        let id = self.id;
        let number = {
            let mut state = self.conn.lock();
            state.engine.channel(id).request(&request, true)?;
            state.wake_driver();
            let slot = state
                .channels
                .get_mut(&id)
                .ok_or(channel::ChannelError::Closed)?;
            slot.requests_sent += 1;
            slot.requests_sent
        };
        let reply = self
            .conn
            .wait_until(|state| match state.channels.get(&id) {
                Some(slot) if slot.replies >= number => {
                    Some(Ok(slot.replies == number && slot.last_reply))
                }
                Some(slot) if !slot.closed => None,
                // Closed: the requests awaiting a reply get none.
                _ => Some(Err(channel::ChannelError::Closed)),
            })
            .await??;
        if reply {
            Ok(())
        } else {
            Err(ChannelError::Refused(name))
        }
    }

    /// Sends a request wanting no reply.
    fn request_no_reply(&self, request: &ChannelRequest) -> Result<(), ChannelError> {
        let mut state = self.conn.lock();
        state.engine.channel(self.id).request(request, false)?;
        state.wake_driver();
        Ok(())
    }

    /// Runs a command (`exec`, RFC 4254 §6.5) and waits for the peer to accept it.
    ///
    /// # Errors
    /// [`ChannelError::Refused`] if the peer refuses; others as [`Connection::open_session`].
    pub async fn exec(&mut self, command: impl AsRef<[u8]>) -> Result<(), ChannelError> {
        let command = command.as_ref().to_vec();
        self.request_reply(ChannelRequest::Exec { command }, "exec")
            .await
    }

    /// Starts the user's shell (`shell`, RFC 4254 §6.5).
    ///
    /// # Errors
    /// As [`Self::exec`].
    pub async fn shell(&mut self) -> Result<(), ChannelError> {
        self.request_reply(ChannelRequest::Shell, "shell").await
    }

    /// Starts a subsystem such as `sftp` (`subsystem`, RFC 4254 §6.5).
    ///
    /// # Errors
    /// As [`Self::exec`].
    pub async fn subsystem(&mut self, name: &str) -> Result<(), ChannelError> {
        let name = name.to_owned();
        self.request_reply(ChannelRequest::Subsystem { name }, "subsystem")
            .await
    }

    /// Asks for a pseudo-terminal (`pty-req`, RFC 4254 §6.2).
    ///
    /// # Errors
    /// As [`Self::exec`].
    pub async fn request_pty(&mut self, pty: &PtyRequest) -> Result<(), ChannelError> {
        self.request_reply(ChannelRequest::Pty(pty.clone()), "pty-req")
            .await
    }

    /// Sets an environment variable for the command to come (`env`, RFC 4254 §6.4).
    ///
    /// # Errors
    /// As [`Self::exec`] (OpenSSH accepts only the names its `AcceptEnv` lists).
    pub async fn env(&mut self, name: &str, value: &str) -> Result<(), ChannelError> {
        let request = ChannelRequest::Env {
            name: name.to_owned(),
            value: value.to_owned(),
        };
        self.request_reply(request, "env").await
    }

    /// Delivers a signal, named without `SIG` (`signal`, RFC 4254 §6.9).
    ///
    /// # Errors
    /// The engine's error if the channel is closed.
    pub fn send_signal(&self, name: &str) -> Result<(), ChannelError> {
        let name = name.to_owned();
        self.request_no_reply(&ChannelRequest::Signal { name })
    }

    /// Sends a BREAK of `ms` milliseconds (`break`, RFC 4335).
    ///
    /// # Errors
    /// As [`Self::send_signal`].
    pub fn send_break(&self, ms: u32) -> Result<(), ChannelError> {
        self.request_no_reply(&ChannelRequest::Break { ms })
    }

    /// Reports a new terminal size (`window-change`, RFC 4254 §6.7).
    ///
    /// # Errors
    /// As [`Self::send_signal`].
    pub fn change_terminal_size(
        &self,
        cols: u32,
        rows: u32,
        width_px: u32,
        height_px: u32,
    ) -> Result<(), ChannelError> {
        self.request_no_reply(&ChannelRequest::WindowChange {
            cols,
            rows,
            width_px,
            height_px,
        })
    }

    /// Sends EOF once the data written before it has gone out (RFC 4254 §5.3); the
    /// channel stays readable. Sending it twice is harmless.
    ///
    /// Closing the writer ([`AsyncWrite::poll_close`]) does the same.
    ///
    /// # Errors
    /// The engine's error if the channel is closed.
    pub fn write_eof(&self) -> Result<(), ChannelError> {
        let mut state = self.conn.lock();
        let result = state.engine.channel(self.id).eof();
        state.wake_driver();
        Ok(result?)
    }

    /// Closes the channel: CLOSE goes out after every byte written before it, and
    /// data not read yet is dropped. [`Self::wait_closed`] waits for the peer's CLOSE.
    pub fn close(&self) {
        let mut state = self.conn.lock();
        // Already closing or closed: nothing left to do.
        let _ = state.engine.channel(self.id).close();
        state.wake_driver();
    }

    /// Waits until CLOSE went both ways; the exit status (or signal) has arrived by
    /// then if the peer sends one. Unread data stays readable.
    ///
    /// # Errors
    /// The connection's error if it ends first.
    pub async fn wait_closed(&self) -> Result<(), ConnectionError> {
        let id = self.id;
        self.conn
            .wait_until(|state| {
                state
                    .channels
                    .get(&id)
                    .is_none_or(|slot| slot.closed)
                    .then_some(())
            })
            .await
    }

    /// The command's exit status (`exit-status`), once received.
    pub fn exit_status(&self) -> Option<u32> {
        let state = self.conn.lock();
        state.channels.get(&self.id).and_then(|s| s.exit_status)
    }

    /// The signal that killed the command (`exit-signal`), once received.
    pub fn exit_signal(&self) -> Option<ExitSignal> {
        let state = self.conn.lock();
        state
            .channels
            .get(&self.id)
            .and_then(|s| s.exit_signal.clone())
    }

    /// Polls stdout and stderr into the two buffers until both reach EOF.
    pub(crate) fn poll_drain(
        &self,
        cx: &mut Context<'_>,
        stdout: &mut Vec<u8>,
        stderr: &mut Vec<u8>,
        done: &mut [bool; 2],
    ) -> Poll<io::Result<()>> {
        let mut state = self.conn.lock();
        for (index, (is_stderr, out)) in [(false, stdout), (true, stderr)].into_iter().enumerate() {
            let Some(finished) = done.get_mut(index) else {
                continue;
            };
            while !*finished {
                match state.poll_chunk(self.id, is_stderr, usize::MAX, cx) {
                    Poll::Ready(Ok(Some(chunk))) => out.extend_from_slice(&chunk),
                    Poll::Ready(Ok(None)) => *finished = true,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => break,
                }
            }
        }
        if done.iter().all(|d| *d) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }
}

impl<E: Engine> Drop for Channel<E> {
    fn drop(&mut self) {
        let mut state = self.conn.lock();
        let _ = state.engine.channel(self.id).close();
        if let Some(mut slot) = state.channels.remove(&self.id) {
            slot.wake_all();
        }
        state.wake_driver();
    }
}

impl<E: Engine> std::fmt::Debug for Channel<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("id", &self.id).finish()
    }
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

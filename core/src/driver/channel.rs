//! Channels through the driver: an owned [`Channel`] handle per channel, what the
//! driver keeps for it ([`ChannelSlot`]), and the requests a client sends on it.
//!
//! The byte streams are in `stream.rs`, the peer's requests in `requests.rs`.
//! Nothing between a handle and the driver can grow without bound: data stays in
//! the engine, and the peer's requests wait in a bounded queue per channel.

use std::collections::VecDeque;
use std::io;
use std::task::{Context, Poll, Waker};

use super::engine::Engine;
use super::handle::Connection;
use super::state::State;
use super::stream::ChannelStderr;
use crate::ClientConnection;
use crate::channel::{
    self, ChannelId, ChannelKind, ChannelRequest, ChannelRequestDecision, OpenFailureReason,
    PtyRequest,
};
use crate::error::ConnectionError;
use crate::event::Event;

/// Most of the peer's requests waiting for [`Channel::requests`] on one channel;
/// past this the driver answers them failure itself (those wanting a reply).
pub const MAX_PENDING_REQUESTS: usize = 32;

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

/// What the driver keeps per channel: wakers, what the peer reported, and the
/// peer's requests waiting for the application. No data: that stays in the engine,
/// bounded by the receive window.
#[derive(Default)]
pub(crate) struct ChannelSlot {
    /// Handles on the channel ([`Channel`], its halves, [`ChannelStderr`]); the
    /// last one dropped closes it.
    pub(crate) handles: usize,
    pub(crate) opened: Option<Result<(), (OpenFailureReason, String)>>,
    /// The peer's requests, in order, for [`Channel::requests`]; only queued once
    /// someone serves them (at once on a channel the peer opened).
    pub(crate) requests: VecDeque<ChannelRequestDecision>,
    pub(crate) serving_requests: bool,
    pub(crate) reader: Option<Waker>,
    pub(crate) stderr: Option<Waker>,
    pub(crate) writer: Option<Waker>,
    pub(crate) stderr_writer: Option<Waker>,
    pub(crate) peer_eof: bool,
    pub(crate) closed: bool,
    /// Requests sent wanting a reply, replies received, and the latest reply:
    /// replies come in order, so request number n reads reply number n.
    pub(crate) requests_sent: u64,
    pub(crate) replies: u64,
    pub(crate) last_reply: bool,
    pub(crate) exit_status: Option<u32>,
    pub(crate) exit_signal: Option<ExitSignal>,
}

pub(crate) fn store(slot: &mut Option<Waker>, waker: &Waker) {
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
    /// The slot of a channel with its first handle.
    pub(crate) fn new(serving_requests: bool) -> Self {
        Self {
            handles: 1,
            serving_requests,
            ..Self::default()
        }
    }

    pub(crate) fn wake_all(&mut self) {
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
                _ if slot.serving_requests && slot.requests.len() < MAX_PENDING_REQUESTS => {
                    slot.requests.push_back(decision);
                }
                // Nobody serves them, or too many wait: dropping answers failure
                // (the driver's next engine call sends it).
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
}

/// An open channel (a session, usually): its stdin and stdout as a byte stream,
/// its requests, and what the peer reported about it.
///
/// Reading ([`AsyncRead`]) gives the channel's data (a command's stdout, or on a
/// server its stdin); writing ([`AsyncWrite`]) sends data, and closing the writer
/// sends EOF. The stderr stream is [`Self::stderr`]; [`Self::split`] gives a reader
/// and a writer for two tasks; [`Self::requests`] the peer's requests. The channel
/// closes once the last handle on it ([`Channel`], its halves, [`ChannelStderr`])
/// is dropped. Each keeps the connection open.
///
/// [`AsyncRead`]: futures_io::AsyncRead
/// [`AsyncWrite`]: futures_io::AsyncWrite
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
    pub(crate) conn: Connection<E>,
    pub(crate) id: ChannelId,
}

impl<E: Engine> Connection<E> {
    /// Opens a `session` channel (RFC 4254 §6.1) and waits for the peer to confirm it.
    ///
    /// # Errors
    /// [`ChannelError::OpenFailed`] if the peer refuses; the engine's error (e.g.
    /// not authenticated yet); the connection's error if it ends first.
    pub async fn open_session(&self) -> Result<Channel<E>, ChannelError> {
        self.open_channel(ChannelKind::Session).await
    }

    /// Opens a channel of any kind (`direct-tcpip`, `direct-streamlocal@openssh.com`,
    /// a forwarded connection on a server, ...) and waits for the peer to confirm it
    /// (RFC 4254 §5.1).
    ///
    /// # Errors
    /// As [`Self::open_session`].
    pub async fn open_channel(&self, kind: ChannelKind) -> Result<Channel<E>, ChannelError> {
        self.open_channel_sized(kind, None).await
    }

    /// Opens a channel like [`Self::open_channel`], with its own receive window
    /// (`window` bytes) and largest accepted data packet (`max_packet` bytes) in place
    /// of the connection's [`ConnectionConfig`](crate::config::ConnectionConfig)
    /// ones (RFC 4254 §5.1, §5.2). A bulk transfer gains from both: a window wider
    /// than what is in flight, and fewer, larger packets to decrypt and wake for.
    /// `max_packet` plus its header and padding must fit in the transport's
    /// [`Limits::max_packet_len`](crate::config::Limits::max_packet_len).
    ///
    /// # Errors
    /// As [`Self::open_session`].
    pub async fn open_channel_with(
        &self,
        kind: ChannelKind,
        window: u32,
        max_packet: u32,
    ) -> Result<Channel<E>, ChannelError> {
        self.open_channel_sized(kind, Some((window, max_packet)))
            .await
    }

    async fn open_channel_sized(
        &self,
        kind: ChannelKind,
        sizes: Option<(u32, u32)>,
    ) -> Result<Channel<E>, ChannelError> {
        let id = {
            let mut state = self.lock();
            let mut channels = state.engine.channels();
            let id = match sizes {
                Some((window, max_packet)) => channels.open_with(kind, window, max_packet)?,
                None => channels.open(kind)?,
            };
            state.channels.insert(id, ChannelSlot::new(false));
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

/// Sends a request wanting no reply on channel `id`.
pub(crate) fn request_no_reply<E: Engine>(
    conn: &Connection<E>,
    id: ChannelId,
    request: &ChannelRequest,
) -> Result<(), ChannelError> {
    let mut state = conn.lock();
    state.engine.channel(id).request(request, false)?;
    state.wake_driver();
    Ok(())
}

/// An `exit-signal` request.
pub(crate) fn exit_signal(signal: &str, core_dumped: bool, message: &str) -> ChannelRequest {
    ChannelRequest::ExitSignal {
        name: signal.to_owned(),
        core_dumped,
        message: message.to_owned(),
    }
}

/// Sends EOF on channel `id` once the data written before it has gone out.
pub(crate) fn write_eof<E: Engine>(
    conn: &Connection<E>,
    id: ChannelId,
) -> Result<(), ChannelError> {
    let mut state = conn.lock();
    let result = state.engine.channel(id).eof();
    state.wake_driver();
    Ok(result?)
}

/// Closes channel `id` (CLOSE after the data written before it).
pub(crate) fn close<E: Engine>(conn: &Connection<E>, id: ChannelId) {
    let mut state = conn.lock();
    // Already closing or closed: nothing left to do.
    let _ = state.engine.channel(id).close();
    state.wake_driver();
}

/// Counts one more handle on channel `id`.
pub(crate) fn acquire<E: Engine>(conn: &Connection<E>, id: ChannelId) {
    if let Some(slot) = conn.lock().channels.get_mut(&id) {
        slot.handles += 1;
    }
}

/// Drops one handle on channel `id`; the last one closes the channel (CLOSE goes out
/// after the data written before it) and forgets its slot: requests still queued
/// are answered failure.
pub(crate) fn release<E: Engine>(conn: &Connection<E>, id: ChannelId) {
    let mut state = conn.lock();
    if let Some(slot) = state.channels.get_mut(&id) {
        slot.handles = slot.handles.saturating_sub(1);
        if slot.handles > 0 {
            return;
        }
    }
    // Already closing or closed: nothing left to do.
    let _ = state.engine.channel(id).close();
    if let Some(mut slot) = state.channels.remove(&id) {
        slot.wake_all();
    }
    state.wake_driver();
    // Whoever waits on its requests sees the channel gone.
    state.wake_watchers();
}

impl<E: Engine> Channel<E> {
    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The channel's stderr stream: a handle on the channel of its own, which
    /// keeps it open until dropped too.
    pub fn stderr(&self) -> ChannelStderr<E> {
        ChannelStderr::new(&self.conn, self.id)
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
        request_no_reply(&self.conn, self.id, request)
    }

    /// Reports how the command of a session ended (`exit-status`, RFC 4254 §6.10):
    /// the server's side of a session, before it closes the channel.
    ///
    /// # Errors
    /// The engine's error if the channel is closed.
    pub fn send_exit_status(&self, status: u32) -> Result<(), ChannelError> {
        self.request_no_reply(&ChannelRequest::ExitStatus(status))
    }

    /// Reports that the command was killed by a signal, named without `SIG`
    /// (`exit-signal`, RFC 4254 §6.10).
    ///
    /// # Errors
    /// As [`Self::send_exit_status`].
    pub fn send_exit_signal(
        &self,
        signal: &str,
        core_dumped: bool,
        message: &str,
    ) -> Result<(), ChannelError> {
        self.request_no_reply(&exit_signal(signal, core_dumped, message))
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
    /// Closing the writer ([`AsyncWrite::poll_close`](futures_io::AsyncWrite::poll_close)) does the same.
    ///
    /// # Errors
    /// The engine's error if the channel is closed.
    pub fn write_eof(&self) -> Result<(), ChannelError> {
        write_eof(&self.conn, self.id)
    }

    /// Closes the channel: CLOSE goes out after every byte written before it, and
    /// data not read yet is dropped. [`Self::wait_closed`] waits for the peer's CLOSE.
    pub fn close(&self) {
        close(&self.conn, self.id);
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
        release(&self.conn, self.id);
    }
}

impl<E: Engine> std::fmt::Debug for Channel<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("id", &self.id).finish()
    }
}

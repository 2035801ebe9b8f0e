//! The state an SFTP session's handles share with its task, the task that pumps the
//! engine over the byte stream, and [`Pending`], one request waiting for its reply.
//!
//! The task owns the stream; the engine sits behind a mutex. A handle locks, sends
//! its request through the engine and keeps the request id; the task feeds the
//! stream's bytes to the engine and drops each response in its request's slot,
//! waking whoever waits there. Nothing queues between them: a handle that finds the
//! engine's in-flight cap reached, or too many bytes unwritten, waits for a response
//! to make room.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};

use super::error::SftpClientError;
use crate::driver::Channel;
use crate::driver::runtime::{ByteStream, Runtime};
use crate::sftp::{
    ClientEvent, Reply, Request, RequestError, SessionError, SftpClient as Engine, SftpError,
};

/// Bytes read from the stream per call: large, since SFTP data packets are up to
/// 256 KiB and the engine takes any chunking.
const READ_CHUNK: usize = 256 * 1024;

/// Handles stop sending while this many bytes wait to be written to the stream.
const WRITE_HIGH_WATER: usize = 16 * 1024 * 1024;

/// Largest written-out buffer kept for the engine's next requests: reusing it saves
/// growing a fresh one (and copying as it grows) for every batch of writes, while a
/// burst's huge buffer is not held for the session's lifetime.
const SPARE_MAX: usize = 4 * 1024 * 1024;

/// Rounds of read/write/dispatch per poll before the task yields.
const WORK_BUDGET: usize = 64;

/// One request's place: who waits for it, or its result.
enum Slot {
    Waiting(Option<Waker>),
    Done(Result<Reply, SftpError>),
    /// Its [`Pending`] was dropped: the reply is thrown away when it comes.
    Abandoned,
}

/// The byte stream a session runs over.
pub(crate) enum Stream {
    /// Any stream: read through [`AsyncRead`] into the task's buffer.
    Any(Box<dyn ByteStream>),
    /// A session channel: its data is taken as the connection holds it (`Bytes`),
    /// saving the copy into a buffer of ours.
    Channel(Channel),
}

impl Stream {
    fn writer(&mut self) -> Pin<&mut (dyn AsyncWrite + Unpin)> {
        match self {
            Self::Any(stream) => Pin::new(&mut **stream),
            Self::Channel(channel) => Pin::new(channel),
        }
    }
}

/// What the handles and the task share.
pub(crate) struct State {
    pub(crate) engine: Engine,
    pub(crate) runtime: Arc<dyn Runtime>,
    slots: HashMap<u32, Slot>,
    /// Why the session ended, once it has.
    closed: Option<SessionError>,
    /// Tasks waiting for `Ready`, for room under the in-flight cap, or for the
    /// write backlog to drain. Each waiting task has one entry (deduplicated).
    waiting: Vec<Waker>,
    driver: Option<Waker>,
    /// Bytes handed to the stream's writer and not yet written.
    backlog: usize,
    /// Live client and file handles; the session closes when it drops to zero.
    users: usize,
    /// The working directory for relative paths (`chdir`).
    pub(crate) cwd: Option<Vec<u8>>,
}

/// The shared state of one SFTP session.
pub(crate) struct Shared {
    state: Mutex<State>,
}

fn store(waiting: &mut Vec<Waker>, waker: &Waker) {
    if !waiting.iter().any(|w| w.will_wake(waker)) {
        waiting.push(waker.clone());
    }
}

impl Shared {
    pub(crate) fn new(engine: Engine, runtime: Arc<dyn Runtime>) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                engine,
                runtime,
                slots: HashMap::new(),
                closed: None,
                waiting: Vec::new(),
                driver: None,
                backlog: 0,
                users: 0,
                cwd: None,
            }),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Spawns the task that pumps the engine over `stream`.
    pub(crate) fn spawn_driver(self: &Arc<Self>, stream: Stream) {
        let read_buf = match stream {
            Stream::Any(_) => vec![0; READ_CHUNK].into_boxed_slice(),
            Stream::Channel(_) => Box::default(),
        };
        let driver = SftpDriver {
            shared: self.clone(),
            stream,
            read_buf,
            out: VecDeque::new(),
            written: 0,
            spare: Vec::new(),
            read_done: false,
            write_failed: false,
        };
        let runtime = self.lock().runtime.clone();
        runtime.spawn(Box::pin(driver));
    }

    /// Counts a new handle.
    pub(crate) fn add_user(&self) {
        self.lock().users += 1;
    }

    /// Forgets a handle; the last one ends the session (requests already encoded,
    /// such as the CLOSE of a dropped file, are still written).
    pub(crate) fn remove_user(&self) {
        let mut state = self.lock();
        state.users = state.users.saturating_sub(1);
        if state.users == 0 {
            state.engine.close();
            state.wake_driver();
        }
    }

    /// Waits for the engine's `Ready` (or the end of the session).
    pub(crate) async fn ready(&self) -> Result<(), SftpClientError> {
        std::future::poll_fn(|cx| {
            let mut state = self.lock();
            if state.engine.is_ready() {
                return Poll::Ready(Ok(()));
            }
            if let Some(error) = &state.closed {
                return Poll::Ready(Err(SftpClientError::Session(error.clone())));
            }
            store(&mut state.waiting, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Sends `request`, or stores the waker when the in-flight cap or the write
    /// backlog says to wait.
    pub(crate) fn poll_send(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        request: &Request,
    ) -> Poll<Result<Pending, SftpClientError>> {
        let mut state = self.lock();
        if let Some(error) = &state.closed {
            return Poll::Ready(Err(SftpClientError::Session(error.clone())));
        }
        if state.backlog >= WRITE_HIGH_WATER {
            store(&mut state.waiting, cx.waker());
            return Poll::Pending;
        }
        match state.engine.send(request) {
            Ok(id) => {
                state.slots.insert(id.0, Slot::Waiting(None));
                state.wake_driver();
                Poll::Ready(Ok(Pending {
                    shared: self.clone(),
                    id: id.0,
                    done: false,
                }))
            }
            Err(RequestError::TooManyInFlight { .. } | RequestError::NotReady) => {
                store(&mut state.waiting, cx.waker());
                Poll::Pending
            }
            Err(error) => Poll::Ready(Err(SftpClientError::Request(error))),
        }
    }

    /// Sends `request` once there is room.
    pub(crate) async fn send(
        self: &Arc<Self>,
        request: &Request,
    ) -> Result<Pending, SftpClientError> {
        std::future::poll_fn(|cx| self.poll_send(cx, request)).await
    }

    /// Sends `request` and waits for its reply.
    pub(crate) async fn request(
        self: &Arc<Self>,
        request: &Request,
    ) -> Result<Reply, SftpClientError> {
        self.send(request).await?.await
    }

    /// Sends `request` and forgets it: its reply is dropped when it comes.
    pub(crate) fn send_detached(&self, request: &Request) {
        let mut state = self.lock();
        if let Ok(id) = state.engine.send(request) {
            state.slots.insert(id.0, Slot::Abandoned);
            state.wake_driver();
        }
    }
}

impl State {
    fn wake_driver(&mut self) {
        if let Some(waker) = &self.driver {
            waker.wake_by_ref();
        }
    }

    fn wake_waiting(&mut self) {
        for waker in self.waiting.drain(..) {
            waker.wake();
        }
    }

    /// Hands the engine's events to the slots. Returns whether there were any.
    fn dispatch(&mut self) -> bool {
        let mut any = false;
        while let Some(event) = self.engine.poll_event() {
            any = true;
            match event {
                ClientEvent::Ready => {}
                ClientEvent::Response { id, result } => match self.slots.remove(&id.0) {
                    Some(Slot::Waiting(waker)) => {
                        self.slots.insert(id.0, Slot::Done(result));
                        if let Some(waker) = waker {
                            waker.wake();
                        }
                    }
                    // A handle opened for a request nobody waits for any more is
                    // closed again, so the server's handle table does not fill up.
                    Some(Slot::Abandoned) => {
                        if let Ok(Reply::Handle(handle)) = result {
                            if let Ok(id) = self.engine.send(&Request::Close { handle }) {
                                self.slots.insert(id.0, Slot::Abandoned);
                            }
                        }
                    }
                    Some(done @ Slot::Done(_)) => {
                        self.slots.insert(id.0, done);
                    }
                    None => {}
                },
                ClientEvent::Closed(error) => {
                    self.closed = Some(error);
                    for slot in self.slots.values_mut() {
                        if let Slot::Waiting(Some(waker)) = slot {
                            waker.wake_by_ref();
                        }
                    }
                }
            }
        }
        if any {
            // A response made room under the cap (or the session became ready).
            self.wake_waiting();
        }
        any
    }
}

/// A request in flight: resolves to its reply. Dropping it throws the reply away
/// (and closes the handle, if the reply is one).
pub(crate) struct Pending {
    shared: Arc<Shared>,
    id: u32,
    done: bool,
}

impl Pending {
    /// Polls for the reply; an `SftpError` status becomes [`SftpClientError::Status`].
    pub(crate) fn poll_reply(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Reply, SftpClientError>> {
        if self.done {
            return Poll::Ready(Err(SftpClientError::Session(SessionError::LocallyClosed)));
        }
        let mut state = self.shared.lock();
        let closed = state.closed.clone();
        match state.slots.get_mut(&self.id) {
            Some(Slot::Waiting(waker)) => {
                if let Some(error) = closed {
                    // The engine failed every request in flight before `Closed`, so
                    // this is only reached if the slot was re-added afterwards.
                    state.slots.remove(&self.id);
                    self.done = true;
                    return Poll::Ready(Err(SftpClientError::Session(error)));
                }
                match waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Some(Slot::Done(_)) => {
                self.done = true;
                match state.slots.remove(&self.id) {
                    Some(Slot::Done(Ok(reply))) => Poll::Ready(Ok(reply)),
                    Some(Slot::Done(Err(error))) => Poll::Ready(Err(error.into())),
                    _ => Poll::Ready(Err(SftpClientError::Session(SessionError::LocallyClosed))),
                }
            }
            Some(Slot::Abandoned) | None => {
                self.done = true;
                let error = closed.unwrap_or(SessionError::LocallyClosed);
                Poll::Ready(Err(SftpClientError::Session(error)))
            }
        }
    }
}

impl Future for Pending {
    type Output = Result<Reply, SftpClientError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_reply(cx)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut state = self.shared.lock();
        match state.slots.remove(&self.id) {
            Some(Slot::Waiting(_)) => {
                state.slots.insert(self.id, Slot::Abandoned);
            }
            Some(Slot::Done(Ok(Reply::Handle(handle)))) => {
                if let Ok(id) = state.engine.send(&Request::Close { handle }) {
                    state.slots.insert(id.0, Slot::Abandoned);
                    state.wake_driver();
                }
            }
            _ => {}
        }
    }
}

/// A run of the engine's output: encoded requests, or the data of a large write
/// (as its caller gave it, uncopied).
enum Piece {
    Encoded(Vec<u8>),
    Data(Bytes),
}

impl Piece {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Encoded(encoded) => encoded,
            Self::Data(data) => data,
        }
    }
}

/// The task of one session: owns the stream, pumps the engine.
struct SftpDriver {
    shared: Arc<Shared>,
    stream: Stream,
    /// Where [`Stream::Any`] is read into (empty for a channel).
    read_buf: Box<[u8]>,
    /// Requests not yet written, as the engine handed them over (taken whole,
    /// never copied or shifted); `written` bytes of the first went out.
    out: VecDeque<Piece>,
    written: usize,
    /// An emptied buffer, swapped into the engine for its next requests.
    spare: Vec<u8>,
    read_done: bool,
    write_failed: bool,
}

impl SftpDriver {
    fn read(&mut self, state: &mut State, cx: &mut Context<'_>) -> bool {
        if self.read_done || state.engine.is_closed() {
            return false;
        }
        let read: Poll<Option<Bytes>> = match &mut self.stream {
            Stream::Any(stream) => match Pin::new(stream).poll_read(cx, &mut self.read_buf) {
                Poll::Ready(Ok(n)) if n > 0 => {
                    state
                        .engine
                        .handle_input(self.read_buf.get(..n).unwrap_or_default());
                    return true;
                }
                Poll::Ready(Ok(_) | Err(_)) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
            Stream::Channel(channel) => {
                let polled = channel
                    .conn
                    .lock()
                    .poll_chunk(channel.id, false, usize::MAX, cx);
                match polled {
                    Poll::Ready(Ok(Some(chunk))) => Poll::Ready(Some(chunk)),
                    Poll::Ready(Ok(None) | Err(_)) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        };
        match read {
            Poll::Pending => false,
            Poll::Ready(None) => {
                self.read_done = true;
                state.engine.handle_eof();
                true
            }
            Poll::Ready(Some(chunk)) => {
                state.engine.handle_input(&chunk);
                true
            }
        }
    }

    fn write(&mut self, state: &mut State, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        loop {
            // An empty buffer makes the engine swap its own out: no copy.
            let mut next = std::mem::take(&mut self.spare);
            next.clear();
            let data = state.engine.poll_transmit_vectored(&mut next);
            if next.is_empty() {
                self.spare = next;
            } else {
                self.out.push_back(Piece::Encoded(next));
                progress = true;
            }
            match data {
                Some(data) => {
                    self.out.push_back(Piece::Data(data));
                    progress = true;
                }
                None => break,
            }
        }
        if self.write_failed {
            self.out.clear();
            self.written = 0;
            state.backlog = 0;
            return false;
        }
        while let Some(front) = self.out.front() {
            let pending = front.bytes().get(self.written..).unwrap_or_default();
            match self.stream.writer().poll_write(cx, pending) {
                Poll::Pending => break,
                Poll::Ready(Ok(0) | Err(_)) => {
                    self.write_failed = true;
                    self.out.clear();
                    self.written = 0;
                    state.engine.handle_eof();
                    progress = true;
                    break;
                }
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    progress = true;
                    if self.written >= front.bytes().len() {
                        self.written = 0;
                        if let Some(Piece::Encoded(mut done)) = self.out.pop_front() {
                            if done.capacity() <= SPARE_MAX
                                && done.capacity() > self.spare.capacity()
                            {
                                done.clear();
                                self.spare = done;
                            }
                        }
                    }
                }
            }
        }
        let queued: usize = self.out.iter().map(|piece| piece.bytes().len()).sum();
        let backlog = queued.saturating_sub(self.written);
        if backlog < WRITE_HIGH_WATER && state.backlog >= WRITE_HIGH_WATER {
            state.wake_waiting();
        }
        state.backlog = backlog;
        progress
    }
}

impl Future for SftpDriver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let shared = this.shared.clone();
        let mut state = shared.lock();
        match &state.driver {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => state.driver = Some(cx.waker().clone()),
        }
        for _ in 0..WORK_BUDGET {
            let mut progress = this.read(&mut state, cx);
            progress |= state.dispatch();
            progress |= this.write(&mut state, cx);
            if state.engine.is_closed() && (this.write_failed || this.out.is_empty()) {
                drop(state);
                // The end of the stream tells the server the session is over (for
                // a channel: EOF, then CLOSE when it is dropped with this task).
                if this.stream.writer().poll_close(cx).is_pending() {
                    return Poll::Pending;
                }
                return Poll::Ready(());
            }
            if !progress {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Drop for SftpDriver {
    fn drop(&mut self) {
        // Finished, or dropped by a runtime shutting down: nobody may wait on.
        let mut state = self.shared.lock();
        if !state.engine.is_closed() {
            state.engine.handle_eof();
        }
        state.dispatch();
        state.driver = None;
        state.wake_waiting();
    }
}

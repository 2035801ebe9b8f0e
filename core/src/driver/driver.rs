//! The driver: the spawned future that pumps one connection's engine.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};

use super::engine::Engine;
use super::runtime::{AsyncTimer, ByteStream};
use super::state::{Shared, State};

/// Bytes read from the socket per `read` call: large enough that a bulk transfer
/// takes many packets per system call and per pass through the engine.
const READ_CHUNK: usize = 256 * 1024;

/// Rounds of read/timer/write/dispatch per poll before the driver yields to other
/// tasks, so one busy connection cannot starve the rest of an executor thread.
const WORK_BUDGET: usize = 32;

/// Channel writers wait while this many bytes wait to be written: the application's
/// data backs up into its own writes, and the driver keeps reading meanwhile.
pub(crate) const WRITE_HIGH_WATER: usize = 1024 * 1024;

/// Stop reading while this many bytes wait to be written. Our own channel data stops
/// at [`WRITE_HIGH_WATER`], so only replies a peer provokes without reading ours
/// (window adjusts, request answers, UNIMPLEMENTED) can reach this: it bounds them
/// without ever stopping two of our peers that both send a lot.
const TRANSMIT_HIGH_WATER: usize = 16 * 1024 * 1024;

/// Engine output this small joins the last buffer waiting instead of queueing a
/// buffer of its own (window adjusts, replies): copying it costs less than a write.
const MERGE_MAX: usize = 16 * 1024;

/// Emptied output buffers kept for reuse.
const SPARE_BUFFERS: usize = 4;

/// How long a closed connection may take to flush its DISCONNECT to a peer that does
/// not read, before the stream is dropped anyway.
const CLOSE_LINGER: Duration = Duration::from_secs(5);

/// Drives one connection: owns the byte stream and the timer, shares the engine with
/// the handles. Finishes when the connection has closed and its last bytes (the
/// DISCONNECT) are written, or the stream has failed.
pub(crate) struct Driver<E: Engine> {
    shared: Arc<Shared<E>>,
    stream: Box<dyn ByteStream>,
    timer: Option<Pin<Box<dyn AsyncTimer>>>,
    read_buf: Box<[u8]>,
    /// Sealed bytes not yet written, in the buffers the engine filled (each taken
    /// whole from `poll_transmit`, never copied); `written` bytes of the front one
    /// went out already, `pending` bytes in all wait.
    out: VecDeque<Vec<u8>>,
    written: usize,
    pending: usize,
    /// Emptied buffers, handed to the engine again.
    spare: Vec<Vec<u8>>,
    /// Bytes were written since the last successful flush.
    unflushed: bool,
    /// The stream can no longer be read (EOF or error) or written (error).
    read_done: bool,
    write_failed: bool,
    /// When the connection closed plus [`CLOSE_LINGER`].
    linger_until: Option<Instant>,
}

impl<E: Engine> Driver<E> {
    pub(crate) fn new(shared: Arc<Shared<E>>, stream: Box<dyn ByteStream>) -> Self {
        Self {
            shared,
            stream,
            timer: None,
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
            out: VecDeque::new(),
            written: 0,
            pending: 0,
            spare: Vec::new(),
            unflushed: false,
            read_done: false,
            write_failed: false,
            linger_until: None,
        }
    }

    /// Reads what the socket has while the engine wants input. Returns whether
    /// anything happened.
    fn read(&mut self, state: &mut State<E>, now: Instant, cx: &mut Context<'_>) -> bool {
        if self.read_done || state.engine.is_closed() || self.pending >= TRANSMIT_HIGH_WATER {
            return false;
        }
        match Pin::new(&mut self.stream).poll_read(cx, &mut self.read_buf) {
            Poll::Pending => false,
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                // The engine has no I/O errors: a failed read is a lost connection,
                // which is what EOF without DISCONNECT reports.
                self.read_done = true;
                state.engine.handle_eof(now);
                true
            }
            Poll::Ready(Ok(n)) => {
                let data = self.read_buf.get(..n).unwrap_or_default();
                state.engine.handle_input(now, data);
                true
            }
        }
    }

    /// Fires the engine's timers when due. The clock is read before the timer is
    /// consulted: a runtime timer may fire a little early or late, the engine's
    /// deadline against `now` is what counts.
    fn fire_timers(&mut self, state: &mut State<E>, now: Instant) -> bool {
        match state.engine.poll_timeout() {
            Some(deadline) if deadline <= now => {
                state.engine.handle_timeout(now);
                true
            }
            _ => false,
        }
    }

    /// Writes the engine's output, keeping what a partial write left over.
    fn write(&mut self, state: &mut State<E>, now: Instant, cx: &mut Context<'_>) -> bool {
        // An empty buffer: the engine hands its sealed bytes over by swapping.
        let mut taken = self.spare.pop().unwrap_or_default();
        let n = state.engine.poll_transmit(now, &mut taken);
        if self.write_failed {
            // Nobody can receive it; keep the engine's buffer from growing.
            self.recycle(taken);
            return false;
        }
        let mut progress = n > 0;
        match self.out.back_mut() {
            // Only into room already there: growing a large buffer would copy it all.
            Some(back) if n <= MERGE_MAX && back.capacity() - back.len() >= n => {
                back.extend_from_slice(&taken);
                self.recycle(taken);
            }
            _ if n == 0 => self.recycle(taken),
            _ => self.out.push_back(taken),
        }
        self.pending += n;
        while let Some(front) = self.out.front() {
            let unsent = front.get(self.written..).unwrap_or_default();
            if unsent.is_empty() {
                if let Some(done) = self.out.pop_front() {
                    self.recycle(done);
                }
                self.written = 0;
                continue;
            }
            match Pin::new(&mut self.stream).poll_write(cx, unsent) {
                Poll::Pending => {
                    state.set_backlog(self.pending);
                    return progress;
                }
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => {
                    self.fail_write(state);
                    return true;
                }
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    self.pending -= n;
                    self.unflushed = true;
                    progress = true;
                }
            }
        }
        state.set_backlog(0);
        if self.unflushed {
            match Pin::new(&mut self.stream).poll_flush(cx) {
                Poll::Pending => {}
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(_)) => {
                    self.fail_write(state);
                    return true;
                }
            }
        }
        progress
    }

    /// Keeps an emptied buffer (a few at most) for the engine to fill again.
    fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            buf.clear();
            self.spare.push(buf);
        }
    }

    fn fail_write(&mut self, state: &mut State<E>) {
        self.write_failed = true;
        self.out.clear();
        self.written = 0;
        self.pending = 0;
        let now = state.runtime.now();
        state.engine.handle_eof(now);
    }

    /// True once nothing is left to write (or writing is impossible).
    fn drained(&self) -> bool {
        self.write_failed || (self.pending == 0 && !self.unflushed)
    }

    /// Arms the timer for the engine's next deadline (or the close linger).
    fn arm_timer(&mut self, state: &State<E>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = match (state.engine.poll_timeout(), self.linger_until) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(d) => d,
                None => return Poll::Pending,
            },
        };
        let timer = match &mut self.timer {
            Some(timer) => {
                timer.as_mut().reset(deadline);
                timer
            }
            slot => slot.insert(state.runtime.new_timer(deadline)),
        };
        timer.as_mut().poll(cx)
    }
}

impl<E: Engine> Future for Driver<E> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let shared = this.shared.clone();
        let mut state = shared.lock();
        state.set_driver_waker(cx.waker());
        for _ in 0..WORK_BUDGET {
            // One clock read per round: on virtual machines whose clock source the
            // vDSO cannot read, every read is a system call.
            let now = state.runtime.now();
            let mut progress = this.read(&mut state, now, cx);
            progress |= this.fire_timers(&mut state, now);
            progress |= this.write(&mut state, now, cx);
            progress |= state.dispatch_events(&shared);
            if state.engine.is_closed() {
                let linger_until = *this.linger_until.get_or_insert(now + CLOSE_LINGER);
                if this.drained() || now >= linger_until {
                    drop(state);
                    // Best effort: the peer may already be gone.
                    let _ = Pin::new(&mut this.stream).poll_close(cx);
                    return Poll::Ready(());
                }
            }
            if !progress {
                // Everything waits on the socket, the timer, or a handle's wake.
                if this.arm_timer(&state, cx).is_ready() {
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
        }
        // Budget spent with work left: run again after the other tasks had a turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<E: Engine> Drop for Driver<E> {
    fn drop(&mut self) {
        // Runs both when the driver finished and when a runtime shutting down drops
        // the task unfinished; either way the handles must stop waiting.
        let shared = self.shared.clone();
        let mut state = shared.lock();
        if !state.engine.is_closed() {
            let now = state.runtime.now();
            state.engine.handle_eof(now);
        }
        state.dispatch_events(&shared);
        state.finish_driver();
    }
}

//! An in-memory byte stream pair with a bounded buffer each way, so that writes can
//! be partial and block.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};

#[derive(Default)]
struct Buffer {
    data: VecDeque<u8>,
    capacity: usize,
    /// Every byte ever written into this direction.
    total_written: usize,
    /// The writing end closed or was dropped: reads see EOF once `data` is empty.
    write_closed: bool,
    /// The reading end was dropped: writes fail.
    read_closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

type Shared = Arc<Mutex<Buffer>>;

fn lock(buffer: &Shared) -> MutexGuard<'_, Buffer> {
    buffer.lock().unwrap_or_else(|p| p.into_inner())
}

/// One end of an in-memory duplex stream.
pub(crate) struct End {
    read: Shared,
    write: Shared,
}

/// Watches the bytes waiting to be read by one end, after the end itself has been
/// handed to a driver.
#[derive(Clone)]
pub(crate) struct Probe(Shared);

impl Probe {
    /// Bytes written by the other end that this end has not read yet.
    pub(crate) fn unread(&self) -> usize {
        lock(&self.0).data.len()
    }

    /// Bytes written by the other end so far, read or not.
    pub(crate) fn delivered(&self) -> usize {
        lock(&self.0).total_written
    }
}

/// Two connected ends, each direction buffering at most `capacity` bytes.
pub(crate) fn duplex(capacity: usize) -> (End, End) {
    let a = Arc::new(Mutex::new(Buffer {
        capacity,
        ..Buffer::default()
    }));
    let b = Arc::new(Mutex::new(Buffer {
        capacity,
        ..Buffer::default()
    }));
    (
        End {
            read: a.clone(),
            write: b.clone(),
        },
        End { read: b, write: a },
    )
}

impl End {
    pub(crate) fn probe(&self) -> Probe {
        Probe(self.read.clone())
    }
}

fn wake(slot: &mut Option<Waker>) {
    if let Some(waker) = slot.take() {
        waker.wake();
    }
}

impl AsyncRead for End {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buffer = lock(&self.read);
        if buffer.data.is_empty() {
            if buffer.write_closed {
                return Poll::Ready(Ok(0));
            }
            buffer.read_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(buffer.data.len());
        for (dst, src) in buf.iter_mut().zip(buffer.data.drain(..n)) {
            *dst = src;
        }
        wake(&mut buffer.write_waker);
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for End {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut buffer = lock(&self.write);
        if buffer.read_closed || buffer.write_closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = buffer.capacity - buffer.data.len();
        if room == 0 {
            buffer.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        buffer.data.extend(&buf[..n]);
        buffer.total_written += n;
        wake(&mut buffer.read_waker);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut buffer = lock(&self.write);
        buffer.write_closed = true;
        wake(&mut buffer.read_waker);
        Poll::Ready(Ok(()))
    }
}

impl Drop for End {
    fn drop(&mut self) {
        let mut write = lock(&self.write);
        write.write_closed = true;
        wake(&mut write.read_waker);
        drop(write);
        let mut read = lock(&self.read);
        read.read_closed = true;
        wake(&mut read.write_waker);
    }
}

//! Copying bytes both ways between two streams, with half-close: EOF read on one
//! side closes the writing half of the other, and the relay ends once both
//! directions have.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

/// Bytes buffered per direction.
const BUFFER: usize = 32 * 1024;

/// One direction: read from one stream into the buffer, write it to the other.
struct Pipe {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
    copied: u64,
}

impl Pipe {
    fn new() -> Self {
        Self {
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            done: false,
            copied: 0,
        }
    }

    /// Moves bytes until `from` is at EOF and `to` closed (Ready) or neither can
    /// move (Pending).
    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        from: &mut R,
        to: &mut W,
    ) -> Poll<io::Result<()>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            if self.done {
                return Poll::Ready(Ok(()));
            }
            if self.start < self.end {
                let pending = self.buf.get(self.start..self.end).unwrap_or_default();
                let n = ready!(Pin::new(&mut *to).poll_write(cx, pending))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.start += n;
                self.copied += n as u64;
                continue;
            }
            if self.eof {
                // Half-close: the other side learns there is no more.
                ready!(Pin::new(&mut *to).poll_flush(cx))?;
                ready!(Pin::new(&mut *to).poll_close(cx))?;
                self.done = true;
                continue;
            }
            let n = ready!(Pin::new(&mut *from).poll_read(cx, &mut self.buf))?;
            if n == 0 {
                self.eof = true;
            } else {
                self.start = 0;
                self.end = n;
            }
        }
    }
}

/// Copies `a`'s bytes to `b` and `b`'s to `a` until both have reached EOF; each
/// EOF is passed on by closing the other stream's writing half (a channel sends
/// EOF, a TCP stream shuts down its write side). Returns the bytes copied a→b and
/// b→a.
///
/// # Errors
/// The first read or write error of either stream; both are dropped then.
pub async fn relay<A, B>(mut a: A, mut b: B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let mut a_to_b = Pipe::new();
    let mut b_to_a = Pipe::new();
    poll_fn(|cx| {
        let forward = a_to_b.poll_copy(cx, &mut a, &mut b)?;
        let backward = b_to_a.poll_copy(cx, &mut b, &mut a)?;
        if forward.is_ready() && backward.is_ready() {
            Poll::Ready(Ok((a_to_b.copied, b_to_a.copied)))
        } else {
            Poll::Pending
        }
    })
    .await
}

//! Prompt acknowledgements on the connection's TCP stream.
//!
//! OpenSSH leaves Nagle's algorithm on for sessions without a terminal (SFTP, exec,
//! forwarding): a small packet written while an earlier one is still unacknowledged
//! waits for that acknowledgement. The receiving kernel delays acknowledgements
//! (Linux: 40 ms at least) while it has nothing to send back, so whenever the peer
//! writes two packets in a row (`sshd` does right after authentication), Nagle held
//! the second one back until our delayed acknowledgement of the first: 40 ms.
//! Linux's `TCP_QUICKACK` acknowledges at once, but only until the kernel falls back
//! to delaying, so it is set again after every read. Measured against `sshd`: opening
//! the first channel after authentication took 44 ms and takes 1.6 ms; `ssh` to our
//! server likewise waited on our acknowledgements.
//!
//! Setting the option is the runtime crates' job (they own the sockets); this wrapper
//! only calls their function after each read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

/// A byte stream that calls `after_read` on itself after every read that returned
/// data: the runtime crates wrap their TCP streams with a function that turns quick
/// acknowledgements back on (see the [module docs](self)).
///
/// ```
/// use sansh_core::driver::QuickAck;
///
/// fn rearm(_stream: &&[u8]) {
///     // A TCP stream's: rustix::net::sockopt::set_tcp_quickack(stream, true)
/// }
/// let stream = QuickAck::new(&b"hello"[..], rearm);
/// assert_eq!(*stream.get_ref(), b"hello");
/// ```
#[derive(Debug)]
pub struct QuickAck<S> {
    stream: S,
    after_read: fn(&S),
}

impl<S> QuickAck<S> {
    /// Wraps `stream`; `after_read` runs after each read that returned data.
    pub fn new(stream: S, after_read: fn(&S)) -> Self {
        Self { stream, after_read }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for QuickAck<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if n > 0 {
            (self.after_read)(&self.stream);
        }
        Poll::Ready(Ok(n))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for QuickAck<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Waker;

    use super::*;

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    fn count(_: &&[u8]) {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn the_hook_runs_after_each_read_with_data_and_not_at_the_end() {
        let mut stream = QuickAck::new(&b"abcdef"[..], count);
        let mut cx = Context::from_waker(Waker::noop());
        let mut buf = [0; 4];
        let mut reads = Vec::new();
        loop {
            match Pin::new(&mut stream).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(0)) => break,
                Poll::Ready(Ok(n)) => reads.push(buf[..n].to_vec()),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(reads, [b"abcd".to_vec(), b"ef".to_vec()]);
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    }
}

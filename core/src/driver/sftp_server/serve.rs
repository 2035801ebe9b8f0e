//! [`serve_sftp`]: the server engine over an async byte stream, answering requests
//! from a synchronous [`Backend`] on the runtime's blocking pool.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_io::{AsyncRead, AsyncWrite};

use crate::driver::{Runtime, unblock};
use crate::sftp::{
    Backend, Handle, Reply, Request, RequestId, ServerConfig, ServerEvent, SessionError, SftpError,
    SftpServer, dispatch,
};

/// Most requests handed to the backend in one blocking call.
const BATCH_REQUESTS: usize = 256;
/// Most READ bytes asked for in one batch: bounds the replies one batch produces
/// (and matches LocalFs's read buffer, reused whole from one batch to the next).
const BATCH_READ_BYTES: u64 = 4 * 1024 * 1024;
/// Bytes read from the stream at a time.
const READ_CHUNK: usize = 256 * 1024;
/// Rounds of work in one poll before yielding to the executor's other tasks.
const POLL_BUDGET: usize = 64;

/// Most pieces of output handed to one vectored write (each READ reply is two).
const WRITE_SLICES: usize = 64;

type Answers = Vec<(RequestId, Result<Reply, SftpError>)>;
type BatchFuture<B> = Pin<Box<dyn Future<Output = (B, Answers)> + Send>>;

/// Serves SFTP on `stream` from `backend` with the default [`ServerConfig`] until
/// the client closes the stream; see [`serve_sftp_with`].
///
/// # Errors
/// When reading or writing the stream fails.
pub async fn serve_sftp<S, B>(
    runtime: Arc<dyn Runtime>,
    stream: S,
    backend: B,
) -> io::Result<SessionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    B: Backend + Send + 'static,
{
    serve_sftp_with(runtime, stream, backend, ServerConfig::default()).await
}

/// Serves SFTP on `stream` (an `sftp` subsystem channel, stdio pipes joined with
/// [`Pipes`], a socket) from `backend`; returns how the session ended
/// ([`SessionError::EndOfStream`] when the client closed the stream).
///
/// The backend blocks (file I/O), so it never runs on the executor: requests are
/// taken from the engine in batches (up to 256 requests or 4 MiB of reads) and each
/// batch runs on [`Runtime::spawn_blocking`], one batch at a time, while this future
/// keeps reading requests and writing the previous batch's replies. The engine's
/// `max_outstanding` bounds how many requests wait; the client may keep as many in
/// flight. Handles still open at the end are closed in the backend, and the
/// stream is closed.
///
/// # Errors
/// When reading or writing the stream fails. A panic in the backend is resumed here.
pub async fn serve_sftp_with<S, B>(
    runtime: Arc<dyn Runtime>,
    mut stream: S,
    backend: B,
    config: ServerConfig,
) -> io::Result<SessionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    B: Backend + Send + 'static,
{
    let mut session = Session {
        server: SftpServer::new(config),
        backend: Some(backend),
        batch: None,
        queue: VecDeque::new(),
        out: VecDeque::new(),
        flushed: true,
        input: vec![0; READ_CHUNK],
        ended: None,
    };
    let outcome = std::future::poll_fn(|cx| session.poll(cx, &mut stream, &*runtime)).await;
    let open: Vec<Handle> = session
        .server
        .open_handles()
        .map(|(h, _)| h.clone())
        .collect();
    if let Some(mut backend) = session.backend.take() {
        if !open.is_empty() {
            unblock(&*runtime, move || {
                for handle in &open {
                    let _ = backend.close(handle);
                }
            })
            .await;
        }
    }
    let _ = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_close(cx)).await;
    outcome
}

struct Session<B> {
    server: SftpServer,
    /// The backend, while no batch holds it.
    backend: Option<B>,
    batch: Option<BatchFuture<B>>,
    /// Requests from the engine not yet handed to the backend.
    queue: VecDeque<(RequestId, Request)>,
    /// The engine's output not yet written, READ data as the backend's `Bytes`; the
    /// front is cut as the stream takes it.
    out: VecDeque<Bytes>,
    flushed: bool,
    input: Vec<u8>,
    ended: Option<SessionError>,
}

impl<B: Backend + Send + 'static> Session<B> {
    fn poll<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut S,
        runtime: &dyn Runtime,
    ) -> Poll<io::Result<SessionError>> {
        for _ in 0..POLL_BUDGET {
            self.take_events();
            self.start_batch(runtime);
            let mut progress = self.poll_batch(cx);
            progress |= self.poll_write(cx, stream)?;
            if let Some(end) = &self.ended {
                if self.batch.is_none() && self.out.is_empty() && self.flushed {
                    return Poll::Ready(Ok(end.clone()));
                }
            } else if self.server.wants_input() {
                progress |= self.poll_read(cx, stream)?;
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Plenty left to do: let the executor run others first.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn take_events(&mut self) {
        while let Some(event) = self.server.poll_event() {
            match event {
                ServerEvent::Request { id, request } => self.queue.push_back((id, request)),
                ServerEvent::Closed(end) => self.ended = Some(end),
                _ => {}
            }
        }
    }

    /// Hands the next batch of requests to the backend, if it is free.
    fn start_batch(&mut self, runtime: &dyn Runtime) {
        if self.queue.is_empty() || self.ended.is_some() {
            return;
        }
        let Some(mut backend) = self.backend.take() else {
            return;
        };
        let mut batch = Vec::new();
        let mut read_bytes = 0u64;
        while let Some((_, request)) = self.queue.front() {
            let len = match request {
                Request::Read { len, .. } => u64::from(*len),
                _ => 0,
            };
            let full = batch.len() >= BATCH_REQUESTS || read_bytes + len > BATCH_READ_BYTES;
            if full && !batch.is_empty() {
                break;
            }
            read_bytes += len;
            batch.extend(self.queue.pop_front());
        }
        self.batch = Some(Box::pin(unblock(runtime, move || {
            let answers = batch
                .into_iter()
                .map(|(id, request)| (id, dispatch(&mut backend, request)))
                .collect();
            (backend, answers)
        })));
    }

    fn poll_batch(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(batch) = &mut self.batch else {
            return false;
        };
        let Poll::Ready((backend, answers)) = batch.as_mut().poll(cx) else {
            return false;
        };
        self.batch = None;
        self.backend = Some(backend);
        for (id, result) in answers {
            if let Err(refused) = self.server.respond(id, result) {
                // An answer the engine refuses (a reply too large, say) still owes
                // the client a status; after the session closed there is no one to
                // answer.
                let _ = self
                    .server
                    .respond(id, Err(SftpError::failure(refused.to_string())));
            }
        }
        true
    }

    /// Writes the engine's output; true when some was written.
    fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut S,
    ) -> io::Result<bool> {
        let mut progress = false;
        loop {
            while self.out.len() < WRITE_SLICES {
                match self.server.poll_transmit_bytes() {
                    Some(chunk) => self.out.push_back(chunk),
                    None => break,
                }
            }
            if self.out.is_empty() {
                break;
            }
            let slices: Vec<IoSlice<'_>> = self.out.iter().map(|c| IoSlice::new(c)).collect();
            match Pin::new(&mut *stream).poll_write_vectored(cx, &slices) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(mut n)) => {
                    while let Some(front) = self.out.front_mut() {
                        if n < front.len() {
                            front.advance(n);
                            break;
                        }
                        n -= front.len();
                        self.out.pop_front();
                    }
                    self.flushed = false;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => break,
            }
        }
        if self.out.is_empty() && !self.flushed {
            match Pin::new(&mut *stream).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.flushed = true,
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// Reads the client's requests into the engine; true when something arrived.
    fn poll_read<S: AsyncRead + Unpin>(
        &mut self,
        cx: &mut Context<'_>,
        stream: &mut S,
    ) -> io::Result<bool> {
        match Pin::new(&mut *stream).poll_read(cx, &mut self.input) {
            Poll::Ready(Ok(0)) => self.server.handle_eof(),
            Poll::Ready(Ok(n)) => self.server.handle_input(&self.input[..n]),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => return Ok(false),
        }
        Ok(true)
    }
}

/// A reader and a writer joined into one byte stream, e.g. a subprocess's stdout
/// and stdin, or this process's stdin and stdout.
#[derive(Debug)]
pub struct Pipes<R, W> {
    /// Where the client's bytes come from.
    pub reader: R,
    /// Where ours go.
    pub writer: W,
}

impl<R, W> Pipes<R, W> {
    /// Joins `reader` and `writer`.
    pub fn new(reader: R, writer: W) -> Self {
        Self { reader, writer }
    }
}

impl<R: AsyncRead + Unpin, W: Unpin> AsyncRead for Pipes<R, W> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.reader).poll_read(cx, buf)
    }
}

impl<R: Unpin, W: AsyncWrite + Unpin> AsyncWrite for Pipes<R, W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.writer).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.writer).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_close(cx)
    }
}

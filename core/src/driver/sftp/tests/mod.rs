//! The async SFTP client against the server engine with an in-memory filesystem,
//! over an in-memory duplex stream, on the deterministic test executor.

mod files;
mod paths;
mod transfers;

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use futures_io::{AsyncRead, AsyncWrite};

use crate::driver::Runtime;
use crate::driver::sftp::SftpClient;
use crate::driver::tests::duplex::{End, duplex};
use crate::driver::tests::executor::TestRuntime;
use crate::sftp::{Backend, MemoryFs, ServerConfig, ServerEvent, SftpServer};

/// What the fake server shares with the test.
#[derive(Default)]
struct Observed {
    /// The most requests the server had waiting at once.
    max_outstanding: usize,
    /// Requests seen, by kind name.
    kinds: Vec<crate::sftp::RequestKind>,
    /// How many READ requests arrived together, per batch that had any.
    read_batches: Vec<usize>,
    /// The client's stream ended.
    eof: bool,
}

#[derive(Clone)]
struct Server {
    fs: Arc<Mutex<MemoryFs>>,
    observed: Arc<Mutex<Observed>>,
}

impl Server {
    fn fs(&self) -> MutexGuard<'_, MemoryFs> {
        self.fs.lock().unwrap()
    }

    /// Creates the file `path` (an absolute path) with `data`, and its parents.
    fn file(&self, path: &str, data: &[u8]) {
        let mut fs = self.fs();
        let mut dir = String::new();
        let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            dir.push('/');
            dir.push_str(part);
            let _ = fs.mkdir(dir.as_bytes(), &crate::sftp::FileAttributes::default());
        }
        fs.write_file(path, data).unwrap();
    }

    fn observed(&self) -> MutexGuard<'_, Observed> {
        self.observed.lock().unwrap()
    }
}

/// Runs the server engine over `end`, answering from `fs`, until the stream ends.
/// Requests are answered only once every request readable now has been parsed, so
/// several are outstanding at once when the client pipelines.
async fn serve(mut end: End, config: ServerConfig, server: Server) {
    let mut engine = SftpServer::new(config);
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut written = 0;
    std::future::poll_fn(|cx| {
        loop {
            let mut progress = false;
            while engine.wants_input() {
                match Pin::new(&mut end).poll_read(cx, &mut buf) {
                    Poll::Ready(Ok(0) | Err(_)) => {
                        engine.handle_eof();
                        server.observed().eof = true;
                        break;
                    }
                    Poll::Ready(Ok(n)) => {
                        engine.handle_input(&buf[..n]);
                        progress = true;
                    }
                    Poll::Pending => break,
                }
            }
            {
                let mut observed = server.observed();
                observed.max_outstanding = observed.max_outstanding.max(engine.outstanding());
            }
            let mut reads = 0;
            while let Some(event) = engine.poll_event() {
                progress = true;
                match event {
                    ServerEvent::Request { id, request } => {
                        reads += usize::from(request.kind() == crate::sftp::RequestKind::Read);
                        server.observed().kinds.push(request.kind());
                        let reply = server.fs().dispatch(request);
                        engine.respond(id, reply).unwrap();
                    }
                    ServerEvent::Closed(_) => {}
                    _ => {}
                }
            }
            if reads > 0 {
                server.observed().read_batches.push(reads);
            }
            if written == out.len() {
                out.clear();
                written = 0;
                let _ = engine.poll_transmit(&mut out);
            }
            while written < out.len() {
                match Pin::new(&mut end).poll_write(cx, &out[written..]) {
                    Poll::Ready(Ok(n)) => {
                        written += n;
                        progress = true;
                    }
                    Poll::Ready(Err(_)) => return Poll::Ready(()),
                    Poll::Pending => break,
                }
            }
            if engine.is_closed() && written == out.len() {
                let _ = Pin::new(&mut end).poll_close(cx);
                return Poll::Ready(());
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await;
}

/// Starts a server (default config) and a client over a 256 KiB duplex.
async fn connected(rt: &TestRuntime) -> (SftpClient, Server) {
    connected_with(rt, ServerConfig::default()).await
}

async fn connected_with(rt: &TestRuntime, config: ServerConfig) -> (SftpClient, Server) {
    let fs = MemoryFs::new().with_home("/home/user").unwrap();
    let server = Server {
        fs: Arc::new(Mutex::new(fs)),
        observed: Arc::default(),
    };
    let (client_end, server_end) = duplex(256 * 1024);
    rt.spawn(Box::pin(serve(server_end, config, server.clone())));
    let client = SftpClient::over_stream(rt.handle(), client_end)
        .await
        .unwrap();
    (client, server)
}

/// Runs `futures` concurrently in the calling task; their outputs in order.
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                if let Poll::Ready(value) = future.as_mut().poll(cx) {
                    *output = Some(value);
                }
            }
        }
        if outputs.iter().all(Option::is_some) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// Bytes that differ at every offset, so misplaced blocks show.
fn pattern(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

/// A fresh local directory for one test, removed when dropped.
struct LocalDir(std::path::PathBuf);

impl LocalDir {
    fn new(name: &str) -> Self {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("sansh-sftp-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for LocalDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

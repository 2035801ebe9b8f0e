//! The interactive part: our stdin to the channel, the channel's stdout and stderr
//! to ours (apart), terminal size changes as `window-change`, until the channel
//! closes. The directions are independent: stdin keeps flowing after the remote
//! side closed its stdout and stderr, as long as the channel is open (as ssh does).
//!
//! One task polls everything: the channel's reader, writer and stderr keep their
//! own wakers in the driver, so a single `poll_fn` can wait on all of them at once
//! and still read the exit status from the whole channel once it closed.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use sansh_tokio::core::driver::{Channel, ChannelStderr};
use tokio::io::AsyncWrite as TokioWrite;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

use crate::terminal;

/// Bytes moved per read.
const CHUNK: usize = 32 * 1024;
/// Chunks of stdin read ahead of the channel: the bound on what stdin buffers.
const STDIN_AHEAD: usize = 4;

/// How the relay ended.
pub(crate) enum Ended {
    /// The remote side closed its output, and the channel closed.
    RemoteDone,
    /// A signal asked us to stop (SIGHUP, SIGTERM, or SIGINT/SIGQUIT without a pty).
    Signal(&'static str),
}

/// Copies one of the channel's output streams to one of ours. The channel side is
/// lent at each poll, so that the same channel can be written meanwhile.
struct Relay<W> {
    to: W,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    flushed: bool,
}

impl<W: TokioWrite + Unpin> Relay<W> {
    fn new(to: W) -> Self {
        Self {
            to,
            buf: vec![0; CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            flushed: true,
        }
    }

    /// Moves what it can; `Ready(Ok(()))` once the input ended and all is written.
    fn poll(
        &mut self,
        from: &mut (impl AsyncRead + Unpin),
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.start < self.end {
                let pending = self.buf.get(self.start..self.end).unwrap_or_default();
                match Pin::new(&mut self.to).poll_write(cx, pending) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => self.start += n,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => return Poll::Pending,
                }
                continue;
            }
            if !self.flushed {
                // Interactive output must show now, not when a buffer fills.
                std::task::ready!(Pin::new(&mut self.to).poll_flush(cx))?;
                self.flushed = true;
            }
            if self.eof {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut *from).poll_read(cx, &mut self.buf) {
                Poll::Ready(Ok(0)) => self.eof = true,
                Poll::Ready(Ok(n)) => {
                    (self.start, self.end) = (0, n);
                    self.flushed = false;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Our stdin, read by a thread (a terminal or pipe read blocks), in bounded chunks.
fn spawn_stdin_reader() -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel(STDIN_AHEAD);
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0; CHUNK];
        loop {
            match io::Read::read(&mut stdin, &mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    let chunk = buf.get(..n).unwrap_or_default().to_vec();
                    if sender.blocking_send(chunk).is_err() {
                        return;
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                // An unreadable stdin ends like an empty one: EOF to the remote side.
                Err(_) => return,
            }
        }
    });
    receiver
}

/// Everything the relay polls.
struct Pump<'a> {
    channel: &'a mut Channel,
    stderr: ChannelStderr,
    stdin: Option<mpsc::Receiver<Vec<u8>>>,
    input: Vec<u8>,
    sent: usize,
    out: Relay<tokio::io::Stdout>,
    err: Relay<tokio::io::Stderr>,
    out_done: bool,
    err_done: bool,
    window_change: Option<Signal>,
    stops: Vec<(Signal, &'static str)>,
}

impl Pump<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Ended>> {
        for (stop, name) in &mut self.stops {
            if stop.poll_recv(cx).is_ready() {
                return Poll::Ready(Ok(Ended::Signal(name)));
            }
        }
        if let Some(window_change) = &mut self.window_change {
            while window_change.poll_recv(cx).is_ready() {
                let (cols, rows, width, height) = terminal::window_size();
                // A channel already closing needs no new size.
                let _ = self.channel.change_terminal_size(cols, rows, width, height);
            }
        }
        self.poll_stdin(cx);
        if !self.out_done {
            if let Poll::Ready(result) = self.out.poll(&mut *self.channel, cx) {
                result?;
                self.out_done = true;
            }
        }
        if !self.err_done {
            if let Poll::Ready(result) = self.err.poll(&mut self.stderr, cx) {
                result?;
                self.err_done = true;
            }
        }
        if !(self.out_done && self.err_done) {
            return Poll::Pending;
        }
        // The output has ended; stdin goes on until the channel closes. The wait
        // holds no state between polls, so a fresh one each time is the same wait.
        let closed = self.channel.wait_closed();
        let closed = std::pin::pin!(closed);
        match closed.poll(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(Ended::RemoteDone)),
            Poll::Ready(Err(error)) => Poll::Ready(Err(io::Error::other(error))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Stdin to the channel, EOF after its end.
    fn poll_stdin(&mut self, cx: &mut Context<'_>) {
        loop {
            if self.sent < self.input.len() {
                let rest = self.input.get(self.sent..).unwrap_or_default();
                match Pin::new(&mut *self.channel).poll_write(cx, rest) {
                    Poll::Ready(Ok(n)) if n > 0 => {
                        self.sent += n;
                        continue;
                    }
                    // The channel no longer takes data: the rest of stdin has nowhere
                    // to go.
                    Poll::Ready(_) => {
                        self.stdin = None;
                        self.input.clear();
                        self.sent = 0;
                        return;
                    }
                    Poll::Pending => return,
                }
            }
            let Some(stdin) = &mut self.stdin else {
                return;
            };
            match stdin.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    self.input = chunk;
                    self.sent = 0;
                }
                Poll::Ready(None) => {
                    self.stdin = None;
                    // The remote side may have closed already.
                    let _ = self.channel.write_eof();
                    return;
                }
                Poll::Pending => return,
            }
        }
    }
}

/// Copies until the remote side's stdout and stderr have ended and the channel
/// has closed (or a signal stops us). `stdin`: whether our stdin goes to the channel (else EOF right away);
/// `pty`: whether the remote side has a pty (terminal size changes are forwarded,
/// and keys rather than signals interrupt).
pub(crate) async fn relay(channel: &mut Channel, stdin: bool, pty: bool) -> io::Result<Ended> {
    let stdin = if stdin {
        Some(spawn_stdin_reader())
    } else {
        // The remote side may have closed already.
        let _ = channel.write_eof();
        None
    };
    let window_change = if pty {
        Some(signal(SignalKind::window_change())?)
    } else {
        None
    };
    let mut stops = vec![
        (signal(SignalKind::hangup())?, "HUP"),
        (signal(SignalKind::terminate())?, "TERM"),
    ];
    // In raw mode keys send no signals; without it ^C stops us, as it stops ssh.
    stops.push((signal(SignalKind::interrupt())?, "INT"));
    stops.push((signal(SignalKind::quit())?, "QUIT"));
    let stderr = channel.stderr();
    let mut pump = Pump {
        channel,
        stderr,
        stdin,
        input: Vec::new(),
        sent: 0,
        out: Relay::new(tokio::io::stdout()),
        err: Relay::new(tokio::io::stderr()),
        out_done: false,
        err_done: false,
        window_change,
        stops,
    };
    poll_fn(|cx| pump.poll(cx)).await
}

//! Moving large amounts of data through `cat` and checking it came back: a
//! deterministic byte pattern generated on the fly and a running checksum on each
//! side, so that a GiB never sits in memory.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use sansh_conformance::process::wait_or_kill;
use sansh_core::driver::Channel;

const CHUNK: usize = 64 * 1024;

/// Pseudo-random bytes from a seed (xorshift64*): cheap, and different per stream.
pub(crate) struct Pattern {
    state: u64,
}

impl Pattern {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    /// Fills `buf` with the next bytes of the pattern.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for word in buf.chunks_mut(8) {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            let value = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            word.copy_from_slice(value.get(..word.len()).unwrap_or_default());
        }
    }
}

/// A running FNV-1a checksum and byte count of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest {
    pub(crate) len: u64,
    pub(crate) hash: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Self {
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl Digest {
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        self.hash = data.iter().fold(self.hash, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
    }
}

/// What was sent into a `cat` and what came back.
#[derive(Debug)]
pub(crate) struct Echo {
    pub(crate) sent: Digest,
    pub(crate) received: Digest,
    /// What came on the channel's other stream (stderr, or stdout for an echo
    /// read from stderr).
    pub(crate) other: Digest,
}

impl Echo {
    /// Fails naming both digests unless everything sent came back.
    pub(crate) fn check(&self, expected_len: u64) -> Result<(), String> {
        if self.sent.len == expected_len && self.sent == self.received {
            Ok(())
        } else {
            Err(format!(
                "sent {:?}, received {:?}, expected {expected_len} bytes",
                self.sent, self.received
            ))
        }
    }
}

/// Writes `total` bytes of the pattern of `seed` to a channel running `cat` while
/// reading the echo, then sends EOF and reads to the end: both directions at once,
/// so that neither window stalls the other.
pub(crate) async fn echo_through_channel(
    channel: &mut Channel,
    total: u64,
    seed: u64,
) -> io::Result<Echo> {
    echo_through_stream(channel, Stream::Stdout, total, seed).await
}

/// Which of the channel's streams the echo comes back on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// [`echo_through_channel`], reading the echo from `stream` (for a `cat >&2`); the
/// other stream is drained meanwhile (so that it never holds the window) into
/// [`Echo::other`].
pub(crate) async fn echo_through_stream(
    channel: &mut Channel,
    stream: Stream,
    total: u64,
    seed: u64,
) -> io::Result<Echo> {
    let mut stderr = channel.stderr();
    let mut other_ended = false;
    let mut other = Digest::default();
    let mut pattern = Pattern::new(seed);
    let mut chunk = vec![0; CHUNK];
    let (mut chunk_start, mut chunk_end) = (0, 0);
    let mut left = total;
    let mut eof_sent = false;
    let mut echo = Echo {
        sent: Digest::default(),
        received: Digest::default(),
        other: Digest::default(),
    };
    let mut buf = vec![0; CHUNK];
    poll_fn(|cx| {
        loop {
            let mut progress = false;
            if chunk_start == chunk_end && left > 0 {
                let n = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
                let fresh = chunk.get_mut(..n).unwrap_or_default();
                pattern.fill(fresh);
                echo.sent.update(fresh);
                (chunk_start, chunk_end) = (0, n);
                left -= n as u64;
            }
            if chunk_start < chunk_end {
                let pending = chunk.get(chunk_start..chunk_end).unwrap_or_default();
                if let Poll::Ready(n) = Pin::new(&mut *channel).poll_write(cx, pending) {
                    chunk_start += n?;
                    progress = true;
                }
            } else if !eof_sent {
                if let Poll::Ready(result) = Pin::new(&mut *channel).poll_close(cx) {
                    result?;
                    eof_sent = true;
                }
            }
            let (echoed, unexpected): (&mut (dyn AsyncRead + Unpin), &mut (dyn AsyncRead + Unpin)) =
                match stream {
                    Stream::Stdout => (&mut *channel, &mut stderr),
                    Stream::Stderr => (&mut stderr, &mut *channel),
                };
            if !other_ended {
                match Pin::new(unexpected).poll_read(cx, &mut buf) {
                    Poll::Ready(Ok(0)) => other_ended = true,
                    Poll::Ready(Ok(n)) => other.update(buf.get(..n).unwrap_or_default()),
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    Poll::Pending => {}
                }
            }
            match Pin::new(echoed).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok::<_, io::Error>(())),
                Poll::Ready(Ok(n)) => {
                    echo.received.update(buf.get(..n).unwrap_or_default());
                    progress = true;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await?;
    echo.other = other;
    Ok(echo)
}

/// How an `ssh` process fed through [`echo_through_process`] ended.
pub(crate) struct ProcessEcho {
    pub(crate) echo: Echo,
    pub(crate) code: Option<i32>,
    pub(crate) stderr: String,
}

/// Runs `command` (an `ssh ... cat`), streams `total` bytes of the pattern of `seed`
/// into its stdin (then closes it) and checksums its stdout; kills it after
/// `timeout`.
pub(crate) fn echo_through_process(
    mut command: Command,
    total: u64,
    seed: u64,
    timeout: Duration,
) -> Result<ProcessEcho, Box<dyn std::error::Error>> {
    command
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("DISPLAY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin pipe")?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let writer = thread::spawn(move || {
        let mut pattern = Pattern::new(seed);
        let mut sent = Digest::default();
        let mut chunk = vec![0; CHUNK];
        let mut left = total;
        while left > 0 {
            let n = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
            let fresh = chunk.get_mut(..n).unwrap_or_default();
            pattern.fill(fresh);
            sent.update(fresh);
            if stdin.write_all(fresh).is_err() {
                break;
            }
            left -= n as u64;
        }
        sent
    });
    let reader = thread::spawn(move || {
        let mut received = Digest::default();
        let mut buf = vec![0; CHUNK];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            received.update(buf.get(..n).unwrap_or_default());
        }
        received
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = wait_or_kill(&mut child, timeout)?;
    let sent = writer.join().map_err(|_| "the writer thread panicked")?;
    let received = reader.join().map_err(|_| "the reader thread panicked")?;
    let stderr = err.join().unwrap_or_default();
    let status = status.ok_or_else(|| format!("ssh did not finish in time:\n{stderr}"))?;
    Ok(ProcessEcho {
        echo: Echo {
            sent,
            received,
            other: Digest::default(),
        },
        code: status.code(),
        stderr,
    })
}

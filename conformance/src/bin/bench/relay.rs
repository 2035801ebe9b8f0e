//! A loopback TCP relay that holds every byte for a fixed time in each direction:
//! a long-distance link's round trip without leaving the machine, where how much a
//! client keeps in flight decides its throughput.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::setup::BenchResult;

/// How much one read takes from a socket.
const CHUNK: usize = 256 * 1024;

/// A relay to one target; its threads live as long as the benchmark.
pub(crate) struct DelayRelay {
    addr: SocketAddr,
}

impl DelayRelay {
    /// Listens on a free loopback port; each connection is relayed to `target`,
    /// every byte delayed by `one_way` in each direction.
    pub(crate) fn start(target: SocketAddr, one_way: Duration) -> BenchResult<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        thread::spawn(move || {
            for client in listener.incoming() {
                let relayed = client.and_then(|client| relay(client, target, one_way));
                if let Err(error) = relayed {
                    eprintln!("bench: relay: {error}");
                }
            }
        });
        Ok(Self { addr })
    }

    /// Where clients connect.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Connects to `target` and starts both directions.
fn relay(client: TcpStream, target: SocketAddr, one_way: Duration) -> io::Result<()> {
    let server = TcpStream::connect(target)?;
    for stream in [&client, &server] {
        stream.set_nodelay(true)?;
    }
    delay(client.try_clone()?, server.try_clone()?, one_way);
    delay(server, client, one_way);
    Ok(())
}

/// Moves `from` to `to`, each chunk written `one_way` after it was read: one thread
/// reads as fast as the bytes come, another writes them when due.
fn delay(mut from: TcpStream, mut to: TcpStream, one_way: Duration) {
    let (sender, receiver) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        loop {
            let mut chunk = vec![0; CHUNK];
            match from.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    chunk.truncate(n);
                    if sender.send((Instant::now() + one_way, chunk)).is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping the sender tells the writer the stream ended.
    });
    thread::spawn(move || {
        for (due, chunk) in receiver {
            thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&chunk).is_err() {
                return;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

//! A minimal blocking driver: one engine, one `std::net::TcpStream`, one thread.
//!
//! It exists so that the conformance tests can put our engines on a real socket before
//! the async driver (DESIGN.md §3) lands, and it doubles as the plainest illustration
//! of the run loop contract in `sansh_core::connection`:
//!
//! 1. `poll_transmit`, and write everything it gave to the socket;
//! 2. `poll_event`, and hand each event to the caller (whose answer may be a command
//!    to the engine, so the loop goes back to step 1 afterwards);
//! 3. `poll_timeout`: if that instant has passed, `handle_timeout`; otherwise block in
//!    `read` with the socket's read timeout set to the time left;
//! 4. `handle_input` with what `read` returned, or `handle_eof` when it returned 0.
//!
//! The clock is read here, outside the engine, with [`Instant::now`]. Nothing sleeps:
//! the only waits are the blocking `read` and `write` calls, both bounded by the
//! driver's overall deadline so that a test against a silent or stuck peer fails with
//! [`DriveError::Deadline`] instead of hanging.
//!
//! ```no_run
//! use std::net::TcpStream;
//! use std::ops::ControlFlow;
//! use std::time::{Duration, Instant};
//! use sansh_conformance::blocking::Driver;
//! use sansh_core::{ClientConfig, ClientConnection, Event};
//!
//! let stream = TcpStream::connect("127.0.0.1:22")?;
//! let client = ClientConnection::new(ClientConfig::default(), Instant::now());
//! let mut driver = Driver::new(client, stream, Duration::from_secs(30))?;
//! driver.engine_mut().request_service("ssh-userauth");
//! let service = driver.run(|client, event| match event {
//!     Event::HostKey(decision) => {
//!         // A real client checks decision.key() against known_hosts first.
//!         client.accept_host_key(decision);
//!         ControlFlow::Continue(())
//!     }
//!     Event::ServiceAccepted(name) => ControlFlow::Break(name),
//!     _ => ControlFlow::Continue(()),
//! })?;
//! assert_eq!(service, "ssh-userauth");
//! driver.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use sansh_core::{ClientConnection, ConnectionError, Event, ServerConnection};

/// How many bytes one `read` may return; the engine takes chunks of any size.
const READ_CHUNK: usize = 64 * 1024;

/// The engine calls the driver makes: the run loop half shared by
/// [`ClientConnection`] and [`ServerConnection`].
pub trait Engine {
    /// `handle_input`: bytes from the peer.
    fn handle_input(&mut self, now: Instant, data: &[u8]);
    /// `handle_eof`: the peer closed its side.
    fn handle_eof(&mut self, now: Instant);
    /// `handle_timeout`: fire due timers.
    fn handle_timeout(&mut self, now: Instant);
    /// `poll_transmit`: bytes to send.
    fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize;
    /// `poll_timeout`: when `handle_timeout` is next due.
    fn poll_timeout(&self) -> Option<Instant>;
    /// `poll_event`: the next event.
    fn poll_event(&mut self) -> Option<Event>;
}

macro_rules! impl_engine {
    ($engine:ty) => {
        impl Engine for $engine {
            fn handle_input(&mut self, now: Instant, data: &[u8]) {
                <$engine>::handle_input(self, now, data);
            }
            fn handle_eof(&mut self, now: Instant) {
                <$engine>::handle_eof(self, now);
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$engine>::handle_timeout(self, now);
            }
            fn poll_transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize {
                <$engine>::poll_transmit(self, now, out)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$engine>::poll_timeout(self)
            }
            fn poll_event(&mut self) -> Option<Event> {
                <$engine>::poll_event(self)
            }
        }
    };
}

impl_engine!(ClientConnection);
impl_engine!(ServerConnection);

/// Why [`Driver::run`] stopped without the caller asking it to.
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// The engine ended the connection (the `Closed` event, already shown to the
    /// caller's closure) while the caller was still waiting for something.
    #[error("the connection closed: {0}")]
    Closed(ConnectionError),
    /// The overall deadline passed.
    #[error("no result within the driver's deadline of {0:?}")]
    Deadline(Duration),
    /// The socket failed.
    #[error("socket error while trying to {action}: {source}")]
    Io {
        /// What the driver was doing.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Drives one engine over one blocking TCP stream until the caller has what it wants.
#[derive(Debug)]
pub struct Driver<E> {
    engine: E,
    stream: TcpStream,
    started: Instant,
    deadline: Instant,
    outgoing: Vec<u8>,
    incoming: Box<[u8]>,
    /// The engine's terminal error, once its `Closed` event has gone by.
    closed: Option<ConnectionError>,
}

impl<E: Engine> Driver<E> {
    /// Takes over `stream` for `engine`; every later call fails with
    /// [`DriveError::Deadline`] once `timeout` has passed from now.
    ///
    /// # Errors
    /// The socket options (`TCP_NODELAY`) cannot be set.
    pub fn new(engine: E, stream: TcpStream, timeout: Duration) -> io::Result<Self> {
        // Handshake messages are small and latency-bound; Nagle would only slow them.
        stream.set_nodelay(true)?;
        let started = Instant::now();
        Ok(Self {
            engine,
            stream,
            started,
            deadline: started + timeout,
            outgoing: Vec::new(),
            incoming: vec![0; READ_CHUNK].into_boxed_slice(),
            closed: None,
        })
    }

    /// The engine, for its getters.
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// The engine, for commands (`rekey`, `send_ignore`, ...); [`Self::run`] sends
    /// whatever they queue.
    pub fn engine_mut(&mut self) -> &mut E {
        &mut self.engine
    }

    /// The socket, e.g. for its addresses.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Runs the loop, handing every event to `on_event` until it returns
    /// [`ControlFlow::Break`], whose value is returned once the bytes the closure's
    /// commands queued have been written.
    ///
    /// The closure gets the engine too, to answer decisions or issue commands. It sees
    /// the `Closed` event like any other; if it continues past it, `run` returns
    /// [`DriveError::Closed`] (as does any later call).
    ///
    /// # Errors
    /// [`DriveError::Closed`], [`DriveError::Deadline`] or [`DriveError::Io`].
    pub fn run<T>(
        &mut self,
        mut on_event: impl FnMut(&mut E, Event) -> ControlFlow<T>,
    ) -> Result<T, DriveError> {
        loop {
            self.flush()?;
            let mut progressed = false;
            while let Some(event) = self.engine.poll_event() {
                progressed = true;
                if let Event::Closed(error) = &event {
                    self.closed = Some(error.clone());
                }
                if let ControlFlow::Break(value) = on_event(&mut self.engine, event) {
                    self.flush()?;
                    return Ok(value);
                }
            }
            if progressed {
                // The closure may have issued commands: transmit before blocking.
                continue;
            }
            if let Some(error) = &self.closed {
                return Err(DriveError::Closed(error.clone()));
            }
            self.wait_for_input()?;
        }
    }

    /// Ends the connection on our side: writes what the engine still has to send
    /// (after `disconnect`, the DISCONNECT message), shuts down our sending half and
    /// reads until the peer closes, so that the peer gets every byte before the socket
    /// goes away (closing with unread input would reset the connection).
    ///
    /// # Errors
    /// [`DriveError::Deadline`] if the peer does not close in time, or
    /// [`DriveError::Io`].
    pub fn close(mut self) -> Result<(), DriveError> {
        self.flush()?;
        // The peer may already have gone, in which case there is nothing to shut.
        let _ = self.stream.shutdown(Shutdown::Write);
        loop {
            self.set_read_timeout(self.deadline)?;
            match self.stream.read(&mut self.incoming) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if is_timeout(&e) => {
                    if Instant::now() >= self.deadline {
                        return Err(self.deadline_error());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A reset after our DISCONNECT went out is the peer's way of closing.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(()),
                Err(source) => {
                    return Err(DriveError::Io {
                        action: "read until the peer closes",
                        source,
                    });
                }
            }
        }
    }

    /// Writes everything the engine has queued.
    fn flush(&mut self) -> Result<(), DriveError> {
        self.outgoing.clear();
        if self
            .engine
            .poll_transmit(Instant::now(), &mut self.outgoing)
            == 0
        {
            return Ok(());
        }
        let left = self.time_left()?;
        self.stream
            .set_write_timeout(Some(left))
            .map_err(io_error("set the write timeout"))?;
        match self.stream.write_all(&self.outgoing) {
            Ok(()) => Ok(()),
            Err(e) if is_timeout(&e) => Err(self.deadline_error()),
            Err(source) => Err(DriveError::Io {
                action: "write to the peer",
                source,
            }),
        }
    }

    /// Fires a due timer, or blocks in one `read` until input, EOF or the next timer.
    fn wait_for_input(&mut self) -> Result<(), DriveError> {
        let now = Instant::now();
        let timer = self.engine.poll_timeout();
        if timer.is_some_and(|at| at <= now) {
            self.engine.handle_timeout(now);
            return Ok(());
        }
        self.time_left()?;
        let wake = timer.map_or(self.deadline, |at| at.min(self.deadline));
        self.set_read_timeout(wake)?;
        match self.stream.read(&mut self.incoming) {
            Ok(0) => self.engine.handle_eof(Instant::now()),
            Ok(n) => {
                let data = self.incoming.get(..n).unwrap_or_default();
                self.engine.handle_input(Instant::now(), data);
            }
            // The timer (or the deadline) is due: the next round handles it.
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            // A reset ends the byte stream as surely as a FIN; the engine reports it.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                self.engine.handle_eof(Instant::now());
            }
            Err(source) => {
                return Err(DriveError::Io {
                    action: "read from the peer",
                    source,
                });
            }
        }
        Ok(())
    }

    fn set_read_timeout(&self, until: Instant) -> Result<(), DriveError> {
        // A zero timeout means "block forever" to the OS: wait at least a millisecond.
        let wait = until
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        self.stream
            .set_read_timeout(Some(wait))
            .map_err(io_error("set the read timeout"))
    }

    fn time_left(&self) -> Result<Duration, DriveError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(self.deadline_error())
        } else {
            Ok(left)
        }
    }

    fn deadline_error(&self) -> DriveError {
        DriveError::Deadline(self.deadline - self.started)
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn io_error(action: &'static str) -> impl FnOnce(io::Error) -> DriveError {
    move |source| DriveError::Io { action, source }
}

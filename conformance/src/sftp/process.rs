//! [`SftpProcess`]: our client engine driving an SFTP server program over its stdin
//! and stdout (OpenSSH's `sftp-server`, or our own stdio server).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use sansh_core::sftp::{
    ClientConfig, ClientEvent, Handle, Name, Reply, RequestError, RequestId, SessionError,
    SftpClient, SftpError,
};

/// Why driving the server program failed (as opposed to a request failing).
#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    /// Spawning, writing to or reading from the program failed.
    #[error("could not {action}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The SFTP session ended.
    #[error("the SFTP session ended: {0}")]
    Closed(SessionError),
    /// The client engine refused a request.
    #[error("request refused: {0}")]
    Refused(#[from] RequestError),
    /// The program said nothing for too long.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// A reply of a kind the call did not expect.
    #[error("unexpected reply: {0}")]
    Unexpected(String),
}

/// The result of one request: the driver worked, and the server answered this.
pub type Answer = Result<Reply, SftpError>;

/// Our [`SftpClient`] talking to a server program over its stdin and stdout.
///
/// A thread copies the program's stdout into a channel, so the program never blocks
/// on a full pipe while we write requests: many requests can be in flight.
pub struct SftpProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Vec<u8>>,
    client: SftpClient,
    responses: VecDeque<(RequestId, Answer)>,
    out: Vec<u8>,
    timeout: Duration,
}

impl SftpProcess {
    /// Starts `command` with piped stdin/stdout and waits for the session to be ready
    /// (VERSION and, when offered, limits).
    ///
    /// # Errors
    /// When the program cannot start or the session does not become ready.
    pub fn spawn(mut command: Command, config: ClientConfig) -> Result<Self, DriveError> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|source| DriveError::Io {
                action: "spawn the SFTP server",
                source,
            })?;
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().ok_or(DriveError::Io {
            action: "take the server's stdout",
            source: io::ErrorKind::BrokenPipe.into(),
        })?;
        let (tx, incoming) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Vec::new());
                        return;
                    }
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut process = Self {
            child,
            stdin,
            incoming,
            client: SftpClient::new(config),
            responses: VecDeque::new(),
            out: Vec::new(),
            timeout: Duration::from_secs(60),
        };
        while !process.client.is_ready() {
            process.pump()?;
        }
        Ok(process)
    }

    /// The client engine (extensions, limits, and the request methods).
    pub fn client(&mut self) -> &mut SftpClient {
        &mut self.client
    }

    /// Writes queued requests, then waits for one chunk of output and feeds it in.
    fn pump(&mut self) -> Result<(), DriveError> {
        self.out.clear();
        if self.client.poll_transmit(&mut self.out) > 0 {
            let stdin = self.stdin.as_mut().ok_or(DriveError::Io {
                action: "write to the server",
                source: io::ErrorKind::BrokenPipe.into(),
            })?;
            stdin
                .write_all(&self.out)
                .map_err(|source| DriveError::Io {
                    action: "write to the server",
                    source,
                })?;
        }
        match self.incoming.recv_timeout(self.timeout) {
            Ok(chunk) if chunk.is_empty() => self.client.handle_eof(),
            Ok(chunk) => self.client.handle_input(&chunk),
            Err(RecvTimeoutError::Disconnected) => self.client.handle_eof(),
            Err(RecvTimeoutError::Timeout) => return Err(DriveError::Timeout(self.timeout)),
        }
        while let Some(event) = self.client.poll_event() {
            match event {
                ClientEvent::Response { id, result } => self.responses.push_back((id, result)),
                ClientEvent::Closed(e) => return Err(DriveError::Closed(e)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Waits for the response to `id`.
    ///
    /// # Errors
    /// When the session ends or the server falls silent first.
    pub fn wait(&mut self, id: RequestId) -> Result<Answer, DriveError> {
        loop {
            if let Some(pos) = self.responses.iter().position(|(got, _)| *got == id) {
                if let Some((_, answer)) = self.responses.remove(pos) {
                    return Ok(answer);
                }
            }
            self.pump()?;
        }
    }

    /// Waits for whichever response comes next.
    ///
    /// # Errors
    /// When the session ends or the server falls silent first.
    pub fn next_response(&mut self) -> Result<(RequestId, Answer), DriveError> {
        loop {
            if let Some(response) = self.responses.pop_front() {
                return Ok(response);
            }
            self.pump()?;
        }
    }

    /// Sends one request with `send` and waits for its answer.
    ///
    /// # Errors
    /// When the engine refuses the request or the session fails.
    pub fn call(
        &mut self,
        send: impl FnOnce(&mut SftpClient) -> Result<RequestId, RequestError>,
    ) -> Result<Answer, DriveError> {
        let id = send(&mut self.client)?;
        self.wait(id)
    }

    /// Writes `data` at offset 0 of an open file, `block` bytes per WRITE with up to
    /// `depth` requests in flight.
    ///
    /// # Errors
    /// When a write fails (as [`DriveError::Unexpected`]) or the session fails.
    pub fn write_all(
        &mut self,
        handle: &Handle,
        data: &[u8],
        block: usize,
        depth: usize,
    ) -> Result<(), DriveError> {
        let mut offset = 0;
        let mut in_flight = 0;
        while offset < data.len() || in_flight > 0 {
            while in_flight < depth && offset < data.len() {
                let end = (offset + block).min(data.len());
                self.client
                    .write(handle, offset as u64, &data[offset..end])?;
                offset = end;
                in_flight += 1;
            }
            let (id, answer) = self.next_response()?;
            if answer != Ok(Reply::Ok) {
                return Err(DriveError::Unexpected(format!("write {id}: {answer:?}")));
            }
            in_flight -= 1;
        }
        Ok(())
    }

    /// Reads an open file from offset 0 to its end, `block` bytes per READ with up to
    /// `depth` requests in flight (short reads are followed up).
    ///
    /// # Errors
    /// When a read fails or the session fails.
    pub fn read_all(
        &mut self,
        handle: &Handle,
        block: u32,
        depth: usize,
    ) -> Result<Vec<u8>, DriveError> {
        let mut asked: HashMap<RequestId, (u64, u32)> = HashMap::new();
        let mut chunks: BTreeMap<u64, Bytes> = BTreeMap::new();
        let mut next = 0u64;
        let mut eof_at: Option<u64> = None;
        loop {
            while asked.len() < depth && eof_at.is_none() {
                let id = self.client.read(handle, next, block)?;
                asked.insert(id, (next, block));
                next += u64::from(block);
            }
            if asked.is_empty() {
                break;
            }
            let (id, answer) = self.next_response()?;
            let (offset, len) = asked
                .remove(&id)
                .ok_or_else(|| DriveError::Unexpected(format!("response to {id}")))?;
            match answer {
                Ok(Reply::Data(data)) => {
                    let got = data.len() as u32;
                    chunks.insert(offset, data);
                    if got < len && eof_at.is_none_or(|e| offset + u64::from(got) < e) {
                        let rest = offset + u64::from(got);
                        let id = self.client.read(handle, rest, len - got)?;
                        asked.insert(id, (rest, len - got));
                    }
                }
                Ok(Reply::Eof) => eof_at = Some(eof_at.map_or(offset, |e| e.min(offset))),
                other => {
                    return Err(DriveError::Unexpected(format!(
                        "read at {offset}: {other:?}"
                    )));
                }
            }
        }
        let mut content = Vec::new();
        for (offset, data) in chunks {
            if offset != content.len() as u64 {
                return Err(DriveError::Unexpected(format!(
                    "gap before offset {offset}"
                )));
            }
            content.extend_from_slice(&data);
        }
        Ok(content)
    }

    /// Lists a directory: OPENDIR, READDIR until EOF, CLOSE.
    ///
    /// # Errors
    /// When a request fails or the session fails.
    pub fn list_dir(&mut self, path: &str) -> Result<Vec<Name>, DriveError> {
        let handle = match self.call(|c| c.opendir(path))? {
            Ok(Reply::Handle(h)) => h,
            other => return Err(DriveError::Unexpected(format!("opendir {path}: {other:?}"))),
        };
        let mut names = Vec::new();
        loop {
            match self.call(|c| c.readdir(&handle))? {
                Ok(Reply::Names(batch)) => names.extend(batch),
                Ok(Reply::Eof) => break,
                other => return Err(DriveError::Unexpected(format!("readdir {path}: {other:?}"))),
            }
        }
        match self.call(|c| c.close_handle(&handle))? {
            Ok(Reply::Ok) => Ok(names),
            other => Err(DriveError::Unexpected(format!("close {path}: {other:?}"))),
        }
    }

    /// Closes the program's stdin and waits for it to exit.
    ///
    /// # Errors
    /// When waiting fails.
    pub fn finish(mut self) -> Result<ExitStatus, DriveError> {
        drop(self.stdin.take());
        self.child.wait().map_err(|source| DriveError::Io {
            action: "wait for the server",
            source,
        })
    }
}

impl Drop for SftpProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

//! An SFTP client engine and server engine wired in memory, with seeded random
//! chunking of both byte streams (1 byte to 64 KiB) and, optionally, responses given
//! in a random order.

use std::collections::VecDeque;

use crate::crypto::SeededRandom;
use crate::sftp::{
    Backend, ClientConfig, ClientEvent, MemoryFs, Reply, Request, RequestError, RequestId,
    ServerConfig, ServerEvent, SessionError, SftpClient, SftpError, SftpServer,
};

/// How the harness answers the server's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// With the backend, as soon as each request comes out.
    Immediately,
    /// With the backend, in a random order once no more requests come out.
    Shuffled,
    /// Not at all: requests stay in `held` for the test to answer.
    Hold,
}

pub(crate) struct SftpPair<B: Backend = MemoryFs> {
    pub(crate) client: SftpClient,
    pub(crate) server: SftpServer,
    pub(crate) backend: B,
    pub(crate) answer: Answer,
    chunks: SeededRandom,
    pub(crate) to_server: Vec<u8>,
    pub(crate) to_client: Vec<u8>,
    /// Client events not yet taken by the test.
    pub(crate) client_events: VecDeque<ClientEvent>,
    /// Server `Initialized` and `Closed` events, in order.
    pub(crate) server_events: Vec<ServerEvent>,
    /// Requests waiting for an answer (Shuffled and Hold).
    pub(crate) held: Vec<(RequestId, Request)>,
}

impl SftpPair<MemoryFs> {
    pub(crate) fn new(seed: u64) -> Self {
        Self::with(
            ClientConfig::default(),
            ServerConfig::default(),
            MemoryFs::new(),
            seed,
        )
    }

    /// A pair past INIT/VERSION and limits, ready for requests.
    pub(crate) fn ready(seed: u64) -> Self {
        let mut pair = Self::new(seed);
        pair.expect_ready();
        pair
    }
}

impl<B: Backend> SftpPair<B> {
    pub(crate) fn with(client: ClientConfig, server: ServerConfig, backend: B, seed: u64) -> Self {
        Self {
            client: SftpClient::new(client),
            server: SftpServer::new(server),
            backend,
            answer: Answer::Immediately,
            chunks: SeededRandom::new(seed),
            to_server: Vec::new(),
            to_client: Vec::new(),
            client_events: VecDeque::new(),
            server_events: Vec::new(),
            held: Vec::new(),
        }
    }

    /// Drives until Ready and checks it came first.
    pub(crate) fn expect_ready(&mut self) {
        self.drive();
        assert_eq!(self.client_events.pop_front(), Some(ClientEvent::Ready));
        assert!(self.client.is_ready());
    }

    /// The simulation's default cuts: often tiny, sometimes up to 64 KiB.
    fn chunk_len(&mut self, available: usize) -> usize {
        crate::sim::Chunking::Mixed.next_len(&mut self.chunks, available)
    }

    /// Moves bytes and answers requests until nothing moves.
    pub(crate) fn drive(&mut self) {
        for _ in 0..10_000_000 {
            let mut progress = self.collect_output();
            progress |= self.deliver();
            progress |= self.collect_events();
            if !progress && self.answer == Answer::Shuffled && !self.held.is_empty() {
                self.answer_held_shuffled();
                progress = true;
            }
            if !progress {
                return;
            }
        }
        panic!("sftp pair did not settle");
    }

    fn collect_output(&mut self) -> bool {
        let c = self.client.poll_transmit(&mut self.to_server);
        let s = self.server.poll_transmit(&mut self.to_client);
        c + s > 0
    }

    fn deliver(&mut self) -> bool {
        let mut progress = false;
        if !self.to_server.is_empty() && self.server.wants_input() {
            let n = self.chunk_len(self.to_server.len());
            let chunk: Vec<u8> = self.to_server.drain(..n).collect();
            self.server.handle_input(&chunk);
            progress = true;
        }
        if !self.to_client.is_empty() {
            let n = self.chunk_len(self.to_client.len());
            let chunk: Vec<u8> = self.to_client.drain(..n).collect();
            self.client.handle_input(&chunk);
            progress = true;
        }
        progress
    }

    fn collect_events(&mut self) -> bool {
        let mut progress = false;
        while let Some(event) = self.client.poll_event() {
            self.client_events.push_back(event);
            progress = true;
        }
        while let Some(event) = self.server.poll_event() {
            progress = true;
            match event {
                ServerEvent::Request { id, request } => match self.answer {
                    Answer::Immediately => {
                        let result = self.backend.dispatch(request);
                        self.server.respond(id, result).expect("valid response");
                    }
                    Answer::Shuffled | Answer::Hold => self.held.push((id, request)),
                },
                other => self.server_events.push(other),
            }
        }
        progress
    }

    fn answer_held_shuffled(&mut self) {
        let mut held = std::mem::take(&mut self.held);
        while !held.is_empty() {
            let i = (self.chunks.next_u64() % held.len() as u64) as usize;
            let (id, request) = held.swap_remove(i);
            let result = self.backend.dispatch(request);
            self.server.respond(id, result).expect("valid response");
        }
    }

    /// Sends one request with `send`, drives, and returns its result.
    pub(crate) fn call(
        &mut self,
        send: impl FnOnce(&mut SftpClient) -> Result<RequestId, RequestError>,
    ) -> Result<Reply, SftpError> {
        let id = send(&mut self.client).expect("request accepted");
        self.drive();
        self.take_response(id)
    }

    /// Removes and returns the response to `id` from the collected events.
    pub(crate) fn take_response(&mut self, id: RequestId) -> Result<Reply, SftpError> {
        let pos = self
            .client_events
            .iter()
            .position(|e| matches!(e, ClientEvent::Response { id: got, .. } if *got == id))
            .unwrap_or_else(|| panic!("no response to {id}; events: {:?}", self.client_events));
        match self.client_events.remove(pos) {
            Some(ClientEvent::Response { result, .. }) => result,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The client's `Closed` event, if it has one.
    pub(crate) fn client_closed(&self) -> Option<&SessionError> {
        self.client_events.iter().find_map(|e| match e {
            ClientEvent::Closed(err) => Some(err),
            _ => None,
        })
    }

    /// The server's `Closed` event, if it has one.
    pub(crate) fn server_closed(&self) -> Option<&SessionError> {
        self.server_events.iter().find_map(|e| match e {
            ServerEvent::Closed(err) => Some(err),
            _ => None,
        })
    }
}

/// Unwraps the handle of an OPEN or OPENDIR reply.
pub(crate) fn handle_of(result: Result<Reply, SftpError>) -> crate::sftp::Handle {
    match result {
        Ok(Reply::Handle(h)) => h,
        other => panic!("expected a handle, got {other:?}"),
    }
}

/// Unwraps the data of a READ reply.
pub(crate) fn data_of(result: Result<Reply, SftpError>) -> bytes::Bytes {
    match result {
        Ok(Reply::Data(d)) => d,
        other => panic!("expected data, got {other:?}"),
    }
}

/// Unwraps the attributes of a STAT-family reply.
pub(crate) fn attrs_of(result: Result<Reply, SftpError>) -> crate::sftp::FileAttributes {
    match result {
        Ok(Reply::Attrs(a)) => a,
        other => panic!("expected attributes, got {other:?}"),
    }
}

/// Unwraps the names of a NAME reply.
pub(crate) fn names_of(result: Result<Reply, SftpError>) -> Vec<crate::sftp::Name> {
    match result {
        Ok(Reply::Names(n)) => n,
        other => panic!("expected names, got {other:?}"),
    }
}

/// Unwraps the status code of a failed request.
pub(crate) fn code_of(result: Result<Reply, SftpError>) -> crate::sftp::StatusCode {
    match result {
        Err(e) => e.code,
        Ok(reply) => panic!("expected an error status, got {reply:?}"),
    }
}

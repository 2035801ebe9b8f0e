//! The engines under test and the chunked driver that checks their invariants.
//!
//! A fuzz input for an engine target is a two-byte header and the byte stream the peer
//! sends:
//!
//! - byte 0 seeds the chunking (chunks of 1 to 16 bytes, or of up to 512);
//! - byte 1: bit 0 set means the stream is fed as it is; clear, a valid identification
//!   line of the peer goes first, so the fuzzer's bytes start at the binary packet
//!   protocol. Bits 1 to 7 are seconds the virtual clock moves on before each chunk
//!   (0 to 127), which lets the key exchange and rekey timers fire mid-stream.
//!
//! Both engines are deterministic: the same input gives the same run, so a crash
//! reproduces from its input alone.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sansh_core::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use sansh_core::crypto::{SecureRandom, SeededRandom};
use sansh_core::kex::{GexRequest, KexAlgorithm};
use sansh_core::keys::{KeyType, PrivateKey, SignatureAlgorithm};
use sansh_core::{
    Algorithms, ClientConfig, ClientConnection, Event, ServerConfig, ServerConnection,
};

/// Seed of the server engine's random generator.
pub const SERVER_RNG_SEED: u64 = 0x5e_4e_e4;
/// Seed of the client engine's random generator.
pub const CLIENT_RNG_SEED: u64 = 0xc1_1e_47;
/// Seed the server's Ed25519 host key is generated from.
pub const HOST_KEY_SEED: u64 = 7;
/// The identification line the driver sends first unless the input is raw.
pub const PEER_IDENTIFICATION: &[u8] = b"SSH-2.0-OpenSSH_10.0 fuzz\r\n";
/// Header bit 0 of byte 1: feed the stream as it is, with no identification first.
pub const RAW: u8 = 1;

/// Every algorithm the engines implement, so any choice of the fuzzer's can be agreed.
pub fn all_algorithms() -> Algorithms {
    Algorithms {
        kex: KexAlgorithm::ALL.to_vec(),
        host_key: SignatureAlgorithm::ALL.to_vec(),
        host_certificate: SignatureAlgorithm::ALL.to_vec(),
        ciphers: CipherAlgorithm::DEFAULT.to_vec(),
        macs: MacAlgorithm::DEFAULT.to_vec(),
        compression: vec![
            CompressionAlgorithm::None,
            CompressionAlgorithm::Zlib,
            CompressionAlgorithm::ZlibOpenssh,
        ],
    }
}

/// The server's host key: Ed25519 from a fixed seed, so signatures are reproducible.
pub fn host_key() -> PrivateKey {
    PrivateKey::generate(
        KeyType::Ed25519,
        None,
        &mut SeededRandom::new(HOST_KEY_SEED),
    )
    .expect("Ed25519 generation from a seed")
}

/// The configuration of the server under test (made once per process).
pub fn server_config() -> Arc<ServerConfig> {
    static CONFIG: OnceLock<Arc<ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut config = ServerConfig {
                host_keys: vec![host_key()],
                ..ServerConfig::default()
            };
            config.transport.algorithms = all_algorithms();
            Arc::new(config)
        })
        .clone()
}

/// The group size a client asks for in diffie-hellman-group-exchange: 2048 bits, so an
/// execution costs milliseconds rather than the 8192-bit default's quarter second.
pub const GEX_REQUEST: GexRequest = GexRequest {
    min: 2048,
    preferred: 2048,
    max: 8192,
};

/// The configuration of the client under test.
pub fn client_config() -> ClientConfig {
    let mut config = ClientConfig {
        gex: GEX_REQUEST,
        ..ClientConfig::default()
    };
    config.transport.algorithms = all_algorithms();
    config
}

/// The starting instant of the virtual clock: the one clock read, made once per process;
/// the engines only ever see instants derived from it.
#[allow(clippy::disallowed_methods)]
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The server under test, as every run starts it.
pub fn new_server(now: Instant) -> ServerConnection {
    ServerConnection::with_rng(
        server_config(),
        Box::new(SeededRandom::new(SERVER_RNG_SEED)),
        now,
    )
    .expect("the fuzz server configuration is valid")
}

/// The client under test, as every run starts it: it asks for `ssh-userauth` at once
/// (sent when the first key exchange is done), so a server's SERVICE_ACCEPT is expected.
pub fn new_client(now: Instant) -> ClientConnection {
    let mut client = ClientConnection::with_rng(
        client_config(),
        Box::new(SeededRandom::new(CLIENT_RNG_SEED)),
        now,
    );
    client.request_service("ssh-userauth");
    client
}

/// The engine calls the driver needs, implemented by both connection types.
pub trait Engine {
    /// `handle_input`.
    fn input(&mut self, now: Instant, data: &[u8]);
    /// `handle_eof`.
    fn eof(&mut self, now: Instant);
    /// `handle_timeout`.
    fn timeout(&mut self, now: Instant);
    /// `poll_transmit`.
    fn transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize;
    /// `poll_timeout`.
    fn next_timeout(&self) -> Option<Instant>;
    /// `poll_event`.
    fn event(&mut self) -> Option<Event>;
    /// `is_closed`.
    fn closed(&self) -> bool;
    /// `key_exchanges`.
    fn kex_count(&self) -> u32;
    /// `session_id`.
    fn session(&self) -> Option<&[u8]>;
    /// `peer_version`.
    fn peer(&self) -> Option<&str>;
    /// Answers the decision an event carries, the way a permissive application would.
    fn decide(&mut self, event: Event);
}

macro_rules! engine_calls {
    () => {
        fn input(&mut self, now: Instant, data: &[u8]) {
            self.handle_input(now, data);
        }
        fn eof(&mut self, now: Instant) {
            self.handle_eof(now);
        }
        fn timeout(&mut self, now: Instant) {
            self.handle_timeout(now);
        }
        fn transmit(&mut self, now: Instant, out: &mut Vec<u8>) -> usize {
            self.poll_transmit(now, out)
        }
        fn next_timeout(&self) -> Option<Instant> {
            self.poll_timeout()
        }
        fn event(&mut self) -> Option<Event> {
            self.poll_event()
        }
        fn closed(&self) -> bool {
            self.is_closed()
        }
        fn kex_count(&self) -> u32 {
            self.key_exchanges()
        }
        fn session(&self) -> Option<&[u8]> {
            self.session_id()
        }
        fn peer(&self) -> Option<&str> {
            self.peer_version()
        }
    };
}

impl Engine for ServerConnection {
    engine_calls!();

    fn decide(&mut self, event: Event) {
        if let Event::HostKey(_) = event {
            panic!("a server asked for a host key decision");
        }
    }
}

impl Engine for ClientConnection {
    engine_calls!();

    fn decide(&mut self, event: Event) {
        if let Event::HostKey(decision) = event {
            self.accept_host_key(decision);
        }
    }
}

/// What the driver has seen of one engine, and the invariants it checks.
#[derive(Debug, Default)]
struct Watch {
    sent: Vec<u8>,
    closed_seen: bool,
    /// Closed was reported and everything after it drained: from here on the engine
    /// must stay silent whatever it is fed.
    silent: bool,
    kex_events: u32,
    session_id: Option<Vec<u8>>,
    closed: String,
}

impl Watch {
    /// Drains output and events until neither yields anything, answering decisions,
    /// then checks the state invariants.
    fn drain<E: Engine>(&mut self, engine: &mut E, now: Instant) {
        loop {
            let mut progress = false;
            let mut out = Vec::new();
            let n = engine.transmit(now, &mut out);
            assert_eq!(n, out.len(), "poll_transmit miscounted what it appended");
            if n > 0 {
                assert!(!self.silent, "{n} bytes sent after Closed was reported");
                self.sent.extend_from_slice(&out);
                progress = true;
            }
            while let Some(event) = engine.event() {
                progress = true;
                self.observe(engine, event);
            }
            if !progress {
                break;
            }
        }
        self.check_state(engine);
        if self.closed_seen {
            self.silent = true;
        }
    }

    fn observe<E: Engine>(&mut self, engine: &mut E, event: Event) {
        assert!(!self.closed_seen, "event after Closed: {event:?}");
        match event {
            Event::Closed(error) => {
                self.closed_seen = true;
                self.closed = error.to_string();
            }
            Event::KeyExchangeComplete { rekey, .. } => {
                assert_eq!(
                    rekey,
                    self.kex_events > 0,
                    "rekey flag of exchange #{}",
                    self.kex_events
                );
                self.kex_events += 1;
            }
            other => engine.decide(other),
        }
    }

    fn check_state<E: Engine>(&mut self, engine: &E) {
        assert_eq!(
            engine.closed(),
            self.closed_seen,
            "is_closed disagrees with the Closed event"
        );
        if self.closed_seen {
            assert_eq!(
                engine.next_timeout(),
                None,
                "a timer is armed on a closed connection"
            );
        }
        assert_eq!(
            engine.kex_count(),
            self.kex_events,
            "key_exchanges disagrees with the events"
        );
        // The session id is the first exchange hash: set before that exchange's NEWKEYS
        // completes it, and never changed by a rekey.
        match (&self.session_id, engine.session()) {
            (Some(kept), now) => assert_eq!(Some(&kept[..]), now, "the session id changed"),
            (None, Some(first)) => self.session_id = Some(first.to_vec()),
            (None, None) => assert_eq!(self.kex_events, 0, "a key exchange without a session id"),
        }
        if self.kex_events > 0 {
            let peer = engine
                .peer()
                .expect("a key exchange without the peer's identification");
            assert!(
                !peer.contains(['\r', '\n']),
                "peer version keeps its line end: {peer:?}"
            );
        }
        if !self.sent.is_empty() {
            assert!(
                self.sent.starts_with(b"SSH-2.0-"),
                "output does not open with our identification"
            );
        }
    }
}

/// The decoded two-byte header of an engine input.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    /// Seeds the chunk sizes.
    pub chunk_seed: u8,
    /// Feed the stream as it is (no identification line first).
    pub raw: bool,
    /// How far the virtual clock moves before each chunk.
    pub step: Duration,
}

impl Header {
    /// Splits an input into its header and stream; `None` for inputs under two bytes.
    pub fn parse(data: &[u8]) -> Option<(Self, &[u8])> {
        let (&[chunk_seed, flags], stream) = data.split_first_chunk::<2>()?;
        let header = Self {
            chunk_seed,
            raw: flags & RAW != 0,
            step: Duration::from_secs(u64::from(flags >> 1)),
        };
        Some((header, stream))
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Key exchanges completed.
    pub key_exchanges: u32,
    /// The error the `Closed` event carried, as text.
    pub closed: String,
}

/// Feeds one fuzz input to `engine` and checks its invariants throughout; panics on a
/// violation. Inputs under two bytes are ignored (`None`).
pub fn run<E: Engine>(mut engine: E, start: Instant, data: &[u8]) -> Option<Outcome> {
    let (header, stream) = Header::parse(data)?;
    let mut now = start;
    let mut watch = Watch::default();
    watch.drain(&mut engine, now);
    let mut feed: Vec<u8> = Vec::with_capacity(stream.len() + PEER_IDENTIFICATION.len());
    if !header.raw {
        feed.extend_from_slice(PEER_IDENTIFICATION);
    }
    feed.extend_from_slice(stream);

    let mut chunks = SeededRandom::new(u64::from(header.chunk_seed));
    let mut rest = &feed[..];
    while !rest.is_empty() {
        now += header.step;
        fire_due_timers(&mut engine, &mut watch, now);
        let len = chunk_len(&mut chunks, rest.len());
        let (chunk, tail) = rest.split_at(len);
        engine.input(now, chunk);
        watch.drain(&mut engine, now);
        rest = tail;
    }

    // Let every armed timer fire (each firing may arm the next one: rekey, then the
    // rekey's own timeout), then end the stream.
    for _ in 0..4 {
        let Some(deadline) = engine.next_timeout() else {
            break;
        };
        now = now.max(deadline);
        engine.timeout(now);
        watch.drain(&mut engine, now);
        if let Some(next) = engine.next_timeout() {
            assert!(
                next > deadline,
                "handle_timeout at the deadline left it armed"
            );
        }
    }
    engine.eof(now);
    watch.drain(&mut engine, now);
    assert!(
        watch.closed_seen,
        "the connection survived the end of the stream"
    );
    // A closed engine ignores whatever comes after.
    engine.input(
        now,
        b"SSH-2.0-late\r\n\0\0\0\x0c\x0a\x05\0\0\0\0\0\0\0\0\0\0",
    );
    engine.timeout(now + Duration::from_secs(86_400));
    watch.drain(&mut engine, now);
    Some(Outcome {
        key_exchanges: watch.kex_events,
        closed: watch.closed,
    })
}

fn fire_due_timers<E: Engine>(engine: &mut E, watch: &mut Watch, now: Instant) {
    if engine.next_timeout().is_some_and(|t| t <= now) {
        engine.timeout(now);
        watch.drain(engine, now);
    }
}

/// A chunk size: often 1 to 16 bytes (splitting every field), otherwise up to 512.
fn chunk_len(rng: &mut SeededRandom, available: usize) -> usize {
    let r = rng.next_u64();
    let max = if r.is_multiple_of(4) { 16 } else { 512 };
    (1 + (r >> 8) as usize % max).min(available)
}

/// Drains an engine that is being driven by something other than [`run`] (the seed
/// generator): returns what it sent, answering decisions as the driver does.
pub fn pump<E: Engine>(engine: &mut E, now: Instant, on_event: impl FnMut(&Event)) -> Vec<u8> {
    let mut on_event = on_event;
    let mut sent = Vec::new();
    loop {
        let mut progress = engine.transmit(now, &mut sent) > 0;
        while let Some(event) = engine.event() {
            progress = true;
            on_event(&event);
            engine.decide(event);
        }
        if !progress {
            return sent;
        }
    }
}

/// `len` bytes drawn from a generator seeded with `seed`: fixed key material for
/// targets that need real keys.
pub fn fixed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    SeededRandom::new(seed).fill(&mut out);
    out
}

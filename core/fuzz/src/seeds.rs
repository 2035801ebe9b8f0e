//! Seed inputs for the engine targets: what one side sends in a complete conversation
//! with our own other engine, as seen by exactly the engine a target builds.
//!
//! Both engines are deterministic, so replaying the client's bytes into a fresh copy of
//! the target's server (same configuration, same random seed) reproduces the whole
//! conversation: key exchange, NEWKEYS, encrypted SERVICE_REQUEST, DEBUG, IGNORE and a
//! rekey. The fuzzer starts from those valid streams and mutates them, which reaches
//! the encrypted states that random bytes never would. They are made fresh at each run
//! (nothing to keep in step with the engine in git): a target writes them into the
//! directory named by [`EXPORT_VAR`] when it starts.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use sansh_core::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use sansh_core::crypto::SeededRandom;
use sansh_core::kex::KexAlgorithm;
use sansh_core::keys::{KeyType, PrivateKey, SignatureAlgorithm};
use sansh_core::{
    Algorithms, ClientConfig, ClientConnection, Event, ServerConfig, ServerConnection,
};

use crate::engine::{self, Engine, Outcome, RAW};

/// Environment variable naming a directory the engine targets write their seeds into
/// when they start (the `run-all` script points it at the target's corpus).
pub const EXPORT_VAR: &str = "SANSH_FUZZ_EXPORT_SEEDS";

/// The algorithm suite one seed conversation negotiates.
struct Suite {
    name: &'static str,
    kex: KexAlgorithm,
    cipher: CipherAlgorithm,
    mac: MacAlgorithm,
    compression: CompressionAlgorithm,
}

/// One suite per kex family, cipher family and MAC order, with each compression.
const SUITES: &[Suite] = &[
    // Not mlkem768x25519: aws-lc draws ML-KEM randomness itself (kex/mlkem.rs), so
    // such a conversation does not replay.
    Suite {
        name: "curve25519libssh-chacha",
        kex: KexAlgorithm::Curve25519Sha256LibSsh,
        cipher: CipherAlgorithm::Chacha20Poly1305,
        mac: MacAlgorithm::HmacSha256Etm,
        compression: CompressionAlgorithm::None,
    },
    Suite {
        name: "curve25519-aes128gcm-zlib",
        kex: KexAlgorithm::Curve25519Sha256,
        cipher: CipherAlgorithm::Aes128Gcm,
        mac: MacAlgorithm::HmacSha256Etm,
        compression: CompressionAlgorithm::Zlib,
    },
    Suite {
        name: "nistp256-aes256ctr-sha256-delayedzlib",
        kex: KexAlgorithm::EcdhSha2Nistp256,
        cipher: CipherAlgorithm::Aes256Ctr,
        mac: MacAlgorithm::HmacSha256,
        compression: CompressionAlgorithm::ZlibOpenssh,
    },
    Suite {
        name: "group14-aes128ctr-sha1etm",
        kex: KexAlgorithm::DhGroup14Sha256,
        cipher: CipherAlgorithm::Aes128Ctr,
        mac: MacAlgorithm::HmacSha1Etm,
        compression: CompressionAlgorithm::None,
    },
    Suite {
        name: "gex-aes192ctr-sha512etm",
        kex: KexAlgorithm::DhGexSha256,
        cipher: CipherAlgorithm::Aes192Ctr,
        mac: MacAlgorithm::HmacSha512Etm,
        compression: CompressionAlgorithm::None,
    },
    Suite {
        name: "sntrup-aes256gcm",
        kex: KexAlgorithm::Sntrup761X25519Sha512,
        cipher: CipherAlgorithm::Aes256Gcm,
        mac: MacAlgorithm::HmacSha512,
        compression: CompressionAlgorithm::None,
    },
];

impl Suite {
    fn algorithms(&self) -> Algorithms {
        Algorithms {
            kex: vec![self.kex],
            host_key: vec![SignatureAlgorithm::Ed25519],
            host_certificate: Vec::new(),
            ciphers: vec![self.cipher],
            macs: vec![self.mac],
            compression: vec![self.compression],
        }
    }
}

/// One seed file: its name and contents (header included).
#[derive(Debug, Clone)]
pub struct Seed {
    /// File name.
    pub name: String,
    /// The input: the two-byte header (raw stream) then the peer's bytes.
    pub data: Vec<u8>,
}

/// Seeds for `server_engine`: what a client restricted to each suite sends to the
/// target's server.
pub fn server_seeds() -> Vec<Seed> {
    SUITES
        .iter()
        .zip(1u64..)
        .map(|(suite, seed)| {
            let now = engine::epoch();
            let mut config = ClientConfig {
                gex: engine::GEX_REQUEST,
                ..ClientConfig::default()
            };
            config.transport.algorithms = suite.algorithms();
            let mut client =
                ClientConnection::with_rng(config, Box::new(SeededRandom::new(seed)), now);
            client.request_service("ssh-userauth");
            let mut server = engine::new_server(now);
            let (client_sent, _) = converse(&mut client, &mut server, now, Initiator::Client);
            let data = with_header(&client_sent);
            let outcome = engine::run(engine::new_server(now), now, &data);
            let name = format!("seed-{}", suite.name);
            replays(Seed { name, data }, outcome)
        })
        .collect()
}

/// Seeds for `client_engine`: what a server restricted to each suite sends to the
/// target's client.
pub fn client_seeds() -> Vec<Seed> {
    SUITES
        .iter()
        .zip(100u64..)
        .map(|(suite, seed)| {
            let now = engine::epoch();
            let mut config = ServerConfig {
                host_keys: vec![engine::host_key()],
                ..ServerConfig::default()
            };
            config.transport.algorithms = suite.algorithms();
            let mut server = ServerConnection::with_rng(
                Arc::new(config),
                Box::new(SeededRandom::new(seed)),
                now,
            )
            .expect("an Ed25519 host key signs ssh-ed25519");
            let mut client = engine::new_client(now);
            let (_, server_sent) = converse(&mut client, &mut server, now, Initiator::Server);
            let data = with_header(&server_sent);
            let outcome = engine::run(engine::new_client(now), now, &data);
            let name = format!("seed-{}", suite.name);
            replays(Seed { name, data }, outcome)
        })
        .collect()
}

/// Writes the seeds `make` returns into the directory named by [`EXPORT_VAR`], if it
/// is set (a target calls this when it starts).
///
/// # Panics
/// When the directory cannot be written: the caller asked for the files.
pub fn export_if_requested(make: impl FnOnce() -> Vec<Seed>) {
    let Some(dir) = std::env::var_os(EXPORT_VAR) else {
        return;
    };
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).expect("create the seed directory");
    for seed in make() {
        std::fs::write(dir.join(&seed.name), &seed.data).expect("write a seed file");
    }
}

/// Checks that a seed replays through the target's own run to both key exchanges, so a
/// stale seed (an engine change that moved the random stream) is never written.
fn replays(seed: Seed, outcome: Option<Outcome>) -> Seed {
    let outcome = outcome.expect("a seed has a header");
    assert_eq!(
        outcome.key_exchanges, 2,
        "seed {} replays to {outcome:?}",
        seed.name
    );
    seed
}

/// Seeds for `public_key_blob`: a blob of every key type (a big-endian `u16` blob
/// length, the blob, then a signature blob by that key over `fuzz`).
pub fn public_key_seeds() -> Vec<Seed> {
    let mut rng = SeededRandom::new(11);
    KeyType::ALL
        .iter()
        .map(|&key_type| {
            let bits = (key_type == KeyType::Rsa).then_some(2048);
            let key = PrivateKey::generate(key_type, bits, &mut rng).expect("key generation");
            let blob = key.public_key().to_blob();
            let alg = key.signature_algorithms()[0];
            let signature = key.sign(alg, b"fuzz", &mut rng).expect("signing");
            let mut data = (blob.len() as u16).to_be_bytes().to_vec();
            data.extend_from_slice(&blob);
            data.extend_from_slice(&signature);
            Seed {
                name: format!("seed-{}", key_type.name()),
                data,
            }
        })
        .collect()
}

fn with_header(stream: &[u8]) -> Vec<u8> {
    let mut data = vec![0, RAW];
    data.extend_from_slice(stream);
    data
}

/// Which side sends DEBUG and IGNORE and starts the rekey once the first exchange is done.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Initiator {
    Client,
    Server,
}

/// Runs a conversation to its quiet end: first key exchange, SERVICE_REQUEST and
/// ACCEPT, then DEBUG, IGNORE and a rekey from `initiator`. Returns what the client and
/// the server sent.
///
/// # Panics
/// When the conversation does not get that far: the seed would be worthless.
fn converse(
    client: &mut ClientConnection,
    server: &mut ServerConnection,
    now: Instant,
    initiator: Initiator,
) -> (Vec<u8>, Vec<u8>) {
    let (mut client_sent, mut server_sent) = (Vec::new(), Vec::new());
    let (mut client_ready, mut server_ready) = (false, false);
    let mut followed_up = false;
    for _ in 0..100 {
        let to_server = engine::pump(client, now, |e| note(e, &mut client_ready));
        let to_client = engine::pump(server, now, |e| note(e, &mut server_ready));
        if !to_server.is_empty() {
            server.handle_input(now, &to_server);
        }
        if !to_client.is_empty() {
            client.handle_input(now, &to_client);
        }
        let quiet = to_server.is_empty() && to_client.is_empty();
        client_sent.extend_from_slice(&to_server);
        server_sent.extend_from_slice(&to_client);
        let ready = match initiator {
            Initiator::Client => client_ready,
            Initiator::Server => server_ready,
        };
        if ready && !followed_up {
            followed_up = true;
            match initiator {
                Initiator::Client => {
                    client.send_debug(false, "seed debug");
                    client.send_ignore(b"seed ignore");
                    client.rekey(now);
                }
                Initiator::Server => {
                    server.send_debug(true, "seed debug");
                    server.send_ignore(b"seed ignore");
                    server.rekey(now);
                }
            }
        } else if quiet {
            break;
        }
    }
    assert_eq!(
        client.kex_count(),
        2,
        "the seed conversation finished its rekey"
    );
    assert_eq!(
        server.kex_count(),
        2,
        "the seed conversation finished its rekey"
    );
    (client_sent, server_sent)
}

/// Notes the end of the first key exchange; a closed conversation makes no seed.
fn note(event: &Event, first_kex_done: &mut bool) {
    match event {
        Event::Closed(error) => panic!("seed conversation closed: {error}"),
        Event::KeyExchangeComplete { rekey: false, .. } => *first_kex_done = true,
        _ => {}
    }
}

//! The public simulation (`sansh_core::sim`): faults, virtual time and determinism,
//! seen from outside the crate as a user sees it.

use std::sync::Arc;
use std::time::Duration;

use sansh_core::config::ConnectionConfig;
use sansh_core::crypto::SeededRandom;
use sansh_core::error::TimerKind;
use sansh_core::kex::KexAlgorithm;
use sansh_core::keys::{KeyType, PrivateKey};
use sansh_core::sim::{Chunking, Login, Side, SimError, SimOptions, Simulation};
use sansh_core::{ClientConfig, ConnectionError, PeerMisbehaved, ServerConfig};

/// The module documentation's example, which the README shows too, and the way the
/// tests below reuse its client and server logic.
mod example {
    include!("../src/sim/example.rs");

    /// Runs the example's program.
    pub(super) fn run_main() -> Result<(), Box<dyn Error>> {
        main()
    }

    /// Runs the example's `echo hi` on a connected simulation: what the client read
    /// and the exit status it got.
    pub(super) fn echo(sim: &mut Simulation) -> (Vec<u8>, Option<u32>) {
        let id = sim.client().channels().open_session().expect("open");
        let mut run = Run::default();
        sim.try_run_until(|sim| {
            serve(sim)?;
            client(sim, id, &mut run)?;
            Ok::<_, Box<dyn Error>>(run.closed)
        })
        .expect("echo ran");
        (run.output, run.exit_status)
    }
}

fn host_key() -> PrivateKey {
    PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(1)).expect("ed25519 key")
}

fn server_config() -> ServerConfig {
    ServerConfig {
        host_keys: vec![host_key()],
        ..ServerConfig::default()
    }
}

fn client_with_keepalive(interval: Duration, max: u32) -> ClientConfig {
    ClientConfig {
        connection: ConnectionConfig {
            keepalive_interval: Some(interval),
            keepalive_max: max,
            ..ConnectionConfig::default()
        },
        ..ClientConfig::default()
    }
}

fn logged_in(client: ClientConfig, options: impl Into<SimOptions>) -> Simulation {
    let login = Login::password("alice", "secret");
    Simulation::connected(client, Arc::new(server_config()), options, login).expect("connected")
}

#[test]
fn the_documented_example_runs() {
    example::run_main().expect("the example succeeds");
}

#[test]
fn the_readme_shows_the_documented_example() {
    let readme = include_str!("../../README.md");
    let code = include_str!("../src/sim/example.rs");
    let block = format!("```rust\n{code}```");
    assert!(
        readme.contains(&block),
        "README.md's sansh::sim example differs from core/src/sim/example.rs"
    );
}

#[test]
fn a_stalled_server_is_dropped_by_client_keepalives() {
    let mut sim = logged_in(client_with_keepalive(Duration::from_secs(15), 3), 1);
    let start = sim.elapsed();
    sim.stall_forever(Side::Server);
    sim.run_until(|sim| sim.closed(Side::Client).is_some())
        .expect("the client gives up");
    assert_eq!(
        sim.closed(Side::Client),
        Some(&ConnectionError::TimedOut(TimerKind::Keepalive))
    );
    assert_eq!(
        sim.closed(Side::Server),
        None,
        "the frozen server noticed nothing"
    );
    let waited = sim.elapsed() - start;
    assert!(
        (Duration::from_secs(45)..=Duration::from_secs(75)).contains(&waited),
        "three unanswered probes 15 s apart, then the cut: {waited:?}"
    );
}

#[test]
fn a_short_stall_is_survived() {
    let mut sim = logged_in(client_with_keepalive(Duration::from_secs(15), 3), 2);
    sim.stall(Side::Server, Duration::from_secs(20));
    sim.run_for(Duration::from_secs(30)).expect("runs");
    assert_eq!(sim.closed(Side::Client), None);
    let (output, _) = example::echo(&mut sim);
    assert_eq!(output, b"hi\n");
}

#[test]
fn dropping_the_link_loses_the_connection_on_both_sides() {
    let mut sim = logged_in(ClientConfig::default(), 3);
    sim.drop_link();
    sim.run_until(|sim| sim.closed(Side::Client).is_some() && sim.closed(Side::Server).is_some())
        .expect("both notice");
    assert_eq!(
        sim.closed(Side::Client),
        Some(&ConnectionError::ConnectionLost)
    );
    assert_eq!(
        sim.closed(Side::Server),
        Some(&ConnectionError::ConnectionLost)
    );
}

#[test]
fn garbage_is_a_named_protocol_error_and_a_disconnect() {
    // A seeded key exchange: what the garbage decrypts to depends on the keys.
    let mut sim = logged_in(curve25519_client(), 4);
    sim.inject_garbage(Side::Client, &[0xa5; 64]);
    sim.run_until(|sim| sim.closed(Side::Client).is_some() && sim.closed(Side::Server).is_some())
        .expect("both close");
    let Some(ConnectionError::PeerMisbehaved(violation)) = sim.closed(Side::Server) else {
        panic!("server: {:?}", sim.closed(Side::Server));
    };
    // The first garbage bytes decrypt to a packet length far beyond the limit.
    assert!(
        matches!(violation, PeerMisbehaved::PacketTooLarge(_)),
        "{violation}"
    );
    let told = match sim.closed(Side::Client) {
        Some(ConnectionError::PeerDisconnected { reason, .. }) => *reason,
        other => panic!("the client was not sent DISCONNECT: {other:?}"),
    };
    assert_eq!(
        told,
        violation.disconnect_reason(),
        "the client was told why"
    );
}

#[test]
fn a_corrupted_byte_is_caught_by_the_receiver() {
    let mut sim = logged_in(curve25519_client(), 5);
    sim.corrupt(Side::Server, 1);
    sim.server().send_ignore(b"padding");
    sim.run_until(|sim| sim.closed(Side::Client).is_some())
        .expect("the client notices");
    assert!(
        matches!(
            sim.closed(Side::Client),
            Some(ConnectionError::PeerMisbehaved(_))
        ),
        "{:?}",
        sim.closed(Side::Client)
    );
}

#[test]
fn login_grace_expires_in_virtual_time_within_real_milliseconds() {
    // Measuring real time is this test's point: the only clock read in it.
    #[allow(clippy::disallowed_methods)]
    let real_start = std::time::Instant::now();
    let mut sim =
        Simulation::new(ClientConfig::default(), Arc::new(server_config()), 6).expect("simulation");
    sim.run_until(|sim| sim.closed(Side::Server).is_some())
        .expect("the server gives up");
    assert_eq!(
        sim.closed(Side::Server),
        Some(&ConnectionError::TimedOut(TimerKind::LoginGrace))
    );
    assert!(
        sim.elapsed() >= Duration::from_secs(120),
        "{:?}",
        sim.elapsed()
    );
    let real = real_start.elapsed();
    assert!(real < Duration::from_secs(2), "two minutes took {real:?}");
}

/// A client whose key exchange is seeded from end to end (aws-lc's ML-KEM, in the
/// default hybrid exchange, draws from its own generator).
fn curve25519_client() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.transport.algorithms.kex = vec![KexAlgorithm::Curve25519Sha256];
    config
}

/// A run with every kind of randomness in play: chunking, latency, a stall, a rekey,
/// garbage. Returns both transcripts and the virtual time it took.
fn eventful_run(client: ClientConfig, seed: u64) -> (Vec<u8>, Vec<u8>, Duration) {
    let options = SimOptions {
        latency: Duration::from_millis(30),
        ..SimOptions::new(seed)
    };
    let mut sim = logged_in(client, options);
    let (_, status) = example::echo(&mut sim);
    assert_eq!(status, Some(0));
    sim.stall(Side::Client, Duration::from_secs(1));
    let now = sim.now();
    sim.client().rekey(now);
    sim.run_for(Duration::from_secs(5)).expect("rekeys");
    sim.inject_garbage(Side::Server, b"not ssh");
    sim.run_until(|sim| sim.closed(Side::Client).is_some())
        .expect("garbage ends it");
    (
        sim.transcript(Side::Client).to_vec(),
        sim.transcript(Side::Server).to_vec(),
        sim.elapsed(),
    )
}

#[test]
fn the_same_seed_gives_identical_transcripts() {
    let first = eventful_run(curve25519_client(), 7);
    assert!(
        first == eventful_run(curve25519_client(), 7),
        "two runs with seed 7 differ"
    );
    assert!(
        first != eventful_run(curve25519_client(), 8),
        "seeds 7 and 8 give the same bytes"
    );
}

#[test]
fn with_ml_kem_the_same_seed_gives_the_same_run_in_other_bytes() {
    let (client_a, server_a, elapsed_a) = eventful_run(ClientConfig::default(), 7);
    let (client_b, server_b, elapsed_b) = eventful_run(ClientConfig::default(), 7);
    assert_eq!(elapsed_a, elapsed_b);
    assert_eq!(
        (client_a.len(), server_a.len()),
        (client_b.len(), server_b.len())
    );
    assert!(
        client_a != client_b,
        "ML-KEM keys are not drawn from the seed"
    );
}

#[test]
fn one_byte_chunks_carry_a_whole_session() {
    let options = SimOptions {
        chunking: Chunking::Uniform { min: 1, max: 1 },
        ..SimOptions::new(9)
    };
    let mut sim = logged_in(ClientConfig::default(), options);
    let (output, status) = example::echo(&mut sim);
    assert_eq!(output, b"hi\n");
    assert_eq!(status, Some(0));
}

#[test]
fn latency_delays_every_round_trip() {
    let options = SimOptions {
        latency: Duration::from_millis(100),
        ..SimOptions::new(10)
    };
    let sim = Simulation::connected(
        ClientConfig::default(),
        Arc::new(server_config()),
        options,
        Login::None,
    )
    .expect("key exchange");
    // Identification and KEXINIT cross, then the ECDH round trip, then NEWKEYS.
    assert!(
        sim.elapsed() >= Duration::from_millis(300),
        "{:?}",
        sim.elapsed()
    );
}

#[test]
fn public_key_login_authenticates_both_sides() {
    let key =
        PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(11)).expect("user key");
    let mut sim = Simulation::connected(
        ClientConfig::default(),
        Arc::new(server_config()),
        11,
        Login::public_key("alice", Arc::new(key)),
    )
    .expect("logged in");
    assert!(sim.client().is_authenticated());
    assert_eq!(
        sim.server().authenticated_user().map(|u| u.user.clone()),
        Some("alice".to_owned())
    );
}

#[test]
fn a_refused_login_is_reported() {
    let mut config = server_config();
    config.auth.methods = vec![sansh_core::auth::AuthMethod::PublicKey];
    let result = Simulation::connected(
        ClientConfig::default(),
        Arc::new(config),
        12,
        Login::password("alice", "secret"),
    );
    assert!(
        matches!(&result, Err(SimError::AuthFailed { methods }) if methods == &["publickey"]),
        "{result:?}"
    );
}

#[test]
fn run_for_moves_the_clock_exactly() {
    let mut sim = logged_in(ClientConfig::default(), 13);
    let before = sim.elapsed();
    sim.run_for(Duration::from_secs(90)).expect("runs");
    assert_eq!(sim.elapsed() - before, Duration::from_secs(90));
}

#[test]
fn a_simulation_where_nothing_can_happen_is_stuck() {
    let mut sim = logged_in(ClientConfig::default(), 14);
    sim.stall_forever(Side::Client);
    sim.stall_forever(Side::Server);
    let result = sim.run_until(|_| false);
    assert!(matches!(result, Err(SimError::Stuck { .. })), "{result:?}");
}

#[test]
fn a_goal_never_reached_ends_at_the_step_limit() {
    let options = SimOptions {
        max_steps: 500,
        ..SimOptions::new(15)
    };
    let mut sim = logged_in(
        client_with_keepalive(Duration::from_secs(1), 1_000_000),
        options,
    );
    let result = sim.run_until(|_| false);
    assert!(
        matches!(result, Err(SimError::StepLimit { steps: 500, .. })),
        "{result:?}"
    );
}

#[test]
fn connected_without_automatic_host_key_answers_times_out() {
    let options = SimOptions {
        accept_host_keys: false,
        ..SimOptions::new(16)
    };
    let result = Simulation::connected(
        ClientConfig::default(),
        Arc::new(server_config()),
        options,
        Login::None,
    );
    assert!(
        matches!(
            &result,
            Err(SimError::Closed {
                side: Side::Client,
                error: ConnectionError::TimedOut(TimerKind::KeyExchange),
            })
        ),
        "{result:?}"
    );
}

#[test]
fn a_host_key_left_to_the_test_is_reported_as_an_event() {
    let options = SimOptions {
        accept_host_keys: false,
        ..SimOptions::new(17)
    };
    let mut sim = Simulation::new(ClientConfig::default(), Arc::new(server_config()), options)
        .expect("simulation");
    let mut asked = 0;
    sim.run_until(|sim| {
        for event in sim.client_events() {
            if let sansh_core::Event::HostKey(decision) = event {
                asked += 1;
                sim.client().accept_host_key(decision);
            }
        }
        sim.client().key_exchanges() > 0 && sim.server().key_exchanges() > 0
    })
    .expect("key exchange");
    assert_eq!(asked, 1);
}

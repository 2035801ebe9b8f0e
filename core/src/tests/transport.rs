//! Transport behaviour between our own client and server engines.

use std::time::Duration;

use super::*;
use crate::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use crate::config::{ClientConfig, TransportConfig};
use crate::crypto::SeededRandom;
use crate::error::{AlgorithmKind, ConnectionError, DisconnectReason, TimerKind};
use crate::event::Event;
use crate::kex::KexAlgorithm;
use crate::keys::SignatureAlgorithm;

/// Every cipher with every MAC it can take (AEAD ciphers take none).
fn cipher_mac_combinations() -> Vec<(CipherAlgorithm, Option<MacAlgorithm>)> {
    let mut out = Vec::new();
    for &cipher in CipherAlgorithm::DEFAULT {
        if cipher.is_aead() {
            out.push((cipher, None));
        } else {
            out.extend(MacAlgorithm::DEFAULT.iter().map(|&mac| (cipher, Some(mac))));
        }
    }
    out
}

fn client_config(
    kex: KexAlgorithm,
    host_key: SignatureAlgorithm,
    cipher: CipherAlgorithm,
    mac: Option<MacAlgorithm>,
) -> ClientConfig {
    let mut config = ClientConfig::default();
    let algorithms = &mut config.transport.algorithms;
    algorithms.kex = vec![kex];
    algorithms.host_key = vec![host_key];
    algorithms.ciphers = vec![cipher];
    if let Some(mac) = mac {
        algorithms.macs = vec![mac];
    }
    config
}

/// Negotiates every host key × cipher × MAC with `kex`, carries data both ways, rekeys,
/// and carries data again.
fn every_combination_with(kex: KexAlgorithm) {
    let server = all_host_keys_server();
    let mut rng = SeededRandom::new(kex.name().len() as u64);
    let host_keys = SignatureAlgorithm::ALL
        .iter()
        .copied()
        .filter(|a| a.can_sign());
    for host_key in host_keys {
        for (cipher, mac) in cipher_mac_combinations() {
            let label = format!(
                "{} {} {} {:?}",
                kex.name(),
                host_key.name(),
                cipher.name(),
                mac
            );
            let seed = rng.next_u64();
            let mut pair = Pair::seeded(
                client_config(kex, host_key, cipher, mac),
                server.clone(),
                seed,
            );
            pair.handshake();
            let negotiated = *pair.client.algorithms().expect("negotiated");
            assert_eq!(negotiated.kex, kex, "{label}");
            assert_eq!(negotiated.host_key, host_key, "{label}");
            assert_eq!(negotiated.cipher_c2s, cipher, "{label}");
            assert_eq!(negotiated.mac_s2c, mac, "{label}");
            assert_eq!(pair.server.algorithms(), Some(&negotiated), "{label}");
            pair.exchange_data(3, 3000, &mut rng);
            pair.client.rekey(pair.now);
            pair.exchange_data(3, 3000, &mut rng);
            assert_eq!(pair.client.key_exchanges(), 2, "{label}: rekeyed");
            assert_eq!(pair.server.key_exchanges(), 2, "{label}: rekeyed");
            assert_eq!(pair.client_seen.closed(), None, "{label}");
            assert_eq!(pair.server_seen.closed(), None, "{label}");
        }
    }
}

macro_rules! combination_tests {
    ($($name:ident => $kex:ident,)*) => {$(
        #[test]
        fn $name() {
            every_combination_with(KexAlgorithm::$kex);
        }
    )*};
}

combination_tests! {
    every_combination_negotiates_with_mlkem768x25519 => MlKem768X25519Sha256,
    every_combination_negotiates_with_sntrup761x25519 => Sntrup761X25519Sha512,
    every_combination_negotiates_with_sntrup761x25519_openssh => Sntrup761X25519Sha512OpenSsh,
    every_combination_negotiates_with_curve25519 => Curve25519Sha256,
    every_combination_negotiates_with_curve25519_libssh => Curve25519Sha256LibSsh,
    every_combination_negotiates_with_ecdh_nistp256 => EcdhSha2Nistp256,
    every_combination_negotiates_with_ecdh_nistp384 => EcdhSha2Nistp384,
    every_combination_negotiates_with_ecdh_nistp521 => EcdhSha2Nistp521,
    every_combination_negotiates_with_dh_group_exchange => DhGexSha256,
    every_combination_negotiates_with_dh_group16 => DhGroup16Sha512,
    every_combination_negotiates_with_dh_group18 => DhGroup18Sha512,
    every_combination_negotiates_with_dh_group14_sha256 => DhGroup14Sha256,
    every_combination_negotiates_with_dh_group14_sha1 => DhGroup14Sha1,
}

fn curve25519_ed25519() -> ClientConfig {
    client_config(
        KexAlgorithm::Curve25519Sha256,
        SignatureAlgorithm::Ed25519,
        CipherAlgorithm::Chacha20Poly1305,
        None,
    )
}

fn run_transcript(seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        seed,
    );
    pair.handshake();
    pair.exchange_data(5, 5000, &mut SeededRandom::new(seed));
    pair.client.rekey(pair.now);
    pair.exchange_data(5, 5000, &mut SeededRandom::new(seed + 1));
    (
        pair.transcript(crate::sim::Side::Client).to_vec(),
        pair.transcript(crate::sim::Side::Server).to_vec(),
    )
}

#[test]
fn same_seed_gives_byte_identical_transcripts() {
    let first = run_transcript(42);
    let second = run_transcript(42);
    assert!(first.0.len() > 1000 && first.1.len() > 1000);
    assert_eq!(first, second);
    let other = run_transcript(43);
    assert_ne!(first.0, other.0);
}

#[test]
fn strict_kex_is_on_when_both_offer_it() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        1,
    );
    pair.handshake();
    assert!(pair.client.strict_kex() && pair.server.strict_kex());
}

#[test]
fn strict_kex_is_off_when_one_side_does_not_offer_it() {
    let transport = TransportConfig {
        strict_kex: false,
        ..TransportConfig::default()
    };
    let mut pair = Pair::seeded(curve25519_ed25519(), ed25519_server(transport), 1);
    pair.handshake();
    assert!(!pair.client.strict_kex() && !pair.server.strict_kex());
    pair.exchange_data(3, 100, &mut SeededRandom::new(1));
}

#[test]
fn client_learns_server_sig_algs_from_ext_info() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        2,
    );
    pair.handshake();
    let algs = pair.client.server_sig_algs().expect("EXT_INFO received");
    assert!(algs.iter().any(|a| a == "rsa-sha2-512"));
    assert!(algs.iter().any(|a| a == "ssh-ed25519"));
}

#[test]
fn peer_versions_are_exposed() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        3,
    );
    pair.handshake();
    assert_eq!(pair.client.peer_version(), Some(pair.server.our_version()));
    assert!(
        pair.server
            .peer_version()
            .is_some_and(|v| v.starts_with("SSH-2.0-sansh_"))
    );
    assert_eq!(pair.client.session_id(), pair.server.session_id());
}

#[test]
fn rekeys_by_bytes_and_keeps_data_intact() {
    let mut config = curve25519_ed25519();
    config.transport.rekey_after_bytes = Some(32 * 1024);
    let mut pair = Pair::seeded(config, ed25519_server(TransportConfig::default()), 4);
    pair.handshake();
    let mut rng = SeededRandom::new(4);
    for _ in 0..8 {
        pair.exchange_data(10, 8000, &mut rng);
    }
    assert!(
        pair.client.key_exchanges() >= 5,
        "rekeyed {} times",
        pair.client.key_exchanges()
    );
    assert_eq!(pair.client.key_exchanges(), pair.server.key_exchanges());
}

#[test]
fn outbound_traffic_alone_triggers_rekey_by_bytes() {
    // The server never answers IGNORE, so nothing comes back to the client: its byte
    // limit must be checked as it sends, not only as it receives.
    let mut config = curve25519_ed25519();
    config.transport.rekey_after_bytes = Some(32 * 1024);
    let mut pair = Pair::seeded(config, ed25519_server(TransportConfig::default()), 12);
    pair.handshake();
    for _ in 0..20 {
        pair.client.send_ignore(&[0; 8 * 1024]);
    }
    pair.drive();
    assert_eq!(pair.client_seen.closed(), None);
    assert!(
        pair.client.key_exchanges() >= 2,
        "rekeyed {} times",
        pair.client.key_exchanges() - 1
    );
    assert_eq!(pair.client.key_exchanges(), pair.server.key_exchanges());
}

#[test]
fn rekeys_by_time() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        5,
    );
    pair.handshake();
    let due = pair.client.poll_timeout().expect("rekey timer armed");
    assert!(due - pair.now >= Duration::from_secs(3599));
    pair.advance_to_next_timeout();
    pair.drive();
    assert_eq!(pair.client.key_exchanges(), 2);
    assert_eq!(pair.server.key_exchanges(), 2);
}

#[test]
fn data_sent_during_rekey_is_held_then_delivered() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        6,
    );
    pair.handshake();
    pair.client.rekey(pair.now);
    // Messages queued while our KEXINIT is outstanding.
    pair.exchange_data(20, 4000, &mut SeededRandom::new(6));
    assert_eq!(pair.client.key_exchanges(), 2);
}

#[test]
fn stalled_key_exchange_times_out() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        7,
    );
    // Deliver the server's bytes only: the client never hears back from... the server
    // never hears from the client, so neither can finish.
    let mut out = Vec::new();
    let _ = pair.client.poll_transmit(pair.now, &mut out);
    pair.advance(Duration::from_secs(121));
    pair.drive();
    assert_eq!(
        pair.client_seen.closed(),
        Some(&ConnectionError::TimedOut(TimerKind::KeyExchange))
    );
}

#[test]
fn rejected_host_key_ends_both_sides() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        8,
    );
    pair.options.accept_host_keys = false;
    pair.drive();
    let decision = pair
        .client_seen
        .events
        .iter()
        .position(|e| matches!(e, Event::HostKey(_)))
        .expect("host key event");
    let Event::HostKey(decision) = pair.client_seen.events.remove(decision) else {
        unreachable!()
    };
    let expected = crate::keys::PrivateKey::generate(
        crate::keys::KeyType::Ed25519,
        None,
        &mut SeededRandom::new(7),
    )
    .expect("same seed as ed25519_server")
    .public_key();
    assert_eq!(decision.key(), &expected);
    pair.client.reject_host_key(decision);
    pair.drive();
    assert_eq!(
        pair.client_seen.closed(),
        Some(&ConnectionError::HostKeyRejected)
    );
    assert!(matches!(
        pair.server_seen.closed(),
        Some(ConnectionError::PeerDisconnected {
            reason: DisconnectReason::HostKeyNotVerifiable,
            ..
        })
    ));
}

#[test]
fn dropped_host_key_decision_rejects() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        9,
    );
    pair.options.accept_host_keys = false;
    pair.drive();
    pair.client_seen
        .events
        .retain(|e| !matches!(e, Event::HostKey(_)));
    pair.drive();
    assert_eq!(
        pair.client_seen.closed(),
        Some(&ConnectionError::HostKeyRejected)
    );
}

#[test]
fn userauth_service_is_accepted() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        10,
    );
    pair.client.request_service("ssh-userauth");
    pair.handshake();
    let accepted = |seen: &Observed| {
        seen.events
            .iter()
            .any(|e| matches!(e, Event::ServiceAccepted(s) if s == "ssh-userauth"))
    };
    assert!(accepted(&pair.client_seen));
    assert!(accepted(&pair.server_seen));
}

#[test]
fn unknown_service_is_refused() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        11,
    );
    pair.client.request_service("ssh-connection");
    pair.drive();
    assert!(matches!(
        pair.client_seen.closed(),
        Some(ConnectionError::PeerDisconnected {
            reason: DisconnectReason::ServiceNotAvailable,
            ..
        })
    ));
}

#[test]
fn no_common_cipher_fails_both_sides() {
    let mut client = curve25519_ed25519();
    client.transport.algorithms.ciphers = vec![CipherAlgorithm::Aes192Ctr];
    let mut transport = TransportConfig::default();
    transport.algorithms.ciphers = vec![CipherAlgorithm::Aes128Gcm];
    let mut pair = Pair::seeded(client, ed25519_server(transport), 12);
    pair.drive();
    assert!(matches!(
        pair.client_seen.closed(),
        Some(ConnectionError::NoCommonAlgorithm {
            kind: AlgorithmKind::CipherClientToServer,
            ..
        })
    ));
    assert!(matches!(
        pair.server_seen.closed(),
        Some(ConnectionError::NoCommonAlgorithm { .. })
    ));
}

#[test]
fn debug_messages_reach_the_peer() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        13,
    );
    pair.handshake();
    pair.server.send_debug(true, "hello\x1b[31m");
    pair.drive();
    assert!(pair.client_seen.events.iter().any(|e| matches!(
        e,
        Event::Debug { always_display: true, message } if message == "hello[31m"
    )));
}

#[test]
fn disconnect_reaches_the_peer_with_its_reason() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        14,
    );
    pair.handshake();
    pair.client
        .disconnect(DisconnectReason::ByApplication, "bye");
    pair.drive();
    assert!(matches!(
        pair.client_seen.closed(),
        Some(ConnectionError::LocallyClosed(_))
    ));
    assert_eq!(
        pair.server_seen.closed(),
        Some(&ConnectionError::PeerDisconnected {
            reason: DisconnectReason::ByApplication,
            description: "bye".into()
        })
    );
}

fn compression_round_trip(algorithm: CompressionAlgorithm) {
    let mut client = curve25519_ed25519();
    client.transport.algorithms.compression = vec![algorithm];
    let mut transport = TransportConfig::default();
    transport.algorithms.compression = vec![CompressionAlgorithm::None, algorithm];
    let mut pair = Pair::seeded(client, ed25519_server(transport), 15);
    pair.handshake();
    let mut rng = SeededRandom::new(15);
    pair.exchange_data(5, 2000, &mut rng);
    // Authentication success switches delayed compression on.
    pair.server
        .transport_mut()
        .send_upper(&[crate::wire::msg::USERAUTH_SUCCESS]);
    pair.drive();
    assert_eq!(
        pair.client.transport_mut().poll_upper().as_deref(),
        Some(&[52u8][..])
    );
    pair.exchange_data(10, 20_000, &mut rng);
    pair.client.rekey(pair.now);
    pair.exchange_data(10, 20_000, &mut rng);
    assert_eq!(pair.client_seen.closed(), None);
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn zlib_compression_carries_data() {
    compression_round_trip(CompressionAlgorithm::Zlib);
}

#[test]
fn delayed_zlib_compression_starts_after_auth_success() {
    compression_round_trip(CompressionAlgorithm::ZlibOpenssh);
}

#[test]
fn server_initiated_rekey_completes() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        16,
    );
    pair.handshake();
    pair.server.rekey(pair.now);
    pair.exchange_data(5, 4000, &mut SeededRandom::new(16));
    assert_eq!(pair.client.key_exchanges(), 2);
    assert_eq!(pair.server.key_exchanges(), 2);
    assert_eq!(pair.client.session_id(), pair.server.session_id());
}

#[test]
fn simultaneous_rekeys_merge_into_one_exchange() {
    let mut pair = Pair::seeded(
        curve25519_ed25519(),
        ed25519_server(TransportConfig::default()),
        17,
    );
    pair.handshake();
    let session_id = pair.client.session_id().map(<[u8]>::to_vec);
    pair.client.rekey(pair.now);
    pair.server.rekey(pair.now);
    pair.exchange_data(5, 4000, &mut SeededRandom::new(17));
    assert_eq!(pair.client.key_exchanges(), 2);
    assert_eq!(pair.server.key_exchanges(), 2);
    assert_eq!(
        pair.client.session_id().map(<[u8]>::to_vec),
        session_id,
        "session id is fixed"
    );
}

#[test]
fn rekey_with_group_exchange_and_strict_kex_resets_sequence_numbers() {
    // Under strict kex every NEWKEYS resets the sequence numbers; a mismatch between
    // the sides would fail the MAC of the first packet after the rekey.
    let config = client_config(
        KexAlgorithm::DhGexSha256,
        SignatureAlgorithm::Ed25519,
        CipherAlgorithm::Aes128Ctr,
        Some(MacAlgorithm::HmacSha256),
    );
    let mut pair = Pair::seeded(config, all_host_keys_server(), 18);
    pair.handshake();
    assert!(pair.client.strict_kex());
    let mut rng = SeededRandom::new(18);
    pair.exchange_data(7, 1000, &mut rng);
    pair.client.rekey(pair.now);
    pair.exchange_data(7, 1000, &mut rng);
    assert_eq!(pair.server.key_exchanges(), 2);
    assert_eq!(pair.server_seen.closed(), None);
}

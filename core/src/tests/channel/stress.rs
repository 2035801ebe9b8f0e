//! Many channels at once with random write and delivery sizes, data across rekeys,
//! and determinism.

use super::*;
use crate::channel::WriteError;

/// FNV-1a, to compare megabytes without keeping two copies.
fn checksum(data: &[u8], mut hash: u64) -> u64 {
    for &b in data {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x100_0000_01b3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// One direction of one channel: what is left to write and what was read.
struct Stream {
    data: Vec<u8>,
    written: usize,
    read: usize,
    hash: u64,
}

impl Stream {
    fn new(seed: u64, len: usize) -> Self {
        Self {
            data: pattern(seed, len),
            written: 0,
            read: 0,
            hash: FNV_OFFSET,
        }
    }

    fn write(&mut self, channel: &mut crate::channel::Channel<'_>, rng: &mut SeededRandom) {
        while self.written < self.data.len() {
            let len = 1 + (rng.next_u64() % 70_000) as usize;
            let end = (self.written + len).min(self.data.len());
            match channel.write(&self.data[self.written..end]) {
                Ok(n) => self.written += n,
                Err(WriteError::Blocked) => return,
                Err(e) => panic!("write failed: {e}"),
            }
        }
    }

    fn read(&mut self, channel: &mut crate::channel::Channel<'_>) {
        while let Some(chunk) = channel.read() {
            self.hash = checksum(&chunk, self.hash);
            self.read += chunk.len();
        }
    }

    fn done(&self) -> bool {
        self.read == self.data.len()
    }

    fn intact(&self) -> bool {
        self.hash == checksum(&self.data, FNV_OFFSET)
    }
}

/// Opens `count` sessions and moves `len` bytes each way on each, interleaved, with
/// random write sizes and random delivery chunking; returns the pair afterwards.
fn move_data(mut pair: Pair, count: usize, len: usize, seed: u64) -> Pair {
    let ids: Vec<_> = (0..count).map(|_| open_session(&mut pair)).collect();
    let mut up: Vec<_> = (0..count)
        .map(|i| Stream::new(seed + i as u64, len))
        .collect();
    let mut down: Vec<_> = (0..count)
        .map(|i| Stream::new(seed + 1000 + i as u64, len))
        .collect();
    let mut rng = SeededRandom::new(seed);
    for _round in 0..100_000 {
        for (i, &(c, s)) in ids.iter().enumerate() {
            up[i].write(&mut pair.client.channel(c), &mut rng);
            down[i].write(&mut pair.server.channel(s), &mut rng);
        }
        pair.drive();
        for (i, &(c, s)) in ids.iter().enumerate() {
            up[i].read(&mut pair.server.channel(s));
            down[i].read(&mut pair.client.channel(c));
        }
        if up.iter().chain(&down).all(Stream::done) {
            assert!(
                up.iter().chain(&down).all(Stream::intact),
                "checksums match"
            );
            assert_eq!(pair.client_seen.closed(), None);
            assert_eq!(pair.server_seen.closed(), None);
            return pair;
        }
    }
    panic!("transfer did not finish");
}

#[test]
fn fifty_channels_move_a_mebibyte_each_way_intact() {
    let mut pair = move_data(connected(100), 50, 1024 * 1024, 100);
    assert_eq!(pair.client.channels().len(), 50);
}

#[test]
fn data_crosses_rekeys_intact() {
    let mut client = client_config(ConnectionConfig::default());
    client.transport.rekey_after_bytes = Some(256 * 1024);
    let mut pair = Pair::seeded(client, server_config(ConnectionConfig::default()), 101);
    pair.handshake();
    pair.client.mark_authenticated(pair.now);
    pair.server.mark_authenticated(pair.now);
    pair.drive();
    let pair = move_data(pair, 3, 1024 * 1024, 101);
    // Much of the data waits in the hold-back queue of one exchange, so rekeys are
    // fewer than bytes / limit; what matters is that several happened mid-transfer.
    assert!(
        pair.client.key_exchanges() >= 3,
        "{}",
        pair.client.key_exchanges()
    );
}

#[test]
fn a_rekey_with_a_tiny_hold_back_queue_loses_nothing() {
    let mut client = client_config(ConnectionConfig::default());
    client.transport.rekey_after_bytes = Some(64 * 1024);
    client.transport.limits.max_queued_during_kex = 4096;
    let mut transport = crate::config::TransportConfig::default();
    transport.limits.max_queued_during_kex = 4096;
    let server = server_config_with(transport, ConnectionConfig::default());
    let mut pair = Pair::seeded(client, server, 102);
    pair.handshake();
    pair.client.mark_authenticated(pair.now);
    pair.server.mark_authenticated(pair.now);
    pair.drive();
    let pair = move_data(pair, 4, 512 * 1024, 102);
    assert!(pair.client.key_exchanges() > 5);
}

#[test]
fn the_same_seed_gives_identical_channel_transcripts() {
    let run = || {
        // Post-quantum key exchanges draw from aws-lc's own generator; X25519 does not.
        let mut client = client_config(ConnectionConfig::default());
        client.transport.algorithms.kex = vec![crate::kex::KexAlgorithm::Curve25519Sha256];
        let mut pair = Pair::seeded(client, server_config(ConnectionConfig::default()), 103);
        pair.handshake();
        pair.client.mark_authenticated(pair.now);
        pair.server.mark_authenticated(pair.now);
        let pair = move_data(pair, 3, 100_000, 103);
        (
            pair.transcript(crate::sim::Side::Client).to_vec(),
            pair.transcript(crate::sim::Side::Server).to_vec(),
        )
    };
    assert!(run() == run());
}

#[test]
fn messages_held_back_in_a_rekey_are_not_overtaken_after_our_newkeys() {
    let mut transport = crate::config::TransportConfig::default();
    transport.limits.max_queued_during_kex = 2048;
    let mut client = client_config(ConnectionConfig::default());
    client.transport = transport.clone();
    let server = server_config_with(transport, ConnectionConfig::default());
    let mut pair = Pair::seeded(client, server, 104);
    pair.handshake();
    pair.client.mark_authenticated(pair.now);
    pair.server.mark_authenticated(pair.now);
    pair.drive();
    let c = pair.client.channels().open_session().unwrap();
    pair.drive();
    let decision = open_requests(&mut pair.server_seen).remove(0);
    // The server starts a rekey: its confirmation is held back, and the data that
    // follows does not fit the hold-back queue, so it waits in the channel.
    pair.server.rekey(pair.now);
    let s = pair.server.channels().accept_open(decision).unwrap();
    let data = pattern(104, 4000);
    assert_eq!(pair.server.channel(s).write(&data), Ok(4000));
    assert_eq!(pair.server.channel(s).queued(), 4000);
    // The server sends NEWKEYS before the client's arrives; the waiting data must
    // still go out after the confirmation.
    pair.drive();
    assert_eq!(pair.client_seen.closed(), None);
    assert_eq!(pair.server.key_exchanges(), 2);
    assert_eq!(read_all(&mut pair.client, c), data);
}

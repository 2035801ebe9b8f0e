//! Random sequences of channel operations on both sides, with messages crossing in
//! flight: our two engines must never accuse each other of a protocol violation,
//! data must arrive as a prefix of what was written (all of it unless a close cut
//! it short), and every channel must end freed on both sides.

use std::collections::BTreeMap;

use super::*;
use crate::channel::ChannelRequest;

/// What one direction of a channel carried.
#[derive(Default)]
struct Flow {
    sent: Vec<u8>,
    received: Vec<u8>,
}

#[derive(Default)]
struct Link {
    server: Option<ChannelId>,
    up: Flow,
    down: Flow,
    /// Someone called close(): data may legitimately stop short.
    closed: bool,
}

struct Chaos {
    pair: Pair,
    rng: SeededRandom,
    links: BTreeMap<ChannelId, Link>,
    /// Client ids in the order their opens reach the server.
    opening: std::collections::VecDeque<ChannelId>,
    held: Vec<crate::channel::ChannelRequestDecision>,
}

impl Chaos {
    fn pick(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n
    }

    fn some_link(&mut self) -> Option<ChannelId> {
        if self.links.is_empty() {
            return None;
        }
        let i = self.pick(self.links.len() as u64) as usize;
        self.links.keys().nth(i).copied()
    }

    fn handle_events(&mut self) {
        for decision in open_requests(&mut self.pair.server_seen) {
            let client = self.opening.pop_front().expect("an open in flight");
            let server = self.pair.server.channels().accept_open(decision).unwrap();
            if let Some(link) = self.links.get_mut(&client) {
                link.server = Some(server);
            }
        }
        // The server's requests (exit-status) want no reply.
        drop(channel_requests(&mut self.pair.client_seen));
        for decision in channel_requests(&mut self.pair.server_seen) {
            match self.pick(4) {
                0 => self.pair.server.channels().accept_request(decision),
                1 => self.pair.server.channels().reject_request(decision),
                2 => drop(decision),
                _ => self.held.push(decision),
            }
        }
        if self.pick(5) == 0 {
            self.held.clear();
        }
        self.pair
            .client_seen
            .events
            .retain(|e| !matches!(e, Event::ChannelOpened(_)));
        assert_eq!(self.pair.client_seen.closed(), None, "client closed");
        assert_eq!(self.pair.server_seen.closed(), None, "server closed");
    }

    fn read(&mut self, id: ChannelId) {
        let link = self.links.get_mut(&id).expect("link");
        link.down
            .received
            .extend(read_all(&mut self.pair.client, id));
        if let Some(s) = link.server {
            link.up.received.extend(read_all(&mut self.pair.server, s));
        }
    }

    fn operate(&mut self) {
        let Some(id) = self.some_link() else {
            return self.open();
        };
        let from_server = self.pick(2) == 0;
        let server_id = self.links[&id].server;
        if from_server && server_id.is_none() {
            return;
        }
        match self.pick(40) {
            0..=2 => self.open(),
            3..=16 => {
                let len = 1 + self.pick(40_000) as usize;
                let data = pattern(self.rng.next_u64(), len);
                let written = match (from_server, server_id) {
                    (true, Some(s)) => self.pair.server.channel(s).write(&data),
                    _ => self.pair.client.channel(id).write(&data),
                };
                if let Ok(n) = written {
                    let link = self.links.get_mut(&id).expect("link");
                    let flow = if from_server {
                        &mut link.down
                    } else {
                        &mut link.up
                    };
                    flow.sent.extend_from_slice(&data[..n]);
                }
            }
            17..=24 => self.read(id),
            25 => {
                let _ = match (from_server, server_id) {
                    (true, Some(s)) => self.pair.server.channel(s).eof(),
                    _ => self.pair.client.channel(id).eof(),
                };
            }
            26 => {
                // Read first: close() gives up what is still buffered.
                self.read(id);
                self.links.get_mut(&id).expect("link").closed = true;
                let _ = match (from_server, server_id) {
                    (true, Some(s)) => self.pair.server.channel(s).close(),
                    _ => self.pair.client.channel(id).close(),
                };
            }
            27..=29 => {
                let _ = match (from_server, server_id) {
                    (true, Some(s)) => self.pair.server.channel(s).exit_status(1),
                    _ => self
                        .pair
                        .client
                        .channel(id)
                        .request(&ChannelRequest::Shell, true),
                };
            }
            _ => {
                let rounds = self.pick(6);
                for _ in 0..rounds {
                    self.pair.round();
                    self.handle_events();
                }
            }
        }
    }

    fn open(&mut self) {
        if self.links.values().filter(|l| !l.closed).count() < 8 {
            let id = self.pair.client.channels().open_session().unwrap();
            self.links.insert(id, Link::default());
            self.opening.push_back(id);
        }
    }

    /// Every byte that arrived is one that was written, in order.
    fn check_prefixes(&self) {
        for (id, link) in &self.links {
            for (flow, dir) in [(&link.up, "up"), (&link.down, "down")] {
                assert!(
                    flow.sent.starts_with(&flow.received),
                    "{id} {dir}: received bytes diverge from those sent"
                );
            }
        }
    }

    /// Drives and reads until nothing moves.
    fn settle(&mut self) {
        for _ in 0..1000 {
            self.pair.drive();
            self.handle_events();
            let ids: Vec<_> = self.links.keys().copied().collect();
            for id in ids {
                self.read(id);
            }
            if !self.pair.round() {
                self.pair.drive();
                if self.pair.in_flight() == 0 {
                    return;
                }
            }
        }
    }
}

/// A pair that rekeys every 32 KiB and holds back at most 2 KiB during a key
/// exchange, so the transport refuses messages often.
fn tight(seed: u64) -> Pair {
    let mut transport = crate::config::TransportConfig {
        rekey_after_bytes: Some(32 * 1024),
        ..Default::default()
    };
    transport.limits.max_queued_during_kex = 2048;
    let mut client = client_config(ConnectionConfig::default());
    client.transport = transport.clone();
    let server = server_config_with(transport, ConnectionConfig::default());
    let mut pair = Pair::seeded(client, server, seed);
    pair.handshake();
    pair.client.mark_authenticated(pair.now);
    pair.server.mark_authenticated(pair.now);
    pair.drive();
    pair.client_seen.events.clear();
    pair.server_seen.events.clear();
    pair
}

fn run(seed: u64, pair: Pair) {
    let mut chaos = Chaos {
        pair,
        rng: SeededRandom::new(seed),
        links: BTreeMap::new(),
        opening: Default::default(),
        held: Vec::new(),
    };
    for _ in 0..2000 {
        chaos.operate();
        chaos.check_prefixes();
    }
    chaos.held.clear();
    chaos.settle();
    chaos.check_prefixes();
    let moved: usize = chaos
        .links
        .values()
        .map(|l| l.up.received.len() + l.down.received.len())
        .sum();
    let closed = chaos.links.values().filter(|l| l.closed).count();
    assert!(
        closed > 5 && chaos.links.len() > closed,
        "both endings exercised"
    );
    assert!(moved > 1_000_000, "data moved: {moved}");
    for (id, link) in &chaos.links {
        if !link.closed {
            assert_eq!(
                link.up.received.len(),
                link.up.sent.len(),
                "{id} up complete"
            );
            assert_eq!(
                link.down.received.len(),
                link.down.sent.len(),
                "{id} down complete"
            );
        }
    }
    let ids: Vec<_> = chaos.links.keys().copied().collect();
    for id in ids {
        let _ = chaos.pair.client.channel(id).close();
    }
    chaos.settle();
    assert_eq!(
        chaos.pair.client.channels().len(),
        0,
        "client freed every channel"
    );
    assert_eq!(
        chaos.pair.server.channels().len(),
        0,
        "server freed every channel"
    );
}

#[test]
fn random_operation_sequences_never_break_the_protocol() {
    for seed in 0..6 {
        run(500 + seed, connected(500 + seed));
    }
}

#[test]
fn random_operation_sequences_survive_rekeys_with_a_tiny_hold_back_queue() {
    for seed in 0..3 {
        let pair = tight(600 + seed);
        run(600 + seed, pair);
    }
}

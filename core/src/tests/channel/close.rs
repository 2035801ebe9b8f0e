//! EOF and CLOSE orderings (RFC 4254 §5.3): nothing written before them is lost.

use super::*;
use crate::channel::{ChannelError, WriteError};

fn client_window(window: u32) -> ConnectionConfig {
    ConnectionConfig {
        window_size: window,
        ..ConnectionConfig::default()
    }
}

/// Reads on the client and drives until `done` holds, returning what was read.
fn read_until(pair: &mut Pair, c: ChannelId, done: impl Fn(&Observed) -> bool) -> Vec<u8> {
    let mut got = Vec::new();
    for _ in 0..1000 {
        got.extend(read_all(&mut pair.client, c));
        pair.drive();
        if done(&pair.client_seen) {
            got.extend(read_all(&mut pair.client, c));
            return got;
        }
    }
    panic!("never finished");
}

fn eof_seen(id: ChannelId) -> impl Fn(&Observed) -> bool {
    move |seen| saw(seen, |e| matches!(e, Event::ChannelEof(x) if *x == id))
}

fn closed_seen(id: ChannelId) -> impl Fn(&Observed) -> bool {
    move |seen| saw(seen, |e| matches!(e, Event::ChannelClosed(x) if *x == id))
}

#[test]
fn eof_is_sent_only_after_the_data_queued_before_it() {
    let mut pair = connected_with(client_window(64 * 1024), ConnectionConfig::default(), 20);
    let (c, s) = open_session(&mut pair);
    let data = pattern(20, 300_000);
    assert_eq!(pair.server.channel(s).write(&data), Ok(data.len()));
    pair.server.channel(s).eof().unwrap();
    pair.drive();
    assert!(!eof_seen(c)(&pair.client_seen), "EOF waits behind the data");
    let got = read_until(&mut pair, c, eof_seen(c));
    assert_eq!(got, data);
    assert!(pair.client.channel(c).peer_eof());
    assert!(
        pair.client.channel(c).is_open(),
        "EOF leaves the channel open"
    );
}

#[test]
fn writing_after_eof_is_refused_but_the_other_direction_goes_on() {
    let mut pair = connected(21);
    let (c, s) = open_session(&mut pair);
    pair.client.channel(c).eof().unwrap();
    assert_eq!(
        pair.client.channel(c).write(b"x"),
        Err(WriteError::Finished)
    );
    pair.drive();
    assert!(saw(
        &pair.server_seen,
        |e| matches!(e, Event::ChannelEof(x) if *x == s)
    ));
    pair.server.channel(s).write(b"reply").unwrap();
    pair.drive();
    assert_eq!(read_all(&mut pair.client, c), b"reply");
}

#[test]
fn close_while_data_is_queued_delivers_every_byte_first() {
    let mut pair = connected_with(client_window(64 * 1024), ConnectionConfig::default(), 22);
    let (c, s) = open_session(&mut pair);
    let data = pattern(22, 500_000);
    assert_eq!(pair.server.channel(s).write(&data), Ok(data.len()));
    pair.server.channel(s).close().unwrap();
    assert_eq!(pair.server.channel(s).write(b"x"), Err(WriteError::Closed));
    pair.drive();
    assert!(!closed_seen(c)(&pair.client_seen));
    let got = read_until(&mut pair, c, closed_seen(c));
    assert_eq!(got.len(), data.len());
    assert_eq!(got, data);
    assert!(eof_seen(c)(&pair.client_seen), "EOF came before CLOSE");
    assert!(saw(
        &pair.server_seen,
        |e| matches!(e, Event::ChannelClosed(x) if *x == s)
    ));
    assert_eq!(pair.server.channels().len(), 0);
    assert_eq!(pair.client.channels().len(), 0);
}

#[test]
fn both_sides_closing_at_once_completes_the_handshake() {
    let mut pair = connected(23);
    let (c, s) = open_session(&mut pair);
    pair.client.channel(c).close().unwrap();
    pair.server.channel(s).close().unwrap();
    pair.drive();
    assert!(closed_seen(c)(&pair.client_seen));
    assert!(saw(
        &pair.server_seen,
        |e| matches!(e, Event::ChannelClosed(x) if *x == s)
    ));
    assert_eq!(pair.client.channels().len(), 0);
    assert_eq!(pair.server.channels().len(), 0);
    assert_eq!(pair.client_seen.closed(), None);
    assert_eq!(pair.server_seen.closed(), None);
}

#[test]
fn peer_closing_first_is_answered_and_frees_the_channel() {
    let mut pair = connected(24);
    let (c, s) = open_session(&mut pair);
    pair.server.channel(s).close().unwrap();
    pair.drive();
    assert!(closed_seen(c)(&pair.client_seen));
    assert!(saw(
        &pair.server_seen,
        |e| matches!(e, Event::ChannelClosed(x) if *x == s)
    ));
    assert_eq!(pair.client.channels().len(), 0);
    assert_eq!(
        pair.client.channel(c).write(b"late"),
        Err(WriteError::Closed)
    );
    assert_eq!(pair.client.channel(c).eof(), Err(ChannelError::Closed));
    assert_eq!(
        pair.client.channel(c).request_shell(false),
        Err(ChannelError::Closed)
    );
}

#[test]
fn our_queued_data_is_dropped_when_the_peer_closes_first() {
    let mut pair = connected_with(ConnectionConfig::default(), client_window(16 * 1024), 25);
    let (c, s) = open_session(&mut pair);
    pair.client.channel(c).write(&pattern(25, 100_000)).unwrap();
    pair.drive();
    assert!(pair.client.channel(c).queued() > 0);
    pair.server.channel(s).close().unwrap();
    pair.drive();
    assert!(closed_seen(c)(&pair.client_seen));
    assert_eq!(pair.client.channels().len(), 0);
    assert_eq!(pair.client_seen.closed(), None);
}

#[test]
fn data_buffered_at_close_stays_readable_until_read() {
    let mut pair = connected(26);
    let (c, s) = open_session(&mut pair);
    pair.server.channel(s).write(b"last words").unwrap();
    pair.server.channel(s).close().unwrap();
    pair.drive();
    assert!(closed_seen(c)(&pair.client_seen));
    assert_eq!(pair.client.channels().len(), 1, "kept for the unread data");
    assert_eq!(read_all(&mut pair.client, c), b"last words");
    assert_eq!(pair.client.channels().len(), 0, "freed once read");
}

#[test]
fn closing_drops_what_we_had_not_read() {
    let mut pair = connected(27);
    let (c, s) = open_session(&mut pair);
    pair.server.channel(s).write(b"unread").unwrap();
    pair.drive();
    pair.client.channel(c).close().unwrap();
    assert_eq!(pair.client.channel(c).read(), None);
    pair.drive();
    assert_eq!(pair.client.channels().len(), 0);
}

#[test]
fn close_before_confirmation_is_sent_after_it() {
    let mut pair = connected(28);
    let c = pair.client.channels().open_session().unwrap();
    pair.client.channel(c).write(b"before close").unwrap();
    pair.client.channel(c).close().unwrap();
    pair.drive();
    let decision = open_requests(&mut pair.server_seen).remove(0);
    let s = pair.server.channels().accept_open(decision).unwrap();
    pair.drive();
    assert_eq!(read_all(&mut pair.server, s), b"before close");
    assert!(saw(
        &pair.server_seen,
        |e| matches!(e, Event::ChannelClosed(x) if *x == s)
    ));
    assert!(closed_seen(c)(&pair.client_seen));
    assert_eq!(pair.client.channels().len(), 0);
}

#[test]
fn channel_numbers_are_not_reused_right_away() {
    let mut pair = connected(29);
    let (c1, _) = open_session(&mut pair);
    pair.client.channel(c1).close().unwrap();
    pair.drive();
    let (c2, _) = open_session(&mut pair);
    assert_ne!(c1, c2);
    assert_eq!(
        pair.client.channel(c1).write(b"stale"),
        Err(WriteError::Closed)
    );
}

//! The shared address loop of the runtime crates' `connect`.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::executor::TestRuntime;
use crate::driver::ConnectError;
use crate::driver::connect::{dial, interleave_families};

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter().map(|a| a.parse().unwrap()).collect()
}

#[test]
fn addresses_alternate_families_starting_with_the_resolvers_first() {
    let resolved = addrs(&[
        "[::1]:22",
        "[::2]:22",
        "[::3]:22",
        "10.0.0.1:22",
        "10.0.0.2:22",
    ]);
    let expected = addrs(&[
        "[::1]:22",
        "10.0.0.1:22",
        "[::2]:22",
        "10.0.0.2:22",
        "[::3]:22",
    ]);
    assert_eq!(interleave_families(resolved), expected);
}

#[test]
fn dial_moves_on_to_the_next_address_after_a_refusal() {
    let rt = TestRuntime::new();
    let result = rt.block_on(dial(
        &rt,
        Duration::from_secs(5),
        async { Ok(addrs(&["[::1]:22", "127.0.0.1:22"])) },
        |addr| async move {
            if addr.is_ipv6() {
                Err(io::Error::from(io::ErrorKind::ConnectionRefused))
            } else {
                Ok(addr)
            }
        },
    ));
    assert_eq!(result.unwrap(), "127.0.0.1:22".parse().unwrap());
}

#[test]
fn dial_gives_up_on_a_silent_address_after_the_timeout() {
    let rt = TestRuntime::new();
    let result: Result<(), _> = rt.block_on(dial(
        &rt,
        Duration::from_secs(5),
        async { Ok(addrs(&["192.0.2.1:22"])) },
        |_| std::future::pending(),
    ));
    assert!(matches!(result, Err(ConnectError::TimedOut(t)) if t == Duration::from_secs(5)));
    assert_eq!(rt.elapsed(), Duration::from_secs(5));
}

#[test]
fn dial_reports_a_name_without_addresses() {
    let rt = TestRuntime::new();
    let result: Result<(), _> = rt.block_on(dial(
        &rt,
        Duration::from_secs(5),
        async { Ok(Vec::new()) },
        |_| async { Ok(()) },
    ));
    assert!(matches!(result, Err(ConnectError::NoAddress)));
}

//! Group exchange against hostile servers and clients.

use super::*;
use crate::crypto::SeededRandom;
use crate::kex::*;
use crate::wire::{Writer, msg};

fn gex_group(p: &[u8], g: &[u8]) -> Vec<u8> {
    let mut out = vec![msg::KEX_DH_GEX_GROUP];
    out.put_mpint_unsigned(p);
    out.put_mpint_unsigned(g);
    out
}

#[test]
fn gex_client_rejects_a_prime_larger_than_its_maximum() {
    let (mut c, _) = client(KexAlgorithm::DhGexSha256);
    let mut p = vec![0xff; 1025]; // 8200 bits
    if let Some(last) = p.last_mut() {
        *last = 0xfd;
    }
    assert_eq!(
        client_result(&mut c, &gex_group(&p, &[2])),
        Err(KexError::GroupOutOfRange {
            bits: 8200,
            min: 2048,
            max: 8192
        })
    );
}

#[test]
fn gex_client_rejects_a_prime_smaller_than_its_minimum() {
    let (mut c, _) = client(KexAlgorithm::DhGexSha256);
    let p = &groups::GROUP14.prime[..128]; // 1024 bits, odd
    assert_eq!(
        client_result(&mut c, &gex_group(p, &[2])),
        Err(KexError::GroupOutOfRange {
            bits: 1024,
            min: 2048,
            max: 8192
        })
    );
}

#[test]
fn gex_client_rejects_an_even_prime_and_degenerate_generators() {
    let p = groups::GROUP14.prime;
    let (p_minus_1, _) = group14_p_minus_1_and_p();
    let cases: [(Vec<u8>, Vec<u8>); 4] = [
        (p_minus_1.clone(), vec![2]),
        (p.to_vec(), vec![1]),
        (p.to_vec(), vec![]),
        (p.to_vec(), p_minus_1),
    ];
    for (p, g) in cases {
        let (mut c, _) = client(KexAlgorithm::DhGexSha256);
        assert!(
            matches!(
                client_result(&mut c, &gex_group(&p, &g)),
                Err(KexError::InvalidGroup(_))
            ),
            "g = {g:02x?}"
        );
    }
}

#[test]
fn gex_client_rejects_f_of_1_from_the_server() {
    let (mut c, _) = client(KexAlgorithm::DhGexSha256);
    let step = c
        .handle(
            &gex_group(groups::GROUP14.prime, &[2]),
            &mut SeededRandom::new(3),
        )
        .expect("group accepted");
    assert!(matches!(step, ClientKexStep::Send(ref init) if init[0] == msg::KEX_DH_GEX_INIT));
    assert!(matches!(
        client_result(&mut c, &reply_with_mpint(msg::KEX_DH_GEX_REPLY, &[1])),
        Err(KexError::InvalidPublicValue { .. })
    ));
}

#[test]
fn gex_server_rejects_min_greater_than_max() {
    let mut request = vec![msg::KEX_DH_GEX_REQUEST];
    for v in [4096u32, 4096, 2048] {
        request.put_u32(v);
    }
    assert_eq!(
        server_result(KexAlgorithm::DhGexSha256, &request),
        Err(KexError::GexRequestOutOfRange {
            min: 4096,
            preferred: 4096,
            max: 2048
        })
    );
}

#[test]
fn gex_server_rejects_e_out_of_range_after_sending_the_group() {
    let mut server = ServerKex::new(KexAlgorithm::DhGexSha256);
    let (_, request) = client(KexAlgorithm::DhGexSha256);
    assert!(matches!(
        server.handle(&request, &mut SeededRandom::new(1)),
        Ok(ServerKexStep::Send(_))
    ));
    assert!(matches!(
        server.handle(
            &init_with_mpint(msg::KEX_DH_GEX_INIT, &[1]),
            &mut SeededRandom::new(1)
        ),
        Err(KexError::InvalidPublicValue {
            what: "DH public value e",
            ..
        })
    ));
}

#[test]
fn gex_client_with_a_small_request_gets_the_smallest_group() {
    let request = GexRequest {
        min: 2048,
        preferred: 2048,
        max: 3072,
    };
    let mut rng = SeededRandom::new(4);
    let (mut c, first) =
        ClientKex::start(KexAlgorithm::DhGexSha256, request, &mut rng).expect("start");
    let mut server = ServerKex::new(KexAlgorithm::DhGexSha256);
    let ServerKexStep::Send(group) = server.handle(&first, &mut rng).expect("group") else {
        panic!("group expected");
    };
    assert_eq!(group, gex_group(groups::GROUP14.prime, &[2]));
    assert!(matches!(
        c.handle(&group, &mut rng),
        Ok(ClientKexStep::Send(_))
    ));
}

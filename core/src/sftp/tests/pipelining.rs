//! Many requests in flight: responses in any order, large pipelined transfers, and
//! the caps on both sides.

use std::collections::HashMap;

use super::pair::*;
use crate::crypto::{SecureRandom, SeededRandom};
use crate::sftp::{
    ClientConfig, ClientEvent, FileAttributes, MemoryFs, OpenFlags, Reply, Request, RequestError,
    RequestId, ServerConfig,
};

#[test]
fn responses_in_random_order_are_matched_to_their_requests() {
    let mut pair = SftpPair::ready(60);
    for i in 0..200u64 {
        pair.backend
            .write_file(&format!("/f{i}"), &vec![0; i as usize])
            .unwrap();
    }
    pair.answer = Answer::Shuffled;
    let ids: Vec<(RequestId, u64)> = (0..200u64)
        .map(|i| (pair.client.stat(format!("/f{i}")).unwrap(), i))
        .collect();
    assert_eq!(pair.client.in_flight(), 200);
    pair.drive();
    let order: Vec<RequestId> = pair
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Response { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_ne!(
        order,
        ids.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        "answers were not reordered"
    );
    for (id, size) in ids {
        assert_eq!(attrs_of(pair.take_response(id)).size, Some(size));
    }
    assert_eq!(pair.client.in_flight(), 0);
}

fn transfer(seed: u64, len: usize, block: usize, depth: usize) {
    let mut pair = SftpPair::ready(seed);
    pair.answer = Answer::Shuffled;
    let mut content = vec![0u8; len];
    SeededRandom::new(seed).fill(&mut content);

    let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    let h = handle_of(pair.call(|c| c.open("/big", flags, &FileAttributes::default())));
    let mut offset = 0;
    while offset < len {
        while pair.client.in_flight() < depth && offset < len {
            let end = (offset + block).min(len);
            pair.client
                .write(&h, offset as u64, &content[offset..end])
                .unwrap();
            offset = end;
        }
        pair.drive();
        for event in pair.client_events.drain(..) {
            assert!(
                matches!(
                    event,
                    ClientEvent::Response {
                        result: Ok(Reply::Ok),
                        ..
                    }
                ),
                "{event:?}"
            );
        }
    }
    assert_eq!(pair.call(|c| c.close_handle(&h)), Ok(Reply::Ok));
    assert_eq!(pair.backend.read_file("/big").unwrap(), content);

    let h = handle_of(pair.call(|c| c.open("/big", OpenFlags::READ, &FileAttributes::default())));
    let mut back = vec![0u8; len];
    let mut asked: HashMap<RequestId, usize> = HashMap::new();
    let mut offset = 0;
    let mut received = 0;
    while received < len {
        while pair.client.in_flight() < depth && offset < len {
            let id = pair.client.read(&h, offset as u64, block as u32).unwrap();
            asked.insert(id, offset);
            offset += block;
        }
        pair.drive();
        for event in pair.client_events.drain(..) {
            let ClientEvent::Response { id, result } = event else {
                panic!("{event:?}");
            };
            let data = data_of(result);
            let at = asked.remove(&id).unwrap();
            back[at..at + data.len()].copy_from_slice(&data);
            received += data.len();
        }
    }
    assert_eq!(back, content);
}

#[test]
fn a_four_mebibyte_file_survives_a_pipelined_write_and_read() {
    transfer(61, 4 << 20, 255 * 1024, 64);
}

#[test]
fn small_blocks_deep_pipelines_and_odd_sizes_transfer_intact() {
    transfer(62, 1_000_003, 4093, 256);
}

#[test]
fn the_client_refuses_requests_beyond_its_in_flight_cap() {
    let client = ClientConfig {
        max_in_flight: 4,
        ..ClientConfig::default()
    };
    let mut pair = SftpPair::with(client, ServerConfig::default(), MemoryFs::new(), 63);
    pair.expect_ready();
    pair.answer = Answer::Hold;
    for _ in 0..4 {
        pair.client.stat("/").unwrap();
    }
    assert_eq!(pair.client.capacity(), 0);
    assert_eq!(
        pair.client.stat("/"),
        Err(RequestError::TooManyInFlight { limit: 4 })
    );
    pair.drive();
    let (id, request) = pair.held.remove(0);
    let result = pair.backend_dispatch(request);
    pair.server.respond(id, result).unwrap();
    pair.drive();
    assert_eq!(pair.client.capacity(), 1);
    assert!(pair.client.stat("/").is_ok());
}

#[test]
fn the_server_stops_parsing_at_its_outstanding_cap_and_resumes_after_responses() {
    let server = ServerConfig {
        max_outstanding: 2,
        ..ServerConfig::default()
    };
    let mut pair = SftpPair::with(ClientConfig::default(), server, MemoryFs::new(), 64);
    pair.expect_ready();
    pair.answer = Answer::Hold;
    let ids: Vec<RequestId> = (0..5).map(|_| pair.client.stat("/").unwrap()).collect();
    pair.drive();
    assert_eq!(pair.held.len(), 2);
    assert_eq!(pair.server.outstanding(), 2);
    assert!(!pair.server.wants_input());
    while pair.client.in_flight() > 0 {
        for (id, request) in std::mem::take(&mut pair.held) {
            let result = pair.backend_dispatch(request);
            pair.server.respond(id, result).unwrap();
        }
        pair.drive();
    }
    for id in ids {
        assert!(matches!(pair.take_response(id), Ok(Reply::Attrs(_))));
    }
}

impl SftpPair {
    fn backend_dispatch(
        &mut self,
        request: crate::sftp::Request,
    ) -> Result<Reply, crate::sftp::SftpError> {
        crate::sftp::Backend::dispatch(&mut self.backend, request)
    }
}

#[test]
fn the_same_seed_gives_the_same_events_in_the_same_order() {
    let run = || {
        let mut pair = SftpPair::ready(65);
        pair.answer = Answer::Shuffled;
        for i in 0..20 {
            pair.client
                .mkdir(format!("/d{i}"), &FileAttributes::default())
                .unwrap();
            pair.client.stat(format!("/d{}", i / 2)).unwrap();
        }
        pair.drive();
        format!("{:?}", pair.client_events)
    };
    assert_eq!(run(), run());
}

#[test]
fn large_write_data_is_handed_out_uncopied_in_order() {
    // Two clients in the same state: one drained as one buffer, one vectored.
    let mut flat = SftpPair::ready(61);
    let mut vectored = SftpPair::ready(61);
    let flags = OpenFlags::WRITE | OpenFlags::CREATE;
    let open = |pair: &mut SftpPair| {
        handle_of(pair.call(|c| c.open("/f", flags, &FileAttributes::default())))
    };
    let (h, h2) = (open(&mut flat), open(&mut vectored));
    assert_eq!(h, h2);
    let big = bytes::Bytes::from(vec![7u8; 64 * 1024]);
    let small = bytes::Bytes::from_static(b"tail");
    let requests = [
        Request::Write {
            handle: h.clone(),
            offset: 0,
            data: big.clone(),
        },
        Request::Stat {
            path: b"/f".to_vec(),
        },
        Request::Write {
            handle: h.clone(),
            offset: 70_000,
            data: small,
        },
        Request::Write {
            handle: h.clone(),
            offset: 1 << 20,
            data: big.clone(),
        },
    ];
    for request in &requests {
        flat.client.send(request).unwrap();
        vectored.client.send(request).unwrap();
    }
    let mut expected = Vec::new();
    let _ = flat.client.poll_transmit(&mut expected);

    let mut joined = Vec::new();
    let mut uncopied = 0;
    loop {
        let mut wire = Vec::new();
        let data = vectored.client.poll_transmit_vectored(&mut wire);
        joined.extend_from_slice(&wire);
        let Some(data) = data else { break };
        assert_eq!(
            data.as_ptr(),
            big.as_ptr(),
            "the caller's bytes, not a copy"
        );
        joined.extend_from_slice(&data);
        uncopied += 1;
    }
    assert_eq!(uncopied, 2, "the small write goes with its header");
    assert_eq!(joined, expected);

    // The server takes the vectored output like any other.
    vectored.to_server.extend_from_slice(&joined);
    vectored.drive();
    assert_eq!(
        vectored.backend.read_file("/f").unwrap().len(),
        (1 << 20) + big.len()
    );
}

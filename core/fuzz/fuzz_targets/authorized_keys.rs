//! `AuthorizedKeys::parse` on arbitrary text, then `authorize` for a key on record, a
//! fixed key and the fixed user certificate, with a user, address and host name taken
//! from the input; `KeyOptions::parse` and the `host_pattern` matchers on input text.
//! Never a panic, and the answers agree with the file: an accepted key is held by the
//! accepting line without `cert-authority`, an accepted certificate's CA by a
//! `cert-authority` line, and refusals name only lines holding the key; a pattern
//! matches itself.
//!
//! Input: the file, a NUL, then the query: an entry index byte, an address family byte
//! (even: IPv4), 16 address bytes, then `\n`-separated user, client host name, options
//! field, pattern list and text to match.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use sansh_core::authorized_keys::{AuthorizationRequest, AuthorizedKeys, KeyOptions, PresentedKey};
use sansh_core::host_pattern::{self, ListMatch};
use sansh_core_fuzz::fixtures::{self, Query};
use sansh_core_fuzz::{parser_seeds, seeds};

fuzz_target!(init: seeds::export_if_requested(parser_seeds::authorized_keys_seeds), |data: &[u8]| {
    let (file, query) = fixtures::split_file_and_query(data);
    let keys = AuthorizedKeys::parse(&file);
    for invalid in keys.invalid_lines() {
        let _ = invalid.to_string();
    }

    let mut query = Query::new(query);
    let index = usize::from(query.u8());
    let family = query.u8();
    let octets: [u8; 16] = query.array();
    let address = if family.is_multiple_of(2) {
        IpAddr::V4(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]))
    } else {
        IpAddr::V6(Ipv6Addr::from(octets))
    };
    let user = query.line();
    let client_host = query.line();
    let options = query.line();
    let pattern = query.line();
    let text = query.line();

    let f = fixtures::fixtures();
    let on_record = keys
        .entries()
        .get(index % keys.entries().len().max(1))
        .map(|e| e.key.clone());
    let fixed = f.user_key.public_key();
    let mut presented: Vec<PresentedKey<'_>> = on_record.iter().map(PresentedKey::Key).collect();
    presented.push(PresentedKey::Key(&fixed));
    presented.push(PresentedKey::Certificate(&f.user_cert));
    for key in presented {
        let mut request = AuthorizationRequest::new(&user, key, address, fixtures::now());
        authorize(&keys, &request);
        request = request.client_host(&client_host);
        authorize(&keys, &request);
    }

    if let Ok(parsed) = KeyOptions::parse(&options) {
        let _ = parsed.permissions.allows_open(&text, 22);
        let _ = parsed.permissions.allows_listen(&text, 8080);
    }
    patterns(&pattern, &text, address);
});

/// Checks that the accepting line and every refusing line hold the presented key.
fn authorize(keys: &AuthorizedKeys, request: &AuthorizationRequest<'_>) {
    let holds = |line: usize| {
        keys.entries().iter().any(|e| {
            e.line == line
                && match request.key {
                    PresentedKey::Key(key) => !e.options.cert_authority && e.key == *key,
                    PresentedKey::Certificate(cert) => {
                        e.options.cert_authority && e.key == *cert.signature_key()
                    }
                }
        })
    };
    match keys.authorize(request) {
        Ok(accepted) => assert!(
            holds(accepted.line),
            "accepted by a line not holding the key"
        ),
        Err(refused) => {
            for refusal in &refused.refusals {
                assert!(holds(refusal.line), "refused by a line not holding the key");
            }
            let _ = refused.to_string();
        }
    }
}

fn patterns(pattern: &str, text: &str, address: IpAddr) {
    let _ = host_pattern::glob_matches(pattern, text);
    assert!(
        host_pattern::glob_matches(pattern, pattern),
        "a glob does not match itself"
    );
    for fold_case in [false, true] {
        let _ = host_pattern::match_list(text, pattern, fold_case);
    }
    let plain = !pattern.is_empty()
        && !pattern.starts_with('!')
        && !pattern.contains(',')
        && pattern.len() <= 1023;
    if plain {
        assert_eq!(
            host_pattern::match_list(pattern, pattern, false),
            ListMatch::Positive,
            "a one-pattern list does not match the pattern itself"
        );
    }
    let _ = host_pattern::match_host_name(text, pattern);
    let _ = host_pattern::match_address_list(address, pattern);
    let _ = host_pattern::match_host_and_address(text, address, pattern);
}

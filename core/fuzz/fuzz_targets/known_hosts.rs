//! `KnownHosts::parse` on arbitrary text, then lookups derived from the input: `find`,
//! `check` (with a key on record, the fixed host key, or a key of no line), `remove_host`,
//! `check_certificate` (the fixed host certificate and one parsed from the input) and
//! `add`. Never a panic, and the answers agree with each other: a trusting or revoking
//! line is one `find` lists with that key, `remove_host` drops exactly the unmarked
//! lines `find` lists, and a plain host just added is trusted.
//!
//! Input: the file, a NUL, then the query: an entry index byte, a big-endian `u16`
//! port, the host name up to `\n`, and the rest as a certificate blob.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansh_core::keys::{Certificate, PublicKey};
use sansh_core::known_hosts::{HostKeyStatus, KnownHosts};
use sansh_core_fuzz::fixtures::{self, Query};
use sansh_core_fuzz::{parser_seeds, seeds};

fuzz_target!(init: seeds::export_if_requested(parser_seeds::known_hosts_seeds), |data: &[u8]| {
    let (file, query) = fixtures::split_file_and_query(data);
    let known = KnownHosts::parse(&file);
    let lines = file.lines().count();
    for entry in known.entries() {
        assert!((1..=lines.max(1)).contains(&entry.line()), "entry line out of range");
    }
    for invalid in known.invalid_lines() {
        assert!((1..=lines.max(1)).contains(&invalid.line), "invalid line out of range");
        let _ = invalid.error.to_string();
    }

    let mut query = Query::new(query);
    let index = usize::from(query.u8());
    let port = query.u16();
    let host = query.line();
    let cert_blob = query.rest();

    let f = fixtures::fixtures();
    let on_record = known
        .entries()
        .get(index % known.entries().len().max(1))
        .and_then(|e| e.key().public_key().cloned());
    let fixed = f.host_key.public_key();
    let unknown = f.user_key.public_key();
    for key in on_record.iter().chain([&fixed, &unknown]) {
        check(&known, &host, port, key);
    }

    let removal = known.remove_host(&host, port);
    let listed: Vec<usize> = known
        .find(&host, port)
        .filter(|e| e.marker().is_none())
        .map(|e| e.line())
        .collect();
    assert_eq!(removal.removed_lines, listed, "remove_host and find disagree");
    let rest = KnownHosts::parse(&removal.text);
    assert!(
        rest.find(&host, port).all(|e| e.marker().is_some()),
        "an unmarked line for the host survives remove_host"
    );

    for cert in [Some(f.host_cert.clone()), Certificate::from_blob(cert_blob).ok()]
        .into_iter()
        .flatten()
    {
        let lookup = known.check_certificate(&host, port, &cert, fixtures::now());
        if let HostKeyStatus::Trusted { line } = lookup.status {
            // Through the CA, or through `check`, which may fall back to the bare name.
            let listed = |port| known.find(&host, port).any(|e| e.line() == line);
            assert!(listed(port) || listed(22), "trusted by a line not listed");
        }
    }

    if is_plain_host(&host) {
        let mut added = known.clone();
        let line = added.add(&host, port, &unknown).expect("a plain host name is recordable");
        let status = added.check(&host, port, &unknown);
        assert!(
            matches!(status, HostKeyStatus::Trusted { .. } | HostKeyStatus::Revoked { .. }),
            "a host just added is {status:?}"
        );
        let alone = KnownHosts::parse(&line);
        assert_eq!(
            alone.check(&host, port, &unknown),
            HostKeyStatus::Trusted { line: 1 },
            "the line add returns does not trust the host"
        );
    }
});

/// Checks that `check`'s answer is backed by the lines `find` lists.
fn check(known: &KnownHosts, host: &str, port: u16, key: &PublicKey) {
    let status = known.check(host, port, key);
    let holds = |line: usize, bare: bool| {
        let port = if bare { 22 } else { port };
        known
            .find(host, port)
            .any(|e| e.line() == line && e.key().public_key() == Some(key))
    };
    match &status {
        HostKeyStatus::Trusted { line } => {
            assert!(
                holds(*line, false) || holds(*line, true),
                "trusted by a line not listed"
            );
        }
        HostKeyStatus::Revoked { line } => {
            assert!(holds(*line, false), "revoked by a line not listed")
        }
        HostKeyStatus::Changed { keys_on_record } => {
            assert!(!keys_on_record.is_empty());
            for record in keys_on_record {
                assert!(
                    record.key.public_key() != Some(key),
                    "changed, yet the key is on record"
                );
            }
        }
        HostKeyStatus::Unknown => {}
    }
}

/// A host name `add` writes as a single literal pattern: no pattern characters,
/// separators or blanks.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

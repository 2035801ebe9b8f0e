//! The certificate parsers on arbitrary bytes: `Certificate::from_blob` and
//! `Certificate::from_openssh`, then `verify_signature` and `validate` at a fixed
//! wall-clock time and at the certificate's own `valid_after`. Never a panic; a blob
//! that parses re-encodes to the same bytes, a line to the same certificate and
//! comment, and `validate` accepts only what its checks allow.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use sansh_core::keys::{
    CertType, Certificate, CertificateCheck, DEFAULT_CA_ALGORITHMS, SignatureAlgorithm,
};
use sansh_core_fuzz::fixtures::{self, USER};
use sansh_core_fuzz::{parser_seeds, seeds};

fuzz_target!(init: seeds::export_if_requested(parser_seeds::certificate_seeds), |data: &[u8]| {
    if let Ok(cert) = Certificate::from_blob(data) {
        assert_eq!(cert.to_blob(), data, "a parsed certificate blob re-encodes differently");
        check(&cert);
    }
    let text = String::from_utf8_lossy(data);
    if let Ok((cert, comment)) = Certificate::from_openssh(&text) {
        let line = cert.to_openssh(&comment);
        assert_eq!(
            Certificate::from_openssh(&line),
            Ok((cert.clone(), comment)),
            "a certificate line re-encodes differently"
        );
        check(&cert);
    }
});

fn check(cert: &Certificate) {
    assert_eq!(Certificate::from_blob(&cert.to_blob()).as_ref(), Ok(cert));
    let _ = (
        cert.force_command(),
        cert.source_address(),
        cert.verify_required(),
    );
    let _ = cert.key().fingerprint_sha256();

    let by_default = cert.verify_signature(DEFAULT_CA_ALGORITHMS);
    let by_any = cert.verify_signature(SignatureAlgorithm::ALL);
    if let Ok(alg) = by_default {
        assert_eq!(
            by_any,
            Ok(alg),
            "a wider algorithm list refuses a signature"
        );
        assert_eq!(cert.signature_algorithm(), Some(alg));
    }

    let principal = cert.principals().first().map_or(USER, String::as_str);
    let address = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    let own_start = UNIX_EPOCH.checked_add(Duration::from_secs(cert.valid_after()));
    for now in [Some(fixtures::now()), own_start].into_iter().flatten() {
        for cert_type in [CertType::User, CertType::Host] {
            let check = CertificateCheck::new(cert_type, now)
                .principal(principal)
                .client_address(address);
            if cert.validate(&check).is_ok() {
                assert!(by_default.is_ok(), "validated without a valid signature");
                assert_eq!(cert.cert_type(), cert_type, "validated as the wrong type");
                let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                assert!(
                    cert.valid_after() <= secs && secs < cert.valid_before(),
                    "validated outside its window"
                );
                assert!(
                    cert.principals().is_empty()
                        || cert.principals().iter().any(|p| p == principal),
                    "validated for a principal it does not name"
                );
            }
        }
    }
}

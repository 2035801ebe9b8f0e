//! Algorithm negotiation (RFC 4253 §7.1) and the KEXINIT we send.

use crate::cipher::{CipherAlgorithm, CompressionAlgorithm, MacAlgorithm};
use crate::config::Algorithms;
use crate::crypto::SecureRandom;
use crate::error::{AlgorithmKind, ConnectionError};
use crate::kex::KexAlgorithm;
use crate::keys::SignatureAlgorithm;
use crate::wire::transport::KexInit;

/// Pseudo-algorithm: the client accepts SSH_MSG_EXT_INFO (RFC 8308 §2.1).
pub(crate) const EXT_INFO_C: &str = "ext-info-c";
/// Pseudo-algorithm: the server accepts SSH_MSG_EXT_INFO.
pub(crate) const EXT_INFO_S: &str = "ext-info-s";
/// Pseudo-algorithm: the client supports strict key exchange (OpenSSH PROTOCOL §1.10).
pub(crate) const STRICT_KEX_C: &str = "kex-strict-c-v00@openssh.com";
/// Pseudo-algorithm: the server supports strict key exchange.
pub(crate) const STRICT_KEX_S: &str = "kex-strict-s-v00@openssh.com";

/// The algorithms both sides agreed on for one key exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Key exchange method.
    pub kex: KexAlgorithm,
    /// Host key signature algorithm.
    pub host_key: SignatureAlgorithm,
    /// True when the server presents its host key in an OpenSSH certificate: the
    /// negotiated name is `host_key`'s `-cert-v01@openssh.com` form.
    pub host_certificate: bool,
    /// Cipher, client to server.
    pub cipher_c2s: CipherAlgorithm,
    /// Cipher, server to client.
    pub cipher_s2c: CipherAlgorithm,
    /// MAC, client to server (`None` with an AEAD cipher).
    pub mac_c2s: Option<MacAlgorithm>,
    /// MAC, server to client (`None` with an AEAD cipher).
    pub mac_s2c: Option<MacAlgorithm>,
    /// Compression, client to server.
    pub compression_c2s: CompressionAlgorithm,
    /// Compression, server to client.
    pub compression_s2c: CompressionAlgorithm,
}

impl Negotiated {
    /// The negotiated host key algorithm's name, e.g. `ssh-ed25519` or
    /// `ssh-ed25519-cert-v01@openssh.com`.
    pub fn host_key_name(&self) -> &'static str {
        if self.host_certificate {
            self.host_key.certificate_name()
        } else {
            self.host_key.name()
        }
    }
}

/// The signature algorithm a host key algorithm name stands for, and whether it is a
/// certificate form.
fn host_key_from_name(name: &str) -> Option<(SignatureAlgorithm, bool)> {
    match SignatureAlgorithm::from_certificate_name(name) {
        Some(algorithm) => Some((algorithm, true)),
        None => SignatureAlgorithm::from_name(name).map(|algorithm| (algorithm, false)),
    }
}

/// Builds our KEXINIT. `markers` are the pseudo-algorithms appended to the kex list
/// (ext-info and strict-kex), sent only in the first exchange.
pub(crate) fn our_kexinit(
    algorithms: &Algorithms,
    host_certificate_algorithms: &[SignatureAlgorithm],
    host_key_algorithms: &[SignatureAlgorithm],
    markers: &[&str],
    rng: &mut dyn SecureRandom,
) -> KexInit {
    let mut cookie = [0u8; 16];
    rng.fill(&mut cookie);
    let names = |v: Vec<&'static str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    let mut kex = names(algorithms.kex.iter().map(|a| a.name()).collect());
    kex.extend(markers.iter().map(|m| (*m).to_owned()));
    let ciphers = names(algorithms.ciphers.iter().map(|a| a.name()).collect());
    let macs = names(algorithms.macs.iter().map(|a| a.name()).collect());
    let compression = names(algorithms.compression.iter().map(|a| a.name()).collect());
    KexInit {
        cookie,
        kex,
        host_key: names(
            host_certificate_algorithms
                .iter()
                .map(|a| a.certificate_name())
                .chain(host_key_algorithms.iter().map(|a| a.name()))
                .collect(),
        ),
        cipher_c2s: ciphers.clone(),
        cipher_s2c: ciphers,
        mac_c2s: macs.clone(),
        mac_s2c: macs,
        compression_c2s: compression.clone(),
        compression_s2c: compression,
        first_kex_packet_follows: false,
    }
}

/// The first client algorithm that the server also offers and that we implement.
fn choose<T>(
    kind: AlgorithmKind,
    client: &[String],
    server: &[String],
    from_name: impl Fn(&str) -> Option<T>,
) -> Result<T, ConnectionError> {
    client
        .iter()
        .filter(|name| server.contains(name))
        .find_map(|name| from_name(name))
        .ok_or_else(|| ConnectionError::NoCommonAlgorithm {
            kind,
            ours: String::new(),
            theirs: String::new(),
        })
}

/// Negotiates every algorithm (RFC 4253 §7.1). `we_are_client` only fills in which
/// list was ours in the error.
pub(crate) fn negotiate(
    client: &KexInit,
    server: &KexInit,
    we_are_client: bool,
) -> Result<Negotiated, ConnectionError> {
    let result = (|| {
        let kex = choose(
            AlgorithmKind::Kex,
            &client.kex,
            &server.kex,
            KexAlgorithm::from_name,
        )?;
        let (host_key, host_certificate) = choose(
            AlgorithmKind::HostKey,
            &client.host_key,
            &server.host_key,
            host_key_from_name,
        )?;
        let cipher_c2s = choose(
            AlgorithmKind::CipherClientToServer,
            &client.cipher_c2s,
            &server.cipher_c2s,
            CipherAlgorithm::from_name,
        )?;
        let cipher_s2c = choose(
            AlgorithmKind::CipherServerToClient,
            &client.cipher_s2c,
            &server.cipher_s2c,
            CipherAlgorithm::from_name,
        )?;
        // With an AEAD cipher the MAC lists are not negotiated (RFC 5647 as OpenSSH does it).
        let mac_c2s = if cipher_c2s.is_aead() {
            None
        } else {
            Some(choose(
                AlgorithmKind::MacClientToServer,
                &client.mac_c2s,
                &server.mac_c2s,
                MacAlgorithm::from_name,
            )?)
        };
        let mac_s2c = if cipher_s2c.is_aead() {
            None
        } else {
            Some(choose(
                AlgorithmKind::MacServerToClient,
                &client.mac_s2c,
                &server.mac_s2c,
                MacAlgorithm::from_name,
            )?)
        };
        let compression_c2s = choose(
            AlgorithmKind::CompressionClientToServer,
            &client.compression_c2s,
            &server.compression_c2s,
            CompressionAlgorithm::from_name,
        )?;
        let compression_s2c = choose(
            AlgorithmKind::CompressionServerToClient,
            &client.compression_s2c,
            &server.compression_s2c,
            CompressionAlgorithm::from_name,
        )?;
        Ok(Negotiated {
            kex,
            host_key,
            host_certificate,
            cipher_c2s,
            cipher_s2c,
            mac_c2s,
            mac_s2c,
            compression_c2s,
            compression_s2c,
        })
    })();
    result.map_err(|e| match e {
        ConnectionError::NoCommonAlgorithm { kind, .. } => {
            let (c, s) = lists_of(kind, client, server);
            let (ours, theirs) = if we_are_client { (c, s) } else { (s, c) };
            ConnectionError::NoCommonAlgorithm { kind, ours, theirs }
        }
        other => other,
    })
}

fn lists_of(kind: AlgorithmKind, client: &KexInit, server: &KexInit) -> (String, String) {
    let pick = |k: &KexInit| -> String {
        match kind {
            AlgorithmKind::Kex => &k.kex,
            AlgorithmKind::HostKey => &k.host_key,
            AlgorithmKind::CipherClientToServer => &k.cipher_c2s,
            AlgorithmKind::CipherServerToClient => &k.cipher_s2c,
            AlgorithmKind::MacClientToServer => &k.mac_c2s,
            AlgorithmKind::MacServerToClient => &k.mac_s2c,
            AlgorithmKind::CompressionClientToServer => &k.compression_c2s,
            AlgorithmKind::CompressionServerToClient => &k.compression_s2c,
        }
        .join(",")
    };
    (pick(client), pick(server))
}

/// True when the peer guessed its first kex packet and the guess was wrong, so that
/// packet must be ignored (RFC 4253 §7).
pub(crate) fn wrong_guess(peer: &KexInit, negotiated: &Negotiated) -> bool {
    peer.first_kex_packet_follows
        && (peer.kex.first().map(String::as_str) != Some(negotiated.kex.name())
            || peer.host_key.first().map(String::as_str) != Some(negotiated.host_key_name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SeededRandom;

    fn init(algorithms: &Algorithms, markers: &[&str]) -> KexInit {
        our_kexinit(
            algorithms,
            &algorithms.host_certificate,
            &algorithms.host_key,
            markers,
            &mut SeededRandom::new(1),
        )
    }

    #[test]
    fn client_preference_wins() {
        let client = Algorithms {
            ciphers: vec![CipherAlgorithm::Aes256Ctr, CipherAlgorithm::Aes128Gcm],
            ..Algorithms::default()
        };
        let server = Algorithms::default();
        let n = negotiate(&init(&client, &[]), &init(&server, &[]), true).unwrap();
        assert_eq!(n.cipher_c2s, CipherAlgorithm::Aes256Ctr);
        assert_eq!(n.mac_c2s, Some(MacAlgorithm::DEFAULT[0]));
    }

    #[test]
    fn aead_cipher_needs_no_mac() {
        let client = Algorithms {
            ciphers: vec![CipherAlgorithm::Aes128Gcm],
            macs: vec![MacAlgorithm::HmacSha1],
            ..Algorithms::default()
        };
        let server = Algorithms {
            macs: vec![MacAlgorithm::HmacSha512],
            ..Algorithms::default()
        };
        let n = negotiate(&init(&client, &[]), &init(&server, &[]), true).unwrap();
        assert_eq!(n.mac_c2s, None);
    }

    #[test]
    fn markers_never_negotiate_as_kex() {
        let client = Algorithms {
            kex: vec![],
            ..Algorithms::default()
        };
        let c = init(&client, &[EXT_INFO_C, STRICT_KEX_C]);
        let mut s = init(&Algorithms::default(), &[EXT_INFO_S, STRICT_KEX_S]);
        s.kex.push(EXT_INFO_C.to_owned());
        let err = negotiate(&c, &s, true).unwrap_err();
        assert!(matches!(
            err,
            ConnectionError::NoCommonAlgorithm {
                kind: AlgorithmKind::Kex,
                ..
            }
        ));
    }

    #[test]
    fn no_common_cipher_names_both_lists() {
        let client = Algorithms {
            ciphers: vec![CipherAlgorithm::Aes192Ctr],
            ..Algorithms::default()
        };
        let server = Algorithms {
            ciphers: vec![CipherAlgorithm::Aes128Gcm],
            ..Algorithms::default()
        };
        match negotiate(&init(&client, &[]), &init(&server, &[]), true) {
            Err(ConnectionError::NoCommonAlgorithm { ours, theirs, .. }) => {
                assert_eq!(ours, "aes192-ctr");
                assert_eq!(theirs, "aes128-gcm@openssh.com");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_host_certificate_is_chosen_when_both_offer_it() {
        let client = Algorithms::default();
        let server = Algorithms {
            host_certificate: vec![SignatureAlgorithm::EcdsaP256],
            ..Algorithms::default()
        };
        let n = negotiate(&init(&client, &[]), &init(&server, &[]), true).unwrap();
        assert_eq!(n.host_key, SignatureAlgorithm::EcdsaP256);
        assert!(n.host_certificate);
        assert_eq!(
            n.host_key_name(),
            "ecdsa-sha2-nistp256-cert-v01@openssh.com"
        );
    }

    #[test]
    fn a_client_without_certificate_algorithms_gets_the_plain_key() {
        let client = Algorithms {
            host_certificate: vec![],
            ..Algorithms::default()
        };
        let server = Algorithms {
            host_certificate: vec![SignatureAlgorithm::Ed25519],
            ..Algorithms::default()
        };
        let c = init(&client, &[]);
        assert!(c.host_key.iter().all(|name| !name.contains("-cert-")));
        let n = negotiate(&c, &init(&server, &[]), true).unwrap();
        assert_eq!(n.host_key, SignatureAlgorithm::Ed25519);
        assert!(!n.host_certificate);
        assert_eq!(n.host_key_name(), "ssh-ed25519");
    }
}

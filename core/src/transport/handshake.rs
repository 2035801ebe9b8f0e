//! One key exchange round (RFC 4253 §7-§9): KEXINIT, the method's messages, host-key
//! proof, NEWKEYS, strict-kex rules and EXT_INFO, for both roles.

use std::time::Instant;

use crate::cipher::{PacketOpener, PacketSealer};
use crate::config::ServerConfig;
use crate::error::{ConnectionError, PeerMisbehaved, TimerKind};
use crate::event::{Event, HostKeyDecision};
use crate::kex::{
    ClientKex, ClientKexStep, ExchangeHashInput, KexReply, ServerKex, ServerKexStep, SharedSecret,
    derive_key, exchange_hash,
};
use crate::keys::{Certificate, PrivateKey, PublicKey, SignatureAlgorithm};
use crate::wire::msg;
use crate::wire::transport::{KexInit, encode_ext_info};

use super::negotiate::{self, EXT_INFO_C, EXT_INFO_S, Negotiated, STRICT_KEX_C, STRICT_KEX_S};
use super::{Role, Transport};

/// The method-specific half of a round.
enum Method {
    /// Waiting for the peer's KEXINIT.
    NotStarted,
    Client(ClientKex),
    Server(ServerKex),
    /// The exchange hash is known; only NEWKEYS remain.
    Done,
}

/// Keys derived for the round, installed at NEWKEYS.
struct NewKeys {
    sealer: Option<PacketSealer>,
    opener: Option<PacketOpener>,
}

/// State of one key exchange, from our KEXINIT until both NEWKEYS.
pub(crate) struct KexRound {
    our_init: Vec<u8>,
    /// The same KEXINIT, decoded, for negotiation.
    our_kexinit: KexInit,
    /// Sequence number our KEXINIT went out with, to recognise a refusal of it.
    our_init_seq: u32,
    peer_init: Option<Vec<u8>>,
    negotiated: Option<Negotiated>,
    method: Method,
    ignore_next_kex_packet: bool,
    keys: Option<NewKeys>,
    awaiting_host_key: Option<u64>,
    sent_newkeys: bool,
    received_newkeys: bool,
    peer_wants_ext_info: bool,
}

impl KexRound {
    pub(crate) fn sent_newkeys(&self) -> bool {
        self.sent_newkeys
    }

    /// The peer has sent its KEXINIT of this round.
    pub(crate) fn peer_started(&self) -> bool {
        self.peer_init.is_some()
    }

    /// The peer's NEWKEYS of this round has arrived.
    pub(crate) fn received_newkeys(&self) -> bool {
        self.received_newkeys
    }

    pub(crate) fn awaiting_host_key(&self) -> Option<u64> {
        self.awaiting_host_key
    }

    /// True when an UNIMPLEMENTED for `seq` is the peer refusing our KEXINIT (OpenSSH
    /// answers a re-exchange before authentication this way).
    pub(crate) fn refuses_our_kexinit(&self, seq: u32) -> bool {
        self.peer_init.is_none() && seq == self.our_init_seq
    }
}

fn kex_error(e: impl std::fmt::Display) -> ConnectionError {
    PeerMisbehaved::KeyExchange(e.to_string()).into()
}

impl Transport {
    /// Sends our KEXINIT and opens a round.
    pub(super) fn start_round(&mut self, now: Instant) {
        let first = self.completed_kex == 0;
        let mut markers: Vec<&str> = Vec::new();
        if first {
            match self.role {
                Role::Client => {
                    markers.push(EXT_INFO_C);
                    if self.config.strict_kex {
                        markers.push(STRICT_KEX_C);
                    }
                }
                Role::Server => {
                    markers.push(EXT_INFO_S);
                    if self.config.strict_kex {
                        markers.push(STRICT_KEX_S);
                    }
                }
            }
        }
        let (certificate_algorithms, host_key_algorithms) = self.host_key_algorithms();
        let init = negotiate::our_kexinit(
            &self.config.algorithms,
            &certificate_algorithms,
            &host_key_algorithms,
            &markers,
            self.rng.as_mut(),
        );
        let our_init = init.encode();
        let our_init_seq = self.writer.next_sequence();
        self.send_transport(&our_init);
        self.round = Some(KexRound {
            our_init,
            our_kexinit: init,
            our_init_seq,
            peer_init: None,
            negotiated: None,
            method: Method::NotStarted,
            ignore_next_kex_packet: false,
            keys: None,
            awaiting_host_key: None,
            sent_newkeys: false,
            received_newkeys: false,
            peer_wants_ext_info: false,
        });
        self.timers
            .set(TimerKind::KeyExchange, now + self.config.kex_timeout);
        self.timers.stop(TimerKind::Rekey);
    }

    /// The host certificate and plain host key algorithms we offer: a client those it
    /// accepts; a server those its host certificates and host keys can make, in our
    /// preference order. A certificate algorithm goes only with its plain one.
    fn host_key_algorithms(&self) -> (Vec<SignatureAlgorithm>, Vec<SignatureAlgorithm>) {
        let algorithms = &self.config.algorithms;
        let offered = algorithms
            .host_certificate
            .iter()
            .copied()
            .filter(|alg| algorithms.host_key.contains(alg));
        let Some(server) = &self.server else {
            return (offered.collect(), algorithms.host_key.clone());
        };
        let certificates = offered
            .filter(|alg| host_certificate_for(server, *alg).is_some())
            .collect();
        let keys = algorithms
            .host_key
            .iter()
            .copied()
            .filter(|alg| {
                alg.can_sign()
                    && server
                        .host_keys
                        .iter()
                        .any(|k| k.signature_algorithms().contains(alg))
            })
            .collect();
        (certificates, keys)
    }

    pub(super) fn on_kexinit(&mut self, now: Instant, seq: u32, payload: &[u8]) {
        if self.round.is_none() {
            self.start_round(now);
        }
        let peer = match KexInit::decode(payload) {
            Ok(k) => k,
            Err(error) => {
                let e = PeerMisbehaved::MalformedMessage {
                    number: msg::KEXINIT,
                    error,
                };
                return self.fail(e.into());
            }
        };
        let Some(round) = self.round.as_mut() else {
            return;
        };
        if round.peer_init.is_some() {
            let context = "twice in one key exchange";
            let e = PeerMisbehaved::UnexpectedMessage {
                number: msg::KEXINIT,
                context,
            };
            return self.fail(e.into());
        }
        let ours = &round.our_kexinit;
        let (client, server) = match self.role {
            Role::Client => (ours, &peer),
            Role::Server => (&peer, ours),
        };
        let first = self.completed_kex == 0;
        if first {
            self.strict_kex = self.config.strict_kex
                && client.kex.iter().any(|n| n == STRICT_KEX_C)
                && server.kex.iter().any(|n| n == STRICT_KEX_S);
            if self.strict_kex && seq != 0 {
                return self
                    .fail(PeerMisbehaved::StrictKex("KEXINIT was not the first packet").into());
            }
            round.peer_wants_ext_info = match self.role {
                Role::Client => peer.kex.iter().any(|n| n == EXT_INFO_S),
                Role::Server => peer.kex.iter().any(|n| n == EXT_INFO_C),
            };
        }
        let negotiated = match negotiate::negotiate(client, server, self.role == Role::Client) {
            Ok(n) => n,
            Err(e) => return self.fail(e),
        };
        round.ignore_next_kex_packet = negotiate::wrong_guess(&peer, &negotiated);
        round.negotiated = Some(negotiated);
        round.peer_init = Some(payload.to_vec());
        match self.role {
            Role::Client => match ClientKex::start(negotiated.kex, self.gex, self.rng.as_mut()) {
                Ok((kex, first_message)) => {
                    if let Some(round) = self.round.as_mut() {
                        round.method = Method::Client(kex);
                    }
                    self.send_transport(&first_message);
                }
                Err(e) => self.fail(kex_error(e)),
            },
            Role::Server => round.method = Method::Server(ServerKex::new(negotiated.kex)),
        }
    }

    pub(super) fn on_kex_method(&mut self, payload: &[u8]) {
        let number = payload[0];
        let unexpected = |context| PeerMisbehaved::UnexpectedMessage { number, context };
        let Some(round) = self.round.as_mut() else {
            return self.fail(unexpected("outside a key exchange").into());
        };
        if round.ignore_next_kex_packet {
            round.ignore_next_kex_packet = false;
            return;
        }
        match &mut round.method {
            Method::Client(kex) => match kex.handle(payload, self.rng.as_mut()) {
                Ok(ClientKexStep::Send(message)) => self.send_transport(&message),
                Ok(ClientKexStep::Reply(reply)) => self.on_server_reply(reply),
                Err(e) => self.fail(kex_error(e)),
            },
            Method::Server(kex) => match kex.handle(payload, self.rng.as_mut()) {
                Ok(ServerKexStep::Send(message)) => self.send_transport(&message),
                Ok(ServerKexStep::Reply(reply)) => self.answer_client(reply),
                Err(e) => self.fail(kex_error(e)),
            },
            Method::NotStarted => self.fail(unexpected("before KEXINIT").into()),
            Method::Done => self.fail(unexpected("after the key exchange reply").into()),
        }
    }

    fn hash_input<'a>(
        &'a self,
        round: &'a KexRound,
        host_key_blob: &'a [u8],
    ) -> Option<ExchangeHashInput<'a>> {
        let peer_version = self.peer_version.as_deref()?.as_bytes();
        let peer_init = round.peer_init.as_deref()?;
        let our_version = self.our_version.as_bytes();
        Some(match self.role {
            Role::Client => ExchangeHashInput {
                client_version: our_version,
                server_version: peer_version,
                client_kexinit: &round.our_init,
                server_kexinit: peer_init,
                host_key_blob,
            },
            Role::Server => ExchangeHashInput {
                client_version: peer_version,
                server_version: our_version,
                client_kexinit: peer_init,
                server_kexinit: &round.our_init,
                host_key_blob,
            },
        })
    }

    /// Client: verifies the server's proof, derives keys, and asks the application
    /// about the host key (first exchange) or checks it is unchanged (re-exchange).
    fn on_server_reply(&mut self, reply: KexReply) {
        let Some(round) = self.round.as_ref() else {
            return;
        };
        let Some(negotiated) = round.negotiated else {
            return;
        };
        let (host_key, certificate) = match parse_host_key(&reply.host_key_blob, &negotiated) {
            Ok(parsed) => parsed,
            Err(e) => return self.fail(e.into()),
        };
        let Some(input) = self.hash_input(round, &reply.host_key_blob) else {
            return;
        };
        let hash = negotiated.kex.hash();
        let h = exchange_hash(hash, &input, &reply.hash_body, &reply.shared_secret);
        if host_key
            .verify(negotiated.host_key, &h, &reply.signature_blob)
            .is_err()
        {
            return self.fail(PeerMisbehaved::BadHostKeySignature.into());
        }
        let keys = self.derive_keys(&negotiated, &reply.shared_secret, &h);
        let Some(round) = self.round.as_mut() else {
            return;
        };
        round.method = Method::Done;
        round.keys = Some(keys);
        match &self.accepted_host_key {
            Some(known) if *known == reply.host_key_blob => self.send_newkeys(),
            Some(_) => self.fail(ConnectionError::HostKeyChanged),
            None => {
                let id = self.new_token_id();
                if let Some(round) = self.round.as_mut() {
                    round.awaiting_host_key = Some(id);
                }
                self.accepted_host_key = Some(reply.host_key_blob);
                let guard = crate::decision::TokenGuard::new(id, &self.dropped);
                self.events.push_back(Event::HostKey(HostKeyDecision::new(
                    guard,
                    host_key,
                    certificate,
                )));
            }
        }
    }

    /// Client: the application's verdict on the host key.
    pub(crate) fn answer_host_key(&mut self, id: u64, accept: bool) {
        let waiting = self.round.as_ref().and_then(KexRound::awaiting_host_key) == Some(id);
        if !waiting || self.closed {
            return;
        }
        if !accept {
            return self.fail(ConnectionError::HostKeyRejected);
        }
        if let Some(round) = self.round.as_mut() {
            round.awaiting_host_key = None;
        }
        self.send_newkeys();
    }

    /// Server: signs the exchange hash with the host key for the negotiated
    /// algorithm and sends the reply, then NEWKEYS.
    fn answer_client(&mut self, reply: crate::kex::ServerReply) {
        let Some(round) = self.round.as_ref() else {
            return;
        };
        let Some(negotiated) = round.negotiated else {
            return;
        };
        let Some(server) = self.server.clone() else {
            return;
        };
        let found = if negotiated.host_certificate {
            host_certificate_for(&server, negotiated.host_key)
                .map(|(certificate, key)| (key, certificate.to_blob()))
        } else {
            server
                .host_keys
                .iter()
                .find(|k| k.signature_algorithms().contains(&negotiated.host_key))
                .map(|key| (key, key.public_key().to_blob()))
        };
        let Some((host_key, blob)) = found else {
            return self.fail(kex_error("no host key for the negotiated algorithm"));
        };
        let Some(input) = self.hash_input(round, &blob) else {
            return;
        };
        let h = exchange_hash(
            negotiated.kex.hash(),
            &input,
            &reply.hash_body,
            &reply.shared_secret,
        );
        let signature = match host_key.sign(negotiated.host_key, &h, self.rng.as_mut()) {
            Ok(s) => s,
            Err(e) => return self.fail(kex_error(e)),
        };
        let keys = self.derive_keys(&negotiated, &reply.shared_secret, &h);
        self.send_transport(&reply.encode_reply(&blob, &signature));
        if let Some(round) = self.round.as_mut() {
            round.method = Method::Done;
            round.keys = Some(keys);
        }
        self.send_newkeys();
    }

    /// Derives this round's keys (RFC 4253 §7.2); the first exchange hash becomes
    /// the session id.
    fn derive_keys(&mut self, n: &Negotiated, k: &SharedSecret, h: &[u8]) -> NewKeys {
        let session_id = self.session_id.get_or_insert_with(|| h.to_vec()).clone();
        let hash = n.kex.hash();
        let derive = |letter: u8, len: usize| derive_key(hash, k, h, letter, &session_id, len);
        let iv_c2s = derive(b'A', n.cipher_c2s.iv_len());
        let iv_s2c = derive(b'B', n.cipher_s2c.iv_len());
        let key_c2s = derive(b'C', n.cipher_c2s.key_len());
        let key_s2c = derive(b'D', n.cipher_s2c.key_len());
        let mac_c2s = derive(b'E', n.mac_c2s.map_or(0, |m| m.key_len()));
        let mac_s2c = derive(b'F', n.mac_s2c.map_or(0, |m| m.key_len()));
        let c2s = (n.cipher_c2s, n.mac_c2s, &key_c2s, &iv_c2s, &mac_c2s);
        let s2c = (n.cipher_s2c, n.mac_s2c, &key_s2c, &iv_s2c, &mac_s2c);
        let (out, inp) = match self.role {
            Role::Client => (c2s, s2c),
            Role::Server => (s2c, c2s),
        };
        NewKeys {
            sealer: PacketSealer::new(out.0, out.1, out.2, out.3, out.4).ok(),
            opener: PacketOpener::new(inp.0, inp.1, inp.2, inp.3, inp.4).ok(),
        }
    }

    fn send_newkeys(&mut self) {
        let Some(round) = self.round.as_mut() else {
            return;
        };
        let Some(negotiated) = round.negotiated else {
            return;
        };
        let Some(sealer) = round.keys.as_mut().and_then(|k| k.sealer.take()) else {
            return self.fail(kex_error("derived keys do not fit the cipher"));
        };
        round.sent_newkeys = true;
        let send_ext_info =
            self.completed_kex == 0 && self.role == Role::Server && round.peer_wants_ext_info;
        self.send_transport(&[msg::NEWKEYS]);
        let compression = match self.role {
            Role::Client => negotiated.compression_c2s,
            Role::Server => negotiated.compression_s2c,
        };
        self.writer.set_keys(sealer, compression);
        if self.strict_kex {
            self.writer.reset_sequence();
        }
        if send_ext_info {
            let algs: Vec<&str> = SignatureAlgorithm::DEFAULT_HOST_KEY
                .iter()
                .map(|a| a.name())
                .collect();
            let value = algs.join(",");
            self.send_transport(&encode_ext_info(&[("server-sig-algs", value.as_bytes())]));
        }
        // From here send_upper writes straight out; what it held back must go first,
        // or later messages would overtake it.
        self.flush_queued();
        self.maybe_finish_round();
    }

    pub(super) fn on_newkeys(&mut self) {
        let unexpected = |context| PeerMisbehaved::UnexpectedMessage {
            number: msg::NEWKEYS,
            context,
        };
        let Some(round) = self.round.as_mut() else {
            return self.fail(unexpected("outside a key exchange").into());
        };
        let Some(negotiated) = round.negotiated else {
            return self.fail(unexpected("before KEXINIT").into());
        };
        if !matches!(round.method, Method::Done) || round.received_newkeys {
            return self.fail(unexpected("before the key exchange finished").into());
        }
        let Some(opener) = round.keys.as_mut().and_then(|k| k.opener.take()) else {
            return self.fail(kex_error("derived keys do not fit the cipher"));
        };
        round.received_newkeys = true;
        let compression = match self.role {
            Role::Client => negotiated.compression_s2c,
            Role::Server => negotiated.compression_c2s,
        };
        self.reader.set_keys(opener, compression);
        if self.strict_kex {
            self.reader.reset_sequence();
        }
        // RFC 8308 §2.4: EXT_INFO may only be the first message after the first
        // NEWKEYS, and only when we asked for it (we always do).
        self.ext_info_next = self.completed_kex == 0;
        self.maybe_finish_round();
    }

    fn maybe_finish_round(&mut self) {
        let done = self
            .round
            .as_ref()
            .is_some_and(|r| r.sent_newkeys && r.received_newkeys);
        if !done {
            return;
        }
        let Some(round) = self.round.take() else {
            return;
        };
        let rekey = self.completed_kex > 0;
        self.completed_kex += 1;
        self.negotiated = round.negotiated;
        self.timers.stop(TimerKind::KeyExchange);
        self.flush_queued();
        if let Some(algorithms) = round.negotiated {
            self.events
                .push_back(Event::KeyExchangeComplete { algorithms, rekey });
        }
        if let Some(interval) = self.config.rekey_after {
            self.timers.set(TimerKind::Rekey, self.now + interval);
        }
    }
}

/// The server's host certificate for `algorithm`, with the private key it certifies.
fn host_certificate_for(
    server: &ServerConfig,
    algorithm: SignatureAlgorithm,
) -> Option<(&Certificate, &PrivateKey)> {
    if !algorithm.can_sign() {
        return None;
    }
    server.host_certificates.iter().find_map(|certificate| {
        server
            .host_keys
            .iter()
            .find(|k| k.public_key() == *certificate.key())
            .filter(|k| k.signature_algorithms().contains(&algorithm))
            .map(|k| (certificate, k))
    })
}

/// Client: the server's host key blob as the negotiated algorithm says it comes: a
/// plain key, or a certificate and the key it certifies, of the negotiated type.
fn parse_host_key(
    blob: &[u8],
    negotiated: &Negotiated,
) -> Result<(PublicKey, Option<Certificate>), PeerMisbehaved> {
    let bad = |e: &dyn std::fmt::Display| PeerMisbehaved::BadHostKey(e.to_string());
    let (key, certificate) = if negotiated.host_certificate {
        let certificate = Certificate::from_blob(blob).map_err(|e| bad(&e))?;
        (certificate.key().clone(), Some(certificate))
    } else {
        (PublicKey::from_blob(blob).map_err(|e| bad(&e))?, None)
    };
    if key.key_type() != negotiated.host_key.key_type() {
        return Err(bad(&"key type does not match the negotiated algorithm"));
    }
    Ok((key, certificate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::{CipherAlgorithm, CompressionAlgorithm};
    use crate::crypto::SeededRandom;
    use crate::kex::KexAlgorithm;
    use crate::keys::{CertType, CertificateBuilder, KeyType};

    fn negotiated(host_key: SignatureAlgorithm, host_certificate: bool) -> Negotiated {
        Negotiated {
            kex: KexAlgorithm::Curve25519Sha256,
            host_key,
            host_certificate,
            cipher_c2s: CipherAlgorithm::Aes128Gcm,
            cipher_s2c: CipherAlgorithm::Aes128Gcm,
            mac_c2s: None,
            mac_s2c: None,
            compression_c2s: CompressionAlgorithm::None,
            compression_s2c: CompressionAlgorithm::None,
        }
    }

    fn key(key_type: KeyType) -> PrivateKey {
        PrivateKey::generate(key_type, None, &mut SeededRandom::new(9)).expect("key")
    }

    #[test]
    fn a_host_key_blob_must_be_of_the_negotiated_form_and_type() {
        let host = key(KeyType::Ed25519);
        let certificate = CertificateBuilder::new(host.public_key(), CertType::Host)
            .sign(
                &key(KeyType::EcdsaP256),
                SignatureAlgorithm::EcdsaP256,
                &mut SeededRandom::new(1),
            )
            .expect("certificate");
        let plain_blob = host.public_key().to_blob();
        let cert_blob = certificate.to_blob();
        let ed25519 = SignatureAlgorithm::Ed25519;

        let (key, cert) = parse_host_key(&cert_blob, &negotiated(ed25519, true)).unwrap();
        assert_eq!(key, host.public_key());
        assert_eq!(cert, Some(certificate.clone()));
        let (key, cert) = parse_host_key(&plain_blob, &negotiated(ed25519, false)).unwrap();
        assert_eq!((key, cert), (host.public_key(), None));

        // A plain key where a certificate was agreed, and the other way round.
        assert!(parse_host_key(&plain_blob, &negotiated(ed25519, true)).is_err());
        assert!(parse_host_key(&cert_blob, &negotiated(ed25519, false)).is_err());
        // A certificate of another key type than agreed.
        let ecdsa = SignatureAlgorithm::EcdsaP256;
        assert!(parse_host_key(&cert_blob, &negotiated(ecdsa, true)).is_err());
        // A truncated certificate.
        let cut = cert_blob.get(..cert_blob.len() / 2).unwrap_or_default();
        assert!(parse_host_key(cut, &negotiated(ed25519, true)).is_err());
    }
}

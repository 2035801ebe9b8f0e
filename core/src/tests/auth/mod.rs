//! User authentication between our own client and server engines.

mod certificates;
mod limits;
mod methods;
mod security;

use std::sync::{Arc, OnceLock};

use zeroize::Zeroizing;

use super::*;
use crate::auth::{AuthRequest, PublicKeyCredential};
use crate::config::{ClientConfig, ServerConfig};
use crate::crypto::SeededRandom;
use crate::event::Event;
use crate::keys::{KeyType, PrivateKey};
use crate::wire::{Writer, msg};

/// One user key of every type, made once per test binary (RSA generation is slow).
pub(crate) fn user_key(key_type: KeyType) -> Arc<PrivateKey> {
    static KEYS: OnceLock<Vec<Arc<PrivateKey>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        let mut rng = SeededRandom::new(0xa17);
        KeyType::ALL
            .iter()
            .map(|&t| {
                let bits = (t == KeyType::Rsa).then_some(2048);
                Arc::new(PrivateKey::generate(t, bits, &mut rng).expect("user key"))
            })
            .collect()
    });
    let index = KeyType::ALL
        .iter()
        .position(|t| *t == key_type)
        .unwrap_or(0);
    keys[index].clone()
}

/// A second Ed25519 key, for tests that need two different keys.
pub(crate) fn other_ed25519_key() -> Arc<PrivateKey> {
    Arc::new(
        PrivateKey::generate(KeyType::Ed25519, None, &mut SeededRandom::new(0xb0b))
            .expect("ed25519 key"),
    )
}

pub(crate) fn password(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.to_owned())
}

/// A pair whose server has `config`, with the key exchange done.
pub(crate) fn auth_pair(config: ServerConfig, seed: u64) -> Pair {
    let mut pair = Pair::seeded(ClientConfig::default(), Arc::new(config), seed);
    pair.handshake();
    pair
}

/// A pair with a default server.
pub(crate) fn default_pair(seed: u64) -> Pair {
    auth_pair(ed25519_server_config(), seed)
}

/// Removes the first event matching `$variant(value)` from `$events` and returns the
/// value.
macro_rules! take_event {
    ($events:expr, $variant:path) => {{
        let events: &mut Vec<Event> = &mut $events;
        events
            .iter()
            .position(|e| matches!(e, $variant(..)))
            .map(|i| match events.remove(i) {
                $variant(value) => value,
                _ => unreachable!(),
            })
    }};
}
pub(crate) use take_event;

impl Pair {
    /// The next authentication request the server application must answer.
    pub(crate) fn next_request(&mut self) -> AuthRequest {
        *take_event!(self.server_seen.events, Event::AuthRequest).expect("an AuthRequest event")
    }

    /// Whether the server has an unanswered authentication request.
    pub(crate) fn has_request(&self) -> bool {
        self.server_seen
            .events
            .iter()
            .any(|e| matches!(e, Event::AuthRequest(_)))
    }

    /// The client's latest authentication result: `Ok(())` for success, or the
    /// failure's methods and partial flag; consumed.
    pub(crate) fn client_result(&mut self) -> Option<Result<(), (Vec<String>, bool)>> {
        let events = &mut self.client_seen.events;
        let i = events
            .iter()
            .position(|e| matches!(e, Event::AuthSuccess | Event::AuthFailure { .. }))?;
        match events.remove(i) {
            Event::AuthFailure {
                methods_that_can_continue,
                partial_success,
            } => Some(Err((methods_that_can_continue, partial_success))),
            _ => Some(Ok(())),
        }
    }

    /// Tries a password and has the server application accept or reject it.
    pub(crate) fn password_round(&mut self, user: &str, secret: &str, accept: bool) {
        self.client
            .auth()
            .password(user, password(secret))
            .expect("attempt starts");
        self.drive();
        let request = self.next_request();
        if accept {
            self.server.auth().accept(request).expect("accept");
        } else {
            self.server.auth().reject(request).expect("reject");
        }
        self.drive();
    }

    /// Runs a publickey attempt with `credential`, accepting the query and the
    /// signed request; returns the signed request's method as the server saw it.
    pub(crate) fn publickey_accepted(
        &mut self,
        user: &str,
        credential: PublicKeyCredential,
    ) -> crate::auth::MethodRequest {
        let query_first = credential.query_first;
        self.client
            .auth()
            .publickey(user, credential)
            .expect("attempt starts");
        self.drive();
        if query_first {
            let query = self.next_request();
            assert!(
                matches!(
                    query.method(),
                    crate::auth::MethodRequest::PublicKey { signed: false, .. }
                ),
                "{query:?}"
            );
            self.server.auth().accept(query).expect("PK_OK");
            self.drive();
        }
        let signed = self.next_request();
        let method = match signed.method() {
            crate::auth::MethodRequest::PublicKey {
                key,
                algorithm,
                certificate,
                certificate_trusted,
                signed,
            } => crate::auth::MethodRequest::PublicKey {
                key: key.clone(),
                algorithm: *algorithm,
                certificate: certificate.clone(),
                certificate_trusted: *certificate_trusted,
                signed: *signed,
            },
            other => panic!("expected a publickey request, got {other:?}"),
        };
        self.server.auth().accept(signed).expect("accept");
        self.drive();
        method
    }
}

/// Makes the test speak for the client itself, bypassing the client state machine
/// (which sends one well-formed request at a time): asks for the service and keeps
/// the server's replies for inspection.
pub(crate) fn raw_client(pair: &mut Pair) {
    pair.client.transport_mut().deliver_upper_messages();
    pair.client.request_service("ssh-userauth");
    pair.drive();
    assert_eq!(pair.raw_replies(), [msg::SERVICE_ACCEPT]);
}

impl Pair {
    /// Sends a payload from the (raw) client.
    pub(crate) fn raw_send(&mut self, payload: &[u8]) {
        self.client.transport_mut().send_upper(payload);
        self.drive();
    }

    /// The message numbers the (raw) client has received since the last call.
    pub(crate) fn raw_replies(&mut self) -> Vec<u8> {
        std::iter::from_fn(|| self.client.transport_mut().poll_upper())
            .map(|p| p[0])
            .collect()
    }
}

/// A USERAUTH_REQUEST with the given fields after the method name.
pub(crate) fn raw_request(user: &str, service: &str, method: &str, fields: &[u8]) -> Vec<u8> {
    let mut out = vec![msg::USERAUTH_REQUEST];
    for field in [user, service, method] {
        out.put_string(field.as_bytes());
    }
    out.put_raw(fields);
    out
}

pub(crate) fn raw_password_request(user: &str, secret: &str) -> Vec<u8> {
    let mut fields = Vec::new();
    fields.put_bool(false);
    fields.put_string(secret.as_bytes());
    raw_request(user, "ssh-connection", "password", &fields)
}

/// A publickey request naming `key`'s blob, signed by `signer` over the data RFC
/// 4252 §7 defines for `session_id`, or a query when `signer` is `None`.
pub(crate) fn raw_publickey_request(
    session_id: &[u8],
    user: &str,
    key: &PrivateKey,
    signer: Option<&PrivateKey>,
) -> Vec<u8> {
    let alg = key.signature_algorithms()[0];
    let blob = key.public_key().to_blob();
    let mut fields = Vec::new();
    fields.put_bool(signer.is_some());
    fields.put_string(alg.name().as_bytes());
    fields.put_string(&blob);
    if let Some(signer) = signer {
        let mut data = Vec::new();
        data.put_string(session_id);
        data.put_raw(&raw_request(user, "ssh-connection", "publickey", &[]));
        data.put_bool(true);
        data.put_string(alg.name().as_bytes());
        data.put_string(&blob);
        let signature = signer
            .sign(alg, &data, &mut SeededRandom::new(3))
            .expect("sign");
        fields.put_string(&signature);
    }
    raw_request(user, "ssh-connection", "publickey", &fields)
}

//! The server's side of a key exchange method.

use super::ecdh::{self, Curve};
use super::groups::{GROUP14, GROUP16, GROUP18};
use super::hybrid::{self, Kem};
use super::messages::ValueEncoding;
use super::{KexAlgorithm, KexError, SharedSecret, client::unexpected, dh, gex};
use crate::crypto::SecureRandom;
use crate::wire::Writer;

/// The server's result of a completed method: the shared secret and hash body to compute
/// the exchange hash with, and what it needs to build the REPLY once that hash is signed.
#[derive(Debug)]
pub struct ServerReply {
    /// The shared secret `K`.
    pub shared_secret: SharedSecret,
    /// Everything the exchange hash takes between `K_S` and `K` for this method (see
    /// [`KexReply::hash_body`](super::KexReply)).
    pub hash_body: Vec<u8>,
    message: u8,
    /// The server's public value, already in its wire encoding (string or mpint).
    server_value: Vec<u8>,
}

impl ServerReply {
    pub(crate) fn new(
        message: u8,
        encoding: ValueEncoding,
        server_value: &[u8],
        shared_secret: SharedSecret,
        hash_body: Vec<u8>,
    ) -> Self {
        let mut encoded = Vec::with_capacity(server_value.len() + 5);
        encoding.write(&mut encoded, server_value);
        Self {
            shared_secret,
            hash_body,
            message,
            server_value: encoded,
        }
    }

    /// Builds the REPLY payload (KEXDH_REPLY / KEX_ECDH_REPLY / KEX_HYBRID_REPLY 31, or
    /// KEX_DH_GEX_REPLY 33): `string K_S || server public value || string signature`.
    pub fn encode_reply(&self, host_key_blob: &[u8], signature_blob: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            1 + 8 + host_key_blob.len() + self.server_value.len() + signature_blob.len(),
        );
        out.put_u8(self.message);
        out.put_string(host_key_blob);
        out.put_raw(&self.server_value);
        out.put_string(signature_blob);
        out
    }
}

/// What the server does after handling a client message.
#[derive(Debug)]
pub enum ServerKexStep {
    /// Send this payload (message number first) and wait for the next client message.
    Send(Vec<u8>),
    /// The method is complete: compute and sign the exchange hash, then send
    /// [`ServerReply::encode_reply`].
    Reply(ServerReply),
}

enum State {
    AwaitInit,
    Gex(gex::Server),
    Done,
}

/// The server's side of one key exchange method, driven by the client's messages.
pub struct ServerKex {
    algorithm: KexAlgorithm,
    state: State,
}

impl ServerKex {
    /// Prepares to run `algorithm`. Group exchange uses the built-in RFC 3526 groups.
    pub fn new(algorithm: KexAlgorithm) -> Self {
        let state = match algorithm {
            KexAlgorithm::DhGexSha256 => State::Gex(gex::Server::AwaitRequest),
            _ => State::AwaitInit,
        };
        Self { algorithm, state }
    }

    /// The method being run.
    pub fn algorithm(&self) -> KexAlgorithm {
        self.algorithm
    }

    /// Handles one payload from the client: KEX_DH_GEX_REQUEST (34) gives
    /// [`ServerKexStep::Send`] with KEX_DH_GEX_GROUP; the INIT gives
    /// [`ServerKexStep::Reply`]. Any error is fatal: the exchange cannot continue.
    pub fn handle(
        &mut self,
        payload: &[u8],
        rng: &mut dyn SecureRandom,
    ) -> Result<ServerKexStep, KexError> {
        use KexAlgorithm as A;
        let reply = match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitInit => match self.algorithm {
                A::MlKem768X25519Sha256 => hybrid::respond(Kem::MlKem768, payload, rng)?,
                A::Sntrup761X25519Sha512 | A::Sntrup761X25519Sha512OpenSsh => {
                    hybrid::respond(Kem::Sntrup761, payload, rng)?
                }
                A::Curve25519Sha256 | A::Curve25519Sha256LibSsh => {
                    ecdh::respond(Curve::X25519, payload, rng)?
                }
                A::EcdhSha2Nistp256 => ecdh::respond(Curve::NistP256, payload, rng)?,
                A::EcdhSha2Nistp384 => ecdh::respond(Curve::NistP384, payload, rng)?,
                A::EcdhSha2Nistp521 => ecdh::respond(Curve::NistP521, payload, rng)?,
                A::DhGroup16Sha512 => dh::respond(&GROUP16, payload, rng)?,
                A::DhGroup18Sha512 => dh::respond(&GROUP18, payload, rng)?,
                A::DhGroup14Sha256 | A::DhGroup14Sha1 => dh::respond(&GROUP14, payload, rng)?,
                // `new` starts group exchange in the Gex state.
                A::DhGexSha256 => return Err(unexpected(payload)),
            },
            State::Gex(server) => match server.handle(payload, rng)? {
                gex::ServerProgress::Send(next, out) => {
                    self.state = State::Gex(next);
                    return Ok(ServerKexStep::Send(out));
                }
                gex::ServerProgress::Reply(reply) => reply,
            },
            State::Done => return Err(unexpected(payload)),
        };
        Ok(ServerKexStep::Reply(reply))
    }
}

impl std::fmt::Debug for ServerKex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKex")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

//! The client's side of a key exchange method.

use super::ecdh::{self, Curve};
use super::groups::{GROUP14, GROUP16, GROUP18};
use super::hybrid::{self, Kem};
use super::{GexRequest, KexAlgorithm, KexError, SharedSecret, dh, gex};
use crate::crypto::SecureRandom;
use crate::wire::WireError;

/// What the client learned from the server's final REPLY. The signature is not verified
/// here: the transport computes the exchange hash from [`Self::hash_body`] and checks it.
#[derive(Debug)]
pub struct KexReply {
    /// `K_S`, the server's host key blob, as received.
    pub host_key_blob: Vec<u8>,
    /// The signature over the exchange hash, as received.
    pub signature_blob: Vec<u8>,
    /// The shared secret `K`.
    pub shared_secret: SharedSecret,
    /// Everything the exchange hash takes between `K_S` and `K` for this method: for
    /// example `string Q_C || string Q_S`, `mpint e || mpint f`, or `uint32 min || uint32 n
    /// || uint32 max || mpint p || mpint g || mpint e || mpint f`.
    pub hash_body: Vec<u8>,
}

/// What the client does after handling a server message.
#[derive(Debug)]
pub enum ClientKexStep {
    /// Send this payload (message number first) and wait for the next server message.
    Send(Vec<u8>),
    /// The method is complete.
    Reply(KexReply),
}

enum State {
    Ecdh(ecdh::Client),
    Dh(dh::Client),
    Gex(gex::Client),
    Hybrid(hybrid::Client),
    Done,
}

/// The client's side of one key exchange method, driven by the server's messages.
///
/// ```
/// use sansh_core::crypto::SeededRandom;
/// use sansh_core::kex::{ClientKex, ClientKexStep, GexRequest, KexAlgorithm, ServerKex, ServerKexStep};
///
/// let mut rng = SeededRandom::new(1);
/// let (mut client, init) =
///     ClientKex::start(KexAlgorithm::Curve25519Sha256, GexRequest::default(), &mut rng)?;
/// let mut server = ServerKex::new(KexAlgorithm::Curve25519Sha256);
/// let ServerKexStep::Reply(done) = server.handle(&init, &mut rng)? else { unreachable!() };
/// let reply_payload = done.encode_reply(b"host key blob", b"signature");
/// let ClientKexStep::Reply(reply) = client.handle(&reply_payload, &mut rng)? else { unreachable!() };
/// assert_eq!(reply.shared_secret.encoded(), done.shared_secret.encoded());
/// assert_eq!(reply.host_key_blob, b"host key blob");
/// # Ok::<(), sansh_core::kex::KexError>(())
/// ```
pub struct ClientKex {
    algorithm: KexAlgorithm,
    state: State,
}

impl ClientKex {
    /// Starts the exchange; returns the first message payload to send (message number
    /// first: KEXDH_INIT / KEX_ECDH_INIT / KEX_HYBRID_INIT 30, or KEX_DH_GEX_REQUEST 34).
    /// `gex` is only used by `diffie-hellman-group-exchange-sha256`.
    pub fn start(
        algorithm: KexAlgorithm,
        gex: GexRequest,
        rng: &mut dyn SecureRandom,
    ) -> Result<(Self, Vec<u8>), KexError> {
        use KexAlgorithm as A;
        let (state, first) = match algorithm {
            A::MlKem768X25519Sha256 => {
                wrap(hybrid::Client::start(Kem::MlKem768, rng)?, State::Hybrid)
            }
            A::Sntrup761X25519Sha512 | A::Sntrup761X25519Sha512OpenSsh => {
                wrap(hybrid::Client::start(Kem::Sntrup761, rng)?, State::Hybrid)
            }
            A::Curve25519Sha256 | A::Curve25519Sha256LibSsh => {
                wrap(ecdh::Client::start(Curve::X25519, rng)?, State::Ecdh)
            }
            A::EcdhSha2Nistp256 => wrap(ecdh::Client::start(Curve::NistP256, rng)?, State::Ecdh),
            A::EcdhSha2Nistp384 => wrap(ecdh::Client::start(Curve::NistP384, rng)?, State::Ecdh),
            A::EcdhSha2Nistp521 => wrap(ecdh::Client::start(Curve::NistP521, rng)?, State::Ecdh),
            A::DhGexSha256 => wrap(gex::Client::start(gex)?, State::Gex),
            A::DhGroup16Sha512 => wrap(dh::Client::start(&GROUP16, rng)?, State::Dh),
            A::DhGroup18Sha512 => wrap(dh::Client::start(&GROUP18, rng)?, State::Dh),
            A::DhGroup14Sha256 | A::DhGroup14Sha1 => {
                wrap(dh::Client::start(&GROUP14, rng)?, State::Dh)
            }
        };
        Ok((Self { algorithm, state }, first))
    }

    /// The method being run.
    pub fn algorithm(&self) -> KexAlgorithm {
        self.algorithm
    }

    /// Handles one payload from the server: KEX_DH_GEX_GROUP (31) gives
    /// [`ClientKexStep::Send`] with KEX_DH_GEX_INIT; the final REPLY gives
    /// [`ClientKexStep::Reply`]. Any error is fatal: the exchange cannot continue.
    pub fn handle(
        &mut self,
        payload: &[u8],
        rng: &mut dyn SecureRandom,
    ) -> Result<ClientKexStep, KexError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Ecdh(client) => client.finish(payload).map(ClientKexStep::Reply),
            State::Dh(client) => client.finish(payload).map(ClientKexStep::Reply),
            State::Hybrid(client) => client.finish(payload).map(ClientKexStep::Reply),
            State::Gex(client) => match client.handle(payload, rng)? {
                gex::ClientProgress::Send(next, out) => {
                    self.state = State::Gex(next);
                    Ok(ClientKexStep::Send(out))
                }
                gex::ClientProgress::Reply(reply) => Ok(ClientKexStep::Reply(reply)),
            },
            State::Done => Err(unexpected(payload)),
        }
    }
}

impl std::fmt::Debug for ClientKex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKex")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

fn wrap<T>((state, first): (T, Vec<u8>), variant: impl FnOnce(T) -> State) -> (State, Vec<u8>) {
    (variant(state), first)
}

/// The error for a message that arrives after the method has finished.
pub(super) fn unexpected(payload: &[u8]) -> KexError {
    match payload.first() {
        Some(&n) => KexError::UnexpectedMessage(n),
        None => KexError::Malformed(WireError::Truncated {
            needed: 1,
            remaining: 0,
        }),
    }
}

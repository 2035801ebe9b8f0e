//! Diffie-Hellman group exchange, `diffie-hellman-group-exchange-sha256`
//! ([RFC 4419](https://www.rfc-editor.org/rfc/rfc4419)).
//!
//! ```text
//! C: SSH_MSG_KEX_DH_GEX_REQUEST (34) uint32 min || uint32 n || uint32 max
//! S: SSH_MSG_KEX_DH_GEX_GROUP   (31) mpint p || mpint g
//! C: SSH_MSG_KEX_DH_GEX_INIT    (32) mpint e
//! S: SSH_MSG_KEX_DH_GEX_REPLY   (33) string K_S || mpint f || string signature
//! ```
//! The hash body is `uint32 min || uint32 n || uint32 max || mpint p || mpint g || mpint e
//! || mpint f` with the request as the client sent it. The old request message (30) is
//! refused, as current OpenSSH does.
//!
//! The server offers the RFC 3526 MODP primes of 2048, 3072, 4096, 6144 and 8192 bits
//! (generator 2). Like OpenSSH it refuses a request with `max < min`, `n` outside
//! `[min, max]` or `max` below 2048 bits ([RFC 8270](https://www.rfc-editor.org/rfc/rfc8270)),
//! clamps the rest to 2048..=8192 bits, and picks the smallest group of at least `n` bits
//! within `[min, max]`, else the largest within it.

use super::dh::{DhGroup, DhKeyPair};
use super::groups::{GEX_GROUPS, ModpGroup};
use super::messages::{self, ValueEncoding};
use super::{KexError, KexReply, ServerReply};
use crate::crypto::SecureRandom;
use crate::wire::{Writer, msg};

/// Smallest group a server offers and the floor of any acceptable request (RFC 8270).
const SERVER_MIN_BITS: u32 = 2048;
/// Largest group size in the protocol (RFC 4419 §3), and our cap on both sides.
const MAX_BITS: u32 = 8192;
/// Smallest `min` our own client may ask for (RFC 4419 §3 allows 1024).
const CLIENT_MIN_BITS: u32 = 1024;

/// The group sizes a client asks for in group exchange
/// ([RFC 4419 §3](https://www.rfc-editor.org/rfc/rfc4419#section-3)), in bits.
///
/// Must satisfy `1024 <= min <= preferred <= max <= 8192`. The default is OpenSSH's:
/// 2048, 8192, 8192.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GexRequest {
    /// Smallest acceptable prime.
    pub min: u32,
    /// Preferred prime size (`n`).
    pub preferred: u32,
    /// Largest acceptable prime.
    pub max: u32,
}

impl Default for GexRequest {
    fn default() -> Self {
        Self {
            min: 2048,
            preferred: 8192,
            max: 8192,
        }
    }
}

impl GexRequest {
    fn validate_local(self) -> Result<Self, KexError> {
        let ordered = self.min <= self.preferred && self.preferred <= self.max;
        if ordered && self.min >= CLIENT_MIN_BITS && self.max <= MAX_BITS {
            Ok(self)
        } else {
            Err(KexError::InvalidGexRequest {
                min: self.min,
                preferred: self.preferred,
                max: self.max,
            })
        }
    }

    fn write(self, out: &mut Vec<u8>) {
        out.put_u32(self.min);
        out.put_u32(self.preferred);
        out.put_u32(self.max);
    }
}

/// Bit length of a big-endian magnitude without leading zeros.
fn bit_len(magnitude: &[u8]) -> u32 {
    match magnitude.first() {
        None => 0,
        Some(&top) => {
            let bytes = u32::try_from(magnitude.len()).unwrap_or(u32::MAX);
            bytes.saturating_sub(1).saturating_mul(8) + (8 - top.leading_zeros())
        }
    }
}

/// The hash body once both public values are known.
fn hash_body(request: GexRequest, p: &[u8], g: &[u8], e: &[u8], f: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + p.len() + g.len() + e.len() + f.len() + 20);
    request.write(&mut out);
    for value in [p, g, e, f] {
        out.put_mpint_unsigned(value);
    }
    out
}

/// The client side of group exchange.
pub(crate) enum Client {
    /// GEX_REQUEST sent; waiting for GEX_GROUP.
    AwaitGroup(GexRequest),
    /// GEX_INIT sent; waiting for GEX_REPLY.
    AwaitReply(Box<ClientAwaitReply>),
}

/// What the client keeps between GEX_INIT and GEX_REPLY.
pub(crate) struct ClientAwaitReply {
    request: GexRequest,
    p: Vec<u8>,
    g: Vec<u8>,
    group: DhGroup,
    pair: DhKeyPair,
}

/// What one client step produced.
pub(crate) enum ClientProgress {
    /// Send this payload and wait in the new state.
    Send(Client, Vec<u8>),
    /// The exchange is complete.
    Reply(KexReply),
}

impl Client {
    /// Validates our request; returns the state and the GEX_REQUEST payload.
    pub(crate) fn start(request: GexRequest) -> Result<(Self, Vec<u8>), KexError> {
        let request = request.validate_local()?;
        let mut out = vec![msg::KEX_DH_GEX_REQUEST];
        request.write(&mut out);
        Ok((Self::AwaitGroup(request), out))
    }

    /// Handles GEX_GROUP or GEX_REPLY, whichever this state expects.
    pub(crate) fn handle(
        self,
        payload: &[u8],
        rng: &mut dyn SecureRandom,
    ) -> Result<ClientProgress, KexError> {
        match self {
            Self::AwaitGroup(request) => Self::on_group(request, payload, rng),
            Self::AwaitReply(state) => Ok(ClientProgress::Reply(state.on_reply(payload)?)),
        }
    }

    fn on_group(
        request: GexRequest,
        payload: &[u8],
        rng: &mut dyn SecureRandom,
    ) -> Result<ClientProgress, KexError> {
        let mut r = messages::open(payload, msg::KEX_DH_GEX_GROUP)?;
        let p = r.mpint_unsigned()?;
        let g = r.mpint_unsigned()?;
        r.finish()?;
        // Checked on the encoding, before any arithmetic on a possibly huge number.
        let bits = bit_len(p);
        if bits < request.min || bits > request.max {
            return Err(KexError::GroupOutOfRange {
                bits,
                min: request.min,
                max: request.max,
            });
        }
        let group = DhGroup::new(p, g)?;
        let pair = group.generate(rng)?;
        let init = messages::encode_init(msg::KEX_DH_GEX_INIT, ValueEncoding::Mpint, pair.public());
        let state = ClientAwaitReply {
            request,
            p: p.to_vec(),
            g: g.to_vec(),
            group,
            pair,
        };
        Ok(ClientProgress::Send(
            Self::AwaitReply(Box::new(state)),
            init,
        ))
    }
}

impl ClientAwaitReply {
    fn on_reply(self, payload: &[u8]) -> Result<KexReply, KexError> {
        let reply = messages::parse_reply(payload, msg::KEX_DH_GEX_REPLY, ValueEncoding::Mpint)?;
        let f = self.group.check_peer("DH public value f", reply.value)?;
        Ok(KexReply {
            host_key_blob: reply.host_key.to_vec(),
            signature_blob: reply.signature.to_vec(),
            shared_secret: self.group.agree(&self.pair, &f),
            hash_body: hash_body(
                self.request,
                &self.p,
                &self.g,
                self.pair.public(),
                reply.value,
            ),
        })
    }
}

/// The server side of group exchange.
pub(crate) enum Server {
    /// Waiting for GEX_REQUEST.
    AwaitRequest,
    /// GEX_GROUP sent; waiting for GEX_INIT.
    AwaitInit {
        /// The request as received (it enters the hash unclamped).
        request: GexRequest,
        /// The group we picked.
        group: &'static ModpGroup,
    },
}

/// What one server step produced.
pub(crate) enum ServerProgress {
    /// Send this payload and wait in the new state.
    Send(Server, Vec<u8>),
    /// The exchange is complete.
    Reply(ServerReply),
}

impl Server {
    /// Handles GEX_REQUEST or GEX_INIT, whichever this state expects.
    pub(crate) fn handle(
        self,
        payload: &[u8],
        rng: &mut dyn SecureRandom,
    ) -> Result<ServerProgress, KexError> {
        match self {
            Self::AwaitRequest => {
                let mut r = messages::open(payload, msg::KEX_DH_GEX_REQUEST)?;
                let request = GexRequest {
                    min: r.u32()?,
                    preferred: r.u32()?,
                    max: r.u32()?,
                };
                r.finish()?;
                let group = choose_group(request)?;
                let mut out = vec![msg::KEX_DH_GEX_GROUP];
                out.put_mpint_unsigned(group.prime);
                out.put_mpint_unsigned(&[group.generator]);
                Ok(ServerProgress::Send(
                    Self::AwaitInit { request, group },
                    out,
                ))
            }
            Self::AwaitInit { request, group } => {
                let e_bytes =
                    messages::parse_init(payload, msg::KEX_DH_GEX_INIT, ValueEncoding::Mpint)?;
                let dh = DhGroup::builtin(group)?;
                let e = dh.check_peer("DH public value e", e_bytes)?;
                let pair = dh.generate(rng)?;
                let body = hash_body(
                    request,
                    group.prime,
                    &[group.generator],
                    e_bytes,
                    pair.public(),
                );
                Ok(ServerProgress::Reply(ServerReply::new(
                    msg::KEX_DH_GEX_REPLY,
                    ValueEncoding::Mpint,
                    pair.public(),
                    dh.agree(&pair, &e),
                    body,
                )))
            }
        }
    }
}

/// Picks the built-in group for a client's request (see the module documentation).
pub(crate) fn choose_group(request: GexRequest) -> Result<&'static ModpGroup, KexError> {
    let GexRequest {
        min,
        preferred,
        max,
    } = request;
    if max < min || preferred < min || max < preferred || max < SERVER_MIN_BITS {
        return Err(KexError::GexRequestOutOfRange {
            min,
            preferred,
            max,
        });
    }
    let min = min.max(SERVER_MIN_BITS);
    let max = max.min(MAX_BITS);
    let preferred = preferred.clamp(SERVER_MIN_BITS, MAX_BITS);
    let fits = |g: &&ModpGroup| g.bits >= min && g.bits <= max;
    GEX_GROUPS
        .iter()
        .filter(fits)
        .find(|g| g.bits >= preferred)
        .or_else(|| GEX_GROUPS.iter().rev().find(fits))
        .ok_or(KexError::NoMatchingGroup { min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(min: u32, preferred: u32, max: u32) -> Result<u32, KexError> {
        choose_group(GexRequest {
            min,
            preferred,
            max,
        })
        .map(|g| g.bits)
    }

    #[test]
    fn server_picks_smallest_group_at_least_preferred() {
        assert_eq!(chosen(2048, 8192, 8192), Ok(8192));
        assert_eq!(chosen(2048, 3000, 8192), Ok(3072));
        assert_eq!(chosen(2048, 2048, 8192), Ok(2048));
        assert_eq!(chosen(4096, 4096, 4096), Ok(4096));
    }

    #[test]
    fn server_falls_back_to_largest_group_within_max() {
        assert_eq!(chosen(2048, 5000, 5000), Ok(4096));
        assert_eq!(chosen(2048, 7000, 7500), Ok(6144));
    }

    #[test]
    fn server_clamps_requests_to_2048_through_8192() {
        assert_eq!(chosen(1024, 1024, 2048), Ok(2048));
        assert_eq!(chosen(2048, 9000, 10000), Ok(8192));
        assert_eq!(chosen(1024, 1536, 4096), Ok(2048));
    }

    #[test]
    fn server_rejects_inconsistent_or_too_small_requests() {
        for (min, preferred, max) in [
            (4096, 4096, 2048),
            (2048, 1024, 4096),
            (2048, 8192, 4096),
            (1024, 1024, 1536),
        ] {
            assert_eq!(
                chosen(min, preferred, max),
                Err(KexError::GexRequestOutOfRange {
                    min,
                    preferred,
                    max
                })
            );
        }
    }

    #[test]
    fn server_rejects_a_request_no_group_fits() {
        assert_eq!(
            chosen(2100, 2200, 2300),
            Err(KexError::NoMatchingGroup {
                min: 2100,
                max: 2300
            })
        );
        assert_eq!(
            chosen(9000, 9000, 9000),
            Err(KexError::NoMatchingGroup {
                min: 9000,
                max: 8192
            })
        );
    }

    #[test]
    fn client_refuses_an_invalid_local_request() {
        for (min, preferred, max) in [
            (2048, 1024, 8192),
            (4096, 8192, 4096),
            (512, 2048, 8192),
            (2048, 8192, 16384),
        ] {
            let request = GexRequest {
                min,
                preferred,
                max,
            };
            assert_eq!(
                Client::start(request).err(),
                Some(KexError::InvalidGexRequest {
                    min,
                    preferred,
                    max
                })
            );
        }
    }

    #[test]
    fn request_encodes_min_n_max() {
        let (_, payload) = Client::start(GexRequest::default()).expect("valid");
        assert_eq!(payload, [34, 0, 0, 8, 0, 0, 0, 32, 0, 0, 0, 32, 0]);
    }

    #[test]
    fn bit_length_of_magnitudes() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
        assert_eq!(bit_len(&[0x7f; 256]), 2047);
    }
}

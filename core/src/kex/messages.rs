//! Decoding and encoding of the method messages (numbers 30..=49) shared by several
//! methods: an INIT carrying one public value and a REPLY of
//! `string K_S || public value || string signature`.

use super::KexError;
use crate::wire::{Reader, Writer};

/// How a method puts its public values on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueEncoding {
    /// An SSH `string` (ECDH points, X25519 keys, hybrid blobs).
    String,
    /// An SSH `mpint` (finite-field Diffie-Hellman).
    Mpint,
}

impl ValueEncoding {
    fn read<'a>(self, r: &mut Reader<'a>) -> Result<&'a [u8], KexError> {
        Ok(match self {
            Self::String => r.string()?,
            Self::Mpint => r.mpint_unsigned()?,
        })
    }

    /// Appends `value` (raw bytes, or an mpint's magnitude) in this encoding.
    pub(crate) fn write(self, out: &mut Vec<u8>, value: &[u8]) {
        match self {
            Self::String => out.put_string(value),
            Self::Mpint => out.put_mpint_unsigned(value),
        }
    }
}

/// Checks the message number and returns a reader over the rest of the payload.
pub(crate) fn open(payload: &[u8], expected: u8) -> Result<Reader<'_>, KexError> {
    let mut r = Reader::new(payload);
    match r.u8()? {
        n if n == expected => Ok(r),
        n => Err(KexError::UnexpectedMessage(n)),
    }
}

/// Decodes `byte msg || value`, the INIT of the one-round-trip methods; returns the value
/// (an mpint's magnitude for [`ValueEncoding::Mpint`]).
pub(crate) fn parse_init(
    payload: &[u8],
    msg: u8,
    encoding: ValueEncoding,
) -> Result<&[u8], KexError> {
    let mut r = open(payload, msg)?;
    let value = encoding.read(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// Encodes `byte msg || value`.
pub(crate) fn encode_init(msg: u8, encoding: ValueEncoding, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.put_u8(msg);
    encoding.write(&mut out, value);
    out
}

/// A decoded server REPLY, borrowed from the payload.
#[derive(Debug)]
pub(crate) struct Reply<'a> {
    /// `K_S`, the host key blob.
    pub(crate) host_key: &'a [u8],
    /// The server's public value (an mpint's magnitude for [`ValueEncoding::Mpint`]).
    pub(crate) value: &'a [u8],
    /// The signature blob over the exchange hash.
    pub(crate) signature: &'a [u8],
}

/// Decodes `byte msg || string K_S || value || string signature`.
pub(crate) fn parse_reply(
    payload: &[u8],
    msg: u8,
    encoding: ValueEncoding,
) -> Result<Reply<'_>, KexError> {
    let mut r = open(payload, msg)?;
    let host_key = r.string()?;
    let value = encoding.read(&mut r)?;
    let signature = r.string()?;
    r.finish()?;
    Ok(Reply {
        host_key,
        value,
        signature,
    })
}

/// Appends the hash-body form of two public values (`string Q_C || string Q_S` or
/// `mpint e || mpint f`).
pub(crate) fn hash_body(encoding: ValueEncoding, client: &[u8], server: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(client.len() + server.len() + 10);
    encoding.write(&mut out, client);
    encoding.write(&mut out, server);
    out
}

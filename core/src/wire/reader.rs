//! Strict decoding of RFC 4251 §5 data types from a borrowed buffer.

use super::WireError;

/// Largest name-list we accept; OpenSSH caps a KEXINIT name-list well below this.
const MAX_NAME_LIST_LEN: usize = 64 * 1024;

/// A cursor over a received message that decodes RFC 4251 §5 types.
///
/// Every length is checked against the bytes that remain before anything is sliced or
/// allocated, so a hostile length can never make the reader allocate or panic.
///
/// ```
/// use sansh_core::wire::Reader;
/// let mut r = Reader::new(&[0, 0, 0, 2, b'h', b'i', 1]);
/// assert_eq!(r.string().unwrap(), b"hi");
/// assert!(r.bool().unwrap());
/// r.finish().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The unread tail of the buffer, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Returns an error unless every byte has been read (no trailing garbage).
    pub fn finish(&self) -> Result<(), WireError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(WireError::TrailingBytes(extra)),
        }
    }

    /// Takes exactly `len` raw bytes.
    pub fn bytes(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if len > self.remaining() {
            return Err(WireError::Truncated {
                needed: len,
                remaining: self.remaining(),
            });
        }
        let out = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// Takes every byte left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// Reads a `byte`.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.bytes(1)?[0])
    }

    /// Reads a `boolean`: any non-zero value is true (RFC 4251 §5).
    pub fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.u8()? != 0)
    }

    /// Reads a big-endian `uint32`.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a big-endian `uint64`.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads a `string`: a uint32 length then that many bytes, borrowed.
    pub fn string(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.u32()? as usize;
        self.bytes(len)
    }

    /// Reads a `string` that must be valid UTF-8 (RFC 4251 §5 ISO-10646 text).
    pub fn utf8(&mut self) -> Result<&'a str, WireError> {
        std::str::from_utf8(self.string()?).map_err(|_| WireError::InvalidUtf8)
    }

    /// Reads a `name-list`: comma-separated non-empty US-ASCII names.
    pub fn name_list(&mut self) -> Result<NameList<'a>, WireError> {
        let raw = self.string()?;
        NameList::parse(raw)
    }

    /// Reads an `mpint` that must be non-negative, returning its magnitude bytes
    /// (big-endian, no leading zero). Non-minimal encodings are rejected.
    pub fn mpint_unsigned(&mut self) -> Result<&'a [u8], WireError> {
        let raw = self.string()?;
        match raw {
            [] => Ok(raw),
            [first, ..] if first & 0x80 != 0 => Err(WireError::NegativeMpint),
            [0, second, ..] if second & 0x80 != 0 => Ok(&raw[1..]),
            [0, ..] => Err(WireError::NonMinimalMpint),
            _ => Ok(raw),
        }
    }
}

/// A validated `name-list` (RFC 4251 §5), borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameList<'a>(&'a str);

impl<'a> NameList<'a> {
    /// Validates `raw`: printable US-ASCII without spaces, no empty names.
    pub fn parse(raw: &'a [u8]) -> Result<Self, WireError> {
        if raw.len() > MAX_NAME_LIST_LEN {
            return Err(WireError::InvalidNameList);
        }
        let text = std::str::from_utf8(raw).map_err(|_| WireError::InvalidNameList)?;
        let well_formed = text.is_empty()
            || text
                .split(',')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic()));
        if well_formed {
            Ok(Self(text))
        } else {
            Err(WireError::InvalidNameList)
        }
    }

    /// The names, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let text = self.0;
        text.split(',').filter(|n| !n.is_empty())
    }

    /// The list as it appeared on the wire.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// True when `name` is one of the names.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }
}

//! A minimal strict DER reader (ITU-T X.690 §10) for the key structures we import.
//!
//! Only what PKCS#1, SEC1, PKCS#8 and SubjectPublicKeyInfo need: single-byte tags,
//! definite minimal lengths, INTEGER, OCTET STRING, BIT STRING, OID, SEQUENCE and
//! context tags. Every length is checked before slicing.

use super::KeyError;

pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;
/// `[0]` constructed, context-specific (EXPLICIT or a constructed IMPLICIT field).
pub(crate) const CONTEXT_0: u8 = 0xa0;
/// `[1]` constructed, context-specific.
pub(crate) const CONTEXT_1: u8 = 0xa1;
/// `[1]` primitive, context-specific (PKCS#8 v2 publicKey, IMPLICIT BIT STRING).
pub(crate) const CONTEXT_1_PRIMITIVE: u8 = 0x81;

fn malformed(what: &'static str) -> KeyError {
    KeyError::MalformedDer(what)
}

/// A cursor over DER bytes.
#[derive(Clone, Debug)]
pub(crate) struct DerReader<'a> {
    buf: &'a [u8],
}

impl<'a> DerReader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Fails unless every byte has been read.
    pub(crate) fn finish(&self) -> Result<(), KeyError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(malformed("trailing bytes after DER value"))
        }
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// Reads the next element if it carries `tag`.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, KeyError> {
        if self.peek_tag() == Some(tag) {
            self.any().map(|(_, content)| Some(content))
        } else {
            Ok(None)
        }
    }

    /// Reads a BIT STRING with no unused bits, returning its bytes.
    pub(crate) fn bit_string(&mut self, what: &'static str) -> Result<&'a [u8], KeyError> {
        match self.expect(BIT_STRING, what)? {
            [0, rest @ ..] => Ok(rest),
            _ => Err(malformed(what)),
        }
    }

    /// Reads one element, returning its tag and contents.
    pub(crate) fn any(&mut self) -> Result<(u8, &'a [u8]), KeyError> {
        let (&tag, rest) = self.buf.split_first().ok_or(malformed("truncated DER"))?;
        if tag & 0x1f == 0x1f {
            return Err(malformed("multi-byte DER tag"));
        }
        let (&first, rest) = rest.split_first().ok_or(malformed("truncated DER"))?;
        let (len, rest) = match first {
            0..=0x7f => (usize::from(first), rest),
            0x81..=0x84 => {
                let count = usize::from(first & 0x7f);
                if rest.len() < count {
                    return Err(malformed("truncated DER length"));
                }
                let (bytes, rest) = rest.split_at(count);
                if bytes[0] == 0 {
                    return Err(malformed("non-minimal DER length"));
                }
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                if len < 0x80 {
                    return Err(malformed("non-minimal DER length"));
                }
                (len, rest)
            }
            _ => return Err(malformed("unsupported DER length form")),
        };
        if rest.len() < len {
            return Err(malformed("truncated DER value"));
        }
        let (content, rest) = rest.split_at(len);
        self.buf = rest;
        Ok((tag, content))
    }

    /// Reads one element that must carry `tag`.
    pub(crate) fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], KeyError> {
        match self.any()? {
            (t, content) if t == tag => Ok(content),
            _ => Err(malformed(what)),
        }
    }

    /// Reads a SEQUENCE and returns a reader over its contents.
    pub(crate) fn sequence(&mut self, what: &'static str) -> Result<DerReader<'a>, KeyError> {
        self.expect(SEQUENCE, what).map(DerReader::new)
    }

    /// Reads a non-negative INTEGER, returning its magnitude without leading zeros.
    pub(crate) fn uint(&mut self, what: &'static str) -> Result<&'a [u8], KeyError> {
        let content = self.expect(INTEGER, what)?;
        match content {
            [] => Err(malformed(what)),
            [first, ..] if first & 0x80 != 0 => Err(malformed("negative DER INTEGER")),
            [0] => Ok(&content[1..]),
            [0, second, ..] if second & 0x80 == 0 => Err(malformed("non-minimal DER INTEGER")),
            [0, ..] => Ok(&content[1..]),
            _ => Ok(content),
        }
    }

    /// Reads a small non-negative INTEGER (a version or an iteration count).
    pub(crate) fn small_uint(&mut self, what: &'static str) -> Result<u64, KeyError> {
        let magnitude = self.uint(what)?;
        if magnitude.len() > 8 {
            return Err(malformed(what));
        }
        Ok(magnitude
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

/// Appends a DER element.
pub(crate) fn put_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// Appends a non-negative INTEGER from a big-endian magnitude (any leading zeros).
pub(crate) fn put_uint(out: &mut Vec<u8>, magnitude: &[u8]) {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let m = &magnitude[start..];
    let mut content = zeroize::Zeroizing::new(Vec::with_capacity(m.len() + 1));
    if m.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(m);
    put_tlv(out, INTEGER, &content);
}

/// Appends a BIT STRING with no unused bits.
pub(crate) fn put_bit_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    put_tlv(out, BIT_STRING, &content);
}

/// Wraps `content` (already-encoded elements) in a SEQUENCE.
pub(crate) fn sequence(content: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(content.len() + 6));
    put_tlv(&mut out, SEQUENCE, content);
    out
}

/// The dotted form of an OID's DER contents, for error messages.
pub(crate) fn oid_to_string(oid: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &b in oid {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (value / 40).min(2);
                parts.push(first);
                parts.push(value - first * 40);
            } else {
                parts.push(value);
            }
            value = 0;
        }
        if value > u64::MAX >> 8 {
            return "?".into();
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_sequence_of_integers() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x00];
        let mut outer = DerReader::new(&der);
        let mut seq = outer.sequence("seq").unwrap();
        assert_eq!(seq.small_uint("a").unwrap(), 5);
        assert_eq!(seq.uint("b").unwrap(), &[] as &[u8]);
        seq.finish().unwrap();
        outer.finish().unwrap();
    }

    #[test]
    fn long_form_length_is_read() {
        let mut der = vec![0x04, 0x81, 0x80];
        der.extend_from_slice(&[7u8; 0x80]);
        let mut r = DerReader::new(&der);
        assert_eq!(r.expect(OCTET_STRING, "os").unwrap().len(), 0x80);
    }

    #[test]
    fn non_minimal_length_is_rejected() {
        let der = [0x04, 0x81, 0x01, 0x00];
        assert!(DerReader::new(&der).any().is_err());
    }

    #[test]
    fn truncated_value_is_rejected() {
        let der = [0x04, 0x05, 0x00];
        assert!(DerReader::new(&der).any().is_err());
    }

    #[test]
    fn written_integers_and_lengths_read_back() {
        let mut out = Vec::new();
        put_uint(&mut out, &[0x00, 0x80]);
        put_uint(&mut out, &[]);
        put_tlv(&mut out, OCTET_STRING, &[9u8; 300]);
        let mut r = DerReader::new(&out);
        assert_eq!(r.uint("a").unwrap(), &[0x80]);
        assert_eq!(r.uint("b").unwrap(), &[] as &[u8]);
        assert_eq!(r.expect(OCTET_STRING, "c").unwrap().len(), 300);
        r.finish().unwrap();
    }

    #[test]
    fn oid_prints_dotted() {
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
            "1.2.840.10045.2.1"
        );
        assert_eq!(oid_to_string(&[0x2b, 0x65, 0x70]), "1.3.101.112");
    }

    #[test]
    fn negative_integer_is_rejected() {
        let der = [0x02, 0x01, 0x80];
        assert!(DerReader::new(&der).uint("i").is_err());
    }
}

//! A minimal strict DER reader (ITU-T X.690 §10) for the key structures we import.
//!
//! Only what PKCS#1, SEC1, PKCS#8 and SubjectPublicKeyInfo need: single-byte tags,
//! definite minimal lengths, INTEGER, OCTET STRING, BIT STRING, OID, SEQUENCE and
//! context tags. Every length is checked before slicing.

use super::KeyError;

pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const SEQUENCE: u8 = 0x30;

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
    fn negative_integer_is_rejected() {
        let der = [0x02, 0x01, 0x80];
        assert!(DerReader::new(&der).uint("i").is_err());
    }
}

//! Encoding of RFC 4251 §5 data types.

use bytes::{BufMut, BytesMut};

/// Appends RFC 4251 §5 types to a buffer.
///
/// Implemented for `Vec<u8>` and `BytesMut`, so a message can be built straight into
/// the packet buffer it will be sealed in.
///
/// ```
/// use sansh_core::wire::Writer;
/// let mut out = Vec::new();
/// out.put_string(b"ssh-userauth");
/// assert_eq!(&out[..4], &[0, 0, 0, 12]);
/// ```
pub trait Writer {
    /// Appends raw bytes.
    fn put_raw(&mut self, bytes: &[u8]);

    /// Appends a `byte`.
    fn put_u8(&mut self, v: u8) {
        self.put_raw(&[v]);
    }

    /// Appends a `boolean`.
    fn put_bool(&mut self, v: bool) {
        self.put_u8(u8::from(v));
    }

    /// Appends a big-endian `uint32`.
    fn put_u32(&mut self, v: u32) {
        self.put_raw(&v.to_be_bytes());
    }

    /// Appends a big-endian `uint64`.
    fn put_u64(&mut self, v: u64) {
        self.put_raw(&v.to_be_bytes());
    }

    /// Appends a `string`.
    ///
    /// # Panics
    /// If `bytes` is 4 GiB or longer, which no SSH message can carry.
    fn put_string(&mut self, bytes: &[u8]) {
        let len = u32::try_from(bytes.len()).expect("SSH string longer than 4 GiB");
        self.put_u32(len);
        self.put_raw(bytes);
    }

    /// Appends a `name-list` from its names.
    fn put_name_list<S: AsRef<str>>(&mut self, names: &[S]) {
        let len: usize =
            names.iter().map(|n| n.as_ref().len()).sum::<usize>() + names.len().saturating_sub(1);
        self.put_u32(len as u32);
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                self.put_raw(b",");
            }
            self.put_raw(n.as_ref().as_bytes());
        }
    }

    /// Appends a non-negative `mpint` from big-endian magnitude bytes (leading zeros
    /// are stripped, and a zero byte is added when the top bit is set).
    fn put_mpint_unsigned(&mut self, magnitude: &[u8]) {
        let start = magnitude
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(magnitude.len());
        let m = &magnitude[start..];
        let pad = m.first().is_some_and(|&b| b & 0x80 != 0);
        self.put_u32((m.len() + usize::from(pad)) as u32);
        if pad {
            self.put_u8(0);
        }
        self.put_raw(m);
    }
}

impl Writer for Vec<u8> {
    fn put_raw(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Writer for BytesMut {
    fn put_raw(&mut self, bytes: &[u8]) {
        self.put_slice(bytes);
    }
}

impl Writer for zeroize::Zeroizing<Vec<u8>> {
    fn put_raw(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

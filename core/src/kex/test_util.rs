//! Helpers for the key exchange tests.

use crate::crypto::SecureRandom;

/// Decodes a hex string (test vectors); panics on bad input.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).expect("ascii");
            u8::from_str_radix(text, 16).expect("hex digit")
        })
        .collect()
}

/// A generator that hands out exactly the bytes it was given, so a test can inject a
/// published private key; drawing more than that is a test bug and panics.
pub(crate) struct ScriptedRandom {
    bytes: Vec<u8>,
    used: usize,
}

impl ScriptedRandom {
    /// Serves `bytes`, in order.
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self { bytes, used: 0 }
    }
}

impl SecureRandom for ScriptedRandom {
    fn fill(&mut self, dest: &mut [u8]) {
        let end = self.used + dest.len();
        assert!(
            end <= self.bytes.len(),
            "test drew more random bytes than scripted"
        );
        dest.copy_from_slice(&self.bytes[self.used..end]);
        self.used = end;
    }
}

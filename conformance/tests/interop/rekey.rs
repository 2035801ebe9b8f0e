//! What the rekey rows share: the payload pushed through `cat`, and the check that
//! it came back intact.
//!
//! OpenSSH neither starts nor accepts a key re-exchange before user authentication,
//! so every rekey row authenticates with a public key, opens a session channel, runs
//! `cat` (sshd's real one, or the echo handler of `rekey_server`) and pushes
//! [`PAYLOAD_LEN`] bytes through it while keys are re-exchanged, by the peer's byte
//! limit (`RekeyLimit`) or by our `rekey()`; the bytes must come back unchanged and
//! the command's exit status 0 must arrive after them.

/// Bytes pushed through `cat`: with a 16 or 32 KiB `RekeyLimit` each direction
/// crosses the limit several times, and a row still takes well under a second.
pub(crate) const PAYLOAD_LEN: usize = 256 * 1024;

/// After how many echoed bytes the side under test calls `rekey()`: early enough
/// that most of the payload crosses the new keys.
pub(crate) const REKEY_AFTER: usize = PAYLOAD_LEN / 4;

/// The payload: a deterministic pseudo-random byte stream (xorshift64), so that a
/// dropped, repeated or reordered chunk cannot go unnoticed.
pub(crate) fn payload() -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..PAYLOAD_LEN)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Checks that `received` is `sent`, naming the first difference.
pub(crate) fn check_intact(sent: &[u8], received: &[u8]) -> Result<(), String> {
    if let Some(at) = sent.iter().zip(received).position(|(a, b)| a != b) {
        return Err(format!(
            "the data came back corrupted from byte {at} on ({} of {} bytes received)",
            received.len(),
            sent.len()
        ));
    }
    if sent.len() == received.len() {
        Ok(())
    } else {
        Err(format!(
            "{} bytes sent through cat, {} came back",
            sent.len(),
            received.len()
        ))
    }
}

/// How many lines of `log` contain `needle`.
pub(crate) fn count_lines(log: &str, needle: &str) -> usize {
    log.lines().filter(|line| line.contains(needle)).count()
}

/// The row label's suffix for a strict or non-strict key exchange.
pub(crate) fn strictness(strict: bool) -> &'static str {
    if strict { "strict" } else { "non-strict" }
}

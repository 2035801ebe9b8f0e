//! The identification string exchange (RFC 4253 §4.2).

use crate::error::PeerMisbehaved;

/// Longest identification line, CR LF included (RFC 4253 §4.2).
const MAX_LINE: usize = 255;

/// Reads the peer's identification line from the start of the byte stream.
///
/// A client tolerates up to `max_preamble_lines` other lines before the server's
/// version line (RFC 4253 §4.2); a server accepts none. Lines may end in CR LF or in a
/// bare LF, as OpenSSH tolerates.
#[derive(Debug)]
pub(crate) struct IdentReader {
    allow_preamble: bool,
    max_preamble_lines: usize,
    preamble_lines: usize,
    line: Vec<u8>,
}

/// What a chunk of input did to the identification exchange.
pub(crate) enum IdentProgress {
    /// More bytes are needed; everything given was consumed.
    NeedMore,
    /// The version line is complete: the peer's identification (without CR LF) and how
    /// many input bytes it took; the rest belongs to the binary packet protocol.
    Done { version: String, consumed: usize },
}

impl IdentReader {
    pub(crate) fn new(allow_preamble: bool, max_preamble_lines: usize) -> Self {
        Self {
            allow_preamble,
            max_preamble_lines,
            preamble_lines: 0,
            line: Vec::new(),
        }
    }

    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<IdentProgress, PeerMisbehaved> {
        for (i, &byte) in input.iter().enumerate() {
            if byte != b'\n' {
                if self.line.len() >= MAX_LINE {
                    return Err(PeerMisbehaved::BadIdentification(
                        "line longer than 255 bytes",
                    ));
                }
                self.line.push(byte);
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.starts_with(b"SSH-") {
                return Ok(IdentProgress::Done {
                    version: validate_version(&line)?,
                    consumed: i + 1,
                });
            }
            if !self.allow_preamble {
                return Err(PeerMisbehaved::BadIdentification(
                    "client did not start with SSH-",
                ));
            }
            self.preamble_lines += 1;
            if self.preamble_lines > self.max_preamble_lines {
                return Err(PeerMisbehaved::TooManyPreambleLines);
            }
        }
        // A server knows early when a client's first bytes cannot be a version line.
        if !self.allow_preamble && !b"SSH-".starts_with(&self.line[..self.line.len().min(4)]) {
            return Err(PeerMisbehaved::BadIdentification(
                "client did not start with SSH-",
            ));
        }
        Ok(IdentProgress::NeedMore)
    }
}

fn validate_version(line: &[u8]) -> Result<String, PeerMisbehaved> {
    let text = std::str::from_utf8(line)
        .map_err(|_| PeerMisbehaved::BadIdentification("not valid UTF-8"))?;
    if text.bytes().any(|b| b.is_ascii_control()) {
        return Err(PeerMisbehaved::BadIdentification(
            "control character in version line",
        ));
    }
    let rest = text
        .strip_prefix("SSH-2.0-")
        .or_else(|| text.strip_prefix("SSH-1.99-"))
        .ok_or(PeerMisbehaved::BadIdentification(
            "protocol version is not 2.0",
        ))?;
    let software = rest.split(' ').next().unwrap_or_default();
    if software.is_empty() {
        return Err(PeerMisbehaved::BadIdentification("empty software version"));
    }
    Ok(text.to_owned())
}

/// Our identification line, CR LF included.
pub(crate) fn our_identification(software_version: &str, out: &mut Vec<u8>) -> String {
    let clean: String = software_version
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '-')
        .take(MAX_LINE - 12)
        .collect();
    let line = format!("SSH-2.0-{clean}");
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(r: Result<IdentProgress, PeerMisbehaved>) -> (String, usize) {
        match r {
            Ok(IdentProgress::Done { version, consumed }) => (version, consumed),
            Ok(IdentProgress::NeedMore) => panic!("needs more"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn client_skips_preamble_lines_and_keeps_trailing_bytes() {
        let mut r = IdentReader::new(true, 10);
        let input = b"hello\r\nworld\nSSH-2.0-OpenSSH_10.0 Debian\r\n\x00\x00";
        let (version, consumed) = done(r.feed(input));
        assert_eq!(version, "SSH-2.0-OpenSSH_10.0 Debian");
        assert_eq!(&input[consumed..], b"\x00\x00");
    }

    #[test]
    fn byte_at_a_time_works() {
        let mut r = IdentReader::new(false, 0);
        let input = b"SSH-2.0-x\r\n";
        for &b in &input[..input.len() - 1] {
            assert!(matches!(r.feed(&[b]), Ok(IdentProgress::NeedMore)));
        }
        assert_eq!(done(r.feed(b"\n")).0, "SSH-2.0-x");
    }

    #[test]
    fn server_rejects_any_preamble() {
        let mut r = IdentReader::new(false, 0);
        assert!(r.feed(b"GET / HTTP/1.1\r\n").is_err());
    }

    #[test]
    fn too_many_preamble_lines_fail() {
        let mut r = IdentReader::new(true, 2);
        assert_eq!(
            r.feed(b"a\nb\nc\n").err(),
            Some(PeerMisbehaved::TooManyPreambleLines)
        );
    }

    #[test]
    fn overlong_line_fails() {
        let mut r = IdentReader::new(true, 10);
        assert!(r.feed(&[b'a'; 300]).is_err());
    }

    #[test]
    fn ssh1_is_rejected_and_199_accepted() {
        assert!(IdentReader::new(false, 0).feed(b"SSH-1.5-old\r\n").is_err());
        let mut r = IdentReader::new(false, 0);
        assert_eq!(done(r.feed(b"SSH-1.99-compat\r\n")).0, "SSH-1.99-compat");
    }
}

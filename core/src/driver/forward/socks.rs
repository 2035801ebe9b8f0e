//! The server side of SOCKS 4, 4a (<https://www.openssh.com/txt/socks4.protocol>,
//! <https://www.openssh.com/txt/socks4a.protocol>) and 5 (RFC 1928), CONNECT only and
//! without authentication, as `ssh -D` speaks it: a sans-IO parser fed with the bytes
//! a client sends, answering with the bytes to send back.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Longest user id (SOCKS 4) or domain name (4a) accepted: OpenSSH's limit too.
const MAX_NAME: usize = 255;

/// SOCKS 5 reply codes (RFC 1928 §6).
mod rep {
    pub(super) const SUCCEEDED: u8 = 0;
    pub(super) const GENERAL_FAILURE: u8 = 1;
    pub(super) const NOT_ALLOWED: u8 = 2;
    pub(super) const COMMAND_NOT_SUPPORTED: u8 = 7;
    pub(super) const ADDRESS_TYPE_NOT_SUPPORTED: u8 = 8;
}

/// The SOCKS version a client spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocksVersion {
    /// SOCKS 4, or 4a when the client sent a domain name.
    V4,
    /// SOCKS 5 (RFC 1928).
    V5,
}

/// A client's CONNECT request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocksRequest {
    /// The version the client spoke, which the reply must match.
    pub version: SocksVersion,
    /// The host to connect to: an IPv4 or IPv6 address in text, or a domain name.
    pub host: String,
    /// The port to connect to.
    pub port: u16,
}

impl SocksRequest {
    /// The reply telling the client the connection is made; relaying starts after it.
    pub fn success_reply(&self) -> Vec<u8> {
        match self.version {
            // VN 0, CD 90, then a port and address the client ignores.
            SocksVersion::V4 => vec![0, 90, 0, 0, 0, 0, 0, 0],
            SocksVersion::V5 => v5_reply(rep::SUCCEEDED),
        }
    }

    /// The reply telling the client the connection failed (the channel open was
    /// refused); close the stream after sending it.
    pub fn failure_reply(&self) -> Vec<u8> {
        match self.version {
            SocksVersion::V4 => vec![0, 91, 0, 0, 0, 0, 0, 0],
            SocksVersion::V5 => v5_reply(rep::GENERAL_FAILURE),
        }
    }
}

/// A SOCKS 5 reply with an unspecified IPv4 bound address (RFC 1928 §6).
fn v5_reply(code: u8) -> Vec<u8> {
    vec![5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

/// What the client sent that we cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocksError {
    /// The first byte names no SOCKS version we speak.
    #[error("not a SOCKS 4 or 5 request (version byte {0})")]
    UnknownVersion(u8),
    /// A command other than CONNECT (BIND, UDP ASSOCIATE).
    #[error("SOCKS command {0} is not supported, only CONNECT")]
    UnsupportedCommand(u8),
    /// A SOCKS 5 client offered no "no authentication" method.
    #[error("the SOCKS 5 client offers no method without authentication")]
    NoAcceptableMethod,
    /// An address type other than IPv4, domain name and IPv6.
    #[error("SOCKS 5 address type {0} is not supported")]
    UnsupportedAddressType(u8),
    /// A malformed field (reserved byte, an empty or too long name, ...).
    #[error("malformed SOCKS request: {0}")]
    Malformed(&'static str),
}

impl SocksError {
    /// What to send the client before closing, if its version expects a reply.
    pub fn reply(&self, version: Option<SocksVersion>) -> Option<Vec<u8>> {
        match (version?, self) {
            (SocksVersion::V4, _) => Some(vec![0, 91, 0, 0, 0, 0, 0, 0]),
            (SocksVersion::V5, SocksError::NoAcceptableMethod) => Some(vec![5, 0xff]),
            (SocksVersion::V5, SocksError::UnsupportedCommand(_)) => {
                Some(v5_reply(rep::COMMAND_NOT_SUPPORTED))
            }
            (SocksVersion::V5, SocksError::UnsupportedAddressType(_)) => {
                Some(v5_reply(rep::ADDRESS_TYPE_NOT_SUPPORTED))
            }
            (SocksVersion::V5, _) => Some(v5_reply(rep::NOT_ALLOWED)),
        }
    }
}

/// What to do after feeding the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocksStep {
    /// Read more from the client.
    NeedMore,
    /// Send these bytes to the client (the SOCKS 5 method choice), then feed again.
    Send(Vec<u8>),
    /// The client asks to connect; answer with [`SocksRequest::success_reply`] or
    /// [`SocksRequest::failure_reply`]. Bytes the client sent after its request are
    /// in [`SocksServer::take_leftover`].
    Connect(SocksRequest),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    V5Request,
    Done,
}

/// The SOCKS server handshake of one client, sans-IO.
///
/// ```
/// use sansh_core::driver::forward::{SocksServer, SocksStep};
///
/// let mut socks = SocksServer::new();
/// // SOCKS 5: offer "no authentication"
/// assert_eq!(socks.feed(&[5, 1, 0]), Ok(SocksStep::Send(vec![5, 0])));
/// // CONNECT example.com:80
/// let mut request = vec![5, 1, 0, 3, 11];
/// request.extend_from_slice(b"example.com");
/// request.extend_from_slice(&80u16.to_be_bytes());
/// let SocksStep::Connect(target) = socks.feed(&request).unwrap() else { panic!() };
/// assert_eq!((target.host.as_str(), target.port), ("example.com", 80));
/// ```
#[derive(Debug)]
pub struct SocksServer {
    buf: Vec<u8>,
    phase: Phase,
    version: Option<SocksVersion>,
}

impl Default for SocksServer {
    fn default() -> Self {
        Self::new()
    }
}

impl SocksServer {
    /// A handshake waiting for the client's first bytes.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            phase: Phase::Start,
            version: None,
        }
    }

    /// The version the client speaks, once its first byte is in.
    pub fn version(&self) -> Option<SocksVersion> {
        self.version
    }

    /// Bytes the client sent after its CONNECT request (to relay to the target).
    pub fn take_leftover(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Takes `data` from the client and says what to do next.
    ///
    /// # Errors
    /// [`SocksError`] when the client asked for something we do not serve or sent
    /// garbage; send [`SocksError::reply`] (with [`Self::version`]) and close.
    pub fn feed(&mut self, data: &[u8]) -> Result<SocksStep, SocksError> {
        if self.phase == Phase::Done {
            return Err(SocksError::Malformed("data after the request was answered"));
        }
        // A handshake is a few hundred bytes at most; anything bigger is not SOCKS.
        if self.buf.len() + data.len() > 4 * 1024 && self.phase != Phase::Done {
            return Err(SocksError::Malformed("request too long"));
        }
        self.buf.extend_from_slice(data);
        match self.phase {
            Phase::Start => self.start(),
            Phase::V5Request => self.v5_request(),
            Phase::Done => Ok(SocksStep::NeedMore),
        }
    }

    fn start(&mut self) -> Result<SocksStep, SocksError> {
        let Some(&version) = self.buf.first() else {
            return Ok(SocksStep::NeedMore);
        };
        match version {
            4 => {
                self.version = Some(SocksVersion::V4);
                self.v4()
            }
            5 => {
                self.version = Some(SocksVersion::V5);
                self.v5_greeting()
            }
            other => Err(SocksError::UnknownVersion(other)),
        }
    }

    /// VN CD DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL when DSTIP is 0.0.0.x].
    fn v4(&mut self) -> Result<SocksStep, SocksError> {
        let Some(head) = self.buf.get(..8) else {
            return Ok(SocksStep::NeedMore);
        };
        let command = head[1];
        let port = u16::from_be_bytes([head[2], head[3]]);
        let ip = Ipv4Addr::new(head[4], head[5], head[6], head[7]);
        if command != 1 {
            return Err(SocksError::UnsupportedCommand(command));
        }
        let rest = &self.buf[8..];
        let Some(user_end) = null_within(rest, MAX_NAME)? else {
            return Ok(SocksStep::NeedMore);
        };
        let mut end = 8 + user_end + 1;
        // SOCKS 4a: 0.0.0.x with x nonzero means "the name follows".
        let octets = ip.octets();
        let host = if octets[..3] == [0, 0, 0] && octets[3] != 0 {
            let rest = &self.buf[end..];
            let Some(name_end) = null_within(rest, MAX_NAME)? else {
                return Ok(SocksStep::NeedMore);
            };
            let name = domain(&rest[..name_end])?;
            end += name_end + 1;
            name
        } else {
            ip.to_string()
        };
        self.buf.drain(..end);
        self.phase = Phase::Done;
        Ok(SocksStep::Connect(SocksRequest {
            version: SocksVersion::V4,
            host,
            port,
        }))
    }

    /// VER NMETHODS METHODS...
    fn v5_greeting(&mut self) -> Result<SocksStep, SocksError> {
        let Some(&count) = self.buf.get(1) else {
            return Ok(SocksStep::NeedMore);
        };
        let end = 2 + usize::from(count);
        let Some(methods) = self.buf.get(2..end) else {
            return Ok(SocksStep::NeedMore);
        };
        if !methods.contains(&0) {
            return Err(SocksError::NoAcceptableMethod);
        }
        self.buf.drain(..end);
        self.phase = Phase::V5Request;
        Ok(SocksStep::Send(vec![5, 0]))
    }

    /// VER CMD RSV ATYP DST.ADDR DST.PORT
    fn v5_request(&mut self) -> Result<SocksStep, SocksError> {
        let Some(head) = self.buf.get(..4) else {
            return Ok(SocksStep::NeedMore);
        };
        let (version, command, reserved, kind) = (head[0], head[1], head[2], head[3]);
        if version != 5 {
            return Err(SocksError::Malformed("request version is not 5"));
        }
        if command != 1 {
            return Err(SocksError::UnsupportedCommand(command));
        }
        if reserved != 0 {
            return Err(SocksError::Malformed("reserved byte is not zero"));
        }
        let (host, address_end) = match kind {
            1 => {
                let Some(b) = self.buf.get(4..8) else {
                    return Ok(SocksStep::NeedMore);
                };
                (Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(), 8)
            }
            3 => {
                let Some(&len) = self.buf.get(4) else {
                    return Ok(SocksStep::NeedMore);
                };
                let end = 5 + usize::from(len);
                let Some(name) = self.buf.get(5..end) else {
                    return Ok(SocksStep::NeedMore);
                };
                (domain(name)?, end)
            }
            4 => {
                let Some(b) = self.buf.get(4..20) else {
                    return Ok(SocksStep::NeedMore);
                };
                let mut octets = [0u8; 16];
                octets.copy_from_slice(b);
                (Ipv6Addr::from(octets).to_string(), 20)
            }
            other => return Err(SocksError::UnsupportedAddressType(other)),
        };
        let Some(p) = self.buf.get(address_end..address_end + 2) else {
            return Ok(SocksStep::NeedMore);
        };
        let port = u16::from_be_bytes([p[0], p[1]]);
        self.buf.drain(..address_end + 2);
        self.phase = Phase::Done;
        Ok(SocksStep::Connect(SocksRequest {
            version: SocksVersion::V5,
            host,
            port,
        }))
    }
}

/// The index of the NUL ending a string at the start of `bytes`, if it has come;
/// an error if none comes within `max` bytes.
fn null_within(bytes: &[u8], max: usize) -> Result<Option<usize>, SocksError> {
    match bytes.iter().position(|&b| b == 0) {
        Some(i) if i <= max => Ok(Some(i)),
        Some(_) => Err(SocksError::Malformed("name too long")),
        None if bytes.len() > max => Err(SocksError::Malformed("name too long")),
        None => Ok(None),
    }
}

/// A domain name as sent: non-empty printable ASCII without spaces.
fn domain(bytes: &[u8]) -> Result<String, SocksError> {
    if bytes.is_empty() {
        return Err(SocksError::Malformed("empty domain name"));
    }
    if !bytes.iter().all(|b| b.is_ascii_graphic()) {
        return Err(SocksError::Malformed("domain name is not printable ASCII"));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(socks: &mut SocksServer, bytes: &[u8]) -> SocksRequest {
        match socks.feed(bytes) {
            Ok(SocksStep::Connect(request)) => request,
            other => panic!("expected a CONNECT, got {other:?}"),
        }
    }

    fn v5_after_greeting() -> SocksServer {
        let mut socks = SocksServer::new();
        assert_eq!(socks.feed(&[5, 2, 2, 0]), Ok(SocksStep::Send(vec![5, 0])));
        socks
    }

    #[test]
    fn socks4_connect_to_an_ipv4_address() {
        let mut socks = SocksServer::new();
        let request = connect(&mut socks, &[4, 1, 0, 80, 10, 1, 2, 3, b'b', b'o', b'b', 0]);
        assert_eq!(
            request,
            SocksRequest {
                version: SocksVersion::V4,
                host: "10.1.2.3".into(),
                port: 80
            }
        );
        assert_eq!(request.success_reply(), [0, 90, 0, 0, 0, 0, 0, 0]);
        assert_eq!(request.failure_reply()[1], 91);
    }

    #[test]
    fn socks4a_connect_to_a_domain_name() {
        let mut socks = SocksServer::new();
        let mut bytes = vec![4, 1, 0x1f, 0x90, 0, 0, 0, 1, 0];
        bytes.extend_from_slice(b"example.org\0");
        let request = connect(&mut socks, &bytes);
        assert_eq!((request.host.as_str(), request.port), ("example.org", 8080));
    }

    #[test]
    fn a_request_split_byte_by_byte_parses_the_same() {
        let mut bytes = vec![4, 1, 0x1f, 0x90, 0, 0, 0, 1, b'u', 0];
        bytes.extend_from_slice(b"example.org\0");
        let mut socks = SocksServer::new();
        let (last, head) = bytes.split_last().unwrap();
        for byte in head {
            assert_eq!(socks.feed(&[*byte]), Ok(SocksStep::NeedMore));
        }
        assert_eq!(connect(&mut socks, &[*last]).host, "example.org");
    }

    #[test]
    fn socks5_connect_to_ipv4_ipv6_and_domain() {
        let mut socks = v5_after_greeting();
        let request = connect(&mut socks, &[5, 1, 0, 1, 127, 0, 0, 1, 0, 22]);
        assert_eq!((request.host.as_str(), request.port), ("127.0.0.1", 22));
        assert_eq!(request.success_reply(), [5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);

        let mut socks = v5_after_greeting();
        let mut bytes = vec![5, 1, 0, 4];
        bytes.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        bytes.extend_from_slice(&443u16.to_be_bytes());
        let request = connect(&mut socks, &bytes);
        assert_eq!((request.host.as_str(), request.port), ("::1", 443));

        let mut socks = v5_after_greeting();
        let mut bytes = vec![5, 1, 0, 3, 9];
        bytes.extend_from_slice(b"localhost");
        bytes.extend_from_slice(&[0, 7]);
        let request = connect(&mut socks, &bytes);
        assert_eq!((request.host.as_str(), request.port), ("localhost", 7));
    }

    #[test]
    fn bytes_after_the_request_are_kept_for_the_target() {
        let mut socks = v5_after_greeting();
        connect(&mut socks, &[5, 1, 0, 1, 127, 0, 0, 1, 0, 22, b'h', b'i']);
        assert_eq!(socks.take_leftover(), b"hi");
    }

    #[test]
    fn socks5_without_the_no_auth_method_is_refused() {
        let mut socks = SocksServer::new();
        let error = socks.feed(&[5, 1, 2]).unwrap_err();
        assert_eq!(error, SocksError::NoAcceptableMethod);
        assert_eq!(error.reply(socks.version()), Some(vec![5, 0xff]));
    }

    #[test]
    fn bind_and_udp_are_refused_with_command_not_supported() {
        let mut socks = v5_after_greeting();
        let error = socks.feed(&[5, 2, 0, 1, 1, 2, 3, 4, 0, 1]).unwrap_err();
        assert_eq!(error, SocksError::UnsupportedCommand(2));
        assert_eq!(error.reply(socks.version()).unwrap()[1], 7);

        let mut socks = SocksServer::new();
        let error = socks.feed(&[4, 2, 0, 1, 1, 2, 3, 4, 0]).unwrap_err();
        assert_eq!(error.reply(socks.version()).unwrap()[1], 91);
    }

    #[test]
    fn unknown_address_type_is_refused() {
        let mut socks = v5_after_greeting();
        let error = socks.feed(&[5, 1, 0, 9, 0, 0]).unwrap_err();
        assert_eq!(error, SocksError::UnsupportedAddressType(9));
        assert_eq!(error.reply(socks.version()).unwrap()[1], 8);
    }

    #[test]
    fn a_non_socks_first_byte_is_refused_without_reply() {
        let mut socks = SocksServer::new();
        let error = socks.feed(b"GET / HTTP/1.1\r\n").unwrap_err();
        assert_eq!(error, SocksError::UnknownVersion(b'G'));
        assert_eq!(error.reply(socks.version()), None);
    }

    #[test]
    fn an_endless_user_id_is_refused() {
        let mut socks = SocksServer::new();
        assert_eq!(
            socks.feed(&[4, 1, 0, 80, 1, 2, 3, 4]),
            Ok(SocksStep::NeedMore)
        );
        let error = socks.feed(&[b'a'; 300]).unwrap_err();
        assert_eq!(error, SocksError::Malformed("name too long"));
    }

    #[test]
    fn empty_and_unprintable_domains_are_refused() {
        let mut socks = v5_after_greeting();
        assert!(socks.feed(&[5, 1, 0, 3, 0, 0, 80]).is_err());
        let mut socks = v5_after_greeting();
        assert!(socks.feed(&[5, 1, 0, 3, 2, b'a', b' ', 0, 80]).is_err());
    }
}

//! The options field of an `authorized_keys` line, read as OpenSSH's
//! `sshauthopt_parse` reads it.

use super::expiry::parse_expiry_time;
use super::permissions::{EnvVar, ForwardPermission, Permissions, TunnelDevice};

/// OpenSSH refuses to collect more than this many `environment=` options (plus one).
const MAX_ENVIRONMENT: usize = 1024;
/// OpenSSH refuses to collect more than this many `permitopen=`/`permitlisten=` (plus one).
const MAX_PERMITS: usize = 4096;
/// `NI_MAXHOST`: a forwarding host name must be shorter.
const MAX_HOST_LEN: usize = 1025;
/// The largest tunnel unit (`SSH_TUNID_MAX`).
const MAX_TUNNEL_UNIT: u32 = 0x7fff_fffd;

/// Why an options field was refused (and its line skipped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionError {
    /// An option that takes a value lacks its opening `"`.
    #[error("{0}= value must start with a double quote")]
    MissingStartQuote(&'static str),
    /// A quoted value is not closed.
    #[error("{0}= value has no closing double quote")]
    MissingEndQuote(&'static str),
    /// `command=`, `principals=` or `from=` given twice.
    #[error("multiple {0}= options")]
    Duplicate(&'static str),
    /// `expiry-time=` is not `YYYYMMDD[HHMM[SS]]` after the epoch.
    #[error("invalid expiry-time {0:?}")]
    InvalidExpiryTime(String),
    /// `environment=` is not `NAME=value` with a name of letters, digits and `_`.
    #[error("invalid environment {0:?}")]
    InvalidEnvironment(String),
    /// More `environment=` options than OpenSSH accepts.
    #[error("too many environment options")]
    TooManyEnvironment,
    /// A `permitopen=`/`permitlisten=` host is missing, unbracketed wrongly or too long.
    #[error("invalid forwarding host in {0:?}")]
    InvalidPermitHost(String),
    /// A `permitopen=`/`permitlisten=` port is missing, not `*` and not 1 to 65535.
    #[error("invalid forwarding port in {0:?}")]
    InvalidPermitPort(String),
    /// More `permitopen=`/`permitlisten=` options than OpenSSH accepts.
    #[error("too many forwarding permissions")]
    TooManyPermits,
    /// `tunnel=` is not `any` or a device number.
    #[error("invalid tunnel device {0:?}")]
    InvalidTunnel(String),
    /// A word that is not an option (or an option followed by something other than a
    /// comma or a blank).
    #[error("unknown option {0:?}")]
    Unknown(String),
    /// The field ends with a comma.
    #[error("options end with a comma")]
    UnexpectedEnd,
}

/// The options of one `authorized_keys` line (sshd(8) "AUTHORIZED_KEYS FILE FORMAT").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyOptions {
    /// `cert-authority`: the key is a CA trusted to sign user certificates.
    pub cert_authority: bool,
    /// `principals="a,b"`: certificate principals accepted instead of the user name.
    pub principals: Option<String>,
    /// `from="pattern-list"`: host names and addresses (CIDR, globs, `!`) the client
    /// must come from.
    pub from: Option<String>,
    /// `expiry-time=`: seconds since the Unix epoch after which the line no longer
    /// applies (the earliest, if given more than once).
    pub expiry_time: Option<u64>,
    /// What the line grants: the flag options, `restrict`, `command=`,
    /// `environment=`, `permitopen=`, `permitlisten=` and `tunnel=`.
    pub permissions: Permissions,
}

impl KeyOptions {
    /// Parses an options field: comma-separated options, values in double quotes
    /// (where `\"` stands for a quote and commas and blanks are literal).
    ///
    /// Option names are case-insensitive. The field ends at the first space or tab
    /// outside quotes; anything after it is ignored, as sshd ignores it. Options
    /// between commas may be empty (`a,,b`), but the field may not end with a comma.
    ///
    /// Ports must be plain decimal numbers: sshd also takes service names (which needs
    /// a database the engine does not read) and signs or blanks before the digits, and
    /// a line refused here for that is one key less, never one more.
    pub fn parse(field: &str) -> Result<Self, OptionError> {
        let mut options = Self::default();
        let mut rest = field;
        while !rest.is_empty() && !rest.starts_with([' ', '\t']) {
            let start = rest;
            rest = options.parse_one(rest)?;
            match rest.as_bytes().first() {
                None | Some(b' ' | b'\t') => break,
                Some(b',') => {
                    rest = rest.get(1..).unwrap_or_default();
                    if rest.is_empty() {
                        return Err(OptionError::UnexpectedEnd);
                    }
                }
                Some(_) => return Err(OptionError::Unknown(option_word(start))),
            }
        }
        Ok(options)
    }

    /// Parses the option at the start of `s` (if any is recognised) and returns what
    /// follows it; the order of the flag checks is OpenSSH's, as names are matched as
    /// prefixes.
    fn parse_one<'a>(&mut self, s: &'a str) -> Result<&'a str, OptionError> {
        let grants = &mut self.permissions;
        if let Some(rest) = flag(s, "restrict") {
            grants.restricted = true;
            grants.port_forwarding = false;
            grants.agent_forwarding = false;
            grants.x11_forwarding = false;
            grants.pty = false;
            grants.user_rc = false;
            return Ok(rest);
        }
        if let Some(rest) = flag(s, "cert-authority") {
            self.cert_authority = true;
            return Ok(rest);
        }
        let negatable: [(&str, &mut bool); 5] = [
            ("port-forwarding", &mut grants.port_forwarding),
            ("agent-forwarding", &mut grants.agent_forwarding),
            ("x11-forwarding", &mut grants.x11_forwarding),
            ("touch-required", &mut grants.no_touch_required),
            ("verify-required", &mut grants.verify_required),
        ];
        for (name, target) in negatable {
            if let Some((rest, positive)) = negatable_flag(s, name) {
                // touch-required is stored the other way round, as no_touch_required.
                *target = if name == "touch-required" {
                    !positive
                } else {
                    positive
                };
                return Ok(rest);
            }
        }
        for (name, target) in [("pty", &mut grants.pty), ("user-rc", &mut grants.user_rc)] {
            if let Some((rest, positive)) = negatable_flag(s, name) {
                *target = positive;
                return Ok(rest);
            }
        }
        if let Some(rest) = valued(s, "command") {
            if grants.force_command.is_some() {
                return Err(OptionError::Duplicate("command"));
            }
            let (value, rest) = dequote(rest, "command")?;
            grants.force_command = Some(value);
            return Ok(rest);
        }
        if let Some(rest) = valued(s, "principals") {
            if self.principals.is_some() {
                return Err(OptionError::Duplicate("principals"));
            }
            let (value, rest) = dequote(rest, "principals")?;
            self.principals = Some(value);
            return Ok(rest);
        }
        if let Some(rest) = valued(s, "from") {
            if self.from.is_some() {
                return Err(OptionError::Duplicate("from"));
            }
            let (value, rest) = dequote(rest, "from")?;
            self.from = Some(value);
            return Ok(rest);
        }
        if let Some(rest) = valued(s, "expiry-time") {
            let (value, rest) = dequote(rest, "expiry-time")?;
            let time = parse_expiry_time(&value).ok_or(OptionError::InvalidExpiryTime(value))?;
            self.expiry_time = Some(self.expiry_time.map_or(time, |t| t.min(time)));
            return Ok(rest);
        }
        if let Some(rest) = valued(s, "environment") {
            if grants.environment.len() > MAX_ENVIRONMENT {
                return Err(OptionError::TooManyEnvironment);
            }
            let (value, rest) = dequote(rest, "environment")?;
            let var = parse_environment(&value).ok_or(OptionError::InvalidEnvironment(value))?;
            if !grants.environment.iter().any(|v| v.name == var.name) {
                grants.environment.push(var);
            }
            return Ok(rest);
        }
        for (name, bare_port) in [("permitopen", false), ("permitlisten", true)] {
            if let Some(rest) = valued(s, name) {
                let list = if bare_port {
                    &mut grants.permit_listen
                } else {
                    &mut grants.permit_open
                };
                if list.len() > MAX_PERMITS {
                    return Err(OptionError::TooManyPermits);
                }
                let (value, rest) = dequote(rest, name)?;
                list.push(parse_permission(&value, bare_port)?);
                return Ok(rest);
            }
        }
        if let Some(rest) = valued(s, "tunnel") {
            let (value, rest) = dequote(rest, "tunnel")?;
            grants.tunnel = Some(parse_tunnel(&value).ok_or(OptionError::InvalidTunnel(value))?);
            return Ok(rest);
        }
        Ok(s)
    }
}

/// `s` past a case-insensitive `prefix`, if it starts with it.
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.as_bytes().get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix.as_bytes()) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// A flag that cannot be negated.
fn flag<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    strip_prefix_ignore_case(s, name)
}

/// A flag that may be written `no-name`; returns what follows and whether it is the
/// positive form.
fn negatable_flag<'a>(s: &'a str, name: &str) -> Option<(&'a str, bool)> {
    match strip_prefix_ignore_case(s, "no-") {
        Some(negated) => strip_prefix_ignore_case(negated, name).map(|rest| (rest, false)),
        None => strip_prefix_ignore_case(s, name).map(|rest| (rest, true)),
    }
}

/// An option `name=`; returns what follows the `=`.
fn valued<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    strip_prefix_ignore_case(s, name)?.strip_prefix('=')
}

/// Reads a double-quoted value (`\"` is a quote; nothing else is an escape) and returns
/// it and what follows the closing quote.
fn dequote<'a>(s: &'a str, option: &'static str) -> Result<(String, &'a str), OptionError> {
    let body = s
        .strip_prefix('"')
        .ok_or(OptionError::MissingStartQuote(option))?;
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((value, body.get(i + 1..).unwrap_or_default())),
            '\\' if chars.peek().is_some_and(|&(_, next)| next == '"') => {
                chars.next();
                value.push('"');
            }
            other => value.push(other),
        }
    }
    Err(OptionError::MissingEndQuote(option))
}

/// The option word starting `s`, for an error message: up to a comma or a blank.
fn option_word(s: &str) -> String {
    let end = s.find([',', ' ', '\t']).unwrap_or(s.len());
    s.get(..end).unwrap_or(s).to_owned()
}

/// `NAME=value` with a non-empty name of ASCII letters, digits and `_`.
fn parse_environment(text: &str) -> Option<EnvVar> {
    let (name, value) = text.split_once('=')?;
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    valid.then(|| EnvVar {
        name: name.to_owned(),
        value: value.to_owned(),
    })
}

/// A `permitopen` (`host:port`) or `permitlisten` (`[host:]port`) value, checked as
/// OpenSSH's `handle_permit` does: the host may be `[bracketed]` (IPv6), `:` or `/`
/// separates the port, and the port is `*` or 1 to 65535.
fn parse_permission(value: &str, bare_port: bool) -> Result<ForwardPermission, OptionError> {
    let spec = if bare_port && !value.contains(':') {
        format!("*:{value}")
    } else {
        value.to_owned()
    };
    let (host, port) =
        split_host_port(&spec).ok_or_else(|| OptionError::InvalidPermitHost(value.to_owned()))?;
    if host.len() >= MAX_HOST_LEN {
        return Err(OptionError::InvalidPermitHost(value.to_owned()));
    }
    let invalid_port = || OptionError::InvalidPermitPort(value.to_owned());
    let port = match port.ok_or_else(invalid_port)? {
        "*" => None,
        digits => Some(parse_port(digits).ok_or_else(invalid_port)?),
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok(ForwardPermission {
        host: host.to_owned(),
        port,
    })
}

/// OpenSSH's `hpdelim2`: the host (brackets kept) and, after a `:` or `/`, the rest.
fn split_host_port(spec: &str) -> Option<(&str, Option<&str>)> {
    let host_end = if spec.starts_with('[') {
        spec.find(']')? + 1
    } else {
        spec.find([':', '/']).unwrap_or(spec.len())
    };
    let (host, rest) = spec.split_at(host_end);
    match rest.as_bytes().first() {
        None => Some((host, None)),
        Some(b':' | b'/') => Some((host, rest.get(1..))),
        Some(_) => None,
    }
}

fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u16>().ok().filter(|&p| p != 0)
}

fn parse_tunnel(value: &str) -> Option<TunnelDevice> {
    if value.eq_ignore_ascii_case("any") {
        return Some(TunnelDevice::Any);
    }
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value
        .parse::<u32>()
        .ok()
        .filter(|&unit| unit <= MAX_TUNNEL_UNIT)
        .map(TunnelDevice::Unit)
}

//! OpenSSH host patterns: `*`/`?` globs, comma lists with `!` negation, and address
//! lists that mix CIDR blocks with globs.
//!
//! These are the rules of sshd(8) and ssh_config(5) "PATTERNS", with the exact corner
//! cases of OpenSSH's `match.c` and `addrmatch.c`, so that a `known_hosts` host field,
//! an `authorized_keys` `from=` list or (later) an `ssh_config` `Host` line selects
//! what OpenSSH selects:
//!
//! - In a glob, `*` matches any run of bytes (including none) and `?` exactly one byte;
//!   every other byte matches itself.
//! - A pattern list is comma-separated; a pattern written `!pattern` is negated. A
//!   negated match decides the whole list ([`ListMatch::Negated`]), whatever else
//!   matched; otherwise one positive match is enough.
//! - Host names are compared case-insensitively (ASCII): both the name and the patterns
//!   are lowercased ([`match_host_name`]).
//! - Address lists ([`match_address_list`]) take `addr/len` CIDR blocks as well as
//!   globs over the address text; an empty entry or an inconsistent CIDR block (prefix
//!   too long, host bits set) makes the whole list invalid.
//!
//! Matching is linear-time in practice (a glob backtracks only to its last `*`), so a
//! hostile pattern cannot make a lookup explode.

use std::net::IpAddr;

/// OpenSSH copies each pattern of a list into a 1 KiB buffer and gives up on the whole
/// list when one does not fit (`match_pattern_list`).
const MAX_PATTERN_LEN: usize = 1023;

/// OpenSSH reads a CIDR candidate into a 64-byte buffer; longer text is not CIDR.
const MAX_CIDR_TEXT: usize = 63;

/// How a pattern list matched a name or address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListMatch {
    /// No pattern matched.
    NoMatch,
    /// A pattern matched and no negated pattern did.
    Positive,
    /// A negated (`!pattern`) pattern matched: the list excludes the name.
    Negated,
}

impl ListMatch {
    /// Whether the list selects the name: a positive match and no negated one.
    pub fn is_positive(self) -> bool {
        self == ListMatch::Positive
    }
}

/// Why an address list (`from=` in `authorized_keys`) cannot be evaluated.
///
/// OpenSSH treats such a list as "invalid criteria" and refuses the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The list has an empty entry (`a,,b`, a trailing comma, a lone `!` or nothing).
    #[error("empty entry in address list")]
    EmptyEntry,
    /// A CIDR block whose prefix is longer than its address family allows, or whose
    /// address has bits set beyond the prefix.
    #[error("inconsistent CIDR block {0:?}")]
    InvalidCidr(String),
}

/// Whether `text` matches the glob `pattern` (`*` any run, `?` one byte), byte for
/// byte and case-sensitively.
///
/// ```
/// use sansh_core::host_pattern::glob_matches;
///
/// assert!(glob_matches("*.example.org", "www.example.org"));
/// assert!(!glob_matches("*.example.org", "example.org"));
/// assert!(glob_matches("10.0.?.*", "10.0.7.42"));
/// ```
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    // Where to resume after the last `*`: the pattern just past it and the text
    // position it currently absorbs up to. Backtracking only to the last star is
    // complete for `*`/`?` globs, and keeps matching O(len(pattern) * len(text)).
    let mut resume: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                resume = Some((p, t));
            }
            Some(&want) if want == b'?' || want == c => {
                p += 1;
                t += 1;
            }
            _ => match resume {
                Some((star_p, star_t)) => {
                    p = star_p;
                    t = star_t + 1;
                    resume = Some((star_p, t));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Matches `text` against a comma-separated pattern list with `!` negation, as
/// OpenSSH's `match_pattern_list` does.
///
/// With `fold_case`, the patterns are lowercased (ASCII) before matching; `text` is
/// used as given. An empty pattern (`a,,b`, a leading comma) matches only the empty
/// text; a trailing comma adds no pattern. A list holding a pattern longer than 1023
/// bytes matches nothing, as in OpenSSH.
pub fn match_list(text: &str, list: &str, fold_case: bool) -> ListMatch {
    let mut positive = false;
    for item in list_items(list) {
        let (negated, pattern) = match item.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        if pattern.len() >= MAX_PATTERN_LEN {
            return ListMatch::NoMatch;
        }
        let matched = if fold_case && pattern.bytes().any(|b| b.is_ascii_uppercase()) {
            glob_matches(&pattern.to_ascii_lowercase(), text)
        } else {
            glob_matches(pattern, text)
        };
        if matched {
            if negated {
                return ListMatch::Negated;
            }
            positive = true;
        }
    }
    if positive {
        ListMatch::Positive
    } else {
        ListMatch::NoMatch
    }
}

/// Matches a host name against a pattern list, ignoring ASCII case (OpenSSH's
/// `match_hostname`).
///
/// ```
/// use sansh_core::host_pattern::{match_host_name, ListMatch};
///
/// assert_eq!(match_host_name("WWW.Example.org", "*.example.org"), ListMatch::Positive);
/// assert_eq!(match_host_name("db.example.org", "*.example.org,!db.*"), ListMatch::Negated);
/// ```
pub fn match_host_name(host: &str, list: &str) -> ListMatch {
    match_list(&host.to_ascii_lowercase(), list, true)
}

/// Matches an address against a list of CIDR blocks and globs with `!` negation
/// (OpenSSH's `addr_match_list`), as used by `from=`.
///
/// Each entry is first read as a CIDR block (`192.0.2.0/24`, `2001:db8::/32`, or a bare
/// address meaning a single host); an entry that is not an address is matched as a
/// glob against the address text (`192.0.2.*`). IPv4-mapped IPv6 addresses are matched
/// as the IPv4 address they carry, as sshd reports them.
///
/// # Errors
/// [`PatternError`] for an empty entry or an inconsistent CIDR block met before any
/// negated match.
pub fn match_address_list(address: IpAddr, list: &str) -> Result<ListMatch, PatternError> {
    let address = canonical_address(address);
    let text = address.to_string();
    let mut positive = false;
    // Unlike host pattern lists, every comma-separated piece counts, even a trailing
    // empty one (OpenSSH splits these with strsep).
    for item in list.split(',') {
        let (negated, entry) = match item.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        if entry.is_empty() {
            return Err(PatternError::EmptyEntry);
        }
        let matched = match parse_cidr(entry) {
            CidrParse::Block(block) => block.contains(address),
            CidrParse::Invalid => return Err(PatternError::InvalidCidr(entry.to_owned())),
            CidrParse::NotCidr => glob_matches(entry, &text),
        };
        if matched {
            if negated {
                return Ok(ListMatch::Negated);
            }
            positive = true;
        }
    }
    Ok(if positive {
        ListMatch::Positive
    } else {
        ListMatch::NoMatch
    })
}

/// Whether a client passes a `from=` list: OpenSSH's `match_host_and_ip`.
///
/// `host` is the client's host name as the server knows it; sshd uses the address text
/// unless `UseDNS` is on, and so should callers that do not resolve names. The client
/// passes when the host name or the address matches positively and neither matches a
/// negated pattern.
///
/// # Errors
/// [`PatternError`] when the list is invalid as an address list; sshd then refuses.
pub fn match_host_and_address(
    host: &str,
    address: IpAddr,
    list: &str,
) -> Result<bool, PatternError> {
    let by_address = match_address_list(address, list)?;
    if by_address == ListMatch::Negated {
        return Ok(false);
    }
    let by_name = match_host_name(host, list);
    if by_name == ListMatch::Negated {
        return Ok(false);
    }
    Ok(by_name.is_positive() || by_address.is_positive())
}

/// The pieces of a host pattern list as OpenSSH's `match_pattern_list` walks it: an
/// empty list has none, and a trailing comma does not start another.
fn list_items(list: &str) -> impl Iterator<Item = &str> {
    let trimmed = list.strip_suffix(',').unwrap_or(list);
    let empty = list.is_empty();
    trimmed.split(',').filter(move |_| !empty)
}

/// The address sshd would report: IPv4-mapped IPv6 becomes plain IPv4.
pub(crate) fn canonical_address(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// A network block: an address and a prefix length valid for its family, with no
/// bits set beyond the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CidrBlock {
    network: IpAddr,
    prefix: u32,
}

enum CidrParse {
    Block(CidrBlock),
    /// Not an address: the entry is a glob.
    NotCidr,
    /// An address with an impossible prefix or host bits set.
    Invalid,
}

/// Reads `entry` as OpenSSH's `addr_pton_cidr` does.
fn parse_cidr(entry: &str) -> CidrParse {
    if entry.len() > MAX_CIDR_TEXT {
        return CidrParse::NotCidr;
    }
    let (addr, prefix) = match entry.split_once('/') {
        Some((addr, len)) => {
            if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
                return CidrParse::NotCidr;
            }
            match len.parse::<u32>() {
                Ok(n) if n <= 128 => (addr, Some(n)),
                _ => return CidrParse::NotCidr,
            }
        }
        None => (entry, None),
    };
    let Ok(network) = addr.parse::<IpAddr>() else {
        return CidrParse::NotCidr;
    };
    let width = family_width(network);
    let prefix = prefix.unwrap_or(width);
    if prefix > width || host_bits(network, prefix) != 0 {
        return CidrParse::Invalid;
    }
    CidrParse::Block(CidrBlock { network, prefix })
}

impl CidrBlock {
    fn contains(&self, address: IpAddr) -> bool {
        if self.network.is_ipv4() != address.is_ipv4() {
            return false;
        }
        let mask = prefix_mask(family_width(address), self.prefix);
        address_bits(address) & mask == address_bits(self.network) & mask
    }
}

fn family_width(address: IpAddr) -> u32 {
    if address.is_ipv4() { 32 } else { 128 }
}

fn address_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(v4.to_bits()),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

/// The mask of the top `prefix` bits of a `width`-bit address, right-aligned in a u128.
fn prefix_mask(width: u32, prefix: u32) -> u128 {
    let all = u128::MAX >> (128 - width);
    let host = all.checked_shr(prefix).unwrap_or(0);
    all & !host
}

fn host_bits(address: IpAddr, prefix: u32) -> u128 {
    address_bits(address) & !prefix_mask(family_width(address), prefix)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

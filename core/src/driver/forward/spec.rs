//! ssh(1)'s forwarding arguments: `-L`, `-R`, `-D` and `-J`, parsed into values the
//! forwarding API takes.

/// One end of a forward: a TCP host and port, or a Unix socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A TCP address; `host` may be a name, an address (IPv6 without brackets),
    /// `""` for every address, or `localhost`.
    Tcp {
        /// The host or bind address.
        host: String,
        /// The port (0: any, for a listening end).
        port: u16,
    },
    /// A Unix-domain socket path.
    Unix(String),
}

/// A `-L` or `-R` argument: where to listen and where to connect each connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardSpec {
    /// The listening end (local for `-L`, on the server for `-R`).
    pub listen: Endpoint,
    /// The end each connection goes to (reached by the server for `-L`, by us for
    /// `-R`).
    pub connect: Endpoint,
}

/// A `-J` hop: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    /// The user to log in as, if given.
    pub user: Option<String>,
    /// The host (IPv6 without brackets).
    pub host: String,
    /// The port, if given (22 otherwise).
    pub port: Option<u16>,
}

/// What is wrong with a forwarding argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The argument has the wrong number of fields.
    #[error("bad forwarding specification {0:?}")]
    Shape(String),
    /// A port is not a number from 0 to 65535 (1 to 65535 where 0 makes no sense).
    #[error("bad port {0:?}")]
    Port(String),
    /// A `[` without its `]`.
    #[error("unbalanced brackets in {0:?}")]
    Brackets(String),
    /// An empty host or socket path.
    #[error("empty host in {0:?}")]
    EmptyHost(String),
}

/// Splits at `:` outside brackets, removing the brackets of IPv6 addresses.
fn fields(spec: &str) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut bracket = false;
    for c in spec.chars() {
        match c {
            '[' if !bracket && current.is_empty() => bracket = true,
            ']' if bracket => bracket = false,
            ':' if !bracket => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if bracket {
        return Err(SpecError::Brackets(spec.to_owned()));
    }
    out.push(current);
    Ok(out)
}

fn port(text: &str, allow_zero: bool) -> Result<u16, SpecError> {
    match text.parse::<u16>() {
        Ok(0) if !allow_zero => Err(SpecError::Port(text.to_owned())),
        Ok(port) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
        _ => Err(SpecError::Port(text.to_owned())),
    }
}

fn is_path(field: &str) -> bool {
    field.contains('/')
}

/// A listening end: `[bind:]port` or a socket path. `default_host` stands for a
/// missing bind address; `*` and an empty one mean every address (`""`).
fn listen_end(fields: &[String], default_host: &str) -> Result<Endpoint, SpecError> {
    match fields {
        [path] if is_path(path) => Ok(Endpoint::Unix(path.clone())),
        [p] => Ok(Endpoint::Tcp {
            host: default_host.to_owned(),
            port: port(p, true)?,
        }),
        [host, p] => {
            let host = if host == "*" { "" } else { host.as_str() };
            Ok(Endpoint::Tcp {
                host: host.to_owned(),
                port: port(p, true)?,
            })
        }
        _ => Err(SpecError::Shape(fields.join(":"))),
    }
}

/// A connecting end: `host:port` or a socket path.
fn connect_end(fields: &[String], spec: &str) -> Result<Endpoint, SpecError> {
    match fields {
        [path] if is_path(path) => Ok(Endpoint::Unix(path.clone())),
        [host, p] if !host.is_empty() => Ok(Endpoint::Tcp {
            host: host.clone(),
            port: port(p, false)?,
        }),
        [_, _] => Err(SpecError::EmptyHost(spec.to_owned())),
        _ => Err(SpecError::Shape(spec.to_owned())),
    }
}

/// Splits the fields into a listening end (first) and a connecting end (last),
/// trying the shapes ssh accepts: the connecting end is one field (a path) or two
/// (`host:port`).
fn forward(spec: &str, default_host: &str) -> Result<ForwardSpec, SpecError> {
    let all = fields(spec)?;
    let last_is_path = all.last().is_some_and(|f| is_path(f));
    let split = if last_is_path {
        all.len().saturating_sub(1)
    } else {
        all.len().saturating_sub(2)
    };
    if split == 0 || split > 2 {
        return Err(SpecError::Shape(spec.to_owned()));
    }
    let (listen, connect) = all.split_at(split);
    Ok(ForwardSpec {
        listen: listen_end(listen, default_host)?,
        connect: connect_end(connect, spec)?,
    })
}

/// Parses a `-L` argument: `[bind_address:]port:host:hostport`,
/// `[bind_address:]port:remote_socket`, `local_socket:host:hostport` or
/// `local_socket:remote_socket`. Without a bind address the forward listens on
/// `localhost`; `*` or an empty one means every address.
///
/// # Errors
/// [`SpecError`] naming what does not parse.
pub fn parse_local_forward(spec: &str) -> Result<ForwardSpec, SpecError> {
    forward(spec, "localhost")
}

/// Parses a `-R` argument: `[bind_address:]port:host:hostport`,
/// `[bind_address:]port:local_socket`, `remote_socket:host:hostport` or
/// `remote_socket:local_socket`. Without a bind address the server is asked for
/// `localhost` (as ssh does); `*` or an empty one asks for every address (`""`).
///
/// # Errors
/// [`SpecError`] naming what does not parse.
pub fn parse_remote_forward(spec: &str) -> Result<ForwardSpec, SpecError> {
    forward(spec, "localhost")
}

/// Parses a `-D` argument: `[bind_address:]port`.
///
/// # Errors
/// [`SpecError`] naming what does not parse.
pub fn parse_dynamic_forward(spec: &str) -> Result<Endpoint, SpecError> {
    let all = fields(spec)?;
    match listen_end(&all, "localhost")? {
        Endpoint::Unix(_) => Err(SpecError::Shape(spec.to_owned())),
        tcp => Ok(tcp),
    }
}

/// Parses a `-J` argument: hops `[user@]host[:port]` separated by commas, the
/// first hop first; `none` is no hop.
///
/// # Errors
/// [`SpecError`] naming the hop that does not parse.
pub fn parse_jump_hosts(spec: &str) -> Result<Vec<JumpHost>, SpecError> {
    if spec == "none" {
        return Ok(Vec::new());
    }
    spec.split(',').map(jump_host).collect()
}

fn jump_host(hop: &str) -> Result<JumpHost, SpecError> {
    let hop_body = hop.strip_prefix("ssh://").unwrap_or(hop);
    let (user, rest) = match hop_body.rsplit_once('@') {
        Some((user, rest)) if !user.is_empty() => (Some(user.to_owned()), rest),
        Some(_) => return Err(SpecError::Shape(hop.to_owned())),
        None => (None, hop_body),
    };
    let parts = fields(rest)?;
    let (host, port_number) = match parts.as_slice() {
        [host] => (host.clone(), None),
        [host, p] => (host.clone(), Some(port(p, false)?)),
        // An unbracketed IPv6 address without a port.
        _ if rest.parse::<std::net::Ipv6Addr>().is_ok() => (rest.to_owned(), None),
        _ => return Err(SpecError::Shape(hop.to_owned())),
    };
    if host.is_empty() {
        return Err(SpecError::EmptyHost(hop.to_owned()));
    }
    Ok(JumpHost {
        user,
        host,
        port: port_number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn local_forward_without_bind_address_listens_on_localhost() {
        let spec = parse_local_forward("8080:example.com:80").unwrap();
        assert_eq!(spec.listen, tcp("localhost", 8080));
        assert_eq!(spec.connect, tcp("example.com", 80));
    }

    #[test]
    fn bind_addresses_take_brackets_and_star() {
        let spec = parse_local_forward("[::1]:0:[2001:db8::1]:22").unwrap();
        assert_eq!(spec.listen, tcp("::1", 0));
        assert_eq!(spec.connect, tcp("2001:db8::1", 22));
        let spec = parse_remote_forward("*:9000:localhost:22").unwrap();
        assert_eq!(spec.listen, tcp("", 9000));
        let spec = parse_remote_forward(":9000:localhost:22").unwrap();
        assert_eq!(spec.listen, tcp("", 9000));
    }

    #[test]
    fn socket_paths_on_either_end() {
        let spec = parse_local_forward("/tmp/l.sock:/run/r.sock").unwrap();
        assert_eq!(spec.listen, Endpoint::Unix("/tmp/l.sock".into()));
        assert_eq!(spec.connect, Endpoint::Unix("/run/r.sock".into()));
        let spec = parse_local_forward("127.0.0.1:5000:/run/r.sock").unwrap();
        assert_eq!(spec.listen, tcp("127.0.0.1", 5000));
        let spec = parse_remote_forward("/tmp/r.sock:localhost:80").unwrap();
        assert_eq!(spec.listen, Endpoint::Unix("/tmp/r.sock".into()));
        assert_eq!(spec.connect, tcp("localhost", 80));
    }

    #[test]
    fn malformed_forwards_are_refused() {
        assert!(matches!(
            parse_local_forward("8080"),
            Err(SpecError::Shape(_))
        ));
        assert!(matches!(
            parse_local_forward("a:b:c:d:e"),
            Err(SpecError::Shape(_))
        ));
        assert!(matches!(
            parse_local_forward("x:host:80"),
            Err(SpecError::Port(_))
        ));
        assert!(matches!(
            parse_local_forward("80:host:0"),
            Err(SpecError::Port(_))
        ));
        assert!(matches!(
            parse_local_forward("80:host:+1"),
            Err(SpecError::Port(_))
        ));
        assert!(matches!(
            parse_local_forward("[::1:80:h:1"),
            Err(SpecError::Brackets(_))
        ));
        assert!(matches!(
            parse_local_forward("80::1"),
            Err(SpecError::EmptyHost(_))
        ));
    }

    #[test]
    fn dynamic_forward_takes_an_optional_bind_address() {
        assert_eq!(
            parse_dynamic_forward("1080").unwrap(),
            tcp("localhost", 1080)
        );
        assert_eq!(
            parse_dynamic_forward("0.0.0.0:1080").unwrap(),
            tcp("0.0.0.0", 1080)
        );
        assert!(parse_dynamic_forward("a:b:c").is_err());
    }

    #[test]
    fn jump_hosts_are_a_comma_separated_list() {
        let hops = parse_jump_hosts("alice@bastion:2222,inner,[::1]:22,bob@fe80::1").unwrap();
        assert_eq!(
            hops,
            vec![
                JumpHost {
                    user: Some("alice".into()),
                    host: "bastion".into(),
                    port: Some(2222)
                },
                JumpHost {
                    user: None,
                    host: "inner".into(),
                    port: None
                },
                JumpHost {
                    user: None,
                    host: "::1".into(),
                    port: Some(22)
                },
                JumpHost {
                    user: Some("bob".into()),
                    host: "fe80::1".into(),
                    port: None
                },
            ]
        );
        assert_eq!(parse_jump_hosts("none").unwrap(), vec![]);
        assert!(parse_jump_hosts("a,,b").is_err());
        assert!(parse_jump_hosts("@host").is_err());
    }
}

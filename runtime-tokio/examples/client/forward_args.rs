//! The forwarding arguments (`-L`, `-D`, `-J` and their `-o` forms) as the
//! options take them: `GatewayPorts` applied, jump users filled in.

use sansh_tokio::core::driver::forward::{
    Endpoint, ForwardSpec, JumpHost, parse_dynamic_forward, parse_jump_hosts, parse_local_forward,
    parse_remote_forward,
};

/// The forwards and hops, parsed.
pub(crate) struct Forwards {
    pub(crate) local: Vec<ForwardSpec>,
    pub(crate) remote: Vec<ForwardSpec>,
    pub(crate) dynamic: Vec<Endpoint>,
    pub(crate) jump: Vec<JumpHost>,
}

impl Forwards {
    /// Parses each kind's flags then `-o` values (all of them: forwards
    /// accumulate), and the jump hosts.
    pub(crate) fn resolve(
        local: [Vec<String>; 2],
        remote: [Vec<String>; 2],
        dynamic: [Vec<String>; 2],
        jump: Option<String>,
        gateway_ports: bool,
    ) -> Result<Self, String> {
        Ok(Self {
            local: local
                .iter()
                .flatten()
                .map(|spec| local_forward(spec, gateway_ports))
                .collect::<Result<_, _>>()?,
            remote: remote
                .iter()
                .flatten()
                .map(|spec| parse_remote_forward(spec).map_err(|e| format!("-R {spec}: {e}")))
                .collect::<Result<_, _>>()?,
            dynamic: dynamic
                .iter()
                .flatten()
                .map(|spec| dynamic_forward(spec, gateway_ports))
                .collect::<Result<_, _>>()?,
            jump: match jump {
                Some(spec) => jump_hosts(&spec)?,
                None => Vec::new(),
            },
        })
    }
}

/// ssh_config's `listen target` as the command line's `listen:target`.
pub(crate) fn forward_option(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(":")
}

/// Whether a forward's listening end names its bind address (else `GatewayPorts`
/// decides between loopback and every address).
fn names_bind_address(spec: &str, listen: &Endpoint, fields_without_bind: usize) -> bool {
    let Endpoint::Tcp { .. } = listen else {
        return true;
    };
    // Colons inside brackets belong to an IPv6 address, not to the spec.
    let mut depth = 0usize;
    let mut colons = 0usize;
    for c in spec.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => colons += 1,
            _ => {}
        }
    }
    colons + 1 > fields_without_bind
}

/// A `-L`: loopback unless a bind address is given or `GatewayPorts` is set.
fn local_forward(spec: &str, gateway_ports: bool) -> Result<ForwardSpec, String> {
    let mut forward = parse_local_forward(spec).map_err(|e| format!("-L {spec}: {e}"))?;
    let target_fields = match forward.connect {
        Endpoint::Tcp { .. } => 2,
        Endpoint::Unix(_) => 1,
    };
    if gateway_ports && !names_bind_address(spec, &forward.listen, target_fields + 1) {
        if let Endpoint::Tcp { host, .. } = &mut forward.listen {
            host.clear();
        }
    }
    Ok(forward)
}

/// A `-D`: loopback unless a bind address is given or `GatewayPorts` is set.
fn dynamic_forward(spec: &str, gateway_ports: bool) -> Result<Endpoint, String> {
    let mut listen = parse_dynamic_forward(spec).map_err(|e| format!("-D {spec}: {e}"))?;
    if gateway_ports && !names_bind_address(spec, &listen, 1) {
        if let Endpoint::Tcp { host, .. } = &mut listen {
            host.clear();
        }
    }
    Ok(listen)
}

/// `-J`: each hop's user defaults to ours, as ssh's `ProxyJump` logs in.
fn jump_hosts(spec: &str) -> Result<Vec<JumpHost>, String> {
    let mut hops = parse_jump_hosts(spec).map_err(|e| format!("-J {spec}: {e}"))?;
    for hop in &mut hops {
        if hop.user.is_none() {
            hop.user = Some(crate::args::local_user()?);
        }
    }
    Ok(hops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(end: &Endpoint) -> &str {
        match end {
            Endpoint::Tcp { host, .. } => host,
            Endpoint::Unix(path) => path,
        }
    }

    #[test]
    fn gateway_ports_opens_only_forwards_without_a_bind_address() {
        let open = |spec| local_forward(spec, true).expect("parse").listen;
        assert_eq!(host(&open("8080:db:5432")), "");
        assert_eq!(host(&open("127.0.0.1:8081:db:5432")), "127.0.0.1");
        assert_eq!(host(&open("[::1]:8081:db:5432")), "::1");
        assert_eq!(host(&dynamic_forward("1080", true).expect("parse")), "");
        assert_eq!(
            host(&dynamic_forward("127.0.0.1:1080", true).expect("parse")),
            "127.0.0.1"
        );
    }

    #[test]
    fn without_gateway_ports_forwards_listen_on_loopback() {
        let listen = local_forward("8080:db:5432", false).expect("parse").listen;
        assert_eq!(host(&listen), "localhost");
        assert_eq!(
            host(&dynamic_forward("1080", false).expect("parse")),
            "localhost"
        );
    }

    #[test]
    fn jump_hosts_keep_their_users_and_get_ours_otherwise() {
        let hops = jump_hosts("u@b:2,c").expect("parse");
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].user.as_deref(), Some("u"));
        assert_eq!(hops[0].port, Some(2));
        assert!(hops[1].user.is_some());
    }

    #[test]
    fn flags_and_options_each_add_a_forward() {
        let both = |a: &str, b: &str| [vec![a.to_owned()], vec![b.to_owned()]];
        let forwards = Forwards::resolve(
            both("1:db:5", &forward_option("2 web:80")),
            both("0:localhost:22", "/tmp/s:/tmp/t"),
            both("1080", "1081"),
            None,
            false,
        )
        .expect("parse");
        assert_eq!(forwards.local.len(), 2);
        assert_eq!(
            forwards.local[1].connect,
            Endpoint::Tcp {
                host: "web".into(),
                port: 80
            }
        );
        assert_eq!(forwards.remote[1].listen, Endpoint::Unix("/tmp/s".into()));
        assert_eq!(forwards.dynamic.len(), 2);
        assert!(forwards.jump.is_empty());
    }

    #[test]
    fn config_form_joins_its_two_ends() {
        assert_eq!(forward_option("8080  db:5432"), "8080:db:5432");
    }
}

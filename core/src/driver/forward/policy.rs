//! What a server lets a client forward: the server's own settings (sshd's
//! `AllowTcpForwarding`, `AllowStreamLocalForwarding`, `AllowAgentForwarding`,
//! `GatewayPorts`) narrowed by the authorized key's options (`no-port-forwarding`,
//! `no-agent-forwarding`, `permitopen`, `permitlisten`, `restrict`) and the user
//! certificate's extensions (`permit-port-forwarding`, `permit-agent-forwarding`).

use crate::auth::AuthenticatedUser;
use crate::authorized_keys;

/// Why a forwarding request is refused; its text goes to the client as the
/// channel open failure's description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardRefusal {
    /// TCP forwarding is off (server setting, `no-port-forwarding`, or a
    /// certificate without `permit-port-forwarding`).
    #[error("port forwarding is disabled")]
    TcpDisabled,
    /// Unix socket forwarding is off.
    #[error("stream local forwarding is disabled")]
    StreamlocalDisabled,
    /// Agent forwarding is off.
    #[error("agent forwarding is disabled")]
    AgentDisabled,
    /// `permitopen` does not list the target.
    #[error("permitopen does not allow {host}:{port}")]
    NotPermittedOpen {
        /// The requested host.
        host: String,
        /// The requested port.
        port: u32,
    },
    /// `permitlisten` does not list the address.
    #[error("permitlisten does not allow {host}:{port}")]
    NotPermittedListen {
        /// The requested address.
        host: String,
        /// The requested port.
        port: u32,
    },
}

/// The forwarding a server allows one authenticated client.
///
/// Start from [`Self::allow_all`] (or [`Self::deny_all`]) as the server's
/// settings, then narrow it by the user ([`Self::for_user`]: the certificate's
/// extensions as the authentication layer merged them) and by the key's
/// `authorized_keys` options ([`Self::with_key_options`]).
///
/// ```
/// use sansh_core::authorized_keys::KeyOptions;
/// use sansh_core::driver::forward::ForwardingPolicy;
///
/// let options = KeyOptions::parse(r#"permitopen="localhost:80""#).unwrap();
/// let policy = ForwardingPolicy::allow_all().with_key_options(&options.permissions);
/// assert!(policy.check_direct_tcpip("localhost", 80).is_ok());
/// assert!(policy.check_direct_tcpip("localhost", 22).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardingPolicy {
    /// TCP forwarding both ways (`direct-tcpip`, `tcpip-forward`).
    pub tcp: bool,
    /// Unix socket forwarding both ways (`direct-streamlocal@openssh.com`,
    /// `streamlocal-forward@openssh.com`).
    pub streamlocal: bool,
    /// Agent forwarding (`auth-agent-req@openssh.com`).
    pub agent: bool,
    /// Remote forwards may listen on other addresses than loopback (sshd's
    /// `GatewayPorts yes`); otherwise they always bind loopback.
    pub gateway_ports: bool,
    /// Where `direct-tcpip` may connect; empty allows anywhere (`permitopen`).
    pub permit_open: Vec<authorized_keys::ForwardPermission>,
    /// Where `tcpip-forward` may listen; empty allows anywhere (`permitlisten`).
    pub permit_listen: Vec<authorized_keys::ForwardPermission>,
}

impl ForwardingPolicy {
    /// Everything allowed, remote forwards bound to loopback (sshd's defaults).
    pub fn allow_all() -> Self {
        Self {
            tcp: true,
            streamlocal: true,
            agent: true,
            gateway_ports: false,
            permit_open: Vec::new(),
            permit_listen: Vec::new(),
        }
    }

    /// Nothing allowed.
    pub fn deny_all() -> Self {
        Self {
            tcp: false,
            streamlocal: false,
            agent: false,
            ..Self::allow_all()
        }
    }

    /// Narrowed by what the authentication granted `user` (a certificate's
    /// `permit-port-forwarding` and `permit-agent-forwarding`, the handler's
    /// `AcceptWith` permissions). Port forwarding covers Unix sockets too.
    pub fn for_user(mut self, user: &AuthenticatedUser) -> Self {
        self.tcp &= user.permissions.port_forwarding;
        self.streamlocal &= user.permissions.port_forwarding;
        self.agent &= user.permissions.agent_forwarding;
        self
    }

    /// Narrowed by the accepted key's `authorized_keys` options:
    /// `no-port-forwarding`, `no-agent-forwarding`, `permitopen`, `permitlisten`.
    pub fn with_key_options(mut self, key: &authorized_keys::Permissions) -> Self {
        self.tcp &= key.port_forwarding;
        self.streamlocal &= key.port_forwarding;
        self.agent &= key.agent_forwarding;
        self.permit_open = key.permit_open.clone();
        self.permit_listen = key.permit_listen.clone();
        self
    }

    fn key_lists(&self) -> authorized_keys::Permissions {
        authorized_keys::Permissions {
            permit_open: self.permit_open.clone(),
            permit_listen: self.permit_listen.clone(),
            ..authorized_keys::Permissions::default()
        }
    }

    /// Whether a `direct-tcpip` to `host`:`port` may be opened.
    ///
    /// # Errors
    /// The refusal, to send as the open failure's description.
    pub fn check_direct_tcpip(&self, host: &str, port: u32) -> Result<(), ForwardRefusal> {
        if !self.tcp {
            return Err(ForwardRefusal::TcpDisabled);
        }
        let allowed = u16::try_from(port).is_ok_and(|p| self.key_lists().allows_open(host, p));
        if allowed {
            Ok(())
        } else {
            Err(ForwardRefusal::NotPermittedOpen {
                host: host.to_owned(),
                port,
            })
        }
    }

    /// Whether a `tcpip-forward` on `host`:`port` may listen.
    ///
    /// # Errors
    /// The refusal.
    pub fn check_tcpip_forward(&self, host: &str, port: u32) -> Result<(), ForwardRefusal> {
        if !self.tcp {
            return Err(ForwardRefusal::TcpDisabled);
        }
        let allowed = u16::try_from(port).is_ok_and(|p| self.key_lists().allows_listen(host, p));
        if allowed {
            Ok(())
        } else {
            Err(ForwardRefusal::NotPermittedListen {
                host: host.to_owned(),
                port,
            })
        }
    }

    /// Whether Unix socket forwarding (either way) is allowed.
    ///
    /// # Errors
    /// The refusal.
    pub fn check_streamlocal(&self) -> Result<(), ForwardRefusal> {
        if self.streamlocal {
            Ok(())
        } else {
            Err(ForwardRefusal::StreamlocalDisabled)
        }
    }

    /// Whether agent forwarding is allowed.
    ///
    /// # Errors
    /// The refusal.
    pub fn check_agent(&self) -> Result<(), ForwardRefusal> {
        if self.agent {
            Ok(())
        } else {
            Err(ForwardRefusal::AgentDisabled)
        }
    }

    /// The address a `tcpip-forward` for `host` binds: loopback unless
    /// `gateway_ports`, then as asked (`""` and `*` every address).
    pub(crate) fn listen_host<'a>(&self, host: &'a str) -> &'a str {
        if self.gateway_ports {
            host
        } else {
            "localhost"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthMethod, Permissions};
    use crate::authorized_keys::KeyOptions;

    fn key(options: &str) -> authorized_keys::Permissions {
        KeyOptions::parse(options).unwrap().permissions
    }

    fn user(permissions: Permissions) -> AuthenticatedUser {
        AuthenticatedUser {
            user: "alice".into(),
            methods: vec![AuthMethod::PublicKey],
            permissions,
            public_key: None,
            certificate_key_id: None,
        }
    }

    #[test]
    fn no_port_forwarding_refuses_tcp_and_unix_sockets() {
        let policy = ForwardingPolicy::allow_all().with_key_options(&key("no-port-forwarding"));
        assert_eq!(
            policy.check_direct_tcpip("localhost", 80),
            Err(ForwardRefusal::TcpDisabled)
        );
        assert!(policy.check_tcpip_forward("localhost", 8080).is_err());
        assert!(policy.check_streamlocal().is_err());
        assert!(policy.check_agent().is_ok());
    }

    #[test]
    fn permitopen_allows_only_the_listed_targets() {
        let policy = ForwardingPolicy::allow_all()
            .with_key_options(&key(r#"permitopen="db:5432",permitopen="*:80""#));
        assert!(policy.check_direct_tcpip("db", 5432).is_ok());
        assert!(policy.check_direct_tcpip("anything", 80).is_ok());
        assert_eq!(
            policy.check_direct_tcpip("db", 22),
            Err(ForwardRefusal::NotPermittedOpen {
                host: "db".into(),
                port: 22
            })
        );
        assert!(policy.check_direct_tcpip("db", 70_000).is_err());
    }

    #[test]
    fn permitlisten_allows_only_the_listed_ports() {
        let policy = ForwardingPolicy::allow_all()
            .with_key_options(&key(r#"permitlisten="localhost:9000""#));
        assert!(policy.check_tcpip_forward("localhost", 9000).is_ok());
        assert!(policy.check_tcpip_forward("localhost", 9001).is_err());
    }

    #[test]
    fn no_agent_forwarding_refuses_the_agent_only() {
        let policy = ForwardingPolicy::allow_all().with_key_options(&key("no-agent-forwarding"));
        assert_eq!(policy.check_agent(), Err(ForwardRefusal::AgentDisabled));
        assert!(policy.check_direct_tcpip("h", 1).is_ok());
    }

    #[test]
    fn a_certificate_without_permit_port_forwarding_refuses_forwarding() {
        let granted = Permissions {
            port_forwarding: false,
            ..Permissions::default()
        };
        let policy = ForwardingPolicy::allow_all().for_user(&user(granted));
        assert!(policy.check_direct_tcpip("h", 1).is_err());
        assert!(policy.check_streamlocal().is_err());
        assert!(policy.check_agent().is_ok());
        let restricted = ForwardingPolicy::allow_all().for_user(&user(Permissions::restricted()));
        assert!(restricted.check_agent().is_err());
    }

    #[test]
    fn remote_forwards_bind_loopback_without_gateway_ports() {
        let mut policy = ForwardingPolicy::allow_all();
        assert_eq!(policy.listen_host(""), "localhost");
        policy.gateway_ports = true;
        assert_eq!(policy.listen_host(""), "");
    }
}

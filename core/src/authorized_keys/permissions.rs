//! What an accepted key may do: the effective permissions the auth and connection
//! layers enforce.

use crate::host_pattern::glob_matches;
use crate::keys::{CertOption, Certificate, critical, extension};

use super::RefusalReason;

/// An environment variable set by `environment="NAME=value"`.
///
/// sshd applies these only when `PermitUserEnvironment` allows; enforcing that is the
/// server's configuration's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvVar {
    /// The name: letters, digits and `_`.
    pub name: String,
    /// The value (anything, including `=`).
    pub value: String,
}

/// One `permitopen` or `permitlisten` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForwardPermission {
    /// The host, brackets of an IPv6 address removed; `*` means any host.
    pub host: String,
    /// The port; `None` for `*` (any port).
    pub port: Option<u16>,
}

/// The tunnel device forced by `tunnel="n"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelDevice {
    /// `tunnel="any"`: the server picks a device.
    Any,
    /// `tunnel="n"`: device number `n`.
    Unit(u32),
}

/// The effective permissions of an accepted key: what `authorized_keys` options (and,
/// for a certificate, its critical options and extensions) allow.
///
/// Server-wide settings (`AllowTcpForwarding`, `PermitTTY`, `PermitUserEnvironment`,
/// `GatewayPorts`, ...) may restrict further; the connection layer applies both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    /// Port forwarding (`-L`, `-R`, `-D`) may be requested.
    pub port_forwarding: bool,
    /// Agent forwarding may be requested.
    pub agent_forwarding: bool,
    /// X11 forwarding may be requested.
    pub x11_forwarding: bool,
    /// A pty may be allocated.
    pub pty: bool,
    /// `~/.ssh/rc` may run.
    pub user_rc: bool,
    /// Run this command instead of the one the client asks for (`command=`,
    /// certificate `force-command`).
    pub force_command: Option<String>,
    /// Variables to set in the session (`environment=`), first definition of a name
    /// only, in file order.
    pub environment: Vec<EnvVar>,
    /// Where local forwarding may connect (`permitopen=`); empty means anywhere.
    pub permit_open: Vec<ForwardPermission>,
    /// Where remote forwarding may listen (`permitlisten=`); empty means anywhere.
    pub permit_listen: Vec<ForwardPermission>,
    /// The tunnel device forced by `tunnel=`.
    pub tunnel: Option<TunnelDevice>,
    /// FIDO signatures need not prove user presence (`no-touch-required`).
    pub no_touch_required: bool,
    /// FIDO signatures must prove user verification, e.g. a PIN (`verify-required`).
    pub verify_required: bool,
    /// `restrict` was given (a marker for logs; the flags above already carry it).
    pub restricted: bool,
}

impl Default for Permissions {
    /// What a key line without options grants: everything.
    fn default() -> Self {
        Self {
            port_forwarding: true,
            agent_forwarding: true,
            x11_forwarding: true,
            pty: true,
            user_rc: true,
            force_command: None,
            environment: Vec::new(),
            permit_open: Vec::new(),
            permit_listen: Vec::new(),
            tunnel: None,
            no_touch_required: false,
            verify_required: false,
            restricted: false,
        }
    }
}

impl Permissions {
    /// Whether local forwarding to `host`:`port` is allowed by `permitopen` (literal host
    /// names, no patterns: sshd(8)), `*` matching any host or port.
    pub fn allows_open(&self, host: &str, port: u16) -> bool {
        self.permit_open.is_empty()
            || self.permit_open.iter().any(|p| {
                p.port.is_none_or(|allowed| allowed == port) && (p.host == "*" || p.host == host)
            })
    }

    /// Whether remote forwarding listening on `host`:`port` is allowed by
    /// `permitlisten` (host patterns with `*` and `?`: sshd(8)).
    pub fn allows_listen(&self, host: &str, port: u16) -> bool {
        self.permit_listen.is_empty()
            || self.permit_listen.iter().any(|p| {
                p.port.is_none_or(|allowed| allowed == port) && glob_matches(&p.host, host)
            })
    }

    /// What a user certificate grants by itself: only what its extensions permit, its
    /// `force-command` and its FIDO flags (OpenSSH's `sshauthopt_from_cert`).
    ///
    /// Known extensions must carry no data; unknown extensions are ignored. Critical
    /// options are checked by [`Certificate::validate`].
    pub(super) fn from_certificate(cert: &Certificate) -> Result<Self, RefusalReason> {
        let mut granted = Self {
            port_forwarding: false,
            agent_forwarding: false,
            x11_forwarding: false,
            pty: false,
            user_rc: false,
            ..Self::default()
        };
        for ext in cert.extensions() {
            let flag = match ext.name.as_str() {
                extension::NO_TOUCH_REQUIRED => &mut granted.no_touch_required,
                extension::PERMIT_X11_FORWARDING => &mut granted.x11_forwarding,
                extension::PERMIT_AGENT_FORWARDING => &mut granted.agent_forwarding,
                extension::PERMIT_PORT_FORWARDING => &mut granted.port_forwarding,
                extension::PERMIT_PTY => &mut granted.pty,
                extension::PERMIT_USER_RC => &mut granted.user_rc,
                _ => continue,
            };
            *flag = true;
            check_no_data(ext)?;
        }
        granted.force_command = cert.force_command().map(str::to_owned);
        granted.verify_required = cert.critical_option(critical::VERIFY_REQUIRED).is_some();
        Ok(granted)
    }

    /// Combines the options of a `cert-authority` line (`self`) with what the
    /// certificate grants, as OpenSSH's `sshauthopt_merge` does: a permission needs
    /// both; `verify-required` from either; lists, environment and tunnel from the
    /// line; two forced commands must be the same.
    pub(super) fn merge(self, cert: Self) -> Result<Self, RefusalReason> {
        let force_command = match (self.force_command, cert.force_command) {
            (Some(line), Some(cert)) if line != cert => {
                return Err(RefusalReason::ForceCommandMismatch);
            }
            (Some(command), _) | (None, Some(command)) => Some(command),
            (None, None) => None,
        };
        Ok(Self {
            port_forwarding: self.port_forwarding && cert.port_forwarding,
            agent_forwarding: self.agent_forwarding && cert.agent_forwarding,
            x11_forwarding: self.x11_forwarding && cert.x11_forwarding,
            pty: self.pty && cert.pty,
            user_rc: self.user_rc && cert.user_rc,
            force_command,
            environment: self.environment,
            permit_open: self.permit_open,
            permit_listen: self.permit_listen,
            tunnel: self.tunnel,
            no_touch_required: self.no_touch_required && cert.no_touch_required,
            verify_required: self.verify_required || cert.verify_required,
            restricted: self.restricted,
        })
    }
}

fn check_no_data(option: &CertOption) -> Result<(), RefusalReason> {
    if option.data.is_empty() {
        Ok(())
    } else {
        Err(RefusalReason::CorruptCertificateOption(option.name.clone()))
    }
}

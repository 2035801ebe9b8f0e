//! What an authenticated user may do: the restrictions that certificates and
//! `authorized_keys` options place on a session, kept for the connection layer.

use crate::keys::{Certificate, extension};

/// Restrictions on an authenticated session.
///
/// The default permits everything and forces no command. Restrictions only ever
/// narrow: [`Permissions::restrict`] combines a certificate's with the application's
/// (for instance from `authorized_keys` options), as sshd does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Permissions {
    /// Run this command instead of what the client asks for (`force-command`,
    /// `command="..."`).
    pub force_command: Option<String>,
    /// A pty may be allocated.
    pub pty: bool,
    /// Port forwarding may be used.
    pub port_forwarding: bool,
    /// Agent forwarding may be used.
    pub agent_forwarding: bool,
    /// X11 forwarding may be used.
    pub x11_forwarding: bool,
    /// `~/.ssh/rc` may run.
    pub user_rc: bool,
}

impl Default for Permissions {
    fn default() -> Self {
        Self {
            force_command: None,
            pty: true,
            port_forwarding: true,
            agent_forwarding: true,
            x11_forwarding: true,
            user_rc: true,
        }
    }
}

/// Two sources of restrictions force different commands; sshd refuses such a login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the certificate and the key options force different commands")]
pub struct ConflictingForceCommand;

impl Permissions {
    /// Permits nothing and forces no command (as the `restrict` key option).
    pub fn restricted() -> Self {
        Self {
            force_command: None,
            pty: false,
            port_forwarding: false,
            agent_forwarding: false,
            x11_forwarding: false,
            user_rc: false,
        }
    }

    /// What a user certificate grants: its extensions and its `force-command`
    /// (PROTOCOL.certkeys).
    pub fn from_certificate(cert: &Certificate) -> Self {
        Self {
            force_command: cert.force_command().map(str::to_owned),
            pty: cert.has_extension(extension::PERMIT_PTY),
            port_forwarding: cert.has_extension(extension::PERMIT_PORT_FORWARDING),
            agent_forwarding: cert.has_extension(extension::PERMIT_AGENT_FORWARDING),
            x11_forwarding: cert.has_extension(extension::PERMIT_X11_FORWARDING),
            user_rc: cert.has_extension(extension::PERMIT_USER_RC),
        }
    }

    /// Narrows these permissions by `other`: a flag stays only if both allow it; a
    /// forced command from either applies, and two different ones are refused.
    pub fn restrict(&mut self, other: &Permissions) -> Result<(), ConflictingForceCommand> {
        match (&self.force_command, &other.force_command) {
            (Some(a), Some(b)) if a != b => return Err(ConflictingForceCommand),
            (None, Some(b)) => self.force_command = Some(b.clone()),
            _ => {}
        }
        self.pty &= other.pty;
        self.port_forwarding &= other.port_forwarding;
        self.agent_forwarding &= other.agent_forwarding;
        self.x11_forwarding &= other.x11_forwarding;
        self.user_rc &= other.user_rc;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restriction_keeps_only_what_both_allow() {
        let mut p = Permissions::default();
        let other = Permissions {
            pty: false,
            force_command: Some("uptime".into()),
            ..Permissions::default()
        };
        p.restrict(&other).expect("no conflict");
        assert!(!p.pty);
        assert!(p.port_forwarding);
        assert_eq!(p.force_command.as_deref(), Some("uptime"));
    }

    #[test]
    fn two_different_forced_commands_conflict() {
        let mut p = Permissions {
            force_command: Some("a".into()),
            ..Permissions::default()
        };
        let other = Permissions {
            force_command: Some("b".into()),
            ..Permissions::default()
        };
        assert_eq!(p.restrict(&other), Err(ConflictingForceCommand));
    }
}

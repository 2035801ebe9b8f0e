//! Required method chains (sshd's `AuthenticationMethods`) and the server's record of
//! which methods a user has completed.

use super::AuthMethod;
use crate::error::ApiMisuse;

/// Parses sshd's `AuthenticationMethods` syntax: chains separated by spaces, the
/// methods of a chain by commas; `any` means no chain is required.
///
/// ```
/// use sansh_core::auth::{parse_method_chains, AuthMethod};
/// let chains = parse_method_chains("publickey,password publickey,keyboard-interactive")?;
/// assert_eq!(chains[0], [AuthMethod::PublicKey, AuthMethod::Password]);
/// assert_eq!(chains[1], [AuthMethod::PublicKey, AuthMethod::KeyboardInteractive]);
/// assert!(parse_method_chains("any")?.is_empty());
/// # Ok::<(), sansh_core::error::ApiMisuse>(())
/// ```
pub fn parse_method_chains(spec: &str) -> Result<Vec<Vec<AuthMethod>>, ApiMisuse> {
    if spec.trim() == "any" {
        return Ok(Vec::new());
    }
    spec.split_whitespace()
        .map(|chain| {
            chain
                .split(',')
                .map(|name| match AuthMethod::from_name(name) {
                    Some(AuthMethod::None) | None => Err(ApiMisuse::InvalidConfig(format!(
                        "unknown authentication method {name:?} in a method chain"
                    ))),
                    Some(method) => Ok(method),
                })
                .collect()
        })
        .collect()
}

/// Where a user stands in the configured chains.
#[derive(Debug, Clone)]
pub(crate) struct ChainProgress {
    /// What is left of each chain; empty when no chain is configured.
    remaining: Vec<Vec<AuthMethod>>,
    chained: bool,
    completed: Vec<AuthMethod>,
}

impl ChainProgress {
    pub(crate) fn new(chains: &[Vec<AuthMethod>]) -> Self {
        Self {
            remaining: chains.to_vec(),
            chained: !chains.is_empty(),
            completed: Vec::new(),
        }
    }

    /// Whether `method` may be tried now. With chains, only the next method of some
    /// chain may; without, any offered method.
    pub(crate) fn allows(&self, method: AuthMethod, offered: &[AuthMethod]) -> bool {
        if self.chained {
            self.remaining.iter().any(|c| c.first() == Some(&method))
        } else {
            offered.contains(&method)
        }
    }

    /// The methods that can continue, for USERAUTH_FAILURE (never `none`).
    pub(crate) fn can_continue(&self, offered: &[AuthMethod]) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        let candidates: Vec<AuthMethod> = if self.chained {
            self.remaining
                .iter()
                .filter_map(|c| c.first().copied())
                .collect()
        } else {
            offered.to_vec()
        };
        for method in candidates {
            if method != AuthMethod::None && !names.contains(&method.name()) {
                names.push(method.name());
            }
        }
        names
    }

    /// Records that `method` succeeded; returns true when the user is now fully
    /// authenticated (a chain is complete, or no chain is configured).
    pub(crate) fn complete(&mut self, method: AuthMethod) -> bool {
        self.completed.push(method);
        if !self.chained {
            return true;
        }
        for chain in &mut self.remaining {
            if chain.first() == Some(&method) {
                chain.remove(0);
            }
        }
        self.remaining.iter().any(Vec::is_empty)
    }

    /// The methods completed so far, in order.
    pub(crate) fn completed(&self) -> &[AuthMethod] {
        &self.completed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use AuthMethod::*;

    const OFFERED: &[AuthMethod] = &[PublicKey, Password, KeyboardInteractive];

    #[test]
    fn without_chains_any_offered_method_completes() {
        let mut progress = ChainProgress::new(&[]);
        assert!(progress.allows(Password, OFFERED));
        assert!(!progress.allows(Hostbased, OFFERED));
        assert!(progress.complete(Password));
    }

    #[test]
    fn chain_steps_give_partial_success_until_one_chain_ends() {
        let chains =
            parse_method_chains("publickey,password publickey,keyboard-interactive").unwrap();
        let mut progress = ChainProgress::new(&chains);
        assert_eq!(progress.can_continue(OFFERED), ["publickey"]);
        assert!(!progress.allows(Password, OFFERED));
        assert!(!progress.complete(PublicKey));
        assert_eq!(
            progress.can_continue(OFFERED),
            ["password", "keyboard-interactive"]
        );
        assert!(!progress.allows(PublicKey, OFFERED));
        assert!(progress.complete(KeyboardInteractive));
        assert_eq!(progress.completed(), [PublicKey, KeyboardInteractive]);
    }

    #[test]
    fn unknown_method_in_a_chain_is_a_config_error() {
        assert!(parse_method_chains("publickey,kerberos").is_err());
        assert!(parse_method_chains("none").is_err());
    }
}

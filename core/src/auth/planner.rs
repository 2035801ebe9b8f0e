//! The client's choice of what to try next, in OpenSSH's order.

use super::AuthMethod;

/// Picks the next authentication method to try, as OpenSSH's client does: methods in
/// a preference order (`PreferredAuthentications`, default publickey,
/// keyboard-interactive, password), each tried only while the server lists it as able
/// to continue and while the application has tries left for it (one per identity for
/// publickey; `NumberOfPasswordPrompts`, default 3, for password and
/// keyboard-interactive).
///
/// The engine offers the primitives; this helper only decides the order. Start with
/// `none` to learn the server's methods, then ask the planner after every
/// [`Event::AuthFailure`](crate::Event::AuthFailure).
///
/// ```
/// use sansh_core::auth::{AuthMethod, MethodPlanner};
/// let mut planner = MethodPlanner::openssh()
///     .with_tries(AuthMethod::PublicKey, 2)  // two identities
///     .with_tries(AuthMethod::Password, 1);
/// let server = ["publickey".to_string(), "password".to_string()];
/// assert_eq!(planner.next(&server), Some(AuthMethod::PublicKey));
/// assert_eq!(planner.next(&server), Some(AuthMethod::PublicKey));
/// assert_eq!(planner.next(&server), Some(AuthMethod::Password));
/// assert_eq!(planner.next(&server), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodPlanner {
    /// Methods in preference order with the tries left for each.
    order: Vec<(AuthMethod, u32)>,
}

/// OpenSSH's default `NumberOfPasswordPrompts`.
const DEFAULT_PROMPT_TRIES: u32 = 3;

impl MethodPlanner {
    /// The methods in `order`, none of them with any tries yet (see
    /// [`Self::with_tries`]).
    pub fn new(order: &[AuthMethod]) -> Self {
        Self {
            order: order.iter().map(|&m| (m, 0)).collect(),
        }
    }

    /// OpenSSH's order, with 3 tries each for keyboard-interactive and password and
    /// none yet for publickey (give one per identity with [`Self::with_tries`]).
    pub fn openssh() -> Self {
        Self::new(AuthMethod::OPENSSH_ORDER)
            .with_tries(AuthMethod::KeyboardInteractive, DEFAULT_PROMPT_TRIES)
            .with_tries(AuthMethod::Password, DEFAULT_PROMPT_TRIES)
    }

    /// Sets how many times `method` may be tried (ignored if it is not in the order).
    pub fn with_tries(mut self, method: AuthMethod, tries: u32) -> Self {
        for (m, left) in &mut self.order {
            if *m == method {
                *left = tries;
            }
        }
        self
    }

    /// The next method to try given the methods the server says can continue, or
    /// `None` when nothing is left (give up). Uses up one try of the method returned.
    pub fn next(&mut self, can_continue: &[String]) -> Option<AuthMethod> {
        let (method, left) = self
            .order
            .iter_mut()
            .find(|(m, left)| *left > 0 && can_continue.iter().any(|n| n == m.name()))?;
        *left -= 1;
        Some(*method)
    }

    /// Tries left for `method`.
    pub fn tries_left(&self, method: AuthMethod) -> u32 {
        self.order
            .iter()
            .find(|(m, _)| *m == method)
            .map_or(0, |(_, left)| *left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn methods_the_server_does_not_list_are_skipped() {
        let mut planner = MethodPlanner::openssh().with_tries(AuthMethod::PublicKey, 1);
        assert_eq!(
            planner.next(&names(&["password"])),
            Some(AuthMethod::Password)
        );
        assert_eq!(planner.tries_left(AuthMethod::PublicKey), 1);
    }

    #[test]
    fn keyboard_interactive_comes_before_password() {
        let mut planner = MethodPlanner::openssh();
        let server = names(&["password", "keyboard-interactive"]);
        for _ in 0..3 {
            assert_eq!(planner.next(&server), Some(AuthMethod::KeyboardInteractive));
        }
        assert_eq!(planner.next(&server), Some(AuthMethod::Password));
    }

    #[test]
    fn nothing_left_gives_up() {
        let mut planner = MethodPlanner::new(&[AuthMethod::Password]);
        assert_eq!(planner.next(&names(&["password"])), None);
    }
}

//! The account the server runs as: every session runs as this user, whatever name
//! the client logged in with (switching users needs privileges an example should not
//! ask for).

use std::path::PathBuf;

/// The server's own user: name, home directory and login shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub(crate) name: String,
    pub(crate) home: PathBuf,
    pub(crate) shell: PathBuf,
}

impl Account {
    /// The current user, from `/etc/passwd` by uid (no libc `getpwuid`: it would take
    /// unsafe code), falling back on `$USER`, `$HOME` and `$SHELL`.
    pub(crate) fn current() -> Self {
        let uid = rustix::process::getuid().as_raw();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        if let Some(account) = find_uid(&passwd, uid) {
            return account;
        }
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            name: var("USER")
                .or_else(|| var("LOGNAME"))
                .unwrap_or_else(|| uid.to_string()),
            home: var("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from),
            shell: var("SHELL").map_or_else(|| PathBuf::from("/bin/sh"), PathBuf::from),
        }
    }
}

/// The entry of `uid` in passwd(5) text: `name:password:uid:gid:gecos:home:shell`.
fn find_uid(passwd: &str, uid: u32) -> Option<Account> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        let [name, _, entry_uid, _, _, home, shell] = fields.as_slice() else {
            return None;
        };
        if entry_uid.parse::<u32>().ok()? != uid || name.is_empty() {
            return None;
        }
        let shell = if shell.is_empty() { "/bin/sh" } else { shell };
        Some(Account {
            name: (*name).to_owned(),
            home: PathBuf::from(home),
            shell: PathBuf::from(shell),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        broken line\n\
        alice:x:1000:1000:Alice,,,:/home/alice:\n";

    #[test]
    fn the_entry_with_the_uid_gives_name_home_and_shell() {
        assert_eq!(
            find_uid(PASSWD, 0),
            Some(Account {
                name: "root".into(),
                home: "/root".into(),
                shell: "/bin/bash".into(),
            })
        );
    }

    #[test]
    fn an_empty_shell_field_means_bin_sh() {
        let alice = find_uid(PASSWD, 1000).expect("alice");
        assert_eq!(alice.shell, PathBuf::from("/bin/sh"));
    }

    #[test]
    fn an_unknown_uid_finds_nothing() {
        assert_eq!(find_uid(PASSWD, 4242), None);
    }
}

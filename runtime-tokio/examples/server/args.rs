//! The command line: where to listen, which keys and credentials, which algorithms,
//! where SFTP is rooted and whether forwarding is served.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use sansh_tokio::core::cipher::{CipherAlgorithm, MacAlgorithm};
use sansh_tokio::core::config::parse_algorithm_list;
use sansh_tokio::core::kex::KexAlgorithm;
use zeroize::Zeroizing;

/// Where the server listens when `--listen` is not given.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:2222";

/// One `--password USER:PASS`.
#[derive(Clone)]
pub(crate) struct PasswordArg {
    pub(crate) user: String,
    pub(crate) password: Zeroizing<String>,
}

impl std::fmt::Debug for PasswordArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordArg")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The parsed command line.
#[derive(Debug)]
pub(crate) struct Args {
    /// `--listen ADDR`.
    pub(crate) listen: String,
    /// `--host-key FILE`, in order; empty: an ephemeral Ed25519 key.
    pub(crate) host_keys: Vec<PathBuf>,
    /// `--host-certificate FILE`, in order: certificates of host keys.
    pub(crate) host_certificates: Vec<PathBuf>,
    /// `--authorized-keys FILE`; `None`: `~/.ssh/authorized_keys` when present.
    pub(crate) authorized_keys: Option<PathBuf>,
    /// `--password USER:PASS`, in order; empty: a one-time password for the user.
    pub(crate) passwords: Vec<PasswordArg>,
    /// `--kex LIST`.
    pub(crate) kex: Option<Vec<KexAlgorithm>>,
    /// `--ciphers LIST`.
    pub(crate) ciphers: Option<Vec<CipherAlgorithm>>,
    /// `--macs LIST`.
    pub(crate) macs: Option<Vec<MacAlgorithm>>,
    /// `--sftp-root DIR`: the directory the `sftp` subsystem serves as `/`.
    pub(crate) sftp_root: PathBuf,
    /// `--allow-forwarding`: serve port, socket and agent forwarding.
    pub(crate) allow_forwarding: bool,
}

fn command() -> Command {
    Command::new("server")
        .about(
            "An SSH server on sansh-tokio: commands, shells on a pty, env, signals, \
             SFTP, and (with --allow-forwarding) port and agent forwarding.",
        )
        .arg(
            Arg::new("listen")
                .long("listen")
                .value_name("ADDR")
                .default_value(DEFAULT_LISTEN)
                .help("Address to listen on (port 0: the system picks one)"),
        )
        .arg(
            Arg::new("host-key")
                .long("host-key")
                .value_name("FILE")
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Private host key file, repeatable (default: a new Ed25519 key)"),
        )
        .arg(
            Arg::new("host-certificate")
                .long("host-certificate")
                .value_name("FILE")
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("OpenSSH host certificate of a host key (ssh-keygen -s CA -h), repeatable"),
        )
        .arg(
            Arg::new("authorized-keys")
                .long("authorized-keys")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("authorized_keys for the current user (default: ~/.ssh/authorized_keys)"),
        )
        .arg(
            Arg::new("password")
                .long("password")
                .value_name("USER:PASS")
                .action(ArgAction::Append)
                .value_parser(parse_password)
                .help("Accept this password for USER, repeatable (default: a printed one-time password)"),
        )
        .arg(algorithm_arg("kex", "Key exchange methods, comma-separated"))
        .arg(algorithm_arg("ciphers", "Ciphers, comma-separated"))
        .arg(algorithm_arg("macs", "MACs, comma-separated"))
        .arg(
            Arg::new("sftp-root")
                .long("sftp-root")
                .value_name("DIR")
                .default_value(".")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Directory the sftp subsystem serves as / (`.`: the current directory)"),
        )
        .arg(
            Arg::new("allow-forwarding")
                .long("allow-forwarding")
                .action(ArgAction::SetTrue)
                .help(
                    "Serve -L, -R, -D, Unix socket and agent (-A) forwarding, as the key's \
                     authorized_keys options and the user's certificate allow \
                     (default: refused)",
                ),
        )
}

fn algorithm_arg(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).value_name("LIST").help(help)
}

fn parse_password(text: &str) -> Result<PasswordArg, String> {
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() => Ok(PasswordArg {
            user: user.to_owned(),
            password: Zeroizing::new(password.to_owned()),
        }),
        _ => Err("expected USER:PASS with a non-empty USER".to_owned()),
    }
}

fn algorithms<T>(
    matches: &ArgMatches,
    name: &str,
    from_name: impl Fn(&str) -> Option<T>,
) -> Result<Option<Vec<T>>, String> {
    matches
        .get_one::<String>(name)
        .map(|list| parse_algorithm_list(list, from_name).map_err(|e| format!("--{name}: {e}")))
        .transpose()
}

impl Args {
    /// Parses `argv` (program name first). `Err` carries clap's error, which prints
    /// usage or help and exits with the right status.
    pub(crate) fn parse_from<I, T>(argv: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = command();
        let mut matches = command.try_get_matches_from_mut(argv)?;
        let invalid = |message: String| {
            command
                .clone()
                .error(clap::error::ErrorKind::InvalidValue, message)
        };
        let kex = algorithms(&matches, "kex", KexAlgorithm::from_name).map_err(invalid)?;
        let ciphers =
            algorithms(&matches, "ciphers", CipherAlgorithm::from_name).map_err(invalid)?;
        let macs = algorithms(&matches, "macs", MacAlgorithm::from_name).map_err(invalid)?;
        Ok(Self {
            listen: matches
                .remove_one::<String>("listen")
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            host_keys: matches
                .remove_many::<PathBuf>("host-key")
                .map(Iterator::collect)
                .unwrap_or_default(),
            host_certificates: matches
                .remove_many::<PathBuf>("host-certificate")
                .map(Iterator::collect)
                .unwrap_or_default(),
            authorized_keys: matches.remove_one::<PathBuf>("authorized-keys"),
            passwords: matches
                .remove_many::<PasswordArg>("password")
                .map(Iterator::collect)
                .unwrap_or_default(),
            kex,
            ciphers,
            macs,
            sftp_root: matches
                .remove_one::<PathBuf>("sftp-root")
                .unwrap_or_else(|| PathBuf::from(".")),
            allow_forwarding: matches.get_flag("allow-forwarding"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::parse_from(std::iter::once("server").chain(args.iter().copied()))
    }

    #[test]
    fn no_flags_listen_on_the_default_address_with_nothing_configured() {
        let args = parse(&[]).expect("parses");
        assert_eq!(args.listen, DEFAULT_LISTEN);
        assert!(args.host_keys.is_empty());
        assert!(args.authorized_keys.is_none());
        assert!(args.passwords.is_empty());
        assert!(args.kex.is_none() && args.ciphers.is_none() && args.macs.is_none());
        assert_eq!(args.sftp_root, PathBuf::from("."));
        assert!(!args.allow_forwarding);
    }

    #[test]
    fn sftp_root_and_forwarding_are_taken_from_their_flags() {
        let args = parse(&["--sftp-root", "/srv/files", "--allow-forwarding"]).expect("parses");
        assert_eq!(args.sftp_root, PathBuf::from("/srv/files"));
        assert!(args.allow_forwarding);
    }

    #[test]
    fn host_keys_and_passwords_repeat_in_order() {
        let args = parse(&[
            "--host-key",
            "a",
            "--password",
            "alice:s:e:cret",
            "--host-key",
            "b",
            "--password",
            "bob:",
        ])
        .expect("parses");
        assert_eq!(args.host_keys, [PathBuf::from("a"), PathBuf::from("b")]);
        let passwords: Vec<(&str, &str)> = args
            .passwords
            .iter()
            .map(|p| (p.user.as_str(), p.password.as_str()))
            .collect();
        assert_eq!(passwords, [("alice", "s:e:cret"), ("bob", "")]);
    }

    #[test]
    fn a_password_without_a_user_is_refused() {
        assert!(parse(&["--password", "nouser"]).is_err());
        assert!(parse(&["--password", ":pass"]).is_err());
    }

    #[test]
    fn algorithm_lists_are_parsed_by_name() {
        let args = parse(&[
            "--kex",
            "curve25519-sha256",
            "--ciphers",
            "aes128-ctr,aes256-gcm@openssh.com",
            "--macs",
            "hmac-sha2-256",
        ])
        .expect("parses");
        assert_eq!(args.kex, Some(vec![KexAlgorithm::Curve25519Sha256]));
        assert_eq!(
            args.ciphers,
            Some(vec![CipherAlgorithm::Aes128Ctr, CipherAlgorithm::Aes256Gcm])
        );
        assert_eq!(args.macs, Some(vec![MacAlgorithm::HmacSha256]));
    }

    #[test]
    fn an_unknown_algorithm_is_an_error_naming_it() {
        let error = parse(&["--ciphers", "aes128-ctr,rot13"])
            .expect_err("rot13 is no cipher")
            .to_string();
        assert!(error.contains("rot13"), "{error}");
    }
}

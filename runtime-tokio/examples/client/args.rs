//! The command line: ssh's flags (clap) and its `-o Name=Value` options, resolved
//! into one [`Options`] with ssh's precedence.
//!
//! ssh keeps the first value it obtains for each option, and its flags (`-p`, `-l`,
//! `-c`, ...) override `-o`. Forwards (`-L`, `-R`, `-D` and their `-o` keywords)
//! accumulate, as ssh adds every one it is given.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};
use sansh_tokio::core::auth::AuthMethod;
use sansh_tokio::core::cipher::{CipherAlgorithm, MacAlgorithm};
use sansh_tokio::core::driver::forward::{Endpoint, ForwardSpec, JumpHost};
use sansh_tokio::core::host_pattern::glob_matches;
use sansh_tokio::core::kex::KexAlgorithm;
use sansh_tokio::core::keys::SignatureAlgorithm;

use crate::forward_args::{Forwards, forward_option};
use crate::option_values::{
    HostKeyAlgorithm, algorithm_list, expand_tilde, file_list, parse_methods, seconds,
    split_option, yes_no,
};

/// `client [options] [user@]host [command...]`: an OpenSSH-style client on sansh.
#[derive(Debug, Parser)]
// A flag given twice keeps its last value, as ssh's getopt loop does for most.
#[command(
    name = "client",
    version,
    about,
    disable_version_flag = true,
    args_override_self = true
)]
pub(crate) struct Cli {
    /// Port to connect to on the remote host.
    #[arg(short = 'p', value_name = "PORT")]
    port: Option<u16>,
    /// User to log in as.
    #[arg(short = 'l', value_name = "USER")]
    login: Option<String>,
    /// A private key file for public key authentication (repeatable).
    #[arg(short = 'i', value_name = "FILE", action = ArgAction::Append)]
    identity: Vec<PathBuf>,
    /// An option in ssh_config's `Name=Value` form (repeatable).
    #[arg(short = 'o', value_name = "OPTION", action = ArgAction::Append)]
    options: Vec<String>,
    /// Ciphers, comma-separated, in order of preference.
    #[arg(short = 'c', value_name = "CIPHERS")]
    ciphers: Option<String>,
    /// MACs, comma-separated, in order of preference.
    #[arg(short = 'm', value_name = "MACS")]
    macs: Option<String>,
    /// Request a pseudo-terminal; twice forces one even without a local tty.
    #[arg(short = 't', action = ArgAction::Count, conflicts_with = "no_tty")]
    tty: u8,
    /// Never request a pseudo-terminal.
    #[arg(short = 'T')]
    no_tty: bool,
    /// Read stdin from /dev/null.
    #[arg(short = 'n')]
    null_stdin: bool,
    /// Compress the connection (zlib@openssh.com).
    #[arg(short = 'C')]
    compression: bool,
    /// Quiet: no warnings or diagnostics.
    #[arg(short = 'q')]
    quiet: bool,
    /// Verbose: more diagnostics on stderr (repeatable).
    #[arg(short = 'v', action = ArgAction::Count)]
    verbose: u8,
    /// Local forward `[bind:]port:host:hostport` (or with socket paths; repeatable).
    #[arg(short = 'L', value_name = "SPEC", action = ArgAction::Append)]
    local_forward: Vec<String>,
    /// Remote forward `[bind:]port:host:hostport` (or with socket paths; repeatable).
    #[arg(short = 'R', value_name = "SPEC", action = ArgAction::Append)]
    remote_forward: Vec<String>,
    /// SOCKS proxy on `[bind:]port` (repeatable).
    #[arg(short = 'D', value_name = "SPEC", action = ArgAction::Append)]
    dynamic_forward: Vec<String>,
    /// Jump hosts `[user@]host[:port]`, comma-separated, first hop first.
    #[arg(short = 'J', value_name = "HOPS")]
    jump: Option<String>,
    /// Run no remote command: just forward.
    #[arg(short = 'N')]
    no_command: bool,
    /// Forward the authentication agent.
    #[arg(short = 'A')]
    forward_agent: bool,
    /// `[user@]host` or `ssh://[user@]host[:port]`.
    destination: String,
    /// The remote command; without one, the user's shell.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// ssh's `RequestTTY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestTty {
    /// A pty for a shell when stdin is a terminal, none for a command (the default).
    Auto,
    /// Never (`-T`).
    No,
    /// When stdin is a terminal (`-t`).
    Yes,
    /// Always (`-tt`).
    Force,
}

/// ssh's `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrictHostKeyChecking {
    /// Refuse unknown and changed keys.
    Yes,
    /// Record unknown keys, refuse changed ones.
    AcceptNew,
    /// Record unknown keys; connect to a changed one with password logins disabled.
    No,
    /// Ask about unknown keys, refuse changed ones (the default).
    Ask,
}

/// ssh's `LogLevel`, from quietest to most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LogLevel {
    /// Nothing but fatal errors.
    Quiet,
    /// Fatal errors.
    Fatal,
    /// Errors.
    Error,
    /// Warnings and information (the default).
    Info,
    /// What `-v` adds: the authentication method, ...
    Verbose,
    /// `-vv` and beyond: the negotiated algorithms.
    Debug,
}

/// Everything the run needs, resolved from flags, `-o` options and defaults.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) command: Option<String>,
    pub(crate) request_tty: RequestTty,
    pub(crate) null_stdin: bool,
    pub(crate) identity_files: Vec<PathBuf>,
    /// `IdentityAgent`: `None` for none, else the socket (default `SSH_AUTH_SOCK`).
    pub(crate) identity_agent: Option<PathBuf>,
    pub(crate) kex: Vec<KexAlgorithm>,
    pub(crate) host_key_algorithms: Vec<HostKeyAlgorithm>,
    /// Whether `HostKeyAlgorithms` was given (else the order follows known_hosts).
    pub(crate) host_key_algorithms_given: bool,
    pub(crate) ciphers: Vec<CipherAlgorithm>,
    pub(crate) macs: Vec<MacAlgorithm>,
    pub(crate) compression: bool,
    pub(crate) batch_mode: bool,
    pub(crate) password_authentication: bool,
    pub(crate) kbd_interactive_authentication: bool,
    pub(crate) pubkey_authentication: bool,
    pub(crate) preferred_authentications: Option<Vec<AuthMethod>>,
    pub(crate) number_of_password_prompts: u32,
    pub(crate) strict_host_key_checking: StrictHostKeyChecking,
    pub(crate) user_known_hosts_files: Vec<PathBuf>,
    pub(crate) global_known_hosts_files: Vec<PathBuf>,
    pub(crate) hash_known_hosts: bool,
    pub(crate) host_key_alias: Option<String>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) server_alive_interval: Option<Duration>,
    pub(crate) server_alive_count_max: u32,
    pub(crate) log_level: LogLevel,
    /// `IdentitiesOnly`: only the configured key files, no agent keys.
    pub(crate) identities_only: bool,
    /// Variables to set remotely: `SetEnv` values, then `SendEnv` matches from ours.
    pub(crate) environment: Vec<(String, String)>,
    /// `-L` and `LocalForward`, in order.
    pub(crate) local_forwards: Vec<ForwardSpec>,
    /// `-R` and `RemoteForward`, in order.
    pub(crate) remote_forwards: Vec<ForwardSpec>,
    /// `-D` and `DynamicForward`: where each SOCKS proxy listens.
    pub(crate) dynamic_forwards: Vec<Endpoint>,
    /// `-J` or `ProxyJump`, first hop first, users filled in.
    pub(crate) jump_hosts: Vec<JumpHost>,
    /// `-N`: no session, only the forwards.
    pub(crate) no_command: bool,
    /// `-A` or `ForwardAgent`.
    pub(crate) forward_agent: bool,
    /// `ExitOnForwardFailure`: a forward that cannot be set up is fatal.
    pub(crate) exit_on_forward_failure: bool,
}

/// What `-o` set, each kept at its first value as ssh does.
#[derive(Debug, Default)]
struct Set {
    port: Option<u16>,
    user: Option<String>,
    identity_files: Vec<PathBuf>,
    identity_agent: Option<String>,
    kex: Option<String>,
    host_key_algorithms: Option<String>,
    ciphers: Option<String>,
    macs: Option<String>,
    compression: Option<bool>,
    batch_mode: Option<bool>,
    password_authentication: Option<bool>,
    kbd_interactive_authentication: Option<bool>,
    pubkey_authentication: Option<bool>,
    preferred_authentications: Option<String>,
    number_of_password_prompts: Option<u32>,
    strict_host_key_checking: Option<StrictHostKeyChecking>,
    user_known_hosts_files: Option<Vec<PathBuf>>,
    global_known_hosts_files: Option<Vec<PathBuf>>,
    hash_known_hosts: Option<bool>,
    host_key_alias: Option<String>,
    request_tty: Option<RequestTty>,
    connect_timeout: Option<Option<Duration>>,
    server_alive_interval: Option<Option<Duration>>,
    server_alive_count_max: Option<u32>,
    log_level: Option<LogLevel>,
    identities_only: Option<bool>,
    set_env: Option<Vec<(String, String)>>,
    send_env: Vec<String>,
    local_forwards: Vec<String>,
    remote_forwards: Vec<String>,
    dynamic_forwards: Vec<String>,
    proxy_jump: Option<String>,
    forward_agent: Option<bool>,
    exit_on_forward_failure: Option<bool>,
    gateway_ports: Option<bool>,
}

impl Options {
    /// Parses the process's arguments. Errors are printed by clap (usage) or
    /// returned as ssh-like messages.
    pub(crate) fn from_args() -> Result<Self, String> {
        Self::resolve(Cli::parse())
    }

    /// Applies ssh's precedence: flags, then `-o` (first wins), then the destination,
    /// then defaults.
    fn resolve(cli: Cli) -> Result<Self, String> {
        let mut set = Set::default();
        for option in &cli.options {
            set_option(&mut set, option)?;
        }
        let (dest_user, host, dest_port) = parse_destination(&cli.destination)?;
        let user = match cli.login.or(set.user).or(dest_user) {
            Some(user) => user,
            None => local_user()?,
        };
        let port = cli.port.or(set.port).or(dest_port).unwrap_or(22);
        let request_tty = if cli.no_tty {
            RequestTty::No
        } else {
            match cli.tty {
                0 => set.request_tty.unwrap_or(RequestTty::Auto),
                1 => RequestTty::Yes,
                _ => RequestTty::Force,
            }
        };
        let mut identity_files = cli.identity;
        identity_files.extend(set.identity_files);
        let identity_agent = match set.identity_agent.as_deref() {
            Some("none") => None,
            Some("SSH_AUTH_SOCK") | None => std::env::var_os("SSH_AUTH_SOCK")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            Some(path) => Some(expand_tilde(path)),
        };
        let ciphers = cli.ciphers.or(set.ciphers);
        let macs = cli.macs.or(set.macs);
        let log_level = if cli.quiet {
            LogLevel::Quiet
        } else if cli.verbose > 0 {
            if cli.verbose == 1 {
                LogLevel::Verbose
            } else {
                LogLevel::Debug
            }
        } else {
            set.log_level.unwrap_or(LogLevel::Info)
        };
        let preferred_authentications = set
            .preferred_authentications
            .as_deref()
            .map(parse_methods)
            .transpose()?;
        let command = (!cli.command.is_empty()).then(|| cli.command.join(" "));
        let forwards = Forwards::resolve(
            [cli.local_forward, set.local_forwards],
            [cli.remote_forward, set.remote_forwards],
            [cli.dynamic_forward, set.dynamic_forwards],
            cli.jump.or(set.proxy_jump),
            set.gateway_ports.unwrap_or(false),
        )?;
        Ok(Self {
            host,
            port,
            user,
            command,
            request_tty,
            null_stdin: cli.null_stdin,
            identity_files,
            identity_agent,
            kex: algorithm_list(
                "KexAlgorithms",
                set.kex.as_deref(),
                KexAlgorithm::DEFAULT,
                KexAlgorithm::ALL,
                KexAlgorithm::name,
            )?,
            host_key_algorithms: algorithm_list(
                "HostKeyAlgorithms",
                set.host_key_algorithms.as_deref(),
                &HostKeyAlgorithm::both_forms(SignatureAlgorithm::DEFAULT_HOST_KEY),
                &HostKeyAlgorithm::both_forms(SignatureAlgorithm::ALL),
                HostKeyAlgorithm::name,
            )?,
            host_key_algorithms_given: set.host_key_algorithms.is_some(),
            ciphers: algorithm_list(
                "Ciphers",
                ciphers.as_deref(),
                CipherAlgorithm::DEFAULT,
                CipherAlgorithm::DEFAULT,
                CipherAlgorithm::name,
            )?,
            macs: algorithm_list(
                "MACs",
                macs.as_deref(),
                MacAlgorithm::DEFAULT,
                MacAlgorithm::DEFAULT,
                MacAlgorithm::name,
            )?,
            compression: cli.compression || set.compression.unwrap_or(false),
            batch_mode: set.batch_mode.unwrap_or(false),
            password_authentication: set.password_authentication.unwrap_or(true),
            kbd_interactive_authentication: set.kbd_interactive_authentication.unwrap_or(true),
            pubkey_authentication: set.pubkey_authentication.unwrap_or(true),
            preferred_authentications,
            number_of_password_prompts: set.number_of_password_prompts.unwrap_or(3),
            strict_host_key_checking: set
                .strict_host_key_checking
                .unwrap_or(StrictHostKeyChecking::Ask),
            user_known_hosts_files: set.user_known_hosts_files.unwrap_or_else(|| {
                vec![
                    expand_tilde("~/.ssh/known_hosts"),
                    expand_tilde("~/.ssh/known_hosts2"),
                ]
            }),
            global_known_hosts_files: set.global_known_hosts_files.unwrap_or_else(|| {
                vec![
                    PathBuf::from("/etc/ssh/ssh_known_hosts"),
                    PathBuf::from("/etc/ssh/ssh_known_hosts2"),
                ]
            }),
            hash_known_hosts: set.hash_known_hosts.unwrap_or(false),
            host_key_alias: set.host_key_alias,
            connect_timeout: set.connect_timeout.flatten(),
            server_alive_interval: set.server_alive_interval.flatten(),
            server_alive_count_max: set.server_alive_count_max.unwrap_or(3),
            log_level,
            identities_only: set.identities_only.unwrap_or(false),
            environment: environment(set.set_env.unwrap_or_default(), &set.send_env),
            local_forwards: forwards.local,
            remote_forwards: forwards.remote,
            dynamic_forwards: forwards.dynamic,
            jump_hosts: forwards.jump,
            no_command: cli.no_command,
            forward_agent: cli.forward_agent || set.forward_agent.unwrap_or(false),
            exit_on_forward_failure: set.exit_on_forward_failure.unwrap_or(false),
        })
    }

    /// The options for a jump host: its own name, port and user (its key checked
    /// under its own name, no alias); no command, forwards or hops of its own.
    /// Unlike ssh, which starts a fresh ssh per hop, the hops share the rest of
    /// the command line (keys, known_hosts files, algorithms).
    pub(crate) fn for_jump_host(&self, hop: &JumpHost) -> Self {
        Self {
            host: hop.host.clone(),
            port: hop.port.unwrap_or(22),
            user: hop.user.clone().unwrap_or_else(|| self.user.clone()),
            host_key_alias: None,
            command: None,
            local_forwards: Vec::new(),
            remote_forwards: Vec::new(),
            dynamic_forwards: Vec::new(),
            jump_hosts: Vec::new(),
            forward_agent: false,
            ..self.clone()
        }
    }

    /// The methods to try, in order, as the options allow them.
    pub(crate) fn auth_methods(&self, password_allowed: bool) -> Vec<AuthMethod> {
        let order = self
            .preferred_authentications
            .clone()
            .unwrap_or_else(|| AuthMethod::OPENSSH_ORDER.to_vec());
        order
            .into_iter()
            .filter(|method| match method {
                AuthMethod::PublicKey => self.pubkey_authentication,
                // BatchMode leaves out every method that would ask the user.
                AuthMethod::Password => {
                    self.password_authentication && !self.batch_mode && password_allowed
                }
                AuthMethod::KeyboardInteractive => {
                    self.kbd_interactive_authentication && !self.batch_mode && password_allowed
                }
                AuthMethod::None | AuthMethod::Hostbased => false,
            })
            .collect()
    }
}

/// Applies one `-o` option; a value already set stays.
fn set_option(set: &mut Set, option: &str) -> Result<(), String> {
    let (name, value) = split_option(option)
        .ok_or_else(|| format!("command-line: missing argument in option {option:?}"))?;
    let bad = || format!("command-line: bad value {value:?} for {name}");
    fn first<T>(slot: &mut Option<T>, value: T) {
        slot.get_or_insert(value);
    }
    match name.to_ascii_lowercase().as_str() {
        "port" => first(&mut set.port, value.parse().map_err(|_| bad())?),
        "user" => first(&mut set.user, value.to_owned()),
        "identityfile" => set.identity_files.push(expand_tilde(value)),
        "identityagent" => first(&mut set.identity_agent, value.to_owned()),
        "identitiesonly" => first(&mut set.identities_only, yes_no(value).ok_or_else(bad)?),
        "setenv" => {
            let pairs = value
                .split_whitespace()
                .map(|pair| {
                    let (name, value) = pair.split_once('=').ok_or_else(bad)?;
                    Ok((name.to_owned(), value.to_owned()))
                })
                .collect::<Result<Vec<_>, String>>()?;
            first(&mut set.set_env, pairs);
        }
        // SendEnv accumulates, as in ssh_config.
        "sendenv" => set
            .send_env
            .extend(value.split_whitespace().map(str::to_owned)),
        "kexalgorithms" => first(&mut set.kex, value.to_owned()),
        "hostkeyalgorithms" => first(&mut set.host_key_algorithms, value.to_owned()),
        "ciphers" => first(&mut set.ciphers, value.to_owned()),
        "macs" => first(&mut set.macs, value.to_owned()),
        "compression" => first(&mut set.compression, yes_no(value).ok_or_else(bad)?),
        "batchmode" => first(&mut set.batch_mode, yes_no(value).ok_or_else(bad)?),
        "passwordauthentication" => first(
            &mut set.password_authentication,
            yes_no(value).ok_or_else(bad)?,
        ),
        "kbdinteractiveauthentication" | "challengeresponseauthentication" => first(
            &mut set.kbd_interactive_authentication,
            yes_no(value).ok_or_else(bad)?,
        ),
        "pubkeyauthentication" => first(
            &mut set.pubkey_authentication,
            yes_no(value).ok_or_else(bad)?,
        ),
        "preferredauthentications" => first(&mut set.preferred_authentications, value.to_owned()),
        "numberofpasswordprompts" => first(
            &mut set.number_of_password_prompts,
            value.parse().map_err(|_| bad())?,
        ),
        "stricthostkeychecking" => {
            let policy = match value.to_ascii_lowercase().as_str() {
                "yes" | "true" => StrictHostKeyChecking::Yes,
                "accept-new" => StrictHostKeyChecking::AcceptNew,
                "no" | "false" | "off" => StrictHostKeyChecking::No,
                "ask" => StrictHostKeyChecking::Ask,
                _ => return Err(bad()),
            };
            first(&mut set.strict_host_key_checking, policy);
        }
        "userknownhostsfile" => first(&mut set.user_known_hosts_files, file_list(value)),
        "globalknownhostsfile" => first(&mut set.global_known_hosts_files, file_list(value)),
        "hashknownhosts" => first(&mut set.hash_known_hosts, yes_no(value).ok_or_else(bad)?),
        "hostkeyalias" => first(&mut set.host_key_alias, value.to_owned()),
        "requesttty" => {
            let tty = match value.to_ascii_lowercase().as_str() {
                "no" | "false" => RequestTty::No,
                "yes" | "true" => RequestTty::Yes,
                "force" => RequestTty::Force,
                "auto" => RequestTty::Auto,
                _ => return Err(bad()),
            };
            first(&mut set.request_tty, tty);
        }
        "connecttimeout" => first(&mut set.connect_timeout, seconds(value).ok_or_else(bad)?),
        "serveraliveinterval" => first(
            &mut set.server_alive_interval,
            seconds(value).ok_or_else(bad)?,
        ),
        "serveralivecountmax" => first(
            &mut set.server_alive_count_max,
            value.parse().map_err(|_| bad())?,
        ),
        "loglevel" => {
            let level = match value.to_ascii_uppercase().as_str() {
                "QUIET" => LogLevel::Quiet,
                "FATAL" => LogLevel::Fatal,
                "ERROR" => LogLevel::Error,
                "INFO" => LogLevel::Info,
                "VERBOSE" => LogLevel::Verbose,
                "DEBUG" | "DEBUG1" | "DEBUG2" | "DEBUG3" => LogLevel::Debug,
                _ => return Err(bad()),
            };
            first(&mut set.log_level, level);
        }
        // ssh_config writes the two ends apart: `LocalForward 8080 host:80`.
        "localforward" => set.local_forwards.push(forward_option(value)),
        "remoteforward" => set.remote_forwards.push(forward_option(value)),
        "dynamicforward" => set.dynamic_forwards.push(value.to_owned()),
        "proxyjump" => first(&mut set.proxy_jump, value.to_owned()),
        "forwardagent" => first(&mut set.forward_agent, yes_no(value).ok_or_else(bad)?),
        "exitonforwardfailure" => first(
            &mut set.exit_on_forward_failure,
            yes_no(value).ok_or_else(bad)?,
        ),
        "gatewayports" => first(&mut set.gateway_ports, yes_no(value).ok_or_else(bad)?),
        _ => return Err(format!("command-line: unsupported option {name:?}")),
    }
    Ok(())
}

/// The variables to send: `SetEnv`'s, then those of ours whose names match a
/// `SendEnv` pattern (`-pattern` takes earlier matches back out).
fn environment(mut set: Vec<(String, String)>, send: &[String]) -> Vec<(String, String)> {
    let mut names: Vec<String> = Vec::new();
    for pattern in send {
        if let Some(removed) = pattern.strip_prefix('-') {
            names.retain(|name| !glob_matches(removed, name));
            continue;
        }
        for (name, _) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if glob_matches(pattern, name) && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    for name in names {
        if set.iter().any(|(set_name, _)| *set_name == name) {
            continue;
        }
        if let Ok(value) = std::env::var(&name) {
            set.push((name, value));
        }
    }
    set
}

/// `[user@]host` or `ssh://[user@]host[:port]`.
fn parse_destination(dest: &str) -> Result<(Option<String>, String, Option<u16>), String> {
    let (uri, rest) = match dest.strip_prefix("ssh://") {
        Some(rest) => (true, rest.trim_end_matches('/')),
        None => (false, dest),
    };
    let (user, host) = match rest.rsplit_once('@') {
        Some((user, host)) if !user.is_empty() => (Some(user.to_owned()), host),
        Some(_) => return Err(format!("bad destination {dest:?}")),
        None => (None, rest),
    };
    let (host, port) = if uri {
        split_uri_host(host).ok_or_else(|| format!("bad destination {dest:?}"))?
    } else {
        (host.to_owned(), None)
    };
    if host.is_empty() {
        return Err(format!("bad destination {dest:?}"));
    }
    Ok((user, host, port))
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` of an ssh:// URI.
fn split_uri_host(host: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((address.to_owned(), port));
    }
    match host.split_once(':') {
        Some((name, port)) => Some((name.to_owned(), Some(port.parse().ok()?))),
        None => Some((host.to_owned(), None)),
    }
}

/// The local user's name, the default login.
pub(crate) fn local_user() -> Result<String, String> {
    for variable in ["USER", "LOGNAME"] {
        if let Some(user) = std::env::var_os(variable).filter(|u| !u.is_empty()) {
            return Ok(user.to_string_lossy().into_owned());
        }
    }
    let uid = rustix::process::getuid();
    // No name in the environment: the password database has it.
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            (id == uid.as_raw()).then(|| name.to_owned())
        })
        .ok_or_else(|| "cannot tell the local user name: use -l".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        let mut argv = vec!["client"];
        argv.extend_from_slice(args);
        Options::resolve(Cli::try_parse_from(argv).expect("parse")).expect("resolve")
    }

    #[test]
    fn flags_override_o_options_and_the_first_o_wins() {
        let o = options(&["-o", "Port=2", "-o", "Port=3", "-p", "4", "alice@h"]);
        assert_eq!(o.port, 4);
        let o = options(&["-o", "Port=2", "-o", "Port 3", "h"]);
        assert_eq!(o.port, 2);
    }

    #[test]
    fn destination_forms_give_user_host_and_port() {
        let o = options(&["ssh://bob@[::1]:2222", "uname", "-a"]);
        assert_eq!(
            (o.user.as_str(), o.host.as_str(), o.port),
            ("bob", "::1", 2222)
        );
        assert_eq!(o.command.as_deref(), Some("uname -a"));
        let o = options(&["-l", "carol", "bob@example.org"]);
        assert_eq!(o.user, "carol");
    }

    #[test]
    fn algorithm_lists_replace_append_remove_and_prepend() {
        let o = options(&["-c", "aes128-ctr,aes256-ctr", "h"]);
        assert_eq!(
            o.ciphers,
            [CipherAlgorithm::Aes128Ctr, CipherAlgorithm::Aes256Ctr]
        );
        let o = options(&["-o", "KexAlgorithms=+diffie-hellman-group14-sha1", "h"]);
        assert_eq!(o.kex.last(), Some(&KexAlgorithm::DhGroup14Sha1));
        let o = options(&["-o", "MACs=-*-etm@openssh.com", "h"]);
        assert!(
            o.macs
                .iter()
                .all(|m| !m.name().ends_with("-etm@openssh.com"))
        );
        let o = options(&["-o", "Ciphers=^aes256-ctr", "h"]);
        assert_eq!(o.ciphers.first(), Some(&CipherAlgorithm::Aes256Ctr));
    }

    #[test]
    fn host_key_algorithms_take_certificate_forms() {
        let names =
            |o: &Options| -> Vec<&str> { o.host_key_algorithms.iter().map(|a| a.name()).collect() };
        let o = options(&["h"]);
        assert_eq!(names(&o).first(), Some(&"ssh-ed25519-cert-v01@openssh.com"));
        assert!(names(&o).contains(&"ssh-ed25519"));
        let o = options(&["-o", "HostKeyAlgorithms=-*-cert-v01@openssh.com", "h"]);
        assert!(names(&o).iter().all(|n| !n.contains("-cert-")));
        let o = options(&[
            "-o",
            "HostKeyAlgorithms=rsa-sha2-512-cert-v01@openssh.com",
            "h",
        ]);
        assert_eq!(names(&o), ["rsa-sha2-512-cert-v01@openssh.com"]);
    }

    #[test]
    fn tty_flags_count_and_repeated_flags_keep_the_last_value() {
        let o = options(&["-tt", "-p", "1", "-p", "2", "-i", "a", "-i", "b", "h"]);
        assert_eq!(o.request_tty, RequestTty::Force);
        assert_eq!(o.port, 2);
        assert_eq!(o.identity_files, [PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(options(&["-t", "h"]).request_tty, RequestTty::Yes);
        assert_eq!(options(&["-T", "h"]).request_tty, RequestTty::No);
        assert_eq!(options(&["h"]).request_tty, RequestTty::Auto);
    }

    #[test]
    fn set_env_pairs_come_first_then_send_env_matches() {
        let env = environment(vec![("A".into(), "1".into())], &["PATH".into()]);
        assert_eq!(env.first(), Some(&("A".to_owned(), "1".to_owned())));
        assert!(env.iter().any(|(name, _)| name == "PATH"));
        let env = environment(Vec::new(), &["PATH".into(), "-PA*".into()]);
        assert!(env.is_empty());
    }

    #[test]
    fn batch_mode_leaves_out_the_methods_that_ask() {
        let o = options(&["-o", "BatchMode=yes", "h"]);
        assert_eq!(o.auth_methods(true), [AuthMethod::PublicKey]);
    }

    #[test]
    fn forward_flags_and_options_accumulate() {
        let o = options(&[
            "-L",
            "1:db:5",
            "-o",
            "LocalForward=2 web:80",
            "-N",
            "-A",
            "h",
        ]);
        assert_eq!(o.local_forwards.len(), 2);
        assert!(o.no_command && o.forward_agent);
    }

    #[test]
    fn jump_flag_overrides_proxy_jump() {
        let o = options(&["-o", "ProxyJump=a", "-J", "u@b:2,c", "h"]);
        assert_eq!(o.jump_hosts.len(), 2);
    }

    #[test]
    fn unknown_options_and_algorithms_are_errors() {
        let cli = Cli::try_parse_from(["client", "-o", "Frobnicate=yes", "h"]).expect("parse");
        assert!(Options::resolve(cli).is_err());
        let cli = Cli::try_parse_from(["client", "-c", "rot13", "h"]).expect("parse");
        assert!(Options::resolve(cli).is_err());
    }
}

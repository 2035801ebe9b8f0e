//! The server's host key against the known_hosts files, as ssh checks it: the user
//! files (`UserKnownHostsFile`, the first is where new keys go) and the global ones
//! (`GlobalKnownHostsFile`), hashed names and `[host]:port` names, `@revoked` keys,
//! and `StrictHostKeyChecking` deciding about unknown and changed keys. A host
//! certificate is trusted when a `@cert-authority` line for the host names its CA
//! and it is valid for the host; otherwise its key is judged as a plain key, as ssh
//! does.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sansh_tokio::core::crypto::SystemRandom;
use sansh_tokio::core::keys::{Certificate, KeyType, PublicKey};
use sansh_tokio::core::known_hosts::{
    CertificateLookup, HostKeyStatus, KeyOnRecord, KnownHosts, Marker, host_port_name,
};

use crate::args::{LogLevel, Options, StrictHostKeyChecking};
use crate::prompt::{Prompter, Question};

/// What the check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The key is on record, or the user (or the policy) accepted it.
    Trusted,
    /// The key differs from the one on record but `StrictHostKeyChecking=no` goes
    /// on: password and keyboard-interactive logins must not be offered.
    TrustedDespiteChange,
    /// Refused; the reason has been printed.
    Refused,
}

/// Everything the check needs, taken from the options.
#[derive(Debug, Clone)]
pub(crate) struct HostKeyCheck {
    /// The name the key is recorded under (the host or `HostKeyAlias`).
    host: String,
    /// The port; 0 with `HostKeyAlias`, whose name stands alone.
    port: u16,
    user_files: Vec<PathBuf>,
    global_files: Vec<PathBuf>,
    policy: StrictHostKeyChecking,
    hash: bool,
    log_level: LogLevel,
}

/// One file's verdict, with the file.
struct Found<'a> {
    path: &'a Path,
    status: HostKeyStatus,
}

const BANNER_LINE: &str = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@";

impl HostKeyCheck {
    pub(crate) fn new(options: &Options) -> Self {
        let (host, port) = match &options.host_key_alias {
            Some(alias) => (alias.clone(), 0),
            None => (options.host.clone(), options.port),
        };
        Self {
            host,
            port,
            user_files: options.user_known_hosts_files.clone(),
            global_files: options.global_known_hosts_files.clone(),
            policy: options.strict_host_key_checking,
            hash: options.hash_known_hosts,
            log_level: options.log_level,
        }
    }

    /// The name as known_hosts records it: `host` or `[host]:port`.
    fn name(&self) -> String {
        host_port_name(&self.host, self.port)
    }

    /// The types of the keys recorded for the host (plain lines only), in file
    /// order: ssh asks for those first, so that a host known by its ECDSA key is not
    /// met with a new Ed25519 key that would look like a change.
    pub(crate) fn known_key_types(&self) -> Vec<KeyType> {
        let mut types = Vec::new();
        for (_, known) in self.read_files() {
            let recorded = known
                .find(&self.host, self.port)
                .filter(|entry| entry.marker().is_none())
                .filter_map(|entry| entry.key().public_key().map(PublicKey::key_type));
            for key_type in recorded {
                if !types.contains(&key_type) {
                    types.push(key_type);
                }
            }
        }
        types
    }

    /// Whether a `@cert-authority` line of the known_hosts files covers the host:
    /// then ssh prefers host certificates.
    pub(crate) fn has_authority(&self) -> bool {
        self.read_files().iter().any(|(_, known)| {
            known
                .find(&self.host, self.port)
                .any(|entry| entry.marker() == Some(Marker::CertAuthority))
        })
    }

    fn read_files(&self) -> Vec<(PathBuf, KnownHosts)> {
        self.user_files
            .iter()
            .chain(&self.global_files)
            .map(|path| (path.clone(), KnownHosts::parse(&read_or_empty(path))))
            .collect()
    }

    /// Judges a host certificate: trusted when an authority on record vouches for it,
    /// else (after saying why a vouched-for one was refused) its key as a plain key.
    pub(crate) fn verify_certificate(
        &self,
        certificate: &Certificate,
        prompter: &Prompter,
    ) -> Verdict {
        let now = SystemTime::now();
        let lookups: Vec<CertificateLookup> = self
            .read_files()
            .iter()
            .map(|(_, known)| known.check_certificate(&self.host, self.port, certificate, now))
            .collect();
        let key = certificate.key();
        if let Some(verdict) = self.settled(key, lookups.iter().map(|l| &l.status)) {
            return verdict;
        }
        for reason in lookups.iter().filter_map(|l| l.rejection.as_ref()) {
            eprintln!("Certificate invalid: {reason}");
        }
        self.verify(key, prompter)
    }

    /// Judges `key`, asking the user or recording it as the policy says. Blocks (file
    /// reads, prompts).
    pub(crate) fn verify(&self, key: &PublicKey, prompter: &Prompter) -> Verdict {
        let files = self.read_files();
        let found: Vec<Found<'_>> = files
            .iter()
            .map(|(path, known)| Found {
                path,
                status: known.check(&self.host, self.port, key),
            })
            .collect();
        if let Some(verdict) = self.settled(key, found.iter().map(|f| &f.status)) {
            return verdict;
        }
        let changed = found.iter().find_map(|f| match &f.status {
            HostKeyStatus::Changed { keys_on_record } => {
                keys_on_record.first().map(|k| (f.path, k.clone()))
            }
            _ => None,
        });
        match changed {
            Some((path, on_record)) => self.changed(key, path, &on_record),
            None => self.unknown(key, prompter),
        }
    }

    /// The verdict when a file already settles it: revoked anywhere refuses, else
    /// trusted anywhere trusts; `None` leaves the key to the policy.
    fn settled<'a>(
        &self,
        key: &PublicKey,
        statuses: impl Iterator<Item = &'a HostKeyStatus> + Clone,
    ) -> Option<Verdict> {
        if statuses
            .clone()
            .any(|s| matches!(s, HostKeyStatus::Revoked { .. }))
        {
            return Some(self.revoked(key));
        }
        statuses
            .into_iter()
            .any(|s| matches!(s, HostKeyStatus::Trusted { .. }))
            .then_some(Verdict::Trusted)
    }

    /// Prints ssh's warning about a revoked key, and refuses.
    fn revoked(&self, key: &PublicKey) -> Verdict {
        let label = key_label(key.key_type());
        eprint!(
            "{BANNER_LINE}\n@       WARNING: REVOKED HOST KEY DETECTED!               @\n\
             {BANNER_LINE}\nThe {label} host key for {} is marked as revoked.\n\
             This could mean that a stolen key is being used to\nimpersonate this host.\n",
            self.name()
        );
        self.refused()
    }

    /// Prints ssh's warning about a changed key; only `StrictHostKeyChecking=no`
    /// goes on, without password logins.
    fn changed(&self, key: &PublicKey, path: &Path, on_record: &KeyOnRecord) -> Verdict {
        let label = key_label(key.key_type());
        let recorded = KeyType::from_name(on_record.key.key_type_name())
            .map(key_label)
            .unwrap_or("unknown");
        let user_file = self.user_files.first().map(|p| p.display().to_string());
        eprint!(
            "{BANNER_LINE}\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n{BANNER_LINE}\n\
             IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n\
             Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n\
             It is also possible that a host key has just been changed.\n\
             The fingerprint for the {label} key sent by the remote host is\n{}.\n\
             Please contact your system administrator.\n",
            key.fingerprint_sha256()
        );
        if let Some(user_file) = &user_file {
            eprintln!("Add correct host key in {user_file} to get rid of this message.");
        }
        eprint!(
            "Offending {recorded} key in {}:{}\n  remove with:\n  ssh-keygen -f '{}' -R '{}'\n",
            path.display(),
            on_record.line,
            path.display(),
            self.name()
        );
        if self.policy == StrictHostKeyChecking::No {
            eprint!(
                "Password authentication is disabled to avoid man-in-the-middle attacks.\n\
                 Keyboard-interactive authentication is disabled to avoid man-in-the-middle attacks.\n"
            );
            return Verdict::TrustedDespiteChange;
        }
        eprintln!(
            "Host key for {} has changed and you have requested strict checking.",
            self.name()
        );
        self.refused()
    }

    /// Nothing recorded: refuse, ask, or record, as the policy says.
    fn unknown(&self, key: &PublicKey, prompter: &Prompter) -> Verdict {
        let label = key_label(key.key_type());
        let fingerprint = key.fingerprint_sha256();
        match self.policy {
            StrictHostKeyChecking::Yes => {
                eprintln!(
                    "No {label} host key is known for {} and you have requested strict checking.",
                    self.name()
                );
                return self.refused();
            }
            StrictHostKeyChecking::Ask => {
                if !self.confirm(label, &fingerprint, prompter) {
                    return self.refused();
                }
            }
            StrictHostKeyChecking::AcceptNew | StrictHostKeyChecking::No => {}
        }
        self.record(key, label);
        Verdict::Trusted
    }

    /// ssh's question about a new host; true once the user says yes or types the
    /// fingerprint.
    fn confirm(&self, label: &str, fingerprint: &str, prompter: &Prompter) -> bool {
        if !prompter.interactive() {
            return false;
        }
        let mut prompt = format!(
            "The authenticity of host '{name} ({name})' can't be established.\n\
             {label} key fingerprint is {fingerprint}.\n\
             This key is not known by any other names.\n\
             Are you sure you want to continue connecting (yes/no/[fingerprint])? ",
            name = self.name()
        );
        loop {
            let Some(answer) = prompter.ask(&prompt, Question::Echoed) else {
                return false;
            };
            let answer = answer.trim();
            if answer.eq_ignore_ascii_case("yes") || answer == fingerprint {
                return true;
            }
            if answer.eq_ignore_ascii_case("no") {
                return false;
            }
            prompt = "Please type 'yes', 'no' or the fingerprint: ".into();
        }
    }

    /// Appends the key to the first user file (creating it and its directory), as
    /// ssh does, with a warning; a failure to write is a warning too.
    fn record(&self, key: &PublicKey, label: &str) {
        let Some(path) = self.user_files.first() else {
            return;
        };
        let text = read_or_empty(path);
        let mut known = KnownHosts::parse(&text);
        let line = if self.hash {
            known.add_hashed(&self.host, self.port, key, &mut SystemRandom)
        } else {
            known.add(&self.host, self.port, key)
        };
        let written = line
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
            .and_then(|line| append_line(path, &text, &line));
        match written {
            Ok(()) if self.log_level >= LogLevel::Info => eprintln!(
                "Warning: Permanently added '{}' ({label}) to the list of known hosts.",
                self.name()
            ),
            Ok(()) => {}
            Err(error) => eprintln!(
                "Failed to add the host to the list of known hosts ({}): {error}",
                path.display()
            ),
        }
    }

    fn refused(&self) -> Verdict {
        eprintln!("Host key verification failed.");
        Verdict::Refused
    }
}

/// ssh's name for a key type in messages: `ED25519`, `ECDSA`, `RSA`.
fn key_label(key_type: KeyType) -> &'static str {
    key_type.label()
}

/// A file's text; a missing or unreadable file counts as empty, as for ssh.
fn read_or_empty(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

fn append_line(path: &Path, text: &str, line: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    let separator = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{separator}{line}")
}

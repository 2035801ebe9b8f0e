//! What every section of the keys conformance test shares: running ssh-keygen, the
//! key types under test, ssh-keygen's `-l` output, and the result matrix.

use sansh_conformance::process::wait_or_kill;
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use sansh_conformance::openssh::SSH_KEYGEN;
use sansh_core::keys::{FingerprintHash, KeyType, PublicKey};

/// The passphrase of every encrypted key in these tests.
pub(crate) const PASSPHRASE: &str = "correct horse";

/// How long one ssh-keygen run may take (RSA 4096 generation is the slowest).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// A key type and size under test: its row label, ssh-keygen's `-t`/`-b`, and ours.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeySpec {
    pub(crate) label: &'static str,
    pub(crate) keygen_type: &'static str,
    pub(crate) bits: Option<u32>,
    pub(crate) key_type: KeyType,
}

/// Every type and size ssh-keygen makes that we support.
pub(crate) const KEY_SPECS: &[KeySpec] = &[
    spec("ed25519", "ed25519", None, KeyType::Ed25519),
    spec("ecdsa-256", "ecdsa", Some(256), KeyType::EcdsaP256),
    spec("ecdsa-384", "ecdsa", Some(384), KeyType::EcdsaP384),
    spec("ecdsa-521", "ecdsa", Some(521), KeyType::EcdsaP521),
    spec("rsa-2048", "rsa", Some(2048), KeyType::Rsa),
    spec("rsa-3072", "rsa", Some(3072), KeyType::Rsa),
    spec("rsa-4096", "rsa", Some(4096), KeyType::Rsa),
];

const fn spec(
    label: &'static str,
    keygen_type: &'static str,
    bits: Option<u32>,
    key_type: KeyType,
) -> KeySpec {
    KeySpec {
        label,
        keygen_type,
        bits,
        key_type,
    }
}

impl KeySpec {
    /// `-t TYPE [-b BITS]` for ssh-keygen.
    pub(crate) fn keygen_args(&self) -> Vec<String> {
        let mut args = vec!["-t".to_owned(), self.keygen_type.to_owned()];
        if let Some(bits) = self.bits {
            args.extend(["-b".to_owned(), bits.to_string()]);
        }
        args
    }
}

/// How an ssh-keygen run ended.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `ssh-keygen args` with times in UTC, no standard input and a time limit.
///
/// Callers always pass the passphrases ssh-keygen needs: it would otherwise prompt on
/// the terminal.
pub(crate) fn ssh_keygen<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Result<Run, String> {
    let mut command = SSH_KEYGEN.command().map_err(|e| e.to_string())?;
    command.args(args);
    run(command)
}

/// Runs `ssh-keygen args`, returning its standard output when it succeeds.
pub(crate) fn ssh_keygen_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Result<String, String> {
    let line = describe(args);
    let run = ssh_keygen(args)?;
    if run.success {
        Ok(run.stdout)
    } else {
        Err(format!("`ssh-keygen {line}` failed: {}", run.stderr.trim()))
    }
}

/// Runs `command` (an ssh-keygen or the keygen example) with the environment pinned.
pub(crate) fn run(mut command: Command) -> Result<Run, String> {
    let line = format!("{command:?}");
    command
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {line}: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = match wait_or_kill(&mut child, RUN_TIMEOUT) {
        Ok(Some(status)) => status,
        Ok(None) => return Err(format!("{line} took longer than {RUN_TIMEOUT:?}")),
        Err(e) => return Err(format!("cannot wait for {line}: {e}")),
    };
    Ok(Run {
        success: status.success(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn describe<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let words: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    words.join(" ")
}

/// A path as a `&str` for command lines (scratch paths are ASCII).
pub(crate) fn path_str(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// Writes a private key file (0600, as ssh-keygen demands).
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    write_file(path, contents, 0o600)
}

/// Writes a public file (0644).
pub(crate) fn write_public(path: &Path, contents: &str) -> Result<(), String> {
    write_file(path, contents, 0o644)
}

fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads a file written by ssh-keygen.
pub(crate) fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// What `ssh-keygen -l` and `-lv` print about one public key, with `-E sha256` and
/// `-E md5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprints {
    /// `BITS SHA256:... COMMENT (TYPE)`.
    pub(crate) sha256_line: String,
    /// `BITS MD5:... COMMENT (TYPE)`.
    pub(crate) md5_line: String,
    /// The randomart of `-lv`.
    pub(crate) sha256_art: String,
    /// The randomart of `-lv -E md5`.
    pub(crate) md5_art: String,
}

impl Fingerprints {
    /// Asks ssh-keygen about the key file `path`.
    pub(crate) fn of_file(path: &Path) -> Result<Self, String> {
        let path = path_str(path);
        let line = |out: String| out.lines().next().unwrap_or_default().to_owned();
        let art = |out: String| out.lines().skip(1).collect::<Vec<_>>().join("\n");
        Ok(Self {
            sha256_line: line(ssh_keygen_ok(&["-l", "-f", path])?),
            md5_line: line(ssh_keygen_ok(&["-l", "-E", "md5", "-f", path])?),
            sha256_art: art(ssh_keygen_ok(&["-lv", "-f", path])?),
            md5_art: art(ssh_keygen_ok(&["-lv", "-E", "md5", "-f", path])?),
        })
    }

    /// What ssh-keygen would print about `key` with `comment`, computed by us.
    pub(crate) fn ours(key: &PublicKey, comment: &str) -> Self {
        let comment = if comment.is_empty() {
            "no comment"
        } else {
            comment
        };
        let line = |hash| {
            format!(
                "{} {} {comment} ({})",
                key.bits(),
                key.fingerprint(hash),
                key.key_type().label()
            )
        };
        Self {
            sha256_line: line(FingerprintHash::Sha256),
            md5_line: line(FingerprintHash::Md5),
            sha256_art: key.randomart(FingerprintHash::Sha256),
            md5_art: key.randomart(FingerprintHash::Md5),
        }
    }

    /// Where `self` (ssh-keygen's) and `ours` differ, or `Ok`.
    pub(crate) fn agree(&self, ours: &Self) -> Result<(), String> {
        let mut diff = String::new();
        for (what, theirs, mine) in [
            ("-l", &self.sha256_line, &ours.sha256_line),
            ("-l -E md5", &self.md5_line, &ours.md5_line),
            ("-lv", &self.sha256_art, &ours.sha256_art),
            ("-lv -E md5", &self.md5_art, &ours.md5_art),
        ] {
            if theirs != mine {
                let _ = write!(diff, "\n  ssh-keygen {what}:\n{theirs}\n  ours:\n{mine}");
            }
        }
        if diff.is_empty() {
            Ok(())
        } else {
            Err(format!("fingerprints differ:{diff}"))
        }
    }
}

/// The outcome of one cell of the matrix.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Both sides agree.
    Pass,
    /// Both sides agree, with a remark on how (printed beside the result).
    PassNoted(String),
    /// The combination does not exist on ssh-keygen's side (the reason says why) and
    /// we refuse it or ssh-keygen does, as expected.
    NotApplicable(String),
    /// They disagree, or a step failed: what happened.
    Fail(String),
}

impl From<Result<(), String>> for Outcome {
    fn from(result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Outcome::Pass,
            Err(e) => Outcome::Fail(e),
        }
    }
}

/// One row: who wrote, who read, the format and the key type.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) direction: &'static str,
    pub(crate) format: String,
    pub(crate) key: String,
    pub(crate) outcome: Outcome,
}

/// Rows collected from every section (from several threads), printed together and
/// asserted only once all are in.
#[derive(Debug, Default)]
pub(crate) struct Matrix {
    rows: Mutex<Vec<Row>>,
}

impl Matrix {
    /// Records the outcome of `direction`, `format`, `key`.
    pub(crate) fn record(
        &self,
        direction: &'static str,
        format: impl Into<String>,
        key: impl Into<String>,
        outcome: impl Into<Outcome>,
    ) {
        let row = Row {
            direction,
            format: format.into(),
            key: key.into(),
            outcome: outcome.into(),
        };
        self.rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(row);
    }

    /// Appends the rows of `other` (a section run on its own), after ours.
    pub(crate) fn append(&self, other: Matrix) {
        let rows = other
            .rows
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(rows);
    }

    /// Prints every row (then the failures in full) and panics if any failed.
    pub(crate) fn print_and_assert(&self, title: &str) {
        let mut rows = self
            .rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        sort_rows(&mut rows);
        let width = |f: fn(&Row) -> usize, header: &str| {
            rows.iter().map(f).max().unwrap_or(0).max(header.len())
        };
        let (dw, fw, kw) = (
            width(|r| r.direction.len(), "direction"),
            width(|r| r.format.len(), "format"),
            width(|r| r.key.len(), "key"),
        );
        let mut out = format!("\n{title}\n");
        let _ = writeln!(
            out,
            "{:dw$}  {:fw$}  {:kw$}  result",
            "direction", "format", "key"
        );
        let mut failures = Vec::new();
        for row in &rows {
            let result = match &row.outcome {
                Outcome::Pass => "pass".to_owned(),
                Outcome::PassNoted(note) => format!("pass ({note})"),
                Outcome::NotApplicable(why) => format!("n/a ({why})"),
                Outcome::Fail(_) => {
                    failures.push(row);
                    "FAIL".to_owned()
                }
            };
            let _ = writeln!(
                out,
                "{:dw$}  {:fw$}  {:kw$}  {result}",
                row.direction, row.format, row.key
            );
        }
        let passed = rows
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Pass | Outcome::PassNoted(_)))
            .count();
        let _ = writeln!(
            out,
            "{} rows: {passed} pass, {} n/a, {} FAIL",
            rows.len(),
            rows.len() - passed - failures.len(),
            failures.len()
        );
        for row in &failures {
            if let Outcome::Fail(why) = &row.outcome {
                let _ = writeln!(
                    out,
                    "\nFAIL {} | {} | {}:\n{why}",
                    row.direction, row.format, row.key
                );
            }
        }
        println!("{out}");
        assert!(!rows.is_empty(), "no rows were recorded");
        assert!(
            failures.is_empty(),
            "{} rows failed (see above)",
            failures.len()
        );
    }
}

/// Orders rows by direction, then format within it, as first recorded (each thread of
/// a section records its formats in the same order), then by key type in
/// [`KEY_SPECS`] order.
fn sort_rows(rows: &mut [Row]) {
    let mut directions: Vec<&'static str> = Vec::new();
    let mut formats: Vec<(&'static str, String)> = Vec::new();
    for row in rows.iter() {
        if !directions.contains(&row.direction) {
            directions.push(row.direction);
        }
        let format = (row.direction, row.format.clone());
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    let key_rank = |key: &str| {
        KEY_SPECS
            .iter()
            .position(|s| s.label == key)
            .unwrap_or(KEY_SPECS.len())
    };
    rows.sort_by_key(|row| {
        (
            directions.iter().position(|d| *d == row.direction),
            formats
                .iter()
                .position(|(d, f)| *d == row.direction && *f == row.format),
            key_rank(&row.key),
        )
    });
}

/// Runs `work` for each item on its own thread and returns the results in order.
pub(crate) fn parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    thread::scope(|s| {
        let handles: Vec<_> = items.iter().map(|item| s.spawn(|| work(item))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

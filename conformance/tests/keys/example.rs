//! The keygen example (`cargo run -p sansh-core --example keygen`) against ssh-keygen:
//! for the same inputs it prints the same thing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sansh_conformance::build::{BuildOptions, cargo_build};
use sansh_conformance::scratch::ScratchDir;

use super::support::{
    Matrix, Outcome, PASSPHRASE, Run, path_str, read, run, ssh_keygen, ssh_keygen_ok,
};

const DIRECTION: &str = "example vs ssh-keygen";

/// Builds the example with the cargo running this test and returns its path.
fn build_example() -> Result<PathBuf, String> {
    cargo_build("sansh-core", "example", "keygen", BuildOptions::default())
}

/// The keygen example and the inputs both tools are given.
struct Bench {
    example: PathBuf,
    dir: ScratchDir,
}

impl Bench {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn p(&self, name: &str) -> String {
        path_str(&self.path(name)).to_owned()
    }

    /// Runs the example with `args`.
    fn example(&self, args: &[&str]) -> Result<Run, String> {
        let mut command = Command::new(&self.example);
        command.args(args);
        run(command)
    }

    /// Runs both tools with `args`; both must succeed and print the same.
    fn same_output(&self, args: &[&str]) -> Outcome {
        let result = ssh_keygen(args).and_then(|theirs| {
            let ours = self.example(args)?;
            if !theirs.success || !ours.success {
                return Err(format!(
                    "ssh-keygen ok={} {}\nexample ok={} {}",
                    theirs.success, theirs.stderr, ours.success, ours.stderr
                ));
            }
            if theirs.stdout == ours.stdout {
                Ok(())
            } else {
                Err(format!(
                    "ssh-keygen:\n{}\nexample:\n{}",
                    theirs.stdout, ours.stdout
                ))
            }
        });
        result.into()
    }
}

/// Runs every case and records a row for each.
pub(crate) fn check(matrix: &Matrix) {
    let setup = || -> Result<Bench, String> {
        let bench = Bench {
            example: build_example()?,
            dir: ScratchDir::new("keys-example").map_err(|e| e.to_string())?,
        };
        make_inputs(&bench)?;
        Ok(bench)
    };
    let bench = match setup() {
        Ok(bench) => bench,
        Err(e) => {
            matrix.record(DIRECTION, "setup", "-", Outcome::Fail(e));
            return;
        }
    };
    let b = &bench;
    for key in ["ed25519", "ecdsa-384", "rsa-2048"] {
        let public = b.p(&format!("{key}.pub"));
        matrix.record(
            DIRECTION,
            "-l -f KEY.pub",
            key,
            b.same_output(&["-l", "-f", &public]),
        );
        matrix.record(
            DIRECTION,
            "-lv -E md5 -f KEY.pub",
            key,
            b.same_output(&["-lv", "-E", "md5", "-f", &public]),
        );
        matrix.record(
            DIRECTION,
            "-e -f KEY.pub",
            key,
            b.same_output(&["-e", "-f", &public]),
        );
        let rfc = b.p(&format!("{key}.rfc4716"));
        matrix.record(
            DIRECTION,
            "-i -f KEY.rfc4716",
            key,
            b.same_output(&["-i", "-f", &rfc]),
        );
    }
    let ecdsa = b.p("ecdsa-384.pub");
    let rsa = b.p("rsa-2048.pub");
    for (m, file, key) in [("PKCS8", &ecdsa, "ecdsa-384"), ("PEM", &rsa, "rsa-2048")] {
        let label = format!("-e -m {m} -f KEY.pub");
        matrix.record(
            DIRECTION,
            label,
            key,
            b.same_output(&["-e", "-m", m, "-f", file]),
        );
    }
    let lonely = b.p("ed25519-alone");
    matrix.record(
        DIRECTION,
        "-l -f encrypted, no .pub",
        "ed25519",
        b.same_output(&["-l", "-f", &lonely]),
    );
    let private = b.p("rsa-2048");
    matrix.record(
        DIRECTION,
        "-lv -f private",
        "rsa-2048",
        b.same_output(&["-lv", "-f", &private]),
    );
    for (key, label) in [
        ("ed25519", "-y -P (openssh aes256-ctr)"),
        ("ecdsa-384", "-y -P (PEM)"),
    ] {
        let file = b.p(key);
        matrix.record(
            DIRECTION,
            label,
            key,
            b.same_output(&["-y", "-P", PASSPHRASE, "-f", &file]),
        );
    }
    let cert = b.p("rsa-2048-cert.pub");
    matrix.record(
        DIRECTION,
        "-L (ssh-keygen's cert)",
        "rsa-2048",
        b.same_output(&["-L", "-f", &cert]),
    );
    matrix.record(
        DIRECTION,
        "-lv -f CERT",
        "rsa-2048",
        b.same_output(&["-lv", "-f", &cert]),
    );
    for (key, t, bits) in [
        ("ed25519", "ed25519", None),
        ("ecdsa-521", "ecdsa", Some("521")),
    ] {
        matrix.record(
            DIRECTION,
            "generate -t -b -f -N -C",
            key,
            Outcome::from(generate(b, key, t, bits)),
        );
    }
    matrix.record(
        DIRECTION,
        "-p -P -N -m PKCS8",
        "ecdsa-384",
        Outcome::from(change_passphrase(b)),
    );
    for host in [false, true] {
        let label = if host {
            "-s -h (host cert)"
        } else {
            "-s -O ... (user cert)"
        };
        matrix.record(DIRECTION, label, "ed25519", Outcome::from(sign(b, host)));
    }
    matrix.record(
        DIRECTION,
        "errors: exit status, message",
        "-",
        Outcome::from(errors(b)),
    );
}

/// ssh-keygen makes the inputs: keys (one encrypted OpenSSH, one encrypted PEM, one
/// plain), their RFC 4716 exports, an encrypted copy without a `.pub`, a CA and a
/// certificate with options.
fn make_inputs(b: &Bench) -> Result<(), String> {
    for (name, t, bits, pass, format) in [
        ("ed25519", "ed25519", None, PASSPHRASE, None),
        ("ecdsa-384", "ecdsa", Some("384"), PASSPHRASE, Some("PEM")),
        ("rsa-2048", "rsa", Some("2048"), "", None),
        ("ca", "ecdsa", Some("256"), "", None),
    ] {
        let path = b.p(name);
        let comment = format!("example-{name}");
        let mut args = vec!["-q", "-t", t, "-N", pass, "-C", &comment, "-f", &path];
        if let Some(bits) = bits {
            args.extend(["-b", bits]);
        }
        if let Some(format) = format {
            args.extend(["-m", format]);
        }
        ssh_keygen_ok(&args)?;
        let rfc = ssh_keygen_ok(&["-e", "-f", &format!("{path}.pub")])?;
        std::fs::write(b.path(&format!("{name}.rfc4716")), rfc).map_err(|e| e.to_string())?;
    }
    std::fs::copy(b.path("ed25519"), b.path("ed25519-alone")).map_err(|e| e.to_string())?;
    let cert_args = [
        "-q",
        "-s",
        &b.p("ca"),
        "-I",
        "example cert",
        "-n",
        "alice,bob",
        "-z",
        "77",
        "-V",
        "20231114221320:20330518033320",
        "-O",
        "force-command=/bin/echo hi",
        "-O",
        "source-address=10.0.0.0/8",
        "-O",
        "no-pty",
        "-O",
        "extension:x@example.org=y",
        "-O",
        "critical:c@example.org",
        &b.p("rsa-2048.pub"),
    ];
    ssh_keygen_ok(&cert_args)?;
    Ok(())
}

/// The example's key generation output, files and modes, checked with ssh-keygen.
fn generate(b: &Bench, key: &str, t: &str, bits: Option<&str>) -> Result<(), String> {
    let path = b.p(&format!("generated-{key}"));
    let mut args = vec![
        "-t",
        t,
        "-f",
        &path,
        "-N",
        PASSPHRASE,
        "-C",
        "made by the example",
    ];
    if let Some(bits) = bits {
        args.extend(["-b", bits]);
    }
    let out = b.example(&args)?;
    if !out.success {
        return Err(format!("example failed: {}", out.stderr));
    }
    let public_path = format!("{path}.pub");
    let listed = ssh_keygen_ok(&["-lv", "-f", &public_path])?;
    let fingerprint = listed
        .split_whitespace()
        .nth(1)
        .ok_or("ssh-keygen -l printed no fingerprint")?;
    let art: Vec<&str> = listed.lines().skip(1).collect();
    let mut expected = vec![
        format!("Generating public/private {t} key pair."),
        format!("Your identification has been saved in {path}"),
        format!("Your public key has been saved in {public_path}"),
        "The key fingerprint is:".to_owned(),
        format!("{fingerprint} made by the example"),
        "The key's randomart image is:".to_owned(),
    ];
    expected.extend(art.iter().map(|l| (*l).to_owned()));
    let printed: Vec<&str> = out.stdout.lines().collect();
    if printed != expected {
        return Err(format!(
            "printed:\n{}\nexpected:\n{}",
            out.stdout,
            expected.join("\n")
        ));
    }
    let mode = |p: &str| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    if mode(&path).ok() != Some(0o600) || mode(&public_path).ok() != Some(0o644) {
        return Err(format!(
            "modes {:?} {:?}",
            mode(&path).ok(),
            mode(&public_path).ok()
        ));
    }
    let line = ssh_keygen_ok(&["-y", "-P", PASSPHRASE, "-f", &path])?;
    if line.trim() != read(Path::new(&public_path))?.trim() {
        return Err(format!(
            "ssh-keygen -y gives {line:?}, the .pub file differs"
        ));
    }
    Ok(())
}

/// `-p` rewrites the key under a new passphrase in PKCS#8, which ssh-keygen opens.
fn change_passphrase(b: &Bench) -> Result<(), String> {
    let path = b.p("ecdsa-384-copy");
    std::fs::copy(b.path("ecdsa-384"), &path).map_err(|e| e.to_string())?;
    let out = b.example(&[
        "-p",
        "-f",
        &path,
        "-P",
        PASSPHRASE,
        "-N",
        "new passphrase",
        "-m",
        "PKCS8",
    ])?;
    let expected = "Your identification has been saved with the new passphrase.\n";
    if !out.success || out.stdout != expected {
        return Err(format!("example printed {:?} {}", out.stdout, out.stderr));
    }
    if !read(Path::new(&path))?.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err("not written as encrypted PKCS#8".into());
    }
    let line = ssh_keygen_ok(&["-y", "-P", "new passphrase", "-f", &path])?;
    let original = read(&b.path("ecdsa-384.pub"))?;
    if line.split_whitespace().nth(1) != original.split_whitespace().nth(1) {
        return Err(format!("ssh-keygen -y reads another key: {line}"));
    }
    Ok(())
}

/// `-s` with the same arguments as ssh-keygen: the two certificates list the same
/// (nonces and signatures differ, and -L shows neither) and the tools report the same.
fn sign(b: &Bench, host: bool) -> Result<(), String> {
    let suffix = if host { "host" } else { "user" };
    let mut signed = Vec::new();
    for tool in ["ssh-keygen", "example"] {
        let public = b.p(&format!("{tool}-{suffix}.pub"));
        std::fs::copy(b.path("ed25519.pub"), &public).map_err(|e| e.to_string())?;
        let ca = b.p("ca");
        let mut args = vec![
            "-s",
            &ca,
            "-I",
            "signed twice",
            "-n",
            "alice,bob",
            "-z",
            "5",
            "-V",
            "20231114221320:20330518033320",
        ];
        if host {
            args.push("-h");
        } else {
            args.extend([
                "-O",
                "clear",
                "-O",
                "permit-pty",
                "-O",
                "force-command=ls -l",
                "-O",
                "verify-required",
                "-O",
                "no-touch-required",
                "-O",
                "extension:e@x.org=v",
            ]);
        }
        args.push(&public);
        let out = match tool {
            "ssh-keygen" => ssh_keygen(&args)?,
            _ => b.example(&args)?,
        };
        if !out.success {
            return Err(format!("{tool} -s failed: {}", out.stderr));
        }
        let cert = b.p(&format!("{tool}-{suffix}-cert.pub"));
        let listing = ssh_keygen_ok(&["-L", "-f", &cert])?;
        // ssh-keygen's log lines end in \r\n.
        signed.push((
            out.stderr.replace("\r\n", "\n").replace(&cert, "CERT"),
            listing.replace(&cert, "CERT"),
        ));
    }
    if signed[0] == signed[1] {
        Ok(())
    } else {
        Err(format!(
            "ssh-keygen:\n{:?}\nexample:\n{:?}",
            signed[0], signed[1]
        ))
    }
}

/// Failures exit non-zero with a message that says what to do, never a panic.
fn errors(b: &Bench) -> Result<(), String> {
    let encrypted = b.p("ed25519");
    let missing = b.p("no-such-file");
    let public = b.p("ed25519.pub");
    let cases: [(&[&str], &str); 6] = [
        (&["-y", "-f", &encrypted], "-P"),
        (
            &["-y", "-f", &encrypted, "-P", "wrong"],
            "incorrect passphrase",
        ),
        (&["-l", "-f", &missing], "no-such-file"),
        (&["-s", &encrypted, "-I", "x", &public], "-P"),
        (&["-L", "-f", &public], "not a certificate"),
        (&["-Q"], "unknown option"),
    ];
    for (args, needle) in cases {
        let out = b.example(args)?;
        if out.success || !out.stderr.contains(needle) || out.stderr.contains("panicked") {
            return Err(format!(
                "{args:?}: ok={} stderr {:?} (wanted {needle:?})",
                out.success, out.stderr
            ));
        }
    }
    Ok(())
}

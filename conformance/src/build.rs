//! Building the workspace's example programs and binaries from a test or the
//! benchmark, with the cargo that runs them, and finding the executable cargo made.

use std::path::{Path, PathBuf};
use std::process::Command;

/// How to build: the profile, and where (`None`: cargo's own choice, the target
/// directory of the build running the caller).
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions<'a> {
    /// `--release` instead of the dev profile.
    pub release: bool,
    /// `--target-dir`.
    pub target_dir: Option<&'a Path>,
}

/// Builds target `name` of kind `kind` (`example` or `bin`) of workspace package
/// `package` (a no-op when up to date) and returns the executable's path, which
/// cargo's JSON messages name.
///
/// ```no_run
/// use sansh_conformance::build::{BuildOptions, cargo_build};
/// let keygen = cargo_build("sansh-core", "example", "keygen", BuildOptions::default())?;
/// # Ok::<(), String>(())
/// ```
///
/// # Errors
/// Cargo could not run or failed (its stderr is the message), or named no such
/// executable.
pub fn cargo_build(
    package: &str,
    kind: &str,
    name: &str,
    options: BuildOptions<'_>,
) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut command = Command::new(cargo);
    command
        .args(["build", "--locked", "--quiet", "--message-format=json"])
        .args(["-p", package, &format!("--{kind}"), name, "--manifest-path"])
        .arg(manifest);
    if options.release {
        command.arg("--release");
    }
    if let Some(target) = options.target_dir {
        command.arg("--target-dir").arg(target);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build --{kind} {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // One JSON message per line; the target's artifact names its executable.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (kind_field, name_field) = (
        format!("\"kind\":[\"{kind}\"]"),
        format!("\"name\":\"{name}\""),
    );
    stdout
        .lines()
        .filter(|l| l.contains(&kind_field) && l.contains(&name_field))
        .find_map(|l| {
            let key = "\"executable\":\"";
            let start = l.find(key)? + key.len();
            let end = start + l.get(start..)?.find('"')?;
            Some(PathBuf::from(l.get(start..end)?))
        })
        .ok_or_else(|| format!("cargo reported no executable for {kind} {name}"))
}

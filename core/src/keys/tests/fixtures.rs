//! Helpers that read the ssh-keygen fixtures in `core/tests/fixtures/keys/`.

use std::path::PathBuf;

/// The fixture directory.
pub(super) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// A fixture file's text.
pub(super) fn text(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A recorded output file split into `== heading` sections: (heading, body lines).
pub(super) fn sections(name: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in text(name).lines() {
        if let Some(heading) = line.strip_prefix("== ") {
            out.push((heading.to_owned(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push(line.to_owned());
        }
    }
    out
}

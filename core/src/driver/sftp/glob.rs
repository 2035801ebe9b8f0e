//! Glob patterns (`*`, `?`, `[a-z]`, `[!x]`, `\` escapes) over remote and local
//! paths: [`SftpClient::glob`] and the local expansion of `mput`.

use std::path::{Path, PathBuf};

use super::client::{SftpClient, join};
use super::error::SftpClientError;

/// Whether `name` (one path component) matches `pattern`. As in a shell, a leading
/// `.` is matched only by a literal `.`.
///
/// ```
/// use sansh_core::driver::sftp::glob_match;
/// assert!(glob_match(b"*.txt", b"notes.txt"));
/// assert!(glob_match(b"file[0-9]?", b"file7a"));
/// assert!(!glob_match(b"*", b".hidden"));
/// assert!(glob_match(b"[!a]*", b"bcd"));
/// ```
pub fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    matches(pattern, name)
}

/// Iterative wildcard matching with one backtrack point for the last `*`: linear in
/// practice and never recursive, so no pattern can blow the stack.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(&c) => {
                if let Some((len, ok)) = single(pattern, p, c, name.get(n).copied()) {
                    if ok {
                        p += len;
                        n += 1;
                        continue;
                    }
                }
            }
            None => {}
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&c| c == b'*')
}

/// Matches one pattern element at `p` (starting with `c`) against `byte`: returns
/// the element's length and whether it matched.
fn single(pattern: &[u8], p: usize, c: u8, byte: Option<u8>) -> Option<(usize, bool)> {
    let byte = byte?;
    match c {
        b'?' => Some((1, true)),
        b'\\' => match pattern.get(p + 1) {
            Some(&escaped) => Some((2, escaped == byte)),
            None => Some((1, byte == b'\\')),
        },
        b'[' => match class(pattern, p, byte) {
            Some((len, ok)) => Some((len, ok)),
            // No closing bracket: a literal `[`.
            None => Some((1, byte == b'[')),
        },
        literal => Some((1, literal == byte)),
    }
}

/// A bracket expression at `p`: its length and whether `byte` is in it.
fn class(pattern: &[u8], p: usize, byte: u8) -> Option<(usize, bool)> {
    let mut i = p + 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let c = *pattern.get(i)?;
        if c == b']' && !first {
            return Some((i + 1 - p, found != negate));
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&e| e != b']') {
            let end = *pattern.get(i + 2)?;
            found |= c <= byte && byte <= end;
            i += 3;
        } else {
            found |= c == byte;
            i += 1;
        }
    }
}

/// True when `component` has a wildcard in it.
pub(crate) fn has_magic(component: &[u8]) -> bool {
    component.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// `component` with its `\` escapes removed (for components without wildcards).
fn unescape(component: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(component.len());
    let mut bytes = component.iter();
    while let Some(&c) = bytes.next() {
        if c == b'\\' {
            if let Some(&next) = bytes.next() {
                out.push(next);
                continue;
            }
        }
        out.push(c);
    }
    out
}

impl SftpClient {
    /// The remote paths matching `pattern`, sorted; a pattern without wildcards
    /// gives itself if it exists. Relative patterns give relative paths.
    ///
    /// # Errors
    /// The server's status for a directory that cannot be listed.
    pub async fn glob(&self, pattern: impl AsRef<[u8]>) -> Result<Vec<String>, SftpClientError> {
        let pattern = pattern.as_ref();
        let absolute = pattern.starts_with(b"/");
        let mut found: Vec<Vec<u8>> = vec![if absolute { b"/".to_vec() } else { Vec::new() }];
        for component in pattern.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            let mut next = Vec::new();
            for base in &found {
                if has_magic(component) {
                    let dir = if base.is_empty() {
                        b".".to_vec()
                    } else {
                        base.clone()
                    };
                    let entries = match self.readdir(&dir).await {
                        Ok(entries) => entries,
                        Err(e) if e.is_not_found() => continue,
                        Err(e) => return Err(e),
                    };
                    for entry in entries {
                        let name = entry.filename;
                        if name != b"." && name != b".." && glob_match(component, &name) {
                            next.push(join(base, &name));
                        }
                    }
                } else {
                    next.push(join(base, &unescape(component)));
                }
            }
            found = next;
        }
        let mut paths = Vec::new();
        for path in found {
            if path.is_empty() || !self.lexists(&path).await? {
                continue;
            }
            paths.push(String::from_utf8_lossy(&path).into_owned());
        }
        paths.sort();
        paths.dedup();
        Ok(paths)
    }
}

/// The local paths matching `pattern`, sorted (blocking: run it on the blocking
/// hook).
pub(crate) fn local_glob(pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
    let text = pattern.to_string_lossy();
    if !has_magic(text.as_bytes()) {
        let path = PathBuf::from(String::from_utf8_lossy(&unescape(text.as_bytes())).as_ref());
        return Ok(if path.symlink_metadata().is_ok() {
            vec![path]
        } else {
            Vec::new()
        });
    }
    let absolute = text.starts_with('/');
    let mut found = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    for component in text.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for base in &found {
            if has_magic(component.as_bytes()) {
                let dir = if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base.as_path()
                };
                let Ok(entries) = std::fs::read_dir(dir) else {
                    continue;
                };
                for entry in entries {
                    let name = entry?.file_name();
                    if glob_match(component.as_bytes(), name.as_encoded_bytes()) {
                        next.push(base.join(name));
                    }
                }
            } else {
                let name = String::from_utf8_lossy(&unescape(component.as_bytes())).into_owned();
                let path = base.join(name);
                if path.symlink_metadata().is_ok() {
                    next.push(path);
                }
            }
        }
        found = next;
    }
    found.retain(|p| !p.as_os_str().is_empty());
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(glob_match(b"a*b*c", b"abc"));
        assert!(glob_match(b"a*b*c", b"axxbyyc"));
        assert!(!glob_match(b"a*b*c", b"axxbyy"));
    }

    #[test]
    fn question_mark_matches_exactly_one_byte() {
        assert!(glob_match(b"f?le", b"file"));
        assert!(!glob_match(b"f?le", b"fle"));
    }

    #[test]
    fn classes_take_ranges_and_negation() {
        assert!(glob_match(b"[a-c]x", b"bx"));
        assert!(!glob_match(b"[!a-c]x", b"bx"));
        assert!(glob_match(b"[]]", b"]"));
    }

    #[test]
    fn escapes_make_wildcards_literal() {
        assert!(glob_match(b"a\\*", b"a*"));
        assert!(!glob_match(b"a\\*", b"ab"));
    }

    #[test]
    fn leading_dot_needs_a_literal_dot() {
        assert!(!glob_match(b"*rc", b".bashrc"));
        assert!(glob_match(b".*rc", b".bashrc"));
    }

    #[test]
    fn an_unclosed_bracket_is_literal() {
        assert!(glob_match(b"a[b", b"a[b"));
    }
}

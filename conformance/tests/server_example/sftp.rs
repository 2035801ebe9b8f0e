//! The example's `sftp` subsystem (`--sftp-root`) against OpenSSH's `sftp -b`:
//! transfers with equal SHA-256, directory and link operations, and paths that
//! try to leave the root.

use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{SHA256, digest};
use sansh_conformance::scratch::ScratchDir;

use crate::support::{Run, Server, run};

/// An SFTP root and a local directory next to a server serving that root.
struct SftpSetup {
    server: Server,
    /// The directory the server serves as `/`.
    root: PathBuf,
    /// The client's side of transfers.
    local: PathBuf,
    _dir: ScratchDir,
}

impl SftpSetup {
    fn start() -> Self {
        let dir = ScratchDir::new("server-example-sftp").expect("scratch dir");
        let root = dir.join("root");
        let local = dir.join("local");
        std::fs::create_dir(&root).expect("create the root");
        std::fs::create_dir(&local).expect("create the local directory");
        let root_arg = root.to_str().expect("a UTF-8 scratch path").to_owned();
        let server = Server::start(&["--sftp-root", &root_arg]);
        Self {
            server,
            root,
            local,
            _dir: dir,
        }
    }

    /// Runs `sftp -b` with these commands (one a line; a leading `-` lets the
    /// batch go on when that command fails).
    fn batch(&self, commands: &str) -> Run {
        let batch = self.local.join("batch");
        std::fs::write(&batch, commands).expect("write the batch file");
        let mut sftp = self.server.sftp(&batch);
        sftp.current_dir(&self.local);
        run(sftp, b"")
    }
}

/// Bytes that differ from one position to the next (no run a transfer could
/// compress away or misalign unnoticed).
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn sha256(path: &Path) -> Vec<u8> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    digest(&SHA256, &data).as_ref().to_vec()
}

#[test]
fn sftp_put_then_get_returns_the_file_with_an_equal_sha256() {
    let setup = SftpSetup::start();
    let source = setup.local.join("source.bin");
    std::fs::write(&source, content(5 * 1024 * 1024 + 17, 1)).expect("write the source");
    let out = setup.batch("put source.bin /uploaded.bin\nget /uploaded.bin back.bin\n");
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", setup.server.log());
    let expected = sha256(&source);
    assert!(sha256(&setup.root.join("uploaded.bin")) == expected, "put");
    assert!(sha256(&setup.local.join("back.bin")) == expected, "get");
}

#[test]
fn sftp_directory_link_and_attribute_operations_act_on_the_root() {
    let setup = SftpSetup::start();
    std::fs::write(setup.local.join("f"), b"file").expect("write f");
    let out = setup.batch(
        "mkdir /d\nput f /d/a\nrename /d/a /d/b\nchmod 640 /d/b\nln -s b /d/link\n\
         ls -l /d\ndf /\nmkdir /gone\nrmdir /gone\nput f /x\nrm /x\n",
    );
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", setup.server.log());
    let listing = out.stdout_text();
    assert!(
        listing.contains("-rw-r-----"),
        "ls -l shows the mode: {listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("lrwxrwxrwx") && l.ends_with("/d/link")),
        "ls -l shows the link: {listing}"
    );
    assert!(
        listing.contains("Avail"),
        "df reports the filesystem: {listing}"
    );
    let d = setup.root.join("d");
    assert_eq!(std::fs::read(d.join("b")).expect("read d/b"), b"file");
    assert!(!d.join("a").exists(), "renamed away");
    assert_eq!(
        std::fs::read_link(d.join("link")).expect("the link"),
        Path::new("b")
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(d.join("b"))
            .expect("stat d/b")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o640);
    assert!(!setup.root.join("gone").exists(), "rmdir");
    assert!(!setup.root.join("x").exists(), "rm");
}

#[test]
fn sftp_paths_outside_the_root_stay_inside_it() {
    let setup = SftpSetup::start();
    std::fs::write(setup.root.join("inside"), b"in the root").expect("write inside");
    let out = setup.batch(
        "-get ../../etc/passwd escaped-dotdot\n-get /etc/passwd escaped-absolute\n\
         ln -s /etc /etc-link\n-get /etc-link/passwd escaped-link\n\
         cd /..\npwd\nls\n",
    );
    assert_eq!(out.code(), Some(0), "{out:?}\n{}", setup.server.log());
    for name in ["escaped-dotdot", "escaped-absolute", "escaped-link"] {
        assert!(
            !setup.local.join(name).exists(),
            "{name} was fetched from outside the root"
        );
    }
    let listing = out.stdout_text();
    assert!(
        listing.contains("Remote working directory: /\n"),
        "cd /.. stays at /: {listing}"
    );
    assert!(
        listing.contains("inside"),
        "ls after cd /.. lists the root: {listing}"
    );
}

//! OpenSSH's `sftp` against our server engine: `sftp -D` runs
//! `sansh-sftp-server-stdio --root DIR` in place of ssh, and a batch file drives it.

use sansh_conformance::process::wait_or_kill;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use sansh_conformance::openssh::SFTP;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::sftp::{FileAttributes, OpenFlags, Reply, StatusCode};

use super::common::*;

/// Runs `sftp -b batch -D our-server` with the local side in `local`.
fn run_batch(root: &Path, local: &Path, batch: &str) -> TestResult<Output> {
    run_batch_with(root, local, batch, "")
}

/// [`run_batch`] with further arguments for our server (`--blocking`).
fn run_batch_with(root: &Path, local: &Path, batch: &str, args: &str) -> TestResult<Output> {
    let batch_file = local.join(".batch");
    fs::write(&batch_file, batch)?;
    let mut child = Command::new(SFTP.locate()?)
        .arg("-b")
        .arg(&batch_file)
        .arg("-D")
        .arg(format!("{OUR_SERVER} --root {} {args}", root.display()))
        .current_dir(local)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain both pipes while sftp runs, so a chatty run cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    );
    let Some(status) = wait_or_kill(&mut child, Duration::from_secs(120))? else {
        return Err("sftp did not finish within 120 s".into());
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn set_mtime(path: &Path, secs: u64) -> TestResult {
    let time = std::time::UNIX_EPOCH + Duration::from_secs(secs);
    fs::File::options()
        .write(true)
        .open(path)?
        .set_times(fs::FileTimes::new().set_accessed(time).set_modified(time))?;
    Ok(())
}

/// Asserts that every file under `a` exists under `b` with the same contents.
fn assert_same_tree(a: &Path, b: &Path) -> TestResult {
    for entry in fs::read_dir(a)? {
        let entry = entry?;
        let other = b.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            assert_same_tree(&entry.path(), &other)?;
        } else {
            assert_eq!(
                fs::read(entry.path())?,
                fs::read(&other)?,
                "{}",
                other.display()
            );
        }
    }
    Ok(())
}

#[test]
fn every_sftp_command_works_against_our_server() -> TestResult {
    every_sftp_command("")
}

#[test]
fn every_sftp_command_works_against_our_blocking_loop() -> TestResult {
    every_sftp_command("--blocking")
}

/// The whole command list against our server started with `args`.
fn every_sftp_command(args: &str) -> TestResult {
    let scratch = ScratchDir::new("sftp-batch")?;
    let (root, local) = (scratch.join("root"), scratch.join("local"));
    fs::create_dir_all(root.join("pre"))?;
    fs::create_dir_all(local.join("tree/sub/deeper"))?;
    fs::create_dir_all(local.join("fetched"))?;

    let hello = b"hello from the local side\n".to_vec();
    let big = content(3 << 20, 7);
    let partial = content(100_000, 8);
    fs::write(local.join("hello.txt"), &hello)?;
    fs::write(local.join("stamped.txt"), b"stamped")?;
    set_mtime(&local.join("stamped.txt"), 1_234_567_890)?;
    fs::write(local.join("big.bin"), &big)?;
    fs::write(local.join("fetched/big.bin"), &big[..1 << 20])?;
    fs::write(local.join("partial.txt"), &partial)?;
    fs::write(root.join("pre/partial.txt"), &partial[..40_000])?;
    fs::write(local.join("tree/a.txt"), b"a")?;
    fs::write(local.join("tree/sub/b.txt"), content(70_000, 9))?;
    fs::write(local.join("tree/sub/deeper/c.txt"), b"c")?;
    let (uid, gid) = {
        let meta = fs::metadata(&root)?;
        (meta.uid(), meta.gid())
    };

    let batch = format!(
        "version
progress
progress
pwd
lpwd
lmkdir more
lls
lumask 022
mkdir docs
cd docs
put hello.txt
put -p stamped.txt
put -r tree
put big.bin
reput partial.txt /pre/partial.txt
ls -l
ls -n
cd /
rename docs/hello.txt docs/greeting.txt
chmod 600 docs/greeting.txt
chmod -h 640 docs/stamped.txt
chown {uid} docs/greeting.txt
chgrp {gid} docs/greeting.txt
chgrp -h {gid} docs/stamped.txt
ln -s greeting.txt docs/soft
symlink greeting.txt docs/soft2
ln docs/greeting.txt docs/hard
cp docs/greeting.txt docs/copy.txt
copy docs/greeting.txt docs/copy2.txt
rm docs/copy2.txt
df
df -h docs
df -i
mkdir empty
rmdir empty
lcd fetched
get docs/greeting.txt
get -p docs/stamped.txt
get -r docs/tree
get -f docs/copy.txt
reget docs/big.bin
lcd ..
ls -l docs
bye
"
    );
    let out = run_batch_with(&root, &local, &batch, args)?;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "sftp failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );

    // What the listing commands printed.
    assert!(stdout.contains("Remote working directory: /\n"), "{stdout}");
    assert!(
        stdout.contains("-rw-------"),
        "ls -l shows the chmod: {stdout}"
    );
    assert!(
        stdout.contains("greeting.txt") && stdout.contains("soft"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Size") && stdout.contains("Inodes"),
        "df output: {stdout}"
    );

    // The server side, on disk.
    let docs = root.join("docs");
    assert_eq!(fs::read(docs.join("greeting.txt"))?, hello);
    let greeting = fs::metadata(docs.join("greeting.txt"))?;
    assert_eq!(greeting.permissions().mode() & 0o777, 0o600);
    assert_eq!((greeting.uid(), greeting.gid()), (uid, gid));
    assert_eq!(greeting.nlink(), 2, "ln made a hard link");
    let stamped = fs::metadata(docs.join("stamped.txt"))?;
    assert_eq!(stamped.mtime(), 1_234_567_890, "put -p kept the time");
    assert_eq!(stamped.permissions().mode() & 0o777, 0o640, "chmod -h");
    assert_same_tree(&local.join("tree"), &docs.join("tree"))?;
    assert_eq!(sha256(&fs::read(docs.join("big.bin"))?), sha256(&big));
    assert_eq!(
        fs::read(root.join("pre/partial.txt"))?,
        partial,
        "reput resumed"
    );
    assert_eq!(
        fs::read_link(docs.join("soft"))?.to_str(),
        Some("greeting.txt")
    );
    assert_eq!(
        fs::read_link(docs.join("soft2"))?.to_str(),
        Some("greeting.txt")
    );
    assert_eq!(fs::read(docs.join("copy.txt"))?, hello, "cp used copy-data");
    assert!(!docs.join("copy2.txt").exists(), "rm removed the copy");
    assert!(!root.join("empty").exists(), "rmdir removed the directory");
    assert!(!docs.join("hello.txt").exists(), "rename moved the file");

    // The client side, on disk.
    let fetched = local.join("fetched");
    assert!(local.join("more").is_dir(), "lmkdir");
    assert_eq!(fs::read(fetched.join("greeting.txt"))?, hello);
    assert_eq!(
        fs::metadata(fetched.join("stamped.txt"))?.mtime(),
        1_234_567_890,
        "get -p"
    );
    assert_same_tree(&local.join("tree"), &fetched.join("tree"))?;
    assert_eq!(fs::read(fetched.join("copy.txt"))?, hello);
    assert_eq!(
        sha256(&fs::read(fetched.join("big.bin"))?),
        sha256(&big),
        "reget resumed"
    );
    Ok(())
}

#[test]
fn escapes_from_the_root_are_refused() -> TestResult {
    let scratch = ScratchDir::new("sftp-escape")?;
    let (root, local, outside) = (
        scratch.join("root"),
        scratch.join("local"),
        scratch.join("outside"),
    );
    fs::create_dir_all(root.join("inner"))?;
    fs::create_dir_all(&local)?;
    fs::create_dir_all(&outside)?;
    fs::write(outside.join("secret.txt"), b"SECRET")?;
    fs::write(root.join("inner/file.txt"), b"inside")?;
    fs::write(local.join("local.txt"), b"planted")?;
    let unix = |target: &Path, link: &Path| std::os::unix::fs::symlink(target, link);
    unix(&outside.join("secret.txt"), &root.join("abs"))?;
    unix(Path::new("../outside/secret.txt"), &root.join("rel"))?;
    unix(&outside, &root.join("dirlink"))?;
    unix(Path::new("../../../../../../.."), &root.join("up"))?;
    unix(Path::new("/inner/file.txt"), &root.join("chrooted"))?;
    unix(Path::new("/etc"), &root.join("etc_link"))?;

    let batch = "cd ..
cd ..
pwd
cd /..
pwd
-get ../../etc/passwd got_passwd
-get /../../../etc/passwd got_passwd2
-get etc_link/passwd got_etc_link
-cd etc_link
-get abs got_abs
-get rel got_rel
-get dirlink/secret.txt got_dirlink
-get /../outside/secret.txt got_dotdot
-get ../../outside/secret.txt got_dotdot2
-put local.txt ../outside/planted1.txt
-put local.txt dirlink/planted2.txt
-put local.txt /../../outside/planted3.txt
ls up
get chrooted got_chrooted
bye
";
    let out = run_batch(&root, &local, batch)?;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert_eq!(
        stdout.matches("Remote working directory: /\n").count(),
        2,
        "cd .. and cd /.. stay at the root: {stdout}"
    );
    for name in ["got_passwd", "got_passwd2", "got_etc_link"] {
        assert!(!local.join(name).exists(), "{name}: /etc/passwd was served");
    }
    for name in [
        "got_abs",
        "got_rel",
        "got_dirlink",
        "got_dotdot",
        "got_dotdot2",
    ] {
        let got = fs::read(local.join(name)).unwrap_or_default();
        assert!(
            !got.windows(6).any(|w| w == b"SECRET"),
            "{name} leaked the secret"
        );
    }
    let planted = fs::read_dir(&outside)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(
        planted,
        ["secret.txt"],
        "nothing was written outside the root"
    );
    // `up` climbs no higher than the root: listing it lists the root.
    assert!(stdout.contains("inner"), "ls up lists the root: {stdout}");
    // An absolute symlink target is taken from the root, as under chroot.
    assert_eq!(fs::read(local.join("got_chrooted"))?, b"inside");
    Ok(())
}

#[test]
fn our_client_sees_escaping_paths_resolved_inside_the_root() -> TestResult {
    let scratch = ScratchDir::new("sftp-escape-ours")?;
    let (root, outside) = (scratch.join("root"), scratch.join("outside"));
    fs::create_dir_all(&root)?;
    fs::create_dir_all(&outside)?;
    fs::write(outside.join("secret.txt"), b"SECRET")?;
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("abs"))?;
    let mut sftp = our_server(&root)?;
    assert_eq!(one_name(sftp.call(|c| c.realpath("/../../.."))?), b"/");
    assert_eq!(one_name(sftp.call(|c| c.realpath("../.."))?), b"/");
    assert_eq!(code(sftp.call(|c| c.stat("abs"))?), StatusCode::NoSuchFile);
    assert_eq!(
        code(sftp.call(|c| c.open("abs", OpenFlags::READ, &FileAttributes::default()))?),
        StatusCode::NoSuchFile
    );
    assert_eq!(
        code(sftp.call(|c| c.open(
            "/../outside/secret.txt",
            OpenFlags::READ,
            &FileAttributes::default()
        ))?),
        StatusCode::NoSuchFile
    );
    let create = OpenFlags::WRITE | OpenFlags::CREATE;
    assert_eq!(
        code(sftp.call(|c| c.open("abs", create, &FileAttributes::default()))?),
        StatusCode::NoSuchFile
    );
    assert_eq!(fs::read(outside.join("secret.txt"))?, b"SECRET");
    assert!(attrs(sftp.call(|c| c.lstat("abs"))?).is_symlink());
    Ok(())
}

#[test]
fn our_client_and_our_server_move_16_mib_and_list_1000_files() -> TestResult {
    let scratch = ScratchDir::new("sftp-ours")?;
    let root = scratch.join("root");
    fs::create_dir_all(root.join("many"))?;
    for i in 0..1000 {
        fs::write(root.join(format!("many/f{i:04}")), b"")?;
    }
    let data = content(16 << 20, 16);
    let mut sftp = our_server(&root)?;
    let create = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    let h = handle(sftp.call(|c| c.open("/big", create, &FileAttributes::default()))?);
    let block = sftp.client().limits().max_write_len as usize;
    sftp.write_all(&h, &data, block, 64)?;
    assert_eq!(sftp.call(|c| c.close_handle(&h))?, Ok(Reply::Ok));
    let h = handle(sftp.call(|c| c.open("/big", OpenFlags::READ, &FileAttributes::default()))?);
    let read_len = sftp.client().limits().max_read_len as u32;
    assert_eq!(sha256(&sftp.read_all(&h, read_len, 64)?), sha256(&data));
    assert_eq!(sorted_names(&sftp.list_dir("/many")?).len(), 1000);
    assert!(sftp.finish()?.success());
    Ok(())
}

#[test]
fn sftp_lists_10000_files_and_moves_64_mib_each_way() -> TestResult {
    let scratch = ScratchDir::new("sftp-bulk")?;
    let (root, local) = (scratch.join("root"), scratch.join("local"));
    fs::create_dir_all(root.join("many"))?;
    fs::create_dir_all(&local)?;
    for i in 0..10_000 {
        fs::write(root.join(format!("many/f{i:05}")), b"")?;
    }
    let up = content(64 << 20, 64);
    let down = content(64 << 20, 65);
    fs::write(local.join("up.bin"), &up)?;
    fs::write(root.join("down.bin"), &down)?;
    let batch = "progress
ls -1 many
put up.bin
get down.bin
bye
";
    let out = run_batch(&root, &local, batch)?;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "--- stderr\n{stderr}");
    let listed = stdout
        .lines()
        .filter(|l| l.trim_start_matches("many/").starts_with('f'))
        .count();
    assert_eq!(listed, 10_000, "ls listed every file");
    assert_eq!(sha256(&fs::read(root.join("up.bin"))?), sha256(&up));
    assert_eq!(sha256(&fs::read(local.join("down.bin"))?), sha256(&down));
    Ok(())
}

#[test]
fn serve_sftp_answers_256_requests_in_flight_from_our_client() -> TestResult {
    let scratch = ScratchDir::new("sftp-deep")?;
    let root = scratch.join("root");
    fs::create_dir_all(&root)?;
    let data = content(24 << 20, 24);
    let mut command = Command::new(OUR_SERVER);
    command.arg("--root").arg(&root);
    let mut sftp = sansh_conformance::sftp::SftpProcess::spawn(
        command,
        sansh_core::sftp::ClientConfig::default(),
    )?;
    let create = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    let h = handle(sftp.call(|c| c.open("/big", create, &FileAttributes::default()))?);
    sftp.write_all(&h, &data, 32 * 1024, 256)?;
    assert_eq!(sftp.call(|c| c.close_handle(&h))?, Ok(Reply::Ok));
    assert_eq!(sha256(&fs::read(root.join("big"))?), sha256(&data));
    let h = handle(sftp.call(|c| c.open("/big", OpenFlags::READ, &FileAttributes::default()))?);
    assert_eq!(sha256(&sftp.read_all(&h, 32 * 1024, 256)?), sha256(&data));
    assert!(sftp.finish()?.success());
    Ok(())
}

//! Our client engine against OpenSSH's `sftp-server` over its stdin and stdout. The
//! server serves the real filesystem; every path used is inside a scratch directory.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use sansh_conformance::scratch::ScratchDir;
use sansh_core::sftp::{Extension, FileAttributes, OpenFlags, Reply, StatusCode};

use super::common::*;

const CREATE: OpenFlags =
    OpenFlags(OpenFlags::WRITE.0 | OpenFlags::CREATE.0 | OpenFlags::TRUNCATE.0);

#[test]
fn version_advertises_every_extension_and_limits_are_negotiated() -> TestResult {
    let dir = ScratchDir::new("sftp-version")?;
    let mut sftp = openssh_server(dir.path())?;
    for ext in Extension::ALL {
        assert!(
            sftp.client().extensions().supports(ext),
            "{ext} not offered"
        );
    }
    let limits = *sftp.client().limits();
    assert!(limits.max_read_len > 32 * 1024, "{limits:?}");
    assert!(limits.max_write_len > 32 * 1024, "{limits:?}");
    assert_eq!(
        sftp.call(|c| c.server_limits())?
            .map(|r| matches!(r, Reply::Limits(_))),
        Ok(true)
    );
    assert!(sftp.finish()?.success());
    Ok(())
}

#[test]
fn files_open_write_read_stat_and_close() -> TestResult {
    let dir = ScratchDir::new("sftp-files")?;
    let f = p(&dir.join("f"));
    let mut sftp = openssh_server(dir.path())?;
    let attrs600 = FileAttributes::default().with_permissions(0o600);
    let h = handle(sftp.call(|c| c.open(&f, CREATE, &attrs600))?);
    assert_eq!(sftp.call(|c| c.write(&h, 0, b"hello "))?, Ok(Reply::Ok));
    assert_eq!(sftp.call(|c| c.write(&h, 6, b"world"))?, Ok(Reply::Ok));
    assert_eq!(sftp.call(|c| c.fsync(&h))?, Ok(Reply::Ok));
    let a = attrs(sftp.call(|c| c.fstat(&h))?);
    assert_eq!(a.size, Some(11));
    assert_eq!(a.permissions.map(|m| m & 0o777), Some(0o600));
    assert_eq!(sftp.call(|c| c.close_handle(&h))?, Ok(Reply::Ok));
    assert_eq!(fs::read(dir.join("f"))?, b"hello world");

    let h = handle(sftp.call(|c| c.open(&f, OpenFlags::READ, &FileAttributes::default()))?);
    assert_eq!(
        sftp.call(|c| c.read(&h, 6, 100))?,
        Ok(Reply::Data(b"world"[..].into()))
    );
    assert_eq!(sftp.call(|c| c.read(&h, 11, 100))?, Ok(Reply::Eof));
    assert_eq!(sftp.call(|c| c.close_handle(&h))?, Ok(Reply::Ok));

    let append = OpenFlags::WRITE | OpenFlags::APPEND;
    let h = handle(sftp.call(|c| c.open(&f, append, &FileAttributes::default()))?);
    assert_eq!(sftp.call(|c| c.write(&h, 0, b"!"))?, Ok(Reply::Ok));
    assert_eq!(sftp.call(|c| c.close_handle(&h))?, Ok(Reply::Ok));
    assert_eq!(fs::read(dir.join("f"))?, b"hello world!");

    let excl = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
    assert_eq!(
        code(sftp.call(|c| c.open(&f, excl, &FileAttributes::default()))?),
        StatusCode::Failure
    );
    assert_eq!(attrs(sftp.call(|c| c.stat(&f))?).size, Some(12));
    assert!(attrs(sftp.call(|c| c.lstat(&f))?).is_file());
    Ok(())
}

#[test]
fn setstat_fsetstat_and_lsetstat_change_attributes() -> TestResult {
    let dir = ScratchDir::new("sftp-setstat")?;
    fs::write(dir.join("f"), b"0123456789")?;
    std::os::unix::fs::symlink("f", dir.join("link"))?;
    let (f, link) = (p(&dir.join("f")), p(&dir.join("link")));
    let mut sftp = openssh_server(dir.path())?;

    let change = FileAttributes::default()
        .with_size(4)
        .with_permissions(0o640)
        .with_times(1_000, 2_000);
    assert_eq!(sftp.call(|c| c.setstat(&f, &change))?, Ok(Reply::Ok));
    let meta = fs::metadata(dir.join("f"))?;
    assert_eq!(
        (meta.len(), meta.permissions().mode() & 0o777, meta.mtime()),
        (4, 0o640, 2_000)
    );

    let h = handle(sftp.call(|c| c.open(&f, OpenFlags::WRITE, &FileAttributes::default()))?);
    let owner = FileAttributes::default()
        .with_owner(meta.uid(), meta.gid())
        .with_size(2);
    assert_eq!(sftp.call(|c| c.fsetstat(&h, &owner))?, Ok(Reply::Ok));
    assert_eq!(fs::read(dir.join("f"))?, b"01");

    let times = FileAttributes::default().with_times(3_000, 4_000);
    assert_eq!(sftp.call(|c| c.lsetstat(&link, &times))?, Ok(Reply::Ok));
    assert_eq!(fs::symlink_metadata(dir.join("link"))?.mtime(), 4_000);
    assert_ne!(
        fs::metadata(dir.join("f"))?.mtime(),
        4_000,
        "the link's target changed"
    );
    assert_eq!(attrs(sftp.call(|c| c.lstat(&link))?).mtime(), Some(4_000));
    Ok(())
}

#[test]
fn directories_are_created_listed_and_removed() -> TestResult {
    let dir = ScratchDir::new("sftp-dirs")?;
    let d = p(&dir.join("d"));
    let mut sftp = openssh_server(dir.path())?;
    assert_eq!(
        sftp.call(|c| c.mkdir(&d, &FileAttributes::default().with_permissions(0o750)))?,
        Ok(Reply::Ok)
    );
    assert_eq!(
        fs::metadata(dir.join("d"))?.permissions().mode() & 0o777,
        0o750
    );
    fs::write(dir.join("d/a"), b"")?;
    fs::write(dir.join("d/b"), b"")?;
    let names = sftp.list_dir(&d)?;
    assert_eq!(sorted_names(&names), ["a", "b"]);
    let a = names
        .iter()
        .find(|n| n.filename == b"a")
        .ok_or("no entry a")?;
    assert!(
        String::from_utf8_lossy(&a.longname).starts_with("-rw"),
        "{a:?}"
    );
    assert_eq!(code(sftp.call(|c| c.rmdir(&d))?), StatusCode::Failure);
    assert_eq!(sftp.call(|c| c.remove(format!("{d}/a")))?, Ok(Reply::Ok));
    assert_eq!(sftp.call(|c| c.remove(format!("{d}/b")))?, Ok(Reply::Ok));
    assert_eq!(sftp.call(|c| c.rmdir(&d))?, Ok(Reply::Ok));
    assert!(!dir.join("d").exists());
    Ok(())
}

#[test]
fn paths_links_and_renames() -> TestResult {
    let dir = ScratchDir::new("sftp-links")?;
    fs::write(dir.join("a"), b"A")?;
    fs::write(dir.join("b"), b"B")?;
    let (a, b) = (p(&dir.join("a")), p(&dir.join("b")));
    let mut sftp = openssh_server(dir.path())?;

    let canonical = fs::canonicalize(dir.path())?;
    assert_eq!(
        one_name(sftp.call(|c| c.realpath("."))?),
        p(&canonical).as_bytes()
    );
    assert_eq!(
        one_name(sftp.call(|c| c.realpath(format!("{a}/../b")))?),
        p(&canonical.join("b")).as_bytes()
    );

    let link = p(&dir.join("sym"));
    assert_eq!(sftp.call(|c| c.symlink("a", &link))?, Ok(Reply::Ok));
    assert_eq!(fs::read_link(dir.join("sym"))?.to_str(), Some("a"));
    assert_eq!(one_name(sftp.call(|c| c.readlink(&link))?), b"a");
    assert!(attrs(sftp.call(|c| c.lstat(&link))?).is_symlink());
    assert!(attrs(sftp.call(|c| c.stat(&link))?).is_file());

    let hard = p(&dir.join("hard"));
    assert_eq!(sftp.call(|c| c.hardlink(&a, &hard))?, Ok(Reply::Ok));
    assert_eq!(fs::metadata(dir.join("a"))?.nlink(), 2);

    assert_eq!(code(sftp.call(|c| c.rename(&a, &b))?), StatusCode::Failure);
    assert_eq!(
        sftp.call(|c| c.rename(&a, p(&dir.join("c"))))?,
        Ok(Reply::Ok)
    );
    assert_eq!(
        sftp.call(|c| c.posix_rename(p(&dir.join("c")), &b))?,
        Ok(Reply::Ok)
    );
    assert_eq!(fs::read(dir.join("b"))?, b"A");
    assert!(!dir.join("c").exists());
    Ok(())
}

#[test]
fn extensions_statvfs_copy_data_home_and_names() -> TestResult {
    let dir = ScratchDir::new("sftp-ext")?;
    fs::write(dir.join("src"), b"0123456789")?;
    let (src, dst) = (p(&dir.join("src")), p(&dir.join("dst")));
    let mut sftp = openssh_server(dir.path())?;

    let Ok(Reply::StatVfs(vfs)) = sftp.call(|c| c.statvfs(&src))? else {
        panic!("no statvfs reply");
    };
    assert!(
        vfs.bsize > 0 && vfs.blocks > 0 && vfs.namemax > 0,
        "{vfs:?}"
    );

    let r = handle(sftp.call(|c| c.open(&src, OpenFlags::READ, &FileAttributes::default()))?);
    let w = handle(sftp.call(|c| c.open(&dst, CREATE, &FileAttributes::default()))?);
    assert!(matches!(
        sftp.call(|c| c.fstatvfs(&r))?,
        Ok(Reply::StatVfs(_))
    ));
    assert_eq!(sftp.call(|c| c.copy_data(&r, 2, 3, &w, 0))?, Ok(Reply::Ok));
    assert_eq!(sftp.call(|c| c.copy_data(&r, 5, 0, &w, 3))?, Ok(Reply::Ok));
    assert_eq!(
        code(sftp.call(|c| c.copy_data(&r, 0, 0, &r, 0))?),
        StatusCode::Failure
    );
    assert_eq!(sftp.call(|c| c.close_handle(&w))?, Ok(Reply::Ok));
    assert_eq!(fs::read(dir.join("dst"))?, b"23456789");

    let home = one_name(sftp.call(|c| c.home_directory(""))?);
    assert!(home.starts_with(b"/"), "{home:?}");
    // sftp-server runs in the user's home under sshd, so it expands `~` to its
    // working directory; `~user` is looked up.
    let cwd = one_name(sftp.call(|c| c.realpath("."))?);
    assert_eq!(one_name(sftp.call(|c| c.expand_path("~"))?), cwd);
    assert_eq!(one_name(sftp.call(|c| c.expand_path("~root"))?), b"/root");
    let uid = fs::metadata(dir.path())?.uid();
    let Ok(Reply::UsersGroups { users, groups }) =
        sftp.call(|c| c.users_groups_by_id(&[uid, 0], &[0]))?
    else {
        panic!("no users-groups reply");
    };
    assert_eq!(users.len(), 2);
    assert_eq!(users[1], "root");
    assert_eq!(groups, ["root"]);
    Ok(())
}

#[test]
fn errors_carry_openssh_status_codes() -> TestResult {
    let dir = ScratchDir::new("sftp-errors")?;
    fs::create_dir(dir.join("d"))?;
    let missing = p(&dir.join("missing"));
    let mut sftp = openssh_server(dir.path())?;
    assert_eq!(
        code(sftp.call(|c| c.stat(&missing))?),
        StatusCode::NoSuchFile
    );
    assert_eq!(
        code(sftp.call(|c| c.open(&missing, OpenFlags::READ, &FileAttributes::default()))?),
        StatusCode::NoSuchFile
    );
    // link(2) refuses directories with EPERM, even to root.
    assert_eq!(
        code(sftp.call(|c| c.hardlink(p(&dir.join("d")), p(&dir.join("d2"))))?),
        StatusCode::PermissionDenied
    );
    assert_eq!(
        code(sftp.call(|c| c.extended("nonesuch@example.com", &b""[..]))?),
        StatusCode::OpUnsupported
    );
    let d = handle(sftp.call(|c| c.opendir(p(&dir.join("d"))))?);
    assert!(matches!(sftp.call(|c| c.readdir(&d))?, Ok(Reply::Names(_))));
    assert_eq!(sftp.call(|c| c.readdir(&d))?, Ok(Reply::Eof));
    Ok(())
}

#[test]
fn many_requests_in_flight_are_all_answered() -> TestResult {
    let dir = ScratchDir::new("sftp-pipeline")?;
    for i in 0..200 {
        fs::write(dir.join(format!("f{i}")), vec![0; i])?;
    }
    let mut sftp = openssh_server(dir.path())?;
    let ids: Vec<_> = (0..200)
        .map(|i| {
            sftp.client()
                .stat(p(&dir.join(format!("f{i}"))))
                .map(|id| (id, i as u64))
        })
        .collect::<Result<_, _>>()?;
    for (id, size) in ids {
        assert_eq!(attrs(sftp.wait(id)?).size, Some(size));
    }
    Ok(())
}

#[test]
fn a_64_mib_file_written_then_read_back_has_the_same_checksum() -> TestResult {
    let dir = ScratchDir::new("sftp-64m")?;
    let data = content(64 << 20, 64);
    let path = p(&dir.join("big"));
    let mut sftp = openssh_server(dir.path())?;
    let block = sftp.client().limits().max_write_len as usize;
    let h = handle(sftp.call(|c| c.open(&path, CREATE, &FileAttributes::default()))?);
    sftp.write_all(&h, &data, block, 64)?;
    assert_eq!(sftp.call(|c| c.close_handle(&h))?, Ok(Reply::Ok));
    assert_eq!(fs::metadata(dir.join("big"))?.len(), data.len() as u64);

    let read_len = sftp.client().limits().max_read_len as u32;
    let h = handle(sftp.call(|c| c.open(&path, OpenFlags::READ, &FileAttributes::default()))?);
    let back = sftp.read_all(&h, read_len, 64)?;
    assert_eq!(sha256(&back), sha256(&data));
    Ok(())
}

#[test]
fn a_directory_of_10000_files_is_listed_completely() -> TestResult {
    let dir = ScratchDir::new("sftp-10k")?;
    fs::create_dir(dir.join("many"))?;
    let mut expected: Vec<String> = (0..10_000).map(|i| format!("file-{i:05}")).collect();
    for name in &expected {
        fs::write(dir.join("many").join(name), b"")?;
    }
    expected.sort();
    let mut sftp = openssh_server(dir.path())?;
    let names = sftp.list_dir(&p(&dir.join("many")))?;
    assert_eq!(sorted_names(&names), expected);
    Ok(())
}

//! LocalFs against a scratch directory: every operation, the status codes of its
//! failures, and escapes from the root, each with both resolvers (the kernel's
//! `openat2` and the portable walk).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rustix::io::Errno;

use super::LocalFs;
use super::meta::status;
use crate::sftp::{Backend, FileAttributes, Handle, OpenFlags, SftpError, StatusCode};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A scratch directory with `root/` (served) and `outside/secret` next to it.
struct Fixture {
    base: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let base = std::env::temp_dir().join(format!(
            "sansh-localfs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(base.join("root")).unwrap();
        fs::create_dir_all(base.join("outside")).unwrap();
        fs::write(base.join("outside/secret"), b"outside").unwrap();
        Self { base }
    }
    fn root(&self) -> PathBuf {
        self.base.join("root")
    }
    fn outside(&self) -> PathBuf {
        self.base.join("outside")
    }
    fn at(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// Runs `test` on a fresh fixture with each resolver.
fn each_resolver(test: impl Fn(&mut LocalFs, &Fixture)) {
    for walk in [false, true] {
        let fixture = Fixture::new();
        let mut fs = LocalFs::new(fixture.root()).unwrap();
        if walk {
            fs = fs.without_openat2();
        } else {
            assert!(fs.uses_openat2(), "this kernel has openat2");
        }
        test(&mut fs, &fixture);
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, SftpError>) -> StatusCode {
    r.expect_err("an error status").code
}

fn open_read(fs: &mut LocalFs, path: &str) -> Result<Handle, SftpError> {
    fs.open(path.as_bytes(), OpenFlags::READ, &FileAttributes::default())
}

fn create(fs: &mut LocalFs, path: &str) -> Result<Handle, SftpError> {
    let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    fs.open(path.as_bytes(), flags, &FileAttributes::default())
}

fn read_all(fs: &mut LocalFs, path: &str) -> Result<Vec<u8>, SftpError> {
    let h = open_read(fs, path)?;
    let mut out = Vec::new();
    while let Some(chunk) = fs.read(&h, out.len() as u64, 4096)? {
        out.extend_from_slice(&chunk);
    }
    fs.close(&h)?;
    Ok(out)
}

#[test]
fn files_written_read_back_and_end_of_file_is_none() {
    each_resolver(|fs, fx| {
        let h = create(fs, "/f").unwrap();
        fs.write(&h, 0, b"hello world").unwrap();
        fs.write(&h, 6, b"WORLD").unwrap();
        assert_eq!(fs.fstat(&h).unwrap().size, Some(11));
        fs.fsync(&h).unwrap();
        fs.close(&h).unwrap();
        assert_eq!(fs::read(fx.at("f")).unwrap(), b"hello WORLD");
        let h = open_read(fs, "f").unwrap();
        assert_eq!(fs.read(&h, 6, 100).unwrap().unwrap(), &b"WORLD"[..]);
        assert_eq!(fs.read(&h, 11, 100).unwrap(), None);
    });
}

#[test]
fn append_mode_writes_at_the_end_whatever_the_offset() {
    each_resolver(|fs, fx| {
        fs::write(fx.at("log"), b"one ").unwrap();
        let flags = OpenFlags::WRITE | OpenFlags::APPEND;
        let h = fs.open(b"/log", flags, &FileAttributes::default()).unwrap();
        fs.write(&h, 0, b"two").unwrap();
        assert_eq!(fs::read(fx.at("log")).unwrap(), b"one two");
    });
}

#[test]
fn open_failures_have_the_right_status() {
    each_resolver(|fs, fx| {
        fs::create_dir(fx.at("dir")).unwrap();
        fs::write(fx.at("exists"), b"").unwrap();
        assert_eq!(code(open_read(fs, "/missing")), StatusCode::NoSuchFile);
        assert_eq!(code(open_read(fs, "/missing/f")), StatusCode::NoSuchFile);
        assert_eq!(code(open_read(fs, "/dir")), StatusCode::Failure);
        let excl = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
        let r = fs.open(b"/exists", excl, &FileAttributes::default());
        assert_eq!(code(r), StatusCode::Failure);
        assert_eq!(
            code(fs.read(&Handle::from(b"nope".to_vec()), 0, 1)),
            StatusCode::Failure
        );
    });
}

#[test]
fn new_files_and_directories_take_the_mode_asked() {
    each_resolver(|fs, fx| {
        let attrs = FileAttributes::default().with_permissions(0o640);
        let flags = OpenFlags::WRITE | OpenFlags::CREATE;
        fs.open(b"/f", flags, &attrs).unwrap();
        fs.mkdir(b"/d", &FileAttributes::default().with_permissions(0o750))
            .unwrap();
        let mode = |p: &str| fs::metadata(fx.at(p)).unwrap().permissions().mode() & 0o777;
        // The umask may only clear bits.
        assert_eq!(mode("f") & !0o640, 0);
        assert_eq!(mode("d") & !0o750, 0);
    });
}

#[test]
fn stat_follows_symlinks_and_lstat_does_not() {
    each_resolver(|fs, fx| {
        fs::write(fx.at("target"), b"12345").unwrap();
        symlink("target", fx.at("link")).unwrap();
        assert_eq!(fs.stat(b"/link").unwrap().size, Some(5));
        assert!(fs.stat(b"/link").unwrap().is_file());
        assert!(fs.lstat(b"/link").unwrap().is_symlink());
        assert!(fs.lstat(b"/").unwrap().is_dir());
        assert_eq!(code(fs.stat(b"/missing")), StatusCode::NoSuchFile);
        symlink("missing", fx.at("dangling")).unwrap();
        assert_eq!(code(fs.stat(b"/dangling")), StatusCode::NoSuchFile);
        assert!(fs.lstat(b"/dangling").unwrap().is_symlink());
    });
}

#[test]
fn setstat_changes_size_mode_owner_and_times() {
    each_resolver(|fs, fx| {
        fs::write(fx.at("f"), b"0123456789").unwrap();
        let meta = fs::metadata(fx.at("f")).unwrap();
        let attrs = FileAttributes::default()
            .with_size(4)
            .with_permissions(0o600)
            .with_owner(meta.uid(), meta.gid())
            .with_times(1_000_000, 2_000_000);
        fs.setstat(b"/f", &attrs).unwrap();
        let meta = fs::metadata(fx.at("f")).unwrap();
        assert_eq!(meta.len(), 4);
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        assert_eq!((meta.atime(), meta.mtime()), (1_000_000, 2_000_000));
        assert_eq!(
            code(fs.setstat(b"/missing", &attrs)),
            StatusCode::NoSuchFile
        );
    });
}

#[test]
fn fsetstat_changes_an_open_file() {
    each_resolver(|fs, fx| {
        let h = create(fs, "/f").unwrap();
        fs.write(&h, 0, b"0123456789").unwrap();
        let attrs = FileAttributes::default()
            .with_size(3)
            .with_permissions(0o604);
        fs.fsetstat(&h, &attrs).unwrap();
        let meta = fs::metadata(fx.at("f")).unwrap();
        assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (3, 0o604));
    });
}

#[test]
fn lsetstat_changes_the_link_itself_and_refuses_a_links_mode() {
    each_resolver(|fs, fx| {
        fs::write(fx.at("target"), b"").unwrap();
        symlink("target", fx.at("link")).unwrap();
        let times = FileAttributes::default().with_times(5_000_000, 6_000_000);
        fs.lsetstat(b"/link", &times).unwrap();
        assert_eq!(
            fs::symlink_metadata(fx.at("link")).unwrap().mtime(),
            6_000_000
        );
        assert_ne!(fs::metadata(fx.at("target")).unwrap().mtime(), 6_000_000);
        let mode = FileAttributes::default().with_permissions(0o600);
        assert_eq!(
            code(fs.lsetstat(b"/link", &mode)),
            StatusCode::OpUnsupported
        );
    });
}

#[test]
fn directories_list_every_entry_with_long_names_in_batches() {
    each_resolver(|fs, fx| {
        for i in 0..250 {
            fs::write(fx.at(&format!("f{i:03}")), b"x").unwrap();
        }
        let h = fs.opendir(b"/").unwrap();
        let mut names = Vec::new();
        while let Some(batch) = fs.readdir(&h).unwrap() {
            assert!(batch.len() <= 100);
            for n in batch {
                assert!(
                    n.longname.starts_with(b"-rw"),
                    "{:?}",
                    String::from_utf8_lossy(&n.longname)
                );
                assert!(n.longname.ends_with(&n.filename));
                assert_eq!(n.attrs.size, Some(1));
                names.push(n.filename);
            }
        }
        names.sort();
        assert_eq!(names.len(), 250);
        assert_eq!(names[0], b"f000");
        fs.close(&h).unwrap();
        fs::write(fx.at("file"), b"").unwrap();
        assert_eq!(code(fs.opendir(b"/file")), StatusCode::NoSuchFile);
        assert_eq!(code(fs.opendir(b"/missing")), StatusCode::NoSuchFile);
    });
}

#[test]
fn mkdir_rmdir_and_remove_report_the_right_status() {
    each_resolver(|fs, fx| {
        let none = FileAttributes::default();
        fs.mkdir(b"/d", &none).unwrap();
        assert_eq!(code(fs.mkdir(b"/d", &none)), StatusCode::Failure);
        fs::write(fx.at("d/f"), b"").unwrap();
        assert_eq!(code(fs.rmdir(b"/d")), StatusCode::Failure);
        assert_eq!(code(fs.remove(b"/d")), StatusCode::Failure);
        fs.remove(b"/d/f").unwrap();
        fs.rmdir(b"/d/").unwrap();
        assert!(!fx.at("d").exists());
        assert_eq!(code(fs.remove(b"/missing")), StatusCode::NoSuchFile);
        assert_eq!(code(fs.rmdir(b"/")), StatusCode::Failure);
        assert_eq!(code(fs.rmdir(b"/..")), StatusCode::Failure);
        assert_eq!(code(fs.mkdir(b"/missing/d", &none)), StatusCode::NoSuchFile);
    });
}

#[test]
fn rename_refuses_an_existing_target_and_posix_rename_replaces_it() {
    each_resolver(|fs, fx| {
        fs::write(fx.at("a"), b"a").unwrap();
        fs::write(fx.at("b"), b"b").unwrap();
        assert_eq!(code(fs.rename(b"/a", b"/b")), StatusCode::Failure);
        fs.rename(b"/a", b"/c").unwrap();
        assert_eq!(fs::read(fx.at("c")).unwrap(), b"a");
        fs.posix_rename(b"/c", b"/b").unwrap();
        assert_eq!(fs::read(fx.at("b")).unwrap(), b"a");
        assert_eq!(code(fs.rename(b"/missing", b"/x")), StatusCode::NoSuchFile);
    });
}

#[test]
fn symlinks_keep_the_target_given_and_readlink_returns_it() {
    each_resolver(|fs, fx| {
        fs.symlink(b"/etc/passwd", b"/abs").unwrap();
        fs.symlink(b"../../x", b"/rel").unwrap();
        assert_eq!(
            fs::read_link(fx.at("abs")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(fs.readlink(b"/rel").unwrap(), b"../../x");
        fs::write(fx.at("plain"), b"").unwrap();
        assert_eq!(code(fs.readlink(b"/plain")), StatusCode::BadMessage);
        assert_eq!(code(fs.symlink(b"x", b"/plain")), StatusCode::Failure);
    });
}

#[test]
fn hardlinks_share_the_inode_and_link_a_symlink_itself() {
    each_resolver(|fs, fx| {
        fs::write(fx.at("f"), b"data").unwrap();
        fs.hardlink(b"/f", b"/g").unwrap();
        let ino = |p: &str| fs::symlink_metadata(fx.at(p)).unwrap().ino();
        assert_eq!(ino("f"), ino("g"));
        symlink(fx.outside().join("secret"), fx.at("out")).unwrap();
        fs.hardlink(b"/out", b"/out2").unwrap();
        assert!(fs::symlink_metadata(fx.at("out2")).unwrap().is_symlink());
    });
}

#[test]
fn realpath_answers_root_relative_paths() {
    each_resolver(|fs, fx| {
        fs::create_dir_all(fx.at("a/b")).unwrap();
        symlink("a/b", fx.at("ab")).unwrap();
        symlink("/a", fx.at("abs_a")).unwrap();
        for (path, real) in [
            ("", "/"),
            (".", "/"),
            ("/", "/"),
            ("/..", "/"),
            ("../../..", "/"),
            ("a/b/..", "/a"),
            ("/ab", "/a/b"),
            ("ab/..", "/a"),
            ("abs_a/b", "/a/b"),
            ("a/new", "/a/new"),
        ] {
            assert_eq!(
                fs.realpath(path.as_bytes()).unwrap(),
                real.as_bytes(),
                "{path}"
            );
        }
        assert_eq!(code(fs.realpath(b"/missing/x")), StatusCode::NoSuchFile);
    });
}

#[test]
fn expand_path_and_home_directory_are_the_root() {
    each_resolver(|fs, fx| {
        fs::create_dir(fx.at("docs")).unwrap();
        assert_eq!(fs.home_directory(b"").unwrap(), b"/");
        assert_eq!(fs.expand_path(b"~").unwrap(), b"/");
        assert_eq!(fs.expand_path(b"~/docs").unwrap(), b"/docs");
        assert_eq!(fs.expand_path(b"docs/..").unwrap(), b"/");
        let other = fs.expand_path(b"~no-such-user-here/x");
        assert_eq!(code(other), StatusCode::NoSuchFile);
    });
}

#[test]
fn statvfs_describes_the_filesystem() {
    each_resolver(|fs, _| {
        let s = fs.statvfs(b"/").unwrap();
        assert!(s.blocks > 0 && s.bsize > 0 && s.namemax > 0);
        let h = create(fs, "/f").unwrap();
        assert_eq!(fs.fstatvfs(&h).unwrap().fsid, s.fsid);
    });
}

#[test]
fn copy_data_copies_a_range_or_to_the_end() {
    each_resolver(|fs, fx| {
        fs::write(fx.at("src"), b"0123456789").unwrap();
        let from = open_read(fs, "/src").unwrap();
        let to = create(fs, "/dst").unwrap();
        fs.copy_data(&from, 2, 3, &to, 0).unwrap();
        assert_eq!(fs::read(fx.at("dst")).unwrap(), b"234");
        fs.copy_data(&from, 5, 0, &to, 3).unwrap();
        assert_eq!(fs::read(fx.at("dst")).unwrap(), b"23456789");
    });
}

#[test]
fn users_and_groups_are_named_by_id() {
    each_resolver(|fs, _| {
        let (users, groups) = fs.users_groups_by_id(&[0, 4_000_000_000], &[0]).unwrap();
        assert_eq!(users, ["root", ""]);
        assert_eq!(groups, ["root"]);
    });
}

#[test]
fn os_errors_map_to_openssh_status_codes() {
    for (errno, code) in [
        (Errno::NOENT, StatusCode::NoSuchFile),
        (Errno::NOTDIR, StatusCode::NoSuchFile),
        (Errno::LOOP, StatusCode::NoSuchFile),
        (Errno::ACCESS, StatusCode::PermissionDenied),
        (Errno::PERM, StatusCode::PermissionDenied),
        (Errno::NAMETOOLONG, StatusCode::BadMessage),
        (Errno::OPNOTSUPP, StatusCode::OpUnsupported),
        (Errno::EXIST, StatusCode::Failure),
        (Errno::NOSPC, StatusCode::Failure),
    ] {
        assert_eq!(status(errno).code, code, "{errno:?}");
    }
}

#[test]
fn dotdot_never_climbs_above_the_root() {
    each_resolver(|fs, _| {
        for path in [
            "../outside/secret",
            "/../outside/secret",
            "a/../../outside/secret",
        ] {
            assert_eq!(code(open_read(fs, path)), StatusCode::NoSuchFile, "{path}");
            assert_eq!(
                code(fs.stat(path.as_bytes())),
                StatusCode::NoSuchFile,
                "{path}"
            );
        }
        assert_eq!(
            code(fs.remove(b"../outside/secret")),
            StatusCode::NoSuchFile
        );
        assert_eq!(
            code(open_read(fs, "../../../../../../etc/passwd")),
            StatusCode::NoSuchFile
        );
    });
}

#[test]
fn absolute_symlinks_resolve_from_the_root() {
    each_resolver(|fs, fx| {
        let secret = fx.outside().join("secret");
        symlink(&secret, fx.at("to_secret")).unwrap();
        assert_eq!(code(open_read(fs, "/to_secret")), StatusCode::NoSuchFile);
        // The same path made inside the root is what the link reaches.
        let inside = fx.root().join(secret.strip_prefix("/").unwrap());
        fs::create_dir_all(inside.parent().unwrap()).unwrap();
        fs::write(&inside, b"inside").unwrap();
        assert_eq!(read_all(fs, "/to_secret").unwrap(), b"inside");
        symlink("/", fx.at("slash")).unwrap();
        assert_eq!(fs.realpath(b"/slash/..").unwrap(), b"/");
    });
}

#[test]
fn relative_symlinks_cannot_climb_out() {
    each_resolver(|fs, fx| {
        symlink("../outside/secret", fx.at("up")).unwrap();
        symlink("../../../../../../../../etc/passwd", fx.at("deep")).unwrap();
        assert_eq!(code(open_read(fs, "/up")), StatusCode::NoSuchFile);
        assert_eq!(code(fs.stat(b"/deep")), StatusCode::NoSuchFile);
        fs::create_dir(fx.at("outside")).unwrap();
        fs::write(fx.at("outside/secret"), b"inside").unwrap();
        assert_eq!(read_all(fs, "/up").unwrap(), b"inside");
    });
}

#[test]
fn symlinked_directories_stay_inside_for_every_operation() {
    each_resolver(|fs, fx| {
        symlink(fx.outside(), fx.at("out")).unwrap();
        symlink("..", fx.at("up")).unwrap();
        let none = FileAttributes::default();
        assert_eq!(code(open_read(fs, "/out/secret")), StatusCode::NoSuchFile);
        assert_eq!(
            code(open_read(fs, "/up/outside/secret")),
            StatusCode::NoSuchFile
        );
        assert_eq!(code(create(fs, "/out/new")), StatusCode::NoSuchFile);
        assert_eq!(code(fs.mkdir(b"/out/d", &none)), StatusCode::NoSuchFile);
        assert_eq!(code(fs.remove(b"/out/secret")), StatusCode::NoSuchFile);
        assert_eq!(
            code(fs.rename(b"/out/secret", b"/stolen")),
            StatusCode::NoSuchFile
        );
        assert_eq!(
            code(fs.hardlink(b"/out/secret", b"/h")),
            StatusCode::NoSuchFile
        );
        assert_eq!(code(fs.symlink(b"x", b"/out/l")), StatusCode::NoSuchFile);
        assert_eq!(code(fs.opendir(b"/out")), StatusCode::NoSuchFile);
        let chmod = FileAttributes::default().with_permissions(0o777);
        assert_eq!(
            code(fs.setstat(b"/out/secret", &chmod)),
            StatusCode::NoSuchFile
        );
        assert_eq!(fs.realpath(b"/up/up/..").unwrap(), b"/");
        let names: Vec<_> = fs::read_dir(fx.outside()).unwrap().collect();
        assert_eq!(names.len(), 1, "nothing created outside");
        assert_eq!(fs::read(fx.outside().join("secret")).unwrap(), b"outside");
        let mode = fs::metadata(fx.outside().join("secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o777, 0o777);
    });
}

#[test]
fn a_symlink_swapped_in_mid_walk_is_still_contained() {
    each_resolver(|fs, fx| {
        symlink(fx.outside(), fx.at("evil")).unwrap();
        fs::create_dir(fx.at("a")).unwrap();
        fs::write(fx.at("a/secret"), b"inside").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (stop, root) = (Arc::clone(&stop), fx.root());
            std::thread::spawn(move || {
                // Swap `a` between a real directory and a symlink to the outside.
                while !stop.load(Ordering::SeqCst) {
                    fs::rename(root.join("a"), root.join("real")).unwrap();
                    fs::rename(root.join("evil"), root.join("a")).unwrap();
                    fs::rename(root.join("a"), root.join("evil")).unwrap();
                    fs::rename(root.join("real"), root.join("a")).unwrap();
                }
            })
        };
        for _ in 0..3000 {
            match read_all(fs, "/a/secret") {
                Ok(data) => assert_eq!(data, b"inside"),
                Err(e) => assert_eq!(e.code, StatusCode::NoSuchFile, "{e:?}"),
            }
            let r = fs.setstat(
                b"/a/secret",
                &FileAttributes::default().with_permissions(0o604),
            );
            assert!(r.is_ok() || r.unwrap_err().code == StatusCode::NoSuchFile);
        }
        stop.store(true, Ordering::SeqCst);
        swapper.join().unwrap();
        // How often a read won the race depends on the scheduler; once the swapper
        // has stopped (each cycle ends with `a` the real directory) it must succeed.
        assert_eq!(read_all(fs, "/a/secret").unwrap(), b"inside");
        let secret = fx.outside().join("secret");
        assert_ne!(
            fs::metadata(secret).unwrap().permissions().mode() & 0o777,
            0o604
        );
    });
}

#[test]
fn replies_held_across_the_read_buffer_keep_their_data() {
    each_resolver(|fs, fx| {
        let data: Vec<u8> = (0..6 << 20).map(|i: u32| (i % 251) as u8).collect();
        fs::write(fx.at("big"), &data).unwrap();
        let h = open_read(fs, "/big").unwrap();
        let chunk = 255 * 1024;
        // All held at once: more than the 4 MiB buffer, so it cannot be reused.
        let held: Vec<_> = (0..data.len().div_ceil(chunk))
            .map(|i| {
                fs.read(&h, (i * chunk) as u64, chunk as u32)
                    .unwrap()
                    .unwrap()
            })
            .collect();
        assert_eq!(held.concat(), data);
    });
}

#[test]
fn the_root_and_dot_paths_take_attributes_and_list() {
    each_resolver(|fs, fx| {
        fs::create_dir_all(fx.at("d/e")).unwrap();
        symlink("d/e", fx.at("elink")).unwrap();
        let times = FileAttributes::default().with_times(7_000_000, 8_000_000);
        fs.setstat(b"/", &times).unwrap();
        fs.setstat(b"d/e/..", &times).unwrap();
        assert_eq!(
            code(fs.setstat(b"d/e/../missing/..", &times)),
            StatusCode::NoSuchFile
        );
        assert_eq!(fs::metadata(fx.root()).unwrap().mtime(), 8_000_000);
        assert_eq!(fs::metadata(fx.at("d")).unwrap().mtime(), 8_000_000);
        fs::write(fx.at("d/e/f"), b"").unwrap();
        let h = fs.opendir(b"/elink").unwrap();
        let names = fs.readdir(&h).unwrap().unwrap();
        assert_eq!(names.len(), 1);
        assert_eq!(names[0].filename, b"f");
    });
}

#[test]
fn a_root_that_is_not_a_directory_is_refused() {
    let fixture = Fixture::new();
    let err = LocalFs::new(fixture.outside().join("secret")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(Errno::NOTDIR.raw_os_error()));
}

//! MemoryFs behaviours the engine tests do not reach: path resolution corners, Unix
//! semantics of unlinked open files, and the caps.

use super::*;

fn fs() -> MemoryFs {
    MemoryFs::new()
}

fn code(r: Result<impl std::fmt::Debug, SftpError>) -> StatusCode {
    r.expect_err("expected an error").code
}

#[test]
fn dot_dot_at_the_root_stays_at_the_root() {
    let mut fs = fs();
    fs.write_file("/a", b"").unwrap();
    assert_eq!(fs.realpath(b"/../../a").unwrap(), b"/a");
    assert_eq!(fs.realpath(b"..").unwrap(), b"/");
}

#[test]
fn relative_paths_start_at_the_home_directory() {
    let mut fs = MemoryFs::new().with_home("/home/u").unwrap();
    fs.write_file("notes", b"n").unwrap();
    assert_eq!(fs.read_file("/home/u/notes").unwrap(), b"n");
    assert_eq!(fs.realpath(b"").unwrap(), b"/home/u");
    assert_eq!(fs.realpath(b"../u/./notes").unwrap(), b"/home/u/notes");
}

#[test]
fn a_relative_symlink_resolves_from_the_links_directory() {
    let mut fs = fs();
    fs.mkdir(b"/d", &FileAttributes::default()).unwrap();
    fs.write_file("/d/target", b"t").unwrap();
    fs.symlink(b"target", b"/d/link").unwrap();
    fs.symlink(b"d/link", b"/top").unwrap();
    assert_eq!(fs.read_file("/top").unwrap(), b"t");
    assert_eq!(fs.realpath(b"/top").unwrap(), b"/d/target");
}

#[test]
fn a_symlink_loop_fails_with_no_such_file() {
    let mut fs = fs();
    fs.symlink(b"/b", b"/a").unwrap();
    fs.symlink(b"/a", b"/b").unwrap();
    let err = fs.stat(b"/a").unwrap_err();
    assert_eq!(err.code, StatusCode::NoSuchFile);
    assert_eq!(err.message, "Too many levels of symbolic links");
    assert!(fs.lstat(b"/a").unwrap().is_symlink());
}

#[test]
fn the_missing_last_component_of_a_realpath_is_kept() {
    let mut fs = fs();
    fs.mkdir(b"/d", &FileAttributes::default()).unwrap();
    assert_eq!(fs.realpath(b"/d/new").unwrap(), b"/d/new");
    assert_eq!(code(fs.realpath(b"/missing/new")), StatusCode::NoSuchFile);
}

#[test]
fn an_unlinked_file_stays_readable_through_an_open_handle() {
    let mut fs = fs();
    fs.write_file("/f", b"still here").unwrap();
    let h = fs
        .open(b"/f", OpenFlags::READ, &FileAttributes::default())
        .unwrap();
    fs.remove(b"/f").unwrap();
    assert!(!fs.exists("/f"));
    assert_eq!(fs.read(&h, 0, 100).unwrap().unwrap(), &b"still here"[..]);
    fs.close(&h).unwrap();
    assert_eq!(fs.tree.used_bytes, 0);
    assert_eq!(fs.tree.live_nodes(), 1);
}

#[test]
fn a_write_far_past_the_file_size_cap_fails_without_allocating() {
    let mut fs = fs();
    let h = fs
        .open(
            b"/f",
            OpenFlags::WRITE | OpenFlags::CREATE,
            &FileAttributes::default(),
        )
        .unwrap();
    assert_eq!(code(fs.write(&h, 1 << 40, b"x")), StatusCode::Failure);
    assert_eq!(code(fs.write(&h, u64::MAX, b"x")), StatusCode::Failure);
    assert_eq!(
        code(fs.fsetstat(&h, &FileAttributes::default().with_size(u64::MAX))),
        StatusCode::Failure
    );
    assert_eq!(fs.read_file("/f").unwrap(), b"");
}

#[test]
fn the_total_size_and_node_caps_hold() {
    let limits = MemoryFsLimits {
        max_file_size: 100,
        max_total_bytes: 150,
        max_nodes: 4,
    };
    let mut fs = MemoryFs::new().with_limits(limits);
    fs.write_file("/a", &[0; 100]).unwrap();
    assert_eq!(code(fs.write_file("/b", &[0; 60])), StatusCode::Failure);
    // The open created /b before the write failed: it is the fourth node.
    assert_eq!(fs.read_file("/b").unwrap(), b"");
    fs.write_file("/c", &[0; 10]).unwrap();
    assert_eq!(
        code(fs.mkdir(b"/d", &FileAttributes::default())),
        StatusCode::Failure
    );
    fs.remove(b"/a").unwrap();
    fs.write_file("/b", &[0; 60]).unwrap();
}

#[test]
fn a_directory_cannot_move_into_its_own_subtree() {
    let mut fs = fs();
    fs.mkdir(b"/a", &FileAttributes::default()).unwrap();
    fs.mkdir(b"/a/b", &FileAttributes::default()).unwrap();
    assert_eq!(code(fs.rename(b"/a", b"/a/b/c")), StatusCode::Failure);
    assert_eq!(code(fs.posix_rename(b"/a", b"/a/b")), StatusCode::Failure);
}

#[test]
fn posix_rename_replaces_only_compatible_targets() {
    let mut fs = fs();
    fs.mkdir(b"/d1", &FileAttributes::default()).unwrap();
    fs.mkdir(b"/d2", &FileAttributes::default()).unwrap();
    fs.write_file("/d2/x", b"").unwrap();
    fs.write_file("/f", b"").unwrap();
    assert_eq!(code(fs.posix_rename(b"/d1", b"/d2")), StatusCode::Failure);
    assert_eq!(code(fs.posix_rename(b"/f", b"/d1")), StatusCode::Failure);
    assert_eq!(code(fs.posix_rename(b"/d1", b"/f")), StatusCode::Failure);
    fs.remove(b"/d2/x").unwrap();
    fs.posix_rename(b"/d1", b"/d2").unwrap();
    assert!(!fs.exists("/d1"));
    fs.posix_rename(b"/f", b"/f").unwrap();
    assert!(fs.exists("/f"));
}

#[test]
fn a_hard_link_to_a_directory_is_refused() {
    let mut fs = fs();
    fs.mkdir(b"/d", &FileAttributes::default()).unwrap();
    assert_eq!(
        code(fs.hardlink(b"/d", b"/e")),
        StatusCode::PermissionDenied
    );
}

#[test]
fn a_listing_resumes_after_the_last_name_even_when_entries_change() {
    let mut fs = fs();
    for i in 0..150 {
        fs.write_file(&format!("/f{i:03}"), b"").unwrap();
    }
    let h = fs.opendir(b"/").unwrap();
    let first = fs.readdir(&h).unwrap().unwrap();
    assert_eq!(first.len(), 100);
    fs.remove(b"/f100").unwrap();
    fs.write_file("/zzz", b"").unwrap();
    let second = fs.readdir(&h).unwrap().unwrap();
    assert_eq!(second.first().unwrap().filename, b"f101");
    assert_eq!(second.last().unwrap().filename, b"zzz");
    assert_eq!(fs.readdir(&h).unwrap(), None);
}

#[test]
fn an_open_without_read_or_write_is_read_only() {
    let mut fs = fs();
    fs.write_file("/f", b"x").unwrap();
    let h = fs
        .open(b"/f", OpenFlags(0), &FileAttributes::default())
        .unwrap();
    assert!(fs.read(&h, 0, 1).unwrap().is_some());
    assert_eq!(code(fs.write(&h, 0, b"y")), StatusCode::PermissionDenied);
}

#[test]
fn copy_data_within_one_file_through_two_handles_works() {
    let mut fs = fs();
    fs.write_file("/f", b"abc").unwrap();
    let r = fs
        .open(b"/f", OpenFlags::READ, &FileAttributes::default())
        .unwrap();
    let w = fs
        .open(b"/f", OpenFlags::WRITE, &FileAttributes::default())
        .unwrap();
    fs.copy_data(&r, 0, 0, &w, 3).unwrap();
    assert_eq!(fs.read_file("/f").unwrap(), b"abcabc");
}

#[test]
fn names_with_empty_dot_or_overlong_components_are_refused() {
    let mut fs = fs();
    assert_eq!(
        code(fs.mkdir(b"/", &FileAttributes::default())),
        StatusCode::Failure
    );
    assert_eq!(
        code(fs.mkdir(b"/..", &FileAttributes::default())),
        StatusCode::Failure
    );
    assert_eq!(code(fs.rmdir(b"/.")), StatusCode::Failure);
    let long = [b'/'].into_iter().chain([b'n'; 256]).collect::<Vec<u8>>();
    assert_eq!(
        code(fs.mkdir(&long, &FileAttributes::default())),
        StatusCode::BadMessage
    );
}

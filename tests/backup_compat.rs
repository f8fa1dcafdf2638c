//! What hosts and NAS repositories older than regie's defaults still get:
//! a backup round trip through compose v1 (`docker-compose` 1.29, still
//! supported), and a repository that restic 0.14 made, read and added to
//! by restic 0.19 (the version regie pins) after the site moves to it.
//! Real OpenSSH, a NAS over SFTP, restic, PostgreSQL and Docker.

mod common;

use common::notes_site::{backup_with_image, fill_db, sample_files, Site, BACKUP};
use common::testbed::{docker, ComposeCli, TestBed, RESTIC_IMAGE, RESTIC_OLD_IMAGE};
use predicates::prelude::*;

#[test]
fn backup_and_restore_on_compose_v1() {
    let s = Site::on(TestBed::with_compose_v1(1), None, BACKUP);
    assert_eq!(s.tb.compose, ComposeCli::V1Only);
    let o = docker(&[
        "exec",
        &s.tb.host("srv1").container,
        "docker",
        "compose",
        "version",
    ]);
    assert!(!o.status.success(), "the v1 host still has the v2 plugin");
    s.tb.assert_made_by_expected_compose("notes", "app");
    let tmp = tempfile::tempdir().unwrap();
    sample_files(tmp.path(), 3, 128);
    s.put_files(tmp.path());
    fill_db(&s, 500);
    let want = s.fingerprint();
    s.cmd(&["backup", "run"]).assert().success();
    s.app(&["rm", "-rf", "/www/dir1"]);
    s.sql("delete from notes where id % 3 = 0");
    assert_ne!(s.fingerprint(), want);
    s.cmd(&["restore", "--service", "notes", "--yes"])
        .assert()
        .success();
    assert_eq!(s.fingerprint(), want);
    // The restore brought the stack back up through compose v1 too.
    s.tb.assert_made_by_expected_compose("notes", "app");
}

/// The `restic version` line of an image.
fn restic_version(image: &str) -> String {
    let o = docker(&["run", "--rm", image, "version"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn a_repository_made_by_restic_0_14_is_read_and_extended_by_0_19() {
    assert!(restic_version(RESTIC_OLD_IMAGE).starts_with("restic 0.14."));
    assert!(restic_version(RESTIC_IMAGE).starts_with("restic 0.19."));
    // The site starts on restic 0.14: the repository and a first capture
    // are made by it.
    let s = Site::on(TestBed::new(1), None, &backup_with_image(RESTIC_OLD_IMAGE));
    let tmp = tempfile::tempdir().unwrap();
    sample_files(tmp.path(), 7, 256);
    s.put_files(tmp.path());
    fill_db(&s, 800);
    let old = s.fingerprint();
    s.cmd(&["backup", "run"]).assert().success();
    let first = s.captures();
    assert_eq!(first.len(), 1, "{first:?}");

    // The operator moves the site to restic 0.19: a deploy carries the
    // new image into the hosts' backup script.
    std::fs::write(
        &s.inv,
        std::fs::read_to_string(&s.inv)
            .unwrap()
            .replace(RESTIC_OLD_IMAGE, RESTIC_IMAGE),
    )
    .unwrap();
    s.cmd(&["deploy", "--yes"]).assert().success();
    let script = std::fs::read_to_string(
        s.tb.host("srv1")
            .base
            .join(regie::site::layout::BACKUP_SCRIPT),
    )
    .unwrap();
    assert!(script.contains(RESTIC_IMAGE) && !script.contains(RESTIC_OLD_IMAGE));

    // 0.19 adds a capture beside 0.14's, and lists both.
    s.app(&["/bin/busybox", "sh", "-c", "echo changed > /www/index.html"]);
    s.sql("insert into notes (body) values ('after the move')");
    let new = s.fingerprint();
    s.cmd(&["backup", "run"]).assert().success();
    let both = s.captures();
    assert_eq!(both.len(), 2, "{both:?}");

    // 0.19 checks the whole repository and restores 0.14's capture...
    s.cmd(&["backup", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("FAILED").not());
    // (captures are listed oldest first)
    let id = both[0]["id"].as_str().unwrap().to_string();
    s.cmd(&["restore", "--service", "notes", "--snapshot", &id, "--yes"])
        .assert()
        .success();
    assert_eq!(s.fingerprint(), old);
    // ...and its own.
    s.cmd(&["restore", "--service", "notes", "--yes"])
        .assert()
        .success();
    assert_eq!(s.fingerprint(), new);
}

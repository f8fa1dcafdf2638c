//! Backups against the test bed: real OpenSSH servers, a NAS reached over
//! SFTP, real restic (Debian's, in a container as on the hosts), a real
//! PostgreSQL and the real Docker Engine and compose CLI.

mod common;

use std::time::{Duration, Instant};

use common::notes_site::{fill_db, notes_on, sample_files, Site, BACKUP};
use common::testbed::{docker, TestBed};
use predicates::prelude::*;
use std::path::Path;

#[test]
fn backup_restore_drill_and_disaster_recovery() {
    let s = Site::new(2, None);
    let tmp = tempfile::tempdir().unwrap();
    sample_files(tmp.path(), 1, 512);
    s.put_files(tmp.path());
    fill_db(&s, 2000);
    let want = s.fingerprint();
    assert!(want.0.ends_with("(202 files)"), "{}", want.0);

    // The site's NAS key opens rclone's append-only restic server only,
    // never a shell.
    let o = s
        .host_ssh("srv1")
        .args(["echo", "shell-open"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("shell-open"),
        "the NAS key ran a command"
    );
    // (and it did authenticate: the NAS's forced command refused it; see
    // backup_append_only.rs for what the key can and cannot do)
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("may only add backups"),
        "{o:?}"
    );
    // Nothing backed up yet: status says so and fails.
    s.cmd(&["backup", "status"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("never"));
    // The schedule deploy installed (cron here: the test hosts run no
    // systemd) runs the backup on the host itself, regie not involved.
    let srv1 = s.tb.host("srv1").container.clone();
    let cron = docker(&[
        "exec",
        &srv1,
        "cat",
        &format!("/etc/cron.d/regie-backup-{}", s.tb.site),
    ]);
    let cron = String::from_utf8_lossy(&cron.stdout).into_owned();
    let line = cron
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .expect("a cron line");
    assert!(line.starts_with("30 2 * * * root "), "{line}");
    let command = line.trim_start_matches("30 2 * * * root ");
    let o = docker(&["exec", &srv1, "sh", "-c", command]);
    assert!(
        o.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // That scheduled run also drilled the service (never drilled before).
    s.cmd(&["backup", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("h ago\tok\tpassed"));
    s.cmd(&["backup", "run", "--service", "notes"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("notes (manual)\tok")
                .and(predicate::str::contains("retention").not()),
        );
    // Retention runs from regie's side (append-only hosts cannot prune).
    s.cmd(&["backup", "prune"])
        .assert()
        .success()
        .stdout(predicate::str::contains("srv1\tretention (NAS)\tok"));
    let caps = s.captures();
    // Kept by the policy (last 5): the scheduled capture and this one.
    assert_eq!(caps.len(), 2, "{caps:?}");
    assert_eq!(caps[0]["service"], "notes");
    assert_eq!(caps[0]["dumps"][0], "/dumps/notes.pgdump");
    // The pg_dump went into restic, not onto the host's disk.
    let base = &s.tb.host("srv1").base;
    let stray = std::process::Command::new("find")
        .arg(base)
        .args(["-name", "*.pgdump"])
        .output()
        .unwrap();
    assert!(stray.stdout.is_empty(), "dump left on disk: {stray:?}");
    // Plain restic reads the repository with the site's password alone.
    let pw = base.join(".regie/backup/restic.password");
    let o = docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/repo", s.tb.nas_repo().display()),
        "-v",
        &format!("{}:/pw:ro", pw.display()),
        "regie-restic:3",
        "-r",
        &format!("/repo/{}/srv1", s.tb.site),
        "--password-file",
        "/pw",
        "dump",
        "latest",
        "--path",
        "/dumps/notes.pgdump",
        "/dumps/notes.pgdump",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stdout.starts_with(b"PGDMP"),
        "a PostgreSQL custom-format dump"
    );

    // Damage: files gone, a table dropped, a stray file added.
    s.app(&["rm", "-rf", "/www/dir1", "/www/index.html"]);
    s.app(&["/bin/busybox", "sh", "-c", "echo junk > /www/junk.txt"]);
    s.sql("drop table notes");
    s.cmd(&["restore", "--service", "notes", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("notes (restore)\tok"));
    assert_eq!(s.fingerprint(), want, "restored byte for byte");
    // The damaged state was captured first.
    let caps = s.captures();
    assert_eq!(caps.len(), 3);
    assert!(caps.iter().any(|c| c["pre_restore"] == true));

    // A lost disk: containers and volumes gone; restore from the first capture.
    let first = s.captures()[0]["id"].as_str().unwrap().to_string();
    s.destroy_stack();
    s.cmd(&["deploy", "--yes"]).assert().success();
    s.cmd(&[
        "restore",
        "--service",
        "notes",
        "--snapshot",
        &first,
        "--yes",
    ])
    .assert()
    .success();
    assert_eq!(s.fingerprint(), want);

    // Restore drill: check, scratch stack, health and content checks.
    s.cmd(&["backup", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("notes (drill)\tok"));
    assert!(
        docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("name={}-notes-drill", s.tb.site)
        ])
        .stdout
        .is_empty(),
        "the scratch stack is removed"
    );
    s.cmd(&["backup", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("notes").and(predicate::str::contains("passed")));

    // Disaster recovery: srv1 is gone; the service moves to srv2, is
    // deployed there and restored from srv1's repository.
    s.tb.kill("srv1");
    s.destroy_stack();
    let t0 = Instant::now();
    s.tb.inventory_with_backup(&notes_on("srv2"), &s.tb.nas_yaml(), BACKUP);
    s.cmd(&["deploy", "--yes", "--host", "srv2"])
        .assert()
        .success();
    // srv2's own repository, for its backups from now on.
    s.cmd(&["backup", "init"]).assert().success();
    s.cmd(&[
        "restore",
        "--service",
        "notes",
        "--from-host",
        "srv1",
        "--yes",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("from srv1"));
    eprintln!(
        "disaster recovery (deploy + restore) took {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(s.fingerprint(), want);
}

#[test]
fn faults_never_lose_a_backup() {
    // A NAS with 100 MiB of room.
    let s = Site::new(1, Some(100 * 1024));
    let tmp = tempfile::tempdir().unwrap();
    sample_files(tmp.path(), 2, 0);
    s.put_files(tmp.path());
    fill_db(&s, 500);
    s.cmd(&["backup", "run"]).assert().success();
    assert_eq!(s.captures().len(), 1);
    let base = s.tb.host("srv1").base.clone();

    // A dump command that fails: the service fails, nothing is recorded.
    let cat = s.tb.dir.path().join("catalog/stacks/notes.yml");
    let good = std::fs::read_to_string(&cat).unwrap();
    std::fs::write(
        &cat,
        good.replace("database: notes }", "database: nosuchdb }"),
    )
    .unwrap();
    s.cmd(&["deploy", "--yes"]).assert().success();
    s.cmd(&["backup", "run"]).assert().code(1).stdout(
        predicate::str::contains("notes (manual)\tFAILED")
            .and(predicate::str::contains("dump notes.pgdump failed"))
            .and(predicate::str::contains("nosuchdb")),
    );
    assert_eq!(s.captures().len(), 1, "a failed capture leaves no snapshot");
    let snaps = s
        .cmd(&["--output", "json", "backup", "list"])
        .assert()
        .success();
    drop(snaps);
    std::fs::write(&cat, good).unwrap();
    s.cmd(&["deploy", "--yes"]).assert().success();

    // The NAS is down: clear failure, and the earlier capture is intact.
    s.tb.stop("nas");
    s.cmd(&["backup", "run"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAILED"));
    s.cmd(&["backup", "status"])
        .assert()
        .stderr(predicate::str::contains("NAS unreachable"));
    // A restore that cannot reach the NAS changes nothing: the capture is
    // fetched before the stack is stopped.
    s.restore_fails_changing_nothing("nothing changed");
    s.tb.restart("nas");
    assert_eq!(s.captures().len(), 1);

    // Wrong repository password.
    let pw = base.join(".regie/backup/restic.password");
    let saved = std::fs::read(&pw).unwrap();
    std::fs::write(&pw, "not the password\n").unwrap();
    s.cmd(&["backup", "run"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("wrong password"));
    std::fs::write(&pw, &saved).unwrap();

    // The connection to the NAS is cut while a backup uploads.
    sample_files(tmp.path(), 3, 40 * 1024);
    s.put_files(tmp.path());
    let repo = s.tb.nas_repo();
    let size = |p: &Path| -> u64 {
        let o = std::process::Command::new("du")
            .arg("-sb")
            .arg(p)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = size(&repo);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("regie"))
        .env("NO_COLOR", "1")
        .env("REGIE_SSH_CONFIG", "/dev/null")
        .args(["backup", "run", "-i"])
        .arg(&s.inv)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // From the first byte the upload adds (the dump part comes first): a
    // later start lets a fast machine finish the 40 MiB before the first
    // cut, and the test would cut only the retention step.
    while size(&repo) <= before {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the upload never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Cut every SFTP session to the NAS until the backup gives up.
    let nas = s.tb.host("nas").container.clone();
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        docker(&["exec", &nas, "pkill", "-f", "sshd: deploy"]);
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(s.captures().len(), 1, "the cut capture is not listed");
    // The next run succeeds and the repository checks clean.
    s.cmd(&["backup", "run"]).assert().success();
    assert_eq!(s.captures().len(), 2);

    // The NAS's disk fills up during a backup.
    sample_files(tmp.path(), 4, 80 * 1024);
    s.put_files(tmp.path());
    s.cmd(&["backup", "run"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the NAS `nas` is full"));
    assert_eq!(s.captures().len(), 2, "earlier captures intact");
    // Room is made on the NAS: the next run and a full check pass.
    let st = std::process::Command::new("mount")
        .args(["-o", "remount,size=400m"])
        .arg(&repo)
        .status()
        .unwrap();
    assert!(st.success());
    s.cmd(&["backup", "run"]).assert().success();
    s.cmd(&["backup", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("notes (drill)\tok"));
    assert_eq!(s.captures().len(), 3);

    // A damaged repository (its data packs gone): the restore fails while
    // fetching, before the stack is stopped, and the live data is intact.
    let data = s.tb.nas_repo().join(format!("{}/srv1/data", s.tb.site));
    std::fs::remove_dir_all(&data).unwrap();
    s.restore_fails_changing_nothing("fetching the files failed, nothing changed");
}

#[test]
fn local_repository_round_trip() {
    // A repository in a directory of the host itself (`to: local`).
    let tb = TestBed::new(1);
    let repo = tb.host("srv1").base.join("repos");
    let inv = tb.inventory_with_backup(
        &notes_on("srv1"),
        "",
        &format!(
            "backup: {{ to: local, path: {}, image: \"regie-restic:3\" }}\n",
            repo.display()
        ),
    );
    let s = Site::ready(tb, inv, 1, false);
    let tmp = tempfile::tempdir().unwrap();
    sample_files(tmp.path(), 5, 64);
    s.put_files(tmp.path());
    fill_db(&s, 300);
    let want = s.fingerprint();
    s.cmd(&["backup", "run"]).assert().success();
    assert!(
        repo.join(format!("{}/srv1/config", s.tb.site)).exists(),
        "the repository is under the given path"
    );
    s.app(&["rm", "-rf", "/www/dir0"]);
    s.sql("delete from notes where id % 2 = 0");
    s.cmd(&["restore", "--service", "notes", "--yes"])
        .assert()
        .success();
    assert_eq!(s.fingerprint(), want);
}

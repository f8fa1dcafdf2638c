//! Append-only backups on the test bed: the NAS (real sshd, Debian's
//! rclone, restic 0.19.1) forces `rclone serve restic --append-only` for the
//! hosts' key. What a host holds cannot delete a snapshot, rewrite a pack
//! or remove the repository; backups, restores and drills still work; the
//! retention that regie runs on the NAS with its own access does; an
//! existing SFTP site moves to append-only keeping its history.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::notes_site::{fill_db, repo_files, sample_files, Site};
use common::testbed::{docker, TestBed};
use predicates::prelude::*;

const KEEP_TWO: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 2, daily: 0, weekly: 0, monthly: 0 } }\n";

/// A local TCP port bridged, one connection at a time, to what the host's
/// key gets on the NAS when it asks for its repository: rclone's restic
/// server speaking HTTP/2 on the SSH channel. curl then talks to it as any
/// attacker holding the key could.
fn bridge(s: &Site, host: &str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut proto = s.host_ssh(host);
    proto.args(["serve", "restic", "--stdio", host]);
    let prog = proto.get_program().to_owned();
    let args: Vec<_> = proto.get_args().map(|a| a.to_owned()).collect();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut tcp) = conn else { continue };
            let mut child = Command::new(&prog)
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut to = child.stdin.take().unwrap();
            let mut from = child.stdout.take().unwrap();
            let mut tcp2 = tcp.try_clone().unwrap();
            let up = std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = tcp2.read(&mut buf) {
                    if n == 0 || to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            let mut buf = [0u8; 65536];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 || tcp.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = tcp.shutdown(std::net::Shutdown::Both);
            let _ = child.kill();
            let _ = child.wait();
            let _ = up.join();
        }
    });
    port
}

/// HTTP status of one request to the bridged restic server.
fn http(port: u16, method: &str, path: &str, body: Option<&[u8]>) -> String {
    let mut c = Command::new("curl");
    c.args([
        "-s",
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        method,
    ]);
    if body.is_some() {
        c.args(["--data-binary", "@-"]);
    }
    c.arg(format!("http://127.0.0.1:{port}/{path}"));
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().expect("curl");
    if let Some(b) = body {
        child.stdin.take().unwrap().write_all(b).unwrap();
    }
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn repo_dir(s: &Site, host: &str) -> PathBuf {
    s.tb.nas_repo().join(&s.tb.site).join(host)
}

/// `restic check --read-data` on the NAS itself (restic 0.19.1 there), with
/// the site's password.
fn check_on_nas(s: &Site, host: &str) -> std::process::Output {
    let repo = format!("/srv/backup/{}/{host}", s.tb.site);
    s.restic_in("nas", &repo, &["check", "--read-data"])
}

fn assert_check_passes(s: &Site, host: &str) {
    let o = check_on_nas(s, host);
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("no errors were found"),
        "restic check: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// restic run by the host's own script, as an intruder on the host would.
fn host_restic(s: &Site, args: &[&str]) -> std::process::Output {
    let script =
        s.tb.host("srv1")
            .base
            .join(regie::site::layout::BACKUP_SCRIPT);
    let c = s.tb.host("srv1").container.clone();
    let mut a = vec!["exec", c.as_str(), "bash"];
    let sp = script.display().to_string();
    a.push(&sp);
    a.push("restic");
    a.extend_from_slice(args);
    docker(&a)
}

#[test]
fn a_host_key_can_add_and_read_but_never_delete() {
    let s = Site::on(TestBed::new(1), None, KEEP_TWO);
    let want = s.fill_and_back_up(11, 700, 3);
    // The hosts no longer apply retention: the three captures are there.
    assert_eq!(s.captures().len(), 3);
    let dir = repo_dir(&s, "srv1");
    let before = repo_files(&dir);

    // 1. restic with the host's key and password: forget and forget --prune
    // are refused by the NAS (HTTP 403 from rclone).
    let snaps = s.captures();
    let id = snaps[0]["id"].as_str().unwrap().to_string();
    for args in [
        vec!["forget", id.as_str()],
        vec!["forget", "--keep-last", "1", "--prune"],
    ] {
        let o = host_restic(&s, &args);
        assert!(!o.status.success(), "restic {args:?} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("403"), "restic {args:?}: {err}");
    }

    // 2. The restic REST protocol by hand: overwrite a pack, an index, the
    // config; delete a pack, a snapshot, a key, the config.
    let port = bridge(&s, "srv1");
    let pack = std::fs::read_dir(dir.join("data"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .next()
        .expect("a pack");
    let first = |sub: &str| {
        std::fs::read_dir(dir.join(sub))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .into_owned()
    };
    let (index, snapshot, key) = (first("index"), first("snapshots"), first("keys"));
    for (method, path, body) in [
        ("POST", format!("data/{pack}"), Some(&b"ransom"[..])),
        ("POST", format!("index/{index}"), Some(&b"{}"[..])),
        ("POST", "config".to_string(), Some(&b"x"[..])),
        ("DELETE", format!("data/{pack}"), None),
        ("DELETE", format!("snapshots/{snapshot}"), None),
        ("DELETE", format!("keys/{key}"), None),
        ("DELETE", "config".to_string(), None),
    ] {
        assert_eq!(
            http(port, method, &path, body),
            "403",
            "{method} {path} was not refused"
        );
    }
    // The same channel does read (a restore needs it): the config is there.
    assert_eq!(http(port, "GET", "config", None), "200");

    // 3. A shell, another repository, SFTP: the forced command refuses.
    for cmd in [
        vec!["rm", "-rf", "/srv/backup"],
        vec!["serve", "restic", "--stdio", "../../srv/backup"],
        vec!["serve", "restic", "--stdio", "nas"],
    ] {
        let o = s.host_ssh("srv1").args(&cmd).output().unwrap();
        assert!(!o.status.success(), "{cmd:?} ran");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("may only add backups"),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = s
        .host_ssh("srv1")
        .args(["-s", "sftp"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success(), "the SFTP subsystem opened");

    // Nothing was changed: same files, same captures, and a full check
    // reads every pack back.
    assert_eq!(repo_files(&dir), before, "the repository changed");
    assert_eq!(s.captures().len(), 3);
    assert_check_passes(&s, "srv1");

    // Drill and restore still work through the append-only path.
    s.cmd(&["backup", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("notes (drill)\tok"));
    s.app(&["/bin/busybox", "sh", "-c", "echo damaged > /www/index.html"]);
    s.sql("delete from notes where id % 2 = 0");
    assert_ne!(s.fingerprint(), want);
    s.cmd(&["restore", "--service", "notes", "--yes"])
        .assert()
        .success();
    assert_eq!(s.fingerprint(), want);

    // Retention from the trusted side: 3 manual captures and a safety
    // capture; `last: 2` keeps two manual ones and the safety one.
    s.cmd(&["backup", "prune"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "srv1\tretention (NAS)\tok\tsnapshots ",
        ));
    let caps = s.captures();
    assert_eq!(caps.len(), 3, "{caps:?}");
    assert_eq!(caps.iter().filter(|c| c["pre_restore"] == true).count(), 1);
    assert_check_passes(&s, "srv1");
    s.cmd(&["backup", "status"]).assert().success();

    // Retention recorded 20 days ago: status warns and fails.
    let log =
        s.tb.nas_repo()
            .join(&s.tb.site)
            .join(".regie-retention.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let old = regie::util::time::unix_now() - 20 * 86400;
    let moved: String = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["time"] = old.into();
            format!("{v}\n")
        })
        .collect();
    std::fs::write(&log, moved).unwrap();
    s.cmd(&["backup", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "warning: srv1: retention last ran 20 days ago",
        ));
}

#[test]
fn an_sftp_site_moves_to_append_only_keeping_its_history() {
    let full = KEEP_TWO.replace("keep:", "access: full, keep:");
    let s = Site::on(TestBed::new(1), None, &full);
    let tmp = tempfile::tempdir().unwrap();
    sample_files(tmp.path(), 12, 64);
    s.put_files(tmp.path());
    fill_db(&s, 300);
    s.cmd(&["backup", "run"]).assert().success();
    let first = s.captures();
    assert_eq!(first.len(), 1);
    // `full`: SFTP, so the host's key can delete (what the move removes).
    let o = s.host_ssh("srv1").args(["echo", "shell"]).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("sftp connections only"));

    // The move: inventory, deploy (the hosts' script), backup init (the
    // NAS's line for the key).
    std::fs::write(
        &s.inv,
        std::fs::read_to_string(&s.inv)
            .unwrap()
            .replace("access: full, ", ""),
    )
    .unwrap();
    s.cmd(&["deploy", "--yes"]).assert().success();
    s.cmd(&["backup", "init"])
        .assert()
        .success()
        .stdout(predicate::str::contains("exists"));
    // One line for the key on the NAS, the append-only one.
    let nas = s.tb.host("nas").container.clone();
    let o = docker(&["exec", &nas, "cat", "/home/deploy/.ssh/authorized_keys"]);
    let keys = String::from_utf8_lossy(&o.stdout);
    let ours: Vec<&str> = keys
        .lines()
        .filter(|l| l.contains("regie-backup@"))
        .collect();
    assert_eq!(ours.len(), 1, "{keys}");
    assert!(ours[0].contains("rclone serve restic --stdio --append-only"));

    s.cmd(&["backup", "run"]).assert().success();
    let caps = s.captures();
    assert_eq!(caps.len(), 2, "history kept: {caps:?}");
    assert_eq!(caps[0]["id"], first[0]["id"]);
    let o = host_restic(&s, &["forget", caps[0]["id"].as_str().unwrap()]);
    assert!(!o.status.success(), "the moved site's host could forget");
    assert_eq!(s.captures().len(), 2);
    assert_check_passes(&s, "srv1");
}

//! The off-site copy on the test bed: srv1 backs up to the NAS (append-only),
//! regie has the NAS copy each repository to `far`, a second real sshd
//! server (Debian's rclone, restic 0.19.1) on a network of its own. The copy
//! is complete, is not copied twice, keeps its own retention; the NAS's
//! key cannot delete anything there; drills run from it; and after the NAS
//! and the service's data are destroyed, the service comes back from it.

mod common;

use std::collections::BTreeSet;

use common::notes_site::{repo_files, Site};
use common::testbed::docker;
use predicates::prelude::*;

/// Ids of the snapshots of a repository, and of their originals for copies.
fn ids(s: &Site, server: &str, host: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let repo = format!("/srv/backup/{}/{host}", s.tb.site);
    let o = s.restic_in(server, &repo, &["snapshots", "--json", "--no-lock"]);
    assert!(
        o.status.success(),
        "snapshots on {server}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let own = v
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    let orig = v
        .iter()
        .filter_map(|x| x["original"].as_str().map(String::from))
        .collect();
    (own, orig)
}

fn captures_from(s: &Site, from: &str) -> usize {
    let out = s
        .cmd(&["--output", "json", "backup", "list", "--from", from])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice::<Vec<serde_json::Value>>(&out)
        .unwrap()
        .len()
}

#[test]
fn the_offsite_copy_survives_the_loss_of_the_nas() {
    // The NAS keeps 5 captures, the copy 2.
    let s = Site::with_offsite(", keep: { last: 2, daily: 0, weekly: 0, monthly: 0 }");
    let far_dir = s.tb.far_repo().join(&s.tb.site).join("srv1");
    assert!(
        far_dir.join("config").exists(),
        "backup init created the off-site repository"
    );

    let want = s.fill_and_back_up(21, 900, 3);

    // 1. The copy: every snapshot of the NAS is off site, once.
    s.cmd(&["backup", "copy"])
        .assert()
        .success()
        .stdout(predicate::str::contains("srv1\toff-site copy\tok\t"));
    let (nas, _) = ids(&s, "nas", "srv1");
    let (_, copied) = ids(&s, "far", "srv1");
    assert!(nas.len() >= 3, "{nas:?}");
    assert_eq!(
        copied, nas,
        "the off-site copy holds every snapshot of the NAS"
    );
    s.cmd(&["backup", "copy"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\t0 snapshot(s) copied"));

    // 2. The NAS's key (what an intruder on the NAS holds) can add off
    // site, never delete: restic forget through it is refused, and every
    // file there stays as it was.
    let before = repo_files(&far_dir);
    let nas_c = s.tb.host("nas").container.clone();
    let base = format!("/srv/backup/{}", s.tb.site);
    let far_ip = std::fs::read_to_string(&s.inv)
        .unwrap()
        .split("address_from_site: \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let prog = format!(
        "rclone.program=ssh -i {base}/.regie-offsite/key -o UserKnownHostsFile={base}/.regie-offsite/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -p 22 deploy@{far_ip}"
    );
    let first = ids(&s, "far", "srv1").0.into_iter().next().unwrap();
    for args in [
        vec!["forget", first.as_str()],
        vec!["forget", "--keep-last", "1", "--prune"],
    ] {
        let mut a = vec!["-o", prog.as_str()];
        a.extend(args.iter().copied());
        let o = s.restic_in("nas", "rclone:srv1", &a);
        assert!(
            !o.status.success(),
            "{args:?} through the NAS's key must fail: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = docker(&[
        "exec",
        "-u",
        "deploy",
        &nas_c,
        "ssh",
        "-i",
        &format!("{base}/.regie-offsite/key"),
        "-o",
        &format!("UserKnownHostsFile={base}/.regie-offsite/known_hosts"),
        "-o",
        "BatchMode=yes",
        &format!("deploy@{far_ip}"),
        "rm -rf /srv/backup",
    ]);
    assert!(!o.status.success(), "a shell command through the NAS's key");
    assert_eq!(
        repo_files(&far_dir),
        before,
        "the off-site repository is unchanged"
    );

    // 3. Retention from regie's side, each with its own policy; what the
    // copy's retention forgot is not copied again.
    s.cmd(&["backup", "prune"]).assert().success().stdout(
        predicate::str::contains("srv1\tretention (NAS)\tok").and(predicate::str::contains(
            "srv1\tretention (off-site copy)\tok",
        )),
    );
    assert_eq!(captures_from(&s, "nas"), 3);
    assert_eq!(captures_from(&s, "offsite"), 2);
    s.cmd(&["backup", "copy"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\t0 snapshot(s) copied"));
    assert_eq!(captures_from(&s, "offsite"), 2);
    s.cmd(&["backup", "status"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "off-site copy of srv1 on far: last copy",
        ));

    // 4. A restore drill from the copy.
    s.cmd(&["backup", "verify", "--from", "offsite"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "notes (drill from the off-site copy)\tok",
        ));

    // 5. On a schedule: `regie maintain` (in its window) copies the new
    // captures when the last copy is older than a day (here: never made
    // by maintain, but less than 20 h old, so a fresh capture and a record
    // pushed back in time make it due).
    s.cmd(&["backup", "run"]).assert().success();
    let nas_c = s.tb.host("nas").container.clone();
    let log = format!("/srv/backup/{}/.regie-offsite.jsonl", s.tb.site);
    let o = docker(&[
        "exec",
        "-u",
        "deploy",
        &nas_c,
        "sed",
        "-i",
        "s/\"time\":\\([0-9]*\\)/\"time\":1000/",
        &log,
    ]);
    assert!(o.status.success());
    let report = tempfile::tempdir().unwrap();
    let rdir = report.path().display().to_string();
    let o = s
        .cmd(&[
            "maintain",
            "--now",
            "--no-updates",
            "--no-drills",
            "--report",
            &rdir,
        ])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report.path().join(format!("{}.json", s.tb.site)))
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr))),
    )
    .unwrap();
    let copies = r["offsite_copies"].as_array().unwrap();
    assert_eq!(
        copies.len(),
        1,
        "{r}\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(copies[0]["ok"], true, "{r}");
    assert!(copies[0]["record"]["copied"].as_u64().unwrap() >= 2, "{r}");
    let text = std::fs::read_to_string(report.path().join(format!("{}.txt", s.tb.site))).unwrap();
    assert!(text.contains("Off-site copy:\n  srv1: ok, "), "{text}");
    assert!(
        !r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("off-site")),
        "{r}"
    );

    // 6. The building is lost: the NAS and its disks, the service's data.
    s.tb.kill("nas");
    let o = std::process::Command::new("rm")
        .arg("-rf")
        .arg(s.tb.nas_repo())
        .status()
        .unwrap();
    assert!(o.success());
    s.destroy_stack();
    s.cmd(&["backup", "list"]).assert().failure();
    s.cmd(&[
        "restore",
        "--service",
        "notes",
        "--from",
        "offsite",
        "--yes",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "notes (restore from the off-site copy)\tok",
    ));
    assert_eq!(
        s.fingerprint(),
        want,
        "the service is back as at its last backup"
    );
    // Status says the NAS is gone; the copy is still reported.
    s.cmd(&["backup", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("NAS unreachable"));
}

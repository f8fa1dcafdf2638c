//! `regie acceptance` on the test bed: a site of two test stacks (one with
//! a volume and a PostgreSQL dump, one whose image versions sit in a real
//! registry) goes through deploy, known data, backup, loss, restore, drill
//! and an update from the previous version, then everything is removed.
//! Real OpenSSH hosts, Docker Engine, compose, restic to an SFTP NAS.

mod common;

use common::regie;
use common::registry::Registry;
use common::testbed::{docker, TestBed};
use predicates::prelude::*;

const BACKUP: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 5 } }\n";

fn site(tb: &TestBed, reg: &Registry) -> std::path::PathBuf {
    let services = format!(
        "  notes:\n    host: srv1\n  upd:\n    host: srv1\n    version: \"1.1.0\"\n    settings: {{ registry: \"{}\" }}\n",
        reg.addr
    );
    tb.inventory_with_backup(&services, &tb.nas_yaml(), BACKUP)
}

fn trust(inv: &std::path::Path) {
    for h in ["srv1", "nas"] {
        regie()
            .args(["hosts", "trust", h, "-i"])
            .arg(inv)
            .assert()
            .success();
    }
}

#[test]
fn acceptance_passes_every_stack_and_leaves_nothing_behind() {
    let reg = Registry::start();
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    let inv = site(&tb, &reg);
    trust(&inv);
    let before = std::fs::read_to_string(&inv).unwrap();

    // Refused without --yes: it deploys and removes stacks.
    regie()
        .args(["acceptance", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pass --yes"));

    let o = regie()
        .args([
            "acceptance",
            "--yes",
            "--from",
            "upd=1.0.0",
            "--health-timeout",
            "120",
            "--output",
            "json",
            "-i",
        ])
        .arg(&inv)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{err}", String::from_utf8_lossy(&o.stdout)));
    assert_eq!(o.status.code(), Some(0), "{rep:#}\n{err}");
    let steps = |svc: &str| -> Vec<String> {
        rep["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == svc)
            .unwrap_or_else(|| panic!("no {svc} in {rep:#}"))["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert_eq!(s["ok"], true, "{svc}: {s}");
                s["step"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(
        steps("notes"),
        ["deploy", "seed", "backup", "lose", "restore", "data", "drill", "update"]
    );
    assert_eq!(
        steps("upd"),
        ["deploy", "seed", "backup", "lose", "restore", "data", "drill", "update", "after-up"]
    );
    let upd = &rep["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "upd")
        .unwrap()["steps"];
    assert_eq!(upd[0]["detail"], "1.0.0, healthy", "{upd}");
    assert_eq!(upd[7]["detail"], "1.0.0 -> 1.1.0: updated", "{upd}");
    assert!(rep["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "notes")
        .unwrap()["steps"][1]["detail"]
        .as_str()
        .unwrap()
        .contains("1 volume(s), 1 database(s)"));
    let teardown = rep["teardown"].as_array().unwrap();
    assert_eq!(teardown.len(), 2, "{rep:#}");
    assert!(teardown.iter().all(|t| t["ok"] == true), "{rep:#}");

    // Nothing left: containers, volumes, files on the host, repositories.
    assert!(tb.containers().is_empty(), "{:?}", tb.containers());
    let site = &tb.site;
    let vols = docker(&["volume", "ls", "-q"]);
    let vols = String::from_utf8_lossy(&vols.stdout);
    assert!(
        !vols.lines().any(|v| v.starts_with(&format!("{site}-"))),
        "{vols}"
    );
    let base = &tb.host("srv1").base;
    let left: Vec<_> = std::fs::read_dir(base)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    let repos: Vec<_> = std::fs::read_dir(tb.nas_repo())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(repos.is_empty(), "{repos:?}");
    // The inventory is as it was (the run sets old versions, update writes
    // new ones, and it is put back).
    assert_eq!(std::fs::read_to_string(&inv).unwrap(), before);
}

#[test]
fn acceptance_refuses_a_site_that_already_runs_and_changes_nothing() {
    let reg = Registry::start();
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    let inv = site(&tb, &reg);
    trust(&inv);
    regie()
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .success();
    let running = tb.containers();
    assert!(!running.is_empty());
    regie()
        .args(["acceptance", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("containers of site").and(predicate::str::contains(
                "an acceptance run needs hosts without this site",
            )),
        );
    assert_eq!(tb.containers(), running);
}

//! Update benchmark on the test bed (run on demand: `cargo bench --bench update`).
//!
//! The `upd` test stack with REGIE_BENCH_MB (default 500) MB of data in
//! its volume, images in a local registry (Debian's docker-registry):
//! - `regie update check` (registry tag list + digest, running images over
//!   SSH), best of 5;
//! - `regie update apply` 1.0.0 → 1.1.0 (lock, pre-update backup to the
//!   NAS, record, pull, fingerprint, recreate, health), with its steps;
//! - the failing 1.2.0 (health fails: rollback by image id, no restore);
//! - the failing 1.3.0 (writes its data, fails: rollback with the
//!   pre-update capture restored);
//! - for scale, the bare minimum without any safety: `docker-compose up -d`
//!   of another version (what an unprotected manual update costs).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/run.rs"]
mod run;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::registry::Registry;
use common::testbed::{docker, TestBed};

fn regie(inv: &Path, args: &[&str]) -> (f64, i32, String) {
    let (s, o) = run::regie_output(inv, args);
    (
        s,
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn steps(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for w in steps.windows(2) {
        let dt = w[1]["at"].as_u64().unwrap_or(0) - w[0]["at"].as_u64().unwrap_or(0);
        out.push(format!("{} {}s", w[1]["step"].as_str().unwrap_or(""), dt));
    }
    format!("outcome {}; after lock: {}", v["outcome"], out.join(", "))
}

/// One host and a NAS with `services` deployed, the repository initialised.
fn site(services: &str) -> (TestBed, PathBuf) {
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    let inv = tb.inventory_with_backup(
        services,
        &tb.nas_yaml(),
        "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 10, daily: 7, weekly: 0, monthly: 0 } }\n",
    );
    for h in ["srv1", "nas"] {
        assert_eq!(regie(&inv, &["hosts", "trust", h]).1, 0);
    }
    assert_eq!(regie(&inv, &["deploy", "--yes"]).1, 0);
    assert_eq!(regie(&inv, &["backup", "init"]).1, 0);
    (tb, inv)
}

fn main() {
    let mb: usize = std::env::var("REGIE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let reg = Registry::start();
    let (tb, inv) = site(&format!(
        "  upd:\n    host: srv1\n    version: \"1.0.0\"\n    settings: {{ registry: \"{}\" }}\n",
        reg.addr
    ));
    // Data: 1 MiB pseudo-random files (incompressible, so restic stores them all).
    let id = tb.container_of("upd", "app");
    let t = Instant::now();
    let o = docker(&[
        "exec",
        &id,
        "sh",
        "-c",
        &format!("i=0; while [ $i -lt {mb} ]; do busybox head -c 1048576 /dev/urandom > /data/f$i; i=$((i+1)); done"),
    ]);
    assert!(o.status.success(), "{o:?}");
    println!(
        "data: {mb} MiB in {mb} files ({:.1}s to write)",
        t.elapsed().as_secs_f64()
    );
    let (t, code, _) = regie(&inv, &["backup", "run"]);
    println!("first backup (baseline for the pre-update ones): {t:.1}s (exit {code})");

    let best = (0..5)
        .map(|_| regie(&inv, &["update", "check"]).0)
        .fold(f64::MAX, f64::min);
    println!("update check: best of 5 {best:.2}s");

    for (to, what) in [
        ("1.1.0", "update 1.0.0 -> 1.1.0 (healthy)"),
        (
            "1.2.0",
            "update -> 1.2.0 (health fails, rollback by image id)",
        ),
        (
            "1.3.0",
            "update -> 1.3.0 (writes data, fails, rollback + restore)",
        ),
    ] {
        let (t, code, out) = regie(
            &inv,
            &[
                "update",
                "apply",
                "--service",
                "upd",
                "--now",
                "--to",
                to,
                "--output",
                "json",
            ],
        );
        println!("{what}: {t:.1}s (exit {code}); {}", steps(&out));
    }

    // Unprotected manual update for scale: compose up of another tag.
    let dir = tb.host("srv1").base.join("upd");
    let compose = std::fs::read_to_string(dir.join("docker-compose.yml")).unwrap();
    let cur = reg.image("1.1.0");
    std::fs::write(
        dir.join("docker-compose.yml"),
        compose.replace(&cur, &reg.image("1.0.0")),
    )
    .unwrap();
    let t = Instant::now();
    let o = Command::new("docker-compose")
        .args(["-p", &format!("{}-upd", tb.site), "up", "-d"])
        .current_dir(&dir)
        .output()
        .unwrap();
    println!(
        "bare docker-compose up -d of another tag (no backup, no health wait): {:.1}s (ok {})",
        t.elapsed().as_secs_f64(),
        o.status.success()
    );

    drop(tb);

    // PostgreSQL 15 -> 17 by dump and restore, REGIE_BENCH_PG_ROWS rows
    // (default 1,000,000, about 90 MB of table).
    let rows: u64 = std::env::var("REGIE_BENCH_PG_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    reg.push("regie-postgres:2", "postgres:15");
    reg.push("regie-postgres-next:2", "postgres:17");
    let (tb, inv) = site(&format!(
        "  pgapp:\n    host: srv1\n    settings: {{ registry: \"{}\" }}\n",
        reg.addr
    ));
    tb.psql(
        "pgapp",
        &format!("create table notes (id serial primary key, body text not null); insert into notes (body) select md5(g::text) || md5((g+1)::text) from generate_series(1, {rows}) g"),
    );
    let (t, code, out) = regie(
        &inv,
        &[
            "update",
            "postgres",
            "--service",
            "pgapp",
            "--to",
            "17",
            "--now",
            "--output",
            "json",
        ],
    );
    println!(
        "update postgres 15 -> 17, {rows} rows: {t:.1}s (exit {code}); {}",
        steps(&out)
    );
}

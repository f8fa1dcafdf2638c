//! Backup benchmark on the test bed (run on demand: `cargo bench --bench backup`).
//!
//! A 2 GB mixed data set on one host: ~24,000 small files (text-like and
//! random, 1-80 KiB), a few large random files, and a PostgreSQL table of
//! ~0.4 GB. Backed up to the NAS container over SFTP: first backup,
//! unchanged re-run, then 1% of the files and rows changed. Each regie run
//! (`regie backup run`: pg_dump streamed into restic, the volumes, then
//! forget + prune) is timed against plain restic doing the same work in the
//! same image against its own repository on the same NAS. Then the restore
//! (`regie restore`, which first takes a safety capture) and a plain
//! `restic restore` of the files snapshot.
//!
//! Size with REGIE_BENCH_MB (default 2048).
//!
//! REGIE_BENCH_ACCESS=1 measures instead the cost of append-only access:
//! the same plain restic work (the dump streamed in, then the files; first
//! backup and unchanged re-run) over SFTP and over the append-only path
//! regie installs (restic's rclone backend, ssh as its program, the NAS
//! forcing `rclone serve restic --stdio --append-only` for the key), each
//! into its own fresh repository on the same NAS.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/dataset.rs"]
mod dataset;
#[path = "support/run.rs"]
mod run;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::testbed::{docker, TestBed};
use dataset::Rng;

fn regie(inv: &Path, args: &[&str]) -> f64 {
    run::regie(inv, args).0
}

fn sh(script: &str) -> f64 {
    let t = Instant::now();
    let o = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(
        o.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    t.elapsed().as_secs_f64()
}

fn volume_path(name: &str) -> PathBuf {
    let o = docker(&["volume", "inspect", "-f", "{{.Mountpoint}}", name]);
    assert!(o.status.success(), "volume {name}");
    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

fn main() {
    let total_mb: u64 = std::env::var("REGIE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048);
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    let inv = tb.inventory_with_backup(
        "  notes:\n    host: srv1\n",
        &tb.nas_yaml(),
        "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 10, daily: 7, weekly: 0, monthly: 0 } }\n",
    );
    for h in ["srv1", "nas"] {
        regie(&inv, &["hosts", "trust", h]);
    }
    regie(&inv, &["deploy", "--yes"]);
    regie(&inv, &["backup", "init"]);
    let project = format!("{}-notes", tb.site);
    let data = volume_path(&format!("{project}_data"));

    // The data set: 80% files, 20% database.
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let db_id = tb.container_of("notes", "db");
    let psql = |q: &str| tb.psql("notes", q);
    let small = dataset::fill(&mut rng, &data, total_mb, &psql);

    // Plain restic with the same image, key, password and NAS, its own repository.
    let dir = tb.host("srv1").base.join(".regie/backup");
    let nas_port = tb.host("nas").port;
    let plain = format!(
        "docker run --rm -i --network host -v {dir}:/regie \
         -e RESTIC_REPOSITORY=sftp:deploy@127.0.0.1:/srv/backup/plain \
         -e RESTIC_PASSWORD_FILE=/regie/restic.password -e RESTIC_CACHE_DIR=/regie/cache-plain",
        dir = dir.display()
    );
    // The site key is append-only: plain restic gets a key of its own,
    // authorized as regie authorizes the site key with `access: full`.
    authorize(&tb, "bench_sftp_key", "internal-sftp");
    let sftp = format!(
        "-o 'sftp.command=ssh -i /regie/bench_sftp_key -o UserKnownHostsFile=/regie/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -p {nas_port} deploy@127.0.0.1 -s sftp'"
    );
    sh(&format!("{plain} regie-restic:3 {sftp} init"));
    let plain_run = || {
        sh(&format!(
            "set -eo pipefail\n\
             docker exec {db_id} pg_dump --username=notes --dbname=notes --format=custom | {plain} regie-restic:3 {sftp} backup --stdin --stdin-filename dumps/notes.pgdump --host srv1 -q\n\
             {plain} -v {project}_data:/volumes/{project}_data:ro regie-restic:3 {sftp} backup --host srv1 -q /volumes/{project}_data\n\
             {plain} regie-restic:3 {sftp} forget --keep-last 10 --keep-daily 7 --group-by host,paths -q\n\
             {plain} regie-restic:3 {sftp} prune -q\n"
        ))
    };

    if std::env::var_os("REGIE_BENCH_ACCESS").is_some() {
        access_bench(&tb, &plain, &sftp, &db_id, &project);
        return;
    }

    let mut rows_out = Vec::new();
    let mut row = |label: &str, r: f64, p: f64| {
        let line = format!(
            "{label:<22} regie {r:7.1} s   plain restic {p:7.1} s   overhead {:+6.1} s ({:+5.1}%)",
            r - p,
            (r - p) / p * 100.0
        );
        println!("{line}");
        rows_out.push(line);
    };
    let r = regie(&inv, &["backup", "run"]);
    let p = plain_run();
    row("first backup", r, p);
    let r = regie(&inv, &["backup", "run"]);
    let p = plain_run();
    row("unchanged re-run", r, p);
    // 1% changed: files rewritten and rows updated.
    dataset::a_day(&mut rng, &small, 0, &psql);
    let r = regie(&inv, &["backup", "run"]);
    let p = plain_run();
    row("1% changed", r, p);

    let r = regie(&inv, &["restore", "--service", "notes", "--yes"]);
    let target = tempfile::tempdir().unwrap();
    let p = sh(&format!(
        "{plain} -v {t}:/out regie-restic:3 {sftp} restore latest --path /volumes/{project}_data --target /out -q",
        t = target.path().display()
    ));
    println!("restore                regie {r:7.1} s (safety capture, files, database, start, health)   plain restic restore of the files {p:7.1} s");
    let r = regie(
        &inv,
        &[
            "restore",
            "--service",
            "notes",
            "--yes",
            "--no-safety-backup",
        ],
    );
    println!("restore, no safety     regie {r:7.1} s (files, database, start, health)");
    let _ = rows_out;
}

/// A new key in srv1's backup directory (seen as /regie/NAME in the
/// restic container), authorized on the NAS with `restrict` and `command`.
fn authorize(tb: &TestBed, name: &str, command: &str) {
    let key = tb.host("srv1").base.join(".regie/backup").join(name);
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let line = format!(
        "restrict,command=\"{}\" {}",
        command.replace('"', "\\\""),
        public.trim()
    );
    let nas = tb.host("nas").container.clone();
    let o = docker(&[
        "exec",
        &nas,
        "sh",
        "-c",
        "printf '%s\\n' \"$1\" >>/home/deploy/.ssh/authorized_keys",
        "sh",
        &line,
    ]);
    assert!(o.status.success());
}

/// Plain restic over SFTP against plain restic over the append-only path,
/// same data, fresh repositories.
fn access_bench(tb: &TestBed, plain: &str, sftp: &str, db_id: &str, project: &str) {
    let nas_port = tb.host("nas").port;
    // A key of the bench's own, authorized on the NAS exactly as regie
    // authorizes the hosts' key, for a repository named `bench`.
    let cmd = regie::backup::plan::append_only_command("/srv/backup", &["bench".to_string()]);
    authorize(tb, "bench_key", &cmd);
    let ao = format!(
        "{} -e RESTIC_REPOSITORY=rclone:bench",
        plain.replace(
            "-e RESTIC_REPOSITORY=sftp:deploy@127.0.0.1:/srv/backup/plain",
            ""
        )
    );
    let rclone = format!(
        "-o 'rclone.program=ssh -i /regie/bench_key -o UserKnownHostsFile=/regie/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -p {nas_port} deploy@127.0.0.1'"
    );
    sh(&format!("{ao} regie-restic:3 {rclone} init"));
    let run = |env: &str, opts: &str| {
        sh(&format!(
            "set -eo pipefail\n\
             docker exec {db_id} pg_dump --username=notes --dbname=notes --format=custom | {env} regie-restic:3 {opts} backup --stdin --stdin-filename dumps/notes.pgdump --host srv1 -q\n\
             {env} -v {project}_data:/volumes/{project}_data:ro regie-restic:3 {opts} backup --host srv1 -q /volumes/{project}_data\n"
        ))
    };
    let row = |label: &str, s: f64, a: f64| {
        println!(
            "{label:<18} SFTP {s:7.1} s   append-only (rclone over ssh) {a:7.1} s   overhead {:+6.1} s ({:+5.1}%)",
            a - s,
            (a - s) / s * 100.0
        );
    };
    // Alternate the order so that neither path always meets a warm cache.
    let s1 = run(plain, sftp);
    let a1 = run(&ao, &rclone);
    row("first backup", s1, a1);
    let a2 = run(&ao, &rclone);
    let s2 = run(plain, sftp);
    row("unchanged re-run", s2, a2);
}

//! Status, check and report benchmark on the test bed (run on demand:
//! `cargo bench --bench status`).
//!
//! REGIE_BENCH_HOSTS hosts (default 4), each running three copies of the
//! test web stack (one container each), plus the NAS:
//! - `regie check` on all hosts (read in parallel): best and median of 5
//!   (run with REGIE_BENCH_HOSTS=1 for the cost of one host);
//! - the same without the APT simulation (`--no-os`), which is most of a
//!   host's time;
//! - `regie status --no-registry` (the text table);
//! - `regie report` of that site with 30 days of stored readings (one
//!   every 10 minutes: 4,320), and `regie report --from-json` of the
//!   French fixture (rendering alone).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::testbed::TestBed;

fn time(inv: Option<&Path>, state: &Path, args: &[&str]) -> (f64, i32) {
    let t = Instant::now();
    let mut c = Command::new(env!("CARGO_BIN_EXE_regie"));
    c.args(args).env("REGIE_STATE_DIR", state);
    if let Some(inv) = inv {
        c.arg("-i").arg(inv);
    }
    let o = c.output().unwrap();
    if !matches!(o.status.code(), Some(0..=3)) {
        panic!(
            "regie {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    (t.elapsed().as_secs_f64(), o.status.code().unwrap_or(-1))
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    format!("best {:.2} s, median {:.2} s", v[0], v[v.len() / 2])
}

fn repeat(n: usize, f: impl Fn() -> (f64, i32)) -> (String, i32) {
    let runs: Vec<(f64, i32)> = (0..n).map(|_| f()).collect();
    let code = runs[0].1;
    (stats(runs.into_iter().map(|r| r.0).collect()), code)
}

/// 30 days of readings, one every 10 minutes, in the state dir's format.
fn fake_history(state: &Path, site: &str, hosts: usize, now: u64) {
    let mut samples = Vec::new();
    let n = 30 * 24 * 6;
    for i in 0..n {
        let t = now - (n - i) as u64 * 600;
        let mut s = regie::status::history::Sample {
            time: t,
            ..Default::default()
        };
        for h in 1..=hosts {
            s.hosts_up.push(format!("srv{h}"));
            s.disks.push(regie::status::history::DiskSample {
                id: format!("srv{h}:/"),
                used_pct: 40.0 + i as f64 / n as f64 * 10.0,
                used_kib: 400_000_000,
                size_kib: 1_000_000_000,
            });
            for k in ["a", "b", "c"] {
                s.services.push(regie::status::history::ServiceSample {
                    service: format!("{k}{h}"),
                    up: i % 97 != 0,
                    restarts: (i / 500) as u64,
                });
            }
        }
        samples.push(s);
    }
    // Written directly (the store's own append reads the file's last line
    // each time), one file per month as the store keeps them.
    let dir = regie::status::history::site_dir(state, site);
    std::fs::create_dir_all(&dir).unwrap();
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    for s in &samples {
        let month = jiff::Timestamp::from_second(s.time as i64)
            .unwrap()
            .strftime("%Y-%m")
            .to_string();
        let f = files.entry(month).or_default();
        f.push_str(&serde_json::to_string(s).unwrap());
        f.push('\n');
    }
    for (m, text) in files {
        std::fs::write(dir.join(format!("{m}.jsonl")), text).unwrap();
    }
}

fn main() {
    let hosts: usize = std::env::var("REGIE_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let mut tb = TestBed::new(hosts);
    tb.start_nas(None);
    tb.inventory_with_backup("", "", "");
    let mut services = String::new();
    for h in 1..=hosts {
        for k in ["a", "b", "c"] {
            let name = format!("{k}{h}");
            tb.add_stack_copy(&name);
            services.push_str(&format!("  {name}:\n    host: srv{h}\n"));
        }
    }
    let backup = "backup: { to: nas, image: \"regie-restic:3\" }\n";
    let inv = tb.inventory_with_backup(&services, &tb.nas_yaml(), backup);
    let state = tb.dir.path().join("state");
    let run = |args: &[&str]| time(Some(&inv), &state, args);
    for h in (1..=hosts)
        .map(|h| format!("srv{h}"))
        .chain(["nas".to_string()])
    {
        run(&["hosts", "trust", &h]);
    }
    let t0 = Instant::now();
    run(&["deploy", "--yes"]);
    println!(
        "deploy of {} stacks on {hosts} host(s): {:.1} s",
        hosts * 3,
        t0.elapsed().as_secs_f64()
    );

    let (s, c) = repeat(5, || run(&["check", "--no-tls"]));
    println!("check, {hosts} hosts with 3 stacks each (exit {c}): {s}");
    let (s, c) = repeat(5, || run(&["check", "--no-tls", "--no-os"]));
    println!("check --no-os, {hosts} hosts (exit {c}): {s}");
    let (s, _) = repeat(5, || run(&["status", "--no-registry", "--no-tls"]));
    println!("status --no-registry, {hosts} hosts: {s}");

    let site = tb.site.clone();
    let now = regie::util::time::unix_now();
    let hist = tb.dir.path().join("hist");
    fake_history(&hist, &site, hosts, now - 60);
    let out = tb.dir.path().join("reports");
    let (s, _) = repeat(3, || {
        time(
            Some(&inv),
            &hist,
            &["report", "--no-registry", "-o", out.to_str().unwrap()],
        )
    });
    println!("report of the site with 4,320 stored readings: {s}");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/cabinet-durand.json");
    let (s, _) = repeat(5, || {
        time(
            None,
            &hist,
            &[
                "report",
                "--from-json",
                fixture.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
        )
    });
    println!("report --from-json (rendering only, 361 readings): {s}");
}

//! Off-site copy benchmark on the test bed (run on demand: `cargo bench
//! --bench offsite`).
//!
//! srv1 backs up the benchmarks' data set (REGIE_BENCH_MB, default 1024) to
//! the NAS; `far`, a second NAS container, holds the off-site copy. Timed:
//! the first `regie backup copy` (the whole repository leaves the
//! building), then REGIE_BENCH_DAYS (default 3) times a day of work (1% of
//! the files and rows changed), its backup, and the copy of that day's
//! captures, with the bytes the off-site repository grew by; then `regie
//! backup prune` on the NAS and on the copy. Whole-process times of the
//! regie commands. The servers share this machine: no real uplink, so the
//! bytes per day are given too, to work out the time over a real one.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/dataset.rs"]
mod dataset;
#[path = "support/run.rs"]
mod run;

use std::path::Path;
use std::process::Command;

use common::testbed::{docker, TestBed};
use dataset::Rng;
use run::regie;

/// Bytes under a directory of the machine (the repositories).
fn du(dir: &Path) -> u64 {
    let o = Command::new("du").arg("-sb").arg(dir).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0)
}

fn mib(b: u64) -> f64 {
    b as f64 / 1048576.0
}

fn main() {
    let total_mb: u64 = std::env::var("REGIE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let days: usize = std::env::var("REGIE_BENCH_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    let ip = tb.start_offsite();
    let extra = format!("{}{}", tb.nas_yaml(), tb.far_yaml());
    let inv = tb.inventory_with_backup(
        "  notes:\n    host: srv1\n",
        &extra,
        &format!(
            "backup: {{ to: nas, image: \"regie-restic:3\", keep: {{ last: 10, daily: 7, weekly: 0, monthly: 0 }}, offsite: {{ to: far, address_from_site: \"{ip}\" }} }}\n"
        ),
    );
    for h in ["srv1", "nas", "far"] {
        regie(&inv, &["hosts", "trust", h]);
    }
    regie(&inv, &["deploy", "--yes"]);
    regie(&inv, &["backup", "init"]);
    let project = format!("{}-notes", tb.site);
    let o = docker(&[
        "volume",
        "inspect",
        "-f",
        "{{.Mountpoint}}",
        &format!("{project}_data"),
    ]);
    let data = std::path::PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let psql = |q: &str| tb.psql("notes", q);
    let small = dataset::fill(&mut rng, &data, total_mb, &psql);
    let nas_dir = tb.nas_repo().join(&tb.site).join("srv1");
    let far_dir = tb.far_repo().join(&tb.site).join("srv1");

    let (b, _) = regie(&inv, &["backup", "run"]);
    let (c, out) = regie(&inv, &["backup", "copy"]);
    println!(
        "first backup {b:6.1} s ({:.0} MiB on the NAS); first copy {c:6.1} s ({:.0} MiB off site): {}",
        mib(du(&nas_dir)),
        mib(du(&far_dir)),
        out.trim()
    );
    let mut copies = Vec::new();
    for day in 1..=days {
        dataset::a_day(&mut rng, &small, day, &psql);
        let before = du(&far_dir);
        let (b, _) = regie(&inv, &["backup", "run"]);
        let (c, out) = regie(&inv, &["backup", "copy"]);
        let grew = du(&far_dir).saturating_sub(before);
        println!(
            "day {day}: backup {b:6.1} s; copy of the day's captures {c:6.1} s, off site +{:.1} MiB ({:.1} s at 1 MiB/s, {:.1} s at 10 MiB/s): {}",
            mib(grew),
            mib(grew),
            mib(grew) / 10.0,
            out.trim()
        );
        copies.push(c);
    }
    let (c, _) = regie(&inv, &["backup", "copy"]);
    println!("copy with nothing new {c:6.2} s");
    copies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if let Some(m) = copies.get(copies.len() / 2) {
        println!("median copy of a day's captures {m:.1} s (of {days} days)");
    }
    let (p, out) = regie(&inv, &["backup", "prune"]);
    println!("backup prune, NAS and off site: {p:6.1} s\n{}", out.trim());
}

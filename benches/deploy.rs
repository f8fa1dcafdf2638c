//! Deploy benchmark on the test bed (run on demand: `cargo bench --bench deploy`).
//!
//! 2 hosts x 6 stacks x 3 files (compose file + 2 configs, one busybox httpd
//! container per stack). Measures, 5 runs each: cold deploy, no-op re-run,
//! and a one-file change (1 upload + 1 container recreated). Prints median
//! and min-max wall time of the `regie deploy` process.
//!
//! `REGIE_BENCH_INTERVAL` sets the stacks' health-check interval (default
//! `1s`; `30s` is Docker's default, with which the gate can no longer wait
//! for Docker's own verdict).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

use common::testbed::TestBed;

const RUNS: usize = 5;

fn stacks(tb: &TestBed) -> String {
    tb.inventory("", ""); // lays out the test catalog
    let mut services = String::new();
    for host in ["srv1", "srv2"] {
        for i in 1..=6 {
            let name = format!("{host}s{i}");
            tb.add_stack_copy(&name);
            let p = tb
                .dir
                .path()
                .join(format!("catalog/templates/{name}/docker-compose.yml.tera"));
            let t = std::fs::read_to_string(&p).unwrap();
            std::fs::write(
                &p,
                t.replace("interval: 1s", &format!("interval: {}", interval())),
            )
            .unwrap();
            services.push_str(&format!(
                "  {name}:\n    host: {host}\n    settings: {{ message: m0 }}\n"
            ));
        }
    }
    services
}

fn interval() -> String {
    std::env::var("REGIE_BENCH_INTERVAL").unwrap_or_else(|_| "1s".into())
}

fn deploy(inv: &std::path::Path) -> f64 {
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(inv)
        .output()
        .unwrap();
    let s = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    if std::env::var_os("REGIE_BENCH_VERBOSE").is_some() {
        eprint!("{}", String::from_utf8_lossy(&o.stdout));
    }
    s
}

fn report(label: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{label:<28} median {:7.3} s   min {:7.3}   max {:7.3}   ({} runs)",
        v[v.len() / 2],
        v[0],
        v[v.len() - 1],
        v.len()
    );
}

fn main() {
    let mut cold = Vec::new();
    let mut noop = Vec::new();
    let mut one = Vec::new();
    for run in 0..RUNS {
        let tb = TestBed::new(2);
        let services = stacks(&tb);
        let inv = tb.inventory(&services, "");
        cold.push(deploy(&inv));
        if run == 0 {
            // All runs below reuse this test bed.
            for _ in 0..RUNS {
                noop.push(deploy(&inv));
            }
            for i in 1..=RUNS {
                let src = std::fs::read_to_string(&inv).unwrap();
                let from = format!(
                    "srv1s1:\n    host: srv1\n    settings: {{ message: m{} }}",
                    i - 1
                );
                let to = format!("srv1s1:\n    host: srv1\n    settings: {{ message: m{i} }}");
                assert!(src.contains(&from));
                std::fs::write(&inv, src.replace(&from, &to)).unwrap();
                one.push(deploy(&inv));
            }
        }
    }
    println!(
        "regie deploy, 2 hosts x 6 stacks x 3 files, health-check interval {}, {} cores",
        interval(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    report("cold deploy", cold);
    report("no-op re-run", noop);
    report("one-file change", one);
}

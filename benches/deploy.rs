//! Deploy benchmark on the test bed (run on demand: `cargo bench --bench deploy`).
//!
//! 2 hosts x 6 stacks x 3 files (compose file + 2 configs, one busybox httpd
//! container per stack). Measures, 5 runs each: cold deploy, no-op re-run,
//! and a one-file change (1 upload + 1 container recreated). Prints median
//! and min-max wall time of the `regie deploy` process.
//!
//! `REGIE_BENCH_INTERVAL` sets the stacks' health-check interval (default
//! `30s`, Docker's default: the gate must not wait for Docker's own first
//! verdict). `REGIE_BENCH_COMPOSE=v1` runs the hosts with compose v1 only
//! (default: v2, the plugin regie prefers).
//!
//! Also printed: the SSH commands regie ran per host (its JSON report's
//! `remote_commands`), and the floor: a bare `compose up -d` of one stack
//! and of six stacks at once, run by hand on the same machine.

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
    std::env::var("REGIE_BENCH_INTERVAL").unwrap_or_else(|_| "30s".into())
}

fn v1() -> bool {
    std::env::var("REGIE_BENCH_COMPOSE").is_ok_and(|v| v == "v1")
}

/// One whole `regie deploy` process: its wall time and the SSH commands it
/// ran on each host (srv1, srv2).
fn deploy(inv: &std::path::Path) -> (f64, Vec<u64>) {
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args([
            "--output",
            "json",
            "deploy",
            "--yes",
            "--accept-new-host-keys",
            "-i",
        ])
        .arg(inv)
        .output()
        .unwrap();
    let s = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    if std::env::var_os("REGIE_BENCH_VERBOSE").is_some() {
        eprint!("{}", String::from_utf8_lossy(&o.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut cmds: Vec<(String, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().to_string(),
                h["remote_commands"].as_u64().unwrap(),
            )
        })
        .collect();
    cmds.sort();
    (s, cmds.into_iter().map(|(_, n)| n).collect())
}

/// Time `compose up -d` of `n` copies of one rendered stack at once, run on
/// this machine without regie (fresh projects, removed afterwards): the
/// floor any deploy tool stands on.
fn bare_up(stack_dir: &std::path::Path, n: usize) -> f64 {
    let cli: Vec<&str> = if v1() {
        vec!["docker-compose"]
    } else {
        vec!["docker", "compose"]
    };
    let run = |args: &[&str], project: &str| {
        let mut c = Command::new(cli[0]);
        c.args(&cli[1..])
            .arg("-p")
            .arg(project)
            .arg("--project-directory")
            .arg(stack_dir)
            .arg("-f")
            .arg(stack_dir.join("docker-compose.yml"))
            .args(args);
        c
    };
    let t = Instant::now();
    let mut kids: Vec<_> = (0..n)
        .map(|i| {
            run(&["up", "-d"], &format!("regiebenchfloor{i}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for k in &mut kids {
        assert!(k.wait().unwrap().success(), "bare compose up failed");
    }
    let s = t.elapsed().as_secs_f64();
    for i in 0..n {
        run(&["down", "-t", "0"], &format!("regiebenchfloor{i}"))
            .output()
            .unwrap();
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
    let mut floor1 = Vec::new();
    let mut floor6 = Vec::new();
    let mut commands: Vec<(&str, Vec<u64>)> = Vec::new();
    for run in 0..RUNS {
        let tb = if v1() {
            TestBed::with_compose_v1(2)
        } else {
            TestBed::new(2)
        };
        let services = stacks(&tb);
        let inv = tb.inventory(&services, "");
        let (s, c) = deploy(&inv);
        cold.push(s);
        if run == 0 {
            commands.push(("cold deploy", c));
            // All runs below reuse this test bed.
            let stack_dir = tb.host("srv1").base.join("srv1s1");
            for _ in 0..RUNS {
                floor1.push(bare_up(&stack_dir, 1));
                floor6.push(bare_up(&stack_dir, 6));
            }
            for i in 0..RUNS {
                let (s, c) = deploy(&inv);
                noop.push(s);
                if i == 0 {
                    commands.push(("no-op re-run", c));
                }
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
                let (s, c) = deploy(&inv);
                one.push(s);
                if i == 1 {
                    commands.push(("one-file change", c));
                }
            }
        }
    }
    println!(
        "regie deploy, 2 hosts x 6 stacks x 3 files, health-check interval {}, compose {}, {} cores",
        interval(),
        if v1() { "v1" } else { "v2" },
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    report("cold deploy", cold);
    report("no-op re-run", noop);
    report("one-file change", one);
    report("floor: bare up, 1 stack", floor1);
    report("floor: bare up, 6 at once", floor6);
    for (what, c) in commands {
        println!(
            "SSH commands per host, {what:<16} srv1 {}  srv2 {}",
            c[0], c[1]
        );
    }
}

//! Image push benchmark on the test bed (run on demand:
//! `cargo bench --bench images_push`; needs root, as the test bed does).
//!
//! One test host whose Docker engine is its own (a second dockerd, empty at
//! the start), two ways of bringing it images over SSH:
//!
//! - regie's push (`images: push`): only the layers the engine lacks;
//! - `docker save IMAGE | ssh HOST docker load`: every layer every time.
//!
//! Each way gets a fresh engine and does, in order, a first push of
//! `regie-testhost:4` (Debian base layer + compose plugin layer, 900 MB)
//! and then an update to `regie-restic:3` (the same base layer, another
//! top layer). Prints the bytes sent over SSH and the wall time of each.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::engine::Engine;
use common::testbed::TestBed;
use regie::remote::ssh::{Conn, HostKeys, Options, Target};
use regie::site::files::ImagePush;

const FIRST: &str = "regie-testhost:4";
const UPDATE: &str = "regie-restic:3";

fn host() -> (Engine, TestBed) {
    let engine = Engine::start();
    let mut tb = TestBed::new(0);
    tb.start_host_on_engine("srv1", engine.socket());
    (engine, tb)
}

fn target(tb: &TestBed) -> Target {
    Target {
        name: "srv1".into(),
        address: "127.0.0.1".into(),
        port: tb.host("srv1").port,
        user: "root".into(),
        identity: Some(tb.key.clone()),
        sudo: false,
        jump: None,
    }
}

/// regie's push of `image`: (bytes sent, seconds).
fn regie_push(tb: &TestBed, image: &str) -> (u64, f64) {
    let keys = HostKeys {
        site_file: tb.dir.path().join("known_hosts"),
        user_file: None,
        accept_new: true,
    };
    let opts = Options {
        connect_timeout: Duration::from_secs(10),
        command_timeout: Duration::from_secs(600),
        inventory: "bench".into(),
    };
    let t0 = Instant::now();
    let conn = Conn::connect(&target(tb), &keys, &opts).expect("connect");
    let base = tb.host("srv1").base.to_string_lossy().into_owned();
    let done = regie::images::run::push(
        &conn,
        &base,
        &ImagePush {
            layout: None,
            extra: vec![],
        },
        &[image.to_string()],
        &|m| {
            // REGIE_BENCH_VERBOSE: when each phase starts.
            if std::env::var_os("REGIE_BENCH_VERBOSE").is_some() && !m.contains(" MB") {
                eprintln!("{:7.2}s {m}", t0.elapsed().as_secs_f64());
            }
        },
    )
    .expect("push");
    (done[0].bytes_sent, t0.elapsed().as_secs_f64())
}

/// `docker save | ssh | docker load`: (bytes sent, seconds).
fn save_ssh_load(tb: &TestBed, image: &str) -> (u64, f64) {
    let t0 = Instant::now();
    let count = tb.dir.path().join("bytes");
    let script = format!(
        "set -o pipefail; docker save {image} | tee >(wc -c > {count}) | ssh -q -i {key} -p {port} \
         -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1 docker load",
        count = count.display(),
        key = tb.key.display(),
        port = tb.host("srv1").port,
    );
    let st = Command::new("bash")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "docker save | ssh | docker load failed");
    let secs = t0.elapsed().as_secs_f64();
    // tee's writer may finish after the pipeline returns.
    std::thread::sleep(Duration::from_millis(200));
    let bytes = std::fs::read_to_string(&count)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (bytes, secs)
}

fn row(way: &str, what: &str, (bytes, secs): (u64, f64)) {
    println!(
        "{way:<26} {what:<40} {:>10.1} MB {secs:>8.1} s",
        bytes as f64 / 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("first push: {FIRST}; update: {UPDATE} (same base layer, one other layer)");
    {
        let (engine, tb) = host();
        row(
            "regie push",
            &format!("first push {FIRST}"),
            regie_push(&tb, FIRST),
        );
        row(
            "regie push",
            &format!("update to {UPDATE}"),
            regie_push(&tb, UPDATE),
        );
        drop(tb);
        drop(engine);
    }
    {
        let (engine, tb) = host();
        row(
            "docker save|ssh|load",
            &format!("first push {FIRST}"),
            save_ssh_load(&tb, FIRST),
        );
        row(
            "docker save|ssh|load",
            &format!("update to {UPDATE}"),
            save_ssh_load(&tb, UPDATE),
        );
        drop(tb);
        drop(engine);
    }
}

//! How one SSH connection behaves over time, against a real OpenSSH test
//! host: commands that stay silent longer than the keep-alive interval,
//! and commands asked for before, while and after the Docker API is
//! forwarded over the same session.

mod common;

use std::time::{Duration, Instant};

use common::testbed::TestBed;
use regie::remote::connect::{connect, RunOptions};

fn opts() -> RunOptions {
    RunOptions {
        accept_new_host_keys: true,
        ..Default::default()
    }
}

#[test]
fn a_command_silent_for_longer_than_the_keepalive_interval_completes() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("", "");
    let site = regie::site::inventory::load(&inv).unwrap();
    let conn = connect(&site, "srv1", &opts()).unwrap();
    let t0 = Instant::now();
    let out = conn.run("sleep 20; echo done", b"").unwrap();
    assert!(out.ok(), "{}", out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(t0.elapsed() >= Duration::from_secs(20));
}

#[test]
fn commands_before_and_after_the_docker_api_share_a_blocking_session() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("", "");
    let site = regie::site::inventory::load(&inv).unwrap();
    let conn = connect(&site, "srv1", &opts()).unwrap();
    assert_eq!(conn.run("echo one", b"").unwrap().stdout, b"one\n");
    for round in 0..3 {
        let api = regie::remote::docker_api::DockerApi::open(&conn).unwrap();
        // The label matches nothing: an empty list, read through the API.
        let label = format!("regie.site=none-{}", tb.site);
        assert!(api.containers(&label).unwrap().is_empty());
        // The forwarding thread drives the session: commands wait.
        let refused = conn.run("echo no", b"").unwrap_err().to_string();
        assert!(
            refused.contains("Docker API holds the session"),
            "{refused}"
        );
        assert!(regie::remote::docker_api::DockerApi::open(&conn).is_err());
        assert!(api.containers(&label).unwrap().is_empty());
        drop(api);
        assert!(
            conn.session().is_blocking(),
            "round {round}: the API left the session non-blocking"
        );
        // Silent past the next keep-alive (15 s) on the last round.
        let script = if round == 2 {
            "sleep 17; echo two"
        } else {
            "echo two"
        };
        let out = conn.run(script, b"").unwrap();
        assert_eq!(out.stdout, b"two\n", "round {round}");
    }
}

//! What lets a deploy go as fast as the host allows, on the test bed (real
//! OpenSSH, Docker and compose), proved by behaviour rather than timed:
//! - a host's changed stacks are brought up together and their health is
//!   waited for together: two stacks where one becomes healthy only once
//!   the other has started (one after the other, the first would wait for
//!   the second and fail its gate);
//! - the gate runs a container's own health check on demand: a stack whose
//!   check runs every 5 minutes is deployed while Docker still says
//!   `starting`.

mod common;

use common::regie;
use common::testbed::TestBed;

#[test]
fn stacks_of_a_host_come_up_together() {
    let tb = TestBed::new(1);
    // The inventory copies the test catalog into the test bed's directory.
    let inv = tb.inventory("  ping:\n    host: srv1\n  pong:\n    host: srv1\n", "");
    tb.add_stack_copy("ping");
    tb.add_stack_copy("pong");
    let cat = tb.dir.path().join("catalog/templates");
    let edit = |stack: &str, f: &dyn Fn(String) -> String| {
        let p = cat.join(format!("{stack}/docker-compose.yml.tera"));
        let before = std::fs::read_to_string(&p).unwrap();
        let after = f(before.clone());
        assert_ne!(before, after, "{stack}: the template edit matched nothing");
        std::fs::write(p, after).unwrap();
    };
    // Both mount a directory of the host beside their stacks.
    for s in ["ping", "pong"] {
        edit(s, &|t| {
            t.replace(
                "      - ./www:/www:ro\n",
                "      - ./www:/www:ro\n      - ../shared:/shared\n",
            )
        });
    }
    // pong marks itself started; ping is healthy only once pong has.
    edit("pong", &|t| {
        t.replace(
            r#"command: ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]"#,
            r#"command: ["/bin/sh", "-c", "echo up > /shared/pong-up && exec /bin/httpd -f -p 8080 -h /www"]"#,
        )
    });
    edit("ping", &|t| {
        t.replace(
            r#"test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]"#,
            r#"test: ["CMD", "test", "-e", "/shared/pong-up"]"#,
        )
        .replace("retries: 2", "retries: 30")
    });
    std::fs::create_dir_all(tb.host("srv1").base.join("shared")).unwrap();
    let o = regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for s in ["ping", "pong"] {
        tb.container_of(s, "app");
    }
    // Both were recorded as deployed and healthy: nothing left to do.
    regie().args(["plan", "-i"]).arg(&inv).assert().code(0);
}

#[test]
fn the_gate_runs_the_health_check_on_demand() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    let p = tb
        .dir
        .path()
        .join("catalog/templates/hello/docker-compose.yml.tera");
    let t = std::fs::read_to_string(&p).unwrap();
    // Docker's first verdict would come 5 minutes after start.
    let slow = t.replace("interval: 1s", "interval: 300s");
    assert_ne!(t, slow);
    std::fs::write(&p, slow).unwrap();
    regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .success();
    let id = tb.container_of("hello", "app");
    let o = common::testbed::docker(&["inspect", "-f", "{{.State.Health.Status}}", &id]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "starting",
        "the deploy passed its gate before Docker judged the container"
    );
    regie().args(["plan", "-i"]).arg(&inv).assert().code(0);
}

/// Commands a deploy ran on srv1 (`remote_commands` of its JSON report).
fn commands_on_srv1(inv: &std::path::Path) -> u64 {
    let o = regie()
        .args(["--output", "json", "deploy", "--yes", "-i"])
        .arg(inv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "srv1")
        .and_then(|h| h["remote_commands"].as_u64())
        .unwrap_or_else(|| panic!("no remote_commands for srv1: {v}"))
}

#[test]
fn remote_work_per_host_is_counted_and_minimal() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n  other:\n    host: srv1\n", "");
    tb.add_stack_copy("other");
    regie()
        .args(["hosts", "trust", "srv1", "-i"])
        .arg(&inv)
        .assert()
        .success();
    // Cold: probe, probe under the lock, one upload, one command bringing
    // both stacks up, the manifest, the unlock.
    assert_eq!(commands_on_srv1(&inv), 6);
    // Nothing to do: the probe alone.
    assert_eq!(commands_on_srv1(&inv), 1);
    // Both stacks changed: the same six, however many stacks.
    std::fs::write(
        &inv,
        std::fs::read_to_string(&inv).unwrap().replace(
            "host: srv1\n",
            "host: srv1\n    settings: { message: changed }\n",
        ),
    )
    .unwrap();
    assert_eq!(commands_on_srv1(&inv), 6);
    for s in ["hello", "other"] {
        assert_eq!(
            tb.exec_in((s, "app"), &["cat", "/www/index.html"]),
            "changed\n"
        );
    }
}

//! Deploy over SSH against the test bed: real OpenSSH servers and the real
//! Docker Engine and compose CLI.

mod common;

use common::regie;
use common::testbed::{ComposeCli, TestBed};
use predicates::prelude::*;

fn two_stacks() -> &'static str {
    "  hello:\n    host: srv1\n    settings: { message: first }\n"
}

#[test]
fn unknown_host_key_is_refused_then_trusted() {
    let tb = TestBed::new(1);
    let inv = tb.inventory(two_stacks(), "");
    regie()
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("host key of srv1")
                .and(predicate::str::contains("SHA256:"))
                .and(predicate::str::contains("regie hosts trust")),
        );
    assert!(
        tb.containers().is_empty(),
        "nothing may run before the key is trusted"
    );
    assert_eq!(
        std::fs::read_dir(&tb.host("srv1").base).unwrap().count(),
        0,
        "nothing written"
    );
    regie()
        .args(["hosts", "trust", "srv1", "-i"])
        .arg(&inv)
        .assert()
        .success()
        .stderr(predicate::str::contains("SHA256:"));
    regie().args(["plan", "-i"]).arg(&inv).assert().code(3);
}

#[test]
fn cold_deploy_noop_and_config_change() {
    deploy_round_trip(ComposeCli::V2);
}

/// The same round trip on hosts that have compose v1 only, supported
/// while regie supports `docker-compose` 1.27+.
#[test]
fn cold_deploy_noop_and_config_change_on_compose_v1() {
    deploy_round_trip(ComposeCli::V1Only);
}

fn deploy_round_trip(compose: ComposeCli) {
    let tb = match compose {
        ComposeCli::V2 => TestBed::new(2),
        ComposeCli::V1Only => TestBed::with_compose_v1(2),
    };
    let services = "  hello:\n    host: srv1\n    settings: { message: first }\n";
    let inv = tb.inventory(services, "");
    let run = |args: &[&str]| {
        let mut c = regie();
        c.args(args).arg("-i").arg(&inv);
        c
    };
    run(&["deploy", "--yes", "--accept-new-host-keys"])
        .assert()
        .success();
    let base = &tb.host("srv1").base;
    assert_eq!(
        std::fs::read_to_string(base.join("hello/www/index.html")).unwrap(),
        "first\n"
    );
    assert!(base.join(".regie/manifest.json").exists());
    assert_eq!(
        tb.exec_in(
            ("hello", "app"),
            &["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]
        ),
        "first\n"
    );
    tb.assert_made_by_expected_compose("hello", "app");
    // Nothing pending now; a second deploy changes nothing.
    run(&["plan"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("srv1: in sync"));
    let before = tb.containers();
    run(&["deploy", "--yes"]).assert().success();
    assert_eq!(
        tb.containers(),
        before,
        "no-op deploy must not recreate containers"
    );
    // Change only a config file: the running service must serve it.
    std::fs::write(
        &inv,
        std::fs::read_to_string(&inv)
            .unwrap()
            .replace("message: first", "message: second"),
    )
    .unwrap();
    run(&["plan"]).assert().code(3).stdout(
        predicate::str::contains("~ hello/www/index.html").and(predicate::str::contains("+second")),
    );
    run(&["deploy", "--yes"]).assert().success();
    assert_eq!(
        tb.exec_in(
            ("hello", "app"),
            &["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]
        ),
        "second\n"
    );
    tb.assert_made_by_expected_compose("hello", "app");
    // The journal on the host lists the two deploys that changed the stack.
    let o = run(&["history", "--output", "json"]).output().unwrap();
    assert!(o.status.success());
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changed = h
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entry"]["stacks_changed"] == serde_json::json!(["hello"]))
        .count();
    assert_eq!(changed, 2, "{h}");
}

#[test]
fn unreachable_host_does_not_stop_the_others() {
    let tb = TestBed::new(1);
    // srv9 points at a closed port.
    let extra =
        "  srv9:\n    role: server\n    address: 127.0.0.1\n    ssh: { user: root, port: 1 }\n";
    let inv = tb.inventory(
        "  hello:\n    host: srv1\n  other:\n    host: srv9\n",
        extra,
    );
    tb.add_stack_copy("other");
    let o = regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("srv1") && l.contains("ok")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("srv9") && l.contains("FAILED")),
        "{stdout}"
    );
    assert!(stderr.contains("cannot reach srv9"), "{stderr}");
    assert_eq!(
        tb.exec_in(("hello", "app"), &["cat", "/www/index.html"]),
        "hello\n"
    );
}

#[test]
fn changed_host_key_is_always_refused() {
    let mut tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    regie()
        .args(["hosts", "trust", "srv1", "-i"])
        .arg(&inv)
        .assert()
        .success();
    // The server is "reinstalled": same address and port, new host key.
    let port = tb.host("srv1").port;
    tb.kill("srv1");
    tb.start_host("srv1", Some(port));
    for extra in [&[][..], &["--accept-new-host-keys"][..]] {
        regie()
            .args(["deploy", "--yes", "-i"])
            .arg(&inv)
            .args(extra)
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains("HOST KEY OF srv1")
                    .and(predicate::str::contains("HAS CHANGED")),
            );
    }
    regie()
        .args(["hosts", "trust", "srv1", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("HAS CHANGED"));
    assert!(tb.containers().is_empty());
}

#[test]
fn a_held_lock_stops_a_second_deploy() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    let base = &tb.host("srv1").base;
    std::fs::create_dir_all(base.join(".regie/lock")).unwrap();
    std::fs::write(
        base.join(".regie/lock/info"),
        r#"{"holder":"alice@laptop","command":"regie deploy"}"#,
    )
    .unwrap();
    regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("locked by another run")
                .and(predicate::str::contains(
                    r#"{"holder":"alice@laptop","command":"regie deploy"}"#,
                ))
                // The lock info ends where it ends: no section marker glued.
                .and(predicate::str::contains("==regie:").not()),
        );
    assert!(
        !base.join("hello").exists(),
        "nothing uploaded under someone else's lock"
    );
    regie()
        .args(["lock", "status", "-i"])
        .arg(&inv)
        .assert()
        .success()
        .stdout(predicate::str::contains("srv1\tlocked\t"));
    regie()
        .args(["lock", "release", "srv1", "-i"])
        .arg(&inv)
        .assert()
        .success();
    regie()
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .success();
    assert!(
        !base.join(".regie/lock").exists(),
        "lock released after the deploy"
    );
}

#[test]
fn a_failing_health_check_is_reported_and_not_recorded() {
    let tb = TestBed::new(1);
    let inv = tb.inventory(
        "  hello:\n    host: srv1\n    settings: { healthy: false }\n",
        "",
    );
    let o = regie()
        .args([
            "deploy",
            "--yes",
            "--accept-new-host-keys",
            "--health-timeout",
            "30",
            "-i",
        ])
        .arg(&inv)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("hello: health check failed") || stderr.contains("hello: not healthy"),
        "{stderr}"
    );
    assert!(stderr.contains("--- "), "last log lines shown: {stderr}");
    let manifest =
        std::fs::read_to_string(tb.host("srv1").base.join(".regie/manifest.json")).unwrap();
    assert!(
        !manifest.contains("hello/docker-compose.yml"),
        "failed stack recorded as deployed"
    );
    // So the next plan still wants to bring it up.
    regie().args(["plan", "-i"]).arg(&inv).assert().code(3);
}

/// Take both compose CLIs (v1 and the v2 plugin) off srv1.
fn remove_compose(tb: &TestBed) {
    let o = common::testbed::docker(&[
        "exec",
        &tb.host("srv1").container,
        "rm",
        "-f",
        "/usr/bin/docker-compose",
        "/usr/libexec/docker/cli-plugins/docker-compose",
    ]);
    assert!(o.status.success());
}

#[test]
fn missing_compose_cli_is_named() {
    let tb = TestBed::new(1);
    remove_compose(&tb);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no compose CLI: install `docker-compose`",
        ));
    assert!(
        !tb.host("srv1").base.join(".regie/lock").exists(),
        "lock released on failure"
    );
}

#[test]
fn through_a_jump_host_as_a_sudo_user() {
    let tb = TestBed::new(2);
    // srv2 is reachable only on a private network, through srv1.
    let net = format!("{}-lan", tb.site);
    common::testbed::docker(&["network", "create", &net]);
    for h in ["srv1", "srv2"] {
        let o = common::testbed::docker(&["network", "connect", &net, &tb.host(h).container]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let inv = tb.inventory("  hello:\n    host: srv2\n", "");
    let srv2 = tb.host("srv2");
    let src = std::fs::read_to_string(&inv).unwrap().replace(
        &format!("  srv2:\n    role: server\n    address: 127.0.0.1\n    ssh: {{ user: root, port: {}, ", srv2.port),
        &format!("  srv2:\n    role: server\n    address: {}\n    ssh: {{ user: deploy, sudo: true, jump: srv1, ", srv2.container),
    );
    assert!(src.contains("jump: srv1"));
    std::fs::write(&inv, src).unwrap();
    regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .success();
    assert_eq!(
        tb.exec_in(("hello", "app"), &["cat", "/www/index.html"]),
        "hello\n"
    );
    // Files written through sudo are root's, with the rendered modes.
    let kh = std::fs::read_to_string(tb.dir.path().join("site.known_hosts")).unwrap();
    assert!(
        kh.contains(&srv2.container),
        "the inner host's key is recorded under its own name: {kh}"
    );
    regie().args(["plan", "-i"]).arg(&inv).assert().code(0);
}

#[test]
fn prune_removes_a_stack_that_left_the_inventory_but_keeps_its_data() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    tb.add_stack_copy("other");
    let both = tb.inventory("  hello:\n    host: srv1\n  other:\n    host: srv1\n", "");
    assert_eq!(inv, both);
    regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .success();
    let base = tb.host("srv1").base.clone();
    assert!(base.join("other/docker-compose.yml").exists());
    tb.inventory("  hello:\n    host: srv1\n", "");
    // Without --prune the stack stays, and the plan says so.
    regie()
        .args(["plan", "-i"])
        .arg(&inv)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("use --prune"));
    regie()
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .success();
    assert!(base.join("other/docker-compose.yml").exists());
    let o = regie()
        .args(["plan", "--output", "json", "--prune", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    eprintln!("PLAN {}", String::from_utf8_lossy(&o.stdout));
    eprintln!(
        "LS {:?}",
        std::fs::read_dir(base.join("other"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>()
    );
    regie()
        .args(["deploy", "--yes", "--prune", "-i"])
        .arg(&inv)
        .assert()
        .success();
    assert!(!base.join("other").exists());
    // Its directory (which may hold data such as DKIM keys) is set aside, not deleted.
    let pruned: Vec<_> = std::fs::read_dir(base.join(".regie/pruned"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        pruned.len() == 1 && pruned[0].starts_with("other."),
        "{pruned:?}"
    );
    let project = format!("{}-other", tb.site);
    let o = common::testbed::docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    assert!(o.stdout.is_empty(), "pruned stack's containers removed");
}

fn read_index(tb: &TestBed) -> String {
    std::fs::read_to_string(tb.host("srv1").base.join("hello/www/index.html")).unwrap()
}

#[test]
fn a_cut_upload_leaves_whole_files_and_the_next_deploy_converges() {
    use regie::deploy::plan::{parse_probe, plan_host, probe_script, upload};
    let tb = TestBed::new(1);
    let inv = tb.inventory(
        "  hello:\n    host: srv1\n    settings: { message: before }\n",
        "",
    );
    regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .success();
    std::fs::write(
        &inv,
        std::fs::read_to_string(&inv)
            .unwrap()
            .replace("message: before", "message: after"),
    )
    .unwrap();
    // Drive the same steps as `regie deploy`, but the upload stream stops
    // half way, as when the connection is cut.
    let site = regie::site::inventory::load(&inv).unwrap();
    let key =
        regie::site::secrets::find_key(Some(&tb.dir.path().join("age-identity.txt")), &[]).unwrap();
    let store =
        regie::site::secrets::Store::open(&regie::site::site_files::secrets_path(&site), &key)
            .unwrap();
    let renders = regie::deploy::plan::render_site(&site, store).0.unwrap();
    let want = &renders[0];
    let conn = regie::remote::connect::connect(&site, "srv1", &Default::default()).unwrap();
    let probe = conn
        .run(&probe_script(&want.manifest.base_dir, &tb.site, None), b"")
        .unwrap();
    let st = parse_probe(&String::from_utf8_lossy(&probe.stdout)).unwrap();
    let plan = plan_host(want, &st, &Default::default());
    // The page and the compose file (its config-hash label follows the page).
    assert_eq!(plan.files.len(), 2);
    let compose_before =
        std::fs::read(tb.host("srv1").base.join("hello/docker-compose.yml")).unwrap();
    let (script, tar) = upload(&plan, want);
    let out = conn.run(&script, &tar[..tar.len() / 3]).unwrap();
    assert!(!out.ok(), "a truncated upload must fail");
    assert_eq!(
        read_index(&tb),
        "before\n",
        "the old file is whole and in place"
    );
    assert_eq!(
        std::fs::read(tb.host("srv1").base.join("hello/docker-compose.yml")).unwrap(),
        compose_before
    );
    let leftovers: Vec<_> = std::fs::read_dir(tb.host("srv1").base.join(".regie"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().starts_with("stage.")),
        "{leftovers:?}"
    );
    drop(conn);
    regie()
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .success();
    assert_eq!(read_index(&tb), "after\n");
    assert_eq!(
        tb.exec_in(("hello", "app"), &["cat", "/www/index.html"]),
        "after\n"
    );
}

#[test]
fn a_full_disk_fails_clearly_and_keeps_the_previous_files() {
    let tb = TestBed::with_tmpfs(1, Some(256));
    let inv = tb.inventory(
        "  hello:\n    host: srv1\n    settings: { message: small }\n",
        "",
    );
    regie()
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .success();
    let big = "x".repeat(400 * 1024);
    std::fs::write(
        &inv,
        std::fs::read_to_string(&inv)
            .unwrap()
            .replace("message: small", &format!("message: {big}")),
    )
    .unwrap();
    regie()
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("upload failed, previous files left in place")
                .and(predicate::str::contains("No space left")),
        );
    assert_eq!(read_index(&tb), "small\n");
    assert_eq!(
        tb.exec_in(("hello", "app"), &["cat", "/www/index.html"]),
        "small\n"
    );
    let base = &tb.host("srv1").base;
    assert!(!base.join(".regie/lock").exists(), "lock released");
    assert!(std::fs::read_dir(base.join(".regie")).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("stage.")));
    // Back to a size that fits: the next deploy converges.
    std::fs::write(
        &inv,
        std::fs::read_to_string(&inv).unwrap().replace(&big, "fits"),
    )
    .unwrap();
    regie()
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .success();
    assert_eq!(read_index(&tb), "fits\n");
}

#[test]
fn ssh_config_fills_in_what_the_inventory_does_not_say() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    let h = tb.host("srv1");
    // The inventory names only an alias; ~/.ssh/config knows the rest.
    let src = std::fs::read_to_string(&inv).unwrap().replace(
        &format!(
            "    address: 127.0.0.1\n    ssh: {{ user: root, port: {}, identity: {} }}\n",
            h.port,
            tb.key.display()
        ),
        "    address: office-server\n",
    );
    assert!(src.contains("address: office-server"));
    std::fs::write(&inv, src).unwrap();
    let conf = tb.dir.path().join("ssh_config");
    std::fs::write(
        &conf,
        format!(
            "Host office-*\n    HostName 127.0.0.1\n    Port {}\n    User root\n    IdentityFile {}\nHost *\n    User nobody\n",
            h.port,
            tb.key.display()
        ),
    )
    .unwrap();
    regie()
        .env("REGIE_SSH_CONFIG", &conf)
        .args(["deploy", "--yes", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .assert()
        .success();
    assert_eq!(
        tb.exec_in(("hello", "app"), &["cat", "/www/index.html"]),
        "hello\n"
    );
    // Without it, the alias does not resolve: a clear failure, not a hang.
    regie()
        .env("REGIE_SSH_CONFIG", "/nonexistent")
        .args(["plan", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("cannot reach srv1"));
}

#[test]
fn bootstrap_reports_what_a_host_has_and_lacks() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    let o = regie()
        .args(["bootstrap", "srv1", "--accept-new-host-keys", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("operating system") && out.contains("Debian GNU/Linux 12"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok   docker ") && l.contains("Docker Engine")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok   compose ") && l.contains("v2 2.26")),
        "{out}"
    );
    // The inventory sets no `arch`: the real one is read and reported.
    assert!(
        out.lines().any(|l| l.starts_with("WARN architecture")
            && l.contains("the inventory sets none: add `arch: ")),
        "{out}"
    );
    // Without compose the host is not ready, and --install names the package.
    remove_compose(&tb);
    let o = regie()
        .args(["bootstrap", "srv1", "-i"])
        .arg(&inv)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL compose")
            && out.contains("--install would run: apt-get install docker-compose"),
        "{out}"
    );
}

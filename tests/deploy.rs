//! Deploy over SSH against the test bed: real OpenSSH servers and the real
//! Docker Engine and compose CLI.

mod common;

use common::regie;
use common::testbed::TestBed;
use predicates::prelude::*;

fn two_stacks() -> &'static str {
    "  hello:\n    host: srv1\n    settings: { message: first }\n"
}

#[test]
fn unknown_host_key_is_refused_then_trusted() {
    let tb = TestBed::new(1);
    let inv = tb.inventory(two_stacks(), "");
    regie()
        .env("REGIE_PASSPHRASE", "tb")
        .args(["deploy", "--yes", "-i"])
        .arg(&inv)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("host key of srv1").and(predicate::str::contains("SHA256:")).and(predicate::str::contains("regie hosts trust")));
    assert!(tb.containers().is_empty(), "nothing may run before the key is trusted");
    assert_eq!(std::fs::read_dir(&tb.host("srv1").base).unwrap().count(), 0, "nothing written");
    regie().args(["hosts", "trust", "srv1", "-i"]).arg(&inv).assert().success().stderr(predicate::str::contains("SHA256:"));
    regie().env("REGIE_PASSPHRASE", "tb").args(["plan", "-i"]).arg(&inv).assert().code(3);
}

#[test]
fn cold_deploy_noop_and_config_change() {
    let tb = TestBed::new(2);
    let services = "  hello:\n    host: srv1\n    settings: { message: first }\n";
    let inv = tb.inventory(services, "");
    let run = |args: &[&str]| {
        let mut c = regie();
        c.env("REGIE_PASSPHRASE", "tb").args(args).arg("-i").arg(&inv);
        c
    };
    run(&["deploy", "--yes", "--accept-new-host-keys"]).assert().success();
    let base = &tb.host("srv1").base;
    assert_eq!(std::fs::read_to_string(base.join("hello/www/index.html")).unwrap(), "first\n");
    assert!(base.join(".regie/manifest.json").exists());
    assert_eq!(tb.exec_in(("hello", "app"), &["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]), "first\n");
    // Nothing pending now; a second deploy changes nothing.
    run(&["plan"]).assert().code(0).stdout(predicate::str::contains("srv1: in sync"));
    let before = tb.containers();
    run(&["deploy", "--yes"]).assert().success();
    assert_eq!(tb.containers(), before, "no-op deploy must not recreate containers");
    // Change only a config file: the running service must serve it.
    std::fs::write(&inv, std::fs::read_to_string(&inv).unwrap().replace("message: first", "message: second")).unwrap();
    run(&["plan"]).assert().code(3).stdout(predicate::str::contains("~ hello/www/index.html").and(predicate::str::contains("+second")));
    run(&["deploy", "--yes"]).assert().success();
    assert_eq!(tb.exec_in(("hello", "app"), &["wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]), "second\n");
}

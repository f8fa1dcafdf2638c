//! `regie maintain` against the test bed: a real registry with a newer
//! version whose update fails, real hosts, NAS and restic; the failure
//! report reaches an SMTP server and an HTTP webhook sink started by the
//! test on loopback.

mod common;

use std::time::Duration;

use common::regie;
use common::registry::Registry;
use common::sinks::{http_sink, smtp_server, unqp};
use common::testbed::TestBed;

const BACKUP: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 5, daily: 7, weekly: 0, monthly: 0 } }\n";

#[test]
fn maintain_updates_in_the_window_drills_reports_and_notifies() {
    let reg = Registry::start();
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    let (smtp_port, mails) = smtp_server();
    let (http_port, hooks) = http_sink("200 OK", "ok");
    let services = format!(
        "  upd:\n    host: srv1\n    version: \"1.0.0\"\n    settings: {{ registry: \"{}\" }}\n",
        reg.addr
    );
    // A window three days away: closed now; --now opens it.
    let far = common::weekday_in(3);
    let extra = format!(
        "{BACKUP}maintenance: {{ window: \"{far} 03:00-04:00\", drill_days: 30 }}\n\
         notify:\n  email: [astreinte@test.example]\n  smtp: {{ host: 127.0.0.1, port: {smtp_port}, from: regie@test.example, security: none }}\n  webhook: \"http://127.0.0.1:{http_port}/hooks/secret-token\"\n"
    );
    let inv = tb.inventory_with_backup(&services, &tb.nas_yaml(), &extra);
    let state = tb.dir.path().join("state");
    let regie = || {
        let mut c = regie();
        c.env("REGIE_STATE_DIR", &state);
        c
    };
    let cmd = |args: &[&str]| {
        let mut c = regie();
        c.args(args).arg("-i").arg(&inv);
        c
    };
    for h in ["srv1", "nas"] {
        cmd(&["hosts", "trust", h]).assert().success();
    }
    cmd(&["deploy", "--yes"]).assert().success();
    cmd(&["backup", "init"]).assert().success();
    cmd(&["backup", "run"]).assert().success();
    let id = tb.container_of("upd", "app");
    let o = common::testbed::docker(&["exec", &id, "sh", "-c", "echo kept > /data/keep.txt"]);
    assert!(o.status.success());

    // Window closed: the allowed update waits for the window; that is no
    // news, so nothing is notified.
    let report = tb.dir.path().join("reports");
    let maintain_json = || {
        let o = regie()
            .args(["maintain", "--no-drills", "--output", "json", "-i"])
            .arg(&inv)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (o.status.code(), v[0].clone())
    };
    let (code, r) = maintain_json();
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["window_open"], false);
    assert!(r["updates"].as_array().unwrap().is_empty());
    assert!(
        r["notes"]
            .to_string()
            .contains("1.3.0 available, applied in the next window"),
        "{r}"
    );
    assert!(r["problems"].as_array().unwrap().is_empty(), "{r}");
    assert!(r["attention"].as_array().unwrap().is_empty(), "{r}");
    assert!(r["notified"].as_array().unwrap().is_empty(), "{r}");
    // The run kept a reading of the site for the reports.
    let hist = state.join("history").join(&tb.site);
    let kept = std::fs::read_dir(&hist).map(|d| d.count()).unwrap_or(0);
    assert_eq!(kept, 1, "one month file under {}", hist.display());
    // With auto_update off, the update needs a person: notified.
    let set = |from: &str, to: &str| {
        let y = std::fs::read_to_string(&inv).unwrap();
        assert!(y.contains(from), "{y}");
        std::fs::write(&inv, y.replace(from, to)).unwrap();
    };
    set("drill_days: 30 }", "drill_days: 30, auto_update: false }");
    let (code, r) = maintain_json();
    assert_eq!(code, Some(3), "{r}");
    assert!(
        r["attention"]
            .to_string()
            .contains("1.3.0 available, not applied (maintenance.auto_update is off)"),
        "{r}"
    );
    let first = mails.recv_timeout(Duration::from_secs(30)).expect("a mail");
    let body = unqp(first.data.split_once("\r\n\r\n").unwrap().1);
    assert!(body.contains("Needs a decision"), "{body}");
    hooks
        .recv_timeout(Duration::from_secs(30))
        .expect("a webhook call");
    // The same findings again soon after: not notified a second time.
    let (code, r) = maintain_json();
    assert_eq!(code, Some(3), "{r}");
    assert!(r["notified"].as_array().unwrap().is_empty(), "{r}");
    assert!(r["notify_skipped"]
        .as_str()
        .unwrap()
        .contains("same findings"));
    set("drill_days: 30, auto_update: false }", "drill_days: 30 }");

    // With --now: the allowed update (1.3.0) fails and is rolled back with
    // the data restored; the due drill runs; a second, missing site is
    // reported without stopping the first.
    let (smtp_port2, mails2) = smtp_server();
    let (http_port2, hooks2) = http_sink("200 OK", "ok");
    let y = std::fs::read_to_string(&inv)
        .unwrap()
        .replace(
            &format!("port: {smtp_port},"),
            &format!("port: {smtp_port2},"),
        )
        .replace(
            &format!("127.0.0.1:{http_port}/"),
            &format!("127.0.0.1:{http_port2}/"),
        );
    std::fs::write(&inv, y).unwrap();
    let missing = tb.dir.path().join("absent.yml");
    let o = regie()
        .args(["maintain", "--now", "--report"])
        .arg(&report)
        .arg("-i")
        .arg(&inv)
        .arg("-i")
        .arg(&missing)
        .timeout(Duration::from_secs(900))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("absent.yml"), "{stderr}");
    assert!(stdout.contains("status: PROBLEMS"), "{stdout}");
    assert!(
        stdout
            .contains("upd: 1.0.0 → 1.3.0 rolled-back (data restored from the pre-update backup)"),
        "{stdout}"
    );
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report.join(format!("{}.json", tb.site))).unwrap(),
    )
    .unwrap();
    assert_eq!(r["window_open"], true);
    assert_eq!(r["updates"][0]["outcome"], "rolled-back");
    assert_eq!(r["updates"][0]["data_restored"], true);
    assert_eq!(r["drills"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["drills"][0]["ok"], true, "{r}");
    // Retention had never run from regie's side (append-only NAS): due,
    // applied on the NAS inside the window.
    assert_eq!(r["retention"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["retention"][0]["ok"], true, "{r}");
    assert_eq!(r["retention"][0]["host"], "srv1", "{r}");
    let text = std::fs::read_to_string(report.join(format!("{}.txt", tb.site))).unwrap();
    assert!(text.contains("Restore drills:\n  srv1: ok"), "{text}");
    // The data is as before, the version unchanged.
    let id = tb.container_of("upd", "app");
    let o = common::testbed::docker(&["exec", &id, "cat", "/data/keep.txt"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "kept\n");
    assert!(std::fs::read_to_string(&inv)
        .unwrap()
        .contains("version: \"1.0.0\""));

    // The failure report reached both channels.
    let mail = mails2
        .recv_timeout(Duration::from_secs(30))
        .expect("a mail");
    assert_eq!(mail.to, vec!["astreinte@test.example".to_string()]);
    let body = unqp(mail.data.split_once("\r\n\r\n").unwrap().1);
    assert!(body.contains("status: PROBLEMS"), "{body}");
    assert!(mail.data.contains("Subject:"), "{}", mail.data);
    assert!(body.contains("rolled-back"), "{body}");
    let hook = hooks2
        .recv_timeout(Duration::from_secs(30))
        .expect("a webhook call");
    let j: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert!(j["text"].as_str().unwrap().contains("rolled-back"), "{j}");
    assert_eq!(j["regie"]["updates"][0]["outcome"], "rolled-back");
    // The webhook's token is never printed.
    assert!(!stdout.contains("secret-token") && !stderr.contains("secret-token"));
}

//! `regie notify test` with the real binary against a tiny SMTP server and an
//! HTTP sink, both threads of this test on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::sinks::*;
use common::*;
use predicates::prelude::*;

const PASSWORD: &str = "Sm7p-pa55word-n0t-printed";
const TOKEN: &str = "hook9secret9token";

/// A site in `dir` with the given `notify:` section, an age identity
/// (`dir/id.txt`, not named in the inventory) and, if `password`, a secrets
/// file holding the SMTP password.
fn site(dir: &Path, notify: &str, password: Option<&str>) -> (PathBuf, PathBuf) {
    let id = dir.join("id.txt");
    regie()
        .args(["secrets", "keygen"])
        .arg(&id)
        .assert()
        .success();
    let inv = dir.join("site.yml");
    std::fs::write(
        &inv,
        format!(
            "site:\n  name: demo\n  display_name: Démo\n  domain: demo.fr\n  contact: admin@demo.fr\n  locale: fr\nhosts: {{}}\n{notify}"
        ),
    )
    .unwrap();
    if let Some(pw) = password {
        let key = regie::site::secrets::Key::Identity {
            identity: regie::site::secrets::read_identity(&id).unwrap(),
            extra: vec![],
        };
        let mut store =
            regie::site::secrets::Store::open(&dir.join("site.secrets.age"), &key).unwrap();
        store.derived("notify.smtp_password", || pw.to_string());
        store.save(&key).unwrap();
    }
    (inv, id)
}

fn notify_test(inv: &Path, id: &Path, json: bool) -> std::process::Output {
    let mut c = regie();
    c.timeout(Duration::from_secs(60))
        .args(["notify", "test", "-i"]);
    c.arg(inv).arg("--identity").arg(id);
    if json {
        c.args(["--output", "json"]);
    }
    c.output().unwrap()
}

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn test_message_reaches_email_and_webhook() {
    let tmp = tempfile::tempdir().unwrap();
    let (smtp_port, mails) = smtp_server();
    let (http_port, requests) = http_sink("200 OK", "ok");
    let hook = format!("http://127.0.0.1:{http_port}/hooks/{TOKEN}?channel=alertes-x");
    let (inv, id) = site(
        tmp.path(),
        &format!(
            "notify:\n  email: [ops@demo.fr, astreinte@infogerance.example]\n  webhook: {hook}\n  \
             smtp: {{ host: 127.0.0.1, port: {smtp_port}, from: regie@demo.fr, security: none, user: regie }}\n"
        ),
        Some(PASSWORD),
    );
    let o = notify_test(&inv, &id, false);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(
        out,
        format!(
            "email\tops@demo.fr, astreinte@infogerance.example\tok\n\
             webhook\thttp://127.0.0.1:{http_port}/…\tok\n"
        )
    );
    for secret in [PASSWORD, TOKEN, "alertes-x"] {
        assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
    }

    let mail = mails.recv_timeout(WAIT).expect("no mail received");
    assert_eq!(
        mail.auth.as_deref(),
        Some(format!("\0regie\0{PASSWORD}").as_str())
    );
    assert_eq!(mail.from, "regie@demo.fr");
    assert_eq!(mail.to, ["ops@demo.fr", "astreinte@infogerance.example"]);
    let (headers, body) = mail.data.split_once("\r\n\r\n").unwrap();
    assert_eq!(
        header(headers, "Subject"),
        "[regie] Test de notification — Démo"
    );
    assert!(header(headers, "To").contains("astreinte@infogerance.example"));
    assert!(
        headers.contains("Content-Type: text/plain; charset=utf-8"),
        "{headers}"
    );
    let body = unqp(body);
    assert!(
        body.contains("Message de test de regie pour Démo (demo)"),
        "{body}"
    );
    assert!(body.contains("(échecs, actions à faire)"), "{body}");

    let req = requests.recv_timeout(WAIT).expect("no webhook request");
    assert_eq!(
        req.line,
        format!("POST /hooks/{TOKEN}?channel=alertes-x HTTP/1.1")
    );
    assert!(req
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v.starts_with("application/json")));
    let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Message de test de regie pour Démo (demo)"),
        "{v}"
    );
    assert_eq!(v["username"], "regie");
    assert_eq!(v["regie"]["kind"], "test");
    assert_eq!(v["regie"]["site"], "demo");
}

#[test]
fn json_output_lists_the_deliveries() {
    let tmp = tempfile::tempdir().unwrap();
    let (http_port, requests) = http_sink("204 No Content", "");
    let (inv, id) = site(
        tmp.path(),
        &format!("notify:\n  webhook: http://127.0.0.1:{http_port}/hooks/{TOKEN}\n"),
        None,
    );
    let o = notify_test(&inv, &id, true);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{
            "channel": "webhook",
            "target": format!("http://127.0.0.1:{http_port}/…"),
            "ok": true,
            "error": null,
        }])
    );
    requests.recv_timeout(WAIT).expect("no webhook request");
}

#[test]
fn a_failing_webhook_is_reported_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let (smtp_port, mails) = smtp_server();
    let (http_port, requests) = http_sink("500 Internal Server Error", "boom: database is down");
    let (inv, id) = site(
        tmp.path(),
        &format!(
            "notify:\n  email: [ops@demo.fr]\n  webhook: http://127.0.0.1:{http_port}/hooks/{TOKEN}\n  \
             smtp: {{ host: localhost, port: {smtp_port}, from: regie@demo.fr, security: none }}\n"
        ),
        None,
    );
    let o = notify_test(&inv, &id, false);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("email\tops@demo.fr\tok\n"), "{out}");
    assert!(
        out.contains(&format!(
            "webhook\thttp://127.0.0.1:{http_port}/…\tFAILED\tHTTP 500 Internal Server Error: boom: database is down\n"
        )),
        "{out}"
    );
    assert!(err.contains("1 of 2 channel(s) failed"), "{err}");
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN));
    // No SMTP authentication without `user`.
    assert_eq!(mails.recv_timeout(WAIT).unwrap().auth, None);
    requests.recv_timeout(WAIT).unwrap();
}

#[test]
fn an_unreachable_mail_server_is_a_clear_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let port = closed_port();
    let (inv, id) = site(
        tmp.path(),
        &format!(
            "notify:\n  email: [ops@demo.fr]\n  \
             smtp: {{ host: 127.0.0.1, port: {port}, from: regie@demo.fr, security: none, user: regie }}\n"
        ),
        Some(PASSWORD),
    );
    let o = notify_test(&inv, &id, false);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    let prefix =
        format!("email\tops@demo.fr\tFAILED\tcannot send through 127.0.0.1:{port} (none): ");
    assert!(out.starts_with(&prefix), "{out}");
    assert!(out.to_lowercase().contains("refused"), "{out}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
}

#[test]
fn a_missing_smtp_password_fails_the_email_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (http_port, requests) = http_sink("200 OK", "ok");
    let (inv, id) = site(
        tmp.path(),
        &format!(
            "notify:\n  email: [ops@demo.fr]\n  webhook: http://127.0.0.1:{http_port}/h\n  \
             smtp: {{ host: 127.0.0.1, port: {}, from: regie@demo.fr, security: none, user: regie }}\n",
            closed_port()
        ),
        None,
    );
    let o = notify_test(&inv, &id, false);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("email\tops@demo.fr\tFAILED\tno secret `notify.smtp_password` in "),
        "{out}"
    );
    assert!(
        out.contains(&format!("webhook\thttp://127.0.0.1:{http_port}/…\tok")),
        "{out}"
    );
    requests.recv_timeout(WAIT).unwrap();
}

#[test]
fn a_site_without_channels_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (inv, id) = site(tmp.path(), "", None);
    let o = notify_test(&inv, &id, false);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("has no notification channel; expected `notify.email` (with `notify.smtp`) or `notify.webhook`"),
        "{err}"
    );
}

#[test]
fn plain_smtp_to_a_remote_server_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let (inv, _) = site(
        tmp.path(),
        "notify:\n  email: [ops@demo.fr]\n  smtp: { host: smtp.demo.fr, from: regie@demo.fr, security: none }\n",
        None,
    );
    regie()
        .args(["validate", "-i"])
        .arg(&inv)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "notify.smtp.security: reports are sent unencrypted to `smtp.demo.fr`",
        ));
    // Loopback: no warning.
    std::fs::write(
        &inv,
        std::fs::read_to_string(&inv)
            .unwrap()
            .replace("smtp.demo.fr", "127.0.0.1"),
    )
    .unwrap();
    regie()
        .args(["validate", "-i"])
        .arg(&inv)
        .assert()
        .success()
        .stderr(predicate::str::contains("warning:").not());
}

#[test]
fn the_smtp_password_is_set_from_standard_input() {
    let tmp = tempfile::tempdir().unwrap();
    let (smtp_port, mails) = smtp_server();
    let (inv, id) = site(
        tmp.path(),
        &format!(
            "notify:\n  email: [ops@demo.fr]\n  \
             smtp: {{ host: 127.0.0.1, port: {smtp_port}, from: regie@demo.fr, security: none, user: regie }}\n"
        ),
        None,
    );
    let set = |name: &str, stdin: &str| {
        let mut c = regie();
        c.args(["secrets", "set", name, "-i"])
            .arg(&inv)
            .arg("--identity")
            .arg(&id)
            .write_stdin(stdin.to_string());
        c.assert()
    };
    // Generated secrets are held by the services: never set by hand.
    set("files.db_password", "x\n")
        .code(1)
        .stderr(predicate::str::contains("cannot be set by hand"));
    set("notify.smtp_password", "\n")
        .code(1)
        .stderr(predicate::str::contains("empty value"));
    set("notify.smtp_password", &format!("{PASSWORD}\n"))
        .success()
        .stdout("")
        .stderr(predicate::str::contains(PASSWORD).not());
    let o = notify_test(&inv, &id, false);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let mail = mails.recv_timeout(WAIT).expect("no mail received");
    assert_eq!(
        mail.auth.as_deref(),
        Some(format!("\0regie\0{PASSWORD}").as_str())
    );
}

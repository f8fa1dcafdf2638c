//! `regie notify test` with the real binary against a tiny SMTP server and an
//! HTTP sink, both threads of this test on 127.0.0.1.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use base64::Engine;
use common::*;
use predicates::prelude::*;

const PASSWORD: &str = "Sm7p-pa55word-n0t-printed";
const TOKEN: &str = "hook9secret9token";
const WAIT: Duration = Duration::from_secs(15);

/// What the SMTP server received on one connection.
#[derive(Debug, Default)]
struct Mail {
    helo: String,
    auth: Option<String>,
    from: String,
    to: Vec<String>,
    data: String,
}

/// An SMTP server for one connection: EHLO/HELO, AUTH PLAIN, MAIL FROM,
/// RCPT TO, DATA, RSET, NOOP, QUIT. Sends what it got on the channel.
fn smtp_server() -> (u16, Receiver<Mail>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        let mut mail = Mail::default();
        let mut say = |s: &str| w.write_all(s.as_bytes()).is_ok();
        say("220 test.local ESMTP ready\r\n");
        for _ in 0..100 {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let line = line.trim_end().to_string();
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                mail.helo = line[4..].trim().to_string();
                say("250-test.local\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n");
            } else if upper.starts_with("HELO") {
                mail.helo = line[4..].trim().to_string();
                say("250 test.local\r\n");
            } else if upper.starts_with("AUTH PLAIN ") {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(line[11..].trim())
                    .unwrap_or_default();
                mail.auth = Some(String::from_utf8_lossy(&raw).into_owned());
                say("235 2.7.0 authenticated\r\n");
            } else if upper.starts_with("MAIL FROM:") {
                mail.from = angle(&line);
                say("250 2.1.0 ok\r\n");
            } else if upper.starts_with("RCPT TO:") {
                mail.to.push(angle(&line));
                say("250 2.1.5 ok\r\n");
            } else if upper == "DATA" {
                say("354 end with .\r\n");
                for _ in 0..10_000 {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                        break;
                    }
                    let l = l.strip_prefix('.').unwrap_or(&l);
                    mail.data.push_str(l);
                }
                say("250 2.0.0 queued\r\n");
            } else if upper == "QUIT" {
                say("221 bye\r\n");
                break;
            } else if upper == "RSET" || upper == "NOOP" {
                say("250 ok\r\n");
            } else {
                say("502 not implemented\r\n");
            }
        }
        let _ = tx.send(mail);
    });
    (port, rx)
}

fn angle(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_string()
}

/// A request received by the HTTP sink.
#[derive(Debug)]
struct Request {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// An HTTP server for one request, answering `status` with `answer`.
fn http_sink(status: &'static str, answer: &'static str) -> (u16, Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut r = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let mut headers = Vec::new();
        for _ in 0..100 {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.trim_end().split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len.min(1 << 20)];
        r.read_exact(&mut body).unwrap();
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
        let _ = stream.flush();
        let _ = tx.send(Request {
            line: line.trim_end().to_string(),
            headers,
            body,
        });
    });
    (port, rx)
}

/// A port where nothing listens.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

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
        let key = regie::secrets::Key::Identity {
            identity: regie::secrets::read_identity(&id).unwrap(),
            extra: vec![],
        };
        let mut store = regie::secrets::Store::open(&dir.join("site.secrets.age"), &key).unwrap();
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

/// Decode quoted-printable text.
fn unqp(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && b[i + 1..].starts_with(b"\r\n") {
            i += 3;
        } else if b[i] == b'=' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The decoded value of header `name` (folded lines, RFC 2047 words).
fn header(headers: &str, name: &str) -> String {
    let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
    let value = unfolded
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header in\n{headers}"));
    // Whitespace between two encoded words is dropped, kept elsewhere.
    let mut out = String::new();
    let mut prev_encoded = false;
    for word in value.split(' ') {
        let lower = word.to_ascii_lowercase();
        let inner = word.get(10..).and_then(|w| w.strip_suffix("?="));
        let decoded = match inner {
            Some(b64) if lower.starts_with("=?utf-8?b?") => Some(
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .unwrap(),
                )
                .unwrap(),
            ),
            Some(q) if lower.starts_with("=?utf-8?q?") => Some(unqp(&q.replace('_', " "))),
            _ => None,
        };
        let between_encoded = prev_encoded && decoded.is_some();
        if !out.is_empty() && !between_encoded {
            out.push(' ');
        }
        prev_encoded = decoded.is_some();
        out.push_str(&decoded.unwrap_or_else(|| word.to_string()));
    }
    out
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

//! `regie check dns` against a real DNS server: each test starts dnsmasq
//! on 127.0.0.1 with the zone it needs (Debian package `dnsmasq-base`).
//! No other DNS server is ever asked.

use std::io::Read;
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command as Regie;

const DOMAIN: &str = "durand.example";

/// A dnsmasq answering only for the test zones; killed on drop.
struct Dnsmasq {
    child: Child,
    port: u16,
}

impl Dnsmasq {
    fn start(records: &[&str]) -> Dnsmasq {
        // The free port may be taken between probe and bind: try again.
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = spawn_dnsmasq(port, records);
            match wait_listening(&mut child, port) {
                Ok(()) => return Dnsmasq { child, port },
                Err(e) => last = e,
            }
        }
        panic!("dnsmasq did not start: {last}");
    }

    fn resolver(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_dnsmasq(port: u16, records: &[&str]) -> Child {
    for bin in ["dnsmasq", "/usr/sbin/dnsmasq"] {
        let spawned = Command::new(bin)
            .args([
                "--no-daemon",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                &format!("--port={port}"),
                "--conf-file=/dev/null",
                // Answer NXDOMAIN / no data for unknown names in the test
                // zones instead of REFUSED (there is no upstream server).
                &format!("--local=/{DOMAIN}/"),
                "--local=/113.0.203.in-addr.arpa/",
            ])
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Ok(child) => return child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("cannot run dnsmasq: {e}"),
        }
    }
    panic!("dnsmasq is not installed: these tests need it (apt-get install dnsmasq-base)");
}

/// dnsmasq listens on TCP as on UDP: ready once TCP connects.
fn wait_listening(child: &mut Child, port: u16) -> Result<(), String> {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(format!("dnsmasq exited ({status}): {err}"));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    Err(format!("dnsmasq does not listen on port {port}"))
}

/// A site with its mail service on srv1 (203.0.113.10).
fn inventory(dir: &Path, services: &str) -> PathBuf {
    let p = dir.join("durand.yml");
    std::fs::write(
        &p,
        format!(
            "site:
  name: durand
  domain: {DOMAIN}
  contact: contact@{DOMAIN}
hosts:
  srv1:
    role: server
    address: 203.0.113.10
    public: true
services:
{services}"
        ),
    )
    .unwrap();
    p
}

const MAIL: &str =
    "  mail:\n    host: srv1\n    settings: { accounts: [{ address: jean@durand.example }] }\n";

fn check_dns(inv: &Path, resolver: &str, json: bool) -> (i32, String, String) {
    let mut c = Regie::cargo_bin("regie").unwrap();
    c.env("NO_COLOR", "1")
        .args(["check", "dns", "-i"])
        .arg(inv)
        .args(["--resolver", resolver]);
    if json {
        c.args(["--output", "json"]);
    }
    let out = c.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Lines with their runs of spaces collapsed (the snippet aligns columns).
fn squeezed(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn a_good_zone_is_ok() {
    let dns = Dnsmasq::start(&[
        "--mx-host=durand.example,mail.durand.example,10",
        "--host-record=mail.durand.example,203.0.113.10",
        "--txt-record=durand.example,v=spf1 mx ~all",
        "--txt-record=durand.example,google-site-verification=abc",
        "--txt-record=mail._domainkey.durand.example,v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
        "--txt-record=_dmarc.durand.example,v=DMARC1; p=quarantine; rua=mailto:postmaster@durand.example",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), MAIL);
    let (code, out, err) = check_dns(&inv, &dns.resolver(), false);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let lines = squeezed(&out);
    assert!(
        lines[0].starts_with("DNS OK - mail.durand.example: 7 records"),
        "{out}"
    );
    for l in [
        "OK MX durand.example: 10 mail.durand.example.",
        "OK A mail.durand.example: 203.0.113.10",
        "OK AAAA mail.durand.example: none, as the host has no IPv6 address in the inventory",
        "OK SPF durand.example: authorizes 203.0.113.10 (`mx`)",
        "OK DKIM mail._domainkey.durand.example: key published (k=rsa)",
        "OK DMARC _dmarc.durand.example: p=quarantine",
        "OK PTR 203.0.113.10: mail.durand.example. (resolves back to 203.0.113.10)",
    ] {
        assert!(lines.iter().any(|x| x == l), "`{l}` missing:\n{out}");
    }
    assert!(!out.contains("; records to create"), "{out}");

    let (code, out, _) = check_dns(&inv, &dns.resolver(), true);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "OK");
    assert_eq!(v["resolver"], dns.resolver());
    assert_eq!(v["findings"].as_array().unwrap().len(), 7);
    assert_eq!(v["snippet"], "");
}

#[test]
fn a_bad_zone_is_critical_with_the_records_to_create() {
    let dns = Dnsmasq::start(&[
        "--mx-host=durand.example,mx.provider.example,10",
        // The first name of an address gets its PTR: the provider's.
        "--host-record=vps-1234.provider.example,203.0.113.10",
        "--host-record=mail.durand.example,203.0.113.10",
        "--txt-record=durand.example,v=spf1 a -all",
        "--txt-record=durand.example,v=spf1 include:_spf.provider.example -all",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), MAIL);
    let (code, out, err) = check_dns(&inv, &dns.resolver(), false);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    let lines = squeezed(&out);
    assert!(
        lines[0].starts_with(
            "DNS CRITICAL - 5 problem(s): MX durand.example: points to 10 mx.provider.example."
        ),
        "{out}"
    );
    for l in [
        "CRITICAL MX durand.example: points to 10 mx.provider.example., not mail.durand.example.",
        "OK A mail.durand.example: 203.0.113.10",
        "CRITICAL SPF durand.example: 2 SPF records: receivers treat that as an error (merge them into one)",
        "WARNING DKIM mail._domainkey.durand.example: no DKIM key: receivers cannot verify the server's signatures",
        "WARNING DMARC _dmarc.durand.example: no DMARC record",
        "WARNING PTR 203.0.113.10: vps-1234.provider.example., not mail.durand.example.",
        // The snippet: exactly what to publish.
        "; records to create in the zone durand.example",
        "; instead of: 10 mx.provider.example.",
        "durand.example. IN MX 10 mail.durand.example.",
        "; instead of: \"v=spf1 a -all\" \"v=spf1 include:_spf.provider.example -all\"",
        "durand.example. IN TXT \"v=spf1 mx a include:_spf.provider.example -all\"",
        "; cd /opt/regie/mail && docker compose -p durand-mail exec mailserver setup config dkim selector mail domain durand.example",
        "_dmarc.durand.example. IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@durand.example\"",
        "; PTR: ask the ISP or hosting provider to set 203.0.113.10 -> mail.durand.example.",
    ] {
        assert!(lines.iter().any(|x| x == l), "`{l}` missing:\n{out}");
    }
    assert!(!out.contains("IN A"), "the A record is right:\n{out}");

    let (code, out, _) = check_dns(&inv, &dns.resolver(), true);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "CRITICAL");
    let spf = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "SPF")
        .unwrap();
    assert_eq!(spf["found"].as_array().unwrap().len(), 2);
    assert!(v["snippet"]
        .as_str()
        .unwrap()
        .contains("IN MX    10 mail.durand.example."));
}

#[test]
fn a_resolver_that_does_not_answer_is_unknown() {
    // Bound but never read: queries get no answer.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let resolver = silent.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), MAIL);
    let started = Instant::now();
    let (code, out, err) = check_dns(&inv, &resolver, false);
    assert_eq!(code, 3, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.starts_with(&format!(
            "DNS UNKNOWN - resolver {resolver} did not answer (MX durand.example): "
        )),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_site_without_mail_and_a_bad_resolver_value() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "  wiki:\n    host: srv1\n");
    // Nothing to look up: the resolver (a port nobody listens on) is not asked.
    let (code, out, _) = check_dns(&inv, "127.0.0.1:9", false);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "DNS OK - site durand has no mail service: nothing to check\n"
    );

    // A usage error is UNKNOWN, as plugins must say, never CRITICAL.
    let (code, out, _) = check_dns(&inv, "dns.example", false);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.starts_with("DNS UNKNOWN - invalid --resolver `dns.example`"),
        "{out}"
    );
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "site: { name: x }\n").unwrap();
    let (code, out, err) = check_dns(&bad, "127.0.0.1:9", false);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.starts_with("DNS UNKNOWN - "), "{out}");
}

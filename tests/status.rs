//! `regie status` and `regie check` against the test bed: real sshd hosts,
//! the Docker Engine, a NAS over SFTP, restic, a real registry, and a TLS
//! endpoint served by `openssl s_server` in a container, with certificates
//! of chosen validity. Faults are made for real: a stopped container, a
//! failing health check, repeated restarts, a stale lock, a stopped NAS,
//! expiring and expired certificates, disk thresholds set low, a missing
//! backup.

mod common;

use std::path::Path;
use std::process::Output;

use common::registry::Registry;
use common::testbed::{docker, TestBed};

const BACKUP: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 5, daily: 7, weekly: 0, monthly: 0 } }\n";

/// A TLS server (openssl s_server in a test host image) on a 127.0.0.1
/// port, serving a self-signed certificate valid `days` more days (negative:
/// expired).
struct TlsServer {
    container: String,
    port: u16,
}

impl TlsServer {
    fn start(dir: &Path, name: &str, days: i64) -> TlsServer {
        let now = time::OffsetDateTime::now_utc();
        let mut p = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        p.not_before = now - time::Duration::days(400);
        p.not_after = now + time::Duration::days(days);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        let d = dir.join(format!("tls{days}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(d.join("key.pem"), key.serialize_pem()).unwrap();
        let o = docker(&[
            "run",
            "-d",
            "--rm",
            "-p",
            "127.0.0.1::8443",
            "-v",
            &format!("{}:/tls:ro", d.display()),
            "--entrypoint",
            "openssl",
            "regie-testhost:4",
            "s_server",
            "-quiet",
            "-accept",
            "8443",
            "-cert",
            "/tls/cert.pem",
            "-key",
            "/tls/key.pem",
            "-www",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let container = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let port = String::from_utf8_lossy(&docker(&["port", &container, "8443"]).stdout)
            .trim()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Wait until it accepts connections.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        TlsServer { container, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        docker(&["rm", "-f", &self.container]);
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The site's inventory, certificates read at `tls_port`.
fn write_inventory(
    tb: &TestBed,
    reg: &Registry,
    tls_port: u16,
    tls_mode: &str,
) -> std::path::PathBuf {
    let services = format!(
        "  hello:\n    host: srv1\n  web2:\n    host: srv1\n  www:\n    host: srv1\n  upd:\n    host: srv1\n    version: \"1.0.0\"\n    settings: {{ registry: \"{}\" }}\n",
        reg.addr
    );
    let extra = format!(
        "{BACKUP}proxy: {{ tls: {tls_mode} }}\nmonitoring:\n  tls_connect: \"127.0.0.1:{tls_port}\"\n  thresholds: {{ restarts_warning: 3 }}\n"
    );
    tb.inventory_with_backup(&services, &tb.nas_yaml(), &extra)
}

#[test]
fn status_and_check_judge_a_real_site() {
    let reg = Registry::start();
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    // Two copies of the test web stack; `www` has a public hostname (its
    // certificate is checked) but no proxy (no image can be pulled here).
    tb.inventory_with_backup("", "", "");
    tb.add_stack_copy("web2");
    tb.add_stack_copy("www");
    let www = tb.dir.path().join("catalog/stacks/www.yml");
    let y = std::fs::read_to_string(&www).unwrap();
    std::fs::write(&www, format!("{y}subdomain: www\n")).unwrap();
    let hostname = "www.test.example";
    let good = TlsServer::start(tb.dir.path(), hostname, 90);
    let inv = write_inventory(&tb, &reg, good.port, "internal");
    let state = tb.dir.path().join("state");
    let run = |args: &[&str]| -> Output {
        let mut c = common::regie();
        c.env("REGIE_STATE_DIR", &state)
            .args(args)
            .arg("-i")
            .arg(&inv);
        c.output().unwrap()
    };
    for h in ["srv1", "nas"] {
        assert!(run(&["hosts", "trust", h]).status.success());
    }
    let o = run(&["deploy", "--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["backup", "init"]);
    assert!(o.status.success(), "{}", text(&o));

    // Nothing backed up yet: CRITICAL for each backed-up service.
    let o = run(&["check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.starts_with("REGIE CRITICAL - "), "{out}");
    assert!(
        out.contains("[CRITICAL] upd: no successful backup on record"),
        "{out}"
    );

    // Backed up, everything healthy, certificate valid for 90 days (the
    // site uses its internal CA, so self-signed is expected): OK.
    let o = run(&["backup", "run"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "REGIE OK - {}: 1 host(s), 4 service(s), 4 container(s) up",
            tb.site
        )),
        "{out}"
    );
    // Perfdata after the bar: disk and inode use with the thresholds,
    // containers, backup age, certificate days.
    let perf = first.split_once(" | ").unwrap().1;
    assert!(
        perf.contains("srv1:/=") && perf.contains("%;85;95;0;100"),
        "{perf}"
    );
    assert!(perf.contains("containers_up=4;;;0;4"), "{perf}");
    assert!(perf.contains("'backup_age upd'="), "{perf}");
    assert!(perf.contains(&format!("'cert_days {hostname}'=")), "{perf}");
    assert!(perf.contains("nas:/"), "the NAS's file system: {perf}");

    // Status, JSON: containers, uptime, restarts, version against the
    // registry, the NAS, the certificate, backups.
    let o = run(&["status", "--output", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let svc = |name: &str| {
        v["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == name)
            .unwrap_or_else(|| panic!("{name} in {v}"))
            .clone()
    };
    let hello = svc("hello");
    assert_eq!(hello["containers"][0]["state"], "running", "{hello}");
    assert_eq!(hello["containers"][0]["health"], "healthy", "{hello}");
    assert_eq!(hello["containers"][0]["restarts_24h"], 0, "{hello}");
    assert!(
        hello["containers"][0]["uptime_secs"].as_u64().is_some(),
        "{hello}"
    );
    let upd = svc("upd");
    assert_eq!(upd["version"]["running"], "1.0.0", "{upd}");
    assert_eq!(upd["version"]["newest_allowed"], "1.3.0", "{upd}");
    let host = &v["hosts"][0];
    assert_eq!(host["reachable"], true);
    assert!(host["mem_total_kib"].as_u64().unwrap() > 0, "{host}");
    assert!(host["disks"][0]["inodes"].as_u64().is_some(), "{host}");
    assert!(host["uptime_secs"].as_u64().is_some(), "{host}");
    assert!(host["lock"].is_null(), "{host}");
    assert_eq!(v["nas"]["reachable"], true, "{}", v["nas"]);
    assert!(v["nas"]["disk"]["size_kib"].as_u64().unwrap() > 0);
    let cert = &v["certificates"][0];
    assert_eq!(cert["hostname"], hostname);
    let days = cert["days_left"].as_f64().unwrap();
    assert!((89.0..=90.1).contains(&days), "{cert}");
    assert_eq!(cert["trusted"], false, "self-signed: {cert}");
    assert!(
        v["backups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["age_hours"].as_f64().unwrap() < 1.0),
        "{v}"
    );
    // The text table.
    let o = run(&["status", "--no-registry"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in [
        "HOSTS",
        "SERVICES",
        "CERTIFICATES",
        "BACKUPS",
        "hello",
        "running",
        "healthy",
        "NAS /srv/backup",
    ] {
        assert!(t.contains(want), "{want} in:\n{t}");
    }

    // Faults: a stopped container, a failing health check (its page is
    // gone), a container restarted three times, a stale lock, a
    // certificate near expiry, and disk thresholds set low (a full disk).
    let web2 = tb.container_of("web2", "app");
    assert!(docker(&["stop", "-t", "1", &web2]).status.success());
    let base = &tb.host("srv1").base;
    let page = base.join("hello/www/index.html");
    let page_text = std::fs::read(&page).unwrap();
    std::fs::remove_file(&page).unwrap();
    let www_c = tb.container_of("www", "app");
    for _ in 0..3 {
        assert!(docker(&["restart", "-t", "1", &www_c]).status.success());
    }
    let lock = base.join(".regie/lock");
    std::fs::create_dir_all(&lock).unwrap();
    std::fs::write(lock.join("info"), "deploy by someone@laptop").unwrap();
    let st = std::process::Command::new("touch")
        .args(["-d", "8 hours ago"])
        .arg(&lock)
        .status()
        .unwrap();
    assert!(st.success());
    drop(good);
    let near = TlsServer::start(tb.dir.path(), hostname, 5);
    let inv2 = write_inventory(&tb, &reg, near.port, "internal");
    assert_eq!(inv, inv2);
    // The health check fails twice, a second apart, before `unhealthy`.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let o = run(&[
        "check",
        "--disk-warning",
        "1",
        "--disk-critical",
        "2",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].to_string();
    let site = &tb.site;
    let name = |id: &str| {
        let o = docker(&["inspect", "-f", "{{.Name}}", id]);
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .trim_start_matches('/')
            .to_string()
    };
    let hello_c = tb.container_of("hello", "app");
    for want in [
        format!("web2: {} exited", name(&web2)),
        format!(
            "hello: {} unhealthy: wget: server returned error: HTTP/1.1 404 Not Found",
            name(&hello_c)
        ),
        format!("www: {} stopped 3 times in 24 h", name(&www_c)),
        "srv1: locked for 8 h by deploy by someone@laptop (stale?".to_string(),
        format!("{hostname}: certificate expires in 5"),
        "srv1:/: ".to_string(),
        "(limits 1%/2%)".to_string(),
    ] {
        assert!(findings.contains(&want), "{want} in {findings}");
    }
    assert_eq!(v["level"], "CRITICAL");
    // The same, as plugin text: the worst first, then one line each.
    let o = run(&["check", "--disk-warning", "1", "--disk-critical", "2"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("[WARNING] www.test.example: certificate expires in 5")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("[CRITICAL] srv1:/:")),
        "{out}"
    );
    // Only warnings left once the critical faults are repaired: the lock
    // released, the page put back, the stopped container started.
    std::fs::remove_dir_all(&lock).unwrap();
    std::fs::write(&page, page_text).unwrap();
    assert!(docker(&["start", &web2]).status.success());
    std::thread::sleep(std::time::Duration::from_secs(4));
    let o = run(&["check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("REGIE WARNING - "), "{out}");

    // An expired certificate, and one that browsers would refuse on a site
    // that should have a public one: CRITICAL.
    drop(near);
    let old = TlsServer::start(tb.dir.path(), hostname, -2);
    write_inventory(&tb, &reg, old.port, "internal");
    let o = run(&["check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("[CRITICAL] www.test.example: certificate expired 2 day(s) ago"),
        "{out}"
    );
    drop(old);
    let fresh = TlsServer::start(tb.dir.path(), hostname, 60);
    write_inventory(&tb, &reg, fresh.port, "acme");
    let o = run(&["check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("certificate not trusted by browsers: unknown issuer"),
        "{out}"
    );
    write_inventory(&tb, &reg, fresh.port, "internal");

    // A backup older than the limit.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let o = run(&["check", "--backup-max-age", "0.0001"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("upd: last successful backup 0 h ago (limit 0 h)"),
        "{out}"
    );

    // The NAS down.
    tb.stop("nas");
    let o = run(&["check"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("[CRITICAL] NAS nas unreachable"), "{out}");
    let o = run(&["status", "--no-registry"]);
    assert!(text(&o).contains("NAS unreachable"), "{}", text(&o));
    tb.restart("nas");

    // The host down: CRITICAL, and status exits 1.
    tb.stop("srv1");
    let o = run(&["check", "--no-tls"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("[CRITICAL] srv1: unreachable"), "{out}");
    let o = run(&["status", "--no-registry", "--no-tls"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    tb.restart("srv1");

    // The client report from the same site: the hosts' logs (backup runs,
    // the deploy journal) and the stored reading make its history.
    let out_dir = tb.dir.path().join("reports");
    let o = run(&[
        "report",
        "--days",
        "7",
        "--no-registry",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let page = std::fs::read_to_string(out_dir.join(format!("{site}.html"))).unwrap();
    assert!(
        page.contains("<!DOCTYPE html>") && page.contains(site.as_str()),
        "{page}"
    );
    assert!(out_dir.join("index.html").exists());
    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join(format!("{site}.json"))).unwrap(),
    )
    .unwrap();
    let runs = data["backup_runs"].as_array().unwrap();
    assert!(
        runs.iter()
            .any(|r| r["kind"] == "manual" && r["service"] == "upd" && r["ok"] == true),
        "{data}"
    );
    let journal = data["journal"].as_array().unwrap();
    assert!(
        journal
            .iter()
            .any(|e| e["action"] == "deploy" && e["ok"] == true),
        "{data}"
    );
    assert_eq!(data["samples"].as_array().unwrap().len(), 1, "{data}");
    assert!(
        data["repository_bytes"][0][1].as_u64().unwrap() > 0,
        "{data}"
    );

    // Readings were kept for reports, at most one per 10 minutes.
    let hist = std::fs::read_dir(state.join("history").join(site))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert_eq!(hist.lines().count(), 1, "{hist}");
    let sample: serde_json::Value = serde_json::from_str(hist.lines().next().unwrap()).unwrap();
    assert_eq!(sample["hosts_up"], serde_json::json!(["srv1"]));

    // A broken configuration is UNKNOWN (exit 3), as plugins must say.
    let bad = tb.dir.path().join("bad.yml");
    std::fs::write(&bad, "site: [\n").unwrap();
    let o = common::regie()
        .args(["check", "-i"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).starts_with("REGIE UNKNOWN - "), "{}", text(&o));
    let o = run(&["check", "--disk-warning", "96"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("disk_warning (96) is above disk_critical (95)"),
        "{}",
        text(&o)
    );
}

//! PostgreSQL restores of a database whose tables belong to a role the
//! application made itself (Nextcloud's installer makes `oc_admin`), on
//! the test bed: real PostgreSQL, restic, Docker and OpenSSH. The `owned`
//! test stack stands in for Nextcloud: its app makes `oc_admin` on first
//! start, keeps the login in a config.php, and is healthy only while that
//! login works. Also: a restore waits for the real server, not the
//! socket-only one the image runs its first-start init on.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::regie;
use common::testbed::{docker, TestBed};
use predicates::prelude::*;

const BACKUP: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 5, daily: 7, weekly: 0, monthly: 0 } }\n";

fn owned_on(host: &str, init_seconds: u32) -> String {
    format!("  owned:\n    host: {host}\n    settings: {{ init_seconds: {init_seconds} }}\n")
}

struct Site {
    tb: TestBed,
    inv: PathBuf,
}

impl Site {
    /// Hosts srv1..srvN and a NAS, `owned` on srv1, the repository ready.
    /// `edit` may change the site's copy of the test catalog first.
    fn new(n: usize, init_seconds: u32, edit: impl FnOnce(&std::path::Path)) -> Site {
        let mut tb = TestBed::new(n);
        tb.start_nas(None);
        let inv = tb.inventory_with_backup(&owned_on("srv1", init_seconds), &tb.nas_yaml(), BACKUP);
        edit(&tb.dir.path().join("catalog"));
        let s = Site { tb, inv };
        let hosts = (1..=n).map(|i| format!("srv{i}"));
        for h in hosts.chain(["nas".to_string()]) {
            s.cmd(&["hosts", "trust", &h]).assert().success();
        }
        s.cmd(&["deploy", "--yes"]).assert().success();
        s.cmd(&["backup", "init"]).assert().success();
        s
    }

    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = regie();
        c.args(args).arg("-i").arg(&self.inv);
        c
    }

    fn exec(&self, service: &str, cmd: &[&str]) -> (bool, String, String) {
        let id = self.tb.container_of("owned", service);
        let mut args = vec!["exec", id.as_str()];
        args.extend_from_slice(cmd);
        let o = docker(&args);
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    /// The app's login as its config file holds it.
    fn login(&self) -> (String, String) {
        let (ok, conf, err) = self.exec("app", &["cat", "/data/config/config.php"]);
        assert!(ok, "{err}");
        let value = |k: &str| {
            conf.lines()
                .find_map(|l| l.strip_prefix(&format!("  '{k}' => '")))
                .and_then(|v| v.strip_suffix("',"))
                .unwrap_or_else(|| panic!("no {k} in {conf}"))
                .to_string()
        };
        (value("dbuser"), value("dbpassword"))
    }

    /// One query as USER with PASSWORD over TCP (as the app connects).
    fn sql_as(&self, user: &str, password: &str, q: &str) -> Result<String, String> {
        let id = self.tb.container_of("owned", "db");
        let o = std::process::Command::new("docker")
            .args([
                "exec",
                "-e",
                "PGPASSWORD",
                &id,
                "psql",
                "-X",
                "-h",
                "127.0.0.1",
            ])
            .args(["-U", user, "-d", "notes", "-tAc", q])
            .env("PGPASSWORD", password)
            .output()
            .unwrap();
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).into_owned())
        }
    }

    /// What the app's data looks like: rows and the tables' owner.
    fn state(&self) -> String {
        self.tb.psql(
            "owned",
            "select count(*) || ':' || md5(string_agg(body, ',' order by id)) || ':' || \
             (select tableowner from pg_tables where tablename = 'oc_items') from oc_items",
        )
    }

    /// Remove the stack's containers and volumes (a new, empty host).
    fn destroy_stack(&self) {
        self.tb.destroy_stack("owned", &["data", "db"]);
    }

    /// restic on srv1's repository on the NAS, as the site's password opens it.
    fn restic(&self, args: &[&str]) -> String {
        let pw = self
            .tb
            .host("srv1")
            .base
            .join(".regie/backup/restic.password");
        let repo = format!("{}:/repo", self.tb.nas_repo().display());
        let pwm = format!("{}:/pw:ro", pw.display());
        let r = format!("/repo/{}/srv1", self.tb.site);
        let mut a = vec![
            "run",
            "--rm",
            "-v",
            &repo,
            "-v",
            &pwm,
            "regie-restic:3",
            "-r",
            &r,
            "--password-file",
            "/pw",
        ];
        a.extend_from_slice(args);
        let o = docker(&a);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

/// (a) The tables belong to `oc_admin`, which the app made; the capture
/// holds the cluster's roles beside the dump; restored onto a new host
/// (fresh volumes), `oc_admin` logs in with its old password and reads its
/// tables, the app is healthy, and the drill passes.
#[test]
fn app_role_and_its_tables_restore_onto_a_new_host() {
    let s = Site::new(2, 0, |_| {});
    let (user, pw) = s.login();
    assert_eq!(user, "oc_admin");
    let want = s.state();
    assert!(
        want.starts_with("100:") && want.ends_with(":oc_admin"),
        "{want}"
    );
    s.cmd(&["backup", "run"]).assert().success();
    // The drill restores into a scratch stack, whose app must log in.
    s.cmd(&["backup", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("owned (drill)\tok"));

    // srv1 is lost; the service moves to srv2, is deployed there (its app
    // installs itself afresh) and restored from srv1's repository.
    s.tb.kill("srv1");
    s.destroy_stack();
    s.tb.inventory_with_backup(&owned_on("srv2", 0), &s.tb.nas_yaml(), BACKUP);
    s.cmd(&["deploy", "--yes", "--host", "srv2"])
        .assert()
        .success();
    assert_ne!(s.login().1, pw, "the new host's app made its own login");
    s.cmd(&["backup", "init"]).assert().success();
    s.cmd(&[
        "restore",
        "--service",
        "owned",
        "--from-host",
        "srv1",
        "--yes",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("owned (restore)\tok"));
    assert_eq!(
        s.login(),
        (user.clone(), pw.clone()),
        "the old config is back"
    );
    assert_eq!(s.state(), want);
    assert_eq!(
        s.sql_as(&user, &pw, "select count(*) from oc_items"),
        Ok("100".to_string()),
        "oc_admin logs in with its old password over TCP"
    );
    assert!(s.sql_as(&user, "not-the-password", "select 1").is_err());
    // The roles are captured beside the dump, readable with plain restic.
    let roles = s.restic(&[
        "dump",
        "latest",
        "--path",
        "/dumps/owned.roles.sql",
        "/dumps/owned.roles.sql",
    ]);
    assert!(roles.contains("CREATE ROLE oc_admin;"), "{roles}");
    assert!(roles.contains("PASSWORD 'SCRAM-SHA-256$"), "{roles}");
}

/// (b) A capture taken before regie captured roles (no roles file): the
/// restore onto fresh volumes makes `oc_admin` again from the app's
/// config.php, keeps the owners, and the app logs in; the drill of such a
/// capture passes too.
#[test]
fn capture_without_roles_file_restores_the_app_login() {
    let s = Site::new(1, 0, |_| {});
    let (user, pw) = s.login();
    let want = s.state();
    s.cmd(&["backup", "run"]).assert().success();
    // What the earlier code captured: the same, without the roles file.
    let roles = || -> Vec<String> {
        let v: Vec<serde_json::Value> = serde_json::from_str(&s.restic(&[
            "snapshots",
            "--json",
            "--path",
            "/dumps/owned.roles.sql",
        ]))
        .unwrap();
        v.iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    for id in roles() {
        s.restic(&["forget", &id]);
    }
    assert!(roles().is_empty());

    s.cmd(&["backup", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("owned (drill)\tok"));
    s.destroy_stack();
    s.cmd(&["deploy", "--yes"]).assert().success();
    s.cmd(&["restore", "--service", "owned", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("owned (restore)\tok"));
    assert_eq!(s.state(), want);
    assert_eq!(
        s.sql_as(&user, &pw, "select count(*) from oc_items"),
        Ok("100".to_string())
    );
}

/// (c) The first start of a fresh cluster runs its init on a server that
/// listens on the socket only (here for 8 s). With a health check that
/// asks the socket (a stack rendered before `-h 127.0.0.1`), the container
/// is healthy during init; the restore still loads into the real server.
#[test]
fn restore_waits_for_the_real_server_not_the_init_one() {
    let s = Site::new(1, 8, |cat| {
        let f = cat.join("templates/owned/docker-compose.yml.tera");
        let src = std::fs::read_to_string(&f).unwrap();
        let old = src.replace("\"-q\", \"-h\", \"127.0.0.1\", ", "\"-q\", ");
        assert_ne!(src, old);
        std::fs::write(&f, old).unwrap();
    });
    let want = s.state();
    s.cmd(&["backup", "run"]).assert().success();

    // The stand-in behaves like the image: during its init the socket
    // answers and TCP does not.
    s.cmd(&[
        "restore",
        "--service",
        "owned",
        "--no-safety-backup",
        "--yes",
    ])
    .assert()
    .success();
    assert_eq!(s.state(), want);
    let id = s.tb.container_of("owned", "db");
    let logs = docker(&["logs", &id]);
    let logs =
        String::from_utf8_lossy(&logs.stdout).into_owned() + &String::from_utf8_lossy(&logs.stderr);
    let done = logs
        .find("init process complete")
        .unwrap_or_else(|| panic!("a fresh cluster was initialised: {logs}"));
    let load = logs
        .find("application_name=pg_restore")
        .unwrap_or_else(|| panic!("pg_restore connected: {logs}"));
    assert!(
        load > done,
        "pg_restore connected to the init server (socket only), before the real one started:\n{logs}"
    );

    // And the premise: on a fresh volume, socket yes, TCP no, during init.
    let p = format!("{}-owned", s.tb.site);
    let t0 = Instant::now();
    let c = docker(&[
        "run",
        "-d",
        "--label",
        &format!("regie-testbed={}", s.tb.site),
        "--env-file",
        s.tb.host("srv1")
            .base
            .join("owned/db.env")
            .to_str()
            .unwrap(),
        "-v",
        &format!(
            "{}:/docker-entrypoint-initdb.d:ro",
            s.tb.host("srv1").base.join("owned/initdb").display()
        ),
        "regie-postgres:2",
    ]);
    let c = String::from_utf8_lossy(&c.stdout).trim().to_string();
    let ready = |tcp: bool| {
        let mut a = vec!["exec", c.as_str(), "pg_isready", "-q"];
        if tcp {
            a.extend(["-h", "127.0.0.1"]);
        }
        docker(&a).status.success()
    };
    let mut seen_socket_only = false;
    while t0.elapsed() < Duration::from_secs(60) {
        let (sock, tcp) = (ready(false), ready(true));
        if tcp {
            break;
        }
        seen_socket_only |= sock;
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(ready(true), "the real server listens on TCP ({p})");
    assert!(
        seen_socket_only,
        "the init server answered on the socket only"
    );
    docker(&["rm", "-f", &c]);
}

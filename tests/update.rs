//! Updates against the test bed: a real registry (Debian's docker-registry)
//! holding four versions of a test image, real OpenSSH hosts, the real
//! Docker Engine and compose CLI, backups with real restic to a NAS over
//! SFTP.

mod common;

use std::path::PathBuf;

use common::regie;
use common::registry::Registry;
use common::testbed::{docker, TestBed};
use predicates::prelude::*;

const BACKUP: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 5, daily: 7, weekly: 0, monthly: 0 } }\n";

struct Site {
    reg: Registry,
    tb: TestBed,
    inv: PathBuf,
}

impl Site {
    /// One host and a NAS, the `upd` stack at 1.0.0 deployed on srv1 with
    /// some data, the backup repository initialised. `maintenance` is
    /// appended to the inventory.
    fn new(maintenance: &str) -> Site {
        let reg = Registry::start();
        let services = format!(
            "  upd:\n    host: srv1\n    version: \"1.0.0\"\n    settings: {{ registry: \"{}\" }}\n",
            reg.addr
        );
        let s = Site::start(reg, &services, maintenance);
        s.app(&[
            "sh",
            "-c",
            "echo kept > /data/keep.txt; echo original > /data/notes.txt",
        ]);
        s
    }

    /// One host and a NAS with `services` deployed on srv1, every key
    /// trusted, the backup repository initialised.
    fn start(reg: Registry, services: &str, maintenance: &str) -> Site {
        let mut tb = TestBed::new(1);
        tb.start_nas(None);
        let inv =
            tb.inventory_with_backup(services, &tb.nas_yaml(), &format!("{BACKUP}{maintenance}"));
        let s = Site { reg, tb, inv };
        for h in ["srv1", "nas"] {
            s.cmd(&["hosts", "trust", h]).assert().success();
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

    fn app(&self, cmd: &[&str]) -> String {
        let id = self.tb.container_of("upd", "app");
        let mut args = vec!["exec", id.as_str()];
        args.extend_from_slice(cmd);
        let o = docker(&args);
        assert!(o.status.success(), "{cmd:?}: {o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Image id and reference of the running app container.
    fn running(&self) -> (String, String) {
        let id = self.tb.container_of("upd", "app");
        let o = docker(&["inspect", "-f", "{{.Image}} {{.Config.Image}}", &id]);
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        let (a, b) = s.split_once(' ').unwrap();
        (a.to_string(), b.to_string())
    }

    /// Every file of the data volume with its content.
    fn data(&self) -> String {
        self.app(&["sh", "-c", "cd /data && for f in $(ls -a); do test -f \"$f\" && { echo \"== $f\"; cat \"$f\"; }; done"])
    }

    fn inventory_version(&self) -> String {
        let y = std::fs::read_to_string(&self.inv).unwrap();
        let v: serde_yaml::Value = serde_yaml::from_str(&y).unwrap();
        v["services"]["upd"]["version"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn apply(&self, extra: &[&str]) -> (i32, serde_json::Value, String) {
        let mut args = vec![
            "update",
            "apply",
            "--service",
            "upd",
            "--output",
            "json",
            "--health-timeout",
            "60",
        ];
        args.extend_from_slice(extra);
        let o = self.cmd(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
        (o.status.code().unwrap_or(-1), v, err)
    }

    fn captures(&self) -> usize {
        let o = self
            .cmd(&["backup", "list", "--output", "json"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().expect("a list of captures").len()
    }
}

#[test]
fn update_check_apply_and_automatic_rollback() {
    let s = Site::new("");
    let v1 = s.running();
    assert_eq!(v1.1, s.reg.image("1.0.0"));

    // check: newer tags found, running digest read, nothing pulled.
    let o = s
        .cmd(&["update", "check", "--output", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let app = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "app")
        .unwrap();
    assert_eq!(
        app["candidates"]["newer"],
        serde_json::json!(["1.1.0", "1.2.0", "1.3.0"])
    );
    assert_eq!(app["candidates"]["allowed"], "1.3.0");
    assert_eq!(app["running_digest"], s.reg.digest("1.0.0"));
    assert!(app["new_digest"].is_null());
    for v in ["1.1.0", "1.2.0", "1.3.0"] {
        assert!(
            !docker(&["image", "inspect", &s.reg.image(v)])
                .status
                .success(),
            "update check pulled {v}"
        );
    }
    s.cmd(&["update", "check"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("1.3.0 (allowed)"));

    // 1.0.0 → 1.1.0: backup first, then the new version, healthy.
    let before = s.data();
    let (code, rep, err) = s.apply(&["--to", "1.1.0", "--now"]);
    assert_eq!(code, 0, "{rep}\n{err}");
    assert_eq!(rep["outcome"], "updated");
    assert!(
        rep["capture"].as_str().is_some_and(|c| !c.is_empty()),
        "{rep}"
    );
    let v2 = s.running();
    assert_eq!(v2.1, s.reg.image("1.1.0"));
    assert_ne!(v2.0, v1.0);
    assert_eq!(s.app(&["cat", "/www/index.html"]).trim(), "1.1.0");
    assert_eq!(s.inventory_version(), "1.1.0");
    assert_eq!(s.data(), before);
    // The inventory and the host agree: nothing left to deploy.
    s.cmd(&["plan"]).assert().code(0);

    // 1.1.0 → 1.2.0: health check fails; back to 1.1.0 by image id, data
    // untouched so not restored.
    let (code, rep, err) = s.apply(&["--to", "1.2.0", "--now"]);
    assert_eq!(code, 1, "{rep}\n{err}");
    assert_eq!(rep["outcome"], "rolled-back", "{rep}");
    assert_eq!(rep["data_restored"], false);
    assert_eq!(s.running(), v2);
    let compose =
        || std::fs::read_to_string(s.tb.host("srv1").base.join("upd/docker-compose.yml")).unwrap();
    assert!(compose().contains(&s.reg.image("1.1.0")), "{}", compose());
    assert_eq!(s.inventory_version(), "1.1.0");
    assert_eq!(s.data(), before);
    s.cmd(&["plan"]).assert().code(0);

    // 1.1.0 → 1.3.0: "migrates" the data then fails: rolled back and the
    // pre-update backup restored, data identical to before.
    let (code, rep, err) = s.apply(&["--to", "1.3.0", "--now"]);
    assert_eq!(code, 1, "{rep}\n{err}");
    assert_eq!(rep["outcome"], "rolled-back", "{rep}");
    assert_eq!(rep["data_restored"], true, "{rep}");
    assert_eq!(s.running(), v2);
    assert!(compose().contains(&s.reg.image("1.1.0")), "{}", compose());
    assert_eq!(s.data(), before);
    assert_eq!(s.inventory_version(), "1.1.0");
    let steps: Vec<&str> = rep["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["step"].as_str().unwrap())
        .collect();
    for want in [
        "lock",
        "backup",
        "record",
        "pull",
        "recreate",
        "rollback-images",
        "rollback-files",
        "rollback-data",
        "rollback-check",
    ] {
        assert!(steps.contains(&want), "{want} missing from {steps:?}");
    }
    // The journal on the host records each update.
    let journal =
        std::fs::read_to_string(s.tb.host("srv1").base.join(".regie/journal.jsonl")).unwrap();
    let outcomes: Vec<String> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|j| j["kind"] == "update")
        .map(|j| j["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["updated", "rolled-back", "rolled-back"]);
    s.cmd(&["history"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "update upd 1.0.0 -> 1.1.0: updated",
        ))
        .stdout(predicate::str::contains(
            "update upd 1.1.0 -> 1.3.0: rolled-back (data restored)",
        ));
    // The lock was released.
    assert!(!s.tb.host("srv1").base.join(".regie/lock").exists());

    // regie killed in the middle of an update (a cut connection, a closed
    // laptop): the host keeps the lock and the record; a new update is
    // refused until `update rollback` settles it from the record.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("regie"))
        .args([
            "update",
            "apply",
            "--service",
            "upd",
            "--to",
            "1.2.0",
            "--now",
            "-i",
        ])
        .arg(&s.inv)
        .env("NO_COLOR", "1")
        .env("REGIE_SSH_CONFIG", "/dev/null")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let want = s.reg.image("1.2.0");
    loop {
        let o = docker(&[
            "ps",
            "--filter",
            &format!("label=com.docker.compose.project={}-upd", s.tb.site),
            "--format",
            "{{.Image}}",
        ]);
        if String::from_utf8_lossy(&o.stdout).trim() == want {
            break;
        }
        assert!(t0.elapsed().as_secs() < 120, "1.2.0 never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let base = s.tb.host("srv1").base.clone();
    assert!(base.join(".regie/update/upd.json").exists());
    s.cmd(&[
        "update",
        "apply",
        "--service",
        "upd",
        "--to",
        "1.2.0",
        "--now",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("locked by another run"));
    s.cmd(&["lock", "release", "srv1"]).assert().success();
    let (code, rep, err) = s.apply(&["--to", "1.2.0", "--now"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(rep["outcome"], "aborted", "{rep}");
    assert!(
        rep["error"]
            .as_str()
            .unwrap()
            .contains("run `regie update rollback --service upd` first"),
        "{rep}"
    );
    s.cmd(&["update", "rollback", "--service", "upd", "--output", "json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"rolled-back\""));
    assert_eq!(s.running(), v2);
    assert_eq!(s.data(), before);
    assert!(!base.join(".regie/update/upd.json").exists());
    assert!(!base.join(".regie/lock").exists());
    s.cmd(&["update", "rollback", "--service", "upd"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("no unfinished update"));
}

#[test]
fn update_refused_outside_window_and_aborted_when_backup_fails() {
    // A window three days from now: never now, whatever the time zone.
    let far = common::weekday_in(3);
    let s = Site::new(&format!(
        "maintenance: {{ window: \"{far} 03:00-04:00\" }}\n"
    ));
    let v1 = s.running();
    let caps = s.captures();

    let (code, rep, err) = s.apply(&["--to", "1.1.0"]);
    assert_eq!(code, 1, "{rep}\n{err}");
    assert!(err.contains("outside the maintenance window"), "{err}");
    assert!(err.contains("--now"), "{err}");
    assert_eq!(s.running(), v1);
    assert_eq!(s.inventory_version(), "1.0.0");
    assert_eq!(s.captures(), caps, "no backup was taken");

    // Policy refusals: same version, a tag the registry lacks.
    let (code, _, err) = s.apply(&["--to", "1.0.0", "--now"]);
    assert_eq!(code, 1);
    assert!(err.contains("is the version in place"), "{err}");
    let (code, _, err) = s.apply(&["--to", "1.9.0", "--now"]);
    assert_eq!(code, 1);
    assert!(err.contains("no tag 1.9.0"), "{err}");

    // The NAS is down: the backup before the update fails, nothing changes.
    s.tb.stop("nas");
    let (code, rep, err) = s.apply(&["--to", "1.1.0", "--now"]);
    assert_eq!(code, 1, "{rep}\n{err}");
    assert_eq!(rep["outcome"], "aborted", "{rep}");
    assert!(
        rep["error"]
            .as_str()
            .unwrap_or("")
            .contains("backup before the update failed, nothing was changed"),
        "{rep}"
    );
    assert_eq!(s.running(), v1);
    assert_eq!(s.inventory_version(), "1.0.0");
    assert!(
        !docker(&["image", "inspect", &s.reg.image("1.1.0")])
            .status
            .success(),
        "nothing pulled"
    );
    assert!(!s.tb.host("srv1").base.join(".regie/lock").exists());
    assert!(!s
        .tb
        .host("srv1")
        .base
        .join(".regie/update/upd.json")
        .exists());
    s.tb.restart("nas");
}

/// PostgreSQL 15 → 17 by dump and restore: a broken "16" image is rolled
/// back to the kept cluster; 17 carries every row over.
#[test]
fn postgres_major_upgrade_by_dump_and_restore() {
    let reg = Registry::start();
    let pg15 = reg.push("regie-postgres:2", "postgres:15");
    // "16": an image that exits at once, as a database that cannot start.
    let cid = docker(&["create", "regie-busybox:1"]);
    let cid = String::from_utf8_lossy(&cid.stdout).trim().to_string();
    assert!(docker(&[
        "commit",
        "--change",
        "CMD [\"/bin/sh\", \"-c\", \"echo not a database; exit 1\"]",
        &cid,
        "regie-pg-broken:1"
    ])
    .status
    .success());
    docker(&["rm", "-f", &cid]);
    reg.push("regie-pg-broken:1", "postgres:16");
    reg.push("regie-postgres-next:2", "postgres:17");
    let services = format!(
        "  pgapp:\n    host: srv1\n    settings: {{ registry: \"{}\" }}\n",
        reg.addr
    );
    let s = Site::start(reg, &services, "");
    let (reg, tb, inv) = (&s.reg, &s.tb, &s.inv);
    let cmd = |args: &[&str]| s.cmd(args);
    let sql = |q: &str| tb.psql("pgapp", q);
    sql("create table notes (id serial primary key, body text not null)");
    sql("insert into notes (body) select md5(g::text) from generate_series(1, 5000) g");
    let digest = "select count(*) || ':' || md5(string_agg(body, ',' order by id)) from notes";
    let before = sql(digest);
    assert!(sql("show server_version_num").starts_with("15"));

    // check tells, and never does it alone.
    let o = cmd(&["update", "check", "--output", "json"])
        .output()
        .unwrap();
    // (exit 1: the app image is a local one, which no registry knows)
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let db = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "db")
        .unwrap();
    assert!(db["error"].is_null(), "{db}");
    assert!(
        db["notes"].to_string().contains("PostgreSQL 17 exists"),
        "{db}"
    );

    let up = |to: &str| {
        let o = cmd(&[
            "update",
            "postgres",
            "--service",
            "pgapp",
            "--to",
            to,
            "--now",
            "--health-timeout",
            "60",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        (
            o.status.code(),
            v,
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // Not a newer major: refused.
    let (code, _, err) = up("15");
    assert_eq!(code, Some(1));
    assert!(err.contains("newer major"), "{err}");

    // "16" cannot start: back to the kept 15 cluster, every row there.
    let (code, rep, err) = up("16");
    assert_eq!(code, Some(1), "{rep}\n{err}");
    assert_eq!(rep["outcome"], "rolled-back", "{rep}");
    assert!(sql("show server_version_num").starts_with("15"));
    assert_eq!(sql(digest), before);
    let running = |c: &str| {
        let id = tb.container_of("pgapp", c);
        let o = docker(&["inspect", "-f", "{{.Config.Image}}", &id]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(running("db"), pg15);
    assert!(!std::fs::read_to_string(inv)
        .unwrap()
        .contains("postgres:16"));
    cmd(&["plan"]).assert().code(0);

    // 17: dump of the pre-update capture loaded into a fresh cluster.
    let (code, rep, err) = up("17");
    assert_eq!(code, Some(0), "{rep}\n{err}");
    assert_eq!(rep["outcome"], "updated", "{rep}");
    assert!(
        sql("show server_version_num").starts_with("17"),
        "{}",
        sql("select version()")
    );
    assert_eq!(sql(digest), before);
    assert_eq!(
        running("db"),
        reg.image("x").replace("regie-upd:x", "postgres:17")
    );
    let y = std::fs::read_to_string(inv).unwrap();
    assert!(
        y.contains(&format!("      db: \"{}/postgres:17\"", reg.addr)),
        "{y}"
    );
    // The inventory and the host agree; the old cluster is kept aside.
    cmd(&["plan"]).assert().code(0);
    let vols = docker(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("name={}-pgapp_db-pg15-", tb.site),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&vols.stdout).lines().count(),
        2,
        "one kept volume per attempt"
    );
    assert!(!tb
        .host("srv1")
        .base
        .join(".regie/update/pgapp.json")
        .exists());
    assert!(!tb.host("srv1").base.join(".regie/lock").exists());
}

//! A site with the test catalog's `notes` stack (a busybox web app with a
//! data volume and a PostgreSQL database) on the test bed, ready to back
//! up: the backup tests' common ground.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use super::regie;
use super::testbed::{docker, TestBed, RESTIC_IMAGE};

pub const BACKUP: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 5, daily: 7, weekly: 0, monthly: 0 } }\n";

/// `backup:` with another restic image and the same retention.
pub fn backup_with_image(image: &str) -> String {
    BACKUP.replace(RESTIC_IMAGE, image)
}

pub fn notes_on(host: &str) -> String {
    format!("  notes:\n    host: {host}\n")
}

pub struct Site {
    pub tb: TestBed,
    pub inv: PathBuf,
}

impl Site {
    /// ssh to the NAS as a host of the site would: the host's NAS key and
    /// known_hosts, strict host-key checking, no other key tried.
    pub fn host_ssh(&self, host: &str) -> std::process::Command {
        let bdir = self.tb.host(host).base.join(".regie/backup");
        let mut c = std::process::Command::new("ssh");
        c.arg("-i")
            .arg(bdir.join("nas_key"))
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                bdir.join("known_hosts").display()
            ))
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-p",
                &self.tb.host("nas").port.to_string(),
                "deploy@127.0.0.1",
            ]);
        c
    }

    /// Hosts srv1..srvN and a NAS, every key trusted, the `notes` stack
    /// deployed on srv1, the repository initialised.
    pub fn new(n: usize, nas_tmpfs_kib: Option<u64>) -> Site {
        Site::on(TestBed::new(n), nas_tmpfs_kib, BACKUP)
    }

    /// The same on a given test bed (its hosts srv1..srvN), with a NAS
    /// and the given `backup:` line.
    pub fn on(mut tb: TestBed, nas_tmpfs_kib: Option<u64>, backup: &str) -> Site {
        let n = tb.hosts.len();
        tb.start_nas(nas_tmpfs_kib);
        let inv = tb.inventory_with_backup(&notes_on("srv1"), &tb.nas_yaml(), backup);
        Site::ready(tb, inv, n, true)
    }

    /// Host srv1 with the `notes` stack, the NAS and `far`, the off-site
    /// server (see [`TestBed::start_offsite`]); `offsite` is added to the
    /// `backup.offsite` mapping (e.g. `, keep: {...}`).
    pub fn with_offsite(offsite: &str) -> Site {
        let mut tb = TestBed::new(1);
        tb.start_nas(None);
        let ip = tb.start_offsite();
        let backup = format!(
            "backup: {{ to: nas, image: \"regie-restic:3\", keep: {{ last: 5, daily: 7, weekly: 0, monthly: 0 }}, offsite: {{ to: far, address_from_site: \"{ip}\"{offsite} }} }}\n"
        );
        let extra = format!("{}{}", tb.nas_yaml(), tb.far_yaml());
        let inv = tb.inventory_with_backup(&notes_on("srv1"), &extra, &backup);
        Site::ready_with(tb, inv, &["srv1", "nas", "far"])
    }

    pub fn ready(tb: TestBed, inv: PathBuf, n: usize, nas: bool) -> Site {
        let hosts: Vec<String> = (1..=n)
            .map(|i| format!("srv{i}"))
            .chain(nas.then(|| "nas".to_string()))
            .collect();
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        Site::ready_with(tb, inv, &hosts)
    }

    /// Trust `hosts`, deploy, and initialise the repositories.
    pub fn ready_with(tb: TestBed, inv: PathBuf, hosts: &[&str]) -> Site {
        let s = Site { tb, inv };
        for h in hosts {
            s.cmd(&["hosts", "trust", h]).assert().success();
        }
        s.cmd(&["deploy", "--yes"]).assert().success();
        s.cmd(&["backup", "init"])
            .assert()
            .success()
            .stdout(predicate::str::contains("created"));
        s
    }

    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = regie();
        c.args(args).arg("-i").arg(&self.inv);
        c
    }

    /// Run a command in a running container of the stack; its output.
    pub fn exec(&self, service: &str, cmd: &[&str]) -> String {
        let id = self.tb.container_of("notes", service);
        let mut args = vec!["exec", id.as_str()];
        args.extend_from_slice(cmd);
        let o = docker(&args);
        assert!(
            o.status.success(),
            "{cmd:?} in {service}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    pub fn app(&self, cmd: &[&str]) -> String {
        self.exec("app", cmd)
    }

    pub fn sql(&self, q: &str) -> String {
        self.tb.psql("notes", q)
    }

    /// Checksums of every file under /www, and a digest of the table.
    pub fn fingerprint(&self) -> (String, String) {
        let files = self.app(&[
            "/bin/busybox",
            "sh",
            "-c",
            "cd /www && /bin/busybox find . -type f | /bin/busybox sort | while read -r f; do /bin/busybox sha256sum \"$f\"; done",
        ]);
        let db = self.sql(
            "select count(*) || ':' || md5(string_agg(id || ':' || body, ',' order by id)) from notes",
        );
        // Compared as a digest, so a failure prints two short lines.
        (
            regie::site::files::sha256_hex(files.as_bytes())
                + &format!(" ({} files)", files.lines().count()),
            db,
        )
    }

    /// Copy a directory of the machine into the app's data volume.
    pub fn put_files(&self, dir: &Path) {
        let id = self.tb.container_of("notes", "app");
        let o = docker(&[
            "cp",
            &format!("{}/.", dir.display()),
            &format!("{id}:/www/"),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    pub fn captures(&self) -> Vec<serde_json::Value> {
        let out = self
            .cmd(&["--output", "json", "backup", "list"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice::<Vec<serde_json::Value>>(&out).unwrap()
    }

    /// A restore that must fail with `message` and leave the live data as
    /// it was.
    pub fn restore_fails_changing_nothing(&self, message: &str) {
        let before = self.fingerprint();
        self.cmd(&[
            "restore",
            "--service",
            "notes",
            "--no-safety-backup",
            "--yes",
        ])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("notes (restore)\tFAILED")
                .and(predicate::str::contains(message)),
        );
        assert_eq!(self.fingerprint(), before);
    }

    /// Sample files (from `seed`) and `rows` rows in the `notes` service,
    /// then `runs` manual backups, each checked; the data's fingerprint.
    pub fn fill_and_back_up(&self, seed: u64, rows: u32, runs: usize) -> (String, String) {
        let tmp = tempfile::tempdir().unwrap();
        sample_files(tmp.path(), seed, 256);
        self.put_files(tmp.path());
        fill_db(self, rows);
        for _ in 0..runs {
            self.cmd(&["backup", "run"])
                .assert()
                .success()
                .stdout(predicate::str::contains("notes (manual)\tok"));
        }
        self.fingerprint()
    }

    /// The site's repository password, as the hosts hold it.
    pub fn restic_password(&self) -> String {
        std::fs::read_to_string(
            self.tb
                .host("srv1")
                .base
                .join(".regie/backup/restic.password"),
        )
        .unwrap()
    }

    /// restic (0.19.1) run as `deploy` inside a NAS container (`nas` or
    /// `far`) on a repository there, with the site's password on stdin.
    pub fn restic_in(&self, server: &str, repo: &str, args: &[&str]) -> std::process::Output {
        use std::io::Write;
        let c = self.tb.host(server).container.clone();
        let mut a = vec![
            "exec",
            "-i",
            "-u",
            "deploy",
            c.as_str(),
            "sh",
            "-c",
            "read -r pw; export RESTIC_PASSWORD=$pw; exec restic --no-cache \"$@\"",
            "sh",
            "-r",
            repo,
        ];
        a.extend_from_slice(args);
        let mut child = std::process::Command::new("docker")
            .args(&a)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(self.restic_password().as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Remove the stack's containers and volumes (a lost disk).
    pub fn destroy_stack(&self) {
        self.tb.destroy_stack("notes", &["data", "db"]);
    }
}

/// Every file of a repository directory but its locks, with its digest.
pub fn repo_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(root: &Path, d: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if rel.starts_with("locks") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let b = std::fs::read(&p).unwrap();
                out.push((rel, regie::site::files::sha256_hex(&b)));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Files of various sizes and names, some binary.
pub fn sample_files(dir: &Path, seed: u64, big_kib: usize) {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for d in 0..5 {
        let sub = dir.join(format!("dir{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..40 {
            let n = (next() % 4000) as usize;
            let body: Vec<u8> = (0..n).map(|_| (next() % 256) as u8).collect();
            std::fs::write(sub.join(format!("file {f}.bin")), body).unwrap();
        }
    }
    std::fs::write(dir.join("index.html"), format!("seed {seed}\n")).unwrap();
    if big_kib > 0 {
        let body: Vec<u8> = (0..big_kib * 1024 / 8)
            .flat_map(|_| next().to_le_bytes())
            .collect();
        std::fs::write(dir.join(format!("big-{seed}.bin")), body).unwrap();
    }
}

pub fn fill_db(s: &Site, rows: u32) {
    s.sql("create table if not exists notes (id serial primary key, body text not null)");
    s.sql(&format!(
        "insert into notes (body) select md5(g::text) || repeat('x', g % 50) from generate_series(1, {rows}) g"
    ));
}

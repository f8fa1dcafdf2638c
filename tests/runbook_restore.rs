//! The run book's "restic only" restore, run for real: the commands
//! `regie docs` writes for a service are taken out of the Markdown and run
//! as root in a copy of the test host, with restic and docker-compose, no
//! regie. The
//! service's files and its PostgreSQL database must come back as they were
//! backed up. That is the promise made to a client who changes provider.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::testbed::TestBed;

const BACKUP: &str = "backup: { to: nas, image: \"regie-restic:3\", keep: { last: 5, daily: 7, weekly: 0, monthly: 0 } }\n";

/// The fenced code blocks of a Markdown text.
fn code_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        if line.starts_with("```") {
            match cur.take() {
                Some(b) => out.push(b),
                None => cur = Some(String::new()),
            }
        } else if let Some(b) = cur.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    out
}

fn app(tb: &TestBed, script: &str) -> String {
    tb.exec_in(("notes", "app"), &["/bin/busybox", "sh", "-c", script])
}

/// Run a shell script as root in a throwaway copy of the test host: the
/// same image (restic, docker CLI, docker-compose, OpenSSH client), the
/// host's base directory at the same path and the same Docker Engine, on
/// the machine's network. On the test bed the NAS is published on the
/// machine's loopback, which the host container's own network cannot reach
/// (its backups run restic in a container on the machine's network for
/// the same reason); on a real site the host reaches the NAS directly.
fn host_bash(tb: &TestBed, host: &str, script: &str) -> std::process::Output {
    let base = tb.host(host).base.display().to_string();
    let mut child = Command::new("docker")
        .args(["run", "--rm", "-i", "--network", "host"])
        .args(["-v", "/var/run/docker.sock:/var/run/docker.sock"])
        .args(["-v", &format!("{base}:{base}")])
        .args(["--entrypoint", "bash", "regie-testhost:4", "-s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_run_books_restic_only_restore_brings_data_back() {
    let mut tb = TestBed::new(1);
    tb.start_nas(None);
    let inv = tb.inventory_with_backup("  notes:\n    host: srv1\n", &tb.nas_yaml(), BACKUP);
    let run = |args: &[&str]| {
        let o = common::regie()
            .args(args)
            .arg("-i")
            .arg(&inv)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "regie {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    for h in ["srv1", "nas"] {
        run(&["hosts", "trust", h]);
    }
    run(&["deploy", "--yes"]);
    run(&["backup", "init"]);

    // Data in both parts: a file in the volume, rows in the database.
    app(
        &tb,
        "echo 'minutes of the 3 March meeting' > /www/minutes.txt",
    );
    tb.psql(
        "notes",
        "create table notes (id int primary key, body text)",
    );
    tb.psql(
        "notes",
        "insert into notes select g, 'note ' || g from generate_series(1, 500) g",
    );
    let want_db = tb.psql(
        "notes",
        "select count(*) || ':' || md5(string_agg(body, ',' order by id)) from notes",
    );
    run(&["backup", "run"]);
    let list: serde_json::Value =
        serde_json::from_str(&run(&["--output", "json", "backup", "list"])).unwrap();
    let capture = list
        .as_array()
        .and_then(|c| c.iter().find(|c| c["service"] == "notes"))
        .and_then(|c| c["capture"].as_str())
        .unwrap_or_else(|| panic!("a capture of notes in {list}"))
        .to_string();

    // The disaster: the file gone, the table emptied.
    app(&tb, "rm /www/minutes.txt");
    tb.psql("notes", "delete from notes");

    // The run book, as handed over.
    let docs = tb.dir.path().join("docs");
    run(&["docs", "--date", "2026-12-01", "-o", docs.to_str().unwrap()]);
    let md = std::fs::read_dir(&docs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap();
    let blocks = code_blocks(&md);
    let session = blocks
        .iter()
        .find(|b| b.contains("export RESTIC_REPOSITORY="))
        .expect("the restic session block");
    let steps = blocks
        .iter()
        .find(|b| b.contains("restic snapshots --tag service=notes") && b.contains("pg_restore"))
        .expect("the notes restore block");

    // Run exactly those commands, adapted as the run book itself says for
    // this host: compose v1 (`docker-compose`, `up -d` then wait for
    // health), the capture chosen, and a scratch directory that the Docker
    // Engine sees at the same path (on the test bed, only the base
    // directory is shared between the host container and the engine).
    let base = tb.host("srv1").base.display().to_string();
    let scratch = format!("{base}/restore-scratch");
    let project = format!("{}-notes", tb.site);
    let steps = steps
        .replace("docker compose ", "docker-compose ")
        .replace("/var/tmp/regie-restore", &scratch)
        .lines()
        .map(|l| {
            if l.starts_with("CAPTURE=") {
                format!("CAPTURE={capture}")
            } else if let Some(cmd) = l.strip_suffix(" up -d --wait") {
                format!("{cmd} up -d && wait_healthy")
            } else if l.contains(" up -d --wait ") {
                format!("{} && wait_healthy", l.replace(" up -d --wait ", " up -d "))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let script = format!(
        "set -euo pipefail\nset -x\n\
         wait_healthy() {{ {{ set +x; }} 2>/dev/null\n  \
           # The running containers of the stack, all healthy (what `up --wait` waits for).\n  \
           for _ in $(seq 1 120); do\n    \
           st=$(docker ps --filter label=com.docker.compose.project={project} --filter status=running --format '{{{{.Status}}}}')\n    \
           if [ -n \"$st\" ] && ! printf '%s\\n' \"$st\" | grep -qv '(healthy)'; then set -x; return 0; fi\n    \
           sleep 1\n  done\n  docker ps -a --filter label=com.docker.compose.project={project} >&2; return 1\n}}\n\
         {session}\n{steps}\n"
    );
    assert!(
        !script.contains("regie "),
        "no regie command in the manual procedure:\n{script}"
    );
    let o = host_bash(&tb, "srv1", &script);
    assert!(
        o.status.success(),
        "the run book's commands failed:\n{script}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // Everything is back, and the scratch directory is gone.
    assert_eq!(
        app(&tb, "cat /www/minutes.txt").trim(),
        "minutes of the 3 March meeting"
    );
    assert_eq!(
        tb.psql(
            "notes",
            "select count(*) || ':' || md5(string_agg(body, ',' order by id)) from notes"
        ),
        want_db
    );
    assert!(!Path::new(&scratch).join("notes").exists());
}

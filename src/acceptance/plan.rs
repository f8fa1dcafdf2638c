//! The acceptance run, pure: which data each stack gets as a known probe
//! (a marker file in every backed-up volume, a marker table in every
//! PostgreSQL dump), the scripts that write, remove and check those
//! probes on a host, the script that refuses a host already running the
//! site, the teardown, and the per-stack report. The executor is
//! [`crate::acceptance::run`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::backup::plan::{captures, unschedule_script, volume_names};
use crate::site::files::HostRender;
use crate::site::inventory::Resolved;
use crate::site::layout::STATE_DIR;
use crate::util::shell::{quote, words};

/// The file left at the top of every backed-up volume.
pub const MARKER_FILE: &str = ".regie-acceptance";
/// The table made in every dumped database.
pub const MARKER_TABLE: &str = "regie_acceptance";

/// A database the stack dumps, reached with `psql` in its component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbProbe {
    pub component: String,
    /// `psql` and its connection options, from the dump's `check` command.
    pub psql: Vec<String>,
}

/// What one stack's known data is made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    pub service: String,
    pub host: String,
    pub project: String,
    /// Docker names of the backed-up volumes.
    pub volumes: Vec<String>,
    pub databases: Vec<DbProbe>,
    /// Dumps that are not PostgreSQL (no `psql` check): not probed.
    pub unprobed_dumps: Vec<String>,
}

/// The `psql` connection part of a dump's check command (`psql
/// --username=U --dbname=D -tAc SQL` → `psql --username=U --dbname=D`).
fn psql_of(check: &[String]) -> Option<Vec<String>> {
    if check.first().map(String::as_str) != Some("psql") {
        return None;
    }
    Some(
        check
            .iter()
            .take_while(|a| !a.starts_with("-tA") && *a != "-c")
            .cloned()
            .collect(),
    )
}

/// Every backed-up stack of the site, with its probes.
pub fn probes(site: &Resolved, renders: &[HostRender]) -> Vec<Probe> {
    let mut out = Vec::new();
    for r in renders {
        for c in captures(site, &r.host) {
            let compose = r
                .files
                .iter()
                .find(|f| f.path == format!("{}/docker-compose.yml", c.name))
                .map(|f| String::from_utf8_lossy(&f.content).into_owned());
            let names = volume_names(&c.project, compose.as_deref());
            let bk = &c.desc.backup;
            let (databases, unprobed) =
                bk.dumps
                    .iter()
                    .fold((Vec::new(), Vec::new()), |(mut db, mut un), d| {
                        match d.check_command().as_deref().and_then(psql_of) {
                            Some(psql) => db.push(DbProbe {
                                component: d.component.clone(),
                                psql,
                            }),
                            None => un.push(d.file.clone()),
                        }
                        (db, un)
                    });
            out.push(Probe {
                service: c.name.to_string(),
                host: r.host.clone(),
                volumes: bk
                    .volumes
                    .iter()
                    .map(|v| {
                        names
                            .live
                            .get(v)
                            .cloned()
                            .unwrap_or_else(|| format!("{}_{v}", c.project))
                    })
                    .collect(),
                project: c.project,
                databases,
                unprobed_dumps: unprobed,
            });
        }
    }
    out
}

/// A run's nonce: what the probes hold. Hex, so it needs no quoting in SQL.
pub fn nonce(seed: u64) -> String {
    format!("{seed:016x}")
}

/// `docker run` of the backup image with `volume` at /v running `script`.
fn volume_cmd(image: &str, volume: &str, script: &str) -> String {
    format!(
        "docker run --rm --network none --entrypoint sh -v {} {} -c {}",
        quote(&format!("{volume}:/v")),
        quote(image),
        quote(script)
    )
}

/// `psql` in the running component of the project.
fn psql_cmd(project: &str, db: &DbProbe, sql: &str) -> String {
    let mut cmd = db.psql.clone();
    cmd.push("-tAc".into());
    cmd.push(sql.into());
    format!(
        "id=$(docker ps -q --filter label=com.docker.compose.project={} --filter label=com.docker.compose.service={} | head -n 1); [ -n \"$id\" ] && docker exec -i \"$id\" {}",
        quote(project),
        quote(&db.component),
        words(&cmd)
    )
}

/// Writes the probes; fails on the first that cannot be written.
pub fn seed_script(p: &Probe, image: &str, nonce: &str) -> String {
    let mut s = vec!["set -e".to_string()];
    for v in &p.volumes {
        s.push(volume_cmd(
            image,
            v,
            &format!("printf %s {} > /v/{MARKER_FILE}", quote(nonce)),
        ));
    }
    for db in &p.databases {
        s.push(psql_cmd(
            &p.project,
            db,
            &format!(
                "CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (v text); DELETE FROM {MARKER_TABLE}; INSERT INTO {MARKER_TABLE} VALUES ('{nonce}')"
            ),
        ));
    }
    s.join("\n")
}

/// Removes the probes: the data loss a restore must repair.
pub fn lose_script(p: &Probe, image: &str) -> String {
    let mut s = vec!["set -e".to_string()];
    for v in &p.volumes {
        s.push(volume_cmd(image, v, &format!("rm -f /v/{MARKER_FILE}")));
    }
    for db in &p.databases {
        s.push(psql_cmd(
            &p.project,
            db,
            &format!("DROP TABLE IF EXISTS {MARKER_TABLE}"),
        ));
    }
    s.join("\n")
}

/// Prints one line per probe: `volume NAME VALUE` / `database COMPONENT
/// VALUE`, the value empty when the probe is gone.
pub fn verify_script(p: &Probe, image: &str) -> String {
    let mut s = Vec::new();
    for v in &p.volumes {
        s.push(format!(
            "printf 'volume %s %s\\n' {} \"$({} 2>/dev/null)\"",
            quote(v),
            volume_cmd(image, v, &format!("cat /v/{MARKER_FILE}"))
        ));
    }
    for db in &p.databases {
        s.push(format!(
            "printf 'database %s %s\\n' {} \"$({} 2>/dev/null)\"",
            quote(&db.component),
            psql_cmd(&p.project, db, &format!("SELECT v FROM {MARKER_TABLE}"))
        ));
    }
    s.push("true".into());
    s.join("\n")
}

/// The probes that do not hold `nonce`, from [`verify_script`]'s output;
/// empty when all came back.
pub fn missing(out: &str, p: &Probe, nonce: &str) -> Vec<String> {
    let found: BTreeMap<String, String> = out
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            let kind = it.next()?;
            let name = it.next()?;
            Some((
                format!("{kind} {name}"),
                it.next().unwrap_or("").trim().into(),
            ))
        })
        .collect();
    p.volumes
        .iter()
        .map(|v| format!("volume {v}"))
        .chain(
            p.databases
                .iter()
                .map(|d| format!("database {}", d.component)),
        )
        .filter(|k| found.get(k).map(String::as_str) != Some(nonce))
        .collect()
}

/// Refuses a host that already runs containers of the site or holds its
/// state: an acceptance run removes everything it made, so it must start
/// from nothing.
pub fn occupied_script(site: &str, base: &str) -> String {
    format!(
        "ids=$(docker ps -aq --filter label=regie.site={s}); if [ -n \"$ids\" ]; then printf 'containers of site %s already run here\\n' {s}; exit 1; fi; if [ -e {b}/{st} ]; then printf '%s already holds regie state ({st})\\n' {b}; exit 1; fi",
        s = quote(site),
        b = quote(base),
        st = STATE_DIR,
    )
}

/// Removes what the run made on a host: the stacks with their volumes,
/// drill leftovers, the backup schedule, the stack directories and
/// regie's state under `base`.
pub fn teardown_script(site: &str, base: &str, projects: &[String], stacks: &[String]) -> String {
    let mut s = vec![
        "if docker compose version >/dev/null 2>&1; then c='docker compose'; else c=docker-compose; fi".to_string(),
    ];
    for (p, st) in projects.iter().zip(stacks) {
        s.push(format!(
            "[ -f {b}/{d}/docker-compose.yml ] && (cd {b}/{d} && $c -p {p} down --volumes --remove-orphans >/dev/null 2>&1)",
            b = quote(base),
            d = quote(st),
            p = quote(p)
        ));
    }
    s.push(format!(
        "ids=$(docker ps -aq --filter label=regie.site={site_q}); [ -z \"$ids\" ] || docker rm -f $ids >/dev/null",
        site_q = quote(site)
    ));
    s.push(format!(
        "vols=$(docker volume ls -q --filter label=regie.backup={site_q}); [ -z \"$vols\" ] || docker volume rm -f $vols >/dev/null",
        site_q = quote(site)
    ));
    s.push(format!(
        "for p in {}; do vols=$(docker volume ls -q --filter label=com.docker.compose.project=$p); [ -z \"$vols\" ] || docker volume rm -f $vols >/dev/null; done",
        words(
            &projects
                .iter()
                .flat_map(|p| [p.clone(), format!("{p}-drill")])
                .collect::<Vec<_>>()
        )
    ));
    s.push(unschedule_script(site));
    for st in stacks {
        s.push(format!("rm -rf {}/{}", quote(base), quote(st)));
    }
    s.push(format!("rm -rf {}/{}", quote(base), STATE_DIR));
    s.push("true".into());
    s.join("\n")
}

/// One step of one stack.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StepResult {
    pub step: String,
    pub ok: bool,
    pub seconds: f64,
    pub detail: String,
}

/// One stack's steps, in order.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct StackReport {
    pub service: String,
    pub host: String,
    pub steps: Vec<StepResult>,
}

impl StackReport {
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok)
    }
}

/// The report as the operator reads it: a line per stack, then its steps.
pub fn report_text(stacks: &[StackReport]) -> String {
    let mut out = String::new();
    for r in stacks {
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            r.service,
            r.host,
            if r.ok() { "PASSED" } else { "FAILED" }
        ));
        for s in &r.steps {
            out.push_str(&format!(
                "  {:<9} {:<4} {:>6.1} s  {}\n",
                s.step,
                if s.ok { "ok" } else { "FAIL" },
                s.seconds,
                s.detail
            ));
        }
    }
    out
}

/// Fails when `path` exists.
pub fn absent_script(path: &str) -> String {
    format!("[ ! -e {} ]", quote(path))
}

/// Removes a repository directory the run made.
pub fn remove_script(path: &str) -> String {
    format!("rm -rf {}", quote(path))
}

/// On the NAS: the site's repositories (made by this run) and the hosts'
/// key line, identified by its base64 blob.
pub fn nas_teardown_script(base: &str, authorized_line: &str) -> String {
    let blob = authorized_line
        .split_whitespace()
        .nth(2)
        .unwrap_or(authorized_line);
    let mut s = format!("set -e\n{}\n", remove_script(base));
    if !blob.is_empty() {
        s.push_str(&format!(
            "if [ -f ~/.ssh/authorized_keys ]; then grep -vF {k} ~/.ssh/authorized_keys > ~/.ssh/authorized_keys.regie || true; chmod 600 ~/.ssh/authorized_keys.regie; mv -f ~/.ssh/authorized_keys.regie ~/.ssh/authorized_keys; fi\n",
            k = quote(blob)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::secrets::{Key, Store};

    fn durand() -> (Resolved, Vec<HostRender>) {
        let site =
            crate::site::inventory::load(std::path::Path::new("inventories/cabinet-durand.yml"))
                .unwrap();
        let key = Key::Identity {
            identity: age::x25519::Identity::generate(),
            extra: vec![],
        };
        let store = Store::open(std::path::Path::new("/nonexistent/secrets.age"), &key).unwrap();
        let (renders, _) = crate::deploy::plan::render_site(&site, store);
        (site, renders.unwrap())
    }

    #[test]
    fn probes_cover_every_backed_up_volume_and_postgres_dump() {
        let (site, renders) = durand();
        let p = probes(&site, &renders);
        let files = p.iter().find(|p| p.service == "files").unwrap();
        assert_eq!(files.host, "srv1");
        assert_eq!(files.project, "cabinet-durand-files");
        assert_eq!(files.volumes, ["cabinet-durand-files_html"]);
        assert_eq!(files.databases.len(), 1);
        assert_eq!(files.databases[0].component, "postgres");
        assert_eq!(files.databases[0].psql[0], "psql");
        assert!(files.databases[0].psql.iter().all(|a| a != "-tAc"));
        // The proxy's certificates volume has a name of its own.
        let proxy = p.iter().find(|p| p.service == "proxy").unwrap();
        assert_eq!(proxy.volumes, ["cabinet-durand_proxy_data"]);
        assert!(proxy.databases.is_empty());
    }

    #[test]
    fn psql_connection_comes_from_the_check() {
        let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            psql_of(&c(&[
                "psql",
                "--username=a",
                "--dbname=b",
                "-tAc",
                "select 1"
            ])),
            Some(c(&["psql", "--username=a", "--dbname=b"]))
        );
        assert_eq!(psql_of(&c(&["mysql", "-e", "select 1"])), None);
    }

    #[test]
    fn scripts_quote_names_and_write_what_verify_reads() {
        let p = Probe {
            service: "notes".into(),
            host: "srv1".into(),
            project: "s-notes".into(),
            volumes: vec!["s-notes_data".into()],
            databases: vec![DbProbe {
                component: "db".into(),
                psql: vec![
                    "psql".into(),
                    "--username=notes".into(),
                    "--dbname=notes".into(),
                ],
            }],
            unprobed_dumps: vec![],
        };
        let seed = seed_script(&p, "regie-restic:1", "00ff");
        assert!(seed.starts_with("set -e\n"), "{seed}");
        assert!(
            seed.contains("-v 's-notes_data:/v' 'regie-restic:1' -c 'printf %s '\\''00ff'\\'' > /v/.regie-acceptance'"),
            "{seed}"
        );
        assert!(
            seed.contains("--filter label=com.docker.compose.service='db'")
                && seed.contains("INSERT INTO regie_acceptance VALUES ('\\''00ff'\\'')"),
            "{seed}"
        );
        let v = verify_script(&p, "regie-restic:1");
        assert!(v.contains("cat /v/.regie-acceptance"), "{v}");
        assert!(v.contains("SELECT v FROM regie_acceptance"), "{v}");
        let out = "volume s-notes_data 00ff\ndatabase db 00ff\n";
        assert!(missing(out, &p, "00ff").is_empty());
        assert_eq!(
            missing("volume s-notes_data \ndatabase db 00ff\n", &p, "00ff"),
            ["volume s-notes_data"]
        );
        assert_eq!(missing("", &p, "00ff").len(), 2);
        assert_eq!(
            missing(out, &p, "0100"),
            ["volume s-notes_data", "database db"]
        );
    }

    #[test]
    fn occupied_and_teardown_scripts_name_the_site_quoted() {
        let o = occupied_script("s", "/opt/regie dir");
        assert!(
            o.contains("label=regie.site='s'") && o.contains("'/opt/regie dir'/.regie"),
            "{o}"
        );
        let t = teardown_script("s", "/opt/r", &["s-notes".into()], &["notes".into()]);
        assert!(t.contains("-p 's-notes' down --volumes"), "{t}");
        assert!(t.contains("for p in 's-notes' 's-notes-drill'"), "{t}");
        assert!(
            t.contains("rm -rf '/opt/r'/'notes'") && t.contains("rm -rf '/opt/r'/.regie"),
            "{t}"
        );
        let n = nas_teardown_script(
            "/b/s",
            "restrict,command=\"internal-sftp\" ssh-ed25519 AAAAkey regie-backup@s",
        );
        assert!(
            n.contains("rm -rf '/b/s'") && n.contains("grep -vF 'AAAAkey'"),
            "{n}"
        );
    }

    #[test]
    fn the_report_says_passed_or_failed_per_stack() {
        let r = StackReport {
            service: "notes".into(),
            host: "srv1".into(),
            steps: vec![
                StepResult {
                    step: "deploy".into(),
                    ok: true,
                    seconds: 1.0,
                    detail: "1, healthy".into(),
                },
                StepResult {
                    step: "data".into(),
                    ok: false,
                    seconds: 0.2,
                    detail: "lost: database db".into(),
                },
            ],
        };
        let t = report_text(&[r]);
        assert!(t.starts_with("notes\tsrv1\tFAILED\n"), "{t}");
        assert!(
            t.contains("  data      FAIL    0.2 s  lost: database db"),
            "{t}"
        );
    }
}

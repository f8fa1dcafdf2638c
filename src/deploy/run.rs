//! The executor: runs deploy plans on hosts over SSH, hosts in parallel,
//! stacks of a host in order, health-gated, under the host lock.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use serde::Serialize;

use crate::deploy::plan::{self as deploy, HostPlan, RemoteState, StackAction};
use crate::deploy::{gate, up};
use crate::images::run::Pushed;
use crate::remote::connect::{connect, RunOptions};
use crate::remote::parallel::in_parallel;
use crate::remote::ssh::Conn;
use crate::site::files::HostRender;
use crate::site::inventory::Resolved;
use crate::site::site_files;
use crate::site::state::{parse_inspect, Container};
use crate::util::time::unix_now;

pub(crate) fn lock_info(command: &str) -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .trim()
        .to_string();
    let now = unix_now();
    serde_json::json!({ "holder": format!("{user}@{host}"), "pid": std::process::id(), "since": now, "command": command })
        .to_string()
}

/// Render every host in memory and keep any new secret. The secrets are
/// saved before anything uses the render: no file may carry a secret that
/// is not kept. Returns the renders and the names of new secrets.
pub fn render_saving_secrets(
    site: &Resolved,
    identity: Option<&Path>,
) -> Result<(Vec<HostRender>, Vec<String>)> {
    let (store, key) = site_files::open_secrets(site, identity)?;
    let (res, mut store) = deploy::render_site(site, store);
    let hosts = res?;
    let added = store.added().to_vec();
    store.save_if_changed(&key)?;
    Ok((hosts, added))
}

/// Outcome of one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub host: String,
    pub ok: bool,
    pub plan: Option<HostPlan>,
    pub stacks_changed: Vec<String>,
    pub unhealthy: Vec<String>,
    pub error: Option<String>,
    pub seconds: f64,
    /// Commands run on the host over SSH (each one round trip), besides
    /// the Docker API's health polling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_commands: Option<u64>,
    /// Unified diffs of changed files (secret files are never fetched).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub diffs: std::collections::BTreeMap<String, String>,
    /// Images pushed to the host (`images: push`), with the bytes sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Pushed>,
}

/// Read state and plan, without changing anything (`regie plan`).
pub fn plan(site: &Resolved, renders: &[HostRender], o: &RunOptions) -> Vec<HostReport> {
    for_hosts(renders, o.parallel, |r, _pb| {
        let t0 = Instant::now();
        let mut diffs = Default::default();
        let res = (|| -> Result<HostPlan> {
            let conn = connect(site, &r.host, o)?;
            let st = probe(&conn, &r.manifest.base_dir, &site.inv.site.name, None)?;
            let p = deploy::plan_host(r, &st, &o.plan);
            diffs = fetch_diffs(&conn, &p, r)?;
            Ok(p)
        })();
        let mut rep = report(&r.host, t0, res.map(|p| (Some(p), vec![], vec![])));
        rep.diffs = diffs;
        rep
    })
}

fn report(
    host: &str,
    t0: Instant,
    res: Result<(Option<HostPlan>, Vec<String>, Vec<String>)>,
) -> HostReport {
    let seconds = t0.elapsed().as_secs_f64();
    match res {
        Ok((plan, changed, unhealthy)) => HostReport {
            host: host.into(),
            ok: unhealthy.is_empty(),
            plan,
            stacks_changed: changed,
            unhealthy,
            error: None,
            seconds,
            remote_commands: None,
            diffs: Default::default(),
            images: Vec::new(),
        },
        Err(e) => HostReport {
            host: host.into(),
            ok: false,
            plan: None,
            stacks_changed: vec![],
            unhealthy: vec![],
            error: Some(format!("{e:#}")),
            seconds,
            remote_commands: None,
            diffs: Default::default(),
            images: Vec::new(),
        },
    }
}

fn for_hosts<F>(renders: &[HostRender], parallel: usize, f: F) -> Vec<HostReport>
where
    F: Fn(&HostRender, &indicatif::ProgressBar) -> HostReport + Sync,
{
    in_parallel(
        renders,
        |r| &r.host,
        parallel,
        f,
        |rep| match (&rep.error, rep.unhealthy.is_empty()) {
            (Some(_), _) => "failed",
            (None, false) => "unhealthy",
            (None, true) => "done",
        },
    )
}

pub(crate) fn probe(
    conn: &Conn,
    base: &str,
    site: &str,
    lock: Option<&str>,
) -> Result<RemoteState> {
    let out = conn.run(&deploy::probe_script(base, site, lock), b"")?;
    let text = String::from_utf8_lossy(&out.stdout);
    deploy::parse_probe(&text)
        .map_err(|e| anyhow!("{}: {e}; {}", conn.target.name, out.stderr.trim()))
}

/// Read a host's state and take its lock (`info` says who holds it);
/// an error when another run holds it. The caller releases it.
pub(crate) fn take_lock(conn: &Conn, base: &str, site: &str, info: &str) -> Result<RemoteState> {
    let host = &conn.target.name;
    let raw = conn.run(&deploy::probe_script(base, site, Some(info)), b"")?;
    let text = String::from_utf8_lossy(&raw.stdout).into_owned();
    let st = match deploy::parse_probe(&text) {
        Ok(st) => st,
        Err(e) => {
            // The lock may have been taken before the answer went bad.
            if text.contains("==regie:lock\nacquired") {
                let _ = conn.run(&deploy::unlock_script(base), b"");
            }
            bail!("{host}: {e}; {}", raw.stderr.trim());
        }
    };
    if let Some(holder) = &st.lock_held_by {
        bail!("{}", locked_by(host, holder));
    }
    Ok(st)
}

fn locked_by(host: &str, holder: &str) -> String {
    format!("{host} is locked by another run: {holder} (see `regie lock status`; `regie lock release` if it is stale)")
}

/// Deploy every host (`regie deploy`).
pub fn deploy(
    site: &Resolved,
    renders: &[HostRender],
    o: &RunOptions,
    command: &str,
) -> Vec<HostReport> {
    let info = lock_info(command);
    for_hosts(renders, o.parallel, |r, pb| {
        let t0 = Instant::now();
        let mut commands = None;
        let mut pushed = Vec::new();
        let res = deploy_host(site, r, o, &info, pb, &mut commands, &mut pushed);
        let mut rep = report(&r.host, t0, res);
        rep.remote_commands = commands;
        rep.images = pushed;
        rep
    })
}

type HostOutcome = (Option<HostPlan>, Vec<String>, Vec<String>);

fn deploy_host(
    site: &Resolved,
    r: &HostRender,
    o: &RunOptions,
    info: &str,
    pb: &indicatif::ProgressBar,
    commands: &mut Option<u64>,
    pushed: &mut Vec<Pushed>,
) -> Result<HostOutcome> {
    let conn = connect(site, &r.host, o)?;
    let res = deploy_connected(&conn, site, r, o, info, pb, pushed);
    *commands = Some(conn.commands_run());
    res
}

fn deploy_connected(
    conn: &Conn,
    site: &Resolved,
    r: &HostRender,
    o: &RunOptions,
    info: &str,
    pb: &indicatif::ProgressBar,
    pushed: &mut Vec<Pushed>,
) -> Result<HostOutcome> {
    pb.set_message("reading state");
    let base = r.manifest.base_dir.clone();
    // A host already in sync costs one round trip: the probe, without the
    // lock. A lock held by another run is reported all the same.
    let st0 = probe(conn, &base, &site.inv.site.name, None)?;
    if let Some(holder) = &st0.lock_held_by {
        bail!("{}", locked_by(&r.host, holder));
    }
    let noop = deploy::plan_host(r, &st0, &o.plan);
    if noop.is_empty() && st0.docker && st0.compose.is_some() {
        return Ok((Some(noop), vec![], vec![]));
    }
    pb.set_message("taking the lock");
    // Read again under the lock: another run may have changed the host.
    let st = take_lock(conn, &base, &site.inv.site.name, info)?;
    // From here on the lock is ours: release it whatever happens.
    let res = deploy_locked_pushing(conn, r, o, &st, pb, pushed);
    let unlock = conn.run(&deploy::unlock_script(&base), b"");
    let out = res?;
    match unlock {
        Ok(u) if u.ok() => {}
        Ok(u) => bail!(
            "{}: could not release the lock: {}",
            r.host,
            u.stderr.trim()
        ),
        Err(e) => bail!("{}: could not release the lock: {e}", r.host),
    }
    Ok(out)
}

pub(crate) fn deploy_locked(
    conn: &Conn,
    r: &HostRender,
    o: &RunOptions,
    st: &RemoteState,
    pb: &indicatif::ProgressBar,
) -> Result<HostOutcome> {
    deploy_locked_pushing(conn, r, o, st, pb, &mut Vec::new())
}

/// [`deploy_locked`], telling `pushed` what images went to the host.
pub(crate) fn deploy_locked_pushing(
    conn: &Conn,
    r: &HostRender,
    o: &RunOptions,
    st: &RemoteState,
    pb: &indicatif::ProgressBar,
    pushed: &mut Vec<Pushed>,
) -> Result<HostOutcome> {
    let base = &r.manifest.base_dir;
    if !st.docker {
        bail!("{}: Docker is not running or not reachable for this user (install docker.io, or set ssh.sudo: true)", r.host);
    }
    let Some(compose) = st.compose else {
        bail!("{}: no compose CLI: install `docker-compose` (Debian/Ubuntu package) or the `docker compose` plugin", r.host);
    };
    let plan = deploy::plan_host(r, st, &o.plan);
    if plan.is_empty() {
        return Ok((Some(plan), vec![], vec![]));
    }
    if let Some(push) = &r.push {
        // Before any file changes: a site without a registry gets the
        // images of the stacks brought up from regie, and a failed
        // transfer leaves the host as it was.
        let ups: Vec<&str> = plan.stacks_up().map(|s| s.name.as_str()).collect();
        let refs = crate::images::plan::images_of(r, &ups);
        let got = crate::images::run::push(conn, base, push, &refs, &|m| pb.set_message(m))
            .map_err(|e| anyhow!("{}: images not pushed, nothing changed: {e:#}", r.host))?;
        pushed.extend(got);
    }
    if !plan.files.is_empty() {
        pb.set_message(format!("uploading {} file(s)", plan.files.len()));
        let (script, tar) = deploy::upload(&plan, r);
        let out = conn.run(&script, &tar)?;
        if !out.ok() {
            bail!(
                "{}: upload failed, previous files left in place: {}",
                r.host,
                out.stderr.trim()
            );
        }
    }
    let mut changed = Vec::new();
    let mut unhealthy = Vec::new();
    if plan
        .files
        .iter()
        .any(|f| f.path.starts_with(crate::backup::plan::DIR))
    {
        pb.set_message("installing the backup schedule");
        let out = conn.run(
            &crate::backup::plan::schedule_script(base, &r.manifest.site),
            b"",
        )?;
        if !out.ok() {
            unhealthy.push(format!(
                "backup: installing the schedule failed: {}",
                out.stderr.trim()
            ));
        }
    }
    for s in plan
        .stacks
        .iter()
        .filter(|s| s.action == StackAction::Remove)
    {
        pb.set_message(format!("{}: compose down", s.name));
        let out = conn.run(
            &deploy::down_script(base, &s.name, &s.project, compose, o.delete_data),
            b"",
        )?;
        if !out.ok() {
            unhealthy.push(format!(
                "{}: compose down failed: {}",
                s.name,
                String::from_utf8_lossy(&out.stdout).trim()
            ));
        } else {
            changed.push(s.name.clone());
        }
    }
    let ups: Vec<&deploy::StackPlan> = plan.stacks_up().collect();
    if !ups.is_empty() {
        // Every changed stack in one command, the proxy first and the
        // others together; then their health, all at once.
        pb.set_message(format!("compose up: {}", names(&ups)));
        let waves = up::waves(&ups);
        let out = conn.run(&up::up_many_script(base, &waves, compose), b"")?;
        let names_up: Vec<&str> = ups.iter().map(|s| s.name.as_str()).collect();
        let results = up::parse_up_many(&String::from_utf8_lossy(&out.stdout), &names_up);
        let mut gated = Vec::new();
        for s in &ups {
            let res = &results[&s.name];
            if !res.ok {
                unhealthy.push(format!(
                    "{}: compose up failed: {}",
                    s.name,
                    res.output.trim()
                ));
                continue;
            }
            changed.push(s.name.clone());
            // Never shorter than the stack's own start period and retries.
            let budget = stack_budget(r, &s.name);
            gated.push((*s, o.health_timeout.max(budget)));
        }
        if !gated.is_empty() {
            pb.set_message(format!(
                "waiting for health checks: {}",
                names(&gated.iter().map(|(s, _)| *s).collect::<Vec<_>>())
            ));
            let projects: Vec<(String, Duration)> =
                gated.iter().map(|(s, t)| (s.project.clone(), *t)).collect();
            for ((s, _), res) in gated.iter().zip(wait_healthy_many(conn, &projects)) {
                if let Err(why) = res {
                    unhealthy.push(format!("{}: {why}", s.name));
                }
            }
        }
    }
    // The host manifest records what is deployed and healthy; a failed
    // stack keeps its previous entries so the next deploy retries it.
    // Stacks whose previous entries are carried over: failed ones (so the
    // next deploy retries them), ones outside --service (not deployed now),
    // and ones kept without --prune (so a later --prune can remove them).
    let mut failed: BTreeSet<&str> = unhealthy
        .iter()
        .filter_map(|u| u.split(':').next())
        .collect();
    for s in &plan.stacks {
        if s.action == StackAction::Keep {
            failed.insert(s.name.as_str());
        }
    }
    if let Some(only) = &o.plan.only {
        for s in &r.manifest.stacks {
            if !only.contains(&s.name) {
                failed.insert(s.name.as_str());
            }
        }
        if let Some(m) = &st.manifest {
            for s in &m.stacks {
                if !only.contains(&s.name) {
                    failed.insert(s.name.as_str());
                }
            }
        }
    }
    let mut manifest = r.manifest.clone();
    if !failed.is_empty() {
        let old = st.manifest.clone();
        manifest
            .files
            .retain(|f| !failed.contains(f.path.split('/').next().unwrap_or("")));
        manifest
            .stacks
            .retain(|s| !failed.contains(s.name.as_str()));
        if let Some(old) = old {
            manifest.files.extend(
                old.files
                    .into_iter()
                    .filter(|f| failed.contains(f.path.split('/').next().unwrap_or(""))),
            );
            manifest.stacks.extend(
                old.stacks
                    .into_iter()
                    .filter(|s| failed.contains(s.name.as_str())),
            );
        }
    }
    let now = unix_now();
    manifest.deployed_by = Some(std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    manifest.deployed_at = Some(now);
    let journal = serde_json::json!({
        "at": now,
        "by": manifest.deployed_by,
        "regie_version": crate::site::files::VERSION,
        "files": plan.files.iter().map(|f| serde_json::json!({"path": f.path, "change": f.change})).collect::<Vec<_>>(),
        "stacks_changed": changed,
        "failed": unhealthy,
    })
    .to_string();
    let body = serde_json::to_vec_pretty(&manifest)?;
    let out = conn.run(&deploy::manifest_script(base, &journal), &body)?;
    if !out.ok() {
        bail!(
            "{}: writing the manifest failed: {}",
            r.host,
            out.stderr.trim()
        );
    }
    Ok((Some(plan), changed, unhealthy))
}

/// Names of stacks, for progress messages.
fn names(stacks: &[&deploy::StackPlan]) -> String {
    stacks
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The health allowance a stack's compose file declares
/// (`start_period + interval × retries` of its slowest service).
fn stack_budget(r: &HostRender, stack: &str) -> Duration {
    r.files
        .iter()
        .find(|f| f.path == format!("{stack}/docker-compose.yml"))
        .map(|f| crate::deploy::health::health_budget(&String::from_utf8_lossy(&f.content)))
        .unwrap_or_default()
}

/// How container state is read: the Docker API (bollard) through the SSH
/// session when the socket can be forwarded, else `docker inspect` JSON
/// from a command (users who reach docker only through sudo).
enum StateReader<'a> {
    Api(Box<crate::remote::docker_api::DockerApi>),
    Command(&'a Conn),
}

impl StateReader<'_> {
    /// The container's own health check run now, through the API: None
    /// without the API (sudo users: Docker's own verdict is awaited), or
    /// when the container has no check or the call fails.
    fn probe_health(&self, container: &str) -> Option<bool> {
        match self {
            StateReader::Api(api) => api.probe_health(container).ok().flatten(),
            StateReader::Command(_) => None,
        }
    }

    fn containers(&self, project: &str) -> std::result::Result<Vec<Container>, String> {
        match self {
            StateReader::Api(api) => api
                .containers(&format!("com.docker.compose.project={project}"))
                .map_err(|e| format!("{e:#}")),
            StateReader::Command(conn) => {
                let out = conn
                    .run(&deploy::inspect_project_script(project), b"")
                    .map_err(|e| e.to_string())?;
                parse_inspect(&String::from_utf8_lossy(&out.stdout)).map_err(|e| e.to_string())
            }
        }
    }
}

/// Poll the project's containers until all run and pass their health
/// checks, or one fails, or the timeout passes. Returns the failure text
/// with the last log lines.
pub(crate) fn wait_healthy(
    conn: &Conn,
    project: &str,
    timeout: Duration,
) -> std::result::Result<(), String> {
    wait_healthy_many(conn, &[(project.to_string(), timeout)])
        .pop()
        .unwrap_or(Ok(()))
}

/// [`wait_healthy`] for several projects at once, each with its own
/// timeout, through one reader: a host's stacks brought up together are
/// waited for together, and the gate opens for each as soon as it is
/// healthy. Results in the order of `projects`.
pub(crate) fn wait_healthy_many(
    conn: &Conn,
    projects: &[(String, Duration)],
) -> Vec<std::result::Result<(), String>> {
    let reader = match crate::remote::docker_api::DockerApi::open(conn) {
        Ok(api) => StateReader::Api(Box::new(api)),
        Err(_) => StateReader::Command(conn),
    };
    let t0 = Instant::now();
    let mut gates = gate::Gate::default();
    // Per project: None while waiting, then Ok, or the reason and the
    // containers to report (failed or not up).
    type Failure = (String, Vec<Container>);
    let mut done: Vec<Option<std::result::Result<(), Failure>>> = vec![None; projects.len()];
    while done.iter().any(Option::is_none) {
        for (i, (project, timeout)) in projects.iter().enumerate() {
            if done[i].is_some() {
                continue;
            }
            let cs = match reader.containers(project) {
                Ok(cs) => cs,
                Err(e) => {
                    done[i] = Some(Err((e, vec![])));
                    continue;
                }
            };
            let mut verdicts: Vec<gate::Verdict> =
                cs.iter().map(|c| gates.judge(c, Instant::now())).collect();
            // Containers Docker has not judged yet: their own check, now.
            for (c, v) in cs.iter().zip(verdicts.iter_mut()) {
                if *v == (gate::Verdict::Waiting { probe: true }) {
                    if let Some(passed) = reader.probe_health(&c.name) {
                        gates.probed(&c.name, passed, Instant::now());
                        *v = gates.judge(c, Instant::now());
                    }
                }
            }
            if !cs.is_empty() && verdicts.iter().all(|v| *v == gate::Verdict::Up) {
                done[i] = Some(Ok(()));
                continue;
            }
            let failed: Vec<Container> = cs
                .iter()
                .zip(&verdicts)
                .filter(|(_, v)| **v == gate::Verdict::Failed)
                .map(|(c, _)| c.clone())
                .collect();
            if !failed.is_empty() {
                done[i] = Some(Err(("health check failed".into(), failed)));
            } else if t0.elapsed() > *timeout {
                let not_up = cs
                    .iter()
                    .zip(&verdicts)
                    .filter(|(_, v)| **v != gate::Verdict::Up)
                    .map(|(c, _)| c.clone())
                    .collect();
                done[i] = Some(Err((
                    format!("not healthy after {}s", timeout.as_secs()),
                    not_up,
                )));
            }
        }
        if done.iter().any(Option::is_none) {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    // Logs through a command: release the API (and the session) first.
    drop(reader);
    done.into_iter()
        .map(|d| match d {
            Some(Err((what, bad))) => Err(failure_text(conn, &what, &bad)),
            _ => Ok(()),
        })
        .collect()
}

/// `what (container states)` and the last log lines of those containers.
fn failure_text(conn: &Conn, what: &str, bad: &[Container]) -> String {
    if bad.is_empty() {
        return what.to_string();
    }
    let names: Vec<&str> = bad.iter().map(|c| c.name.as_str()).collect();
    let logs = conn
        .run(&deploy::logs_script(&names, 20), b"")
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let states: Vec<String> = bad.iter().map(Container::describe).collect();
    format!("{what} ({})\n{}", states.join(", "), logs.trim_end())
}

/// `regie lock status|release`.
pub fn lock_status(
    site: &Resolved,
    host: &str,
    base: &str,
    o: &RunOptions,
) -> Result<Option<String>> {
    let conn = connect(site, host, o)?;
    Ok(probe(&conn, base, &site.inv.site.name, None)?.lock_held_by)
}

pub fn lock_release(site: &Resolved, host: &str, base: &str, o: &RunOptions) -> Result<()> {
    let conn = connect(site, host, o)?;
    let out = conn.run(&deploy::unlock_script(base), b"")?;
    if !out.ok() {
        bail!("{host}: {}", out.stderr.trim());
    }
    Ok(())
}

/// `regie history`: the host's deploy journal.
pub fn history(
    site: &Resolved,
    host: &str,
    base: &str,
    o: &RunOptions,
) -> Result<Vec<serde_json::Value>> {
    let conn = connect(site, host, o)?;
    let out = conn.run(&deploy::journal_read_script(base), b"")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// `regie lock status`: who holds the lock of each host running services,
/// in inventory order; `each` gets every host's answer as it comes.
pub fn lock_statuses(
    site: &Resolved,
    o: &RunOptions,
    mut each: impl FnMut(&str, Result<Option<String>>),
) {
    for (host, h) in &site.inv.hosts {
        if !site.placement.contains_key(host) {
            continue;
        }
        each(host, lock_status(site, host, &h.base_dir, o));
    }
}

/// `regie lock release HOST`: remove a stale lock. Ok(true) once released;
/// an error when the host runs no service of the site.
pub fn release_lock(site: &Resolved, host: &str, o: &RunOptions) -> Result<bool> {
    if let Some(h) = site.inv.hosts.get(host) {
        if site.placement.contains_key(host) {
            lock_release(site, host, &h.base_dir, o)?;
            return Ok(true);
        }
    }
    if !site.placement.contains_key(host) {
        bail!(
            "no host `{host}` running services in {}",
            site.file.display()
        );
    }
    Ok(false)
}

/// `regie history`: the journals of the hosts running services (or of
/// `only`), in inventory order, each entry as `{"host", "entry"}`.
pub fn histories(
    site: &Resolved,
    only: Option<&str>,
    o: &RunOptions,
) -> Result<Vec<serde_json::Value>> {
    let mut all = Vec::new();
    for (name, h) in &site.inv.hosts {
        if !site.placement.contains_key(name) || only.is_some_and(|x| x != name) {
            continue;
        }
        for e in history(site, name, &h.base_dir, o)? {
            all.push(serde_json::json!({ "host": name, "entry": e }));
        }
    }
    Ok(all)
}

/// One round trip for the old content of every changed non-secret file.
fn fetch_diffs(
    conn: &Conn,
    plan: &HostPlan,
    r: &HostRender,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    let wanted: Vec<&deploy::FilePlan> = plan.files.iter().filter(|f| !f.secret).collect();
    if wanted.is_empty() {
        return Ok(out);
    }
    let script = deploy::cat_files_script(&plan.base_dir, wanted.iter().map(|f| f.path.as_str()));
    let res = conn.run(&script, b"")?;
    let old = deploy::parse_cat_files(&String::from_utf8_lossy(&res.stdout));
    for f in wanted {
        let new = r
            .files
            .iter()
            .find(|x| x.path == f.path)
            .map(|x| String::from_utf8_lossy(&x.content).into_owned())
            .unwrap_or_default();
        let before = old.get(&f.path).cloned().unwrap_or_default();
        let diff = similar::TextDiff::from_lines(&before, &new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", f.path), &format!("b/{}", f.path))
            .to_string();
        out.insert(f.path.clone(), diff);
    }
    Ok(out)
}

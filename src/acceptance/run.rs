//! `regie acceptance`: before a new regie or catalog version goes to
//! clients, run every stack of a test site on a staging host through what
//! a client's site lives through: deploy and health, known data, backup,
//! loss and restore, a restore drill, an update from the previously pinned
//! version, then remove everything the run made. It calls the same
//! executors as the commands (deploy, backup, restore, update); the probes
//! and the teardown are [`crate::acceptance::plan`]'s scripts.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use super::plan::{self, Probe, StackReport, StepResult};
use crate::backup::plan::Repo;
use crate::backup::run as backup;
use crate::deploy::run::render_saving_secrets;
use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::Resolved;
use crate::update::plan::set_service_version;
use crate::update::run::{apply, ApplyOptions};

pub struct Options<'a> {
    pub run: RunOptions,
    pub identity: Option<&'a Path>,
    /// Service → version to deploy first and update from.
    pub from: BTreeMap<String, String>,
    /// Leave the stacks, volumes and repositories in place at the end.
    pub keep: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub site: String,
    pub nonce: String,
    pub stacks: Vec<StackReport>,
    /// Per host (and the NAS): what the teardown said; empty with `keep`.
    pub teardown: Vec<StepResult>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.stacks.iter().all(StackReport::ok) && self.teardown.iter().all(|t| t.ok)
    }
}

fn elapsed(t0: Instant) -> f64 {
    (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0
}

/// Reports of the stacks, with the step added to each one `which` names.
struct Book {
    stacks: Vec<StackReport>,
}

impl Book {
    fn add(&mut self, service: &str, step: &str, ok: bool, t0: Instant, detail: impl Into<String>) {
        if let Some(r) = self.stacks.iter_mut().find(|r| r.service == service) {
            r.steps.push(StepResult {
                step: step.into(),
                ok,
                seconds: elapsed(t0),
                detail: detail.into(),
            });
        }
    }
    fn failed(&self, service: &str) -> bool {
        self.stacks.iter().any(|r| r.service == service && !r.ok())
    }
}

/// Refuse hosts (and the NAS) that already hold this site: the run removes
/// what it made, and must never remove a client's data.
fn preflight(site: &Resolved, o: &RunOptions) -> Result<()> {
    let name = &site.inv.site.name;
    for host in site.placement.keys() {
        let base = &site.inv.hosts[host].base_dir;
        let conn = connect(site, host, o)?;
        let out = conn.run(&plan::occupied_script(name, base), b"")?;
        if !out.ok() {
            bail!(
                "{host}: {}: an acceptance run needs hosts without this site (it removes everything it made at the end)",
                String::from_utf8_lossy(&out.stdout).trim()
            );
        }
    }
    match Repo::of(site) {
        Some(Repo::Sftp { nas, base, .. }) => {
            let conn = connect(site, &nas, o).with_context(|| format!("NAS `{nas}`"))?;
            let out = conn.run(&plan::absent_script(&base), b"")?;
            if !out.ok() {
                bail!("NAS `{nas}`: {base} exists: an acceptance run needs a repository of its own, which it removes at the end");
            }
        }
        Some(Repo::Local { base }) => {
            for host in site.placement.keys() {
                let conn = connect(site, host, o)?;
                if !conn.run(&plan::absent_script(&base), b"")?.ok() {
                    bail!("{host}: {base} exists: an acceptance run needs a repository of its own");
                }
            }
        }
        None => bail!(
            "the site has no backup section: an acceptance run backs up and restores every stack"
        ),
    }
    Ok(())
}

/// The inventory with each `from` service set to its old version, and the
/// version each is to be updated to (the one the inventory gives now).
fn with_old_versions(
    site: &Resolved,
    from: &BTreeMap<String, String>,
) -> Result<(String, BTreeMap<String, String>)> {
    let mut text = std::fs::read_to_string(&site.file)
        .with_context(|| format!("reading {}", site.file.display()))?;
    let mut to = BTreeMap::new();
    for (service, old) in from {
        let (_, placed) = site.service(service)?;
        if placed.version == *old {
            bail!("{service}: --from {old} is the version the inventory pins already: give the previous one");
        }
        text = set_service_version(&text, service, old)
            .map_err(|e| anyhow!("{}: {e}", site.file.display()))?;
        to.insert(service.clone(), placed.version.clone());
    }
    Ok((text, to))
}

/// The whole run. The inventory is rewritten while it runs (old versions,
/// then `update apply` writes the new ones) and put back as it was at the
/// end, whatever happened.
pub fn run(site: &Resolved, opts: &Options) -> Result<Report> {
    let o = &opts.run;
    let original = std::fs::read_to_string(&site.file)
        .with_context(|| format!("reading {}", site.file.display()))?;
    preflight(site, o)?;
    let (old_text, targets) = with_old_versions(site, &opts.from)?;
    crate::util::fs::write_atomic(&site.file, old_text.as_bytes(), 0o644)?;
    let res = run_steps(site, opts, &targets);
    let put_back = crate::util::fs::write_atomic(&site.file, original.as_bytes(), 0o644);
    let report = res?;
    put_back.with_context(|| format!("putting {} back as it was", site.file.display()))?;
    Ok(report)
}

fn run_steps(
    site0: &Resolved,
    opts: &Options,
    targets: &BTreeMap<String, String>,
) -> Result<Report> {
    let o = &opts.run;
    let site = crate::site::inventory::load(&site0.file)?;
    let name = site.inv.site.name.clone();
    let nonce = plan::nonce(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ u64::from(std::process::id()),
    );
    let mut book = Book {
        stacks: site
            .placement
            .iter()
            .flat_map(|(h, ps)| {
                ps.iter().map(move |p| StackReport {
                    service: p.name.clone(),
                    host: h.clone(),
                    steps: vec![],
                })
            })
            .collect(),
    };
    // The probes are written with the site's restic image, which has `sh`.
    let image = crate::backup::plan::restic_image(&site);

    // 1. Deploy every stack (at the old version where one is given).
    let t0 = Instant::now();
    let (renders, _) = render_saving_secrets(&site, opts.identity)?;
    let reports = crate::deploy::run::deploy(&site, &renders, o, "regie acceptance");
    for r in &book.stacks.clone() {
        let host = reports.iter().find(|h| h.host == r.host);
        let why = host.and_then(|h| {
            h.error.clone().or_else(|| {
                h.unhealthy
                    .iter()
                    .find(|u| u.starts_with(&format!("{}:", r.service)))
                    .cloned()
            })
        });
        let version = site
            .service(&r.service)
            .map(|(_, p)| p.version)
            .unwrap_or_default();
        book.add(
            &r.service,
            "deploy",
            why.is_none(),
            t0,
            why.unwrap_or(format!("{version}, healthy")),
        );
    }
    let probes = plan::probes(&site, &renders);

    // 2. The repositories.
    let t0 = Instant::now();
    let nas_key = backup::nas_key_for(&site, opts.identity)?;
    let init = backup::init(&site, o, nas_key.as_deref());
    let init_err = match &init {
        Err(e) => Some(format!("{e:#}")),
        Ok((_, jobs)) => jobs.iter().find(|j| !j.ok).map(|j| {
            format!(
                "{}: {}",
                j.host,
                j.error
                    .clone()
                    .unwrap_or_else(|| "repository init failed".into())
            )
        }),
    };

    // 3. Known data, backup, loss, restore, check, drill.
    for p in &probes {
        if book.failed(&p.service) {
            continue;
        }
        if let Some(e) = &init_err {
            book.add(&p.service, "backup", false, t0, e.clone());
            continue;
        }
        probe_cycle(&site, o, p, &image, &nonce, &mut book);
    }

    // 4. Updates from the old version.
    for (service, to) in targets {
        if book.failed(service) {
            continue;
        }
        let t0 = Instant::now();
        let site_now = crate::site::inventory::load(&site.file)?;
        let ao = ApplyOptions {
            run: o.clone(),
            to: Some(to.clone()),
            now: true,
            identity: opts.identity,
            command: "regie acceptance".into(),
        };
        match apply(&site_now, service, &ao) {
            Ok(rep) => {
                let detail = format!("{} -> {}: {}", rep.from, to, rep.outcome);
                let ok = rep.ok();
                book.add(
                    service,
                    "update",
                    ok,
                    t0,
                    match (&rep.error, ok) {
                        (Some(e), false) => format!("{detail}: {e}"),
                        _ => detail,
                    },
                );
                if ok {
                    if let Some(p) = probes.iter().find(|p| &p.service == service) {
                        check_probes(&site_now, o, p, &image, &nonce, "after-up", &mut book);
                    }
                }
            }
            Err(e) => book.add(service, "update", false, t0, format!("{e:#}")),
        }
    }
    for r in &book.stacks.clone() {
        if !targets.contains_key(&r.service) {
            book.add(
                &r.service,
                "update",
                true,
                Instant::now(),
                "skipped: no --from version given",
            );
        }
    }

    // 5. Teardown.
    let teardown = if opts.keep {
        vec![]
    } else {
        teardown(&site, o, &renders, nas_key.as_deref())
    };
    Ok(Report {
        site: name,
        nonce,
        stacks: book.stacks,
        teardown,
    })
}

fn host_run(site: &Resolved, o: &RunOptions, host: &str, script: &str) -> Result<String> {
    let conn = connect(site, host, o)?;
    let out = conn.run(script, b"")?;
    if !out.ok() {
        bail!("{}", out.stderr.trim().lines().last().unwrap_or("failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn probe_cycle(
    site: &Resolved,
    o: &RunOptions,
    p: &Probe,
    image: &str,
    nonce: &str,
    book: &mut Book,
) {
    let s = p.service.as_str();
    let what = format!(
        "{} volume(s), {} database(s){}",
        p.volumes.len(),
        p.databases.len(),
        if p.unprobed_dumps.is_empty() {
            String::new()
        } else {
            format!("; not probed: {}", p.unprobed_dumps.join(", "))
        }
    );
    let t0 = Instant::now();
    match host_run(site, o, &p.host, &plan::seed_script(p, image, nonce)) {
        Ok(_) => book.add(s, "seed", true, t0, what),
        Err(e) => return book.add(s, "seed", false, t0, format!("{e:#}")),
    }
    let t0 = Instant::now();
    match backup::run(site, o, Some(s), Some(&p.host)) {
        Ok(jobs) if jobs.iter().all(|j| j.ok) => {
            let cap = jobs
                .iter()
                .flat_map(|j| j.output.iter().flat_map(|o| o.results.iter()))
                .find(|r| r.service.as_deref() == Some(s))
                .and_then(|r| r.capture.clone())
                .unwrap_or_default();
            book.add(s, "backup", true, t0, format!("capture {cap}"));
        }
        Ok(jobs) => {
            let e = jobs
                .iter()
                .find_map(|j| j.error.clone())
                .unwrap_or_else(|| "backup failed".into());
            return book.add(s, "backup", false, t0, e);
        }
        Err(e) => return book.add(s, "backup", false, t0, format!("{e:#}")),
    }
    let t0 = Instant::now();
    if let Err(e) = host_run(site, o, &p.host, &plan::lose_script(p, image)) {
        return book.add(s, "lose", false, t0, format!("{e:#}"));
    }
    book.add(s, "lose", true, t0, "probes removed");
    let t0 = Instant::now();
    match backup::restore(site, o, s, "latest", None, None, false, false) {
        Ok(j) if j.ok => book.add(s, "restore", true, t0, "healthy"),
        Ok(j) => {
            let msg = j
                .error
                .clone()
                .or_else(|| j.output.as_ref().and_then(|o| o.messages.last().cloned()))
                .unwrap_or_else(|| "restore failed".into());
            return book.add(s, "restore", false, t0, msg);
        }
        Err(e) => return book.add(s, "restore", false, t0, format!("{e:#}")),
    }
    check_probes(site, o, p, image, nonce, "data", book);
    let t0 = Instant::now();
    match backup::verify(site, o, Some(s), Some(&p.host), false) {
        Ok(jobs) if jobs.iter().all(|j| j.ok) => {
            book.add(s, "drill", true, t0, "scratch restore healthy")
        }
        Ok(jobs) => {
            let msg = jobs
                .iter()
                .find_map(|j| {
                    j.error
                        .clone()
                        .or_else(|| j.output.as_ref().and_then(|o| o.messages.last().cloned()))
                })
                .unwrap_or_else(|| "drill failed".into());
            book.add(s, "drill", false, t0, msg)
        }
        Err(e) => book.add(s, "drill", false, t0, format!("{e:#}")),
    }
}

fn check_probes(
    site: &Resolved,
    o: &RunOptions,
    p: &Probe,
    image: &str,
    nonce: &str,
    step: &str,
    book: &mut Book,
) {
    let t0 = Instant::now();
    match host_run(site, o, &p.host, &plan::verify_script(p, image)) {
        Ok(out) => {
            let missing = plan::missing(&out, p, nonce);
            if missing.is_empty() {
                book.add(&p.service, step, true, t0, "every probe came back");
            } else {
                book.add(
                    &p.service,
                    step,
                    false,
                    t0,
                    format!("lost: {}", missing.join(", ")),
                );
            }
        }
        Err(e) => book.add(&p.service, step, false, t0, format!("{e:#}")),
    }
}

fn teardown(
    site: &Resolved,
    o: &RunOptions,
    renders: &[crate::site::files::HostRender],
    nas_key: Option<&str>,
) -> Vec<StepResult> {
    let mut out = Vec::new();
    let name = &site.inv.site.name;
    for r in renders {
        let t0 = Instant::now();
        let stacks: Vec<String> = r.manifest.stacks.iter().map(|s| s.name.clone()).collect();
        let projects: Vec<String> = r
            .manifest
            .stacks
            .iter()
            .map(|s| s.project.clone())
            .collect();
        let mut script = plan::teardown_script(name, &r.manifest.base_dir, &projects, &stacks);
        if let Some(Repo::Local { base }) = Repo::of(site) {
            script.push_str(&format!("\n{}", plan::remove_script(&base)));
        }
        let res = host_run(site, o, &r.host, &script);
        out.push(StepResult {
            step: format!("teardown {}", r.host),
            ok: res.is_ok(),
            seconds: elapsed(t0),
            detail: res
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_else(|| "stacks, volumes, schedule and state removed".into()),
        });
    }
    if let Some(Repo::Sftp { nas, base, .. }) = Repo::of(site) {
        let t0 = Instant::now();
        let line = nas_key
            .and_then(|k| {
                crate::backup::plan::nas_authorized_line(
                    k,
                    name,
                    &crate::backup::plan::NasAccess::Sftp,
                )
                .ok()
            })
            .unwrap_or_default();
        let script = plan::nas_teardown_script(&base, &line);
        let res = host_run(site, o, &nas, &script);
        out.push(StepResult {
            step: format!("teardown {nas}"),
            ok: res.is_ok(),
            seconds: elapsed(t0),
            detail: res
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_else(|| format!("{base} and the hosts' key removed")),
        });
    }
    out
}

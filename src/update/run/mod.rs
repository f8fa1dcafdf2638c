//! Update executor: reads registries and hosts for `update check`, and runs
//! `update apply` on a host: lock, backup first, record, pull, recreate,
//! health, post-upgrade steps, and on any failure an automatic rollback
//! (previous images by id, previous files, the pre-update backup restored
//! when the data was touched). What to do is decided in `update`; this
//! module only carries it out.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::deploy::plan as deploy;
use crate::remote::connect::{connect, RunOptions};
use crate::remote::registry::{Client, ImageRef};
use crate::remote::ssh::Conn;
use crate::site::catalog::{Descriptor, UpgradePolicy};
use crate::site::files::HostRender;
use crate::site::inventory::{Placed, Resolved};
use crate::update::plan::{self as update, Candidates, Running};

/// Mirrors and private registries of the inventory (`registries:`).
fn mirrors(site: &Resolved) -> BTreeMap<String, String> {
    site.inv
        .registries
        .iter()
        .map(|(k, v)| (k.clone(), v.url.clone()))
        .collect()
}

fn project(site: &Resolved, stack: &str) -> String {
    crate::site::layout::project(&site.inv.site.name, stack)
}

/// Tags of repositories, read once each.
#[derive(Default)]
struct TagCache(BTreeMap<String, std::result::Result<Vec<String>, String>>);

impl TagCache {
    fn tags(
        &mut self,
        image: &ImageRef,
        m: &BTreeMap<String, String>,
    ) -> std::result::Result<Vec<String>, String> {
        let key = format!("{}/{}", image.registry, image.repository);
        self.0
            .entry(key)
            .or_insert_with(|| Client::new(image, m).tags().map_err(|e| format!("{e:#}")))
            .clone()
    }
}

/// One component of one service, as `update check` sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentCheck {
    pub service: String,
    pub host: String,
    pub component: String,
    /// The image the inventory and catalog ask for.
    pub image: String,
    /// What runs now (None: not running).
    pub running: Option<String>,
    pub running_digest: Option<String>,
    /// The registry's digest for the same tag, when it differs from the
    /// running one (the tag was rebuilt: a pull would change the image).
    pub new_digest: Option<String>,
    /// For the service's main component: versions by policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Candidates>,
    pub notes: Vec<String>,
    pub error: Option<String>,
}

impl ComponentCheck {
    /// An update that policy lets `apply` (and `maintain`) take alone.
    pub fn allowed(&self) -> Option<&str> {
        self.candidates.as_ref().and_then(|c| c.allowed.as_deref())
    }
}

fn main_component(d: &Descriptor) -> Option<(&String, &crate::site::catalog::Component)> {
    d.components.iter().find(|(_, c)| c.main)
}

/// `regie update check`: running images from the hosts, versions from the
/// registries; nothing is pulled.
pub fn check(site: &Resolved, o: &RunOptions, only: Option<&str>) -> Result<Vec<ComponentCheck>> {
    let m = mirrors(site);
    let mut cache = TagCache::default();
    let mut out = Vec::new();
    for (host, stacks) in &site.placement {
        let stacks: Vec<&Placed> = stacks
            .iter()
            .filter(|p| only.is_none_or(|s| s == p.name))
            .collect();
        if stacks.is_empty() {
            continue;
        }
        // What runs, per stack (an unreachable host is reported, not fatal).
        let running: std::result::Result<BTreeMap<String, Vec<Running>>, String> =
            connect(site, host, o)
                .and_then(|conn| {
                    let mut r = BTreeMap::new();
                    for p in &stacks {
                        let outp =
                            conn.run(&update::running_images_script(&project(site, &p.name)), b"")?;
                        r.insert(
                            p.name.clone(),
                            update::parse_running(&String::from_utf8_lossy(&outp.stdout)),
                        );
                    }
                    Ok(r)
                })
                .map_err(|e| format!("{e:#}"));
        for p in &stacks {
            let d = &site.catalog.stacks[&p.name];
            let main = main_component(d).map(|(n, _)| n.clone());
            for (comp, image) in &p.images {
                let r = ImageRef::parse(image);
                let mut c = ComponentCheck {
                    service: p.name.clone(),
                    host: host.clone(),
                    component: comp.clone(),
                    image: image.clone(),
                    running: None,
                    running_digest: None,
                    new_digest: None,
                    candidates: None,
                    notes: vec![],
                    error: None,
                };
                match &running {
                    Ok(rs) => {
                        if let Some(x) = rs
                            .get(&p.name)
                            .and_then(|v| v.iter().find(|x| &x.component == comp))
                        {
                            c.running = Some(x.image.clone());
                            c.running_digest = update::digest_for(x);
                        } else {
                            c.notes.push("not running".into());
                        }
                    }
                    Err(e) => c.error = Some(format!("{host}: {e}")),
                }
                let tags = match cache.tags(&r, &m) {
                    Ok(t) => t,
                    Err(e) => {
                        c.error = Some(e);
                        out.push(c);
                        continue;
                    }
                };
                if let (Some(tag), Some(rd)) = (&r.tag, &c.running_digest) {
                    if c.running.as_deref() == Some(image.as_str()) {
                        match Client::new(&r, &m).digest(tag) {
                            Ok(d) if &d != rd => c.new_digest = Some(d),
                            Ok(_) => {}
                            Err(e) => c.notes.push(format!("digest of {tag}: {e:#}")),
                        }
                    }
                }
                if Some(comp) == main.as_ref() {
                    let cd = &d.components[comp];
                    let cands = update::candidates(
                        d.upgrade.policy,
                        &d.upgrade.esr,
                        &p.version,
                        &cd.suffix,
                        &tags,
                    );
                    c.candidates = Some(cands);
                } else if r.repository.ends_with("postgres") {
                    if let Some(tag) = &r.tag {
                        for m in update::postgres_majors(tag, &tags) {
                            c.notes.push(format!(
                                "PostgreSQL {m} exists: majors are never automatic (`regie update postgres --service {} --to {}`)",
                                p.name,
                                crate::site::image::postgres_major(&format!("x:{m}")).unwrap_or(0)
                            ));
                        }
                    }
                }
                out.push(c);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// apply

/// One step of an update, as journaled.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub at: u64,
    pub step: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub service: String,
    pub host: String,
    pub from: String,
    pub to: Option<String>,
    /// updated | up-to-date | refused | aborted | rolled-back | rollback-failed
    pub outcome: String,
    pub capture: Option<String>,
    pub data_restored: bool,
    pub steps: Vec<Step>,
    pub error: Option<String>,
}

impl ApplyReport {
    pub fn ok(&self) -> bool {
        matches!(
            self.outcome.as_str(),
            "updated" | "up-to-date" | "nothing-to-do"
        )
    }
    fn step(&mut self, step: &str, ok: bool, detail: impl Into<String>) {
        self.steps.push(Step {
            at: crate::util::time::unix_now(),
            step: step.into(),
            ok,
            detail: detail.into(),
        });
    }
}

pub struct ApplyOptions<'a> {
    pub run: RunOptions,
    pub to: Option<String>,
    /// Ignore the maintenance window.
    pub now: bool,
    pub identity: Option<&'a Path>,
    pub command: String,
}

/// Why a run is refused outside the window, if it is.
pub fn window_refusal(site: &Resolved) -> Option<String> {
    let Some(m) = &site.inv.maintenance else {
        return Some("the inventory has no maintenance window (maintenance.window): use --now to update anyway".into());
    };
    let w = crate::site::inventory::parse_window(&m.window).ok()?;
    match update::now_in(&site.inv.site.timezone) {
        Ok((day, min, shown)) if !update::in_window(&w, &day, min) => Some(format!(
            "outside the maintenance window `{}` (now {shown}): use --now to update anyway",
            m.window
        )),
        Ok(_) => None,
        Err(e) => Some(e),
    }
}

/// `regie update apply --service S`: the whole update of one service.
/// Errors before anything changed are returned as `Err`; once the host is
/// locked, the report says what happened.
/// The files of `host` as the site renders them.
fn render_host(site: &Resolved, host: &str, identity: Option<&Path>) -> Result<HostRender> {
    let (renders, _) = crate::deploy::run::render_saving_secrets(site, identity)?;
    Ok(renders
        .into_iter()
        .find(|r| r.host == host)
        .expect("host rendered"))
}

/// An update's change to the inventory: the new text, the site it gives,
/// and one host's files before and after.
struct InventoryChange {
    src: String,
    site: Resolved,
    old: HostRender,
    new: HostRender,
}

impl InventoryChange {
    /// The inventory text changed by `edit`, validated like any inventory,
    /// and `host` rendered both ways.
    fn new<E: std::fmt::Display>(
        site: &Resolved,
        host: &str,
        identity: Option<&Path>,
        edit: impl FnOnce(&str) -> std::result::Result<String, E>,
    ) -> Result<InventoryChange> {
        let text = std::fs::read_to_string(&site.file)
            .with_context(|| format!("reading {}", site.file.display()))?;
        let src = edit(&text).map_err(|e| anyhow!("{}: {e}", site.file.display()))?;
        let new_site = crate::site::inventory::load_str(&site.file, &src)?;
        Ok(InventoryChange {
            old: render_host(site, host, identity)?,
            new: render_host(&new_site, host, identity)?,
            site: new_site,
            src,
        })
    }

    /// Write the new text over the inventory (a temporary file renamed).
    fn save(&self) -> std::io::Result<()> {
        let file = &self.site.file;
        let tmp = file.with_extension("yml.regie-tmp");
        std::fs::write(&tmp, &self.src).and_then(|_| std::fs::rename(&tmp, file))
    }
}

pub fn apply(site: &Resolved, service: &str, ao: &ApplyOptions) -> Result<ApplyReport> {
    let (host, placed) = site
        .placement
        .iter()
        .find_map(|(h, v)| {
            v.iter()
                .find(|p| p.name == service)
                .map(|p| (h.clone(), p.clone()))
        })
        .ok_or_else(|| anyhow!("no service `{service}` placed in {}", site.file.display()))?;
    let d = site.catalog.stacks[service].clone();
    let (main, mc) = main_component(&d)
        .map(|(n, c)| (n.clone(), c.clone()))
        .ok_or_else(|| anyhow!("stack `{service}` has no main component to version"))?;
    let mut rep = ApplyReport {
        service: service.into(),
        host: host.clone(),
        from: placed.version.clone(),
        to: None,
        outcome: "refused".into(),
        capture: None,
        data_restored: false,
        steps: vec![],
        error: None,
    };
    if site
        .inv
        .services
        .get(service)
        .is_some_and(|s| s.images.contains_key(&main))
    {
        bail!("services.{service}.images.{main} pins the image: change it in the inventory and deploy instead");
    }
    // Target version.
    let image = ImageRef::parse(&placed.images[&main]);
    let tags = Client::new(&image, &mirrors(site))
        .tags()
        .with_context(|| format!("listing the tags of {}", image.name()))?;
    let target = match &ao.to {
        Some(t) => t.clone(),
        None => {
            if d.upgrade.policy == UpgradePolicy::Rolling {
                bail!("{service} follows a rolling tag: regie does not apply new digests of the same tag yet; see docs/updates.md (rolling tags)");
            }
            match update::candidates(
                d.upgrade.policy,
                &d.upgrade.esr,
                &placed.version,
                &mc.suffix,
                &tags,
            )
            .allowed
            {
                Some(a) => a,
                None => {
                    rep.outcome = "up-to-date".into();
                    return Ok(rep);
                }
            }
        }
    };
    if let Some(why) = update::refuse(
        d.upgrade.policy,
        &d.upgrade.esr,
        &placed.version,
        &target,
        &mc.suffix,
        &tags,
    ) {
        bail!("{service}: {} → {target} refused: {why}", placed.version);
    }
    rep.to = Some(target.clone());
    if !ao.now {
        if let Some(why) = window_refusal(site) {
            bail!("{service}: update refused, {why}");
        }
    }
    let backed_up = crate::backup::plan::captures(site, &host)
        .iter()
        .any(|c| c.name == service);
    if !backed_up {
        bail!("{service} is not backed up (backup: in the inventory): regie updates only services it can restore");
    }
    // The inventory with the new version, validated like any inventory.
    let change = InventoryChange::new(site, &host, ao.identity, |src| {
        update::set_service_version(src, service, &target)
    })?;
    let (new_site, old_r, new_r) = (&change.site, &change.old, &change.new);
    let new_placed = new_site.placement[&host]
        .iter()
        .find(|p| p.name == service)
        .expect("service placed")
        .clone();

    let (conn, base, st) = lock_host(site, &host, &ao.run, &ao.command)?;
    rep.step("lock", true, "");
    let res = apply_locked(
        site,
        &conn,
        &base,
        &st,
        &placed,
        &new_placed,
        &d,
        old_r,
        new_r,
        ao,
        &mut rep,
    );
    if let Err(e) = res {
        rep.error = Some(format!("{e:#}"));
    }
    if rep.outcome == "updated" {
        // The inventory keeps the version now running.
        match change.save() {
            Ok(()) => {
                rep.step(
                    "inventory",
                    true,
                    format!("services.{service}.version: {target}"),
                );
                let _ = conn.run(&update::record_script(&base, service, true), b"");
            }
            Err(e) => rep.step(
                "inventory",
                false,
                format!(
                    "could not write {}: {e}; set services.{service}.version: \"{target}\" by hand",
                    site.file.display()
                ),
            ),
        }
    }
    finish(&conn, &base, &mut rep);
    Ok(rep)
}

/// Connect to a host and take its lock; the probe's view of the host.
fn lock_host(
    site: &Resolved,
    host: &str,
    o: &RunOptions,
    command: &str,
) -> Result<(Conn, String, deploy::RemoteState)> {
    let conn = connect(site, host, o)?;
    let base = site.inv.hosts[host].base_dir.clone();
    let st = crate::deploy::run::take_lock(
        &conn,
        &base,
        &site.inv.site.name,
        &crate::deploy::run::lock_info(command),
    )?;
    Ok((conn, base, st))
}

/// Journal the update on the host and release the lock.
fn finish(conn: &Conn, base: &str, rep: &mut ApplyReport) {
    let journal = serde_json::json!({
        "at": crate::util::time::unix_now(),
        "by": std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
        "kind": "update",
        "service": rep.service,
        "from": rep.from,
        "to": rep.to,
        "outcome": rep.outcome,
        "capture": rep.capture,
        "data_restored": rep.data_restored,
        "steps": rep.steps,
        "error": rep.error,
    })
    .to_string();
    let _ = conn.run(&update::journal_script(base, &journal), b"");
    let unlock = conn.run(&deploy::unlock_script(base), b"");
    if !unlock.as_ref().is_ok_and(|u| u.ok()) {
        rep.step(
            "unlock",
            false,
            "could not release the lock: `regie lock release`",
        );
    }
}

/// `regie update rollback --service S`: settle an update that did not
/// finish (connection cut, regie killed) from the record it left on the
/// host: the recorded images by id, the files of the inventory (which
/// still names the previous version), and with `restore_data` (default:
/// when the stack migrates its database) the pre-update capture.
pub fn rollback_interrupted(
    site: &Resolved,
    service: &str,
    o: &RunOptions,
    identity: Option<&Path>,
    restore_data: Option<bool>,
) -> Result<ApplyReport> {
    let (host, placed) = site
        .placement
        .iter()
        .find_map(|(h, v)| {
            v.iter()
                .find(|p| p.name == service)
                .map(|p| (h.clone(), p.clone()))
        })
        .ok_or_else(|| anyhow!("no service `{service}` placed in {}", site.file.display()))?;
    let d = &site.catalog.stacks[service];
    let old_r = render_host(site, &host, identity)?;
    let (conn, base, _) = lock_host(
        site,
        &host,
        o,
        &format!("update rollback --service {service}"),
    )?;
    let mut rep = ApplyReport {
        service: service.into(),
        host: host.clone(),
        from: placed.version.clone(),
        to: None,
        outcome: "rollback-failed".into(),
        capture: None,
        data_restored: false,
        steps: vec![],
        error: None,
    };
    let res = (|| -> Result<()> {
        let out = conn.run(&update::read_record_script(&base, service), b"")?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if text.is_empty() {
            rep.outcome = "nothing-to-do".into();
            return Ok(());
        }
        let rec: serde_json::Value =
            serde_json::from_str(&text).context("the update record is not JSON")?;
        let running: Vec<Running> = serde_json::from_value(rec["running"].clone())
            .context("the update record has no running images")?;
        rep.to = rec["to"].as_str().map(str::to_string);
        rep.capture = rec["capture"].as_str().map(str::to_string);
        if rec["to"].as_str() == Some(placed.version.as_str()) {
            // The update went through and the inventory was written: only
            // the record was left (regie stopped just before removing it).
            let _ = conn.run(&update::record_script(&base, service, true), b"");
            rep.step("record", true, "the update had completed; record removed");
            rep.outcome = "completed".into();
            return Ok(());
        }
        if rec["from"].as_str() != Some(placed.version.as_str()) {
            bail!(
                "the record is of an update from {} but the inventory says {}: set services.{service}.version back to {} first",
                rec["from"], placed.version, rec["from"]
            );
        }
        let snapshot = rec["snapshot"].as_str().unwrap_or("").to_string();
        let restore = restore_data.unwrap_or(d.upgrade.migrates_database);
        if restore && snapshot.is_empty() {
            bail!("the record names no pre-update snapshot to restore");
        }
        let mut ro = o.clone();
        ro.plan.only = Some(
            [service.to_string(), ".regie".to_string()]
                .into_iter()
                .collect(),
        );
        rollback(
            &conn,
            &base,
            &project(site, service),
            &old_r,
            &ro,
            &running,
            restore.then_some(snapshot.as_str()),
            service,
            &mut rep,
        )?;
        let _ = conn.run(&update::record_script(&base, service, true), b"");
        rep.outcome = "rolled-back".into();
        Ok(())
    })();
    if let Err(e) = res {
        rep.error = Some(format!("{e:#}"));
    }
    finish(&conn, &base, &mut rep);
    Ok(rep)
}

/// Write the host's record of the update in progress.
fn write_record(conn: &Conn, base: &str, service: &str, record: &serde_json::Value) -> Result<()> {
    let w = conn.run(
        &update::record_script(base, service, false),
        record.to_string().as_bytes(),
    )?;
    if !w.ok() {
        bail!(
            "writing the update record failed, nothing was changed: {}",
            w.stderr.trim()
        );
    }
    Ok(())
}

/// Refuse while an earlier update's record is on the host; then the
/// pre-update capture of the service, under the lock the caller holds.
/// Returns a snapshot id of that capture.
fn unfinished_then_backup(
    conn: &Conn,
    base: &str,
    service: &str,
    rep: &mut ApplyReport,
) -> Result<String> {
    let prev = conn.run(&update::read_record_script(base, service), b"")?;
    if !String::from_utf8_lossy(&prev.stdout).trim().is_empty() {
        bail!("an earlier update of {service} did not finish (record in {base}/.regie/update/{service}.json): run `regie update rollback --service {service}` first");
    }
    let pb = indicatif::ProgressBar::hidden();
    let job = crate::backup::run::run_job(
        conn,
        base,
        &["run", "--kind", "pre-update", service],
        true,
        &pb,
    )
    .context("backup before the update")?;
    let res = job
        .results
        .iter()
        .find(|r| r.service.as_deref() == Some(service));
    match res {
        Some(r) if r.ok && job.status == 0 => {
            rep.capture = r.capture.clone();
            rep.step("backup", true, r.capture.clone().unwrap_or_default());
            Ok(r.snapshots.first().cloned().unwrap_or_default())
        }
        other => {
            let why = other
                .map(|r| r.error.clone())
                .filter(|e| !e.is_empty())
                .or_else(|| job.messages.last().cloned())
                .unwrap_or_else(|| format!("exit {}", job.status));
            rep.step("backup", false, why.clone());
            bail!("the backup before the update failed, nothing was changed: {why}");
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_locked(
    site: &Resolved,
    conn: &Conn,
    base: &str,
    st: &deploy::RemoteState,
    old: &Placed,
    new: &Placed,
    d: &Descriptor,
    old_r: &HostRender,
    new_r: &HostRender,
    ao: &ApplyOptions,
    rep: &mut ApplyReport,
) -> Result<()> {
    let service = &old.name;
    let proj = project(site, service);
    rep.outcome = "aborted".into();
    let snapshot = unfinished_then_backup(conn, base, service, rep)?;
    // 2. Record what runs now.
    let out = conn.run(&update::running_images_script(&proj), b"")?;
    let running = update::parse_running(&String::from_utf8_lossy(&out.stdout));
    if running.is_empty() {
        bail!(
            "{service} is not running on {}: deploy it before updating it",
            rep.host
        );
    }
    let changed: Vec<String> = new
        .images
        .iter()
        .filter(|(c, i)| old.images.get(*c) != Some(i))
        .map(|(c, _)| c.clone())
        .collect();
    let record = serde_json::json!({
        "service": service, "from": old.version, "to": new.version,
        "started": crate::util::time::unix_now(), "capture": rep.capture, "snapshot": snapshot,
        "running": running,
        "files": old_r.manifest.files.iter().filter(|f| f.path.starts_with(&format!("{service}/"))).map(|f| serde_json::json!({"path": f.path, "sha256": f.sha256})).collect::<Vec<_>>(),
    });
    write_record(conn, base, service, &record)?;
    rep.step(
        "record",
        true,
        running
            .iter()
            .map(|r| format!("{} {} {}", r.component, r.image, r.id))
            .collect::<Vec<_>>()
            .join("; "),
    );
    // 3. Pull the new images before anything stops.
    let pulls: Vec<String> = changed.iter().map(|c| new.images[c].clone()).collect();
    let out = conn.run(&update::pull_script(&pulls), b"")?;
    if !out.ok() {
        let why = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            out.stderr.trim()
        );
        rep.step("pull", false, why.clone());
        let _ = conn.run(&update::record_script(base, service, true), b"");
        bail!(
            "pulling {} failed, nothing was changed: {why}",
            pulls.join(", ")
        );
    }
    rep.step("pull", true, pulls.join(", "));
    // Fingerprint of the data the new version could touch.
    let restic_image = crate::backup::plan::restic_image(site);
    let vols: Vec<String> = d
        .backup
        .volumes
        .iter()
        .map(|v| format!("{proj}_{v}"))
        .collect();
    // A fingerprint that cannot be read counts as changed (restore).
    let fingerprint = || -> Option<String> {
        conn.run(&update::fingerprint_script(&restic_image, &vols), b"")
            .ok()
            .filter(|o| o.ok())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let fp_before = fingerprint();
    // 4. New files, recreate, health.
    let mut ro = ao.run.clone();
    // The stack and the host's backup files (drill files name the images).
    ro.plan.only = Some(
        [service.clone(), ".regie".to_string()]
            .into_iter()
            .collect(),
    );
    let pb = indicatif::ProgressBar::hidden();
    let failure: Option<String> = match crate::deploy::run::deploy_locked(conn, new_r, &ro, st, &pb)
    {
        Err(e) => Some(format!("{e:#}")),
        Ok((_, _, unhealthy)) if !unhealthy.is_empty() => Some(unhealthy.join("; ")),
        Ok(_) => {
            rep.step("recreate", true, format!("{} healthy", new.version));
            // 5. Post-upgrade steps.
            let mut f = None;
            for ex in &d.upgrade.after {
                let what = ex.command.join(" ");
                let res = conn.run(&update::exec_script(&proj, ex), b"");
                let failed = match &res {
                    Ok(o) if o.ok() => None,
                    Ok(o) => Some(String::from_utf8_lossy(&o.stdout).trim().to_string()),
                    Err(e) => Some(format!("{e:#}")),
                };
                if let Some(out) = failed {
                    let why = format!("`{what}` failed: {out}");
                    rep.step("after", false, why.clone());
                    f = Some(why);
                    break;
                }
                rep.step("after", true, what);
            }
            if f.is_none() {
                if let Err(why) =
                    crate::deploy::run::wait_healthy(conn, &proj, ao.run.health_timeout)
                {
                    f = Some(why);
                }
            }
            f
        }
    };
    let Some(why) = failure else {
        // The record goes once the inventory names the new version.
        rep.outcome = "updated".into();
        return Ok(());
    };
    if !rep.steps.iter().any(|x| x.step == "recreate") {
        rep.step(
            "recreate",
            false,
            why.lines().next().unwrap_or("").to_string(),
        );
    }
    rep.error = Some(why.clone());
    // 6. Roll back.
    let fp_after = fingerprint();
    let touched = fp_before.is_none() || fp_after.is_none() || fp_after != fp_before;
    let restore = touched || d.upgrade.migrates_database;
    match rollback(
        conn,
        base,
        &proj,
        old_r,
        &ro,
        &running,
        restore.then_some(snapshot.as_str()),
        service,
        rep,
    ) {
        Ok(()) => {
            rep.outcome = "rolled-back".into();
            let _ = conn.run(&update::record_script(base, service, true), b"");
        }
        Err(e) => {
            rep.outcome = "rollback-failed".into();
            rep.error = Some(format!("{why}\nrollback failed: {e:#}"));
        }
    }
    Ok(())
}

/// Put back the previous images (by id), files and, when `snapshot` is
/// given, the data of the pre-update capture; check the previous images run.
#[allow(clippy::too_many_arguments)]
fn rollback(
    conn: &Conn,
    base: &str,
    proj: &str,
    old_r: &HostRender,
    ro: &RunOptions,
    running: &[Running],
    snapshot: Option<&str>,
    service: &str,
    rep: &mut ApplyReport,
) -> Result<()> {
    let pairs: Vec<(String, String)> = running
        .iter()
        .map(|r| (r.id.clone(), r.image.clone()))
        .collect();
    let o = conn.run(&update::retag_script(&pairs), b"")?;
    if !o.ok() {
        bail!("re-tagging the previous images failed: {}", o.stderr.trim());
    }
    rep.step(
        "rollback-images",
        true,
        pairs
            .iter()
            .map(|(i, n)| format!("{n} → {i}"))
            .collect::<Vec<_>>()
            .join("; "),
    );
    // Every file of the stack written again (a failed deploy keeps the
    // previous manifest entries while the new files are on disk).
    let unhealthy = redeploy(conn, base, &old_r.manifest.site, old_r, ro, service)?;
    let pb = indicatif::ProgressBar::hidden();
    rep.step(
        "rollback-files",
        unhealthy.is_empty() || snapshot.is_some(),
        unhealthy.join("; "),
    );
    if let Some(snap) = snapshot {
        // The failed version's data is captured first (safety capture).
        let job = crate::backup::run::run_job(conn, base, &["restore", service, snap], true, &pb)?;
        let ok = job.status == 0 && job.results.iter().any(|r| r.kind == "restore" && r.ok);
        rep.step(
            "rollback-data",
            ok,
            if ok {
                format!("pre-update capture restored ({snap})")
            } else {
                job.messages
                    .iter()
                    .rev()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" | ")
            },
        );
        if !ok {
            bail!("restoring the pre-update backup failed (snapshot {snap}): restore it with `regie restore --service {service} --snapshot {snap}`");
        }
        rep.data_restored = true;
    } else if !unhealthy.is_empty() {
        bail!(
            "the previous version is not healthy: {}",
            unhealthy.join("; ")
        );
    }
    // The previous images run again.
    let out = conn.run(&update::running_images_script(proj), b"")?;
    let now = update::parse_running(&String::from_utf8_lossy(&out.stdout));
    for r in running {
        let back = now.iter().find(|n| n.component == r.component);
        if back.map(|n| &n.id) != Some(&r.id) {
            bail!(
                "{} runs {} instead of the previous image {}",
                r.component,
                back.map(|n| n.id.as_str()).unwrap_or("nothing"),
                r.id
            );
        }
    }
    rep.step("rollback-check", true, "previous images running");
    Ok(())
}

/// How long it took, for messages.
pub fn since(t0: Instant) -> String {
    format!("{:.0}s", t0.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------------------
// PostgreSQL major upgrade: dump and restore.

/// `regie update postgres --service S --to MAJOR`: a new PostgreSQL major
/// for the service's database, the only safe way: the pre-update capture
/// holds a dump of the old cluster; the old data volume is copied aside
/// (kept, for going back); the stack's containers are removed and the data
/// volume emptied; the new image starts a fresh cluster; the dump is loaded
/// by the backup script's restore; the inventory gets
/// `services.S.images.<component>`. Any failure puts the old volume and
/// files back.
pub fn postgres(
    site: &Resolved,
    service: &str,
    major: u64,
    ao: &ApplyOptions,
) -> Result<ApplyReport> {
    let (host, placed) = site
        .placement
        .iter()
        .find_map(|(h, v)| {
            v.iter()
                .find(|p| p.name == service)
                .map(|p| (h.clone(), p.clone()))
        })
        .ok_or_else(|| anyhow!("no service `{service}` placed in {}", site.file.display()))?;
    let d = site.catalog.stacks[service].clone();
    let dump = d
        .backup
        .dumps
        .iter()
        .find(|x| {
            placed
                .images
                .get(&x.component)
                .is_some_and(|i| ImageRef::parse(i).repository.ends_with("postgres"))
        })
        .cloned()
        .ok_or_else(|| anyhow!("{service} has no PostgreSQL database that regie dumps"))?;
    let comp = dump.component.clone();
    let vol = dump
        .volume
        .clone()
        .ok_or_else(|| anyhow!("{service}: the catalog names no volume for the {comp} database"))?;
    let cur_ref = placed.images[&comp].clone();
    let cur = crate::site::image::postgres_major(&cur_ref)
        .ok_or_else(|| anyhow!("{service}: cannot read a PostgreSQL major in `{cur_ref}`"))?;
    if major <= cur {
        bail!("{service}: PostgreSQL {cur} runs; --to must be a newer major (going back is a restore of the pre-update backup, see docs/updates.md)");
    }
    let new_ref = crate::site::image::postgres_ref(&cur_ref, major)
        .ok_or_else(|| anyhow!("{service}: cannot make a {major} tag from `{cur_ref}`"))?;
    let image = ImageRef::parse(&new_ref);
    let tags = Client::new(&image, &mirrors(site))
        .tags()
        .with_context(|| format!("listing the tags of {}", image.name()))?;
    if !image.tag.as_ref().is_some_and(|t| tags.contains(t)) {
        bail!("{service}: the registry has no `{new_ref}`");
    }
    if !ao.now {
        if let Some(why) = window_refusal(site) {
            bail!("{service}: update refused, {why}");
        }
    }
    if !crate::backup::plan::captures(site, &host)
        .iter()
        .any(|c| c.name == service)
    {
        bail!("{service} is not backed up (backup: in the inventory): its database cannot be moved without a dump");
    }
    let change = InventoryChange::new(site, &host, ao.identity, |src| {
        update::set_service_image(src, service, &comp, &new_ref)
    })?;
    let (old_r, new_r) = (&change.old, &change.new);

    let mut rep = ApplyReport {
        service: service.into(),
        host: host.clone(),
        from: cur_ref.clone(),
        to: Some(new_ref.clone()),
        outcome: "aborted".into(),
        capture: None,
        data_restored: false,
        steps: vec![],
        error: None,
    };
    let (conn, base, st) = lock_host(site, &host, &ao.run, &ao.command)?;
    rep.step("lock", true, "");
    let proj = project(site, service);
    let live = format!("{proj}_{vol}");
    let kept = format!("{live}-pg{cur}-{}", crate::util::time::unix_now());
    let res = postgres_locked(
        &comp, &conn, &base, &st, site, service, &proj, &live, &kept, &new_ref, old_r, new_r, ao,
        &mut rep,
    );
    if let Err(e) = res {
        rep.error = Some(format!("{e:#}"));
    }
    if rep.outcome == "updated" {
        match change.save() {
            Ok(()) => {
                rep.step("inventory", true, format!("services.{service}.images.{comp}: {new_ref}"));
                let _ = conn.run(&update::record_script(&base, service, true), b"");
            }
            Err(e) => rep.step(
                "inventory",
                false,
                format!("could not write {}: {e}; set services.{service}.images.{comp}: \"{new_ref}\" by hand", site.file.display()),
            ),
        }
    }
    finish(&conn, &base, &mut rep);
    Ok(rep)
}

/// Wait until the compose service `comp` of the project runs healthy.
fn component_up(
    conn: &Conn,
    project: &str,
    comp: &str,
    timeout: std::time::Duration,
) -> std::result::Result<(), String> {
    let t0 = Instant::now();
    loop {
        let out = conn
            .run(&deploy::inspect_project_script(project), b"")
            .map_err(|e| format!("{e:#}"))?;
        let cs = crate::site::state::parse_inspect(&String::from_utf8_lossy(&out.stdout))
            .unwrap_or_default();
        let c = cs.iter().find(|c| c.service == comp);
        match c {
            Some(c) if c.is_up() => return Ok(()),
            Some(c) if c.is_failed() || c.status == "exited" => {
                return Err(format!("{} is {}", c.name, c.status))
            }
            _ if t0.elapsed() > timeout => {
                return Err(format!(
                    "{comp} not healthy after {}s ({})",
                    timeout.as_secs(),
                    c.map(|c| format!("{} {}", c.status, c.health.clone().unwrap_or_default()))
                        .unwrap_or_else(|| "no container".into())
                ))
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(500)),
        }
    }
}

/// The stack's files written again whatever the manifest says, the stack
/// brought up; its unhealthy messages.
fn redeploy(
    conn: &Conn,
    base: &str,
    site_name: &str,
    r: &HostRender,
    o: &RunOptions,
    service: &str,
) -> Result<Vec<String>> {
    let mut st = crate::deploy::run::probe(conn, base, site_name, None)?;
    if let Some(m) = st.manifest.as_mut() {
        let prefix = format!("{service}/");
        m.files.retain(|f| !f.path.starts_with(&prefix));
        m.stacks.retain(|x| x.name != service);
    }
    let mut ro = o.clone();
    ro.plan.only = Some(
        [service.to_string(), ".regie".to_string()]
            .into_iter()
            .collect(),
    );
    let pb = indicatif::ProgressBar::hidden();
    Ok(crate::deploy::run::deploy_locked(conn, r, &ro, &st, &pb)?.2)
}

#[allow(clippy::too_many_arguments)]
fn postgres_locked(
    comp: &str,
    conn: &Conn,
    base: &str,
    st: &deploy::RemoteState,
    site: &Resolved,
    service: &str,
    proj: &str,
    live: &str,
    kept: &str,
    new_ref: &str,
    old_r: &HostRender,
    new_r: &HostRender,
    ao: &ApplyOptions,
    rep: &mut ApplyReport,
) -> Result<()> {
    let compose = st
        .compose
        .ok_or_else(|| anyhow!("no compose CLI on {}", rep.host))?;
    // Backup first: its dump is what the new cluster is loaded from.
    let snapshot = unfinished_then_backup(conn, base, service, rep)?;
    let record = serde_json::json!({
        "service": service, "kind": "postgres", "from": rep.from, "to": new_ref,
        "started": crate::util::time::unix_now(), "capture": rep.capture, "snapshot": snapshot,
        "kept_volume": kept,
    });
    write_record(conn, base, service, &record)?;
    rep.step(
        "record",
        true,
        format!("old cluster will be kept in volume {kept}"),
    );
    // 2. Pull first.
    let out = conn.run(&update::pull_script(&[new_ref.to_string()]), b"")?;
    if !out.ok() {
        let _ = conn.run(&update::record_script(base, service, true), b"");
        let why = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            out.stderr.trim()
        );
        rep.step("pull", false, why.clone());
        bail!("pulling {new_ref} failed, nothing was changed: {why}");
    }
    rep.step("pull", true, new_ref);
    // 3. Stop, keep the old cluster, empty the live volume.
    let restic_image = crate::backup::plan::restic_image(site);
    let o = conn.run(
        &update::compose_rm_script(base, service, proj, compose),
        b"",
    )?;
    if !o.ok() {
        let _ = redeploy(conn, base, &site.inv.site.name, old_r, &ao.run, service);
        let _ = conn.run(&update::record_script(base, service, true), b"");
        bail!(
            "stopping {service} failed: {}",
            String::from_utf8_lossy(&o.stdout).trim()
        );
    }
    rep.step("stop", true, "");
    let o = conn.run(&update::copy_volume_script(&restic_image, live, kept), b"")?;
    if !o.ok() {
        let _ = redeploy(conn, base, &site.inv.site.name, old_r, &ao.run, service);
        let _ = conn.run(&update::record_script(base, service, true), b"");
        bail!(
            "copying {live} to {kept} failed, {service} restarted as it was: {}",
            o.stderr.trim()
        );
    }
    rep.step("keep", true, format!("{live} copied to {kept}"));
    // From here on, failures put the kept cluster back.
    let failure: Option<String> = (|| {
        let o = conn.run(&update::volume_rm_script(live), b"").ok()?;
        if !o.ok() {
            return Some(format!("removing {live} failed: {}", o.stderr.trim()));
        }
        rep.step("empty", true, live);
        // 4. New files, the new cluster starts empty: the database must
        // come up (the rest of the stack may not, on an empty database).
        match redeploy(conn, base, &site.inv.site.name, new_r, &ao.run, service) {
            Err(e) => return Some(format!("{e:#}")),
            Ok(u) => {
                if let Err(e) = component_up(conn, proj, comp, ao.run.health_timeout) {
                    rep.step("recreate", false, e.clone());
                    return Some(format!("the new PostgreSQL did not start: {e}"));
                }
                rep.step(
                    "recreate",
                    true,
                    if u.is_empty() {
                        "healthy".to_string()
                    } else {
                        format!(
                            "database up; on the empty database: {}",
                            u.join("; ").lines().next().unwrap_or("")
                        )
                    },
                )
            }
        }
        // 5. The dump into the new cluster (no safety capture: the data is
        // in the pre-update capture and in the kept volume).
        let pb = indicatif::ProgressBar::hidden();
        let job = match crate::backup::run::run_job(
            conn,
            base,
            &["restore", service, &snapshot, "--no-safety-backup"],
            true,
            &pb,
        ) {
            Ok(j) => j,
            Err(e) => return Some(format!("{e:#}")),
        };
        let ok = job.status == 0 && job.results.iter().any(|r| r.kind == "restore" && r.ok);
        if !ok {
            let why = job
                .messages
                .iter()
                .rev()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ");
            rep.step("load", false, why.clone());
            return Some(format!(
                "loading the dump into PostgreSQL {} failed: {why}",
                crate::site::image::postgres_major(new_ref).unwrap_or(0)
            ));
        }
        rep.step("load", true, format!("dump of {snapshot} loaded"));
        // The manifest names the new files, the stack is healthy.
        match redeploy(conn, base, &site.inv.site.name, new_r, &ao.run, service) {
            Err(e) => Some(format!("{e:#}")),
            Ok(u) if !u.is_empty() => Some(u.join("; ")),
            Ok(_) => None,
        }
    })();
    let Some(why) = failure else {
        rep.outcome = "updated".into();
        return Ok(());
    };
    rep.error = Some(why.clone());
    // Back: the kept cluster into the live volume, the previous files.
    let back = (|| -> Result<()> {
        let o = conn.run(
            &update::put_volume_back_script(&restic_image, proj, kept, live),
            b"",
        )?;
        if !o.ok() {
            bail!("copying {kept} back to {live} failed: {}", o.stderr.trim());
        }
        let u = redeploy(conn, base, &site.inv.site.name, old_r, &ao.run, service)?;
        if !u.is_empty() {
            bail!("the previous version is not healthy: {}", u.join("; "));
        }
        Ok(())
    })();
    match back {
        Ok(()) => {
            rep.step(
                "rollback",
                true,
                format!("PostgreSQL {} back from {kept}", rep.from),
            );
            rep.outcome = "rolled-back".into();
            let _ = conn.run(&update::record_script(base, service, true), b"");
        }
        Err(e) => {
            rep.step("rollback", false, format!("{e:#}"));
            rep.outcome = "rollback-failed".into();
            rep.error = Some(format!("{why}\nrollback failed: {e:#}; the old cluster is in volume {kept}, the dump in capture {}", rep.capture.clone().unwrap_or_default()));
        }
    }
    Ok(())
}

//! `update apply`: one service to a newer version on its host. Lock,
//! backup first, record, pull, recreate, health, post-upgrade steps, and on
//! any failure the automatic rollback (previous images by id, previous
//! files, the pre-update backup restored when the data was touched). Also
//! the report, the lock and journal, and the inventory change shared with
//! the PostgreSQL upgrade.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use super::interrupted::{unfinished_then_backup, write_record};
use super::postgres::redeploy;
use super::{main_component, mirrors, project, render_host};
use crate::deploy::plan as deploy;
use crate::remote::connect::{connect, RunOptions};
use crate::remote::registry::{Client, ImageRef};
use crate::remote::ssh::Conn;
use crate::site::catalog::{Descriptor, UpgradePolicy};
use crate::site::files::HostRender;
use crate::site::inventory::{ImageMode, Placed, Resolved};
use crate::update::plan::{self as update, window_refusal, Running};

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
    pub(super) fn step(&mut self, step: &str, ok: bool, detail: impl Into<String>) {
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

/// An update's change to the inventory: the new text, the site it gives,
/// and one host's files before and after.
pub(super) struct InventoryChange {
    pub(super) src: String,
    pub(super) site: Resolved,
    pub(super) old: HostRender,
    pub(super) new: HostRender,
}

impl InventoryChange {
    /// The inventory text changed by `edit`, validated like any inventory,
    /// and `host` rendered both ways.
    pub(super) fn new<E: std::fmt::Display>(
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

    /// Write the new text over the inventory (a temporary file renamed),
    /// keeping the file's permission bits (0o644 when it is absent). The
    /// error is the underlying cause, for the caller's message.
    pub(super) fn save(&self) -> std::io::Result<()> {
        let file = &self.site.file;
        let mode = std::fs::metadata(file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        crate::util::fs::write_atomic(file, self.src.as_bytes(), mode)
            .map_err(|e| std::io::Error::other(e.root_cause().to_string()))
    }
}

/// `regie update apply --service S`: the whole update of one service.
/// Errors before anything changed are returned as `Err`; once the host is
/// locked, the report says what happened.
pub fn apply(site: &Resolved, service: &str, ao: &ApplyOptions) -> Result<ApplyReport> {
    let (host, placed) = site.service(service)?;
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
    // A site whose images regie pushes updates to what the operator's
    // source holds (its engine or image layout), not to a registry.
    let pushed = site
        .inv
        .hosts
        .get(&host)
        .is_some_and(|h| h.image_mode(site.inv.images) == ImageMode::Push);
    let tags = if pushed {
        crate::images::run::source::Source::open(&crate::site::files::ImagePush {
            layout: site.inv.image_layout.as_ref().map(|l| site.relative(l)),
            extra: vec![],
        })
        .and_then(|s| s.tags(&image.name()))
        .with_context(|| format!("listing the local tags of {}", image.name()))?
    } else {
        Client::new(&image, &mirrors(site))
            .tags()
            .with_context(|| format!("listing the tags of {}", image.name()))?
    };
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
pub(super) fn lock_host(
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
pub(super) fn finish(conn: &Conn, base: &str, rep: &mut ApplyReport) {
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
    let what = if new_r.push.is_some() { "push" } else { "pull" };
    match super::fetch_images(conn, base, new_r, &pulls) {
        Ok(done) => rep.step(what, true, done),
        Err(why) => {
            rep.step(what, false, why.clone());
            let _ = conn.run(&update::record_script(base, service, true), b"");
            bail!(
                "{what}ing {} failed, nothing was changed: {why}",
                pulls.join(", ")
            );
        }
    }
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
pub(super) fn rollback(
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

//! `update postgres`: a new PostgreSQL major by dump and restore, the old
//! cluster kept in a copied volume and put back on any failure; with the
//! stack redeploy it shares with the update rollback.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use super::apply::{finish, lock_host, ApplyOptions, ApplyReport, InventoryChange};
use super::interrupted::{unfinished_then_backup, write_record};
use super::{mirrors, project};
use crate::deploy::plan as deploy;
use crate::remote::connect::RunOptions;
use crate::remote::registry::{Client, ImageRef};
use crate::remote::ssh::Conn;
use crate::site::files::HostRender;
use crate::site::inventory::Resolved;
use crate::update::plan::{self as update, window_refusal};

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
    let (host, placed) = site.service(service)?;
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
pub(super) fn redeploy(
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
    let what = if new_r.push.is_some() { "push" } else { "pull" };
    match super::fetch_images(conn, base, new_r, &[new_ref.to_string()]) {
        Ok(done) => rep.step(what, true, done),
        Err(why) => {
            let _ = conn.run(&update::record_script(base, service, true), b"");
            rep.step(what, false, why.clone());
            bail!("{what}ing {new_ref} failed, nothing was changed: {why}");
        }
    }
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

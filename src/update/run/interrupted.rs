//! `update rollback` and the host-side record both updates share: an
//! update that did not finish (connection cut, regie killed) is settled
//! from the record it left on the host; a new update refuses while such a
//! record is there, then takes its pre-update backup.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::apply::{finish, lock_host, rollback, ApplyReport};
use super::{project, render_host};
use crate::remote::connect::RunOptions;
use crate::remote::ssh::Conn;
use crate::site::inventory::Resolved;
use crate::update::plan::{self as update, Running};

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
    let (host, placed) = site.service(service)?;
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
pub(super) fn write_record(
    conn: &Conn,
    base: &str,
    service: &str,
    record: &serde_json::Value,
) -> Result<()> {
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
pub(super) fn unfinished_then_backup(
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

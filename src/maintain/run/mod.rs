//! `regie maintain`: the scheduled run a provider puts in cron for all its
//! client sites. Per site: host and container state, backup status, update
//! check, policy-allowed updates inside the maintenance window, restore
//! drills when due, then a report (JSON and text) and notifications when
//! anything failed or needs a human. The backup work it does from the
//! trusted side in the window (off-site copy, retention) is in `backups`.

mod backups;

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::Resolved;
use crate::site::site_files::state_dir;

#[derive(Debug, Clone)]
pub struct Options {
    pub run: RunOptions,
    /// Act as if the window were open.
    pub now: bool,
    pub updates: bool,
    pub drills: bool,
    pub identity: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostState {
    pub host: String,
    pub reachable: bool,
    pub containers: usize,
    /// Containers not running and healthy: `name status[/health]`.
    pub down: Vec<String>,
    pub locked_by: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    pub site: String,
    pub display_name: String,
    pub started: u64,
    pub finished: u64,
    pub window_open: bool,
    pub window: Option<String>,
    pub hosts: Vec<HostState>,
    pub backups: Vec<crate::site::state::BackupStatus>,
    pub updates_available: Vec<crate::update::run::ComponentCheck>,
    pub updates: Vec<crate::update::run::ApplyReport>,
    pub drills: Vec<crate::backup::run::HostJob>,
    /// Retention run from regie's side on the NAS (append-only sites, in
    /// the window, weekly) and on the off-site copy.
    pub retention: Vec<crate::backup::run::PruneOutcome>,
    /// The off-site copy (in the window, daily).
    pub offsite_copies: Vec<crate::backup::run::CopyOutcome>,
    /// Something is broken or failed.
    pub problems: Vec<String>,
    /// Nothing broken, but a person must decide (a major update, ...).
    pub attention: Vec<String>,
    /// For the record only (never notified).
    pub notes: Vec<String>,
    pub notified: Vec<crate::remote::notify::Delivery>,
    /// Why nothing was sent although there are findings.
    pub notify_skipped: Option<String>,
}

impl SiteReport {
    pub fn exit_code(&self) -> i32 {
        if !self.problems.is_empty() {
            crate::util::exit::EXIT_FAILED
        } else if !self.attention.is_empty() {
            crate::util::exit::EXIT_PENDING
        } else {
            0
        }
    }
}

fn host_states(site: &Resolved, o: &RunOptions) -> Vec<HostState> {
    let hosts: Vec<String> = site.placement.keys().cloned().collect();
    crate::remote::parallel::in_parallel(
        &hosts,
        |h| h.as_str(),
        o.parallel,
        |h, _| {
            let base = &site.inv.hosts[h].base_dir;
            let res = connect(site, h, o)
                .and_then(|c| crate::deploy::run::probe(&c, base, &site.inv.site.name, None));
            match res {
                Ok(st) => HostState {
                    host: h.clone(),
                    reachable: true,
                    containers: st.containers.len(),
                    down: st
                        .containers
                        .iter()
                        .filter(|c| !c.is_up())
                        .map(crate::site::state::Container::describe)
                        .collect(),
                    locked_by: st.lock_held_by.clone(),
                    error: None,
                },
                Err(e) => HostState {
                    host: h.clone(),
                    reachable: false,
                    containers: 0,
                    down: vec![],
                    locked_by: None,
                    error: Some(format!("{e:#}")),
                },
            }
        },
        |s| {
            if s.reachable && s.down.is_empty() {
                "ok"
            } else {
                "problem"
            }
        },
    )
}

/// One site's maintenance run. `inventory` is re-read after each update
/// (the update rewrites its `version:`).
pub fn run_site(inventory: &Path, o: &Options) -> Result<SiteReport> {
    let mut site = crate::site::load(inventory)?;
    let mut r = SiteReport {
        site: site.inv.site.name.clone(),
        display_name: site.inv.site.display().to_string(),
        started: crate::util::time::unix_now(),
        finished: 0,
        window_open: false,
        window: site.inv.maintenance.as_ref().map(|m| m.window.clone()),
        hosts: vec![],
        backups: vec![],
        updates_available: vec![],
        updates: vec![],
        drills: vec![],
        retention: vec![],
        offsite_copies: vec![],
        problems: vec![],
        attention: vec![],
        notes: vec![],
        notified: vec![],
        notify_skipped: None,
    };
    r.window_open = o.now || crate::update::run::window_refusal(&site).is_none();

    // 1. Hosts and containers.
    r.hosts = host_states(&site, &o.run);
    for h in &r.hosts {
        if let Some(e) = &h.error {
            r.problems.push(format!("{}: unreachable: {e}", h.host));
        }
        for d in &h.down {
            r.problems.push(format!("{}: container {d}", h.host));
        }
        // A lock is normal while a backup or a deploy runs; one held for
        // hours is a run that died.
        if let Some(l) = &h.locked_by {
            let since = serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["since"].as_u64());
            let old = since.is_none_or(|t| r.started.saturating_sub(t) > STALE_LOCK_SECS);
            if old {
                r.attention.push(format!(
                    "{}: locked for more than {} h by {l} (`regie lock status`, `regie lock release` if that run is dead)",
                    h.host,
                    STALE_LOCK_SECS / 3600
                ));
            }
        }
    }

    // 2. Backups: the off-site copy and retention first when they are due
    // (append-only sites: the hosts cannot prune), inside the window; then
    // the status.
    if r.window_open {
        backups::in_window(&site, o, &mut r);
    }
    if site.inv.backup.is_some() {
        match crate::backup::run::status(&site, &o.run) {
            Ok(st) => {
                for s in &st.services {
                    if !s.fresh {
                        r.problems.push(format!(
                            "{}/{}: no successful backup in the last 26 h{}",
                            s.host,
                            s.service,
                            s.last_error
                                .as_deref()
                                .map(|e| format!(" (last error: {e})"))
                                .unwrap_or_default()
                        ));
                    }
                    if s.last_drill_ok == Some(false) {
                        r.problems.push(format!(
                            "{}/{}: the last restore drill failed",
                            s.host, s.service
                        ));
                    }
                }
                if let Some(e) = &st.nas_error {
                    r.problems.push(format!("NAS: {e}"));
                }
                for (h, e) in &st.host_errors {
                    r.problems
                        .push(format!("{h}: backup status unreadable: {e}"));
                }
                r.problems.extend(st.warnings.iter().cloned());
                r.backups = st.services;
            }
            Err(e) => r.problems.push(format!("backup status: {e:#}")),
        }
    } else {
        r.attention
            .push("no backup policy in the inventory: nothing is backed up".into());
    }

    // 3. Updates available.
    match crate::update::run::check(&site, &o.run, None) {
        Ok(checks) => {
            for c in &checks {
                if let Some(e) = &c.error {
                    r.problems.push(format!(
                        "update check of {}/{}: {e}",
                        c.service, c.component
                    ));
                }
                if let Some(k) = &c.candidates {
                    if let Some(n) = &k.next_major {
                        r.attention.push(format!(
                            "{}: {n} is available (next major: `regie update apply --service {} --to {n}` after reading the release notes)",
                            c.service, c.service
                        ));
                    }
                }
                for n in c.notes.iter().filter(|n| n.starts_with("PostgreSQL")) {
                    r.attention
                        .push(format!("{}/{}: {n}", c.service, c.component));
                }
            }
            r.updates_available = checks;
        }
        Err(e) => r.problems.push(format!("update check: {e:#}")),
    }

    // 4. Allowed updates, inside the window only.
    let auto = site.inv.maintenance.as_ref().is_some_and(|m| m.auto_update);
    if o.updates && auto && r.window_open {
        let todo: Vec<(String, String)> = r
            .updates_available
            .iter()
            .filter_map(|c| c.allowed().map(|a| (c.service.clone(), a.to_string())))
            .collect();
        for (service, to) in todo {
            // An earlier update may have used the window up.
            if !o.now {
                if let Some(why) = crate::update::run::window_refusal(&site) {
                    r.notes
                        .push(format!("{service}: {to} not applied this run: {why}"));
                    continue;
                }
            }
            let ao = crate::update::run::ApplyOptions {
                run: o.run.clone(),
                to: Some(to.clone()),
                now: true,
                identity: o.identity.as_deref(),
                command: format!("maintain: update {service}"),
            };
            match crate::update::run::apply(&site, &service, &ao) {
                Ok(rep) => {
                    for st in rep
                        .steps
                        .iter()
                        .filter(|x| !x.ok && (x.step == "inventory" || x.step == "unlock"))
                    {
                        r.problems
                            .push(format!("{service}: {}: {}", st.step, st.detail));
                    }
                    if !rep.ok() {
                        r.problems.push(format!(
                            "{service}: update {} → {to} {}: {}",
                            rep.from,
                            rep.outcome,
                            rep.error
                                .as_deref()
                                .unwrap_or("")
                                .lines()
                                .next()
                                .unwrap_or("")
                        ));
                    }
                    r.updates.push(rep);
                }
                Err(e) => r
                    .problems
                    .push(format!("{service}: update to {to} not started: {e:#}")),
            }
            site = crate::site::load(inventory)?;
        }
    } else {
        // Waiting for the next window is not news; an update that will never
        // be applied alone is.
        let why = if site.inv.maintenance.is_none() {
            Some("the inventory has no maintenance window")
        } else if !auto {
            Some("maintenance.auto_update is off")
        } else {
            None
        };
        for c in r.updates_available.iter().filter(|c| c.allowed().is_some()) {
            let a = c.allowed().unwrap_or("");
            match why {
                Some(why) => r.attention.push(format!(
                    "{}: {a} available, not applied ({why}): `regie update apply --service {}`",
                    c.service, c.service
                )),
                None => r.notes.push(format!(
                    "{}: {a} available, applied in the next window{}",
                    c.service,
                    if o.updates {
                        ""
                    } else {
                        " (not this run: --no-updates)"
                    }
                )),
            }
        }
    }

    // 5. Restore drills that are due, inside the window.
    let drill_days = site.inv.maintenance.as_ref().map_or(0, |m| m.drill_days);
    if o.drills && r.window_open && drill_days > 0 {
        let now = crate::util::time::unix_now();
        let due: Vec<(String, String)> = r
            .backups
            .iter()
            .filter(|s| {
                s.last_drill
                    .is_none_or(|t| now.saturating_sub(t) >= drill_days as u64 * 86400)
            })
            .map(|s| (s.host.clone(), s.service.clone()))
            .collect();
        for (host, service) in due {
            match crate::backup::run::verify(&site, &o.run, Some(&service), Some(&host), false) {
                Ok(jobs) => {
                    for j in &jobs {
                        if !j.ok {
                            r.problems.push(format!(
                                "{host}/{service}: restore drill failed: {}",
                                j.error
                                    .clone()
                                    .or_else(|| j
                                        .output
                                        .as_ref()
                                        .and_then(|o| o.messages.last().cloned()))
                                    .unwrap_or_default()
                            ));
                        }
                    }
                    r.drills.extend(jobs);
                }
                Err(e) => r
                    .problems
                    .push(format!("{host}/{service}: restore drill: {e:#}")),
            }
        }
    }
    // A reading of the site for the reports' history, so that a site
    // whose only scheduled job is this run still has one each night.
    crate::status::history::record_quietly(&crate::status::run::collect(
        &site,
        &crate::status::run::Collect {
            run: o.run.clone(),
            versions: false,
            os: false,
            tls: true,
        },
    ));
    r.finished = crate::util::time::unix_now();

    // 6. Notify: on new findings, and again each day while they last (a
    // cron run every 30 minutes must not send 48 copies of one problem).
    if !r.problems.is_empty() || !r.attention.is_empty() {
        let n = &site.inv.notify;
        let key =
            crate::site::files::sha256_hex(format!("{:?}{:?}", r.problems, r.attention).as_bytes());
        let state = state_dir().map(|d| d.join(format!("{}.notified.json", r.site)));
        let last: Option<serde_json::Value> = state
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok());
        let same = last.as_ref().is_some_and(|l| {
            l["key"] == key.as_str()
                && r.finished.saturating_sub(l["at"].as_u64().unwrap_or(0)) < REMIND_SECS
        });
        if same {
            r.notify_skipped =
                Some(format!(
                "same findings as the notification sent at {} (Unix time); sent again after {} h",
                last.as_ref().map(|l| l["at"].to_string()).unwrap_or_default(),
                REMIND_SECS / 3600
            ));
        } else if !n.email.is_empty() || n.webhook.is_some() {
            let pw = crate::remote::notify::smtp_password(&site, o.identity.as_deref())
                .map_err(|e| format!("{e:#}"));
            let pw_ref = match &pw {
                Ok(p) => Ok(p.as_ref().map(crate::site::secrets::Secret::expose)),
                Err(e) => Err(e.clone()),
            };
            let msg = crate::remote::notify::Message {
                subject: subject(&r),
                text: summary(&r),
                json: serde_json::to_value(&r).unwrap_or_default(),
            };
            r.notified = crate::remote::notify::send_with(n, pw_ref, &msg);
            if r.notified.iter().any(|d| d.ok) {
                if let Some(p) = &state {
                    let body = serde_json::json!({ "key": key, "at": r.finished }).to_string();
                    let _ = p
                        .parent()
                        .map(std::fs::create_dir_all)
                        .transpose()
                        .and_then(|_| std::fs::write(p, body));
                }
            }
        }
    }
    Ok(r)
}

/// A host lock older than this is reported.
pub const STALE_LOCK_SECS: u64 = 6 * 3600;

/// The same findings are notified again after this long.
pub const REMIND_SECS: u64 = 24 * 3600;

fn subject(r: &SiteReport) -> String {
    if r.problems.is_empty() {
        format!(
            "[regie] {}: {} point(s) need a decision",
            r.display_name,
            r.attention.len()
        )
    } else {
        format!(
            "[regie] {}: {} problem(s)",
            r.display_name,
            r.problems.len()
        )
    }
}

/// The readable summary of a site's run.
pub fn summary(r: &SiteReport) -> String {
    let mut t = format!(
        "regie maintain — {} ({})\nwindow: {} ({})\n",
        r.display_name,
        r.site,
        r.window.as_deref().unwrap_or("none"),
        if r.window_open { "open" } else { "closed" }
    );
    let status = match r.exit_code() {
        0 => "OK",
        3 => "ATTENTION",
        _ => "PROBLEMS",
    };
    t.push_str(&format!("status: {status}\n"));
    if !r.problems.is_empty() {
        t.push_str("\nProblems:\n");
        for p in &r.problems {
            t.push_str(&format!("  - {p}\n"));
        }
    }
    if !r.attention.is_empty() {
        t.push_str("\nNeeds a decision:\n");
        for p in &r.attention {
            t.push_str(&format!("  - {p}\n"));
        }
    }
    if !r.notes.is_empty() {
        t.push_str("\nNotes:\n");
        for p in &r.notes {
            t.push_str(&format!("  - {p}\n"));
        }
    }
    t.push_str("\nHosts:\n");
    for h in &r.hosts {
        t.push_str(&format!(
            "  {}: {}\n",
            h.host,
            if h.reachable {
                format!(
                    "{} container(s), {} not healthy",
                    h.containers,
                    h.down.len()
                )
            } else {
                "unreachable".into()
            }
        ));
    }
    if !r.backups.is_empty() {
        t.push_str("\nBackups:\n");
        for b in &r.backups {
            t.push_str(&format!(
                "  {}/{}: {}\n",
                b.host,
                b.service,
                match b.age_hours {
                    Some(a) => format!("last success {a:.1} h ago"),
                    None => "never backed up".into(),
                }
            ));
        }
    }
    if !r.updates.is_empty() {
        t.push_str("\nUpdates:\n");
        for u in &r.updates {
            t.push_str(&format!(
                "  {}: {} → {} {}{}\n",
                u.service,
                u.from,
                u.to.as_deref().unwrap_or("-"),
                u.outcome,
                if u.data_restored {
                    " (data restored from the pre-update backup)"
                } else {
                    ""
                }
            ));
        }
    }
    if !r.offsite_copies.is_empty() {
        t.push_str("\nOff-site copy:\n");
        for c in &r.offsite_copies {
            t.push_str(&match (&c.record, c.ok) {
                (Some(x), true) => format!(
                    "  {}: ok, {} snapshot(s) copied, {} off site\n",
                    c.host, x.copied, x.offsite
                ),
                _ => format!(
                    "  {}: FAILED {}\n",
                    c.host,
                    c.error.as_deref().unwrap_or("")
                ),
            });
        }
    }
    if !r.retention.is_empty() {
        t.push_str("\nRetention:\n");
        for p in &r.retention {
            t.push_str(&format!(
                "  {} ({}): {}\n",
                p.host,
                p.target.label(),
                if p.ok { "ok" } else { "FAILED" }
            ));
        }
    }
    if !r.drills.is_empty() {
        t.push_str("\nRestore drills:\n");
        for d in &r.drills {
            t.push_str(&format!(
                "  {}: {}\n",
                d.host,
                if d.ok { "ok" } else { "FAILED" }
            ));
        }
    }
    if let Some(why) = &r.notify_skipped {
        t.push_str(&format!("\nnot notified: {why}"));
    }
    for d in &r.notified {
        t.push_str(&format!(
            "\nnotified {} {}: {}",
            d.channel,
            d.target,
            if d.ok {
                "ok".to_string()
            } else {
                d.error.clone().unwrap_or_default()
            }
        ));
    }
    t.push('\n');
    t
}

/// `regie maintain`: every site in turn; one site's failure never stops
/// the others. Each site's report is written into `report` when given;
/// `each` gets each site's outcome (errors are already told on stderr).
/// Returns the exit code: 1 if anything failed, 3 if only decisions are
/// pending, 0 otherwise.
pub fn run_sites(
    inventories: &[PathBuf],
    report: Option<&Path>,
    o: &Options,
    mut each: impl FnMut(&Path, Result<&SiteReport, &anyhow::Error>) -> Result<()>,
) -> Result<i32> {
    use crate::util::exit::{EXIT_FAILED, EXIT_PENDING};
    let mut code = 0;
    for inv in inventories {
        match run_site(inv, o) {
            Ok(r) => {
                if let Some(dir) = report {
                    if let Err(e) = write_report(dir, &r) {
                        eprintln!("{}: writing the report: {e:#}", inv.display());
                        code = EXIT_FAILED;
                    }
                }
                code = match (code, r.exit_code()) {
                    (EXIT_FAILED, _) | (_, EXIT_FAILED) => EXIT_FAILED,
                    (EXIT_PENDING, _) | (_, EXIT_PENDING) => EXIT_PENDING,
                    _ => 0,
                };
                each(inv, Ok(&r))?;
            }
            Err(e) => {
                eprintln!("{}: {e:#}", inv.display());
                if let Some(inv_err) = e.downcast_ref::<crate::site::diag::InvalidInput>() {
                    for d in &inv_err.diagnostics {
                        crate::site::diag::eprint(d);
                    }
                }
                each(inv, Err(&e))?;
                code = EXIT_FAILED;
            }
        }
    }
    Ok(code)
}

/// Write `<site>.json` and `<site>.txt` into `dir`.
pub fn write_report(dir: &Path, r: &SiteReport) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(r)? + "\n";
    std::fs::write(dir.join(format!("{}.json", r.site)), json)?;
    std::fs::write(dir.join(format!("{}.txt", r.site)), summary(r))?;
    Ok(())
}

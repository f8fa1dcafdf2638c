//! Backups, executor part: runs the host-resident `regie-backup` script over
//! SSH. Long jobs run detached on the host (a closed laptop or a cut
//! connection does not stop a backup or a restore half way); regie follows
//! their output and shows progress. Retention from the trusted side is in
//! `prune`.

mod offsite;
mod prune;
pub use offsite::{
    copy, copy_secrets, setup as offsite_setup, status as offsite_status, CopyOutcome, CopySecrets,
    OffsiteStatus,
};
pub use prune::{nas_retention, prune, retention_at, NasRetention, PruneOutcome, Target};

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::backup::plan::{self as backup, CaptureInfo, Repo, RunResult, Snapshot};
use crate::remote::connect::{connect, RunOptions};
use crate::remote::ssh::Conn;
use crate::site::inventory::Resolved;
use crate::site::state::BackupStatus;
use crate::util::shell::quote;

/// Hosts with something to back up, with their services.
pub fn hosts(site: &Resolved) -> Vec<(String, Vec<String>)> {
    site.placement
        .keys()
        .filter_map(|h| {
            let c = backup::captures(site, h);
            (!c.is_empty()).then(|| (h.clone(), c.iter().map(|c| c.name.to_string()).collect()))
        })
        .collect()
}

fn base_dir<'a>(site: &'a Resolved, host: &str) -> &'a str {
    &site.inv.hosts[host].base_dir
}

/// Output of a finished job.
#[derive(Debug, Clone, Serialize)]
pub struct JobOutput {
    pub status: i32,
    pub results: Vec<RunResult>,
    pub steps: Vec<String>,
    /// Lines that are neither steps nor results (errors, restic's words).
    pub messages: Vec<String>,
}

fn start_script(base: &str, args: &[&str], outer_lock: bool) -> String {
    let job = format!(
        "LOCK_WAIT=60; export LOCK_WAIT\n{}({}) >>\"$0\" 2>&1\necho \"==regie:exit $?\" >>\"$0\"\n",
        if outer_lock {
            "REGIE_OUTER_LOCK=1; export REGIE_OUTER_LOCK\n"
        } else {
            ""
        },
        backup::invoke(base, args)
    );
    format!(
        "set -eu\n\
         d={d}/jobs\n\
         mkdir -p \"$d\"\n\
         find \"$d\" -type f -mtime +30 -delete 2>/dev/null || true\n\
         id=$(date +%Y%m%dT%H%M%S)-$$\n\
         out=\"$d/$id.out\"\n\
         : >\"$out\"\n\
         nohup setsid sh -c {job} \"$out\" >/dev/null 2>&1 </dev/null &\n\
         echo \"$id\"\n",
        d = quote(&format!("{base}/{}", backup::DIR)),
        job = quote(&job),
    )
}

/// Run the host script detached and follow it until it ends. With
/// `outer_lock`, the script works under the host lock its caller holds.
pub(crate) fn run_job(
    conn: &Conn,
    base: &str,
    args: &[&str],
    outer_lock: bool,
    pb: &indicatif::ProgressBar,
) -> Result<JobOutput> {
    let st = conn.run(&start_script(base, args, outer_lock), b"")?;
    if !st.ok() {
        bail!("could not start the job: {}", st.stderr.trim());
    }
    let id = String::from_utf8_lossy(&st.stdout).trim().to_string();
    let file = format!("{base}/{}/jobs/{id}.out", backup::DIR);
    let mut text = String::new();
    let mut pause = Duration::from_millis(100);
    let mut failures = 0;
    loop {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(500));
        let r = conn.run(
            &format!("tail -c +{} {}", text.len() + 1, quote(&file)),
            b"",
        );
        match r {
            Ok(o) if o.ok() => {
                failures = 0;
                let chunk = String::from_utf8_lossy(&o.stdout);
                // Keep whole lines only: a partial line is read again.
                let upto = chunk.rfind('\n').map(|i| i + 1).unwrap_or(0);
                text.push_str(&chunk[..upto]);
                if let Some(step) = text
                    .lines()
                    .rev()
                    .find_map(|l| l.strip_prefix("==regie:step "))
                {
                    pb.set_message(step.to_string());
                }
                if let Some(code) = text.lines().find_map(|l| l.strip_prefix("==regie:exit ")) {
                    let status = code.trim().parse().unwrap_or(1);
                    let (results, steps) = backup::parse_results(&text);
                    let messages = text
                        .lines()
                        .filter(|l| !l.starts_with("==regie:") && !l.trim().is_empty())
                        .map(String::from)
                        .collect();
                    return Ok(JobOutput {
                        status,
                        results,
                        steps,
                        messages,
                    });
                }
            }
            Ok(o) => bail!("reading the job's output failed: {}", o.stderr.trim()),
            Err(e) => {
                failures += 1;
                if failures > 3 {
                    return Err(anyhow!(e).context(format!(
                        "lost the connection; the job goes on on the host (output in {file})"
                    )));
                }
            }
        }
    }
}

/// Outcome of a job on one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostJob {
    pub host: String,
    pub ok: bool,
    pub seconds: f64,
    pub output: Option<JobOutput>,
    pub error: Option<String>,
}

fn on_hosts<F>(targets: &[(String, Vec<String>)], parallel: usize, f: F) -> Vec<HostJob>
where
    F: Fn(&str, &[String], &indicatif::ProgressBar) -> Result<JobOutput> + Sync,
{
    crate::remote::parallel::in_parallel(
        targets,
        |(h, _)| h,
        parallel,
        |(h, svcs), pb| {
            let t0 = Instant::now();
            let res = f(h, svcs, pb);
            let seconds = t0.elapsed().as_secs_f64();
            match res {
                Ok(o) => HostJob {
                    host: h.clone(),
                    ok: o.status == 0,
                    seconds,
                    output: Some(o),
                    error: None,
                },
                Err(e) => HostJob {
                    host: h.clone(),
                    ok: false,
                    seconds,
                    output: None,
                    error: Some(format!("{e:#}")),
                },
            }
        },
        |j| if j.ok { "done" } else { "failed" },
    )
}

fn select(
    site: &Resolved,
    service: Option<&str>,
    host: Option<&str>,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut t = hosts(site);
    if t.is_empty() {
        bail!("nothing to back up: no backup policy, or no service with data placed on a host");
    }
    if let Some(h) = host {
        t.retain(|(x, _)| x == h);
        if t.is_empty() {
            bail!("host `{h}` has nothing to back up");
        }
    }
    if let Some(s) = service {
        t = t
            .into_iter()
            .filter_map(|(h, v)| v.contains(&s.to_string()).then(|| (h, vec![s.to_string()])))
            .collect();
        if t.is_empty() {
            bail!("service `{s}` is not backed up on any host (not placed, or not in backup.services)");
        }
    }
    Ok(t)
}

/// The key the hosts use on an SFTP NAS, from the site's secrets
/// (generated and saved the first time); none for other repositories.
pub fn nas_key_for(site: &Resolved, identity: Option<&std::path::Path>) -> Result<Option<String>> {
    if !matches!(Repo::of(site), Some(Repo::Sftp { .. })) {
        return Ok(None);
    }
    let (mut store, key) = crate::site::site_files::open_secrets(site, identity)?;
    let k = backup::nas_key(&mut store)?;
    store.save_if_changed(&key)?;
    Ok(Some(k))
}

/// `regie backup init`: the NAS (directory, the hosts' key), then each
/// host's repository.
pub fn init(
    site: &Resolved,
    o: &RunOptions,
    nas_key: Option<&str>,
) -> Result<(Option<u64>, Vec<HostJob>)> {
    let targets = select(site, None, None)?;
    let mut free = None;
    if let Some(Repo::Sftp {
        nas,
        base,
        append_only,
        ..
    }) = Repo::of(site)
    {
        let key = nas_key.ok_or_else(|| anyhow!("no NAS key in the secrets"))?;
        // Every host of the inventory but the NAS, not only those with
        // services now: a restore onto another host reads the repository of
        // a lost one (`restore --from-host`).
        let offsite = backup::OffsiteRepo::of(site).map(|o| o.host);
        let hosts: Vec<String> = site
            .inv
            .hosts
            .keys()
            .filter(|h| **h != nas && Some(*h) != offsite.as_ref())
            .cloned()
            .collect();
        let access = if append_only {
            backup::NasAccess::AppendOnly {
                base: &base,
                hosts: &hosts,
            }
        } else {
            backup::NasAccess::Sftp
        };
        let line = backup::nas_authorized_line(key, &site.inv.site.name, &access)?;
        if append_only {
            if let Some(e) = prune::nas_tools_missing(site, o, &nas)? {
                bail!("NAS `{nas}`: {e}");
            }
        }
        let conn = connect(site, &nas, o).with_context(|| format!("NAS `{nas}`"))?;
        let out = conn.run(&backup::nas_setup_script(&base, &line), b"")?;
        if !out.ok() {
            bail!(
                "NAS `{nas}`: preparing {base} failed: {}",
                out.stderr.trim()
            );
        }
        free = String::from_utf8_lossy(&out.stdout).trim().parse().ok();
    }
    let jobs = on_hosts(&targets, o.parallel, |h, _, pb| {
        let conn = connect(site, h, o)?;
        let base = base_dir(site, h);
        pb.set_message("installing the schedule");
        let sch = conn.run(&backup::schedule_script(base, &site.inv.site.name), b"")?;
        if !sch.ok() {
            bail!("installing the schedule: {}", sch.stderr.trim());
        }
        pb.set_message("repository");
        let out = conn.run(&backup::invoke(base, &["init"]), b"")?;
        Ok(JobOutput {
            status: out.status,
            results: vec![],
            steps: vec![format!(
                "schedule: {}",
                String::from_utf8_lossy(&sch.stdout).trim()
            )],
            messages: String::from_utf8_lossy(&out.stdout)
                .lines()
                .chain(out.stderr.lines())
                .filter(|l| !l.trim().is_empty())
                .map(String::from)
                .collect(),
        })
    });
    Ok((free, jobs))
}

/// `regie backup run`.
pub fn run(
    site: &Resolved,
    o: &RunOptions,
    service: Option<&str>,
    host: Option<&str>,
) -> Result<Vec<HostJob>> {
    let targets = select(site, service, host)?;
    Ok(on_hosts(&targets, o.parallel, |h, svcs, pb| {
        let conn = connect(site, h, o)?;
        let mut args = vec!["run"];
        if service.is_some() {
            args.extend(svcs.iter().map(String::as_str));
        }
        run_job(&conn, base_dir(site, h), &args, false, pb)
    }))
}

/// The script's first words for the repository a command reads: the NAS
/// (none) or the off-site copy.
fn repo_args(site: &Resolved, offsite: bool) -> Result<Vec<&'static str>> {
    if !offsite {
        return Ok(vec![]);
    }
    if backup::OffsiteRepo::of(site).is_none() {
        bail!("this site has no off-site copy (`backup.offsite` in the inventory)");
    }
    Ok(vec!["--offsite"])
}

/// `regie backup verify`: restore drills (from the NAS, or from the
/// off-site copy).
pub fn verify(
    site: &Resolved,
    o: &RunOptions,
    service: Option<&str>,
    host: Option<&str>,
    offsite: bool,
) -> Result<Vec<HostJob>> {
    let targets = select(site, service, host)?;
    let first = repo_args(site, offsite)?;
    Ok(on_hosts(&targets, o.parallel, |h, svcs, pb| {
        let conn = connect(site, h, o)?;
        let mut all = JobOutput {
            status: 0,
            results: vec![],
            steps: vec![],
            messages: vec![],
        };
        for s in svcs {
            let mut args = first.clone();
            args.extend(["drill", s.as_str()]);
            let j = run_job(&conn, base_dir(site, h), &args, false, pb)?;
            if j.status != 0 {
                all.status = j.status;
            }
            all.results.extend(j.results);
            all.steps.extend(j.steps);
            all.messages.extend(j.messages);
        }
        Ok(all)
    }))
}

/// `regie restore`.
#[allow(clippy::too_many_arguments)]
pub fn restore(
    site: &Resolved,
    o: &RunOptions,
    service: &str,
    snapshot: &str,
    to_host: Option<&str>,
    from_host: Option<&str>,
    no_safety: bool,
    offsite: bool,
) -> Result<HostJob> {
    let first = repo_args(site, offsite)?;
    let placed_on: Vec<&String> = site
        .placement
        .iter()
        .filter(|(_, v)| v.iter().any(|p| p.name == service))
        .map(|(h, _)| h)
        .collect();
    let to = match to_host {
        Some(h) => h.to_string(),
        None => match placed_on.as_slice() {
            [h] => h.to_string(),
            [] => bail!("service `{service}` is not placed on any host of the inventory"),
            _ => bail!("service `{service}` runs on several hosts: say which with --to-host"),
        },
    };
    if !site.inv.hosts.contains_key(&to) {
        bail!("unknown host `{to}`");
    }
    if backup::captures(site, &to)
        .iter()
        .all(|c| c.name != service)
    {
        bail!("service `{service}` is not backed up on `{to}`: place it there in the inventory and deploy first");
    }
    let from = from_host.unwrap_or(&to).to_string();
    let mut args = first;
    args.extend(["restore", service, snapshot, "--from", from.as_str()]);
    if no_safety {
        args.push("--no-safety-backup");
    }
    let targets = vec![(to.clone(), vec![service.to_string()])];
    let mut jobs = on_hosts(&targets, 1, |h, _, pb| {
        let conn = connect(site, h, o)?;
        run_job(&conn, base_dir(site, h), &args, false, pb)
    });
    Ok(jobs.remove(0))
}

/// `regie backup list`: captures per host (on the NAS, or off site).
pub fn list(
    site: &Resolved,
    o: &RunOptions,
    service: Option<&str>,
    host: Option<&str>,
    offsite: bool,
) -> Result<Vec<(String, Result<Vec<CaptureInfo>>)>> {
    let targets = select(site, service, host)?;
    let first = repo_args(site, offsite)?;
    let mut out = Vec::new();
    for (h, _) in targets {
        let res = (|| -> Result<Vec<CaptureInfo>> {
            let conn = connect(site, &h, o)?;
            let mut args = first.clone();
            args.push("snapshots");
            if let Some(s) = service {
                args.push(s);
            }
            let r = conn.run(&backup::invoke(base_dir(site, &h), &args), b"")?;
            if !r.ok() {
                bail!("{}", r.stderr.trim());
            }
            let text = String::from_utf8_lossy(&r.stdout);
            let json = text.lines().find(|l| l.starts_with('[')).unwrap_or("[]");
            let snaps: Vec<Snapshot> =
                serde_json::from_str(json).context("reading restic's snapshot list")?;
            Ok(backup::group_captures(&snaps))
        })();
        out.push((h, res));
    }
    Ok(out)
}

/// Repository and NAS figures for `regie backup status`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RepoStatus {
    pub host: String,
    pub repository: String,
    pub size_bytes: Option<u64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub services: Vec<BackupStatus>,
    pub repositories: Vec<RepoStatus>,
    pub nas_free_kib: Option<u64>,
    pub nas_error: Option<String>,
    pub host_errors: Vec<(String, String)>,
    /// Retention that has not run for too long, a repository growing
    /// faster than usual (append-only sites: retention runs from regie);
    /// an off-site copy too old, failed, unreachable.
    pub warnings: Vec<String>,
    /// The off-site copy, when the site has one.
    pub offsite: Option<OffsiteStatus>,
}

impl Status {
    /// A service's last backup is too old or its last restore drill
    /// failed, a host or the NAS could not be read, or a warning.
    pub fn stale(&self) -> bool {
        self.services
            .iter()
            .any(|s| !s.fresh || s.last_drill_ok == Some(false))
            || !self.host_errors.is_empty()
            || !self.warnings.is_empty()
            || self.nas_error.is_some()
    }
}

/// Size of a host's restic repository (raw data), or restic's last error
/// line.
pub fn repo_size(
    conn: &crate::remote::ssh::Conn,
    base: &str,
) -> Result<(Option<u64>, Option<String>)> {
    let stats = conn.run(
        &backup::invoke(
            base,
            &[
                "restic",
                "stats",
                "--mode",
                "raw-data",
                "--json",
                "--no-lock",
            ],
        ),
        b"",
    )?;
    Ok(if stats.ok() {
        let v: serde_json::Value = String::from_utf8_lossy(&stats.stdout)
            .lines()
            .find_map(|l| serde_json::from_str(l).ok())
            .unwrap_or_default();
        (v["total_size"].as_u64(), None)
    } else {
        (
            None,
            Some(
                stats
                    .stderr
                    .lines()
                    .last()
                    .unwrap_or("restic failed")
                    .to_string(),
            ),
        )
    })
}

pub fn status(site: &Resolved, o: &RunOptions) -> Result<Status> {
    let targets = select(site, None, None)?;
    let repo = Repo::of(site).expect("targets imply a policy");
    let now = crate::util::time::unix_now();
    let mut st = Status {
        services: vec![],
        repositories: vec![],
        nas_free_kib: None,
        nas_error: None,
        host_errors: vec![],
        warnings: vec![],
        offsite: None,
    };
    for (h, svcs) in &targets {
        let base = base_dir(site, h);
        let res = (|| -> Result<(Vec<RunResult>, Option<u64>, Option<String>)> {
            let conn = connect(site, h, o)?;
            let log = conn.run(
                &format!(
                    "tail -n 5000 {} 2>/dev/null || true",
                    quote(&format!("{base}/{}/runs.jsonl", backup::DIR))
                ),
                b"",
            )?;
            let (results, _) = backup::parse_results(&String::from_utf8_lossy(&log.stdout));
            let (size, err) = repo_size(&conn, base)?;
            Ok((results, size, err))
        })();
        match res {
            Ok((results, size, err)) => {
                st.services
                    .extend(backup::service_status(h, svcs, &results, now));
                st.repositories.push(RepoStatus {
                    host: h.clone(),
                    repository: repo.url(h),
                    size_bytes: size,
                    error: err,
                });
            }
            Err(e) => {
                st.host_errors.push((h.clone(), format!("{e:#}")));
                st.services
                    .extend(
                        backup::service_status(h, svcs, &[], now)
                            .into_iter()
                            .map(|mut s| {
                                s.last_error = Some(format!("host unreachable: {e}"));
                                s
                            }),
                    );
            }
        }
    }
    match &repo {
        Repo::Sftp { nas, base, .. } => {
            match connect(site, nas, o).and_then(|c| Ok(c.run(&backup::nas_df_script(base), b"")?))
            {
                Ok(out) => {
                    st.nas_free_kib = String::from_utf8_lossy(&out.stdout)
                        .split_whitespace()
                        .next()
                        .and_then(|f| f.parse().ok())
                }
                Err(e) => st.nas_error = Some(format!("{e:#}")),
            }
        }
        Repo::Local { .. } => {}
    }
    if repo.append_only() && st.nas_error.is_none() {
        match nas_retention(site, o) {
            Ok(n) => st.warnings = n.warnings,
            Err(e) => st.nas_error = Some(format!("{e:#}")),
        }
    }
    if let Some(off) = offsite_status(site, o) {
        st.warnings.extend(off.warnings.iter().cloned());
        if let Some(e) = &off.error {
            st.warnings
                .push(format!("off-site copy `{}`: {e}", off.server));
        }
        st.offsite = Some(off);
    }
    Ok(st)
}

/// After a failed run to a NAS: a clear word when its disk is full (restic
/// over SFTP only reports a bare "Failure" then) or when it is unreachable.
pub fn nas_hint(site: &Resolved, o: &RunOptions) -> Option<String> {
    let Some(Repo::Sftp { nas, base, .. }) = Repo::of(site) else {
        return None;
    };
    let conn = match connect(site, &nas, o) {
        Ok(c) => c,
        Err(e) => return Some(format!("the NAS `{nas}` is unreachable: {e:#}")),
    };
    let out = conn.run(&backup::nas_df_script(&base), b"").ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let free: u64 = it.next()?.parse().ok()?;
    let used: u32 = it.next()?.trim_end_matches('%').parse().ok()?;
    (free < 64 * 1024 || used >= 98).then(|| {
        format!(
            "the NAS `{nas}` is full: {} KiB free under {base} ({used}% used); free some space, then run the backup again",
            free
        )
    })
}

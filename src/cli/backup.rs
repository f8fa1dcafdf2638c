//! `regie backup init|run|list|status|prune|copy|verify` and `regie
//! restore`: backups with restic to the NAS and the off-site copy, with
//! their text output.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::backup::run as br;
use crate::backup::run::Target;
use crate::cli::args::JobArgs;
use crate::cli::output::{confirm, human_bytes, print_json, Output};
use crate::site::load;
use crate::util::exit::EXIT_FAILED;

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Prepare the NAS (repository directory, the hosts' key), create each
    /// host's repository and install the schedule; with an off-site copy,
    /// prepare it too and create each host's repository there.
    Init {
        #[command(flatten)]
        job: JobArgs,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Back up now, all hosts in parallel. Exit 1 if any service failed.
    Run {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        host: Option<String>,
    },
    /// List the captures (snapshots grouped per service run).
    List {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        host: Option<String>,
        /// Read the NAS or the off-site copy.
        #[arg(long, value_enum, default_value = "nas")]
        from: Target,
    },
    /// Last success per service against the policy, repository sizes, NAS
    /// free space. Exit 1 if a service's last backup is too old or its last
    /// restore drill failed.
    Status {
        #[command(flatten)]
        job: JobArgs,
    },
    /// Retention from the trusted side (append-only sites): on the NAS,
    /// with regie's own access, forget by the policy and prune each host's
    /// repository. Exit 1 if any failed.
    Prune {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        host: Option<String>,
        /// Only there (default: the NAS and, if any, the off-site copy).
        #[arg(long, value_enum)]
        on: Option<Target>,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Copy the new snapshots of each host's repository from the NAS to the
    /// off-site copy (`restic copy`, run on the NAS with regie's access),
    /// then check that none is missing. Exit 1 if any failed.
    Copy {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        host: Option<String>,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// restic check, then a restore drill per service into a scratch stack
    /// with health and content checks. Exit 1 if any fails.
    Verify {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        host: Option<String>,
        /// Drill from the NAS or from the off-site copy.
        #[arg(long, value_enum, default_value = "nas")]
        from: Target,
    },
}

/// The arguments of `regie restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub job: JobArgs,
    #[arg(long)]
    pub service: String,
    /// Snapshot id (any snapshot of the capture) or `latest`.
    #[arg(long, default_value = "latest")]
    pub snapshot: String,
    /// Host to restore onto (default: where the inventory places the service).
    #[arg(long)]
    pub to_host: Option<String>,
    /// Host whose repository holds the backup (default: the target host).
    #[arg(long)]
    pub from_host: Option<String>,
    /// Restore from the NAS or from the off-site copy (when the NAS is lost).
    #[arg(long, value_enum, default_value = "nas")]
    pub from: Target,
    /// Do not capture the data in place first (it is then lost).
    #[arg(long)]
    pub no_safety_backup: bool,
    /// Do not ask for confirmation (needed when not on a terminal).
    #[arg(long)]
    pub yes: bool,
}

fn exit_code(jobs: &[br::HostJob]) -> i32 {
    if jobs.iter().all(|j| j.ok) {
        0
    } else {
        EXIT_FAILED
    }
}

pub fn run(output: Output, cmd: &BackupCmd) -> Result<i32> {
    let json = output == Output::Json;
    let jobs_exit = |jobs: &[br::HostJob]| -> Result<i32> {
        if json {
            print_json(&serde_json::to_value(jobs)?)?;
        } else {
            print_jobs(jobs);
        }
        Ok(exit_code(jobs))
    };
    match cmd {
        BackupCmd::Init { job, identity } => {
            let site = load(&job.inventory)?;
            let nas_key = br::nas_key_for(&site, identity.as_deref())?;
            let (free, mut jobs) = br::init(&site, &job.options(), nas_key.as_deref())?;
            if crate::backup::plan::OffsiteRepo::of(&site).is_some() {
                jobs.push(offsite_init(&site, job, identity.as_deref()));
            }
            if let Some(f) = free {
                eprintln!(
                    "NAS: repository directory ready, {} free",
                    human_bytes(f * 1024)
                );
            }
            if json {
                print_json(&serde_json::to_value(&jobs)?)?;
            } else {
                for j in &jobs {
                    match (&j.error, &j.output) {
                        (Some(e), _) => println!("{}\tFAILED\t{e}", j.host),
                        (None, Some(o)) => println!(
                            "{}\t{}\t{}\t{}",
                            j.host,
                            if j.ok { "ok" } else { "FAILED" },
                            o.steps.join("; "),
                            o.messages.join("; ")
                        ),
                        _ => {}
                    }
                }
            }
            Ok(exit_code(&jobs))
        }
        BackupCmd::Run { job, service, host } => {
            let site = load(&job.inventory)?;
            let jobs = br::run(&site, &job.options(), service.as_deref(), host.as_deref())?;
            if jobs.iter().any(|j| !j.ok) {
                if let Some(h) = br::nas_hint(&site, &job.options()) {
                    eprintln!("regie: {h}");
                }
            }
            jobs_exit(&jobs)
        }
        BackupCmd::Verify {
            job,
            service,
            host,
            from,
        } => {
            let site = load(&job.inventory)?;
            let jobs = br::verify(
                &site,
                &job.options(),
                service.as_deref(),
                host.as_deref(),
                *from == Target::Offsite,
            )?;
            jobs_exit(&jobs)
        }
        BackupCmd::List {
            job,
            service,
            host,
            from,
        } => list(
            json,
            job,
            service.as_deref(),
            host.as_deref(),
            *from == Target::Offsite,
        ),
        BackupCmd::Status { job } => status(json, job),
        BackupCmd::Prune {
            job,
            host,
            on,
            identity,
        } => prune(json, job, host.as_deref(), *on, identity.as_deref()),
        BackupCmd::Copy {
            job,
            host,
            identity,
        } => copy(json, job, host.as_deref(), identity.as_deref()),
    }
}

/// The off-site part of `backup init`, as one more line of its table.
fn offsite_init(
    site: &crate::site::inventory::Resolved,
    job: &JobArgs,
    identity: Option<&std::path::Path>,
) -> br::HostJob {
    let t0 = std::time::Instant::now();
    let res =
        br::copy_secrets(site, identity).and_then(|s| br::offsite_setup(site, &job.options(), &s));
    let host = format!(
        "offsite:{}",
        site.inv
            .backup
            .as_ref()
            .and_then(|b| b.offsite.as_ref())
            .map_or("", |o| o.to.as_str())
    );
    let (ok, output, error) = match res {
        Ok((free, outs)) => {
            let steps = outs
                .iter()
                .map(|c| {
                    format!(
                        "{}: {}",
                        c.host,
                        match (&c.error, c.created) {
                            (Some(e), _) => format!("FAILED: {e}"),
                            (None, true) => "repository created".into(),
                            (None, false) => "repository exists".into(),
                        }
                    )
                })
                .collect();
            let all_ok = outs.iter().all(|c| c.ok);
            (
                all_ok,
                Some(br::JobOutput {
                    status: if all_ok { 0 } else { 1 },
                    results: vec![],
                    steps,
                    messages: free
                        .map(|f| format!("{} free", human_bytes(f * 1024)))
                        .into_iter()
                        .collect(),
                }),
                None,
            )
        }
        Err(e) => (false, None, Some(format!("{e:#}"))),
    };
    br::HostJob {
        host,
        ok,
        seconds: t0.elapsed().as_secs_f64(),
        output,
        error,
    }
}

fn copy(
    json: bool,
    job: &JobArgs,
    host: Option<&str>,
    identity: Option<&std::path::Path>,
) -> Result<i32> {
    let site = load(&job.inventory)?;
    let secrets = br::copy_secrets(&site, identity)?;
    let out = br::copy(&site, &job.options(), &secrets, host)?;
    if json {
        print_json(&serde_json::to_value(&out)?)?;
    } else {
        for c in &out {
            match (&c.record, &c.error) {
                (Some(r), None) => println!(
                    "{}	off-site copy	ok	{} snapshot(s) copied, {} on the NAS, {} off site, none missing, {} s",
                    c.host, r.copied, r.primary, r.offsite, r.seconds
                ),
                (_, e) => println!(
                    "{}	off-site copy	FAILED	{}",
                    c.host,
                    e.as_deref().unwrap_or("no result")
                ),
            }
        }
    }
    Ok(if out.iter().all(|c| c.ok) {
        0
    } else {
        EXIT_FAILED
    })
}

fn prune(
    json: bool,
    job: &JobArgs,
    host: Option<&str>,
    on: Option<Target>,
    identity: Option<&std::path::Path>,
) -> Result<i32> {
    let site = load(&job.inventory)?;
    let targets = match on {
        Some(t) => vec![t],
        None if crate::backup::plan::OffsiteRepo::of(&site).is_some() => {
            vec![Target::Nas, Target::Offsite]
        }
        None => vec![Target::Nas],
    };
    let mut out = Vec::new();
    for t in targets {
        match br::prune(&site, &job.options(), identity, host, t) {
            Ok(o) => out.extend(o),
            // The other place still gets its retention (a lost NAS does
            // not stop it off site).
            Err(e) if on.is_none() => out.push(br::PruneOutcome {
                target: t,
                host: "-".into(),
                ok: false,
                record: None,
                error: Some(format!("{e:#}")),
            }),
            Err(e) => return Err(e),
        }
    }
    if json {
        print_json(&serde_json::to_value(&out)?)?;
    } else {
        for p in &out {
            match (&p.record, &p.error) {
                (Some(r), None) => println!(
                    "{}\tretention ({})\tok\tsnapshots {} -> {}, {} -> {}, {} s",
                    p.host,
                    p.target.label(),
                    r.snapshots_before,
                    r.snapshots_after,
                    human_bytes(r.kib_before * 1024),
                    human_bytes(r.kib_after * 1024),
                    r.seconds
                ),
                (_, e) => println!(
                    "{}\tretention ({})\tFAILED\t{}",
                    p.host,
                    p.target.label(),
                    e.as_deref().unwrap_or("no result")
                ),
            }
        }
    }
    Ok(if out.iter().all(|p| p.ok) {
        0
    } else {
        EXIT_FAILED
    })
}

fn list(
    json: bool,
    job: &JobArgs,
    service: Option<&str>,
    host: Option<&str>,
    offsite: bool,
) -> Result<i32> {
    let site = load(&job.inventory)?;
    let all = br::list(&site, &job.options(), service, host, offsite)?;
    let mut failed = false;
    let mut rows = Vec::new();
    for (h, res) in all {
        match res {
            Ok(caps) => rows.extend(caps),
            Err(e) => {
                failed = true;
                eprintln!("{h}: {e:#}");
            }
        }
    }
    if json {
        print_json(&serde_json::to_value(&rows)?)?;
    } else {
        println!("HOST\tSERVICE\tTIME\tSNAPSHOT\tDUMPS\tNOTE");
        for c in &rows {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                c.host,
                c.service,
                c.time.get(..19).unwrap_or(&c.time),
                c.id,
                if c.dumps.is_empty() {
                    "-".to_string()
                } else {
                    c.dumps.join(",")
                },
                if c.pre_restore {
                    "taken before a restore"
                } else {
                    ""
                }
            );
        }
    }
    Ok(if failed { EXIT_FAILED } else { 0 })
}

fn status(json: bool, job: &JobArgs) -> Result<i32> {
    let site = load(&job.inventory)?;
    let st = br::status(&site, &job.options())?;
    let stale = st.stale();
    if json {
        print_json(&serde_json::to_value(&st)?)?;
        return Ok(if stale { EXIT_FAILED } else { 0 });
    }
    let now = crate::util::time::unix_now();
    let ago = |t: Option<u64>| match t {
        Some(t) => format!("{:.1} h ago", now.saturating_sub(t) as f64 / 3600.0),
        None => "never".to_string(),
    };
    println!("HOST\tSERVICE\tLAST SUCCESS\tSTATE\tLAST DRILL");
    for s in &st.services {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            s.host,
            s.service,
            ago(s.last_success),
            if s.fresh {
                "ok".to_string()
            } else {
                format!(
                    "TOO OLD (policy: daily){}",
                    s.last_error
                        .as_ref()
                        .map(|e| format!("; last error: {e}"))
                        .unwrap_or_default()
                )
            },
            match (s.last_drill, s.last_drill_ok) {
                (Some(t), Some(true)) => format!("passed {}", ago(Some(t))),
                (Some(t), _) => format!("FAILED {}", ago(Some(t))),
                _ => "never".into(),
            }
        );
    }
    for r in &st.repositories {
        match (r.size_bytes, &r.error) {
            (Some(b), _) => eprintln!("repository {}: {}", r.repository, human_bytes(b)),
            (None, Some(e)) => eprintln!("repository {}: unreadable: {e}", r.repository),
            _ => {}
        }
    }
    if let Some(f) = st.nas_free_kib {
        eprintln!("NAS free space: {}", human_bytes(f * 1024));
    }
    if let Some(e) = &st.nas_error {
        eprintln!("NAS unreachable: {e}");
    }
    for (h, e) in &st.host_errors {
        eprintln!("{h}: {e}");
    }
    if let Some(off) = &st.offsite {
        for r in &off.records {
            eprintln!(
                "off-site copy of {} on {}: {} {}, {} snapshot(s) there{}",
                r.host,
                off.server,
                if r.ok {
                    "last copy"
                } else {
                    "last copy FAILED"
                },
                ago(Some(r.time)),
                r.offsite,
                if r.missing.is_empty() {
                    String::new()
                } else {
                    format!(", {} missing", r.missing.len())
                }
            );
        }
        if let Some(f) = off.free_kib {
            eprintln!("off-site free space: {}", human_bytes(f * 1024));
        }
    }
    for w in &st.warnings {
        eprintln!("warning: {w}");
    }
    Ok(if stale { EXIT_FAILED } else { 0 })
}

/// `regie restore`: asks first unless `--yes`; exit 1 if it failed.
pub fn restore(output: Output, a: &RestoreArgs) -> Result<i32> {
    let site = load(&a.job.inventory)?;
    let q = format!(
        "Restore {} from {}{}{}? Its current data is {}.",
        a.service,
        a.snapshot,
        if a.from == Target::Offsite {
            " of the off-site copy"
        } else {
            ""
        },
        a.to_host
            .as_ref()
            .map(|h| format!(" onto {h}"))
            .unwrap_or_default(),
        if a.no_safety_backup {
            "LOST"
        } else {
            "captured first"
        }
    );
    if !confirm(&q, a.yes, "restore replaces a service's data")? {
        eprintln!("nothing done");
        return Ok(0);
    }
    let j = br::restore(
        &site,
        &a.job.options(),
        &a.service,
        &a.snapshot,
        a.to_host.as_deref(),
        a.from_host.as_deref(),
        a.no_safety_backup,
        a.from == Target::Offsite,
    )?;
    if output == Output::Json {
        print_json(&serde_json::to_value(&j)?)?;
    } else {
        print_jobs(std::slice::from_ref(&j));
    }
    Ok(if j.ok { 0 } else { EXIT_FAILED })
}

/// Per host, one line per result; the host's last messages on stderr when
/// its job failed, and its duration.
fn print_jobs(jobs: &[br::HostJob]) {
    for j in jobs {
        if let Some(e) = &j.error {
            println!("{}\tFAILED\t{e}", j.host);
            continue;
        }
        let Some(o) = &j.output else { continue };
        for r in &o.results {
            let what = match (r.kind.as_str(), r.repo.as_deref()) {
                ("retention", _) => "retention".to_string(),
                (k, Some("offsite")) => format!(
                    "{} ({k} from the off-site copy)",
                    r.service.clone().unwrap_or_default()
                ),
                (k, _) => format!("{} ({k})", r.service.clone().unwrap_or_default()),
            };
            if r.ok {
                let detail = match r.kind.as_str() {
                    "drill" => format!(
                        "check {} s, restore+start {} s, {} files compared",
                        r.check_seconds.unwrap_or(0),
                        r.restore_seconds.unwrap_or(0),
                        r.files_checked.unwrap_or(0)
                    ),
                    "retention" => format!("{} s", r.seconds),
                    "restore" => format!(
                        "{} restored from {} in {} s",
                        r.capture.clone().unwrap_or_default(),
                        r.from.clone().unwrap_or_default(),
                        r.seconds
                    ),
                    _ => format!(
                        "{} added, {} s, snapshots {}",
                        human_bytes(r.bytes_added),
                        r.seconds,
                        r.snapshots.join(",")
                    ),
                };
                println!("{}\t{what}\tok\t{detail}", j.host);
            } else {
                println!("{}\t{what}\tFAILED\t{}", j.host, r.error);
            }
        }
        if o.status != 0 {
            for m in o.messages.iter().rev().take(5).rev() {
                eprintln!("{}: {m}", j.host);
            }
        }
        eprintln!("{}: {:.1} s", j.host, j.seconds);
    }
}

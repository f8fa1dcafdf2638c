//! `regie update ...` command line.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::cli::args::JobArgs;
use crate::cli::output::Output;
use crate::util::exit::{EXIT_FAILED, EXIT_PENDING};

#[derive(Debug, Subcommand)]
pub enum UpdateCmd {
    /// Running images and the newer versions their registries offer,
    /// judged by each stack's upgrade policy. Pulls nothing. Exit 3 when
    /// anything newer exists (allowed update, new digest, next major or
    /// PostgreSQL major), 0 when all is current, 1 on errors.
    Check {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: Option<String>,
    },
    /// Update one service: refused outside the maintenance window unless
    /// --now; backup first; pull, recreate, health checks and post-upgrade
    /// steps; on any failure, automatic rollback. The inventory's
    /// `version:` is set to the new version on success.
    Apply {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: String,
        /// Version to move to (default: the newest the policy allows).
        #[arg(long, value_name = "VERSION")]
        to: Option<String>,
        /// Update now, outside the maintenance window.
        #[arg(long)]
        now: bool,
        /// Seconds to wait for the new version's health checks.
        #[arg(long, default_value_t = 300)]
        health_timeout: u64,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Move a service's PostgreSQL to a newer major by dump and restore:
    /// backup first (its dump is loaded into the new cluster), the old data
    /// volume kept aside, automatic return to it on failure. Refused
    /// outside the maintenance window unless --now.
    Postgres {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: String,
        /// The new major, e.g. 18.
        #[arg(long, value_name = "MAJOR")]
        to: u64,
        #[arg(long)]
        now: bool,
        /// Seconds to wait for health checks.
        #[arg(long, default_value_t = 300)]
        health_timeout: u64,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Settle an update that did not finish (connection cut, regie
    /// stopped): previous images by id and files, and the pre-update backup
    /// when the stack migrates its database (or --restore-data).
    Rollback {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: String,
        /// Restore the pre-update backup (its current data is captured first).
        #[arg(long, conflicts_with = "keep_data")]
        restore_data: bool,
        /// Keep the data in place.
        #[arg(long)]
        keep_data: bool,
        /// Seconds to wait for the previous version's health checks.
        #[arg(long, default_value_t = 300)]
        health_timeout: u64,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Pending OS packages of each host (security first) and whether a
    /// reboot is required.
    Os {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        host: Option<String>,
        /// Update the package lists first (apt-get update; needs root or
        /// ssh.sudo).
        #[arg(long)]
        refresh: bool,
    },
}

pub fn run(output: Output, cmd: &UpdateCmd) -> Result<i32> {
    match cmd {
        UpdateCmd::Os { job, host, refresh } => {
            crate::cli::os::run(output, job, host.as_deref(), *refresh)
        }
        UpdateCmd::Rollback {
            job,
            service,
            restore_data,
            keep_data,
            health_timeout,
            identity,
        } => {
            let site = crate::site::load(&job.inventory)?;
            let mut run = job.options();
            run.health_timeout = std::time::Duration::from_secs(*health_timeout);
            let choice = match (restore_data, keep_data) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let rep = crate::update::run::rollback_interrupted(
                &site,
                service,
                &run,
                identity.as_deref(),
                choice,
            )?;
            if output == Output::Json {
                crate::cli::output::print_json(&serde_json::to_value(&rep)?)?;
            } else if rep.outcome == "nothing-to-do" {
                println!("{service}: no unfinished update on {}", rep.host);
            } else if rep.outcome == "completed" {
                println!(
                    "{service}: the update to {} had completed; its leftover record was removed",
                    rep.to.as_deref().unwrap_or("?")
                );
            } else {
                print_apply(&rep);
            }
            Ok(match rep.outcome.as_str() {
                "rolled-back" | "nothing-to-do" | "completed" => 0,
                _ => EXIT_FAILED,
            })
        }
        UpdateCmd::Postgres {
            job,
            service,
            to,
            now,
            health_timeout,
            identity,
        } => {
            let site = crate::site::load(&job.inventory)?;
            let ao = apply_options(
                job,
                *health_timeout,
                None,
                *now,
                identity.as_deref(),
                format!("update postgres --service {service} --to {to}"),
            );
            print_report(
                output,
                &crate::update::run::postgres(&site, service, *to, &ao)?,
            )
        }
        UpdateCmd::Check { job, service } => {
            let site = crate::site::load(&job.inventory)?;
            let checks = crate::update::run::check(&site, &job.options(), service.as_deref())?;
            let failed = checks.iter().any(|c| c.error.is_some());
            let pending = checks.iter().any(|c| {
                c.allowed().is_some()
                    || c.new_digest.is_some()
                    || c.candidates
                        .as_ref()
                        .is_some_and(|k| k.next_major.is_some())
                    || c.notes.iter().any(|n| n.starts_with("PostgreSQL"))
            });
            if output == Output::Json {
                crate::cli::output::print_json(&serde_json::to_value(&checks)?)?;
            } else {
                print_checks(&checks);
            }
            Ok(if failed {
                EXIT_FAILED
            } else if pending {
                EXIT_PENDING
            } else {
                0
            })
        }
        UpdateCmd::Apply {
            job,
            service,
            to,
            now,
            health_timeout,
            identity,
        } => {
            let site = crate::site::load(&job.inventory)?;
            let ao = apply_options(
                job,
                *health_timeout,
                to.clone(),
                *now,
                identity.as_deref(),
                format!("update apply --service {service}"),
            );
            print_report(output, &crate::update::run::apply(&site, service, &ao)?)
        }
    }
}

fn apply_options<'a>(
    job: &JobArgs,
    health_timeout: u64,
    to: Option<String>,
    now: bool,
    identity: Option<&'a std::path::Path>,
    command: String,
) -> crate::update::run::ApplyOptions<'a> {
    let mut run = job.options();
    run.health_timeout = std::time::Duration::from_secs(health_timeout);
    crate::update::run::ApplyOptions {
        run,
        to,
        now,
        identity,
        command,
    }
}

/// Print an update's report; its exit code.
fn print_report(output: Output, rep: &crate::update::run::ApplyReport) -> Result<i32> {
    if output == Output::Json {
        crate::cli::output::print_json(&serde_json::to_value(rep)?)?;
    } else {
        print_apply(rep);
    }
    Ok(if rep.ok() { 0 } else { EXIT_FAILED })
}

fn print_checks(checks: &[crate::update::run::ComponentCheck]) {
    println!("SERVICE\tCOMPONENT\tRUNNING\tAVAILABLE");
    for c in checks {
        let running = c.running.as_deref().unwrap_or("-");
        let mut avail = Vec::new();
        if let Some(k) = &c.candidates {
            if let Some(a) = &k.allowed {
                avail.push(format!("{a} (allowed)"));
            }
            if let Some(n) = &k.next_major {
                avail.push(format!("{n} (next major: --to {n})"));
            }
        }
        if let Some(d) = &c.new_digest {
            avail.push(format!("same tag, new digest {}", &d[..d.len().min(19)]));
        }
        if avail.is_empty() && c.error.is_none() {
            avail.push("up to date".into());
        }
        println!(
            "{}\t{}\t{}\t{}",
            c.service,
            c.component,
            running,
            avail.join(", ")
        );
        if let Some(e) = &c.error {
            println!("  error: {e}");
        }
        for n in c
            .notes
            .iter()
            .chain(c.candidates.iter().flat_map(|k| k.notes.iter()))
        {
            println!("  note: {n}");
        }
    }
}

fn print_apply(r: &crate::update::run::ApplyReport) {
    let to = r.to.as_deref().unwrap_or("-");
    match r.outcome.as_str() {
        "up-to-date" => println!("{}: {} is the newest version allowed", r.service, r.from),
        "updated" => println!("{}: updated {} → {to} on {}", r.service, r.from, r.host),
        "rolled-back" => println!(
            "{}: update {} → {to} FAILED and was rolled back to {}{}",
            r.service,
            r.from,
            r.from,
            if r.data_restored {
                " (data restored from the pre-update backup)"
            } else {
                ""
            }
        ),
        o => println!(
            "{}: update {} → {to} {}",
            r.service,
            r.from,
            o.to_uppercase()
        ),
    }
    for s in &r.steps {
        println!(
            "  {} {}{}",
            if s.ok { "ok " } else { "ERR" },
            s.step,
            if s.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", s.detail)
            }
        );
    }
    if let Some(e) = &r.error {
        eprintln!("{}: {e}", r.service);
    }
}

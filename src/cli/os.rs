//! `regie update os`: pending OS packages per host, security first, and
//! whether a reboot is needed.

use anyhow::{bail, Result};

use crate::cli::args::JobArgs;
use crate::cli::output::{print_json, Output};
use crate::osupdate::plan;
use crate::util::exit::{EXIT_FAILED, EXIT_PENDING};

/// `regie update os` without refreshing the package lists.
pub fn run_cmd(output: Output, job: &JobArgs, host: Option<&str>) -> Result<i32> {
    run(output, job, host, false)
}

/// `regie update os [--host H] [--refresh]`: exit 0 when nothing is
/// pending, 3 when updates are pending or a reboot is required, 1 on error.
pub fn run(output: Output, job: &JobArgs, host: Option<&str>, refresh: bool) -> Result<i32> {
    let site = crate::site::load(&job.inventory)?;
    let hosts = plan::hosts(&site, host)?;
    if hosts.is_empty() {
        bail!("no server in {}", site.file.display());
    }
    let reports = crate::osupdate::run::check(&site, &job.options(), &hosts, refresh);
    if output == Output::Json {
        print_json(&serde_json::to_value(&reports)?)?;
    } else {
        print!("{}", plan::text(&reports));
    }
    for r in &reports {
        if let Some(e) = &r.error {
            eprintln!("error: {}: {e}", r.host);
        }
        for e in r.report.iter().flat_map(|x| x.errors.iter()) {
            eprintln!("error: {}: {e}", r.host);
        }
    }
    Ok(if reports.iter().any(plan::HostOs::failed) {
        EXIT_FAILED
    } else if reports
        .iter()
        .any(|r| r.report.as_ref().is_some_and(plan::OsReport::pending))
    {
        EXIT_PENDING
    } else {
        0
    })
}

//! OS update report, executor: runs the report script on the hosts over
//! SSH, in parallel, and parses what they answer.

use anyhow::{bail, Result};

use crate::osupdate::plan::{parse_report, report_script, HostOs, OsReport};
use crate::remote::connect::{connect, RunOptions};
use crate::remote::parallel::in_parallel;
use crate::site::inventory::Resolved;

/// Check one host (`refresh`: update the package lists first).
pub fn report(site: &Resolved, host: &str, o: &RunOptions, refresh: bool) -> Result<OsReport> {
    let conn = connect(site, host, o)?;
    let out = conn.run(&report_script(refresh), b"")?;
    if !out.ok() {
        bail!(
            "the report script failed (exit {}): {}",
            out.status,
            out.stderr.trim()
        );
    }
    Ok(parse_report(&String::from_utf8_lossy(&out.stdout)))
}

/// Check the hosts in parallel.
pub fn check(site: &Resolved, o: &RunOptions, hosts: &[String], refresh: bool) -> Vec<HostOs> {
    in_parallel(
        hosts,
        |h| h.as_str(),
        o.parallel,
        |h, pb| {
            pb.set_message(if refresh {
                "refreshing the package lists"
            } else {
                "simulating the upgrade"
            });
            match report(site, h, o, refresh) {
                Ok(r) => HostOs {
                    host: h.clone(),
                    report: Some(r),
                    error: None,
                },
                Err(e) => HostOs {
                    host: h.clone(),
                    report: None,
                    error: Some(format!("{e:#}")),
                },
            }
        },
        |r| if r.failed() { "failed" } else { "done" },
    )
}

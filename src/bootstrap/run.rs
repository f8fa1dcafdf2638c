//! Host readiness, executor: reads the host's facts over SSH, judges them,
//! and with `install` runs the installation then reads the facts again.

use anyhow::{bail, Context, Result};

use crate::bootstrap::plan::{facts_script, install_script, judge, needs, Report};
use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::Resolved;

/// Check `host` (and install what it lacks when `install`). `show` gets
/// each report as it is made: the first, and the one after installing.
pub fn bootstrap(
    site: &Resolved,
    host: &str,
    o: &RunOptions,
    install: bool,
    show: impl Fn(&Report) -> Result<()>,
) -> Result<Report> {
    let h = site
        .inv
        .hosts
        .get(host)
        .with_context(|| format!("no host `{host}` in {}", site.file.display()))?;
    let need = needs(site, host);
    let conn = connect(site, host, o)?;
    let facts = conn.run(&facts_script(&h.base_dir), b"")?;
    let mut report = judge(host, &String::from_utf8_lossy(&facts.stdout), &need);
    show(&report)?;
    if install && !report.install.is_empty() {
        eprintln!("{host}: installing {}", report.install.join(" "));
        let out = conn.run(&install_script(&report.install), b"")?;
        if !out.ok() {
            bail!("{host}: installation failed: {}", out.stderr.trim());
        }
        let facts = conn.run(&facts_script(&h.base_dir), b"")?;
        report = judge(host, &String::from_utf8_lossy(&facts.stdout), &need);
        show(&report)?;
    }
    Ok(report)
}

//! `regie acceptance`: a provider's check of a regie or catalog version on
//! a staging site, stack by stack, before it goes to clients.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};

use super::output::{print_json, Output};
use crate::acceptance::plan::report_text;
use crate::acceptance::run::{run, Options};
use crate::site::load;
use crate::util::exit::EXIT_FAILED;

#[derive(Debug, clap::Args)]
pub struct AcceptanceArgs {
    /// The staging site's inventory (hosts without this site yet).
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// Deploy SERVICE at VERSION first and update it to the version the
    /// inventory gives (repeatable), e.g. --from files=33.0.9.
    #[arg(long, value_name = "SERVICE=VERSION")]
    pub from: Vec<String>,
    /// Leave the stacks, volumes and repositories in place at the end.
    #[arg(long)]
    pub keep: bool,
    /// Run it: the hosts get the site's stacks, which are then removed.
    #[arg(long)]
    pub yes: bool,
    /// Seconds to wait for a stack's health checks.
    #[arg(long, default_value_t = 300)]
    pub health_timeout: u64,
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// age identity file unlocking the site's secrets.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
}

fn parse_from(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    for i in items {
        let Some((s, v)) = i
            .split_once('=')
            .filter(|(s, v)| !s.is_empty() && !v.is_empty())
        else {
            bail!("--from `{}`: expected SERVICE=VERSION", i.escape_debug());
        };
        if m.insert(s.to_string(), v.to_string()).is_some() {
            bail!("--from names `{}` twice", s.escape_debug());
        }
    }
    Ok(m)
}

pub fn acceptance(out: Output, a: &AcceptanceArgs) -> Result<i32> {
    let from = parse_from(&a.from)?;
    let site = load(&a.inventory)?;
    if !a.yes {
        bail!(
            "an acceptance run deploys every stack of {} on its hosts, backs up, restores, updates, then removes all of it: pass --yes to run it (on staging hosts only)",
            a.inventory.display()
        );
    }
    let opts = Options {
        run: crate::remote::connect::RunOptions {
            accept_new_host_keys: a.accept_new_host_keys,
            health_timeout: std::time::Duration::from_secs(a.health_timeout),
            ..Default::default()
        },
        identity: a.identity.as_deref(),
        from,
        keep: a.keep,
    };
    let report = run(&site, &opts)?;
    if out == Output::Json {
        print_json(&serde_json::to_value(&report)?)?;
    } else {
        print!("{}", report_text(&report.stacks));
        for t in &report.teardown {
            println!(
                "{:<16} {:<4} {:>6.1} s  {}",
                t.step,
                if t.ok { "ok" } else { "FAIL" },
                t.seconds,
                t.detail
            );
        }
        println!(
            "acceptance of {}: {}",
            report.site,
            if report.ok() { "PASSED" } else { "FAILED" }
        );
    }
    Ok(if report.ok() { 0 } else { EXIT_FAILED })
}

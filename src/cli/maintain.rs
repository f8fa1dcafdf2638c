//! `regie maintain`: the scheduled maintenance run over one or many sites;
//! a summary per site on stdout (or all reports as JSON).

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::cli::output::{print_json, Output};

/// The arguments of `regie maintain`.
#[derive(Debug, clap::Args)]
pub struct MaintainArgs {
    /// Site inventories (repeat -i for each client site).
    #[arg(short, long = "inventory", value_name = "SITE.yml", required = true)]
    pub inventories: Vec<PathBuf>,
    /// Write <site>.json and <site>.txt reports into this directory.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Act as if every site's maintenance window were open.
    #[arg(long)]
    pub now: bool,
    /// Check for updates but apply none.
    #[arg(long)]
    pub no_updates: bool,
    /// Run no restore drill.
    #[arg(long)]
    pub no_drills: bool,
    /// Seconds to wait for an updated service's health checks.
    #[arg(long, default_value_t = 300)]
    pub health_timeout: u64,
    /// age identity file unlocking the sites' secrets.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    #[arg(long)]
    pub accept_new_host_keys: bool,
}

/// Exit 0 all fine, 1 problems, 3 only decisions pending.
pub fn run(output: Output, a: &MaintainArgs) -> Result<i32> {
    let o = crate::maintain::run::Options {
        run: crate::remote::connect::RunOptions {
            accept_new_host_keys: a.accept_new_host_keys,
            health_timeout: std::time::Duration::from_secs(a.health_timeout),
            ..Default::default()
        },
        now: a.now,
        updates: !a.no_updates,
        drills: !a.no_drills,
        identity: a.identity.clone(),
    };
    let mut all = Vec::new();
    let code =
        crate::maintain::run::run_sites(&a.inventories, a.report.as_deref(), &o, |inv, res| {
            match res {
                Ok(r) if output == Output::Json => all.push(serde_json::to_value(r)?),
                Ok(r) => print!("{}", crate::maintain::run::summary(r)),
                Err(e) => all.push(json!({ "inventory": inv, "error": format!("{e:#}") })),
            }
            Ok(())
        })?;
    if output == Output::Json {
        print_json(&json!(all))?;
    }
    Ok(code)
}

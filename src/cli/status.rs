//! `regie status` and `regie check`: read a site now, print it as a table
//! or JSON, or judge it as a monitoring plugin.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cli::output::{plugin_unknown, print_json, Output};
use crate::remote::connect::RunOptions;
use crate::site::inventory::Resolved;
use crate::site::state::Level;
use crate::site::thresholds::Thresholds;
use crate::status::run::{self, Collect};
use crate::status::{check, history};
use crate::util::exit::EXIT_FAILED;

/// What both `status` and `check` can leave out, and host keys.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Do not check pending OS updates.
    #[arg(long)]
    pub no_os: bool,
    /// Do not read the TLS certificates.
    #[arg(long)]
    pub no_tls: bool,
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Hosts read at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
}

impl ReadArgs {
    fn collect(&self, versions: bool) -> Collect {
        Collect {
            run: RunOptions {
                accept_new_host_keys: self.accept_new_host_keys,
                parallel: self.parallel,
                ..Default::default()
            },
            versions,
            os: !self.no_os,
            tls: !self.no_tls,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// Do not ask the registries for newer versions.
    #[arg(long)]
    pub no_registry: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The site to check (required without a subcommand).
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: Option<PathBuf>,
    /// Disk use (percent) from which a file system is WARNING.
    #[arg(long, value_name = "PCT")]
    pub disk_warning: Option<f64>,
    /// Disk use (percent) from which a file system is CRITICAL.
    #[arg(long, value_name = "PCT")]
    pub disk_critical: Option<f64>,
    /// Days before expiry from which a certificate is WARNING.
    #[arg(long, value_name = "DAYS")]
    pub cert_warning: Option<f64>,
    /// Days before expiry from which a certificate is CRITICAL.
    #[arg(long, value_name = "DAYS")]
    pub cert_critical: Option<f64>,
    /// Hours after which the last successful backup is CRITICAL.
    #[arg(long, value_name = "HOURS")]
    pub backup_max_age: Option<f64>,
    /// Also ask the registries for newer versions (reported, never a
    /// warning: updates are `maintain`'s business).
    #[arg(long)]
    pub versions: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

pub fn status_cli(args: &StatusArgs, output: Output) -> Result<i32> {
    let site = crate::site::load(&args.inventory)?;
    let st = run::collect(&site, &args.read.collect(!args.no_registry));
    history::record_quietly(&st);
    if output == Output::Json {
        print_json(&serde_json::to_value(&st)?)?;
    } else {
        std::io::stdout()
            .lock()
            .write_all(crate::status::text::text(&st).as_bytes())?;
    }
    let down = st.hosts.iter().any(|h| !h.reachable);
    Ok(if down { EXIT_FAILED } else { 0 })
}

/// The site's thresholds with the command line's overrides.
pub fn thresholds(site: &Resolved, args: &CheckArgs) -> Result<Thresholds> {
    let mut t = site.inv.monitoring.thresholds.clone();
    let set = |slot: &mut f64, v: Option<f64>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(&mut t.disk_warning, args.disk_warning);
    set(&mut t.disk_critical, args.disk_critical);
    set(&mut t.cert_warning_days, args.cert_warning);
    set(&mut t.cert_critical_days, args.cert_critical);
    if args.backup_max_age.is_some() {
        t.backup_max_age_hours = args.backup_max_age;
    }
    if let Some((field, msg)) = t.problems().into_iter().next() {
        bail!("invalid threshold {field}: {msg}");
    }
    Ok(t)
}

pub fn check_cli(args: &CheckArgs, output: Output) -> Result<i32> {
    let Some(inv) = &args.inventory else {
        println!("REGIE UNKNOWN - no inventory: regie check -i SITE.yml (or regie check dns -i SITE.yml)");
        return Ok(Level::Unknown.exit_code());
    };
    // A plugin must answer UNKNOWN, never crash, on a bad configuration.
    let prepared = crate::site::load(inv).and_then(|site| {
        let t = thresholds(&site, args)?;
        Ok((site, t))
    });
    let (site, t) = match prepared {
        Ok(x) => x,
        Err(e) => {
            return Ok(plugin_unknown(
                "REGIE",
                &e.context(inv.display().to_string()),
            ))
        }
    };
    let st = run::collect(&site, &args.read.collect(args.versions));
    history::record_quietly(&st);
    let findings = check::judge(&st, &t);
    let level = check::worst(&findings);
    if output == Output::Json {
        print_json(&serde_json::json!({
            "site": st.site,
            "level": level,
            "exit": level.exit_code(),
            "findings": findings,
            "perfdata": check::perfdata(&st, &t),
            "status": st,
        }))?;
    } else {
        print!("{}", check::plugin_output(&st, &findings, &t));
    }
    Ok(level.exit_code())
}

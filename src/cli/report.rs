//! `regie report`: client reports in HTML (and their data as JSON) for one
//! or many sites, from the sites themselves or from saved data.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::cli::output::{print_json, Output};
use crate::remote::connect::RunOptions;
use crate::util::exit::EXIT_FAILED;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Site inventories (repeat -i for each client site).
    #[arg(short, long = "inventory", value_name = "SITE.yml")]
    pub inventories: Vec<PathBuf>,
    /// Re-render reports from the `<site>.json` data a previous run wrote
    /// (no host is contacted).
    #[arg(long, value_name = "SITE.json", conflicts_with = "inventories")]
    pub from_json: Vec<PathBuf>,
    /// Output directory (created).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Days covered by the report, ending now.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Do not ask the registries for newer versions.
    #[arg(long)]
    pub no_registry: bool,
    #[arg(long)]
    pub accept_new_host_keys: bool,
}

pub fn cli(args: &ReportArgs, output: Output) -> Result<i32> {
    let mut inputs = Vec::new();
    let mut code = 0;
    if !args.from_json.is_empty() {
        for f in &args.from_json {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            let input: crate::status::history::ReportInput = serde_json::from_str(&text)
                .with_context(|| {
                    format!("{}: not report data written by `regie report`", f.display())
                })?;
            inputs.push(input);
        }
    } else {
        if args.inventories.is_empty() {
            bail!("no site: give -i SITE.yml (repeat for each site) or --from-json SITE.json");
        }
        let o = RunOptions {
            accept_new_host_keys: args.accept_new_host_keys,
            ..Default::default()
        };
        for inv in &args.inventories {
            // One site's failure never stops the fleet's report.
            match crate::site::load(inv).and_then(|site| {
                crate::report::run::gather(&site, &o, args.days, !args.no_registry)
            }) {
                Ok(i) => inputs.push(i),
                Err(e) => {
                    eprintln!("error: {}: {e:#}", inv.display());
                    code = EXIT_FAILED;
                }
            }
        }
    }
    if inputs.is_empty() {
        bail!("no report written");
    }
    let pages = crate::report::write(&args.out, &inputs)?;
    if output == Output::Json {
        print_json(&serde_json::json!({ "pages": pages }))?;
    } else {
        for p in &pages {
            println!("{}", p.display());
        }
    }
    Ok(code)
}

//! `regie validate`, `regie render` and `regie catalog [show]`: the site's
//! inventory checked or rendered on this machine, and the stacks regie
//! knows. Nothing here reaches a host.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Subcommand;
use serde_json::json;

use crate::cli::output::{print_json, Output};
use crate::deploy::run::render_saving_secrets;
use crate::site::catalog::Catalog;
use crate::site::{load, render};

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Print a stack's descriptor.
    Show { stack: String },
}

/// `regie validate -i SITE.yml`.
pub fn validate(output: Output, inventory: &Path) -> Result<i32> {
    let site = load(inventory)?;
    if output == Output::Json {
        print_json(&json!({ "valid": true, "diagnostics": site.warnings }))?;
    } else {
        let n: usize = site.placement.values().map(Vec::len).sum();
        eprintln!(
            "{}: valid ({} hosts, {} stacks placed, {} warning(s))",
            inventory.display(),
            site.inv.hosts.len(),
            n,
            site.warnings.len()
        );
    }
    Ok(0)
}

/// `regie render -i SITE.yml [--out DIR] [--identity FILE]`.
pub fn render(
    output: Output,
    inventory: &Path,
    out: Option<&Path>,
    identity: Option<&Path>,
) -> Result<i32> {
    let site = load(inventory)?;
    let out: PathBuf = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::site::site_files::default_out(inventory, &site.inv.site.name));
    // Refuse a destination before any secret is generated and saved.
    render::check_out(&out)?;
    let (hosts, added) = render_saving_secrets(&site, identity)?;
    render::write(&out, &hosts)?;
    let nfiles: usize = hosts.iter().map(|h| h.files.len()).sum();
    if output == Output::Json {
        print_json(&json!({
            "site": site.inv.site.name,
            "out": out,
            "new_secrets": added,
            "hosts": hosts.iter().map(|h| json!({
                "host": h.host,
                "stacks": h.manifest.stacks,
                "files": h.files,
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        eprintln!(
            "rendered {} host(s), {} file(s) into {}{}",
            hosts.len(),
            nfiles,
            out.display(),
            if added.is_empty() {
                String::new()
            } else {
                format!(" ({} new secret(s) saved)", added.len())
            }
        );
        for h in &hosts {
            println!("{}", out.join(&h.host).display());
        }
    }
    Ok(0)
}

/// `regie catalog [--dir DIR] [show STACK]`.
pub fn catalog(output: Output, dir: Option<&Path>, cmd: Option<&CatalogCmd>) -> Result<i32> {
    let cat = Catalog::with_overrides(dir)?;
    match cmd {
        None => {
            if output == Output::Json {
                print_json(&serde_json::to_value(cat.summaries())?)?;
            } else {
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "{:<8} {:<20} {:>8}  {:<20} DESCRIPTION",
                    "STACK", "VERSION", "MIN RAM", "UPGRADES"
                )?;
                for s in cat.summaries() {
                    let policy = serde_json::to_value(s.upgrade)?
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    writeln!(
                        out,
                        "{:<8} {:<20} {:>5} MB  {:<20} {}",
                        s.name, s.version, s.min_ram_mb, policy, s.description
                    )?;
                }
            }
        }
        Some(CatalogCmd::Show { stack }) => {
            let Some(d) = cat.stacks.get(stack) else {
                bail!(
                    "no stack `{stack}` in the catalog (stacks: {}){}",
                    cat.stacks.keys().cloned().collect::<Vec<_>>().join(", "),
                    crate::site::diag::did_you_mean(stack, cat.stacks.keys().map(String::as_str))
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default()
                );
            };
            if output == Output::Json {
                print_json(&serde_json::to_value(d)?)?;
            } else {
                print!("{}", serde_yaml::to_string(d)?);
            }
        }
    }
    Ok(0)
}

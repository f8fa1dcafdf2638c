//! `regie hosts trust`, `regie lock status|release` and `regie history`:
//! the hosts' keys, deploy locks and journals.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use crate::cli::output::{print_json, Output};
use crate::remote::connect::RunOptions;
use crate::site::load;
use crate::util::exit::EXIT_FAILED;

#[derive(Debug, Subcommand)]
pub enum HostsCmd {
    /// Fetch a host's SSH key, show its fingerprint and record it in the
    /// site's known_hosts file (SITE.known_hosts beside the inventory).
    Trust {
        host: String,
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum LockCmd {
    /// Who holds each host's lock.
    Status {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
    },
    /// Remove a stale lock (a run that died).
    Release {
        host: String,
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
    },
}

/// `regie hosts trust HOST -i SITE.yml`.
pub fn hosts(cmd: &HostsCmd) -> Result<i32> {
    let HostsCmd::Trust { host, inventory } = cmd;
    let site = load(inventory)?;
    let fp = crate::remote::connect::trust(&site, host, &RunOptions::default())?;
    eprintln!(
        "{host}: {fp} recorded in {}",
        crate::site::site_files::site_known_hosts(&site).display()
    );
    Ok(0)
}

/// `regie lock status|release`: exit 1 if a host's lock could not be read.
pub fn lock(cmd: &LockCmd) -> Result<i32> {
    let o = RunOptions::default();
    match cmd {
        LockCmd::Status { inventory } => {
            let site = load(inventory)?;
            let mut code = 0;
            crate::deploy::run::lock_statuses(&site, &o, |host, res| match res {
                Ok(None) => println!("{host}\tfree"),
                Ok(Some(holder)) => println!("{host}\tlocked\t{holder}"),
                Err(e) => {
                    println!("{host}\terror\t{e:#}");
                    code = EXIT_FAILED;
                }
            });
            Ok(code)
        }
        LockCmd::Release { host, inventory } => {
            let site = load(inventory)?;
            if crate::deploy::run::release_lock(&site, host, &o)? {
                eprintln!("{host}: lock released");
            }
            Ok(0)
        }
    }
}

/// `regie history -i SITE.yml [--host H]`.
pub fn history(
    output: Output,
    inventory: &Path,
    host: Option<&str>,
    accept_new_host_keys: bool,
) -> Result<i32> {
    let site = load(inventory)?;
    let o = RunOptions {
        accept_new_host_keys,
        ..Default::default()
    };
    let all = crate::deploy::run::histories(&site, host, &o)?;
    if output == Output::Json {
        print_json(&json!(all))?;
        return Ok(0);
    }
    for e in &all {
        let x = &e["entry"];
        if x["kind"] == "update" {
            println!(
                "{}\t{}\t{}\tupdate {} {} -> {}: {}{}",
                x["at"],
                e["host"].as_str().unwrap_or(""),
                x["by"].as_str().unwrap_or(""),
                x["service"].as_str().unwrap_or(""),
                x["from"].as_str().unwrap_or("?"),
                x["to"].as_str().unwrap_or("?"),
                x["outcome"].as_str().unwrap_or(""),
                if x["data_restored"] == true {
                    " (data restored)"
                } else {
                    ""
                }
            );
            continue;
        }
        println!(
            "{}\t{}\t{}\tchanged: {}\tfailed: {}",
            x["at"],
            e["host"].as_str().unwrap_or(""),
            x["by"].as_str().unwrap_or(""),
            x["stacks_changed"],
            x["failed"].as_array().map(|a| a.len()).unwrap_or(0)
        );
    }
    Ok(0)
}

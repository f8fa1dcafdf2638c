//! `regie proxy root-ca`: the local CA's root certificate that LAN clients
//! must trust, printed or written to a file, with its fingerprint.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;

use crate::cli::output::{print_json, Output};
use crate::remote::connect::RunOptions;
use crate::site::load;

#[derive(Debug, Subcommand)]
pub enum ProxyCmd {
    /// Print the root certificate of the proxy's local CA (LAN hosts, `tls
    /// internal`) and its SHA-256 fingerprint: every client of the office
    /// installs it once. The certificate only; its key never leaves the host.
    RootCa {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        /// The host whose proxy to ask (default: every LAN proxy).
        #[arg(long)]
        host: Option<String>,
        /// Write the PEM certificate to this file instead of stdout (one
        /// host only).
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long)]
        accept_new_host_keys: bool,
    },
}

pub fn run(output: Output, cmd: &ProxyCmd) -> Result<i32> {
    let ProxyCmd::RootCa {
        inventory,
        host,
        out,
        accept_new_host_keys,
    } = cmd;
    let site = load(inventory)?;
    if out.is_some() && host.is_none() {
        let hosts = crate::proxy::plan::hosts(&site, None)?;
        if hosts.len() > 1 {
            bail!(
                "each of {} has its own local CA: choose one with --host",
                hosts.join(", ")
            );
        }
    }
    let o = RunOptions {
        accept_new_host_keys: *accept_new_host_keys,
        ..Default::default()
    };
    let roots = crate::proxy::run::root_cas(&site, host.as_deref(), &o)?;
    if output == Output::Json {
        print_json(&serde_json::json!(roots))?;
        return Ok(0);
    }
    for r in &roots {
        match out {
            Some(file) => {
                crate::util::fs::write_atomic(file, r.pem.as_bytes(), 0o644)?;
                eprintln!("{}: root certificate written to {}", r.host, file.display());
            }
            None => print!("{}", r.pem),
        }
        eprintln!("{}: SHA-256 fingerprint {}", r.host, r.sha256);
    }
    Ok(0)
}

//! `regie check dns`: the mail DNS records a site needs, compared with what
//! a resolver answers. Being written.
use std::path::PathBuf;

use anyhow::{bail, Result};

#[derive(Debug, clap::Args)]
pub struct DnsArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
}

pub fn cli(args: &DnsArgs, output: crate::cli::Output) -> Result<i32> {
    let _ = (args, output);
    bail!("regie check dns is not built yet")
}

//! `regie report`: gathers each site's status and history, then writes the
//! pages with [`crate::report`].
use std::path::PathBuf;

use anyhow::{bail, Result};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[arg(short, long = "inventory", value_name = "SITE.yml")]
    pub inventories: Vec<PathBuf>,
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn cli(args: &ReportArgs, output: crate::cli::Output) -> Result<i32> {
    let _ = (args, output);
    bail!("not built yet")
}

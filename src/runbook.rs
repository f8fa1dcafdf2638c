//! `regie docs`: the site's run book (dossier d'exploitation). Being written.
use std::path::PathBuf;

use anyhow::{bail, Result};

#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// Output directory.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn cli(args: &DocsArgs, output: crate::cli::Output) -> Result<i32> {
    let _ = (args, output);
    bail!("regie docs is not built yet")
}

//! Collects a site's status over SSH and the Docker API (`regie status`),
//! and judges it (`regie check`).
use std::path::PathBuf;

use anyhow::{bail, Result};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: Option<PathBuf>,
}

pub fn status_cli(args: &StatusArgs, output: crate::cli::Output) -> Result<i32> {
    let _ = (args, output);
    bail!("not built yet")
}

pub fn check_cli(args: &CheckArgs, output: crate::cli::Output) -> Result<i32> {
    let _ = (args, output);
    bail!("not built yet")
}

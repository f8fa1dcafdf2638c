//! `regie bootstrap HOST`: check a host (and with --install, install
//! Docker and compose), showing the report.

use std::path::Path;

use anyhow::Result;

use crate::cli::output::{print_json, Output};
use crate::util::exit::EXIT_FAILED;

/// Exit 1 if a check failed.
pub fn run(
    output: Output,
    host: &str,
    inventory: &Path,
    install: bool,
    accept_new_host_keys: bool,
) -> Result<i32> {
    let site = crate::site::load(inventory)?;
    let o = crate::remote::connect::RunOptions {
        accept_new_host_keys,
        ..Default::default()
    };
    let print = |r: &crate::bootstrap::plan::Report| -> Result<()> {
        if output == Output::Json {
            print_json(&serde_json::to_value(r)?)?;
        } else {
            print!("{}", crate::bootstrap::plan::text(r));
        }
        Ok(())
    };
    let report = crate::bootstrap::run::bootstrap(&site, host, &o, install, print)?;
    Ok(if report.failed() { EXIT_FAILED } else { 0 })
}

//! Notifications of a site: failure reports by email (SMTP) and webhook.
//! (Being written: see the notify helper's task.)

use anyhow::{bail, Result};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum NotifyCmd {
    /// Send a test message to every channel of the site's `notify:`.
    Test {
        #[command(flatten)]
        job: crate::cli::JobArgs,
    },
}

pub fn run_cmd(_output: crate::cli::Output, _cmd: &NotifyCmd) -> Result<i32> {
    bail!("regie notify is not written yet")
}

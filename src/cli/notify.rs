//! `regie notify test`: send a test message to every channel of a site.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;

use crate::cli::args::JobArgs;
use crate::cli::output::{print_json, Output};
use crate::remote::notify::{send_with, smtp_password, Message};
use crate::site::secrets::Secret;
use crate::util::exit::EXIT_FAILED;

#[derive(Debug, Subcommand)]
pub enum NotifyCmd {
    /// Send a test message to every channel of the site's `notify:`.
    /// Exit 1 if any channel fails.
    Test {
        #[command(flatten)]
        job: JobArgs,
        /// age identity file unlocking the site's secrets (for the SMTP
        /// password when `notify.smtp.user` is set).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
}

pub fn run_cmd(output: Output, cmd: &NotifyCmd) -> Result<i32> {
    match cmd {
        NotifyCmd::Test { job, identity } => {
            let site = crate::site::load(&job.inventory)?;
            let n = &site.inv.notify;
            if n.email.is_empty() && n.webhook.is_none() {
                bail!(
                    "{} has no notification channel; expected `notify.email` (with `notify.smtp`) or `notify.webhook` in the inventory",
                    job.inventory.display()
                );
            }
            let password = smtp_password(&site, identity.as_deref()).map_err(|e| format!("{e:#}"));
            let pw = match &password {
                Ok(p) => Ok(p.as_ref().map(Secret::expose)),
                Err(e) => Err(e.clone()),
            };
            let deliveries = send_with(n, pw, &Message::test(&site.inv.site));
            let failed = deliveries.iter().filter(|d| !d.ok).count();
            if output == Output::Json {
                print_json(&serde_json::to_value(&deliveries)?)?;
            } else {
                for d in &deliveries {
                    match &d.error {
                        None => println!("{}\t{}\tok", d.channel, d.target),
                        Some(e) => println!("{}\t{}\tFAILED\t{e}", d.channel, d.target),
                    }
                }
                if failed == 0 {
                    eprintln!("test message sent to {} channel(s)", deliveries.len());
                } else {
                    eprintln!("{failed} of {} channel(s) failed", deliveries.len());
                }
            }
            Ok(if failed == 0 { 0 } else { EXIT_FAILED })
        }
    }
}

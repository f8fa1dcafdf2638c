//! Arguments shared by several commands: the site and how to reach its
//! hosts (`JobArgs`), and what a deploy targets (`TargetArgs`).

use std::path::PathBuf;

use crate::remote::connect::RunOptions;

#[derive(Debug, clap::Args)]
pub struct JobArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Hosts handled at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
}

impl JobArgs {
    pub fn options(&self) -> RunOptions {
        RunOptions {
            accept_new_host_keys: self.accept_new_host_keys,
            parallel: self.parallel,
            ..Default::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// Only this host (repeatable).
    #[arg(long)]
    pub host: Vec<String>,
    /// Only this service's stack (repeatable).
    #[arg(long)]
    pub service: Vec<String>,
    /// Remove stacks that left the inventory (volumes are kept).
    #[arg(long)]
    pub prune: bool,
    /// Record unknown host keys instead of refusing them (a changed key is
    /// always refused).
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// age identity file unlocking the site's secrets.
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Hosts handled at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
}

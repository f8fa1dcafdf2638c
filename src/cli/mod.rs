//! Command line: the clap types of the top level, the dispatch of each
//! command to its group's file (one per command group), and the edge where
//! errors become exit codes and messages.

use std::path::PathBuf;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use serde_json::json;

pub mod acceptance;
pub mod args;
pub mod backup;
pub mod bootstrap;
pub mod deploy;
pub mod dns;
pub mod docs;
pub mod hosts;
pub mod inventory;
pub mod maintain;
pub mod notify;
pub mod os;
pub mod output;
pub mod proxy;
pub mod report;
pub mod secrets;
pub mod status;
pub mod update;

use crate::site::diag;
use crate::site::diag::InvalidInput;
use crate::util::exit::{EXIT_FAILED, EXIT_INVALID};
use args::TargetArgs;
use output::{print_json, Output};

#[derive(Debug, Parser)]
#[command(
    name = "regie",
    version,
    about = "Install and run a self-hosted collaboration stack on a client's servers and NAS"
)]
pub struct Cli {
    /// Output format for data on stdout.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub output: Output,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Check an inventory; writes nothing. Exit 2 on errors.
    Validate {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
    },
    /// Render every file of every host of a site into a directory.
    Render {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        /// Output directory (default: rendered/<site> beside the inventory).
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// List the stacks of the catalog, or show one descriptor.
    Catalog {
        /// Directory laid over the built-in catalog (stacks/, templates/).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[command(subcommand)]
        cmd: Option<inventory::CatalogCmd>,
    },
    /// Site secrets (encrypted with age beside the inventory).
    Secrets {
        #[command(subcommand)]
        cmd: secrets::SecretsCmd,
    },
    /// Show what a deploy would change on each host (files with diffs,
    /// stacks to start). Exit 0 when in sync, 3 when changes are pending.
    Plan {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Upload what changed and bring changed stacks up, health-gated.
    Deploy {
        #[command(flatten)]
        target: TargetArgs,
        /// Do not ask for confirmation (needed when not on a terminal).
        #[arg(long)]
        yes: bool,
        /// Seconds to wait for a stack's health checks.
        #[arg(long, default_value_t = 180)]
        health_timeout: u64,
        /// Also delete the volumes of pruned stacks (data loss!).
        #[arg(long, requires = "prune")]
        delete_data: bool,
    },
    /// Before a new regie or catalog version reaches clients: deploy every
    /// stack of a staging site, put in known data, back up, lose it,
    /// restore, drill, update from the previous version, report per stack,
    /// and remove everything the run made. Exit 1 when a stack fails.
    Acceptance {
        #[command(flatten)]
        args: acceptance::AcceptanceArgs,
    },
    /// Check a host (OS, Docker, compose, disk, RAM, time sync, ports);
    /// with --install, install Docker and compose from the distribution.
    Bootstrap {
        host: String,
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        /// Install what is missing (apt-get) after showing what it is.
        #[arg(long)]
        install: bool,
        #[arg(long)]
        accept_new_host_keys: bool,
    },
    /// Host keys.
    Hosts {
        #[command(subcommand)]
        cmd: hosts::HostsCmd,
    },
    /// The per-host deploy lock.
    Lock {
        #[command(subcommand)]
        cmd: hosts::LockCmd,
    },
    /// The journal kept on each host (deploys and updates).
    History {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        #[arg(long)]
        host: Option<String>,
        #[arg(long)]
        accept_new_host_keys: bool,
    },
    /// Backups with restic to the NAS: init, run, list, status, verify.
    Backup {
        #[command(subcommand)]
        cmd: backup::BackupCmd,
    },
    /// Restore a service from a backup: the current data is captured first,
    /// the stack stopped, volumes and databases put back, the stack started
    /// and its post-restore steps run, health-gated.
    Restore {
        #[command(flatten)]
        args: backup::RestoreArgs,
    },
    /// The reverse proxy: `root-ca` gives the local CA's root that LAN
    /// clients trust.
    Proxy {
        #[command(subcommand)]
        cmd: proxy::ProxyCmd,
    },
    /// Updates: what is newer (`check`), apply one with a backup first and
    /// automatic rollback (`apply`), pending OS packages (`os`).
    Update {
        #[command(subcommand)]
        cmd: update::UpdateCmd,
    },
    /// The scheduled maintenance run, for one or many sites (cron): hosts
    /// and containers, backup status, update check, policy-allowed updates
    /// and due restore drills inside each site's window, a report, and
    /// notifications on anything failed or needing a human. Exit 0 all
    /// fine, 1 problems, 3 only decisions pending.
    Maintain {
        #[command(flatten)]
        args: maintain::MaintainArgs,
    },
    /// Notifications (email, webhook) of a site.
    Notify {
        #[command(subcommand)]
        cmd: notify::NotifyCmd,
    },
    /// The state of a site now: per host (reachable, uptime, memory, disk
    /// and inodes, OS updates, lock) and per service (containers, health,
    /// uptime, restarts in 24 h, version against the newest allowed), the
    /// NAS, TLS certificates of public hostnames, last backups.
    Status {
        #[command(flatten)]
        args: status::StatusArgs,
    },
    /// The status judged against thresholds, as a monitoring plugin (Nagios,
    /// Icinga, Zabbix, Centreon): one summary line, perfdata, exit 0 OK,
    /// 1 WARNING, 2 CRITICAL, 3 UNKNOWN. `check dns` checks the mail DNS
    /// records.
    #[command(args_conflicts_with_subcommands = true)]
    Check {
        #[command(subcommand)]
        cmd: Option<CheckCmd>,
        #[command(flatten)]
        args: status::CheckArgs,
    },
    /// Static HTML reports: one page per client site (French or English,
    /// from the site's locale) and a fleet overview, with history.
    Report {
        #[command(flatten)]
        args: report::ReportArgs,
    },
    /// Write the site's run book (dossier d'exploitation) to hand over:
    /// hosts, services, where data lives, backup and restore, contacts, DNS,
    /// and how to run everything without regie.
    Docs {
        #[command(flatten)]
        args: docs::DocsArgs,
    },
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum CheckCmd {
    /// Mail DNS records (MX, A, SPF, DKIM, DMARC, PTR) of each mail domain,
    /// compared with what the site needs; prints the records to create.
    Dns {
        #[command(flatten)]
        args: dns::DnsArgs,
    },
}

/// Run the CLI; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(inv) = e.downcast_ref::<InvalidInput>() {
                for d in &inv.diagnostics {
                    diag::eprint(d);
                }
                if cli.output == Output::Json {
                    let _ = print_json(&json!({ "valid": false, "diagnostics": inv.diagnostics }));
                }
                eprintln!("{e}");
                EXIT_INVALID
            } else {
                let text = diag::terminal_safe(&format!("{e:#}"));
                if diag::color() {
                    eprintln!("\x1b[1;31merror\x1b[0m: {text}");
                } else {
                    eprintln!("error: {text}");
                }
                EXIT_FAILED
            }
        }
    }
}

fn run(cli: &Cli) -> Result<i32> {
    let out = cli.output;
    match &cli.cmd {
        Cmd::Validate { inventory } => inventory::validate(out, inventory),
        Cmd::Render {
            inventory,
            out: dir,
            identity,
        } => inventory::render(out, inventory, dir.as_deref(), identity.as_deref()),
        Cmd::Catalog { dir, cmd } => inventory::catalog(out, dir.as_deref(), cmd.as_ref()),
        Cmd::Secrets { cmd } => secrets::run(out, cmd),
        Cmd::Plan { target } => deploy::plan(out, target),
        Cmd::Deploy {
            target,
            yes,
            health_timeout,
            delete_data,
        } => deploy::deploy(out, target, *yes, *health_timeout, *delete_data),
        Cmd::Acceptance { args } => acceptance::acceptance(out, args),
        Cmd::Bootstrap {
            host,
            inventory,
            install,
            accept_new_host_keys,
        } => bootstrap::run(out, host, inventory, *install, *accept_new_host_keys),
        Cmd::Hosts { cmd } => hosts::hosts(cmd),
        Cmd::Lock { cmd } => hosts::lock(cmd),
        Cmd::History {
            inventory,
            host,
            accept_new_host_keys,
        } => hosts::history(out, inventory, host.as_deref(), *accept_new_host_keys),
        Cmd::Backup { cmd } => backup::run(out, cmd),
        Cmd::Restore { args } => backup::restore(out, args),
        Cmd::Update { cmd } => update::run(out, cmd),
        Cmd::Proxy { cmd } => proxy::run(out, cmd),
        Cmd::Maintain { args } => maintain::run(out, args),
        Cmd::Notify { cmd } => notify::run_cmd(out, cmd),
        Cmd::Status { args } => status::status_cli(args, out),
        Cmd::Check {
            cmd: Some(CheckCmd::Dns { args }),
            ..
        } => dns::cli(args, out),
        Cmd::Check { cmd: None, args } => status::check_cli(args, out),
        Cmd::Report { args } => report::cli(args, out),
        Cmd::Docs { args } => docs::cli(args, cli.output),
        Cmd::Completions { shell } => completions(*shell),
    }
}

/// `regie completions SHELL`.
fn completions(shell: clap_complete::Shell) -> Result<i32> {
    clap_complete::generate(shell, &mut Cli::command(), "regie", &mut std::io::stdout());
    Ok(0)
}

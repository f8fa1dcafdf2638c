//! Command line: argument parsing and the edge where errors become exit
//! codes and messages.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use serde_json::json;

pub mod args;
pub mod dns;
pub mod notify;
pub mod os;
pub mod output;
pub mod report;
pub mod status;
pub mod update;

use crate::deploy::run::render_saving_secrets;
use crate::site::catalog::Catalog;
use crate::site::diag;
use crate::site::diag::InvalidInput;
use crate::site::inventory::Resolved;
use crate::site::render;
use crate::site::secrets;
use crate::site::site_files::key_for;
use crate::util::exit::{EXIT_FAILED, EXIT_INVALID, EXIT_PENDING};
use args::{JobArgs, TargetArgs};
use output::{confirm, human_bytes};

// Transitional: old paths used by files being split in parallel branches.
pub use crate::site::load;
pub use crate::site::site_files::secrets_path;
pub use output::{plugin_unknown, print_json, Output};

/// Load, render in memory (saving new secrets), and select hosts.
fn prepare(
    t: &TargetArgs,
    health_timeout: u64,
) -> Result<(
    Resolved,
    Vec<crate::site::files::HostRender>,
    crate::remote::connect::RunOptions,
)> {
    let site = load(&t.inventory)?;
    for h in &t.host {
        if !site.placement.contains_key(h) {
            bail!(
                "no host `{h}` running services in {} (hosts: {})",
                t.inventory.display(),
                site.placement
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    for s in &t.service {
        if !site.placement.values().flatten().any(|p| &p.name == s) {
            bail!("no service `{s}` placed in {}", t.inventory.display());
        }
    }
    let (mut renders, _) = render_saving_secrets(&site, t.identity.as_deref())?;
    if !t.host.is_empty() {
        renders.retain(|r| t.host.contains(&r.host));
    }
    let plan = crate::deploy::plan::PlanOptions {
        only: if t.service.is_empty() {
            None
        } else {
            Some(t.service.iter().cloned().collect())
        },
        prune: t.prune,
    };
    let o = crate::remote::connect::RunOptions {
        accept_new_host_keys: t.accept_new_host_keys,
        health_timeout: std::time::Duration::from_secs(health_timeout),
        parallel: t.parallel,
        plan,
        ..Default::default()
    };
    Ok((site, renders, o))
}

fn print_plan(reports: &[crate::deploy::run::HostReport]) {
    use crate::deploy::plan::{Change, StackAction};
    for r in reports {
        if let Some(e) = &r.error {
            println!("{}: ERROR {e}", r.host);
            continue;
        }
        let Some(p) = &r.plan else { continue };
        if p.is_empty() {
            println!("{}: in sync", r.host);
            for s in &p.stacks {
                println!("  keep {}: {}", s.name, s.reasons.join(", "));
            }
            continue;
        }
        println!("{} ({}):", r.host, p.base_dir);
        for f in &p.files {
            let sign = match f.change {
                Change::Create => "+",
                Change::Update => "~",
                Change::Remove => "-",
            };
            println!(
                "  {sign} {}{}",
                f.path,
                if f.secret {
                    "  (secret: content masked)"
                } else {
                    ""
                }
            );
        }
        for s in &p.stacks {
            let what = match s.action {
                StackAction::Up => "up",
                StackAction::Remove => "remove",
                StackAction::Keep => "keep",
            };
            println!("  {what} {}: {}", s.name, s.reasons.join(", "));
        }
        for d in r.diffs.values() {
            print!("{d}");
        }
    }
}

fn print_summary(reports: &[crate::deploy::run::HostReport]) {
    println!(
        "{:<12} {:<8} {:>7}  STACKS CHANGED",
        "HOST", "RESULT", "SECONDS"
    );
    for r in reports {
        let result = if r.error.is_some() {
            "FAILED"
        } else if !r.unhealthy.is_empty() {
            "UNHEALTHY"
        } else {
            "ok"
        };
        let changed = if r.stacks_changed.is_empty() {
            "-".to_string()
        } else {
            r.stacks_changed.join(", ")
        };
        println!("{:<12} {:<8} {:>7.1}  {changed}", r.host, result, r.seconds);
    }
    for r in reports {
        if let Some(e) = &r.error {
            eprintln!("error: {}: {e}", r.host);
        }
        for u in &r.unhealthy {
            eprintln!("error: {}: {u}", r.host);
        }
    }
}

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
        cmd: Option<CatalogCmd>,
    },
    /// Site secrets (encrypted with age beside the inventory).
    Secrets {
        #[command(subcommand)]
        cmd: SecretsCmd,
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
        cmd: HostsCmd,
    },
    /// The per-host deploy lock.
    Lock {
        #[command(subcommand)]
        cmd: LockCmd,
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
        cmd: BackupCmd,
    },
    /// Restore a service from a backup: the current data is captured first,
    /// the stack stopped, volumes and databases put back, the stack started
    /// and its post-restore steps run, health-gated.
    Restore {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: String,
        /// Snapshot id (any snapshot of the capture) or `latest`.
        #[arg(long, default_value = "latest")]
        snapshot: String,
        /// Host to restore onto (default: where the inventory places the service).
        #[arg(long)]
        to_host: Option<String>,
        /// Host whose repository holds the backup (default: the target host).
        #[arg(long)]
        from_host: Option<String>,
        /// Do not capture the data in place first (it is then lost).
        #[arg(long)]
        no_safety_backup: bool,
        /// Do not ask for confirmation (needed when not on a terminal).
        #[arg(long)]
        yes: bool,
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
        /// Site inventories (repeat -i for each client site).
        #[arg(short, long = "inventory", value_name = "SITE.yml", required = true)]
        inventories: Vec<PathBuf>,
        /// Write <site>.json and <site>.txt reports into this directory.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Act as if every site's maintenance window were open.
        #[arg(long)]
        now: bool,
        /// Check for updates but apply none.
        #[arg(long)]
        no_updates: bool,
        /// Run no restore drill.
        #[arg(long)]
        no_drills: bool,
        /// Seconds to wait for an updated service's health checks.
        #[arg(long, default_value_t = 300)]
        health_timeout: u64,
        /// age identity file unlocking the sites' secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        #[arg(long)]
        accept_new_host_keys: bool,
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
        args: crate::runbook::DocsArgs,
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

#[derive(Debug, Subcommand)]
pub enum BackupCmd {
    /// Prepare the NAS (repository directory, the hosts' key), create each
    /// host's repository and install the schedule.
    Init {
        #[command(flatten)]
        job: JobArgs,
        /// age identity file unlocking the site's secrets.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Back up now, all hosts in parallel. Exit 1 if any service failed.
    Run {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        host: Option<String>,
    },
    /// List the captures (snapshots grouped per service run).
    List {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        host: Option<String>,
    },
    /// Last success per service against the policy, repository sizes, NAS
    /// free space. Exit 1 if a service's last backup is too old or its last
    /// restore drill failed.
    Status {
        #[command(flatten)]
        job: JobArgs,
    },
    /// restic check, then a restore drill per service into a scratch stack
    /// with health and content checks. Exit 1 if any fails.
    Verify {
        #[command(flatten)]
        job: JobArgs,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        host: Option<String>,
    },
}

fn print_jobs(jobs: &[crate::backup::run::HostJob]) {
    for j in jobs {
        if let Some(e) = &j.error {
            println!("{}\tFAILED\t{e}", j.host);
            continue;
        }
        let Some(o) = &j.output else { continue };
        for r in &o.results {
            let what = match r.kind.as_str() {
                "retention" => "retention".to_string(),
                _ => format!("{} ({})", r.service.clone().unwrap_or_default(), r.kind),
            };
            if r.ok {
                let detail = match r.kind.as_str() {
                    "drill" => format!(
                        "check {} s, restore+start {} s, {} files compared",
                        r.check_seconds.unwrap_or(0),
                        r.restore_seconds.unwrap_or(0),
                        r.files_checked.unwrap_or(0)
                    ),
                    "retention" => format!("{} s", r.seconds),
                    "restore" => format!(
                        "{} restored from {} in {} s",
                        r.capture.clone().unwrap_or_default(),
                        r.from.clone().unwrap_or_default(),
                        r.seconds
                    ),
                    _ => format!(
                        "{} added, {} s, snapshots {}",
                        human_bytes(r.bytes_added),
                        r.seconds,
                        r.snapshots.join(",")
                    ),
                };
                println!("{}\t{what}\tok\t{detail}", j.host);
            } else {
                println!("{}\t{what}\tFAILED\t{}", j.host, r.error);
            }
        }
        if o.status != 0 {
            for m in o.messages.iter().rev().take(5).rev() {
                eprintln!("{}: {m}", j.host);
            }
        }
        eprintln!("{}: {:.1} s", j.host, j.seconds);
    }
}

#[derive(Debug, Subcommand)]
pub enum HostsCmd {
    /// Fetch a host's SSH key, show its fingerprint and record it in the
    /// site's known_hosts file (SITE.known_hosts beside the inventory).
    Trust {
        host: String,
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum LockCmd {
    /// Who holds each host's lock.
    Status {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
    },
    /// Remove a stale lock (a run that died).
    Release {
        host: String,
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Print a stack's descriptor.
    Show { stack: String },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCmd {
    /// List secret names (never values).
    List {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Print one secret's value (explicit request only).
    Show {
        name: String,
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Store a secret the operator provides, read from standard input (one
    /// line; never echoed): `notify.smtp_password`. Secrets regie generates
    /// (database passwords, ...) cannot be set: the services hold them.
    Set {
        name: String,
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Re-encrypt the secrets file to the current key and `secrets.recipients`
    /// (after adding or removing a colleague's key).
    Rekey {
        #[arg(short, long, value_name = "SITE.yml")]
        inventory: PathBuf,
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Create a new age identity file (mode 0600) and print its public key.
    Keygen {
        /// Where to write it (default ~/.config/regie/identity.txt).
        path: Option<PathBuf>,
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
                if diag::color() {
                    eprintln!("\x1b[1;31merror\x1b[0m: {e:#}");
                } else {
                    eprintln!("error: {e:#}");
                }
                EXIT_FAILED
            }
        }
    }
}

fn run(cli: &Cli) -> Result<i32> {
    match &cli.cmd {
        Cmd::Validate { inventory } => {
            let site = load(inventory)?;
            if cli.output == Output::Json {
                print_json(&json!({ "valid": true, "diagnostics": site.warnings }))?;
            } else {
                let n: usize = site.placement.values().map(Vec::len).sum();
                eprintln!(
                    "{}: valid ({} hosts, {} stacks placed, {} warning(s))",
                    inventory.display(),
                    site.inv.hosts.len(),
                    n,
                    site.warnings.len()
                );
            }
            Ok(0)
        }
        Cmd::Render {
            inventory,
            out,
            identity,
        } => {
            let site = load(inventory)?;
            let (hosts, added) = render_saving_secrets(&site, identity.as_deref())?;
            let out = out.clone().unwrap_or_else(|| {
                crate::site::site_files::default_out(inventory, &site.inv.site.name)
            });
            render::write(&out, &hosts)?;
            let nfiles: usize = hosts.iter().map(|h| h.files.len()).sum();
            if cli.output == Output::Json {
                print_json(&json!({
                    "site": site.inv.site.name,
                    "out": out,
                    "new_secrets": added,
                    "hosts": hosts.iter().map(|h| json!({
                        "host": h.host,
                        "stacks": h.manifest.stacks,
                        "files": h.files,
                    })).collect::<Vec<_>>(),
                }))?;
            } else {
                eprintln!(
                    "rendered {} host(s), {} file(s) into {}{}",
                    hosts.len(),
                    nfiles,
                    out.display(),
                    if added.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} new secret(s) saved)", added.len())
                    }
                );
                for h in &hosts {
                    println!("{}", out.join(&h.host).display());
                }
            }
            Ok(0)
        }
        Cmd::Catalog { dir, cmd } => {
            let cat = Catalog::with_overrides(dir.as_deref())?;
            match cmd {
                None => {
                    if cli.output == Output::Json {
                        print_json(&serde_json::to_value(cat.summaries())?)?;
                    } else {
                        let mut out = std::io::stdout().lock();
                        writeln!(
                            out,
                            "{:<8} {:<20} {:>8}  {:<20} DESCRIPTION",
                            "STACK", "VERSION", "MIN RAM", "UPGRADES"
                        )?;
                        for s in cat.summaries() {
                            let policy = serde_json::to_value(s.upgrade)?
                                .as_str()
                                .unwrap_or("")
                                .to_string();
                            writeln!(
                                out,
                                "{:<8} {:<20} {:>5} MB  {:<20} {}",
                                s.name, s.version, s.min_ram_mb, policy, s.description
                            )?;
                        }
                    }
                }
                Some(CatalogCmd::Show { stack }) => {
                    let Some(d) = cat.stacks.get(stack) else {
                        bail!(
                            "no stack `{stack}` in the catalog (stacks: {}){}",
                            cat.stacks.keys().cloned().collect::<Vec<_>>().join(", "),
                            crate::site::diag::did_you_mean(
                                stack,
                                cat.stacks.keys().map(String::as_str)
                            )
                            .map(|h| format!("; {h}"))
                            .unwrap_or_default()
                        );
                    };
                    if cli.output == Output::Json {
                        print_json(&serde_json::to_value(d)?)?;
                    } else {
                        print!("{}", serde_yaml::to_string(d)?);
                    }
                }
            }
            Ok(0)
        }
        Cmd::Secrets { cmd } => {
            match cmd {
                SecretsCmd::List {
                    inventory,
                    identity,
                }
                | SecretsCmd::Show {
                    inventory,
                    identity,
                    ..
                } => {
                    let site = load(inventory)?;
                    let key = key_for(&site, identity.as_deref())?;
                    let spath = secrets_path(&site);
                    if !spath.exists() {
                        bail!("{} does not exist yet: secrets are generated by the first `regie render`", spath.display());
                    }
                    let store = secrets::Store::open(&spath, &key)?;
                    if let SecretsCmd::Show { name, .. } = cmd {
                        let Some(v) = store.get(name) else {
                            bail!(
                                "no secret `{name}` in {}{}",
                                spath.display(),
                                crate::site::diag::did_you_mean(name, store.names())
                                    .map(|h| format!(" ({h})"))
                                    .unwrap_or_default()
                            );
                        };
                        println!("{}", v.expose());
                    } else if cli.output == Output::Json {
                        print_json(&json!(store.names().collect::<Vec<_>>()))?;
                    } else {
                        for n in store.names() {
                            println!("{n}");
                        }
                    }
                    Ok(0)
                }
                SecretsCmd::Set {
                    name,
                    inventory,
                    identity,
                } => {
                    const SETTABLE: [&str; 1] = [crate::remote::notify::SMTP_PASSWORD];
                    if !SETTABLE.contains(&name.as_str()) {
                        bail!(
                            "`{name}` cannot be set by hand: only {} can (the others are generated by regie and held by the services)",
                            SETTABLE.join(", ")
                        );
                    }
                    let site = load(inventory)?;
                    let key = key_for(&site, identity.as_deref())?;
                    let spath = secrets_path(&site);
                    if std::io::stdin().is_terminal() {
                        // A terminal would echo it: take it from a pipe only.
                        bail!("give the value on standard input, not typed here (it would be shown): `read -rs PW; printf '%s\\n' \"$PW\" | regie secrets set {name} -i ...`");
                    }
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the value from standard input")?;
                    let value = line.trim_end_matches(['\n', '\r']).to_string();
                    if value.is_empty() {
                        bail!("empty value on standard input: nothing changed");
                    }
                    let mut store = secrets::Store::open(&spath, &key)?;
                    store.set(name, value);
                    store.save(&key)?;
                    eprintln!("{name} stored in {}", spath.display());
                    Ok(0)
                }
                SecretsCmd::Rekey {
                    inventory,
                    identity,
                } => {
                    let site = load(inventory)?;
                    let key = key_for(&site, identity.as_deref())?;
                    let spath = secrets_path(&site);
                    let mut store = secrets::Store::open(&spath, &key)?;
                    store.save(&key)?;
                    eprintln!(
                        "{} re-encrypted to {} recipient(s)",
                        spath.display(),
                        match &key {
                            secrets::Key::Identity { extra, .. } => extra.len() + 1,
                            secrets::Key::Passphrase(_) => 1,
                        }
                    );
                    Ok(0)
                }
                SecretsCmd::Keygen { path } => {
                    let p = match path {
                        Some(p) => p.clone(),
                        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?)
                            .join(".config/regie/identity.txt"),
                    };
                    let public = secrets::keygen(&p)?;
                    eprintln!(
                        "wrote {} (keep it safe: without it the site secrets cannot be read)",
                        p.display()
                    );
                    println!("{public}");
                    Ok(0)
                }
            }
        }
        Cmd::Plan { target } => {
            let (site, renders, o) = prepare(target, 180)?;
            let reports = crate::deploy::run::plan(&site, &renders, &o);
            let pending = reports
                .iter()
                .any(|r| r.plan.as_ref().is_some_and(|p| !p.is_empty()));
            if cli.output == Output::Json {
                print_json(&serde_json::to_value(&reports)?)?;
            } else {
                print_plan(&reports);
            }
            Ok(if reports.iter().any(|r| r.error.is_some()) {
                EXIT_FAILED
            } else if pending {
                EXIT_PENDING
            } else {
                0
            })
        }
        Cmd::Deploy {
            target,
            yes,
            health_timeout,
            delete_data,
        } => {
            let (site, renders, mut o) = prepare(target, *health_timeout)?;
            o.delete_data = *delete_data;
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("deploy changes hosts: pass --yes to run it unattended (see `regie plan` for what would change)");
                }
                eprint!(
                    "Deploy site {} to {}? [y/N] ",
                    site.inv.site.name,
                    renders
                        .iter()
                        .map(|r| r.host.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes" | "o" | "oui") {
                    eprintln!("nothing done");
                    return Ok(0);
                }
            }
            let command = std::env::args().collect::<Vec<_>>().join(" ");
            let reports = crate::deploy::run::deploy(&site, &renders, &o, &command);
            if cli.output == Output::Json {
                print_json(&serde_json::to_value(&reports)?)?;
            } else {
                print_summary(&reports);
            }
            Ok(if reports.iter().all(|r| r.ok) {
                0
            } else {
                EXIT_FAILED
            })
        }
        Cmd::Bootstrap {
            host,
            inventory,
            install,
            accept_new_host_keys,
        } => {
            let site = load(inventory)?;
            let o = crate::remote::connect::RunOptions {
                accept_new_host_keys: *accept_new_host_keys,
                ..Default::default()
            };
            let print = |r: &crate::bootstrap::plan::Report| -> Result<()> {
                if cli.output == Output::Json {
                    print_json(&serde_json::to_value(r)?)?;
                } else {
                    print!("{}", crate::bootstrap::plan::text(r));
                }
                Ok(())
            };
            let report = crate::bootstrap::run::bootstrap(&site, host, &o, *install, print)?;
            Ok(if report.failed() { EXIT_FAILED } else { 0 })
        }
        Cmd::Hosts {
            cmd: HostsCmd::Trust { host, inventory },
        } => {
            let site = load(inventory)?;
            let fp = crate::remote::connect::trust(
                &site,
                host,
                &crate::remote::connect::RunOptions::default(),
            )?;
            eprintln!(
                "{host}: {fp} recorded in {}",
                crate::site::site_files::site_known_hosts(&site).display()
            );
            Ok(0)
        }
        Cmd::Lock { cmd } => {
            let (inventory, only) = match cmd {
                LockCmd::Status { inventory } => (inventory, None),
                LockCmd::Release { host, inventory } => (inventory, Some(host.clone())),
            };
            let site = load(inventory)?;
            let o = crate::remote::connect::RunOptions::default();
            let mut code = 0;
            for (host, h) in &site.inv.hosts {
                if !site.placement.contains_key(host) || only.as_ref().is_some_and(|x| x != host) {
                    continue;
                }
                match &only {
                    Some(_) => {
                        crate::deploy::run::lock_release(&site, host, &h.base_dir, &o)?;
                        eprintln!("{host}: lock released");
                    }
                    None => match crate::deploy::run::lock_status(&site, host, &h.base_dir, &o) {
                        Ok(None) => println!("{host}\tfree"),
                        Ok(Some(holder)) => println!("{host}\tlocked\t{holder}"),
                        Err(e) => {
                            println!("{host}\terror\t{e:#}");
                            code = EXIT_FAILED;
                        }
                    },
                }
            }
            if let Some(h) = &only {
                if !site.placement.contains_key(h) {
                    bail!("no host `{h}` running services in {}", inventory.display());
                }
            }
            Ok(code)
        }
        Cmd::Backup { cmd } => backup_cmd(cli, cmd),
        Cmd::Update { cmd } => update::run(cli.output, cmd),
        Cmd::Notify { cmd } => notify::run_cmd(cli.output, cmd),
        Cmd::Status { args } => status::status_cli(args, cli.output),
        Cmd::Check {
            cmd: Some(CheckCmd::Dns { args }),
            ..
        } => dns::cli(args, cli.output),
        Cmd::Check { cmd: None, args } => status::check_cli(args, cli.output),
        Cmd::Report { args } => report::cli(args, cli.output),
        Cmd::Docs { args } => crate::runbook::cli(args, cli.output),
        Cmd::Maintain {
            inventories,
            report,
            now,
            no_updates,
            no_drills,
            health_timeout,
            identity,
            accept_new_host_keys,
        } => {
            let o = crate::maintain::run::Options {
                run: crate::remote::connect::RunOptions {
                    accept_new_host_keys: *accept_new_host_keys,
                    health_timeout: std::time::Duration::from_secs(*health_timeout),
                    ..Default::default()
                },
                now: *now,
                updates: !no_updates,
                drills: !no_drills,
                identity: identity.clone(),
            };
            let mut code = 0;
            let mut all = Vec::new();
            for inv in inventories {
                // One site's failure never stops the others.
                match crate::maintain::run::run_site(inv, &o) {
                    Ok(r) => {
                        if let Some(dir) = report {
                            if let Err(e) = crate::maintain::run::write_report(dir, &r) {
                                eprintln!("{}: writing the report: {e:#}", inv.display());
                                code = EXIT_FAILED;
                            }
                        }
                        code = match (code, r.exit_code()) {
                            (EXIT_FAILED, _) | (_, EXIT_FAILED) => EXIT_FAILED,
                            (EXIT_PENDING, _) | (_, EXIT_PENDING) => EXIT_PENDING,
                            _ => 0,
                        };
                        if cli.output == Output::Json {
                            all.push(serde_json::to_value(&r)?);
                        } else {
                            print!("{}", crate::maintain::run::summary(&r));
                        }
                    }
                    Err(e) => {
                        eprintln!("{}: {e:#}", inv.display());
                        if let Some(inv_err) = e.downcast_ref::<InvalidInput>() {
                            for d in &inv_err.diagnostics {
                                diag::eprint(d);
                            }
                        }
                        all.push(json!({ "inventory": inv, "error": format!("{e:#}") }));
                        code = EXIT_FAILED;
                    }
                }
            }
            if cli.output == Output::Json {
                print_json(&json!(all))?;
            }
            Ok(code)
        }
        Cmd::Restore {
            job,
            service,
            snapshot,
            to_host,
            from_host,
            no_safety_backup,
            yes,
        } => {
            let site = load(&job.inventory)?;
            let q = format!(
                "Restore {service} from {snapshot}{}? Its current data is {}.",
                to_host
                    .as_ref()
                    .map(|h| format!(" onto {h}"))
                    .unwrap_or_default(),
                if *no_safety_backup {
                    "LOST"
                } else {
                    "captured first"
                }
            );
            if !confirm(&q, *yes, "restore replaces a service's data")? {
                eprintln!("nothing done");
                return Ok(0);
            }
            let j = crate::backup::run::restore(
                &site,
                &job.options(),
                service,
                snapshot,
                to_host.as_deref(),
                from_host.as_deref(),
                *no_safety_backup,
            )?;
            let ok = j.ok;
            if cli.output == Output::Json {
                print_json(&serde_json::to_value(&j)?)?;
            } else {
                print_jobs(std::slice::from_ref(&j));
            }
            Ok(if ok { 0 } else { EXIT_FAILED })
        }
        Cmd::History {
            inventory,
            host,
            accept_new_host_keys,
        } => {
            let site = load(inventory)?;
            let o = crate::remote::connect::RunOptions {
                accept_new_host_keys: *accept_new_host_keys,
                ..Default::default()
            };
            let mut all = Vec::new();
            for (name, h) in &site.inv.hosts {
                if !site.placement.contains_key(name) || host.as_ref().is_some_and(|x| x != name) {
                    continue;
                }
                for e in crate::deploy::run::history(&site, name, &h.base_dir, &o)? {
                    all.push(json!({ "host": name, "entry": e }));
                }
            }
            if cli.output == Output::Json {
                print_json(&json!(all))?;
            } else {
                for e in &all {
                    let x = &e["entry"];
                    if x["kind"] == "update" {
                        println!(
                            "{}\t{}\t{}\tupdate {} {} -> {}: {}{}",
                            x["at"],
                            e["host"].as_str().unwrap_or(""),
                            x["by"].as_str().unwrap_or(""),
                            x["service"].as_str().unwrap_or(""),
                            x["from"].as_str().unwrap_or("?"),
                            x["to"].as_str().unwrap_or("?"),
                            x["outcome"].as_str().unwrap_or(""),
                            if x["data_restored"] == true {
                                " (data restored)"
                            } else {
                                ""
                            }
                        );
                        continue;
                    }
                    println!(
                        "{}\t{}\t{}\tchanged: {}\tfailed: {}",
                        x["at"],
                        e["host"].as_str().unwrap_or(""),
                        x["by"].as_str().unwrap_or(""),
                        x["stacks_changed"],
                        x["failed"].as_array().map(|a| a.len()).unwrap_or(0)
                    );
                }
            }
            Ok(0)
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "regie", &mut std::io::stdout());
            Ok(0)
        }
    }
}

fn backup_cmd(cli: &Cli, cmd: &BackupCmd) -> Result<i32> {
    use crate::backup::run as br;
    let json = cli.output == Output::Json;
    let jobs_exit = |jobs: &[br::HostJob]| -> Result<i32> {
        if json {
            print_json(&serde_json::to_value(jobs)?)?;
        } else {
            print_jobs(jobs);
        }
        Ok(if jobs.iter().all(|j| j.ok) {
            0
        } else {
            EXIT_FAILED
        })
    };
    match cmd {
        BackupCmd::Init { job, identity } => {
            let site = load(&job.inventory)?;
            let nas_key = if matches!(
                crate::backup::plan::Repo::of(&site),
                Some(crate::backup::plan::Repo::Sftp { .. })
            ) {
                let key = key_for(&site, identity.as_deref())?;
                let path = secrets_path(&site);
                let mut store = secrets::Store::open(&path, &key)?;
                let k = crate::backup::plan::nas_key(&mut store)?;
                store.save_if_changed(&key)?;
                Some(k)
            } else {
                None
            };
            let (free, jobs) = br::init(&site, &job.options(), nas_key.as_deref())?;
            if let Some(f) = free {
                eprintln!(
                    "NAS: repository directory ready, {} free",
                    human_bytes(f * 1024)
                );
            }
            if json {
                print_json(&serde_json::to_value(&jobs)?)?;
            } else {
                for j in &jobs {
                    match (&j.error, &j.output) {
                        (Some(e), _) => println!("{}\tFAILED\t{e}", j.host),
                        (None, Some(o)) => println!(
                            "{}\t{}\t{}\t{}",
                            j.host,
                            if j.ok { "ok" } else { "FAILED" },
                            o.steps.join("; "),
                            o.messages.join("; ")
                        ),
                        _ => {}
                    }
                }
            }
            Ok(if jobs.iter().all(|j| j.ok) {
                0
            } else {
                EXIT_FAILED
            })
        }
        BackupCmd::Run { job, service, host } => {
            let site = load(&job.inventory)?;
            let jobs = br::run(&site, &job.options(), service.as_deref(), host.as_deref())?;
            if jobs.iter().any(|j| !j.ok) {
                if let Some(h) = br::nas_hint(&site, &job.options()) {
                    eprintln!("regie: {h}");
                }
            }
            jobs_exit(&jobs)
        }
        BackupCmd::Verify { job, service, host } => {
            let site = load(&job.inventory)?;
            let jobs = br::verify(&site, &job.options(), service.as_deref(), host.as_deref())?;
            jobs_exit(&jobs)
        }
        BackupCmd::List { job, service, host } => {
            let site = load(&job.inventory)?;
            let all = br::list(&site, &job.options(), service.as_deref(), host.as_deref())?;
            let mut failed = false;
            let mut rows = Vec::new();
            for (h, res) in all {
                match res {
                    Ok(caps) => rows.extend(caps),
                    Err(e) => {
                        failed = true;
                        eprintln!("{h}: {e:#}");
                    }
                }
            }
            if json {
                print_json(&serde_json::to_value(&rows)?)?;
            } else {
                println!("HOST\tSERVICE\tTIME\tSNAPSHOT\tDUMPS\tNOTE");
                for c in &rows {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        c.host,
                        c.service,
                        c.time.get(..19).unwrap_or(&c.time),
                        c.id,
                        if c.dumps.is_empty() {
                            "-".to_string()
                        } else {
                            c.dumps.join(",")
                        },
                        if c.pre_restore {
                            "taken before a restore"
                        } else {
                            ""
                        }
                    );
                }
            }
            Ok(if failed { EXIT_FAILED } else { 0 })
        }
        BackupCmd::Status { job } => {
            let site = load(&job.inventory)?;
            let st = br::status(&site, &job.options())?;
            let stale = st
                .services
                .iter()
                .any(|s| !s.fresh || s.last_drill_ok == Some(false))
                || !st.host_errors.is_empty();
            if json {
                print_json(&serde_json::to_value(&st)?)?;
            } else {
                let now = crate::util::time::unix_now();
                let ago = |t: Option<u64>| match t {
                    Some(t) => format!("{:.1} h ago", now.saturating_sub(t) as f64 / 3600.0),
                    None => "never".to_string(),
                };
                println!("HOST\tSERVICE\tLAST SUCCESS\tSTATE\tLAST DRILL");
                for s in &st.services {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        s.host,
                        s.service,
                        ago(s.last_success),
                        if s.fresh {
                            "ok".to_string()
                        } else {
                            format!(
                                "TOO OLD (policy: daily){}",
                                s.last_error
                                    .as_ref()
                                    .map(|e| format!("; last error: {e}"))
                                    .unwrap_or_default()
                            )
                        },
                        match (s.last_drill, s.last_drill_ok) {
                            (Some(t), Some(true)) => format!("passed {}", ago(Some(t))),
                            (Some(t), _) => format!("FAILED {}", ago(Some(t))),
                            _ => "never".into(),
                        }
                    );
                }
                for r in &st.repositories {
                    match (r.size_bytes, &r.error) {
                        (Some(b), _) => {
                            eprintln!("repository {}: {}", r.repository, human_bytes(b))
                        }
                        (None, Some(e)) => {
                            eprintln!("repository {}: unreadable: {e}", r.repository)
                        }
                        _ => {}
                    }
                }
                if let Some(f) = st.nas_free_kib {
                    eprintln!("NAS free space: {}", human_bytes(f * 1024));
                }
                if let Some(e) = &st.nas_error {
                    eprintln!("NAS unreachable: {e}");
                }
                for (h, e) in &st.host_errors {
                    eprintln!("{h}: {e}");
                }
            }
            Ok(if stale { EXIT_FAILED } else { 0 })
        }
    }
}

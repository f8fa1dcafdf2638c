//! Command line: argument parsing and the edge where errors become exit
//! codes and messages.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::catalog::Catalog;
use crate::diag::{Diagnostic, InvalidInput, Severity};
use crate::inventory::{self, Resolved};
use crate::render;
use crate::secrets;

/// Exit codes.
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_INVALID: i32 = 2;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
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
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
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
    /// Create a new age identity file (mode 0600) and print its public key.
    Keygen {
        /// Where to write it (default ~/.config/regie/identity.txt).
        path: Option<PathBuf>,
    },
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn print_diag(d: &Diagnostic) {
    let text = d.to_string();
    if color() {
        let (code, word) = match d.severity {
            Severity::Error => ("31", "error"),
            Severity::Warning => ("33", "warning"),
        };
        let rest = text.split_once(": ").map(|x| x.1).unwrap_or(&text);
        eprintln!("\x1b[1;{code}m{word}\x1b[0m: {rest}");
    } else {
        eprintln!("{text}");
    }
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// Run the CLI; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(inv) = e.downcast_ref::<InvalidInput>() {
                for d in &inv.diagnostics {
                    print_diag(d);
                }
                if cli.output == Output::Json {
                    let _ = print_json(&json!({ "valid": false, "diagnostics": inv.diagnostics }));
                }
                eprintln!("{e}");
                EXIT_INVALID
            } else {
                if color() {
                    eprintln!("\x1b[1;31merror\x1b[0m: {e:#}");
                } else {
                    eprintln!("error: {e:#}");
                }
                EXIT_FAILED
            }
        }
    }
}

fn load(inventory: &Path) -> Result<Resolved> {
    let site = inventory::load(inventory)?;
    for w in &site.warnings {
        print_diag(w);
    }
    Ok(site)
}

fn rel_to(inventory: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        inventory.parent().unwrap_or(Path::new(".")).join(p)
    }
}

pub fn secrets_path(site: &Resolved) -> PathBuf {
    match &site.inv.secrets.file {
        Some(f) => rel_to(&site.file, f),
        None => {
            let stem = site
                .file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("site");
            site.file.with_file_name(format!("{stem}.secrets.age"))
        }
    }
}

fn key_for(site: &Resolved, identity: Option<&Path>) -> Result<secrets::Key> {
    let configured = site
        .inv
        .secrets
        .identity
        .as_ref()
        .map(|p| rel_to(&site.file, p));
    secrets::find_key(
        identity.or(configured.as_deref()),
        &site.inv.secrets.recipients,
    )
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
            let key = key_for(&site, identity.as_deref())?;
            let spath = secrets_path(&site);
            let store = secrets::Store::open(&spath, &key)?;
            let (res, mut store) = render::render(&site, store);
            let hosts = res?;
            let added = store.added().to_vec();
            // Secrets first: files must never carry a secret that is not kept.
            store.save_if_changed(&key)?;
            let out = out
                .clone()
                .unwrap_or_else(|| render::default_out(inventory, &site.inv.site.name));
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
                            crate::diag::did_you_mean(stack, cat.stacks.keys().map(String::as_str))
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
                                crate::diag::did_you_mean(name, store.names())
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
        Cmd::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "regie", &mut std::io::stdout());
            Ok(0)
        }
    }
}

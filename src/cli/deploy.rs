//! `regie plan` and `regie deploy`: what a deploy would change on each
//! host, and the deploy itself, with their text output.

use std::io::IsTerminal;

use anyhow::{bail, Result};

use crate::cli::args::TargetArgs;
use crate::cli::output::{print_json, Output};
use crate::deploy::run::{render_saving_secrets, HostReport};
use crate::site::files::HostRender;
use crate::site::inventory::Resolved;
use crate::site::load;
use crate::util::exit::{EXIT_FAILED, EXIT_PENDING};

/// `regie plan`: exit 0 when in sync, 3 when changes are pending, 1 on
/// errors.
pub fn plan(output: Output, target: &TargetArgs) -> Result<i32> {
    let (site, renders, o) = prepare(target, 180)?;
    let reports = crate::deploy::run::plan(&site, &renders, &o);
    let pending = reports
        .iter()
        .any(|r| r.plan.as_ref().is_some_and(|p| !p.is_empty()));
    if output == Output::Json {
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

/// `regie deploy`: asks first unless `yes`; exit 1 if any host failed.
pub fn deploy(
    output: Output,
    target: &TargetArgs,
    yes: bool,
    health_timeout: u64,
    delete_data: bool,
) -> Result<i32> {
    let (site, renders, mut o) = prepare(target, health_timeout)?;
    o.delete_data = delete_data;
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
    if output == Output::Json {
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

/// Load, render in memory (saving new secrets), and select hosts.
fn prepare(
    t: &TargetArgs,
    health_timeout: u64,
) -> Result<(
    Resolved,
    Vec<HostRender>,
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

fn print_plan(reports: &[HostReport]) {
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

fn print_summary(reports: &[HostReport]) {
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
        for i in r.images.iter().filter(|i| !i.present) {
            println!(
                "{}: image {} pushed: {} of {} layers, {} bytes sent in {:.1}s{}",
                r.host,
                i.image,
                i.layers_sent,
                i.layers,
                i.bytes_sent,
                i.seconds,
                if i.resumed_from > 0 {
                    format!(" (resumed at {} bytes)", i.resumed_from)
                } else {
                    String::new()
                }
            );
        }
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

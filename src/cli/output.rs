//! How commands answer: text or JSON on stdout, the monitoring plugin's
//! UNKNOWN, confirmations, sizes for people.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Result};
use clap::ValueEnum;

use crate::site::diag::InvalidInput;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

pub fn print_json(v: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// A monitoring plugin's answer to an error before anything was judged (an
/// unreadable or invalid inventory, a bad option): `LABEL UNKNOWN - why` on
/// stdout, the inventory's diagnostics on stderr, exit 3.
pub fn plugin_unknown(label: &str, e: &anyhow::Error) -> i32 {
    if let Some(inv) = e.downcast_ref::<InvalidInput>() {
        for d in &inv.diagnostics {
            crate::site::diag::eprint(d);
        }
    }
    println!("{label} UNKNOWN - {}", format!("{e:#}").replace('\n', " "));
    crate::site::state::Level::Unknown.exit_code()
}

pub fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

pub fn confirm(question: &str, yes: bool, what: &str) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        bail!("{what}: pass --yes to run it unattended");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "o" | "oui"))
}

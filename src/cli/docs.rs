//! The command line of `regie docs`: its arguments, and writing the Markdown
//! and HTML files of the run book.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::json;

use crate::util::fs::write_atomic;

use crate::runbook::{runbook, to_html, to_markdown};

fn parse_date(s: &str) -> Result<String, String> {
    s.parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|e| format!("expected a date as YYYY-MM-DD: {e}"))
}

#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// Output directory (created if missing); receives <site>-runbook.md and
    /// <site>-runbook.html.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Date printed on the cover instead of today (for reproducible output).
    #[arg(long, hide = true, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<String>,
}

fn today(tz: &str) -> String {
    let tz = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(tz).date().to_string()
}

pub fn cli(args: &DocsArgs, output: crate::cli::output::Output) -> Result<i32> {
    let site = crate::site::load(&args.inventory)?;
    let date = args
        .date
        .clone()
        .unwrap_or_else(|| today(&site.inv.site.timezone));
    let doc = runbook(&site, &date);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let stem = format!("{}-runbook", site.inv.site.name);
    let md = args.out.join(format!("{stem}.md"));
    let html = args.out.join(format!("{stem}.html"));
    write_atomic(&md, to_markdown(&doc).as_bytes(), 0o644)?;
    write_atomic(&html, to_html(&doc).as_bytes(), 0o644)?;
    if output == crate::cli::output::Output::Json {
        crate::cli::output::print_json(&json!({
            "site": site.inv.site.name,
            "markdown": md,
            "html": html,
        }))?;
    } else {
        println!("{}", md.display());
        println!("{}", html.display());
    }
    Ok(0)
}

//! Static HTML reports (pure): one page per client site and a fleet
//! overview of all the sites given.
//!
//! The pages are made for the client's manager: plain words, French or
//! English from the site's locale, open problems first. They are
//! self-contained (inline CSS and SVG charts, no script, no external asset:
//! a Content-Security-Policy forbids any load), so they work offline and
//! print to A4 (`chromium --headless --print-to-pdf`). Charts do not rely on
//! colour alone, so a black and white print stays readable.
//!
//! Rendering is deterministic: no clock (the report date is
//! [`ReportInput::to`]), times in UTC, sizes in SI units (1 GB = 10^9 bytes).
//!
//! This file holds the public entry points (writing the files, the site
//! page's outline); each section of the pages has its own module.

mod backup_chart;
mod backups;
mod disks;
mod fleet;
mod html;
mod lang;
pub mod run;
mod services;
mod site;
mod state;
mod text;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::status::history::ReportInput;

use backups::{backups_section, drills_section};
use disks::disks_section;
use html::page;
use lang::Lang;
use services::{availability_section, services_section};
use site::{certificates_section, footer, header, problems_section, updates_section};
use state::display_name;

pub use fleet::fleet_html;
pub use html::esc;

/// Write `<site>.html` and `<site>.json` for each site and `index.html`
/// (the fleet overview) into `dir`; returns the files written, index last.
/// Each file is written to a temporary name and renamed into place.
pub fn write(dir: &Path, inputs: &[ReportInput]) -> Result<Vec<PathBuf>> {
    check_site_names(inputs)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for input in inputs {
        let site = &input.status.site;
        let json = serde_json::to_string_pretty(input)? + "\n";
        written.push(write_atomic(
            &dir.join(format!("{site}.html")),
            &site_html(input),
        )?);
        written.push(write_atomic(&dir.join(format!("{site}.json")), &json)?);
    }
    written.push(write_atomic(&dir.join("index.html"), &fleet_html(inputs))?);
    Ok(written)
}

/// Site names become file names: refuse what could escape `dir`, collide
/// with `index.html` or with another site.
fn check_site_names(inputs: &[ReportInput]) -> Result<()> {
    let mut seen = BTreeSet::new();
    for input in inputs {
        let site = input.status.site.as_str();
        if !valid_site_name(site) {
            bail!("site name {site:?} cannot name a report file (letters, digits, '-', '_', '.')");
        }
        if site == "index" {
            bail!("a site named \"index\" would overwrite the fleet page index.html");
        }
        if !seen.insert(site) {
            bail!("site {site} is given twice");
        }
    }
    Ok(())
}

fn valid_site_name(site: &str) -> bool {
    !site.is_empty()
        && !site.starts_with('.')
        && site
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn write_atomic(path: &Path, text: &str) -> Result<PathBuf> {
    crate::util::fs::write_atomic(path, text.as_bytes(), 0o644)?;
    Ok(path.to_path_buf())
}

// ---------------------------------------------------------------- site page

/// The report page of one site.
pub fn site_html(input: &ReportInput) -> String {
    let lang = Lang::of(&input.status.locale);
    let t = lang.t();
    let body = [
        header(input, lang),
        problems_section(input, lang),
        services_section(input, lang),
        availability_section(input, lang),
        backups_section(input, lang),
        drills_section(input, lang),
        updates_section(input, lang),
        disks_section(input, lang),
        certificates_section(input, lang),
        footer(input, lang),
    ]
    .concat();
    let title = format!(
        "{} — {} — {}",
        display_name(&input.status),
        t.doc_title,
        lang.date(input.to)
    );
    page(lang, &title, &body)
}

#[cfg(test)]
mod tests {
    use super::state::DAY;
    use super::*;
    use crate::site::state::{Finding, Level};

    pub(super) fn finding(level: Level, kind: &str, subject: &str, message: &str) -> Finding {
        Finding {
            level,
            kind: kind.into(),
            subject: subject.into(),
            message: message.into(),
            detail: None,
        }
    }

    pub(super) const TO: u64 = 1_796_083_200; // 2026-12-01T00:00Z

    pub(super) fn input(locale: &str) -> ReportInput {
        let mut i = ReportInput {
            from: TO - 30 * DAY,
            to: TO,
            ..Default::default()
        };
        i.status.site = "demo".into();
        i.status.display_name = "Demo".into();
        i.status.locale = locale.into();
        i
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        let mut i = input("fr");
        i.status.display_name = r#"<script>alert("pwn")</script> O'Neil & "Fils""#.into();
        i.domain = "<b>x</b>".into();
        i.contact = "\"><img src=x onerror=alert(1)>".into();
        i.findings = vec![finding(
            Level::Critical,
            "disk",
            "<i>",
            "<script>bad()</script>",
        )];
        let html = site_html(&i);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>x"), "{html}");
        assert!(html.contains(
            "&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt; O&#39;Neil &amp; &quot;Fils&quot;"
        ));
        let fleet = fleet_html(&[i]);
        assert!(!fleet.contains("<script"), "{fleet}");
    }

    #[test]
    fn site_names_must_be_safe_file_names() {
        for bad in ["", "../x", ".hidden", "a/b", "index", "a b"] {
            let mut i = input("fr");
            i.status.site = bad.into();
            assert!(check_site_names(&[i]).is_err(), "{bad:?} accepted");
        }
        let i = input("fr");
        assert!(
            check_site_names(&[i.clone(), i]).is_err(),
            "duplicate accepted"
        );
        assert!(check_site_names(&[input("fr")]).is_ok());
    }

    #[test]
    fn write_puts_pages_and_json_and_index_last() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out/2026-12");
        let i = input("fr");
        let written = write(&dir, std::slice::from_ref(&i)).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["demo.html", "demo.json", "index.html"]);
        let back: ReportInput =
            serde_json::from_slice(&std::fs::read(dir.join("demo.json")).unwrap()).unwrap();
        assert_eq!(back, i);
        assert_eq!(
            std::fs::read_to_string(dir.join("demo.html")).unwrap(),
            site_html(&i)
        );
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 3, "no temporary file left");
    }
}

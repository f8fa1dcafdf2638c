//! The fleet overview page: one row per site, worst first, linking to the
//! sites' pages.

use crate::site::state::Level;
use crate::site::state::SiteStatus;
use crate::status::history::ReportInput;

use super::disks::disks_now;
use super::html::{badge, dash, esc, page, para, table, with_sub};
use super::lang::{fill, Lang};
use super::services::{service_state, SvcState};
use super::state::{display_name, worst_level, State};

/// One site on the fleet page.
struct FleetRow<'a> {
    input: &'a ReportInput,
    level: Level,
    problems: usize,
    warnings: usize,
}

impl<'a> FleetRow<'a> {
    fn new(input: &'a ReportInput) -> FleetRow<'a> {
        let count =
            |pred: fn(Level) -> bool| input.findings.iter().filter(|f| pred(f.level)).count();
        FleetRow {
            input,
            level: worst_level(&input.findings),
            problems: count(|l| l == Level::Critical),
            warnings: count(|l| matches!(l, Level::Warning | Level::Unknown)),
        }
    }
}

/// Worst first: level, then problems, then warnings, then name.
fn fleet_rows(inputs: &[ReportInput]) -> Vec<FleetRow<'_>> {
    let mut rows: Vec<FleetRow> = inputs.iter().map(FleetRow::new).collect();
    rows.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then(b.problems.cmp(&a.problems))
            .then(b.warnings.cmp(&a.warnings))
            .then(a.input.status.site.cmp(&b.input.status.site))
    });
    rows
}

fn fleet_lang(inputs: &[ReportInput]) -> Lang {
    if !inputs.is_empty()
        && inputs
            .iter()
            .all(|i| Lang::of(&i.status.locale) == Lang::Fr)
    {
        Lang::Fr
    } else {
        Lang::En
    }
}

/// The oldest "last backup" of the site's services: `never` wins.
fn oldest_backup(lang: Lang, status: &SiteStatus) -> String {
    if status.backups.is_empty() {
        return dash();
    }
    if status.backups.iter().any(|b| b.last_success.is_none()) {
        return lang.t().never.to_string();
    }
    match status
        .backups
        .iter()
        .filter_map(|b| b.age_hours)
        .reduce(f64::max)
    {
        Some(h) => lang.ago(h),
        None => dash(),
    }
}

fn fullest_disk(lang: Lang, status: &SiteStatus) -> String {
    let fullest = disks_now(status)
        .into_iter()
        .max_by(|a, b| a.disk.used_pct.total_cmp(&b.disk.used_pct));
    match fullest {
        Some(d) => with_sub(&lang.pct(d.disk.used_pct, 0), &d.id),
        None => dash(),
    }
}

fn fleet_row_cells(lang: Lang, row: &FleetRow) -> Vec<String> {
    let st = &row.input.status;
    let up = st
        .services
        .iter()
        .filter(|s| service_state(s) == SvcState::Up)
        .count();
    let cert = st
        .certificates
        .iter()
        .filter_map(|c| c.days_left)
        .reduce(f64::min)
        .map(|d| format!("{}", d.floor()))
        .unwrap_or_else(dash);
    let state = State::of(row.level);
    vec![
        format!(
            "<a href=\"{}.html\"><strong>{}</strong></a><span class=\"sub\">{}</span>",
            esc(&st.site),
            esc(display_name(st)),
            esc(&row.input.domain)
        ),
        badge(state.class(), state.label(lang)),
        row.problems.to_string(),
        row.warnings.to_string(),
        esc(&oldest_backup(lang, st)),
        fullest_disk(lang, st),
        format!("{up}/{}", st.services.len()),
        esc(&cert),
    ]
}

/// The fleet overview: one row per site, worst first, linking to the
/// sites' pages. French when every site is French, else English.
pub fn fleet_html(inputs: &[ReportInput]) -> String {
    let lang = fleet_lang(inputs);
    let t = lang.t();
    let date = inputs
        .iter()
        .map(|i| i.to)
        .max()
        .map(|to| lang.date(to))
        .unwrap_or_else(dash);
    let mut h = String::from("<header>\n");
    h.push_str(&para("kicker", "regie"));
    h.push_str(&format!("<h1>{}</h1>\n", esc(&t.fleet_title)));
    let sites = lang.count(inputs.len(), &("{0} site", "{0} sites"));
    h.push_str(&para("domain", &fill(&t.fleet_intro, &[&date, &sites])));
    h.push_str("</header>\n");
    if inputs.is_empty() {
        h.push_str(&para("", &t.no_sites));
    } else {
        let rows: Vec<Vec<String>> = fleet_rows(inputs)
            .iter()
            .map(|r| fleet_row_cells(lang, r))
            .collect();
        let cols = [
            t.col_site.as_str(),
            t.col_state.as_str(),
            t.col_problems.as_str(),
            t.col_warnings.as_str(),
            t.col_oldest_backup.as_str(),
            t.col_fullest_disk.as_str(),
            t.col_services_up.as_str(),
            t.col_cert_days.as_str(),
        ];
        h.push_str(&format!(
            "<section id=\"sites\">\n{}</section>\n",
            table(&cols, "llrrlrrr", &rows)
        ));
    }
    h.push_str(&format!(
        "<footer>\n{}</footer>\n",
        para("", &t.fleet_about)
    ));
    page(lang, &format!("{} — {date}", t.fleet_title), &h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{finding, input};

    #[test]
    fn fleet_is_worst_first_and_french_only_when_all_sites_are() {
        let mut a = input("fr");
        a.status.site = "a".into();
        let mut b = input("fr");
        b.status.site = "b".into();
        b.findings = vec![finding(Level::Critical, "disk", "x", "full")];
        let mut c = input("fr");
        c.status.site = "c".into();
        c.findings = vec![
            finding(Level::Warning, "disk", "x", "m"),
            finding(Level::Warning, "disk", "y", "m"),
        ];
        let inputs = [a, b, c];
        let order: Vec<&str> = fleet_rows(&inputs)
            .iter()
            .map(|r| r.input.status.site.as_str())
            .collect();
        assert_eq!(order, ["b", "c", "a"]);
        assert_eq!(fleet_lang(&inputs), Lang::Fr);
        assert!(fleet_html(&inputs).contains("<html lang=\"fr\">"));
        let mut mixed = inputs.to_vec();
        mixed[0].status.locale = "en".into();
        assert_eq!(fleet_lang(&mixed), Lang::En);
        assert_eq!(fleet_lang(&[]), Lang::En);
        let html = fleet_html(&inputs);
        assert!(html.find("href=\"b.html\"").unwrap() < html.find("href=\"a.html\"").unwrap());
    }
}

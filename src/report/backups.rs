//! The backups section (daily chart, a row per service, failures, repository
//! sizes) and the restore drills, which prove the backups can be used.

use std::collections::BTreeSet;

use crate::status::history::{BackupRun, ReportInput};

use super::backup_chart::backup_chart;
use super::html::{badge, dash, esc, para, section, table};
use super::lang::{duration, fill, Lang};
use super::state::{finding_badge, in_period, period_days, DAY};

/// Runs that are the daily backup (the chart).
const DAILY_KINDS: &[&str] = &["scheduled", "manual"];
/// Runs that are a backup of a service (the table; drills are apart).
const BACKUP_KINDS: &[&str] = &["scheduled", "manual", "pre-update", "safety"];
/// Failed backups listed by name under the table.
const MAX_FAILURES_LISTED: usize = 10;

/// The daily backups of one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct BackupDay {
    /// Unix time of the day's start.
    pub(super) start: u64,
    /// Bytes added by the successful runs.
    pub(super) bytes: u64,
    pub(super) ok: usize,
    pub(super) failed: usize,
}

pub(super) fn backup_days(input: &ReportInput) -> Vec<BackupDay> {
    let mut days: Vec<BackupDay> = period_days(input.from, input.to)
        .into_iter()
        .map(|start| BackupDay {
            start,
            ..Default::default()
        })
        .collect();
    let first = days[0].start;
    for run in input
        .backup_runs
        .iter()
        .filter(|r| DAILY_KINDS.contains(&r.kind.as_str()))
    {
        if !in_period(input, run.time) || run.time < first {
            continue;
        }
        let Some(day) = days.get_mut(((run.time - first) / DAY) as usize) else {
            continue;
        };
        if run.ok {
            day.ok += 1;
            day.bytes += run.bytes_added;
        } else {
            day.failed += 1;
        }
    }
    days
}

/// Backup runs of the period that back up a service.
fn service_backup_runs(input: &ReportInput) -> Vec<&BackupRun> {
    let mut runs: Vec<&BackupRun> = input
        .backup_runs
        .iter()
        .filter(|r| BACKUP_KINDS.contains(&r.kind.as_str()) && in_period(input, r.time))
        .collect();
    runs.sort_by_key(|r| r.time);
    runs
}

fn backup_services(input: &ReportInput, runs: &[&BackupRun]) -> Vec<String> {
    let mut names: Vec<String> = input
        .status
        .backups
        .iter()
        .map(|b| b.service.clone())
        .collect();
    let seen: BTreeSet<&String> = runs.iter().filter_map(|r| r.service.as_ref()).collect();
    for s in seen {
        if !names.contains(s) {
            names.push(s.clone());
        }
    }
    names
}

pub(super) fn result_badge(lang: Lang, ok: bool) -> String {
    let t = lang.t();
    if ok {
        badge("ok", &t.succeeded)
    } else {
        badge("crit", &t.failed)
    }
}

fn backup_row(lang: Lang, input: &ReportInput, runs: &[&BackupRun], service: &str) -> Vec<String> {
    let t = lang.t();
    let mine: Vec<&&BackupRun> = runs
        .iter()
        .filter(|r| r.service.as_deref() == Some(service))
        .collect();
    let ok = mine.iter().filter(|r| r.ok).count();
    let summary = format!(
        "{}, {}",
        lang.count(ok, &t.succeeded_n),
        lang.count(mine.len() - ok, &t.failed_n)
    );
    let status = input.status.backups.iter().find(|b| b.service == service);
    let last_success = match status {
        Some(b) => match (b.last_success, b.age_hours) {
            (Some(_), Some(h)) => lang.ago(h),
            (Some(ts), None) => lang.date_time(ts),
            (None, _) => t.never.to_string(),
        },
        None => dash(),
    };
    let last_success = format!(
        "{} {}",
        esc(&last_success),
        finding_badge(lang, &input.findings, "backup", service)
    );
    let mut row = vec![format!("<strong>{}</strong>", esc(service))];
    match mine.last() {
        Some(r) => row.extend([
            esc(&lang.date_time(r.time)),
            result_badge(lang, r.ok),
            esc(&lang.size(r.bytes_added)),
            esc(&duration(r.seconds)),
        ]),
        None => row.extend([dash(), dash(), dash(), dash()]),
    }
    row.extend([esc(&summary), last_success]);
    row
}

fn failures_list(lang: Lang, runs: &[&BackupRun]) -> String {
    let failed: Vec<&&BackupRun> = runs.iter().filter(|r| !r.ok).collect();
    if failed.is_empty() {
        return String::new();
    }
    let mut h = format!(
        "<h3>{}</h3>\n<ul class=\"plain\">\n",
        esc(&lang.t().h_failures)
    );
    for r in failed.iter().rev().take(MAX_FAILURES_LISTED) {
        let what = format!(
            "{} UTC — {} ({}){}{}",
            lang.date_time(r.time),
            r.service.as_deref().unwrap_or("—"),
            r.host,
            lang.colon(),
            r.error
        );
        h.push_str(&format!("<li>{}</li>\n", esc(&what)));
    }
    h.push_str("</ul>\n");
    h
}

fn repository_sizes(lang: Lang, input: &ReportInput) -> String {
    if input.repository_bytes.is_empty() {
        return String::new();
    }
    let sizes: Vec<String> = input
        .repository_bytes
        .iter()
        .map(|(host, bytes)| format!("{} ({host})", lang.size(*bytes)))
        .collect();
    format!(
        "<p><strong>{}</strong>{}{}</p>\n",
        esc(&lang.t().repo_sizes),
        lang.colon(),
        esc(&sizes.join(" · "))
    )
}

pub(super) fn backups_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let runs = service_backup_runs(input);
    let days = backup_days(input);
    let mut h = String::new();
    if days.iter().all(|d| d.ok == 0 && d.failed == 0) {
        h.push_str(&para("", &t.no_backups));
    } else {
        let caption = fill(
            &t.backup_caption,
            &[
                &lang.date(days[0].start),
                &lang.date(days[days.len() - 1].start),
            ],
        );
        h.push_str(&format!(
            "<figure>\n<figcaption>{}</figcaption>\n{}</figure>\n",
            esc(&caption),
            backup_chart(&days, lang)
        ));
    }
    let services = backup_services(input, &runs);
    if !services.is_empty() {
        let rows: Vec<Vec<String>> = services
            .iter()
            .map(|s| backup_row(lang, input, &runs, s))
            .collect();
        let cols = [
            t.col_service.as_str(),
            t.col_last_backup.as_str(),
            t.col_result.as_str(),
            t.col_added.as_str(),
            t.col_duration.as_str(),
            t.col_in_period.as_str(),
            t.col_last_success.as_str(),
        ];
        h.push_str(&table(&cols, "lnlrrll", &rows));
    }
    h.push_str(&repository_sizes(lang, input));
    h.push_str(&failures_list(lang, &runs));
    section("backups", &t.h_backups, &h)
}

// ---------------------------------------------------------------- drills

pub(super) fn drills_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let mut drills: Vec<&BackupRun> = input
        .backup_runs
        .iter()
        .filter(|r| r.kind == "drill" && in_period(input, r.time))
        .collect();
    drills.sort_by_key(|r| r.time);
    let mut h = para("note", &t.drills_intro);
    if drills.is_empty() {
        h.push_str(&para("", &t.no_drills));
    } else {
        let rows: Vec<Vec<String>> = drills
            .iter()
            .map(|r| {
                vec![
                    esc(&lang.date_time(r.time)),
                    format!(
                        "<strong>{}</strong>",
                        esc(r.service.as_deref().unwrap_or("—"))
                    ),
                    esc(&r.host),
                    result_badge(lang, r.ok),
                    esc(&duration(r.seconds)),
                    if r.error.is_empty() {
                        dash()
                    } else {
                        esc(&r.error)
                    },
                ]
            })
            .collect();
        let cols = [
            t.col_time.as_str(),
            t.col_service.as_str(),
            t.col_host.as_str(),
            t.col_result.as_str(),
            t.col_duration.as_str(),
            t.col_error.as_str(),
        ];
        h.push_str(&table(&cols, "nlllrl", &rows));
    }
    let last: Vec<Vec<String>> = input
        .status
        .backups
        .iter()
        .map(|b| {
            let when = b
                .last_drill
                .map(|ts| esc(&lang.date_time(ts)))
                .unwrap_or_else(|| esc(&t.never));
            let result = b
                .last_drill_ok
                .map(|ok| result_badge(lang, ok))
                .unwrap_or_else(dash);
            vec![
                format!("<strong>{}</strong>", esc(&b.service)),
                when,
                result,
            ]
        })
        .collect();
    if !last.is_empty() {
        h.push_str(&table(
            &[
                t.col_service.as_str(),
                t.col_last_drill.as_str(),
                t.col_result.as_str(),
            ],
            "lnl",
            &last,
        ));
    }
    section("drills", &t.h_drills, &h)
}

//! Judging for the manager: the overall state and level badges from
//! `regie check`'s findings, and which days and readings the period covers.

use crate::site::state::SiteStatus;
use crate::site::state::{Finding, Level};
use crate::status::history::ReportInput;

use super::html::badge;
use super::lang::Lang;

pub(super) const DAY: u64 = 86_400;
/// The backup chart shows at most this many days (the last ones).
const MAX_DAYS: usize = 366;

/// The overall state shown to the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Ok,
    Attention,
    Problem,
}

impl State {
    pub(super) fn of(level: Level) -> State {
        match level {
            Level::Ok => State::Ok,
            Level::Warning | Level::Unknown => State::Attention,
            Level::Critical => State::Problem,
        }
    }

    pub(super) fn class(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Attention => "warn",
            State::Problem => "crit",
        }
    }

    pub(super) fn label(self, lang: Lang) -> &'static str {
        let t = lang.t();
        match self {
            State::Ok => &t.state_ok,
            State::Attention => &t.state_attention,
            State::Problem => &t.state_problem,
        }
    }

    pub(super) fn sentence(self, lang: Lang) -> &'static str {
        let t = lang.t();
        match self {
            State::Ok => &t.sentence_ok,
            State::Attention => &t.sentence_attention,
            State::Problem => &t.sentence_problem,
        }
    }
}

pub(super) fn worst_level(findings: &[Finding]) -> Level {
    crate::status::check::worst(findings)
}

pub(super) fn level_class(level: Level) -> &'static str {
    match level {
        Level::Ok => "ok",
        Level::Warning => "warn",
        Level::Unknown => "unknown",
        Level::Critical => "crit",
    }
}

pub(super) fn level_badge(lang: Lang, level: Level) -> String {
    let t = lang.t();
    let label = match level {
        Level::Ok => &t.level_ok,
        Level::Warning => &t.level_warning,
        Level::Unknown => &t.level_unknown,
        Level::Critical => &t.level_critical,
    };
    badge(level_class(level), label)
}

/// The judgement `regie check` made about one thing (`disk`, `srv1:/`),
/// as a badge; the check's thresholds are not repeated here.
pub(super) fn finding_badge(lang: Lang, findings: &[Finding], kind: &str, subject: &str) -> String {
    findings_badge(lang, findings, kind, &[subject])
}

pub(super) fn findings_badge(
    lang: Lang,
    findings: &[Finding],
    kind: &str,
    subjects: &[&str],
) -> String {
    let level = findings
        .iter()
        .filter(|f| f.kind == kind && subjects.contains(&f.subject.as_str()))
        .map(|f| f.level)
        .max()
        .unwrap_or(Level::Ok);
    level_badge(lang, level)
}

/// Open findings (not OK), worst first.
pub(super) fn open_findings(findings: &[Finding]) -> Vec<&Finding> {
    let mut open: Vec<&Finding> = findings.iter().filter(|f| f.level != Level::Ok).collect();
    open.sort_by_key(|f| std::cmp::Reverse(f.level));
    open
}

pub(super) fn display_name(status: &SiteStatus) -> &str {
    if status.display_name.trim().is_empty() {
        &status.site
    } else {
        &status.display_name
    }
}

pub(super) fn in_period(input: &ReportInput, time: u64) -> bool {
    time >= input.from && time <= input.to
}

/// Start (unix time) of each UTC day of the period, at most [`MAX_DAYS`].
pub(super) fn period_days(from: u64, to: u64) -> Vec<u64> {
    let first = from / DAY;
    let last = (to.saturating_sub(1).max(from)) / DAY;
    let first = first.max(last.saturating_sub(MAX_DAYS as u64 - 1));
    (first..=last).map(|d| d * DAY).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::finding;

    #[test]
    fn overall_state_comes_from_the_worst_finding() {
        let f = |l| finding(l, "disk", "a", "m");
        assert_eq!(State::of(worst_level(&[])), State::Ok);
        assert_eq!(
            State::of(worst_level(&[f(Level::Ok), f(Level::Warning)])),
            State::Attention
        );
        assert_eq!(
            State::of(worst_level(&[f(Level::Unknown)])),
            State::Attention
        );
        assert_eq!(
            State::of(worst_level(&[f(Level::Warning), f(Level::Critical)])),
            State::Problem
        );
        let all = [
            f(Level::Ok),
            f(Level::Warning),
            f(Level::Critical),
            f(Level::Unknown),
        ];
        let open = open_findings(&all);
        let levels: Vec<Level> = open.iter().map(|f| f.level).collect();
        assert_eq!(levels, [Level::Critical, Level::Unknown, Level::Warning]);
    }
}

//! The site page's frame and short sections: the header with the overall
//! state, the open problems, updates, certificates and the footer.

use crate::site::state::Finding;
use crate::status::history::ReportInput;

use super::backups::result_badge;
use super::html::{badge, dash, esc, para, section, table, with_sub};
use super::lang::{fill, Lang};
use super::state::{
    display_name, finding_badge, in_period, level_badge, level_class, open_findings, period_days,
    worst_level, State,
};

pub(super) fn header(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let st = &input.status;
    let state = State::of(worst_level(&input.findings));
    let days = period_days(input.from, input.to);
    let period = fill(
        &t.period,
        &[
            &lang.date(days[0]),
            &lang.date(days[days.len() - 1]),
            &lang.count(days.len(), &t.days),
        ],
    );
    let read = if st.time == 0 {
        dash()
    } else {
        format!("{} UTC", lang.date_time(st.time))
    };
    let mut h = String::from("<header>\n");
    h.push_str(&para("kicker", &t.doc_title));
    h.push_str(&format!("<h1>{}</h1>\n", esc(display_name(st))));
    h.push_str(&para("domain", &input.domain));
    h.push_str("<div class=\"summary\">\n");
    h.push_str(&format!(
        "<div class=\"state {}\"><div class=\"state-label\">{}</div>{}<p>{}</p></div>\n",
        state.class(),
        esc(&t.label_state),
        badge(&format!("{} big", state.class()), state.label(lang)),
        esc(state.sentence(lang))
    ));
    h.push_str("<dl class=\"facts\">\n");
    for (label, value) in [
        (&t.label_period, period),
        (&t.label_generated, lang.date(input.to)),
        (&t.label_read, read),
    ] {
        h.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            esc(label),
            esc(&value)
        ));
    }
    h.push_str("</dl>\n</div>\n</header>\n");
    h
}

/// The finding in plain words in the page's language, from its kind and
/// subject (the check's message is English and technical).
fn headline(lang: Lang, f: &Finding) -> Option<String> {
    let template = lang.t().headlines.get(&f.kind)?;
    Some(fill(template, &[&f.subject]))
}

/// The check's sentence in the page's language when the finding carries it
/// as data and the language has it; else the check's own (English) message.
fn detail(lang: Lang, f: &Finding) -> String {
    let Some(d) = &f.detail else {
        return f.message.clone();
    };
    let Some(template) = lang.t().details.get(&d.code) else {
        return f.message.clone();
    };
    let args: Vec<String> = d.args.iter().map(|a| lang.value(a)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fill(template, &args)
}

pub(super) fn problems_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let open = open_findings(&input.findings);
    if open.is_empty() {
        return section("problems", &t.h_problems, &para("", &t.no_problems));
    }
    let mut h = String::from("<ul class=\"problems\">\n");
    for f in open {
        let (title, detail) = match headline(lang, f) {
            Some(title) => (title, detail(lang, f)),
            None => (detail(lang, f), f.subject.clone()),
        };
        h.push_str(&format!(
            "<li class=\"{}\">{}<strong>{}</strong><span class=\"sub\">{}</span></li>\n",
            level_class(f.level),
            level_badge(lang, f.level),
            esc(&title),
            esc(&detail)
        ));
    }
    h.push_str("</ul>\n");
    section("problems", &t.h_problems, &h)
}

// ---------------------------------------------------------------- updates

fn action_label(lang: Lang, action: &str) -> String {
    let t = lang.t();
    match action {
        "update" => &t.act_update,
        "rollback" => &t.act_rollback,
        "deploy" => &t.act_deploy,
        "postgres-upgrade" => &t.act_postgres,
        other => other,
    }
    .to_string()
}

fn os_pending(lang: Lang, input: &ReportInput) -> String {
    let t = lang.t();
    let items: Vec<String> = input
        .status
        .hosts
        .iter()
        .filter(|h| {
            h.os_security_updates.unwrap_or(0) + h.os_other_updates.unwrap_or(0) > 0
                || h.reboot_required == Some(true)
        })
        .map(|h| {
            let sec = h.os_security_updates.unwrap_or(0);
            let all = (sec + h.os_other_updates.unwrap_or(0)).to_string();
            let mut s = fill(&t.os_counts, &[&h.host, &all, &sec.to_string()]);
            if h.reboot_required == Some(true) {
                s.push_str(&format!(" ({})", t.reboot_needed));
            }
            format!("<li>{}</li>\n", esc(&s))
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!(
        "<h3>{}</h3>\n<ul class=\"plain\">\n{}</ul>\n",
        esc(&t.os_pending),
        items.concat()
    )
}

pub(super) fn updates_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let mut entries: Vec<_> = input
        .journal
        .iter()
        .filter(|j| in_period(input, j.time))
        .collect();
    entries.sort_by_key(|j| j.time);
    let mut h = if entries.is_empty() {
        para("", &t.no_updates)
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|j| {
                vec![
                    esc(&lang.date_time(j.time)),
                    esc(&action_label(lang, &j.action)),
                    format!(
                        "<strong>{}</strong>",
                        esc(j.service.as_deref().unwrap_or("—"))
                    ),
                    esc(&j.detail),
                    result_badge(lang, j.ok),
                ]
            })
            .collect();
        let cols = [
            t.col_time.as_str(),
            t.col_action.as_str(),
            t.col_service.as_str(),
            t.col_detail.as_str(),
            t.col_result.as_str(),
        ];
        table(&cols, "nllll", &rows)
    };
    h.push_str(&os_pending(lang, input));
    section("updates", &t.h_updates, &h)
}

// ---------------------------------------------------------------- certificates

pub(super) fn certificates_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let certs = &input.status.certificates;
    if certs.is_empty() {
        return section("certificates", &t.h_certs, &para("", &t.no_certs));
    }
    let rows: Vec<Vec<String>> = certs
        .iter()
        .map(|c| {
            let expires = c
                .not_after
                .and_then(|n| u64::try_from(n).ok())
                .map(|n| lang.date(n))
                .unwrap_or_else(dash);
            let days = c
                .days_left
                .map(|d| format!("{}", d.floor()))
                .unwrap_or_else(dash);
            let trusted = match c.trusted {
                Some(true) => &t.yes,
                Some(false) => &t.no,
                None => "—",
            };
            vec![
                with_sub(&c.hostname, c.error.as_deref().unwrap_or("")),
                esc(&expires),
                esc(&days),
                esc(trusted),
                finding_badge(lang, &input.findings, "certificate", &c.hostname),
            ]
        })
        .collect();
    let cols = [
        t.col_address.as_str(),
        t.col_expires.as_str(),
        t.col_days_left.as_str(),
        t.col_trusted.as_str(),
        t.col_state.as_str(),
    ];
    section("certificates", &t.h_certs, &table(&cols, "lnrll", &rows))
}

// ---------------------------------------------------------------- footer

pub(super) fn footer(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let n = input
        .samples
        .iter()
        .filter(|s| in_period(input, s.time))
        .count();
    let mut h = format!("<footer>\n<h2>{}</h2>\n", esc(&t.h_about));
    h.push_str(&para("", &fill(&t.about, &[&lang.count(n, &t.readings)])));
    if !input.status.errors.is_empty() {
        let list = input
            .status
            .errors
            .join(if lang == Lang::Fr { " ; " } else { "; " });
        h.push_str(&para("", &format!("{}{}{list}", t.not_read, lang.colon())));
    }
    if !input.contact.is_empty() {
        h.push_str(&format!(
            "<p><strong>{}</strong>{}{}</p>\n",
            esc(&t.contact),
            lang.colon(),
            esc(&input.contact)
        ));
    }
    h.push_str("</footer>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::state::{CertStatus, Disk, HostStatus, SiteStatus};
    use crate::site::thresholds::Thresholds;

    /// The findings `regie check` makes for a full disk and two
    /// certificates (one expiring, one expired).
    fn judged() -> Vec<Finding> {
        let st = SiteStatus {
            hosts: vec![HostStatus {
                host: "srv2".into(),
                reachable: true,
                disks: vec![Disk {
                    path: "/".into(),
                    mount: "/".into(),
                    avail_kib: 127_800_000,
                    used_pct: 87.0,
                    inodes_pct: Some(97.0),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            certificates: vec![
                CertStatus {
                    hostname: "wiki.x.fr".into(),
                    days_left: Some(12.4),
                    ..Default::default()
                },
                CertStatus {
                    hostname: "cloud.x.fr".into(),
                    days_left: Some(-3.0),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        crate::status::check::judge(&st, &Thresholds::default())
            .into_iter()
            .filter(|f| f.detail.is_some())
            .collect()
    }

    #[test]
    fn english_details_are_the_checks_own_messages() {
        let found = judged();
        let codes: Vec<&str> = found
            .iter()
            .map(|f| f.detail.as_ref().unwrap().code.as_str())
            .collect();
        assert_eq!(codes.len(), 4, "{found:?}");
        for code in ["disk_used", "disk_inodes", "cert_expires", "cert_expired"] {
            assert!(codes.contains(&code), "{code} missing from {codes:?}");
        }
        for f in &found {
            assert_eq!(detail(Lang::En, f), f.message);
        }
    }

    #[test]
    fn french_details_are_translated() {
        let fr: Vec<String> = judged().iter().map(|f| detail(Lang::Fr, f)).collect();
        let all = fr.join("\n");
        assert!(
            all.contains("srv2:/ : 87\u{a0}% utilisés, 121,9\u{a0}Gio libres"),
            "{all}"
        );
        assert!(
            all.contains("le certificat expire dans 12,4\u{a0}jour(s)"),
            "{all}"
        );
        assert!(
            all.contains("le certificat a expiré il y a 3\u{a0}jour(s)"),
            "{all}"
        );
        for english in ["used", "certificate", "day(s)", "GiB"] {
            assert!(!all.contains(english), "{english} in {all}");
        }
        // A finding stored before details existed keeps its message.
        let mut old = judged().remove(0);
        old.detail = None;
        assert_eq!(detail(Lang::Fr, &old), old.message);
    }
}

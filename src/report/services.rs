//! The services table (version, state, uptime) and the services'
//! availability and restarts over the period, from the history's readings.

use std::collections::BTreeSet;

use crate::site::state::ServiceStatus;
use crate::status::history::{ReportInput, Sample};

use super::html::{badge, dash, esc, para, section, table, with_sub};
use super::lang::{fill, Lang};
use super::state::in_period;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SvcState {
    Up,
    Degraded,
    Down,
}

pub(super) fn service_state(s: &ServiceStatus) -> SvcState {
    let up = s.containers.iter().filter(|c| c.is_up()).count();
    let total = s.containers.len() + s.missing.len();
    if total > 0 && up == total {
        SvcState::Up
    } else if up == 0 {
        SvcState::Down
    } else {
        SvcState::Degraded
    }
}

fn service_state_cell(lang: Lang, s: &ServiceStatus) -> String {
    let t = lang.t();
    let up = s.containers.iter().filter(|c| c.is_up()).count();
    let total = s.containers.len() + s.missing.len();
    let count = fill(&t.containers, &[&up.to_string(), &total.to_string()]);
    match service_state(s) {
        SvcState::Up => badge("ok", &t.svc_up),
        SvcState::Degraded => format!(
            "{}<span class=\"sub\">{}</span>",
            badge("warn", &t.svc_degraded),
            esc(&count)
        ),
        SvcState::Down => format!(
            "{}<span class=\"sub\">{}</span>",
            badge("crit", &t.svc_down),
            esc(&count)
        ),
    }
}

fn version_cells(lang: Lang, s: &ServiceStatus) -> (String, String) {
    let t = lang.t();
    let Some(v) = &s.version else {
        return (dash(), dash());
    };
    let running = v.running.clone().unwrap_or_else(dash);
    let newest = match (&v.newest_allowed, &v.error) {
        (Some(n), _) if Some(n) != v.running.as_ref() => n.clone(),
        (_, Some(_)) => t.unknown.to_string(),
        _ => t.up_to_date.to_string(),
    };
    let major = match v.newer.last() {
        Some(m) => fill(&t.major_available, &[m]),
        None => String::new(),
    };
    (esc(&running), with_sub(&newest, &major))
}

fn service_link(s: &ServiceStatus) -> String {
    match &s.hostname {
        Some(h) if !h.is_empty() => format!("<a href=\"https://{0}\">{0}</a>", esc(h)),
        _ => dash(),
    }
}

/// Since the service's most recent (re)start: the youngest running container.
fn service_uptime(lang: Lang, s: &ServiceStatus) -> String {
    match s.containers.iter().filter_map(|c| c.uptime_secs).min() {
        Some(secs) => esc(&lang.age(secs as f64 / 3600.0)),
        None => dash(),
    }
}

pub(super) fn services_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    if input.status.services.is_empty() {
        return section("services", &t.h_services, &para("", &t.no_services));
    }
    let rows: Vec<Vec<String>> = input
        .status
        .services
        .iter()
        .map(|s| {
            let (running, newest) = version_cells(lang, s);
            vec![
                format!("<strong>{}</strong>", esc(&s.service)),
                service_link(s),
                esc(&s.host),
                running,
                newest,
                service_state_cell(lang, s),
                service_uptime(lang, s),
            ]
        })
        .collect();
    let cols = [
        t.col_service.as_str(),
        t.col_address.as_str(),
        t.col_host.as_str(),
        t.col_version.as_str(),
        t.col_newest.as_str(),
        t.col_state.as_str(),
        t.col_uptime.as_str(),
    ];
    section("services", &t.h_services, &table(&cols, "lllllll", &rows))
}

// ---------------------------------------------------------------- availability

/// Availability of one service over the samples.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Availability {
    service: String,
    /// Samples where the service appears / where it was up.
    readings: usize,
    up: usize,
    /// Sum of the increases of the restart counter between consecutive
    /// readings (a decrease means the containers were recreated: ignored).
    restarts: u64,
}

impl Availability {
    fn pct(&self) -> Option<f64> {
        (self.readings > 0).then(|| 100.0 * self.up as f64 / self.readings as f64)
    }
}

/// Per service, in `order` first, then any other service seen in the samples.
fn availability(samples: &[&Sample], order: &[String]) -> Vec<Availability> {
    let mut names: Vec<String> = Vec::new();
    let seen = samples
        .iter()
        .flat_map(|s| s.services.iter().map(|x| &x.service));
    for name in order.iter().chain(seen.collect::<BTreeSet<_>>()) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut sorted: Vec<&Sample> = samples.to_vec();
    sorted.sort_by_key(|s| s.time);
    names
        .into_iter()
        .map(|name| {
            let mut a = Availability {
                service: name,
                readings: 0,
                up: 0,
                restarts: 0,
            };
            let mut last: Option<u64> = None;
            for s in sorted
                .iter()
                .flat_map(|s| s.services.iter().filter(|x| x.service == a.service))
            {
                a.readings += 1;
                a.up += usize::from(s.up);
                if let Some(prev) = last {
                    a.restarts += s.restarts.saturating_sub(prev);
                }
                last = Some(s.restarts);
            }
            a
        })
        .collect()
}

/// Rounded down, so that 99.96 % never shows as 100 %.
fn availability_text(lang: Lang, pct: f64) -> String {
    lang.pct((pct * 10.0).floor() / 10.0, 1)
}

/// Per host: readings where it answered, readings in all.
fn host_reachability(samples: &[&Sample]) -> Vec<(String, usize, usize)> {
    let mut hosts: Vec<(String, usize, usize)> = Vec::new();
    for s in samples {
        let all = s
            .hosts_up
            .iter()
            .map(|h| (h, true))
            .chain(s.hosts_down.iter().map(|h| (h, false)));
        for (host, up) in all {
            let i = match hosts.iter().position(|(h, _, _)| h == host) {
                Some(i) => i,
                None => {
                    hosts.push((host.clone(), 0, 0));
                    hosts.len() - 1
                }
            };
            hosts[i].1 += usize::from(up);
            hosts[i].2 += 1;
        }
    }
    hosts.sort();
    hosts
}

fn reachability_table(lang: Lang, samples: &[&Sample]) -> String {
    let t = lang.t();
    let rows: Vec<Vec<String>> = host_reachability(samples)
        .into_iter()
        .map(|(host, up, all)| {
            vec![
                format!("<strong>{}</strong>", esc(&host)),
                esc(&availability_text(
                    lang,
                    100.0 * up as f64 / all.max(1) as f64,
                )),
                esc(&lang.count(all, &t.readings)),
            ]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    table(
        &[
            t.col_host.as_str(),
            t.col_reachable.as_str(),
            t.col_readings.as_str(),
        ],
        "lrr",
        &rows,
    )
}

pub(super) fn availability_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let samples: Vec<&Sample> = input
        .samples
        .iter()
        .filter(|s| in_period(input, s.time))
        .collect();
    if samples.is_empty() {
        return section("availability", &t.h_availability, &para("", &t.no_samples));
    }
    let order: Vec<String> = input
        .status
        .services
        .iter()
        .map(|s| s.service.clone())
        .collect();
    let rows: Vec<Vec<String>> = availability(&samples, &order)
        .iter()
        .map(|a| {
            let pct = match a.pct() {
                Some(p) => format!("<strong>{}</strong>", esc(&availability_text(lang, p))),
                None => esc(&t.not_measured),
            };
            vec![
                format!("<strong>{}</strong>", esc(&a.service)),
                pct,
                esc(&lang.count(a.readings, &t.readings)),
                a.restarts.to_string(),
            ]
        })
        .collect();
    let cols = [
        t.col_service.as_str(),
        t.col_availability.as_str(),
        t.col_readings.as_str(),
        t.col_restarts.as_str(),
    ];
    let inner = para("note", &t.availability_intro)
        + &table(&cols, "lrrr", &rows)
        + &reachability_table(lang, &samples);
    section("availability", &t.h_availability, &inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::site_html;
    use crate::report::tests::{input, TO};
    use crate::status::history::ServiceSample;

    fn sample(time: u64, up: bool, restarts: u64) -> Sample {
        Sample {
            time,
            services: vec![ServiceSample {
                service: "files".into(),
                up,
                restarts,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn availability_counts_readings_and_restart_increases() {
        let s = [
            sample(TO - 40, true, 5),
            sample(TO - 10, true, 1), // recreated: the counter went down
            sample(TO - 50, true, 3),
            sample(TO - 30, false, 7),
            sample(TO - 20, true, 7),
        ];
        let refs: Vec<&Sample> = s.iter().collect();
        let a = availability(&refs, &["files".into(), "mail".into()]);
        assert_eq!(a[0].readings, 5);
        assert_eq!(a[0].up, 4);
        assert_eq!(a[0].restarts, 4); // 3 -> 5 -> 7 -> 7, then 1 ignored
        assert_eq!(a[0].pct(), Some(80.0));
        assert_eq!(a[1].readings, 0);
        assert_eq!(a[1].pct(), None);
        assert_eq!(availability_text(Lang::En, 99.96), "99.9%");
    }

    #[test]
    fn no_samples_is_said_not_counted_as_full_availability() {
        let mut i = input("en");
        i.status.services = vec![ServiceStatus {
            service: "files".into(),
            ..Default::default()
        }];
        let html = site_html(&i);
        assert!(html.contains("No readings yet"));
        assert!(!html.contains("100.0%"));
    }
}

//! The disk space section: use over the period as an SVG line chart, and
//! each host and NAS file system now with its trend.

use std::collections::BTreeSet;

use crate::site::state::SiteStatus;
use crate::status::history::{ReportInput, Sample};

use super::html::{dash, esc, para, section, svg_text, table, CHART_W, INK};
use super::lang::{fill, Lang};
use super::state::{findings_badge, in_period, period_days};

/// A longer gap between two readings breaks a line of the disk chart.
const DISK_GAP_SECS: u64 = 12 * 3600;

/// The readings of one file system over the period.
#[derive(Debug, Clone, PartialEq)]
struct DiskSeries {
    id: String,
    points: Vec<(u64, f64)>,
}

fn disk_series(samples: &[&Sample]) -> Vec<DiskSeries> {
    let mut sorted: Vec<&Sample> = samples.to_vec();
    sorted.sort_by_key(|s| s.time);
    let ids: BTreeSet<&String> = sorted
        .iter()
        .flat_map(|s| s.disks.iter().map(|d| &d.id))
        .collect();
    ids.into_iter()
        .map(|id| DiskSeries {
            id: id.clone(),
            points: sorted
                .iter()
                .flat_map(|s| {
                    s.disks
                        .iter()
                        .filter(|d| &d.id == id)
                        .map(|d| (s.time, d.used_pct))
                })
                .collect(),
        })
        .collect()
}

/// Line styles of the disk chart: dash pattern and marker shape tell the
/// lines apart without colour.
const LINE_STYLES: [(&str, &str, Marker); 5] = [
    ("#1f4e79", "", Marker::Circle),
    ("#a14d00", "7 4", Marker::Square),
    ("#2e6b30", "2 3", Marker::Triangle),
    ("#6a1b9a", "9 3 2 3", Marker::Diamond),
    ("#444444", "4 2", Marker::Cross),
];

#[derive(Debug, Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

fn marker(shape: Marker, x: f64, y: f64, color: &str) -> String {
    let common = format!("fill=\"{color}\" stroke=\"{color}\"");
    match shape {
        Marker::Circle => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" {common}/>"),
        Marker::Square => format!("<rect x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\" {common}/>", x - 3.5, y - 3.5),
        Marker::Triangle => format!(
            "<path d=\"M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z\" {common}/>",
            y - 4.5,
            x + 4.5,
            y + 3.5,
            x - 4.5,
            y + 3.5
        ),
        Marker::Diamond => format!(
            "<path d=\"M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z\" {common}/>",
            y - 4.5,
            x + 4.5,
            y + 4.5,
            x - 4.5
        ),
        Marker::Cross => format!(
            "<path d=\"M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}\" stroke=\"{color}\" stroke-width=\"2\"/>",
            x - 4.0,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0,
            y + 4.0,
            x + 4.0,
            y - 4.0
        ),
    }
}

/// Split a series where readings are missing for long, so no line is drawn
/// over a gap.
fn segments(points: &[(u64, f64)]) -> Vec<&[(u64, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].0.saturating_sub(points[i - 1].0) > DISK_GAP_SECS {
            out.push(&points[start..i]);
            start = i;
        }
    }
    if start < points.len() {
        out.push(&points[start..]);
    }
    out
}

/// Disk use over the period as an SVG line chart: one line per disk, told
/// apart by dash pattern and marker shape (legend below), y from 0 to 100 %.
fn disk_chart(series: &[DiskSeries], from: u64, to: u64, lang: Lang) -> String {
    let (left, right, top, plot_h) = (48.0, 14.0, 10.0, 180.0);
    let base = top + plot_h;
    let plot_w = CHART_W - left - right;
    let rows = series.len().div_ceil(2);
    let height = base + 34.0 + 20.0 * rows as f64;
    let span = to.saturating_sub(from).max(1) as f64;
    let x = |t: u64| left + plot_w * (t.saturating_sub(from) as f64 / span).min(1.0);
    let y = |p: f64| base - plot_h * p.clamp(0.0, 100.0) / 100.0;
    let days = period_days(from, to);
    let caption = fill(
        &lang.t().disk_caption,
        &[&lang.date(days[0]), &lang.date(days[days.len() - 1])],
    );
    let mut s = format!(
        "<svg class=\"chart disks\" viewBox=\"0 0 {CHART_W} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        esc(&caption)
    );
    for p in [0.0, 25.0, 50.0, 75.0, 100.0] {
        s.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"{2}\" stroke-width=\"1\"/>",
            y(p),
            CHART_W - right,
            if p == 0.0 { INK } else { "#d7dde3" }
        ));
        s.push_str(&svg_text(
            left - 6.0,
            y(p) + 4.0,
            "end",
            11,
            &lang.pct(p, 0),
        ));
        s.push('\n');
    }
    let every = days.len().div_ceil(6).max(1);
    for d in days.iter().filter(|d| **d >= from).step_by(every) {
        s.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{base}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"{INK}\" stroke-width=\"1\"/>",
            x(*d),
            base + 4.0
        ));
        s.push_str(&svg_text(
            x(*d),
            base + 16.0,
            "middle",
            11,
            &lang.day_month(*d),
        ));
        s.push('\n');
    }
    for (i, serie) in series.iter().enumerate() {
        s.push_str(&disk_line(
            serie,
            LINE_STYLES[i % LINE_STYLES.len()],
            &x,
            &y,
        ));
    }
    for (i, serie) in series.iter().enumerate() {
        let lx = left + (i % 2) as f64 * plot_w / 2.0;
        let ly = base + 38.0 + 20.0 * (i / 2) as f64;
        s.push_str(&disk_legend(
            lang,
            serie,
            LINE_STYLES[i % LINE_STYLES.len()],
            lx,
            ly,
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn disk_line(
    serie: &DiskSeries,
    (color, dash, shape): (&str, &str, Marker),
    x: &dyn Fn(u64) -> f64,
    y: &dyn Fn(f64) -> f64,
) -> String {
    let mut s = format!("<g class=\"disk-line\"><title>{}</title>", esc(&serie.id));
    let dash_attr = if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    };
    for seg in segments(&serie.points) {
        let pts: Vec<String> = seg
            .iter()
            .map(|(t, p)| format!("{:.1},{:.1}", x(*t), y(*p)))
            .collect();
        s.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash_attr}/>",
            pts.join(" ")
        ));
    }
    let n = serie.points.len();
    let step = (n / 6).max(1);
    for (i, (t, p)) in serie.points.iter().enumerate() {
        if i % step == step / 2 || i + 1 == n {
            s.push_str(&marker(shape, x(*t), y(*p), color));
        }
    }
    s.push_str("</g>\n");
    s
}

fn disk_legend(
    lang: Lang,
    serie: &DiskSeries,
    (color, dash, shape): (&str, &str, Marker),
    x: f64,
    y: f64,
) -> String {
    let dash_attr = if dash.is_empty() {
        String::new()
    } else {
        format!(" stroke-dasharray=\"{dash}\"")
    };
    let now = serie
        .points
        .last()
        .map(|(_, p)| format!(" ({})", lang.pct(*p, 0)))
        .unwrap_or_default();
    format!(
        "<g class=\"legend\"><line x1=\"{x:.1}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"{color}\" stroke-width=\"2\"{dash_attr}/>{2}{3}</g>\n",
        y - 4.0,
        x + 36.0,
        marker(shape, x + 18.0, y - 4.0, color),
        svg_text(x + 44.0, y, "start", 11, &format!("{}{now}", serie.id))
    )
}

/// One file system now, from the status (hosts and NAS).
pub(super) struct DiskNow<'a> {
    /// As in the samples ([`crate::status::history::sample_of`]): `host:mount` for
    /// a host, `nas:path` for the NAS.
    pub(super) id: String,
    /// The other spelling, `host:path` or `nas:mount` (findings use the
    /// mount point).
    alt: String,
    pub(super) disk: &'a crate::site::state::Disk,
}

pub(super) fn disks_now(status: &SiteStatus) -> Vec<DiskNow<'_>> {
    let or_path = |d: &crate::site::state::Disk| {
        if d.mount.is_empty() {
            d.path.clone()
        } else {
            d.mount.clone()
        }
    };
    let mut out: Vec<DiskNow> = Vec::new();
    for h in &status.hosts {
        for disk in &h.disks {
            let (id, alt) = (
                format!("{}:{}", h.host, or_path(disk)),
                format!("{}:{}", h.host, disk.path),
            );
            if !out.iter().any(|d| d.id == id) {
                out.push(DiskNow { id, alt, disk });
            }
        }
    }
    if let Some((nas, disk)) = status
        .nas
        .as_ref()
        .and_then(|n| Some((n, n.disk.as_ref()?)))
    {
        let (id, alt) = (
            format!("{}:{}", nas.host, disk.path),
            format!("{}:{}", nas.host, or_path(disk)),
        );
        if !out.iter().any(|d| d.id == id) {
            out.push(DiskNow { id, alt, disk });
        }
    }
    out
}

fn trend_text(lang: Lang, serie: Option<&DiskSeries>) -> String {
    let t = lang.t();
    let Some((first, last)) = serie.and_then(|s| Some((s.points.first()?, s.points.last()?)))
    else {
        return dash();
    };
    let delta = last.1 - first.1;
    if delta.abs() < 0.5 {
        return t.stable.to_string();
    }
    let sign = if delta > 0.0 { "+" } else { "−" };
    fill(
        &t.trend_points,
        &[&format!("{sign}{}", lang.decimal(delta.abs(), 1))],
    )
}

fn disk_row(lang: Lang, input: &ReportInput, d: &DiskNow, series: &[DiskSeries]) -> Vec<String> {
    let t = lang.t();
    let pct = d.disk.used_pct.clamp(0.0, 100.0);
    let meter = format!("<span class=\"meter\"><span style=\"width:{pct:.0}%\"></span></span>");
    let amounts = fill(
        &t.used_of,
        &[
            &lang.size(d.disk.used_kib * 1024),
            &lang.size(d.disk.size_kib * 1024),
        ],
    );
    vec![
        esc(&d.id),
        format!(
            "{meter}<strong>{}</strong>",
            esc(&lang.pct(d.disk.used_pct, 0))
        ),
        esc(&amounts),
        esc(&trend_text(lang, series.iter().find(|s| s.id == d.id))),
        findings_badge(lang, &input.findings, "disk", &[&d.id, &d.alt]),
    ]
}

pub(super) fn disks_section(input: &ReportInput, lang: Lang) -> String {
    let t = lang.t();
    let samples: Vec<&Sample> = input
        .samples
        .iter()
        .filter(|s| in_period(input, s.time))
        .collect();
    let series = disk_series(&samples);
    let now = disks_now(&input.status);
    let mut h = String::new();
    if series.is_empty() {
        h.push_str(&para("", &t.no_disk_history));
    } else {
        let days = period_days(input.from, input.to);
        let caption = fill(
            &t.disk_caption,
            &[&lang.date(days[0]), &lang.date(days[days.len() - 1])],
        );
        h.push_str(&format!(
            "<figure>\n<figcaption>{}</figcaption>\n{}</figure>\n",
            esc(&caption),
            disk_chart(&series, input.from, input.to, lang)
        ));
    }
    if now.is_empty() {
        h.push_str(&para("", &t.no_disks));
    } else {
        let rows: Vec<Vec<String>> = now
            .iter()
            .map(|d| disk_row(lang, input, d, &series))
            .collect();
        let cols = [&t.col_disk, &t.col_used, "", &t.col_trend, &t.col_state];
        h.push_str(&table(&cols, "lnrrl", &rows));
    }
    section("disks", &t.h_disks, &h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::state::DAY;
    use crate::report::tests::TO;
    use crate::status::history::DiskSample;

    #[test]
    fn disk_chart_draws_one_line_per_disk_with_a_legend() {
        let disk = |id: &str, pct| DiskSample {
            id: id.into(),
            used_pct: pct,
            ..Default::default()
        };
        let samples: Vec<Sample> = (0..20)
            .filter(|k| k % 10 != 5) // one gap
            .map(|k| Sample {
                time: TO - 30 * DAY + k * 3 * 3600 + if k > 5 { 20 * 3600 } else { 0 },
                disks: vec![disk("srv1:/", 50.0 + k as f64), disk("nas1:/volume1", 60.0)],
                ..Default::default()
            })
            .collect();
        let refs: Vec<&Sample> = samples.iter().collect();
        let series = disk_series(&refs);
        assert_eq!(series.len(), 2);
        assert_eq!(series[1].id, "srv1:/");
        let svg = disk_chart(&series, TO - 30 * DAY, TO, Lang::En);
        assert_eq!(svg.matches("<g class=\"disk-line\">").count(), 2);
        assert_eq!(
            svg.matches("<polyline").count(),
            4,
            "the gap splits each line"
        );
        assert!(svg.contains("stroke-dasharray=\"7 4\""));
        assert!(svg.contains(">srv1:/ (69%)</text>"));
        assert!(svg.contains(">nas1:/volume1 (60%)</text>"));
        assert_eq!(trend_text(Lang::Fr, Some(&series[1])), "+19,0 points");
        assert_eq!(trend_text(Lang::Fr, Some(&series[0])), "stable");
    }
}

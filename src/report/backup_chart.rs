//! The daily backups as an SVG bar chart, readable in black and white.

use super::backups::BackupDay;
use super::html::{esc, svg_text, CHART_W, INK};
use super::lang::{civil, fill, Lang};

/// The smallest 1, 2, 4, 5 × 10^k at or above `v` (its half is round too).
fn nice_ceil(v: u64) -> u64 {
    if v == 0 {
        return 0;
    }
    let mut p: u64 = 1;
    while p.saturating_mul(10) <= v {
        p *= 10;
    }
    [1, 2, 4, 5, 10]
        .iter()
        .map(|m| p.saturating_mul(*m))
        .find(|c| *c >= v)
        .unwrap_or(u64::MAX)
}

const ACCENT: &str = "#1f4e79";
const FAIL: &str = "#b3261e";

fn cross(cx: f64, cy: f64, r: f64) -> String {
    format!(
        "<path d=\"M{:.1} {:.1}L{:.1} {:.1}M{:.1} {:.1}L{:.1} {:.1}\" stroke=\"{FAIL}\" stroke-width=\"2\"/>",
        cx - r,
        cy - r,
        cx + r,
        cy + r,
        cx - r,
        cy + r,
        cx + r,
        cy - r
    )
}

fn hollow_circle(cx: f64, cy: f64) -> String {
    format!("<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4\" fill=\"#fff\" stroke=\"{INK}\" stroke-width=\"1.5\"/>")
}

/// Daily backups as an SVG bar chart: one bar per day (height: bytes
/// added), a hatched column and a cross for a day with a failed run, a
/// hollow circle for a day without backup. Readable in black and white.
pub(super) fn backup_chart(days: &[BackupDay], lang: Lang) -> String {
    let t = lang.t();
    let (left, right, top, plot_h) = (64.0, 10.0, 26.0, 170.0);
    let base = top + plot_h;
    let height = base + 54.0;
    let n = days.len().max(1);
    let slot = (CHART_W - left - right) / n as f64;
    let bar_w = (slot * 0.68).max(1.0);
    let scale = nice_ceil(days.iter().map(|d| d.bytes).max().unwrap_or(0)).max(1);
    let label = fill(
        &t.backup_caption,
        &[&lang.date(days[0].start), &lang.date(days[n - 1].start)],
    );
    let mut s = format!(
        "<svg class=\"chart backups\" viewBox=\"0 0 {CHART_W} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        esc(&label)
    );
    s.push_str(&format!(
        "<defs><pattern id=\"bk-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#fdf1ef\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"{FAIL}\" stroke-width=\"1.4\"/></pattern></defs>\n"
    ));
    s.push_str(&svg_text(4.0, 12.0, "start", 11, &t.chart_added));
    s.push('\n');
    for tick in [0, scale / 2, scale] {
        let y = base - plot_h * tick as f64 / scale as f64;
        s.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#d7dde3\" stroke-width=\"1\"/>",
            CHART_W - right
        ));
        s.push_str(&svg_text(
            left - 6.0,
            y + 4.0,
            "end",
            11,
            &if tick == 0 {
                "0".to_string()
            } else {
                lang.size(tick)
            },
        ));
        s.push('\n');
    }
    let label_every = n.div_ceil(31);
    for (i, d) in days.iter().enumerate() {
        let x = left + slot * i as f64;
        let cx = x + slot / 2.0;
        s.push_str(&backup_day(
            lang,
            d,
            (x, cx),
            slot,
            bar_w,
            (top, base),
            scale,
        ));
        if i % label_every == 0 {
            s.push_str(&svg_text(
                cx,
                base + 14.0,
                "middle",
                10,
                &format!("{:02}", civil(d.start).day),
            ));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\" stroke=\"{INK}\" stroke-width=\"1\"/>\n",
        CHART_W - right
    ));
    s.push_str(&backup_legend(lang, base + 40.0));
    s.push_str("</svg>\n");
    s
}

fn backup_day(
    lang: Lang,
    d: &BackupDay,
    (x, cx): (f64, f64),
    slot: f64,
    bar_w: f64,
    (top, base): (f64, f64),
    scale: u64,
) -> String {
    let t = lang.t();
    let date = lang.date(d.start);
    let size = lang.size(d.bytes);
    let (class, title) = if d.failed > 0 {
        let (failed, ok) = (
            lang.count(d.failed, &t.failed_n),
            lang.count(d.ok, &t.succeeded_n),
        );
        ("failed", fill(&t.day_failed, &[&date, &failed, &ok, &size]))
    } else if d.ok > 0 {
        (
            "ok",
            fill(
                &t.day_ok,
                &[&date, &size, &lang.count(d.ok, &t.succeeded_n)],
            ),
        )
    } else {
        ("none", fill(&t.day_none, &[&date]))
    };
    let mut g = format!("<g class=\"day {class}\"><title>{}</title>", esc(&title));
    if d.failed > 0 {
        g.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"url(#bk-hatch)\"/>",
            x + 1.0,
            slot - 2.0,
            base - top
        ));
        g.push_str(&cross(cx, top - 10.0, 4.0));
    }
    if d.ok > 0 {
        let h = ((base - top) * d.bytes as f64 / scale as f64).max(2.0);
        g.push_str(&format!(
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{ACCENT}\"/>",
            cx - bar_w / 2.0,
            base - h
        ));
    } else if d.failed == 0 {
        g.push_str(&hollow_circle(cx, top - 10.0));
    }
    g.push_str("</g>");
    g
}

fn backup_legend(lang: Lang, y: f64) -> String {
    let t = lang.t();
    let mut x = 64.0;
    let mut s = String::from("<g class=\"legend\">");
    s.push_str(&format!(
        "<rect x=\"{x}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{ACCENT}\"/>",
        y - 10.0
    ));
    s.push_str(&svg_text(x + 18.0, y, "start", 11, &t.legend_ok));
    x += 18.0 + text_width(&t.legend_ok, 11.0) + 22.0;
    s.push_str(&format!(
        "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"url(#bk-hatch)\" stroke=\"{FAIL}\"/>",
        y - 10.0
    ));
    s.push_str(&cross(x + 24.0, y - 4.0, 4.0));
    s.push_str(&svg_text(x + 34.0, y, "start", 11, &t.legend_failed));
    x += 34.0 + text_width(&t.legend_failed, 11.0) + 22.0;
    s.push_str(&hollow_circle(x + 6.0, y - 4.0));
    s.push_str(&svg_text(x + 16.0, y, "start", 11, &t.legend_none));
    s.push_str("</g>\n");
    s
}

/// A rough width of a text in a sans-serif font, to lay out legends.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.55
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::backups::backup_days;
    use crate::report::state::DAY;
    use crate::report::tests::input;
    use crate::status::history::BackupRun;

    fn run(time: u64, kind: &str, ok: bool, bytes: u64) -> BackupRun {
        BackupRun {
            host: "srv1".into(),
            time,
            kind: kind.into(),
            service: Some("files".into()),
            ok,
            bytes_added: bytes,
            seconds: 30,
            error: if ok { String::new() } else { "boom".into() },
        }
    }

    #[test]
    fn backup_chart_has_one_bar_per_day_and_marks_failed_and_missing_days() {
        let mut i = input("fr");
        for d in 0..30 {
            let t = i.from + d * DAY + 5400;
            match d {
                10 => {
                    i.backup_runs.push(run(t, "scheduled", false, 0));
                    i.backup_runs.push(run(t + 3600, "manual", true, 2_000));
                }
                20 => {}
                _ => i.backup_runs.push(run(t, "scheduled", true, 1_000_000 * d)),
            }
        }
        i.backup_runs
            .push(run(i.from + 21 * DAY, "drill", false, 0)); // not a backup
        let days = backup_days(&i);
        assert_eq!(days.len(), 30);
        assert_eq!(
            (days[10].ok, days[10].failed, days[10].bytes),
            (1, 1, 2_000)
        );
        assert_eq!((days[20].ok, days[20].failed), (0, 0));
        assert_eq!(days[21].failed, 0);
        let svg = backup_chart(&days, Lang::Fr);
        assert_eq!(svg.matches("<g class=\"day ").count(), 30);
        assert_eq!(svg.matches("<g class=\"day failed\">").count(), 1);
        assert_eq!(svg.matches("<g class=\"day none\">").count(), 1);
        assert!(svg.contains("<title>11/11/2026 : 1 échec, 1 réussie, 2\u{a0}Ko ajoutés</title>"));
        assert!(svg.contains("<title>21/11/2026 : aucune sauvegarde</title>"));
        // Axis labels: sizes and every day of the month.
        assert!(svg.contains(">0</text>"));
        assert!(svg.contains(">40\u{a0}Mo</text>"), "{svg}");
        assert!(svg.contains(">30</text>"));
        // A period that does not start at midnight covers one more day.
        i.from += 3600;
        i.to += 3600;
        assert_eq!(backup_days(&i).len(), 31);
    }

    #[test]
    fn nice_scale() {
        assert_eq!(nice_ceil(0), 0);
        assert_eq!(nice_ceil(7), 10);
        assert_eq!(nice_ceil(1_900), 2_000);
        assert_eq!(nice_ceil(3_100_000_000), 4_000_000_000);
        assert_eq!(nice_ceil(4_500), 5_000);
    }
}

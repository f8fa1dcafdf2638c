//! HTML and SVG building blocks shared by the pages: escaping, the style
//! sheet, the page frame, sections, tables, badges and chart text.

use super::lang::Lang;

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root { --accent: #1f4e79; --text: #1d2125; --muted: #5b6670; --line: #d7dde3; --soft: #f3f6f9; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #fff; color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 28px 28px 40px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 16px; }
.kicker { margin: 0; color: var(--accent); font-size: 12px; font-weight: 700;
  letter-spacing: .08em; text-transform: uppercase; }
h1 { margin: 4px 0 0; font-size: 28px; line-height: 1.2; }
.domain { margin: 2px 0 14px; color: var(--muted); }
.summary { display: flex; flex-wrap: wrap; gap: 16px 32px; align-items: flex-start; }
.state { min-width: 260px; max-width: 420px; padding: 12px 16px; background: var(--soft);
  border: 1px solid var(--line); border-left: 5px solid #2e7d32; border-radius: 4px; }
.state.warn { border-left-color: #c77c00; }
.state.crit { border-left-color: #b3261e; }
.state p { margin: 6px 0 0; }
.state-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 3px 14px; margin: 4px 0 0; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
h2 { margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line);
  color: var(--accent); font-size: 19px; }
h3 { margin: 16px 0 6px; font-size: 15px; }
p { margin: 6px 0; }
.note { color: var(--muted); font-size: 13px; }
table { width: 100%; margin: 6px 0 10px; border-collapse: collapse; font-size: 14px; }
th { padding: 6px 8px; border-bottom: 2px solid var(--line); color: var(--muted);
  font-size: 12.5px; font-weight: 600; text-align: left; vertical-align: bottom; }
td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th.r, td.r { text-align: right; white-space: nowrap; }
td.nw { white-space: nowrap; }
td a { white-space: nowrap; }
.sub { display: block; color: var(--muted); font-size: 12.5px; }
.badge { display: inline-block; padding: 1px 8px; border: 1px solid; border-radius: 10px;
  font-size: 12px; font-weight: 700; white-space: nowrap; }
.badge.ok { color: #1b5e20; background: #e8f5e9; border-color: #9ccc9f; }
.badge.warn { color: #6d4600; background: #fff3dc; border-color: #e9b75a; }
.badge.unknown { color: #37474f; background: #eceff1; border-color: #a7b4bb; }
.badge.crit { color: #8e1b1b; background: #fdecea; border-color: #e59a95; }
.badge.big { padding: 3px 14px; font-size: 16px; }
ul.problems { margin: 0; padding: 0; list-style: none; }
ul.problems li { margin: 0 0 8px; padding: 9px 12px; border: 1px solid var(--line);
  border-left: 5px solid #a7b4bb; border-radius: 4px; }
ul.problems li.warn { border-left-color: #c77c00; }
ul.problems li.crit { border-left-color: #b3261e; }
ul.problems .badge { margin-right: 8px; }
ul.plain { margin: 4px 0; padding-left: 20px; }
.meter { display: inline-block; width: 70px; height: 9px; margin-right: 8px; vertical-align: middle;
  border: 1px solid #7d8a96; border-radius: 2px; background: #fff; }
.meter span { display: block; height: 100%; background: var(--accent); }
figure { margin: 8px 0 14px; }
figcaption { margin-bottom: 4px; color: var(--muted); font-size: 13px; }
svg.chart { display: block; width: 100%; height: auto; }
a { color: var(--accent); }
footer { margin-top: 30px; color: var(--muted); font-size: 13px; }
footer h2 { font-size: 16px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  table { font-size: 9pt; }
  th { font-size: 8pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, figure, .summary, ul.problems li { break-inside: avoid; page-break-inside: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

pub(super) fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"regie\">\n<title>{}</title>\n<style>{CSS}</style>\n\
         </head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        lang.code(),
        esc(title)
    )
}

pub(super) fn section(id: &str, title: &str, inner: &str) -> String {
    format!(
        "<section id=\"{id}\">\n<h2>{}</h2>\n{inner}</section>\n",
        esc(title)
    )
}

pub(super) fn para(class: &str, text: &str) -> String {
    if class.is_empty() {
        format!("<p>{}</p>\n", esc(text))
    } else {
        format!("<p class=\"{class}\">{}</p>\n", esc(text))
    }
}

/// A table; `align` has one letter per column (`l` left, `r` right, `n`
/// left without wrapping); cells are HTML.
pub(super) fn table(cols: &[&str], align: &str, rows: &[Vec<String>]) -> String {
    let class = |i: usize| match align.as_bytes().get(i) {
        Some(b'r') => " class=\"r\"",
        Some(b'n') => " class=\"nw\"",
        _ => "",
    };
    let mut h = String::from("<table>\n<thead><tr>");
    for (i, c) in cols.iter().enumerate() {
        h.push_str(&format!("<th{}>{}</th>", class(i), esc(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            h.push_str(&format!("<td{}>{cell}</td>", class(i)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    h
}

pub(super) fn badge(class: &str, label: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", esc(label))
}

/// A value with a smaller second line.
pub(super) fn with_sub(main: &str, sub: &str) -> String {
    if sub.is_empty() {
        esc(main)
    } else {
        format!("{}<span class=\"sub\">{}</span>", esc(main), esc(sub))
    }
}

pub(super) fn dash() -> String {
    "—".to_string()
}

// ---------------------------------------------------------------- charts

/// Shared by the backup and disk charts.
pub(super) const CHART_W: f64 = 720.0;
pub(super) const INK: &str = "#333";

pub(super) fn svg_text(x: f64, y: f64, anchor: &str, size: u32, text: &str) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"{size}\" fill=\"{INK}\">{}</text>",
        esc(text)
    )
}

//! HTML rendering of a [`Document`]: one self-contained page (inline CSS, no
//! script, nothing fetched), printable to PDF.

use super::document::{Block, Document, Inline};
use crate::site::files::VERSION;
use crate::site::inventory::Locale;

const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.45;color:#1a1a1a;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.9rem;border-bottom:3px solid #1a1a1a;padding-bottom:.3rem}
h2{font-size:1.45rem;margin-top:2.5rem;border-bottom:1px solid #999}
h3{font-size:1.15rem;margin-top:1.6rem}
h4{font-size:1rem;margin-top:1.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.92rem}
th,td{border:1px solid #bbb;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#eee}
td code{overflow-wrap:anywhere}
code{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.88em;background:#f3f3f3;padding:0 .15em}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}
pre code{background:none;padding:0}
a{color:#0645ad}
nav ol{columns:2}
@page{size:A4;margin:16mm 14mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10.5pt}
h2{break-before:page;page-break-before:always}
h2,h3,h4{break-after:avoid;page-break-after:avoid}
pre,tr{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
a{color:inherit;text-decoration:none}
}
";

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn html_inlines(items: &[Inline]) -> String {
    items
        .iter()
        .map(|i| match i {
            Inline::Text(s) => esc(s),
            Inline::Code(s) => format!("<code>{}</code>", esc(s)),
            Inline::Strong(s) => format!("<strong>{}</strong>", esc(s)),
            Inline::Link(u) => format!("<a href=\"{0}\">{0}</a>", esc(u)),
        })
        .collect()
}

fn html_table(head: &[String], rows: &[Vec<Vec<Inline>>]) -> String {
    let th: String = head
        .iter()
        .map(|h| format!("<th>{}</th>", esc(h)))
        .collect();
    let body: String = rows
        .iter()
        .map(|r| {
            let td: String = r
                .iter()
                .map(|cell| format!("<td>{}</td>", html_inlines(cell)))
                .collect();
            format!("<tr>{td}</tr>\n")
        })
        .collect();
    format!("<table>\n<thead><tr>{th}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n")
}

fn html_toc(doc: &Document, title: &str) -> String {
    let items: String = doc
        .sections()
        .enumerate()
        .map(|(i, s)| format!("<li><a href=\"#s{}\">{}</a></li>\n", i + 1, esc(s)))
        .collect();
    format!(
        "<nav>\n<p><strong>{}</strong></p>\n<ol>\n{items}</ol>\n</nav>\n",
        esc(title)
    )
}

pub fn to_html(doc: &Document) -> String {
    let lang = match doc.locale {
        Locale::Fr => "fr",
        Locale::En => "en",
    };
    let mut body = String::new();
    let mut n = 0;
    for b in &doc.blocks {
        body.push_str(&match b {
            Block::Heading(2, text) => {
                n += 1;
                format!("<h2 id=\"s{n}\">{n}. {}</h2>\n", esc(text))
            }
            Block::Heading(level, text) => format!("<h{level}>{}</h{level}>\n", esc(text)),
            Block::Para(items) => format!("<p>{}</p>\n", html_inlines(items)),
            Block::List(items) => {
                let li: String = items
                    .iter()
                    .map(|i| format!("<li>{}</li>\n", html_inlines(i)))
                    .collect();
                format!("<ul>\n{li}</ul>\n")
            }
            Block::Table { head, rows } => html_table(head, rows),
            Block::Code { text, .. } => format!(
                "<pre><code>{}</code></pre>\n",
                esc(text.trim_end_matches('\n'))
            ),
            Block::Toc(title) => html_toc(doc, title),
        });
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"regie {VERSION}\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        esc(&doc.title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::document::{c, t};

    #[test]
    fn html_escapes_everything() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let doc = Document {
            locale: Locale::En,
            title: "A <b> & C".into(),
            blocks: vec![Block::Para(vec![
                t("x<y"),
                c("a&b"),
                Inline::Link("https://e.fr/?a=1&b=2".into()),
            ])],
        };
        let h = to_html(&doc);
        assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{h}");
        assert!(h.contains("<title>A &lt;b&gt; &amp; C</title>"));
        assert!(h.contains("<p>x&lt;y<code>a&amp;b</code><a href=\"https://e.fr/?a=1&amp;b=2\">https://e.fr/?a=1&amp;b=2</a></p>"), "{h}");
    }
}

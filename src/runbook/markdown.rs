//! Markdown rendering of a [`Document`] (GitHub flavour: tables, fenced
//! code), escaping every text so the run book's words are never read as
//! markup.

use super::document::{Block, Document, Inline};

fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, ch) in s.char_indices() {
        let entity = ch == '&'
            && s[i + 1..]
                .chars()
                .next()
                .is_some_and(|n| n.is_ascii_alphanumeric() || n == '#');
        if entity || "\\`*_[]<>|~".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn longest_run(s: &str, ch: char) -> usize {
    s.split(|x| x != ch).map(str::len).max().unwrap_or(0)
}

/// A code span; in a table cell `|` is escaped (GitHub tables split on it
/// even inside code).
fn md_code(s: &str, in_table: bool) -> String {
    let s = if in_table {
        s.replace('|', "\\|")
    } else {
        s.to_string()
    };
    let n = longest_run(&s, '`');
    let ticks = "`".repeat(n + 1);
    let pad = if n > 0 { " " } else { "" };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn md_inlines(items: &[Inline], in_table: bool) -> String {
    items
        .iter()
        .map(|i| match i {
            Inline::Text(s) => md_text(s),
            Inline::Code(s) => md_code(s, in_table),
            Inline::Strong(s) => format!("**{}**", md_text(s)),
            Inline::Link(u) => format!("<{u}>"),
        })
        .collect()
}

fn md_row(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.collect();
    format!("| {} |\n", cells.join(" | "))
}

fn md_table(head: &[String], rows: &[Vec<Vec<Inline>>]) -> String {
    let mut s = md_row(head.iter().map(|h| md_text(h)));
    s.push_str(&md_row(head.iter().map(|_| "---".to_string())));
    for r in rows {
        s.push_str(&md_row(r.iter().map(|cell| md_inlines(cell, true))));
    }
    s
}

fn md_fence(lang: &str, text: &str) -> String {
    let fence = "`".repeat((longest_run(text, '`') + 1).max(3));
    format!("{fence}{lang}\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

pub fn to_markdown(doc: &Document) -> String {
    let mut out = String::new();
    let mut n = 0;
    for b in &doc.blocks {
        let s = match b {
            Block::Heading(2, text) => {
                n += 1;
                format!("## {n}. {}\n", md_text(text))
            }
            Block::Heading(level, text) => {
                format!("{} {}\n", "#".repeat(*level as usize), md_text(text))
            }
            Block::Para(items) => format!("{}\n", md_inlines(items, false)),
            Block::List(items) => items
                .iter()
                .map(|i| format!("- {}\n", md_inlines(i, false)))
                .collect(),
            Block::Table { head, rows } => md_table(head, rows),
            Block::Code { lang, text } => md_fence(lang, text),
            Block::Toc(title) => {
                let items: String = doc
                    .sections()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {}\n", i + 1, md_text(s)))
                    .collect();
                format!("**{}**\n\n{items}", md_text(title))
            }
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(
            md_text("a_b *c* [d](e) <f> |g| `h`"),
            "a\\_b \\*c\\* \\[d\\](e) \\<f\\> \\|g\\| \\`h\\`"
        );
        assert_eq!(md_text("Dupont & fils &amp;"), "Dupont & fils \\&amp;");
        assert_eq!(md_text("Hôtes réversibilité"), "Hôtes réversibilité");
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(md_code("a`b", false), "`` a`b ``");
        assert_eq!(md_code("a|b", true), "`a\\|b`");
        assert_eq!(md_code("a|b", false), "`a|b`");
        assert_eq!(md_fence("sh", "x ``` y\n"), "````sh\nx ``` y\n````\n");
    }
}

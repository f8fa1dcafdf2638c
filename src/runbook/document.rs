//! The run book as data: a [`Document`] of [`Block`]s and [`Inline`]s, which
//! the section builders fill and the Markdown and HTML renderers read; and the
//! helpers that turn wording templates into inlines ([`fill`], `{name}`
//! placeholders, `` `code` `` markup) and words into shell.

use crate::site::inventory::Locale;

/// A run of text inside a paragraph, list item or table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// Commands, paths, names: shown as code.
    Code(String),
    Strong(String),
    /// An absolute URL, shown as itself.
    Link(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Level 1 is the title; level 2 a main section, numbered when rendered
    /// (and starting a new page in print); 3 and 4 sub-sections.
    Heading(u8, String),
    Para(Vec<Inline>),
    List(Vec<Vec<Inline>>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// Verbatim text (commands, file trees, zone files), with its language
    /// for syntax highlighting in Markdown viewers.
    Code {
        lang: &'static str,
        text: String,
    },
    /// The list of main sections, under its title.
    Toc(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub locale: Locale,
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Document {
    /// Titles of the main sections (level 2 headings), in order.
    pub(super) fn sections(&self) -> impl Iterator<Item = &str> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Heading(2, t) => Some(t.as_str()),
            _ => None,
        })
    }
}

pub(super) fn t(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}
pub(super) fn c(s: impl Into<String>) -> Inline {
    Inline::Code(s.into())
}

/// A template: `` `x` `` is code, `{name}` placeholders outside code are
/// replaced by the given inlines, the rest is text. An unknown placeholder
/// stays as written; a template with unbalanced backticks has no code.
pub(super) fn fill(tpl: &str, args: &[(&str, Inline)]) -> Vec<Inline> {
    let mut out = Vec::new();
    if tpl.matches('`').count() % 2 == 1 {
        fill_text(tpl, args, &mut out);
        return out;
    }
    for (i, part) in tpl.split('`').enumerate() {
        if i % 2 == 1 {
            out.push(c(part));
        } else {
            fill_text(part, args, &mut out);
        }
    }
    out
}

/// A template without placeholders (markup only).
pub(super) fn tx(tpl: &str) -> Vec<Inline> {
    fill(tpl, &[])
}

fn fill_text(tpl: &str, args: &[(&str, Inline)], out: &mut Vec<Inline>) {
    let mut text = String::new();
    let mut rest = tpl;
    while let Some(i) = rest.find('{') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let arg = after
            .find('}')
            .and_then(|j| args.iter().find(|(k, _)| *k == &after[..j]).map(|a| (j, a)));
        match arg {
            Some((j, (_, v))) => {
                if !text.is_empty() {
                    out.push(t(std::mem::take(&mut text)));
                }
                out.push(v.clone());
                rest = &after[j + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(t(text));
    }
}

/// [`fill`] for plain strings (comments in code blocks).
pub(super) fn fill_str(tpl: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Inline)> = args.iter().map(|(k, v)| (*k, t(*v))).collect();
    fill(tpl, &args)
        .into_iter()
        .map(|i| match i {
            Inline::Text(s) | Inline::Code(s) | Inline::Strong(s) | Inline::Link(s) => s,
        })
        .collect()
}

/// A word for the shell: as is when it holds only safe characters, else
/// single-quoted.
pub(super) fn sh(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if safe {
        s.to_string()
    } else {
        crate::util::shell::quote(s)
    }
}

pub(super) fn words(cmd: &[String]) -> String {
    cmd.iter().map(|w| sh(w)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::lang::lang;
    use crate::site::inventory::Locale;

    #[test]
    fn templates_fill_placeholders() {
        assert_eq!(
            fill(
                "in {file} ({mode}) {other}",
                &[("file", c("/x")), ("mode", t("0600"))]
            ),
            vec![t("in "), c("/x"), t(" ("), t("0600"), t(") {other}")]
        );
        assert_eq!(fill_str(&lang(Locale::Fr).mb, &[("n", "8")]), "8\u{a0}Mo");
        assert_eq!(
            fill("see `a {x}` and {x}", &[("x", t("y"))]),
            vec![t("see "), c("a {x}"), t(" and "), t("y")]
        );
        assert_eq!(tx("odd ` tick"), vec![t("odd ` tick")]);
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(sh("/opt/regie/files"), "/opt/regie/files");
        assert_eq!(sh("sftp:u@10.0.0.1:/v/r"), "sftp:u@10.0.0.1:/v/r");
        assert_eq!(sh("a b"), "'a b'");
        assert_eq!(sh("it's"), "'it'\\''s'");
        assert_eq!(sh("$HOME"), "'$HOME'");
    }
}

//! `regie docs`: the site's run book (dossier d'exploitation), the document a
//! provider hands over: hosts, services and URLs, where the data lives,
//! backups and restores (with regie, with the host's script, with restic
//! alone), running everything without regie, updates, DNS records, contacts.
//!
//! Commands as data: [`runbook`] builds a [`Document`] from the resolved
//! site and a date, with no network and no secret (it says where secrets are,
//! never what they are); [`to_markdown`] and [`to_html`] render it;
//! `regie docs` (`cli::docs`) writes the two files.
//!
//! This file holds the generator: the context the section builders write
//! into, and the order of the main sections. The builders are in
//! `sections/`, the wording in `lang.rs`, shared facts in `facts.rs`.

use std::path::Path;

use crate::site::inventory::Resolved;

mod dns;
mod document;
mod facts;
mod html;
mod lang;
mod markdown;
mod sections;

pub use document::{Block, Document, Inline};
pub use html::to_html;
pub use lang::{lang, Lang};
pub use markdown::to_markdown;

use document::sh;

struct Ctx<'a> {
    site: &'a Resolved,
    l: &'static Lang,
    /// The inventory's file name, as commands name it (`-i`).
    inv: String,
    /// Titles of the main sections in order, for cross references.
    order: Vec<&'static str>,
    blocks: Vec<Block>,
}

impl Ctx<'_> {
    fn h(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level, text.into()));
    }
    fn p(&mut self, items: Vec<Inline>) {
        self.blocks.push(Block::Para(items));
    }
    fn list(&mut self, items: Vec<Vec<Inline>>) {
        self.blocks.push(Block::List(items));
    }
    fn table(&mut self, head: &[String], rows: Vec<Vec<Vec<Inline>>>) {
        self.blocks.push(Block::Table {
            head: head.iter().map(|h| h.to_string()).collect(),
            rows,
        });
    }
    fn code(&mut self, lang: &'static str, text: String) {
        self.blocks.push(Block::Code { lang, text });
    }
    /// `regie ARGS -i SITE.yml REST`.
    fn regie(&self, args: &str, rest: &str) -> String {
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(" {rest}")
        };
        format!("regie {args} -i {}{rest}", sh(&self.inv))
    }
    fn inv(&self) -> &crate::site::inventory::Inventory {
        &self.site.inv
    }
    /// The number of a main section, as rendered.
    fn no(&self, title: &str) -> String {
        let i = self.order.iter().position(|s| *s == title).unwrap_or(0);
        (i + 1).to_string()
    }
}

/// Lines of shell with a `# comment` aligned after each command.
fn commented(lines: &[(String, &str)]) -> String {
    let width = lines.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    lines
        .iter()
        .map(|(cmd, comment)| format!("{cmd:<width$}  # {comment}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// A main section: its title and what writes its body.
type Part = (&'static str, fn(&mut Ctx));

/// The run book of a site. Pure: reads nothing, connects nowhere, knows no
/// secret.
pub fn runbook(site: &Resolved, date: &str) -> Document {
    let l = lang(site.inv.site.locale);
    let display = site.inv.site.display().to_string();
    let parts: [Part; 9] = [
        (&l.s_hosts, sections::hosts),
        (&l.s_services, sections::services),
        (&l.s_data, sections::data),
        (&l.s_backup, sections::backups),
        (&l.s_restore, sections::restore),
        (&l.s_without, sections::without_regie),
        (&l.s_updates, sections::updates),
        (&l.s_dns, sections::dns),
        (&l.s_contacts, sections::contacts),
    ];
    let mut cx = Ctx {
        site,
        l,
        inv: file_name(&site.file),
        order: parts.iter().map(|(title, _)| *title).collect(),
        blocks: Vec::new(),
    };
    let title = format!("{} — {display}", l.title);
    sections::cover(&mut cx, &title, date);
    for (heading, part) in parts {
        cx.h(2, heading);
        part(&mut cx);
    }
    Document {
        locale: site.inv.site.locale,
        title,
        blocks: cx.blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::inventory::Locale;
    use document::{c, t};

    fn table() -> Block {
        Block::Table {
            head: vec!["Name".into(), "Value".into()],
            rows: vec![
                vec![vec![c("a|b")], vec![t("x"), c("y")]],
                vec![vec![t("<z>")], vec![]],
            ],
        }
    }

    #[test]
    fn tables_render_in_both_formats() {
        let doc = Document {
            locale: Locale::Fr,
            title: "T".into(),
            blocks: vec![table()],
        };
        assert_eq!(
            to_markdown(&doc),
            "| Name | Value |\n| --- | --- |\n| `a\\|b` | x`y` |\n| \\<z\\> |  |\n"
        );
        let h = to_html(&doc);
        assert!(
            h.contains(
                "<table>\n<thead><tr><th>Name</th><th>Value</th></tr></thead>\n<tbody>\n\
             <tr><td><code>a|b</code></td><td>x<code>y</code></td></tr>\n\
             <tr><td>&lt;z&gt;</td><td></td></tr>\n</tbody>\n</table>\n"
            ),
            "{h}"
        );
    }

    #[test]
    fn sections_are_numbered_and_listed() {
        let doc = Document {
            locale: Locale::Fr,
            title: "T".into(),
            blocks: vec![
                Block::Toc("Sommaire".into()),
                Block::Heading(2, "Hôtes".into()),
                Block::Heading(3, "srv1".into()),
                Block::Heading(2, "Services".into()),
            ],
        };
        assert_eq!(
            to_markdown(&doc),
            "**Sommaire**\n\n1. Hôtes\n2. Services\n\n## 1. Hôtes\n\n### srv1\n\n## 2. Services\n"
        );
        let h = to_html(&doc);
        assert!(h.contains("<li><a href=\"#s2\">Services</a></li>"));
        assert!(h.contains("<h2 id=\"s2\">2. Services</h2>"));
    }
}

//! The cover: the site's identity, the date and version that made the run
//! book, what it covers, and the table of contents.

use crate::runbook::document::{c, fill, t, tx, Block, Inline};
use crate::runbook::Ctx;
use crate::site::files::VERSION;

pub(crate) fn cover(cx: &mut Ctx, title: &str, date: &str) {
    let l = cx.l;
    let s = &cx.inv().site;
    let notify = &cx.inv().notify.email;
    let notify = if notify.is_empty() {
        tx(&l.none)
    } else {
        vec![t(notify.join(", "))]
    };
    let generated = fill(
        &l.generated_value,
        &[("date", t(date)), ("version", t(VERSION))],
    );
    let item = |label: &str, mut value: Vec<Inline>| {
        let mut v = vec![Inline::Strong(label.into()), t(&l.colon)];
        v.append(&mut value);
        v
    };
    let items = vec![
        item(&l.cover_site, vec![c(&s.name)]),
        item(&l.cover_domain, vec![t(&s.domain)]),
        item(&l.cover_contact, vec![t(&s.contact)]),
        item(&l.cover_notify, notify),
        item(&l.cover_timezone, vec![t(&s.timezone)]),
        item(&l.cover_inventory, vec![c(&cx.inv)]),
        item(&l.cover_generated, generated),
    ];
    cx.h(1, title);
    cx.list(items);
    let intro = fill(
        &l.cover_intro,
        &[
            ("inventory", c(&cx.inv)),
            ("section", t(cx.no(&l.s_without))),
        ],
    );
    cx.p(intro);
    cx.p(tx(&l.cover_reversible));
    cx.blocks.push(Block::Toc(l.toc.clone()));
}

//! The end of section "Running without regie": where the secrets are, and
//! what to hand over to the client or a new provider.

use crate::backup::plan::{self as backup, Repo};
use crate::runbook::document::{c, fill, t, tx, Inline};
use crate::runbook::facts::{join_and, on_hosts};
use crate::runbook::{file_name, Ctx};

pub(super) fn secrets(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, &l.h_secrets);
    let file = file_name(&crate::site::site_files::secrets_path(site));
    let items = vec![
        fill(
            &l.secrets_file,
            &[
                ("file", c(file)),
                ("list", c(cx.regie("secrets list", ""))),
                ("show", c(cx.regie("secrets show NAME", ""))),
            ],
        ),
        tx(&l.secrets_key),
        secrets_on_hosts(cx),
        vec![Inline::Strong(l.secrets_here.clone())],
    ];
    cx.list(items);
}

/// Where the hosts keep secrets: the services' secret files, and the
/// backup's password and NAS key.
fn secrets_on_hosts(cx: &Ctx) -> Vec<Inline> {
    let site = cx.site;
    let mut files = vec!["`restic.password`"];
    if matches!(Repo::of(site), Some(Repo::Sftp { .. })) {
        files.push("`nas_key`");
    }
    // The list goes in as markup, so the names are code.
    let tpl =
        cx.l.secrets_hosts
            .replace("{files}", &join_and(cx.l, &files));
    fill(
        &tpl,
        &[
            ("section", t(cx.no(&cx.l.s_data))),
            ("dir", c(on_hosts(site, &format!("{}/", backup::DIR)))),
        ],
    )
}

pub(super) fn handover(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, &l.h_handover);
    cx.p(tx(&l.handover_intro));
    let mut items = vec![
        fill(&l.handover_inventory, &[("file", c(&cx.inv))]),
        fill(
            &l.handover_secrets,
            &[(
                "file",
                c(file_name(&crate::site::site_files::secrets_path(site))),
            )],
        ),
        fill(
            &l.handover_key,
            &[("rekey", c(cx.regie("secrets rekey", "")))],
        ),
        fill(
            &l.handover_known_hosts,
            &[(
                "file",
                c(file_name(&crate::site::site_files::site_known_hosts(site))),
            )],
        ),
    ];
    if let Some(dir) = &site.inv.catalog {
        items.push(fill(
            &l.handover_catalog,
            &[("dir", c(dir.display().to_string()))],
        ));
    }
    items.push(tx(&l.handover_runbook));
    items.push(tx(&l.handover_access));
    cx.list(items);
    cx.p(tx(&l.handover_nothing_else));
    cx.p(tx(&l.handover_after));
    cx.list(l.revoke.iter().map(|r| tx(r)).collect());
}

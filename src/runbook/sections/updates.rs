//! Section "Updates and maintenance": the window, automatic updates, each
//! service's upgrade policy, and updating with or without regie.

use crate::runbook::document::{c, fill, t, tx, Inline};
use crate::runbook::facts::{descriptor, human_window, placed};
use crate::runbook::lang::Lang;
use crate::runbook::{commented, Ctx};
use crate::site::catalog::UpgradePolicy;

fn policy(l: &Lang, p: UpgradePolicy) -> &str {
    match p {
        UpgradePolicy::SameMajor => &l.policy_same_major,
        UpgradePolicy::OneMajorAtATime => &l.policy_one_major,
        UpgradePolicy::Esr => &l.policy_esr,
        UpgradePolicy::Rolling => &l.policy_rolling,
        UpgradePolicy::ReleaseTags => &l.policy_release_tags,
    }
}

pub(crate) fn updates(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    match &site.inv.maintenance {
        Some(m) => {
            let window = human_window(l, &m.window);
            cx.p(fill(
                &l.updates_window,
                &[
                    ("window", Inline::Strong(window)),
                    ("tz", t(&site.inv.site.timezone)),
                ],
            ));
            cx.p(tx(if m.auto_update {
                &l.auto_on
            } else {
                &l.auto_off
            }));
        }
        None => cx.p(tx(&l.updates_no_window)),
    }
    let mut seen = Vec::new();
    let rows = placed(site)
        .filter(|(_, p)| {
            let first = !seen.contains(&p.name);
            seen.push(p.name.clone());
            first
        })
        .map(|(_, p)| {
            let d = descriptor(site, p);
            vec![
                vec![c(&p.name)],
                vec![c(&p.version)],
                vec![t(policy(l, d.upgrade.policy))],
                tx(&d.upgrade.notes.join(" ")),
            ]
        })
        .collect();
    cx.table(&l.updates_head, rows);
    let lines: Vec<(String, &str)> = vec![
        (cx.regie("update check", ""), l.updates_comments[0].as_str()),
        (
            cx.regie("update apply", "--service SERVICE"),
            l.updates_comments[1].as_str(),
        ),
        (cx.regie("update os", ""), l.updates_comments[2].as_str()),
    ];
    cx.code("sh", commented(&lines));
    cx.p(tx(&l.updates_by_hand));
}

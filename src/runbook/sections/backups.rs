//! Section "Backups": the policy, the repositories, where the password and
//! NAS key are, the schedule, what a capture holds, how to watch it all.

use crate::backup::plan::{self as backup, Repo};
use crate::runbook::document::{c, fill, fill_str, sh, t, tx};
use crate::runbook::facts::{backed_up, on_hosts, timer_unit};
use crate::runbook::lang::Lang;
use crate::runbook::{commented, Ctx};
use crate::site::inventory::Resolved;

pub(super) fn keep(l: &Lang, k: &crate::site::inventory::Keep) -> String {
    [k.last, k.daily, k.weekly, k.monthly]
        .iter()
        .zip(&l.keep)
        .filter(|(n, _)| **n > 0)
        .map(|(n, tpl)| fill_str(tpl, &[("n", &n.to_string())]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn drill_days(site: &Resolved) -> u32 {
    site.inv.maintenance.as_ref().map_or(30, |m| m.drill_days)
}

pub(crate) fn backups(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let (Some(b), Some(repo)) = (&site.inv.backup, Repo::of(site)) else {
        cx.p(tx(&l.no_backup));
        return;
    };
    let hosts = backed_up(site);
    let to = match &repo {
        Repo::Sftp { nas, address, .. } => {
            fill(&l.to_sftp, &[("host", c(nas)), ("address", c(address))])
        }
        Repo::Local { .. } => tx(&l.to_local),
    };
    let mut names: Vec<&str> = hosts
        .iter()
        .flat_map(|(_, caps)| caps.iter().map(|c| c.name))
        .collect();
    names.sort();
    names.dedup();
    let drills = match drill_days(site) {
        0 => l.drills_off.to_string(),
        n => fill_str(&l.drills_every, &[("n", &n.to_string())]),
    };
    let tz = &site.inv.site.timezone;
    let mut rows = vec![
        vec![tx(&l.p_to), to],
        vec![
            tx(&l.p_at),
            vec![t(fill_str(&l.at_value, &[("at", &b.at), ("tz", tz)]))],
        ],
        vec![tx(&l.p_keep), vec![t(keep(l, &b.keep))]],
        vec![tx(&l.p_services), vec![t(names.join(", "))]],
        vec![tx(&l.p_image), vec![c(backup::restic_image(site))]],
        vec![tx(&l.p_drills), tx(&drills)],
    ];
    rows.extend(super::offsite::policy_row(cx));
    cx.table(&l.policy_head, rows);
    let rows = hosts
        .iter()
        .map(|(h, caps)| {
            let names: Vec<&str> = caps.iter().map(|c| c.name).collect();
            vec![vec![c(*h)], vec![c(repo.url(h))], vec![t(names.join(", "))]]
        })
        .collect();
    cx.table(&l.repos_head, rows);
    let show = cx.regie("secrets show backup.restic_password", "");
    cx.p(fill(
        &l.backup_password,
        &[
            (
                "file",
                c(on_hosts(site, &format!("{}/restic.password", backup::DIR))),
            ),
            ("name", c("backup.restic_password")),
            ("command", c(show)),
        ],
    ));
    if let Repo::Sftp {
        user, append_only, ..
    } = &repo
    {
        let text = if *append_only {
            &l.backup_nas_key_append_only
        } else {
            &l.backup_nas_key
        };
        cx.p(fill(
            text,
            &[
                (
                    "file",
                    c(on_hosts(site, &format!("{}/nas_key", backup::DIR))),
                ),
                ("name", c("backup.nas_key")),
                ("user", c(user)),
                (
                    "known",
                    c(on_hosts(site, &format!("{}/known_hosts", backup::DIR))),
                ),
            ],
        ));
    }
    super::offsite::backup_paragraph(cx);
    schedule(cx, &b.at);
    cx.p(tx(&l.backup_capture));
    cx.code("text", l.capture_layout.to_string());
    cx.p(tx(&l.backup_check));
    let lines: Vec<(String, &str)> = [
        "backup status",
        "backup list",
        "backup verify",
        "backup run",
    ]
    .iter()
    .zip(l.check_comments.iter().map(String::as_str))
    .map(|(cmd, comment)| (cx.regie(cmd, ""), comment))
    .collect();
    cx.code("sh", commented(&lines));
}

fn schedule(cx: &mut Ctx, at: &str) {
    let l = cx.l;
    let site = cx.site;
    let unit = timer_unit(site);
    let script = on_hosts(site, backup::SCRIPT);
    cx.p(fill(
        &l.backup_schedule,
        &[
            ("timer", c(format!("{unit}.timer"))),
            (
                "command",
                c(format!("/bin/bash {} run --kind scheduled", sh(&script))),
            ),
            ("at", t(at)),
            ("tz", t(&site.inv.site.timezone)),
            ("cron", c(format!("/etc/cron.d/{unit}"))),
            (
                "log",
                c(on_hosts(site, &format!("{}/cron.log", backup::DIR))),
            ),
        ],
    ));
    cx.code(
        "sh",
        format!(
            "systemctl list-timers {unit}.timer\njournalctl -u {unit}.service --since yesterday"
        ),
    );
}

//! Section "Running without regie" (reversibility): the Compose files, the
//! everyday commands, the backup script, stopping regie's scheduled job. Its
//! last two parts, secrets and handover, are in `handover.rs`.

use super::handover::{handover, secrets};
use super::restore::example_capture;
use crate::backup::plan as backup;
use crate::runbook::document::{c, fill, fill_str, sh, tx};
use crate::runbook::facts::{
    backed_up, base_dir, compose_cmd, compose_file, on_hosts, placed, project, proxy_data_volume,
    proxy_network, script_path, timer_unit,
};
use crate::runbook::{commented, Ctx};

pub(crate) fn without_regie(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.p(tx(&l.without_intro));
    cx.h(3, &l.h_compose);
    let rows = placed(site)
        .map(|(host, p)| {
            vec![
                vec![c(&p.name)],
                vec![c(host)],
                vec![c(project(site, &p.name))],
                vec![c(compose_file(base_dir(site, host), &p.name))],
            ]
        })
        .collect();
    cx.table(&l.compose_head, rows);
    cx.p(fill(
        &l.proxy_first,
        &[
            ("network", c(proxy_network(site))),
            ("volume", c(proxy_data_volume(site))),
        ],
    ));
    compose_commands(cx);
    backup_without_regie(cx);
    secrets(cx);
    handover(cx);
}

fn compose_commands(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, &l.h_commands);
    let start: Vec<String> = site
        .placement
        .iter()
        .flat_map(|(host, ps)| {
            let base = base_dir(site, host);
            std::iter::once(format!("# {}", fill_str(&l.start_all, &[("host", host)]))).chain(
                ps.iter()
                    .map(move |p| format!("{} up -d", compose_cmd(site, base, &p.name))),
            )
        })
        .collect();
    if start.is_empty() {
        return;
    }
    cx.code("sh", start.join("\n"));
    let Some((host, p)) = placed(site).find(|(_, p)| p.name != "proxy") else {
        return;
    };
    let base = base_dir(site, host);
    let head = format!(
        "P={}\nF={}",
        sh(&project(site, &p.name)),
        sh(&compose_file(base, &p.name))
    );
    let ops: Vec<(String, &str)> = [
        "ps",
        "logs --tail 100 -f",
        "up -d",
        "restart",
        "down",
        "pull",
    ]
    .iter()
    .zip(l.ops_comments.iter().map(String::as_str))
    .map(|(op, comment)| (format!("docker compose -p \"$P\" -f \"$F\" {op}"), comment))
    .collect();
    cx.code("sh", format!("{head}\n{}", commented(&ops)));
    cx.p(tx(&l.compose_versions));
}

fn backup_without_regie(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let hosts = backed_up(site);
    let Some((host, caps)) = hosts.first() else {
        return;
    };
    cx.h(3, &l.h_backup_script);
    let script = script_path(site, host);
    cx.p(fill(
        &l.backup_script,
        &[("script", c(on_hosts(site, backup::SCRIPT)))],
    ));
    let example = example_capture(caps).name;
    let q = sh(&script);
    let s = sh(example);
    let lines: Vec<(String, &str)> = [
        format!("bash {q} run"),
        format!("bash {q} snapshots {s}"),
        format!("bash {q} restore {s} latest"),
        format!("bash {q} drill {s}"),
        format!("bash {q} restic snapshots"),
    ]
    .into_iter()
    .zip(l.script_comments.iter().map(String::as_str))
    .collect();
    cx.code("sh", commented(&lines));
    super::offsite::without_regie(cx, &hosts);
    cx.h(3, &l.h_stop);
    cx.p(tx(&l.stop_intro));
    let unit = timer_unit(site);
    cx.code(
        "sh",
        format!(
            "systemctl disable --now {unit}.timer\n\
             rm -f /etc/systemd/system/{unit}.service /etc/systemd/system/{unit}.timer\n\
             systemctl daemon-reload\n\
             rm -f /etc/cron.d/{unit}   # {}",
            l.stop_cron
        ),
    );
    cx.p(tx(&l.stop_maintain));
}

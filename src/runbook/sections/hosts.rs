//! Section "Hosts": the site's machines, how regie reaches them, and where
//! the backup repositories are.

use crate::backup::plan::Repo;
use crate::runbook::document::{c, fill, fill_str, t, tx, Inline};
use crate::runbook::lang::Lang;
use crate::runbook::Ctx;
use crate::site::inventory::Role;

fn role(l: &Lang, r: Role) -> &str {
    match r {
        Role::Server => &l.role_server,
        Role::Nas => &l.role_nas,
        Role::Sbc => &l.role_sbc,
    }
}

fn ssh_cell(l: &Lang, h: &crate::site::inventory::Host) -> Vec<Inline> {
    let target = match &h.ssh.user {
        Some(u) => format!("{u}@{}", h.address),
        None => h.address.clone(),
    };
    let mut cell = vec![c(target), t(format!(", port {}", h.ssh.port.unwrap_or(22)))];
    if h.ssh.sudo {
        cell.push(t(", sudo"));
    }
    if let Some(j) = &h.ssh.jump {
        cell.push(t(format!(", {} ", l.ssh_jump)));
        cell.push(c(j));
    }
    cell
}

fn size(tpl: &str, n: Option<u64>, none: &str) -> Vec<Inline> {
    vec![t(n.map_or(none.to_string(), |n| {
        fill_str(tpl, &[("n", &n.to_string())])
    }))]
}

pub(crate) fn hosts(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.p(tx(&l.hosts_intro));
    let rows = site
        .inv
        .hosts
        .iter()
        .map(|(name, h)| {
            let mut address = vec![c(&h.address)];
            if h.public {
                address.push(t(format!(" ({})", l.public)));
            }
            let stacks: Vec<&str> = site
                .placement
                .get(name)
                .map(|ps| ps.iter().map(|p| p.name.as_str()).collect())
                .unwrap_or_default();
            let (base, services) = if h.role == Role::Nas {
                (tx(&l.none), tx(&l.none))
            } else {
                (vec![c(&h.base_dir)], vec![t(stacks.join(", "))])
            };
            vec![
                vec![c(name)],
                vec![t(role(l, h.role))],
                address,
                ssh_cell(l, h),
                base,
                size(&l.mb, h.ram_mb, &l.none),
                size(&l.gb, h.disk_gb, &l.none),
                services,
            ]
        })
        .collect();
    cx.table(&l.hosts_head, rows);
    match Repo::of(site) {
        Some(Repo::Sftp {
            nas,
            user,
            address,
            port,
            base,
            ..
        }) => cx.p(fill(
            &l.repo_sftp,
            &[
                ("nas", c(nas)),
                ("address", c(address)),
                ("dir", c(base)),
                ("user", c(user)),
                ("port", t(port.to_string())),
            ],
        )),
        Some(Repo::Local { base }) => cx.p(fill(&l.repo_local, &[("dir", c(base))])),
        None => {}
    }
}

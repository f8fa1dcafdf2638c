//! Section "Where the data is": the files regie writes on each host, the
//! Docker volumes and how each is backed up, the databases.

use crate::backup::plan::{self as backup, Capture, Repo};
use crate::runbook::document::{c, fill, fill_str, t, words};
use crate::runbook::facts::{base_dir, descriptor, rendered_files, volume_name};
use crate::runbook::lang::Lang;
use crate::runbook::Ctx;

pub(crate) fn data(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    cx.p(fill(&l.data_intro, &[("regie", c(".regie/"))]));
    for host in site.placement.keys() {
        data_host(cx, host);
    }
    let section = cx.no(&l.s_without);
    cx.p(fill(&l.data_secret_files, &[("section", t(section))]));
}

/// How a volume is backed up on a host: as files, as a dump, or not.
fn volume_backup(l: &Lang, cap: Option<&Capture>, key: &str) -> String {
    let Some(cap) = cap else {
        return l.no.to_string();
    };
    let b = &cap.desc.backup;
    if b.volumes.iter().any(|v| v == key) {
        return l.vol_files.to_string();
    }
    match b.dumps.iter().find(|d| d.volume.as_deref() == Some(key)) {
        Some(d) => fill_str(&l.vol_dump, &[("file", &d.file)]),
        None => l.no.to_string(),
    }
}

fn file_tree(cx: &Ctx, host: &str) -> String {
    let l = cx.l;
    let site = cx.site;
    let base = base_dir(site, host);
    let mut lines: Vec<(String, String)> = Vec::new();
    for p in &site.placement[host] {
        for f in rendered_files(descriptor(site, p), p) {
            let comment = if f.secret { l.data_secret.as_str() } else { "" };
            lines.push((format!("{base}/{}/{}", p.name, f.path), comment.into()));
        }
    }
    lines.push((
        format!("{base}/.regie/manifest.json"),
        l.data_manifest.clone(),
    ));
    if !backup::captures(site, host).is_empty() {
        let nas = matches!(Repo::of(site), Some(Repo::Sftp { .. }));
        let comment = format!(
            "{}{}",
            l.data_backup_dir,
            if nas { l.data_nas_key.as_str() } else { "" }
        );
        lines.push((format!("{base}/{}/", backup::DIR), comment));
    }
    let width = lines.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    lines
        .iter()
        .map(|(path, comment)| match comment.as_str() {
            "" => path.clone(),
            c => format!("{path:<width$}  # {c}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn data_host(cx: &mut Ctx, host: &str) {
    let l = cx.l;
    let site = cx.site;
    cx.h(3, format!("{host} — {}", base_dir(site, host)));
    let tree = file_tree(cx, host);
    cx.code("text", tree);
    let caps = backup::captures(site, host);
    let mut rows = Vec::new();
    let mut dbs = Vec::new();
    for p in &site.placement[host] {
        let d = descriptor(site, p);
        let cap = caps.iter().find(|cp| cp.name == p.name);
        for (key, what) in &d.volumes {
            rows.push(vec![
                vec![c(volume_name(site, &p.name, key))],
                vec![t(&p.name)],
                vec![t(what)],
                vec![t(volume_backup(l, cap, key))],
            ]);
        }
        for dump in &d.backup.dumps {
            let volume = dump
                .volume
                .as_deref()
                .map(|v| volume_name(site, &p.name, v))
                .unwrap_or_else(|| l.none.to_string());
            dbs.push(fill(
                &l.data_db,
                &[
                    ("service", c(&p.name)),
                    ("component", c(&dump.component)),
                    ("volume", c(volume)),
                    ("command", c(words(&dump.dump_command()))),
                    ("file", c(&dump.file)),
                ],
            ));
        }
    }
    cx.table(&l.volumes_head, rows);
    for db in dbs {
        cx.p(db);
    }
}

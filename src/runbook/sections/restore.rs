//! Section "Restore": with regie, with the host's script, and with restic
//! and docker alone (step by step per service), and on a new machine.

use crate::backup::plan::{self as backup, Capture, Repo};
use crate::runbook::document::{c, fill, fill_str, sh, tx, words};
use crate::runbook::facts::{
    backed_up, backup_path, base_dir, compose_cmd, proxy_data_volume, proxy_network, script_path,
    stack_dir, volume_name,
};
use crate::runbook::{commented, Ctx};
use crate::site::catalog::Exec;

pub(crate) fn restore(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let hosts = backed_up(site);
    let (Some(repo), Some((_, first_caps))) = (Repo::of(site), hosts.first()) else {
        cx.p(tx(&l.no_backup));
        return;
    };
    cx.p(tx(&l.restore_intro));
    let example = example_capture(first_caps).name;
    cx.h(3, &l.h_with_regie);
    let svc = format!("--service {}", sh(example));
    let lines = vec![
        (
            cx.regie("backup list", &svc),
            l.with_regie_comments[0].as_str(),
        ),
        (cx.regie("restore", &svc), l.with_regie_comments[1].as_str()),
        (
            cx.regie("restore", &format!("{svc} --snapshot ID")),
            l.with_regie_comments[2].as_str(),
        ),
    ];
    cx.code("sh", commented(&lines));
    cx.p(fill(
        &l.with_regie_after,
        &[("from", c("--from-host HOST"))],
    ));
    cx.h(3, &l.h_with_script);
    cx.p(tx(&l.with_script));
    let script_lines: Vec<String> = hosts
        .iter()
        .flat_map(|(h, caps)| {
            let script = sh(&script_path(site, h));
            let names: Vec<&str> = caps.iter().map(|c| c.name).collect();
            let s = sh(example_capture(caps).name);
            [
                format!("# {h}: {}", names.join(", ")),
                format!("bash {script} snapshots {s}"),
                format!("bash {script} restore {s} latest"),
                format!("bash {script} restore {s} ID"),
            ]
        })
        .collect();
    cx.code("sh", script_lines.join("\n"));
    cx.h(3, &l.h_with_restic);
    cx.p(tx(&l.with_restic));
    for (h, _) in &hosts {
        let env = restic_env(cx, &repo, h);
        cx.code("sh", env);
    }
    cx.p(tx(&l.restic_compose_note));
    for (h, caps) in &hosts {
        for cp in caps {
            cx.h(4, format!("{} ({h})", cp.name));
            let steps = manual_restore(cx, h, cp);
            cx.code("sh", steps);
        }
    }
    super::offsite::restore(cx, &hosts);
    cx.h(3, &l.h_new_machine);
    let password = cx.regie("secrets show backup.restic_password", "");
    cx.p(fill(
        &l.new_machine,
        &[
            ("password", c(password)),
            ("network", c(proxy_network(site))),
            ("volume", c(proxy_data_volume(site))),
        ],
    ));
    if matches!(repo, Repo::Sftp { .. }) {
        cx.p(fill(
            &l.new_machine_nas,
            &[("nas_key", c("backup.nas_key"))],
        ));
    }
    if let Repo::Sftp {
        append_only: true,
        base,
        ..
    } = &repo
    {
        cx.p(fill(
            &l.restic_on_nas,
            &[("dir", c(format!("{base}/HOST")))],
        ));
    }
}

/// The service examples name: one other than the proxy when there is one.
pub(super) fn example_capture<'a, 'b>(caps: &'a [Capture<'b>]) -> &'a Capture<'b> {
    caps.iter().find(|c| c.name != "proxy").unwrap_or(&caps[0])
}

/// The shell set-up for plain restic on one host's repository.
fn restic_env(cx: &Ctx, repo: &Repo, host: &str) -> String {
    let site = cx.site;
    let mut lines = vec![
        format!("# {host}"),
        format!("export RESTIC_REPOSITORY={}", sh(&repo.url(host))),
        format!(
            "export RESTIC_PASSWORD_FILE={}",
            sh(&backup_path(site, host, "restic.password"))
        ),
    ];
    if let Repo::Sftp {
        user,
        address,
        port,
        append_only,
        ..
    } = repo
    {
        let ssh = format!(
            "ssh -i {} -o UserKnownHostsFile={} -p {port} {user}@{address}",
            backup_path(site, host, "nas_key"),
            backup_path(site, host, "known_hosts"),
        );
        if *append_only {
            // The site key reaches rclone's append-only server on the NAS,
            // which picks the repository from the host's name.
            lines[1] = format!("export RESTIC_REPOSITORY={}", sh(&format!("rclone:{host}")));
            lines.push(format!("# {}", cx.l.restic_rclone_comment));
            lines.push(format!("NAS={}", sh(&ssh)));
            lines.push("restic() { command restic -o rclone.program=\"$NAS\" \"$@\"; }".into());
        } else {
            lines.push(format!("# {}", cx.l.restic_sftp_comment));
            lines.push(format!("SFTP={}", sh(&format!("{ssh} -s sftp"))));
            lines.push("restic() { command restic -o sftp.command=\"$SFTP\" \"$@\"; }".into());
        }
    }
    lines.push("restic snapshots".into());
    lines.join("\n")
}

fn exec_line(dc: &str, e: &Exec) -> String {
    let user = e
        .user
        .as_deref()
        .map(|u| format!(" -u {}", sh(u)))
        .unwrap_or_default();
    format!(
        "{dc} exec -T{user} {} {}",
        sh(&e.component),
        words(&e.command)
    )
}

/// The restore of one service with restic and docker alone, as numbered
/// steps; mirrors what the host's script does (`put_back` in backup.sh).
fn manual_restore(cx: &Ctx, host: &str, cp: &Capture) -> String {
    let l = cx.l;
    let site = cx.site;
    let base = base_dir(site, host);
    let name = cp.name;
    let dc = compose_cmd(site, base, name);
    let tmp = format!("/var/tmp/regie-restore/{name}");
    let b = &cp.desc.backup;
    let placeholder = format!("{host}-{name}-{}", l.capture_placeholder);
    let mut steps: Vec<(String, Vec<String>)> = vec![
        (
            l.st_choose.clone(),
            vec![
                format!("restic snapshots --tag service={}", sh(name)),
                format!("CAPTURE={}", sh(&placeholder)),
            ],
        ),
        (
            l.st_fetch.clone(),
            vec![format!(
                "restic restore latest --tag \"capture=$CAPTURE,part=files\" --target {}",
                sh(&tmp)
            )],
        ),
        (l.st_stop.clone(), vec![format!("{dc} stop")]),
    ];
    if !b.volumes.is_empty() {
        let image = backup::restic_image(site);
        let copies = b
            .volumes
            .iter()
            .map(|v| {
                let vol = volume_name(site, name, v);
                format!(
                    "docker run --rm --entrypoint sh -v {}:/from:ro -v {}:/to {} \\\n  -c 'find /to -mindepth 1 -delete && cp -a /from/. /to/'",
                    sh(&format!("{tmp}/volumes/{vol}")),
                    sh(&vol),
                    sh(&image)
                )
            })
            .collect();
        steps.push((l.st_volumes.clone(), copies));
    }
    let dir = stack_dir(base, name);
    steps.push((
        l.st_dir.clone(),
        vec![
            format!("mkdir -p {}", sh(&dir)),
            format!(
                "cp -a -n {} {}",
                sh(&format!("{tmp}/config/{name}/.")),
                sh(&format!("{dir}/"))
            ),
        ],
    ));
    for d in &b.dumps {
        let comp = sh(&d.component);
        let path = sh(&format!("/dumps/{}", d.file));
        let mut lines = vec![format!("{dc} rm -f -s {comp}")];
        if let Some(v) = &d.volume {
            lines.push(format!(
                "docker volume rm {}",
                sh(&volume_name(site, name, v))
            ));
        }
        lines.push(format!("{dc} up -d --wait {comp}"));
        if let (Some(roles), Some(pg)) = (d.roles_file(), &d.postgres) {
            // The roles owning the dump's objects first (a capture made
            // before regie captured roles has no roles file); the new
            // superuser's own `CREATE ROLE` fails harmlessly.
            let rpath = sh(&format!("/dumps/{roles}"));
            lines.push(format!(
                "restic dump latest --tag \"capture=$CAPTURE,part=dump\" --path {rpath} {rpath} \\\n  | {dc} exec -T {comp} psql --username={} --dbname=postgres",
                sh(&pg.user)
            ));
        }
        lines.push(format!(
            "restic dump latest --tag \"capture=$CAPTURE,part=dump\" --path {path} {path} \\\n  | {dc} exec -T {comp} {}",
            words(&d.restore_command())
        ));
        steps.push((fill_str(&l.st_db, &[("file", &d.file)]), lines));
    }
    steps.push((l.st_start.clone(), vec![format!("{dc} up -d --wait")]));
    if !b.after_restore.is_empty() {
        let lines = b.after_restore.iter().map(|e| exec_line(&dc, e)).collect();
        steps.push((l.st_after.clone(), lines));
    }
    steps.push((l.st_clean.clone(), vec![format!("rm -rf {}", sh(&tmp))]));
    steps
        .iter()
        .enumerate()
        .map(|(i, (comment, lines))| format!("# {}. {comment}\n{}", i + 1, lines.join("\n")))
        .collect::<Vec<_>>()
        .join("\n\n")
}

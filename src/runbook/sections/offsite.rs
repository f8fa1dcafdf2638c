//! The off-site copy (`backup.offsite`) in the run book: a row of the
//! backup policy and where the NAS's key is ("Backups"), listing and
//! restoring from the copy by hand ("Restoring"), and making the copy
//! without regie ("Running without regie"). Nothing here when the site has
//! no off-site copy.

use super::backups::keep;
use super::restore::example_capture;
use crate::backup::plan::{self as backup, Capture, OffsiteRepo, Repo};
use crate::runbook::document::{c, fill, sh, t, tx, Inline};
use crate::runbook::facts::{backup_path, on_hosts, script_path};
use crate::runbook::{commented, Ctx};

/// The NAS's repository directory (`<path>/<site>`), when backups go to one.
fn nas_base(cx: &Ctx) -> Option<String> {
    match Repo::of(cx.site)? {
        Repo::Sftp { base, .. } => Some(base),
        Repo::Local { .. } => None,
    }
}

/// The row "Off-site copy" of the backup policy.
pub(super) fn policy_row(cx: &Ctx) -> Option<Vec<Vec<Inline>>> {
    let o = OffsiteRepo::of(cx.site)?;
    let l = cx.l;
    Some(vec![
        tx(&l.p_offsite),
        fill(
            &l.offsite_value,
            &[
                ("host", c(&o.host)),
                ("address", c(&o.site_address)),
                ("dir", c(&o.base)),
                ("keep", t(keep(l, &o.keep))),
            ],
        ),
    ])
}

/// How the copy is made, with which key, and how to watch it.
pub(super) fn backup_paragraph(cx: &mut Ctx) {
    let (Some(o), Some(base)) = (OffsiteRepo::of(cx.site), nas_base(cx)) else {
        return;
    };
    let l = cx.l;
    cx.p(fill(
        &l.backup_offsite,
        &[
            ("host", c(&o.host)),
            ("copy", c(cx.regie("backup copy", ""))),
            ("name", c("backup.offsite_key")),
            ("file", c(format!("{base}/{}/key", backup::PUSH_DIR))),
            ("user", c(&o.user)),
            ("log", c(format!("{base}/{}", backup::COPY_LOG))),
            ("prune", c(cx.regie("backup prune", "--on offsite"))),
        ],
    ));
}

/// "From the off-site copy": where it is, with regie, with the host's
/// script, with restic from a host, and on the off-site server itself.
pub(super) fn restore(cx: &mut Ctx, hosts: &[(&str, Vec<Capture>)]) {
    let Some(o) = OffsiteRepo::of(cx.site) else {
        return;
    };
    let Some((_, first_caps)) = hosts.first() else {
        return;
    };
    let l = cx.l;
    let site = cx.site;
    cx.h(3, &l.h_offsite);
    cx.p(fill(
        &l.offsite_intro,
        &[
            ("host", c(&o.host)),
            ("address", c(&o.site_address)),
            ("dir", c(&o.base)),
        ],
    ));
    let svc = format!("--service {}", sh(example_capture(first_caps).name));
    let lines = vec![
        (
            cx.regie("backup list", "--from offsite"),
            l.offsite_regie_comments[0].as_str(),
        ),
        (
            cx.regie(
                "restore",
                &format!("{svc} --from offsite --no-safety-backup"),
            ),
            l.offsite_regie_comments[1].as_str(),
        ),
    ];
    cx.code("sh", commented(&lines));
    cx.p(tx(&l.offsite_script));
    let script_lines: Vec<String> = hosts
        .iter()
        .flat_map(|(h, caps)| {
            let script = sh(&script_path(site, h));
            let s = sh(example_capture(caps).name);
            [
                format!("# {h}"),
                format!("bash {script} --offsite snapshots {s}"),
                format!("bash {script} --offsite restore {s} latest --no-safety-backup"),
                format!("bash {script} --offsite restic snapshots"),
            ]
        })
        .collect();
    cx.code("sh", script_lines.join("\n"));
    cx.p(tx(&l.offsite_restic));
    for (h, _) in hosts {
        let ssh = format!(
            "ssh -i {} -o UserKnownHostsFile={} -p {} {}@{}",
            backup_path(site, h, "nas_key"),
            backup_path(site, h, "known_hosts"),
            o.site_port,
            o.user,
            o.site_address,
        );
        let env = [
            format!("# {h}"),
            format!("export RESTIC_REPOSITORY={}", sh(&format!("rclone:{h}"))),
            format!(
                "export RESTIC_PASSWORD_FILE={}",
                sh(&backup_path(site, h, "restic.password"))
            ),
            format!("# {}", l.offsite_rclone_comment),
            format!("OFFSITE={}", sh(&ssh)),
            "restic() { command restic -o rclone.program=\"$OFFSITE\" \"$@\"; }".into(),
            "restic snapshots".into(),
        ];
        cx.code("sh", env.join("\n"));
    }
    cx.p(fill(
        &l.offsite_on_server,
        &[("host", c(&o.host)), ("dir", c(format!("{}/HOST", o.base)))],
    ));
    cx.code(
        "sh",
        format!(
            "(umask 077; cat >~/restic.pw)   # {}\n\
             restic -r {} --password-file ~/restic.pw snapshots\n\
             restic -r {} --password-file ~/restic.pw restore ID --target /var/tmp/r",
            l.offsite_pw_comment,
            sh(&format!("{}/HOST", o.base)),
            sh(&format!("{}/HOST", o.base)),
        ),
    );
}

/// Without regie, nothing is copied off site any more: the copy by hand,
/// on the NAS.
pub(super) fn without_regie(cx: &mut Ctx, hosts: &[(&str, Vec<Capture>)]) {
    let (Some(o), Some(base)) = (OffsiteRepo::of(cx.site), nas_base(cx)) else {
        return;
    };
    let Some(Repo::Sftp { user, .. }) = Repo::of(cx.site) else {
        return;
    };
    let l = cx.l;
    cx.h(3, &l.h_offsite_without);
    cx.p(fill(
        &l.offsite_without,
        &[
            ("host", c(&o.host)),
            ("user", c(user)),
            (
                "password",
                c(on_hosts(
                    cx.site,
                    &format!("{}/restic.password", backup::DIR),
                )),
            ),
        ],
    ));
    let d = format!("{base}/{}", backup::PUSH_DIR);
    let prog = o.ssh_from_site(&format!("{d}/key"), &format!("{d}/known_hosts"));
    let names: Vec<&str> = hosts.iter().map(|(h, _)| *h).collect();
    cx.code(
        "sh",
        format!(
            "(umask 077; cat >~/restic.pw)   # {}\n\
             PW=~/restic.pw\n\
             for h in {}; do\n  \
             restic -r \"rclone:$h\" -o {} --password-file \"$PW\" \\\n    \
             copy --from-repo {}/\"$h\" --from-password-file \"$PW\"\n\
             done",
            l.offsite_pw_comment,
            names.join(" "),
            sh(&format!("rclone.program={prog}")),
            sh(&base),
        ),
    );
    cx.p(fill(
        &l.offsite_without_after,
        &[
            ("copied", c(format!("{d}/HOST.copied"))),
            ("dir", c(format!("{}/HOST", o.base))),
        ],
    ));
}

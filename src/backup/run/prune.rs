//! Retention from the trusted side (`regie backup prune`, also run by
//! `regie maintain`): regie logs in to the NAS, and to the off-site copy,
//! with its own access, which the hosts never hold, and runs restic there
//! on each host's repository. Also reads the retention records and
//! repository sizes for `backup status`, and checks that a server has the
//! tools append-only access needs.

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::backup::plan::{self as backup, NasRepo, OffsiteRepo, Repo, RetentionRecord};
use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::Keep;
use crate::site::inventory::Resolved;

/// The outcome of retention on one host's repository.
#[derive(Debug, Clone, Serialize)]
pub struct PruneOutcome {
    /// Where: `nas` or `offsite`.
    pub target: Target,
    pub host: String,
    pub ok: bool,
    pub record: Option<RetentionRecord>,
    pub error: Option<String>,
}

/// The repository password, from the site's secrets (retention and the
/// off-site copy run where the hosts' copy is not).
fn restic_password(site: &Resolved, identity: Option<&std::path::Path>) -> Result<String> {
    let (store, _) = crate::site::site_files::open_secrets(site, identity)?;
    password_in(&store)
}

pub(super) fn password_in(store: &crate::site::secrets::Store) -> Result<String> {
    let pw = store.get("backup.restic_password").ok_or_else(|| {
        anyhow!("no backup.restic_password in the secrets: run `regie deploy` first")
    })?;
    Ok(pw.expose().to_string())
}

/// Where retention runs from regie's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The NAS (`backup.to`).
    Nas,
    /// The off-site copy (`backup.offsite`).
    Offsite,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::Nas => "NAS",
            Target::Offsite => "off-site copy",
        }
    }
}

/// The inventory host, repository directory and policy of a target.
fn place(site: &Resolved, target: Target) -> Option<(String, String, Keep)> {
    match target {
        Target::Nas => match Repo::of(site)? {
            Repo::Sftp { nas, base, .. } => {
                Some((nas, base, site.inv.backup.as_ref()?.keep.clone()))
            }
            Repo::Local { .. } => None,
        },
        Target::Offsite => OffsiteRepo::of(site).map(|x| (x.host, x.base, x.keep)),
    }
}

/// `regie backup prune`: forget by the policy and prune, host by host (one
/// restic at a time), on the NAS or the off-site copy.
pub fn prune(
    site: &Resolved,
    o: &RunOptions,
    identity: Option<&std::path::Path>,
    host: Option<&str>,
    target: Target,
) -> Result<Vec<PruneOutcome>> {
    let Some((nas, base, keep)) = place(site, target) else {
        match target {
            Target::Nas => bail!("`regie backup prune` is for repositories on a NAS or server; with `backup.to: local` each host applies retention itself"),
            Target::Offsite => bail!("this site has no off-site copy (`backup.offsite` in the inventory)"),
        }
    };
    let mut targets = super::hosts(site);
    if let Some(h) = host {
        targets.retain(|(x, _)| x == h);
        if targets.is_empty() {
            bail!("host `{h}` has nothing to back up");
        }
    }
    let pw = restic_password(site, identity)?;
    let conn = connect(site, &nas, o).with_context(|| format!("{} `{nas}`", target.label()))?;
    let mut out = Vec::new();
    for (h, services) in targets {
        let script = backup::prune_script(&base, &h, &services, &keep);
        let res = conn.run(&script, format!("{pw}\n").as_bytes());
        out.push(match res {
            Ok(r) => {
                let text = String::from_utf8_lossy(&r.stdout);
                let record = backup::parse_nas_repos(&text).0.into_iter().next_back();
                let error = (!r.ok()).then(|| {
                    record
                        .as_ref()
                        .map(|x| x.error.clone())
                        .filter(|e| !e.is_empty())
                        .unwrap_or_else(|| r.stderr.trim().to_string())
                });
                PruneOutcome {
                    target,
                    host: h,
                    ok: r.ok(),
                    record,
                    error,
                }
            }
            Err(e) => PruneOutcome {
                target,
                host: h,
                ok: false,
                record: None,
                error: Some(format!("{e:#}")),
            },
        });
    }
    Ok(out)
}

/// What the NAS says about retention.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NasRetention {
    pub repos: Vec<NasRepo>,
    pub records: Vec<RetentionRecord>,
    pub warnings: Vec<String>,
}

/// The NAS's retention records and repositories, and the warnings they
/// give (append-only sites only; others apply retention on the hosts).
pub fn nas_retention(site: &Resolved, o: &RunOptions) -> Result<NasRetention> {
    if !Repo::of(site).is_some_and(|r| r.append_only()) {
        return Ok(NasRetention::default());
    }
    retention_at(site, o, Target::Nas)
}

/// The same on a target (none when the site has no such target).
pub fn retention_at(site: &Resolved, o: &RunOptions, target: Target) -> Result<NasRetention> {
    let Some((nas, _, _)) = place(site, target) else {
        return Ok(NasRetention::default());
    };
    let conn = connect(site, &nas, o).with_context(|| format!("{} `{nas}`", target.label()))?;
    retention_on(site, &conn, target)
}

/// The same over a connection already open to the target's server.
pub(super) fn retention_on(
    site: &Resolved,
    conn: &crate::remote::ssh::Conn,
    target: Target,
) -> Result<NasRetention> {
    let Some((_, base, _)) = place(site, target) else {
        return Ok(NasRetention::default());
    };
    let hosts: Vec<String> = super::hosts(site).into_iter().map(|(h, _)| h).collect();
    let r = conn.run(&backup::nas_repos_script(&base, &hosts), b"")?;
    if !r.ok() {
        bail!(
            "reading the repositories on the {}: {}",
            target.label(),
            r.stderr.trim()
        );
    }
    let (records, repos) = backup::parse_nas_repos(&String::from_utf8_lossy(&r.stdout));
    let now = crate::util::time::unix_now();
    let warnings = repos
        .iter()
        .flat_map(|x| backup::retention_warnings(x, &records, now))
        .map(|w| match target {
            Target::Nas => w,
            Target::Offsite => format!("off-site copy: {w}"),
        })
        .collect();
    Ok(NasRetention {
        repos,
        records,
        warnings,
    })
}

/// With append-only access a NAS (or the off-site server) needs rclone
/// (the forced command) and restic (retention); a word on what is missing.
pub(super) fn nas_tools_missing(
    site: &Resolved,
    o: &RunOptions,
    nas: &str,
) -> Result<Option<String>> {
    let conn = connect(site, nas, o).with_context(|| format!("`{nas}`"))?;
    let missing = tools_missing(&conn, &["rclone", "restic"])?;
    Ok((!missing.is_empty()).then(|| {
        format!(
            "{} not found on `{nas}`: append-only backups need rclone (the hosts' key runs `rclone serve restic --append-only`) and restic (retention); install them (see docs/backup.md), or set `backup.access: full`",
            missing.join(" and ")
        )
    }))
}

/// The commands of `tools` that are not on the PATH of the remote user.
pub(super) fn tools_missing(
    conn: &crate::remote::ssh::Conn,
    tools: &[&str],
) -> Result<Vec<String>> {
    let words: Vec<String> = tools.iter().map(|t| crate::util::shell::quote(t)).collect();
    let out = conn.run(
        &format!(
            "for t in {}; do command -v \"$t\" >/dev/null 2>&1 || echo \"$t\"; done",
            words.join(" ")
        ),
        b"",
    )?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect())
}

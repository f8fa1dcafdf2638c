//! Retention from the trusted side (`regie backup prune`, also run by
//! `regie maintain`): regie logs in to the NAS with its own access, which
//! the hosts never hold, and runs restic there on each host's repository.
//! Also reads the NAS's retention records and repository sizes for
//! `backup status`, and checks that the NAS has the tools append-only
//! access needs.

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::backup::plan::{self as backup, NasRepo, Repo, RetentionRecord};
use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::Resolved;

/// The outcome of retention on one host's repository.
#[derive(Debug, Clone, Serialize)]
pub struct PruneOutcome {
    pub host: String,
    pub ok: bool,
    pub record: Option<RetentionRecord>,
    pub error: Option<String>,
}

/// The repository password, from the site's secrets (retention runs where
/// the hosts' copy is not).
fn restic_password(site: &Resolved, identity: Option<&std::path::Path>) -> Result<String> {
    let key = crate::site::site_files::key_for(site, identity)?;
    let path = crate::site::site_files::secrets_path(site);
    let store = crate::site::secrets::Store::open(&path, &key)?;
    let pw = store.get("backup.restic_password").ok_or_else(|| {
        anyhow!("no backup.restic_password in the secrets: run `regie deploy` first")
    })?;
    Ok(pw.expose().to_string())
}

/// `regie backup prune`: forget by the site's policy and prune, host by
/// host (one restic at a time on the NAS).
pub fn prune(
    site: &Resolved,
    o: &RunOptions,
    identity: Option<&std::path::Path>,
    host: Option<&str>,
) -> Result<Vec<PruneOutcome>> {
    let Some(Repo::Sftp { nas, base, .. }) = Repo::of(site) else {
        bail!("`regie backup prune` is for repositories on a NAS or server; with `backup.to: local` each host applies retention itself");
    };
    let policy = site
        .inv
        .backup
        .as_ref()
        .expect("a repository implies a policy");
    let mut targets = super::hosts(site);
    if let Some(h) = host {
        targets.retain(|(x, _)| x == h);
        if targets.is_empty() {
            bail!("host `{h}` has nothing to back up");
        }
    }
    let pw = restic_password(site, identity)?;
    let conn = connect(site, &nas, o).with_context(|| format!("NAS `{nas}`"))?;
    let mut out = Vec::new();
    for (h, services) in targets {
        let script = backup::prune_script(&base, &h, &services, &policy.keep);
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
                    host: h,
                    ok: r.ok(),
                    record,
                    error,
                }
            }
            Err(e) => PruneOutcome {
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
    let repo = Repo::of(site);
    let Some(Repo::Sftp { nas, base, .. }) = repo.as_ref().filter(|r| r.append_only()) else {
        return Ok(NasRetention::default());
    };
    let hosts: Vec<String> = super::hosts(site).into_iter().map(|(h, _)| h).collect();
    let conn = connect(site, nas, o).with_context(|| format!("NAS `{nas}`"))?;
    let r = conn.run(&backup::nas_repos_script(base, &hosts), b"")?;
    if !r.ok() {
        bail!("reading the repositories on the NAS: {}", r.stderr.trim());
    }
    let (records, repos) = backup::parse_nas_repos(&String::from_utf8_lossy(&r.stdout));
    let now = crate::util::time::unix_now();
    let warnings = repos
        .iter()
        .flat_map(|x| backup::retention_warnings(x, &records, now))
        .collect();
    Ok(NasRetention {
        repos,
        records,
        warnings,
    })
}

/// With append-only access the NAS needs rclone (the hosts' forced
/// command) and restic (retention); a word on what is missing.
pub(super) fn nas_tools_missing(
    site: &Resolved,
    o: &RunOptions,
    nas: &str,
) -> Result<Option<String>> {
    let conn = connect(site, nas, o).with_context(|| format!("NAS `{nas}`"))?;
    let out = conn.run(
        "for t in rclone restic; do command -v \"$t\" >/dev/null 2>&1 || echo \"$t\"; done",
        b"",
    )?;
    let missing: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    Ok((!missing.is_empty()).then(|| {
        format!(
            "{} not found on the NAS: append-only backups need rclone (the hosts' key runs `rclone serve restic --append-only`) and restic (retention); install them (see docs/backup.md), or set `backup.access: full`",
            missing.join(" and ")
        )
    }))
}

//! The backup work `regie maintain` does from the trusted side, in its
//! window: retention on the NAS and on the off-site copy when a week has
//! passed, and the daily off-site copy. Each failure becomes a problem of
//! the site's report; nothing here stops the rest of the run.

use crate::backup::plan::{self as backup, OffsiteRepo, Repo};
use crate::backup::run::{self as br, Target};
use crate::site::inventory::Resolved;

use super::{Options, SiteReport};

/// Copy off site first (new captures leave the building as soon as
/// possible), then retention where due.
pub(super) fn in_window(site: &Resolved, o: &Options, r: &mut SiteReport) {
    copy_if_due(site, o, r);
    if Repo::of(site).is_some_and(|x| x.append_only()) {
        prune_if_due(site, o, r, Target::Nas);
    }
    if OffsiteRepo::of(site).is_some() {
        prune_if_due(site, o, r, Target::Offsite);
    }
}

/// Retention from regie's side when a repository's last run is a week old
/// or more.
fn prune_if_due(site: &Resolved, o: &Options, r: &mut SiteReport, target: Target) {
    let now = crate::util::time::unix_now();
    let what = format!("retention on the {}", target.label());
    match br::retention_at(site, &o.run, target) {
        Ok(n) if backup::prune_due(&n.repos, &n.records, now) => {
            match br::prune(site, &o.run, o.identity.as_deref(), None, target) {
                Ok(out) => {
                    for p in out.iter().filter(|p| !p.ok) {
                        r.problems.push(format!(
                            "{}: {what} failed: {}",
                            p.host,
                            p.error.as_deref().unwrap_or("no result")
                        ));
                    }
                    r.retention.extend(out);
                }
                Err(e) => r.problems.push(format!("{what}: {e:#}")),
            }
        }
        Ok(_) => {}
        Err(e) => r.problems.push(format!("{what}: {e:#}")),
    }
}

/// The off-site copy when a host's last successful one is older than
/// [`backup::COPY_EVERY_HOURS`].
fn copy_if_due(site: &Resolved, o: &Options, r: &mut SiteReport) {
    let Some(Repo::Sftp { nas, base, .. }) = Repo::of(site) else {
        return;
    };
    if OffsiteRepo::of(site).is_none() {
        return;
    }
    let hosts: Vec<String> = br::hosts(site).into_iter().map(|(h, _)| h).collect();
    let now = crate::util::time::unix_now();
    let records = crate::remote::connect::connect(site, &nas, &o.run).and_then(|c| {
        let out = c.run(&backup::copy_log_script(&base), b"")?;
        Ok(backup::parse_copy_log(&String::from_utf8_lossy(
            &out.stdout,
        )))
    });
    match records {
        Ok(recs) if backup::copy_due(&recs, &hosts, now) => {
            match br::copy_secrets(site, o.identity.as_deref())
                .and_then(|s| br::copy(site, &o.run, &s, None))
            {
                Ok(out) => {
                    for c in out.iter().filter(|c| !c.ok) {
                        r.problems.push(format!(
                            "{}: the off-site copy failed: {}",
                            c.host,
                            c.error.as_deref().unwrap_or("no result")
                        ));
                    }
                    r.offsite_copies = out;
                }
                Err(e) => r.problems.push(format!("off-site copy: {e:#}")),
            }
        }
        Ok(_) => {}
        Err(e) => r
            .problems
            .push(format!("off-site copy: NAS `{nas}`: {e:#}")),
    }
}

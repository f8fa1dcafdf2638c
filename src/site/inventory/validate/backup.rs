//! The `backup` section: target host, repository directory, time,
//! retention, the hosts' access and the services backed up; a warning
//! when there is none.

use crate::site::diag::Show;
use std::collections::BTreeMap;

use super::err;
use super::hosts::{host_candidates, hosts_list};
use crate::site::diag::{did_you_mean, Diagnostic};
use crate::site::inventory::syntax::{is_abs_path, is_hhmm, is_image_ref};
use crate::site::inventory::{BackupAccess, BackupPolicy, Inventory, Offsite, Placed, Role};

pub(super) fn check(
    inv: &Inventory,
    placement: &BTreeMap<String, Vec<Placed>>,
    diags: &mut Vec<Diagnostic>,
) {
    if let Some(b) = &inv.backup {
        if b.to != "local" {
            match inv.hosts.get(&b.to) {
                None => diags.push(
                    err("backup.to", format!("unknown host `{}`", b.to.shown()))
                        .expected(format!("`local` or one of {}", hosts_list(inv)))
                        .hint(did_you_mean(&b.to, host_candidates(inv))),
                ),
                Some(h) if h.role == Role::Sbc => diags.push(
                    err(
                        "backup.to",
                        format!("`{}` is a single-board computer, not a backup target", b.to),
                    )
                    .expected("a host with role nas or server"),
                ),
                Some(h) => {
                    if h.role == Role::Nas && h.path.is_none() && b.path.is_none() {
                        diags.push(
                            err(
                                "backup.to",
                                format!("no repository directory for NAS `{}`", b.to),
                            )
                            .expected(format!("hosts.{}.path or backup.path", b.to)),
                        );
                    }
                    if placement.contains_key(&b.to) {
                        diags.push(Diagnostic::warning(
                            "backup.to",
                            format!("backups go to `{}`, which also runs services: a disk loss there loses both", b.to),
                        ));
                    }
                }
            }
        }
        if b.to == "local" && b.access == Some(BackupAccess::AppendOnly) {
            diags.push(
                err(
                    "backup.access",
                    "`append-only` needs a NAS or server: with `to: local` each host holds its own repository",
                )
                .expected("`backup.to` naming a NAS or server, or no `access`"),
            );
        }
        if let Some(path) = &b.path {
            if !is_abs_path(path) {
                diags.push(
                    err(
                        "backup.path",
                        format!("invalid directory `{}`", path.shown()),
                    )
                    .expected("an absolute path"),
                );
            }
        }
        if !is_hhmm(&b.at) {
            diags.push(
                err("backup.at", format!("invalid time `{}`", b.at.shown()))
                    .expected("HH:MM, e.g. 02:30"),
            );
        }
        if let Some(image) = b.image.as_ref().filter(|i| !is_image_ref(i)) {
            diags.push(
                err(
                    "backup.image",
                    format!("invalid image reference `{}`", image.shown()),
                )
                .expected("an image reference such as restic/restic:0.19.1"),
            );
        } else if let Some(image) = &b.image {
            if let Some(d) = broken_restic(image) {
                diags.push(d);
            }
        }
        if b.keep.last + b.keep.daily + b.keep.weekly + b.keep.monthly == 0 {
            diags.push(
                err("backup.keep", "retention keeps nothing")
                    .expected("at least one of last, daily, weekly, monthly above 0"),
            );
        }
        if let Some(o) = &b.offsite {
            check_offsite(inv, placement, b, o, diags);
        }
        if let Some(list) = &b.services {
            for (i, s) in list.iter().enumerate() {
                if !inv.services.contains_key(s) {
                    diags.push(
                        err(
                            format!("backup.services[{i}]"),
                            format!("service `{s}` is not placed on any host"),
                        )
                        .expected(format!(
                            "one of {}",
                            inv.services.keys().cloned().collect::<Vec<_>>().join(", ")
                        ))
                        .hint(did_you_mean(s, inv.services.keys().map(String::as_str))),
                    );
                }
            }
        }
    } else if !inv.services.is_empty() {
        diags.push(Diagnostic::warning(
            "backup",
            "no backup policy: this site's data is not backed up",
        ));
    }
}

/// `backup.offsite`: another host than the NAS, reachable over SSH, with
/// its own directory and retention.
fn check_offsite(
    inv: &Inventory,
    placement: &BTreeMap<String, Vec<Placed>>,
    b: &BackupPolicy,
    o: &Offsite,
    diags: &mut Vec<Diagnostic>,
) {
    if b.to == "local" {
        diags.push(
            err(
                "backup.offsite",
                "an off-site copy is made from the NAS: with `to: local` there is none",
            )
            .expected("`backup.to` naming a NAS or server"),
        );
    }
    match inv.hosts.get(&o.to) {
        None => diags.push(
            err(
                "backup.offsite.to",
                format!("unknown host `{}`", o.to.shown()),
            )
            .expected(format!("one of {}", hosts_list(inv)))
            .hint(did_you_mean(&o.to, host_candidates(inv))),
        ),
        Some(_) if o.to == b.to => diags.push(
            err(
                "backup.offsite.to",
                format!("`{}` already holds the backups (`backup.to`): an off-site copy must be on another machine, in another building", o.to.shown()),
            )
            .expected("another host of the inventory"),
        ),
        Some(h) if h.role == Role::Sbc => diags.push(
            err(
                "backup.offsite.to",
                format!("`{}` is a single-board computer, not a backup target", o.to),
            )
            .expected("a host with role nas or server"),
        ),
        Some(h) => {
            if h.role == Role::Nas && h.path.is_none() && o.path.is_none() {
                diags.push(
                    err(
                        "backup.offsite.to",
                        format!("no repository directory for `{}`", o.to),
                    )
                    .expected(format!("hosts.{}.path or backup.offsite.path", o.to)),
                );
            }
            if placement.contains_key(&o.to) {
                diags.push(Diagnostic::warning(
                    "backup.offsite.to",
                    format!("the off-site copy goes to `{}`, which also runs this site's services: make sure it is in another building", o.to),
                ));
            }
        }
    }
    if let Some(path) = o.path.as_ref().filter(|p| !is_abs_path(p)) {
        diags.push(
            err(
                "backup.offsite.path",
                format!("invalid directory `{}`", path.shown()),
            )
            .expected("an absolute path"),
        );
    }
    if let Some(a) = &o.address_from_site {
        if crate::site::inventory::syntax::parse_host_port(a).is_none() {
            diags.push(
                err(
                    "backup.offsite.address_from_site",
                    format!("invalid address `{}`", a.shown()),
                )
                .expected("a host name or IP address, with `:PORT` if not 22"),
            );
        }
    }
    if let Some(k) = &o.keep {
        if k.last + k.daily + k.weekly + k.monthly == 0 {
            diags.push(
                err("backup.offsite.keep", "retention keeps nothing")
                    .expected("at least one of last, daily, weekly, monthly above 0"),
            );
        }
    }
}

/// restic 0.18.0 refuses `backup --stdin-filename dumps/FILE` ("open
/// /dumps: no such file or directory", restic issue #5324, fixed in
/// 0.18.1): every database dump of every capture would fail. Seen here
/// with Debian trixie's restic 0.18.0.
fn broken_restic(image: &str) -> Option<Diagnostic> {
    let tag = crate::site::image::image_tag(image)?;
    let version = tag.strip_prefix('v').unwrap_or(tag);
    (version == "0.18.0").then(|| {
        err(
            "backup.image",
            format!(
                "restic {} cannot store database dumps (restic issue #5324: `--stdin-filename` with a directory fails)",
                version.shown()
            ),
        )
        .expected("restic 0.18.1 or newer, or 0.17.3 or older")
    })
}

#[cfg(test)]
mod tests {
    use super::broken_restic;

    #[test]
    fn restic_0_18_0_is_refused_and_its_neighbours_are_not() {
        for bad in ["restic/restic:0.18.0", "mirror:5000/restic:v0.18.0"] {
            let d = broken_restic(bad).expect(bad);
            assert!(d.to_string().contains("#5324"), "{d}");
        }
        for ok in [
            "restic/restic:0.18.1",
            "restic/restic:0.19.1",
            "restic/restic:0.17.3",
            "restic/restic",
            "restic/restic@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(broken_restic(ok).is_none(), "{ok}");
        }
    }
}

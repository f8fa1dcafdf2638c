//! Where the backups go and what they hold: the restic image, the site's
//! repository (SFTP to a NAS or server, or a local directory, one per
//! host) and the services captured on each host.

use crate::site::catalog::Descriptor;
use crate::site::inventory::{BackupAccess, Host, Resolved, Role};

/// restic's own image; `backup.image` overrides it.
pub const DEFAULT_IMAGE: &str = "restic/restic:0.19.1";

/// The restic image the site's hosts run.
pub fn restic_image(site: &Resolved) -> String {
    site.inv
        .backup
        .as_ref()
        .and_then(|b| b.image.clone())
        .unwrap_or_else(|| DEFAULT_IMAGE.to_string())
}

/// Where a site's repositories are (one per host, `<base>/<host>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repo {
    /// On a NAS or server over SFTP.
    Sftp {
        nas: String,
        user: String,
        address: String,
        port: u16,
        /// `<path>/<site>`
        base: String,
        /// The hosts' key may only append (rclone's restic server, forced
        /// by the NAS); retention runs from the operator's side.
        append_only: bool,
    },
    /// A directory on each host (`<path>/<site>`).
    Local { base: String },
}

impl Repo {
    pub fn of(site: &Resolved) -> Option<Repo> {
        let b = site.inv.backup.as_ref()?;
        let name = &site.inv.site.name;
        if b.to == "local" {
            return Some(Repo::Local {
                base: format!(
                    "{}/{name}",
                    b.path
                        .clone()
                        .unwrap_or_else(|| "/var/backups/regie".into())
                ),
            });
        }
        let h = site.inv.hosts.get(&b.to)?;
        let path = repo_dir(b.path.as_deref(), h);
        Some(Repo::Sftp {
            nas: b.to.clone(),
            user: h.ssh.user.clone().unwrap_or_else(|| "root".into()),
            address: h.address.clone(),
            port: h.ssh.port.unwrap_or(22),
            base: format!("{path}/{name}"),
            append_only: b.access.unwrap_or(BackupAccess::AppendOnly) == BackupAccess::AppendOnly,
        })
    }

    /// The repository of one host, as plain restic names it with full
    /// access (SFTP, or on the NAS itself: `<base>/<host>`).
    pub fn url(&self, host: &str) -> String {
        match self {
            Repo::Sftp {
                user,
                address,
                base,
                ..
            } => format!("sftp:{user}@{address}:{base}/{host}"),
            Repo::Local { base } => format!("{base}/{host}"),
        }
    }

    /// True when the hosts may only append (an SFTP target with
    /// `backup.access: append-only`, the default).
    pub fn append_only(&self) -> bool {
        matches!(
            self,
            Repo::Sftp {
                append_only: true,
                ..
            }
        )
    }
}

/// The directory holding a site's repositories on a NAS or server: the
/// one the backup policy names, else the host's `path`, else `/backups`
/// on a NAS and `<base_dir>/backups` on a server.
pub(super) fn repo_dir(explicit: Option<&str>, h: &Host) -> String {
    explicit
        .map(String::from)
        .or_else(|| h.path.clone())
        .unwrap_or_else(|| {
            if h.role == Role::Nas {
                "/backups".into()
            } else {
                format!("{}/backups", h.base_dir)
            }
        })
}

/// One service's capture, as the script sees it.
#[derive(Debug, Clone)]
pub struct Capture<'a> {
    pub name: &'a str,
    pub project: String,
    pub desc: &'a Descriptor,
}

/// Services backed up on `host`: those placed there, limited by
/// `backup.services`, that have something to capture.
pub fn captures<'a>(site: &'a Resolved, host: &str) -> Vec<Capture<'a>> {
    let Some(b) = &site.inv.backup else {
        return Vec::new();
    };
    let Some(placed) = site.placement.get(host) else {
        return Vec::new();
    };
    placed
        .iter()
        // The proxy's data (certificates) is always kept.
        .filter(|p| p.name == "proxy" || b.services.as_ref().is_none_or(|l| l.contains(&p.name)))
        .filter_map(|p| {
            let d = site.catalog.stacks.get(&p.name)?;
            let bk = &d.backup;
            if bk.volumes.is_empty() && bk.dumps.is_empty() {
                return None;
            }
            Some(Capture {
                name: &p.name,
                project: format!("{}-{}", site.inv.site.name, p.name),
                desc: d,
            })
        })
        .collect()
}

//! OS package updates of the hosts (Debian/Ubuntu): pending packages,
//! security first, whether a reboot is required, and unattended security
//! upgrades.
//!
//! Commands are data: [`report_script`] is a POSIX sh script printing
//! `key=value` lines that [`parse_report`] reads; [`unattended_script`]
//! installs and configures unattended-upgrades. Everything here is pure;
//! [`crate::osupdate::run`] reads the hosts.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::site::inventory::{Resolved, Role};

/// APT configuration file regie writes: daily list refresh and unattended
/// upgrade (the file Debian's and Ubuntu's own tools use for this).
pub const AUTO_UPGRADES: &str = "/etc/apt/apt.conf.d/20auto-upgrades";
/// regie's drop-in: security origins only, no automatic reboot. Sorts after
/// the package's own 50unattended-upgrades, whose origin lists it replaces.
pub const DROP_IN: &str = "/etc/apt/apt.conf.d/52regie-unattended-upgrades";

/// Package lists older than this make the report say so.
const STALE_LISTS_SECONDS: u64 = 7 * 24 * 3600;

/// Shell lines printing whether unattended-upgrades is installed
/// (`uu_installed=yes|no`) and the APT::Periodic values that run it
/// (`uu_periodic=`, `uu_lists=`). Shared with `regie bootstrap`'s facts.
pub fn unattended_probe() -> &'static str {
    r#"if dpkg-query -W -f='${Status}\n' unattended-upgrades 2>/dev/null | grep -q ' installed$'; then echo uu_installed=yes; else echo uu_installed=no; fi
apt-config dump 2>/dev/null | sed -n -e 's/^APT::Periodic::Unattended-Upgrade "\(.*\)";$/uu_periodic=\1/p' -e 's/^APT::Periodic::Update-Package-Lists "\(.*\)";$/uu_lists=\1/p'
"#
}

/// The script printing the host's report. With `refresh`, the package lists
/// are updated first (`apt-get update`, which needs root: `ssh.sudo`).
pub fn report_script(refresh: bool) -> String {
    let mut s = String::from(
        r#"LC_ALL=C; export LC_ALL
. /etc/os-release 2>/dev/null
echo "os_id=${ID:-}"
echo "os_version=${VERSION_ID:-}"
echo "os_name=${PRETTY_NAME:-}"
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  echo apt=no
  exit 0
fi
echo apt=yes
"#,
    );
    if refresh {
        s.push_str(
            r#"if [ "$(id -u)" != 0 ]; then
  echo "refresh_error=apt-get update needs root: log in as root or set ssh.sudo"
elif out=$(DEBIAN_FRONTEND=noninteractive apt-get update -q 2>&1); then
  echo refresh=ok
else
  printf '%s\n' "$out" | grep -E '^(E|W):' | tail -n 5 | sed 's/^/refresh_error=/'
  echo "refresh_error=apt-get update failed"
fi
"#,
        );
    }
    s.push_str(
        r#"sim=$(apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
  echo "sim_status=$rc"
  printf '%s\n' "$sim" | grep -E '^(E|W):' | tail -n 5 | sed 's/^/sim_error=/'
fi
printf '%s\n' "$sim" | sed -n -e 's/^Inst /inst=/p' -e 's/^Remv /remv=/p'
if [ -e /var/run/reboot-required ]; then echo reboot=yes; else echo reboot=no; fi
if [ -r /var/run/reboot-required.pkgs ]; then sed 's/^/reboot_pkg=/' /var/run/reboot-required.pkgs; fi
"#,
    );
    s.push_str(unattended_probe());
    s.push_str(
        r#"echo "now=$(date +%s)"
m=0
for f in /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists/*Release /var/lib/apt/lists/*_Packages*; do
  [ -e "$f" ] || continue
  t=$(stat -L -c %Y "$f" 2>/dev/null) || continue
  if [ "$t" -gt "$m" ]; then m=$t; fi
done
echo "lists_mtime=$m"
exit 0
"#,
    );
    s
}

/// Content of `20auto-upgrades`.
const AUTO_UPGRADES_TEXT: &str = r#"// Managed by regie (regie bootstrap --install): rewritten by regie, do not edit.
// Every day: refresh the package lists, then let unattended-upgrade install
// the updates allowed by /etc/apt/apt.conf.d/52regie-unattended-upgrades.
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
"#;

/// Content of regie's drop-in: security origins only, no automatic reboot.
const DROP_IN_TEXT: &str = r#"// Managed by regie (regie bootstrap --install): rewritten by regie, do not edit.
// Unattended upgrades install security updates only. Other updates are
// listed by `regie update os` and installed by a sysadmin.
#clear Unattended-Upgrade::Origins-Pattern;
#clear Unattended-Upgrade::Allowed-Origins;
Unattended-Upgrade::Origins-Pattern {
        // Debian: the security archive.
        "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";
        "origin=Debian,codename=${distro_codename},label=Debian-Security";
};
Unattended-Upgrade::Allowed-Origins {
        // Ubuntu: the security pocket (and Ubuntu Pro's, when attached).
        "${distro_id}:${distro_codename}-security";
        "${distro_id}ESMApps:${distro_codename}-apps-security";
        "${distro_id}ESM:${distro_codename}-infra-security";
};
// No automatic reboot: a sysadmin decides when (`regie update os` says
// when one is needed). To let the host reboot by itself, do not edit this
// file: write /etc/apt/apt.conf.d/53local-reboot with
//   Unattended-Upgrade::Automatic-Reboot "true";
//   Unattended-Upgrade::Automatic-Reboot-Time "04:00";
Unattended-Upgrade::Automatic-Reboot "false";
"#;

/// Install unattended-upgrades (when missing) and configure it: daily
/// security upgrades, no automatic reboot. Idempotent; prints one line per
/// change. Exit 2 on a host without apt.
pub fn unattended_script() -> String {
    let mut s = String::from(
        r#"set -eu
export DEBIAN_FRONTEND=noninteractive
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get: unattended upgrades are configured on Debian and Ubuntu only" >&2
  exit 2
fi
if ! dpkg-query -W -f='${Status}\n' unattended-upgrades 2>/dev/null | grep -q ' installed$'; then
  apt-get update -q >/dev/null
  apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold unattended-upgrades >/dev/null
  echo "installed unattended-upgrades"
fi
put() {
  cat >"$1.regie-new"
  chmod 0644 "$1.regie-new"
  if cmp -s "$1.regie-new" "$1"; then
    rm -f "$1.regie-new"
  else
    mv "$1.regie-new" "$1"
    echo "wrote $1"
  fi
}
"#,
    );
    for (path, text) in [(AUTO_UPGRADES, AUTO_UPGRADES_TEXT), (DROP_IN, DROP_IN_TEXT)] {
        s.push_str(&format!(
            "put {} <<'REGIE_EOF'\n{text}REGIE_EOF\n",
            crate::util::shell::quote(path)
        ));
    }
    s.push_str(
        r#"if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl enable --now apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true
fi
v=$(apt-config dump 2>/dev/null | sed -n 's/^APT::Periodic::Unattended-Upgrade "\(.*\)";$/\1/p' | tail -n 1)
if [ -z "$v" ] || [ "$v" = 0 ]; then
  echo "APT::Periodic::Unattended-Upgrade is still off: another file under /etc/apt/apt.conf.d overrides regie's" >&2
  exit 1
fi
"#,
    );
    s
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OsInfo {
    pub id: String,
    pub version: String,
    pub name: String,
}

/// One package an upgrade would install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub name: String,
    /// Installed version; None for a package the upgrade adds (a new
    /// kernel, a new dependency).
    pub current: Option<String>,
    pub candidate: String,
    /// Where the candidate comes from, as APT says it:
    /// `Label:Version/Suite`, several separated by `, `.
    pub origin: String,
    pub security: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OsReport {
    pub os: OsInfo,
    /// false on a host without apt (not Debian/Ubuntu): nothing is checked.
    pub supported: bool,
    /// Security first, then by name.
    pub packages: Vec<Pending>,
    pub security_count: usize,
    pub other_count: usize,
    /// Packages the upgrade would remove.
    pub removals: Vec<String>,
    pub reboot_required: bool,
    /// The packages that asked for the reboot.
    pub reboot_packages: Vec<String>,
    /// unattended-upgrades installed and run by APT::Periodic.
    pub unattended: bool,
    pub unattended_installed: bool,
    /// Age of the package lists (None: never updated).
    pub lists_age_seconds: Option<u64>,
    /// The lists were refreshed (`--refresh`) for this report.
    pub refreshed: bool,
    /// The lists refresh or the upgrade simulation failed.
    pub errors: Vec<String>,
}

impl OsReport {
    /// Updates are pending or a reboot is needed.
    pub fn pending(&self) -> bool {
        !self.packages.is_empty() || self.reboot_required
    }
}

/// An APT::Periodic value turns the job on ("1", "always", a number of days).
pub fn periodic_on(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty() && v != "0" && v != "false"
}

/// Whether an origin, as APT prints it, is a security archive.
fn is_security(origin: &str) -> bool {
    origin.split(", ").any(|o| {
        let o = o.trim();
        o.contains("-security") || o.starts_with("Debian-Security:")
    })
}

/// Parse the part of an `Inst` line after `Inst `:
/// `NAME [CURRENT] (NEW ORIGIN, ORIGIN [ARCH])`.
pub fn parse_inst(line: &str) -> Option<Pending> {
    let line = line.trim();
    let (name, rest) = line.split_once(' ')?;
    let mut rest = rest.trim_start();
    let mut current = None;
    if let Some(r) = rest.strip_prefix('[') {
        let (cur, r) = r.split_once(']')?;
        current = Some(cur.to_string());
        rest = r.trim_start();
    }
    let inner = rest.strip_prefix('(')?;
    let inner = &inner[..inner.find(')')?];
    let (candidate, origin) = match inner.split_once(' ') {
        Some((c, o)) => (c, o.trim()),
        None => (inner, ""),
    };
    // Drop the trailing ` [ARCH]`.
    let origin = match origin.rfind(" [") {
        Some(i) if origin.ends_with(']') => &origin[..i],
        _ => origin,
    };
    Some(Pending {
        name: name.to_string(),
        current,
        candidate: candidate.to_string(),
        origin: origin.to_string(),
        security: is_security(origin),
    })
}

/// Read the output of [`report_script`].
pub fn parse_report(out: &str) -> OsReport {
    let mut r = OsReport::default();
    let mut now = None;
    let mut mtime = None;
    let mut periodic = String::new();
    let mut reboot_pkgs = BTreeSet::new();
    let mut sim_status = None;
    let mut sim_errors = Vec::new();
    let mut refresh_errors = Vec::new();
    for line in out.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k {
            "os_id" => r.os.id = v.trim().into(),
            "os_version" => r.os.version = v.trim().into(),
            "os_name" => r.os.name = v.trim().into(),
            "apt" => r.supported = v.trim() == "yes",
            "refresh" => r.refreshed = v.trim() == "ok",
            "refresh_error" => refresh_errors.push(v.trim().to_string()),
            "sim_status" => sim_status = Some(v.trim().to_string()),
            "sim_error" => sim_errors.push(v.trim().to_string()),
            "inst" => r.packages.extend(parse_inst(v)),
            "remv" => {
                if let Some(n) = v.split_whitespace().next() {
                    r.removals.push(n.to_string());
                }
            }
            "reboot" => r.reboot_required = v.trim() == "yes",
            "reboot_pkg" if !v.trim().is_empty() => {
                reboot_pkgs.insert(v.trim().to_string());
            }
            "uu_installed" => r.unattended_installed = v.trim() == "yes",
            // apt-config dump prints the last value set: keep the last.
            "uu_periodic" => periodic = v.to_string(),
            "now" => now = v.trim().parse::<u64>().ok(),
            "lists_mtime" => mtime = v.trim().parse::<u64>().ok().filter(|m| *m > 0),
            _ => {}
        }
    }
    if !refresh_errors.is_empty() {
        r.errors.push(format!(
            "refreshing the package lists: {}",
            refresh_errors.join("; ")
        ));
    }
    if let Some(st) = sim_status {
        let detail = if sim_errors.is_empty() {
            String::new()
        } else {
            format!(": {}", sim_errors.join("; "))
        };
        r.errors
            .push(format!("apt-get -s dist-upgrade exited with {st}{detail}"));
    }
    r.unattended = r.unattended_installed && periodic_on(&periodic);
    r.reboot_packages = reboot_pkgs.into_iter().collect();
    r.lists_age_seconds = match (now, mtime) {
        (Some(n), Some(m)) => Some(n.saturating_sub(m)),
        _ => None,
    };
    r.packages
        .sort_by(|a, b| b.security.cmp(&a.security).then(a.name.cmp(&b.name)));
    r.packages.dedup_by(|a, b| a.name == b.name);
    r.security_count = r.packages.iter().filter(|p| p.security).count();
    r.other_count = r.packages.len() - r.security_count;
    r
}

/// The report of one host, or why there is none.
#[derive(Debug, Clone, Serialize)]
pub struct HostOs {
    pub host: String,
    pub report: Option<OsReport>,
    pub error: Option<String>,
}

impl HostOs {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.report.as_ref().is_some_and(|r| !r.errors.is_empty())
    }
}

/// The hosts `regie update os` checks: every host but the NAS, or `host`.
pub fn hosts(site: &Resolved, host: Option<&str>) -> Result<Vec<String>> {
    match host {
        Some(h) => match site.inv.hosts.get(h) {
            None => bail!("no host `{h}` in {}", site.file.display()),
            Some(x) if x.role == Role::Nas => {
                bail!("`{h}` is the NAS: regie does not manage its packages")
            }
            Some(_) => Ok(vec![h.to_string()]),
        },
        None => Ok(site
            .inv
            .hosts
            .iter()
            .filter(|(_, x)| x.role != Role::Nas)
            .map(|(n, _)| n.clone())
            .collect()),
    }
}

fn age(secs: u64) -> String {
    match secs {
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn table(rows: &[Vec<String>], indent: &str) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                line.push_str(&format!("{c:<w$}  ", w = widths[i]));
            } else {
                line.push_str(c);
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// The text output: a summary line per host, then each host's packages.
pub fn text(reports: &[HostOs]) -> String {
    let mut rows = vec![[
        "HOST",
        "SECURITY",
        "OTHER",
        "REBOOT",
        "UNATTENDED",
        "LISTS",
        "OS",
    ]
    .map(String::from)
    .to_vec()];
    for h in reports {
        let row = match (&h.report, &h.error) {
            (_, Some(_)) => vec![h.host.clone(), "error".into()],
            (Some(r), None) if !r.supported => vec![
                h.host.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("{} (no apt: not checked)", r.os.name),
            ],
            (Some(r), None) => vec![
                h.host.clone(),
                r.security_count.to_string(),
                r.other_count.to_string(),
                if r.reboot_required { "yes" } else { "no" }.into(),
                if r.unattended { "on" } else { "off" }.into(),
                r.lists_age_seconds.map_or("never".into(), age),
                r.os.name.clone(),
            ],
            (None, None) => vec![h.host.clone()],
        };
        rows.push(row);
    }
    let mut s = table(&rows, "");
    for h in reports {
        let Some(r) = &h.report else { continue };
        if !r.supported {
            continue;
        }
        let mut notes = Vec::new();
        if r.reboot_required {
            notes.push(if r.reboot_packages.is_empty() {
                "reboot required".to_string()
            } else {
                format!("reboot required by {}", r.reboot_packages.join(", "))
            });
        }
        if !r.unattended {
            notes.push(if r.unattended_installed {
                "unattended upgrades installed but off (regie bootstrap --install turns them on)"
                    .to_string()
            } else {
                "unattended upgrades not installed (regie bootstrap --install)".to_string()
            });
        }
        match r.lists_age_seconds {
            None => notes.push("the package lists were never updated: use --refresh".into()),
            Some(a) if a > STALE_LISTS_SECONDS && !r.refreshed => notes.push(format!(
                "the package lists are {} old: use --refresh for a current list",
                age(a)
            )),
            _ => {}
        }
        if !r.removals.is_empty() {
            notes.push(format!(
                "the upgrade would remove {}",
                r.removals.join(", ")
            ));
        }
        if r.packages.is_empty() && notes.is_empty() {
            continue;
        }
        s.push_str(&format!("\n{}:\n", h.host));
        let rows: Vec<Vec<String>> = r
            .packages
            .iter()
            .map(|p| {
                vec![
                    if p.security { "security" } else { "other" }.into(),
                    p.name.clone(),
                    format!(
                        "{} -> {}",
                        p.current.as_deref().unwrap_or("(new)"),
                        p.candidate
                    ),
                    p.origin.clone(),
                ]
            })
            .collect();
        s.push_str(&table(&rows, "  "));
        for n in notes {
            s.push_str(&format!("  note: {n}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the report script prints on a Debian 12 host with a stale
    /// security update pending, a point release and a new kernel.
    const DEBIAN12: &str = "os_id=debian\n\
os_version=12\n\
os_name=Debian GNU/Linux 12 (bookworm)\n\
apt=yes\n\
inst=libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])\n\
inst=openssl [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])\n\
inst=base-files [12.4+deb12u10] (12.4+deb12u11 Debian:12.11/stable [amd64])\n\
inst=tzdata [2024b-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable, Debian:12.11/stable-updates [all])\n\
inst=linux-image-6.1.0-37-amd64 (6.1.140-1 Debian-Security:12/stable-security [amd64])\n\
inst=linux-image-amd64 [6.1.137-1] (6.1.140-1 Debian-Security:12/stable-security [amd64])\n\
reboot=no\n\
uu_installed=yes\n\
uu_lists=1\n\
uu_periodic=1\n\
now=1750000000\n\
lists_mtime=1749996400\n";

    /// Ubuntu 24.04: one package in both -updates and -security, one only
    /// in -updates; a reboot asked by the kernel and libc.
    const UBUNTU2404: &str = "os_id=ubuntu\n\
os_version=24.04\n\
os_name=Ubuntu 24.04.2 LTS\n\
apt=yes\n\
inst=libc6 [2.39-0ubuntu8.3] (2.39-0ubuntu8.4 Ubuntu:24.04/noble-updates, Ubuntu:24.04/noble-security [amd64]) []\n\
inst=snapd [2.66.1+24.04] (2.67.1+24.04 Ubuntu:24.04/noble-updates [amd64])\n\
inst=libpython3.12t64 [3.12.3-1ubuntu0.4] (3.12.3-1ubuntu0.5 UbuntuESMApps:24.04/noble-apps-security [amd64])\n\
remv=linux-image-6.8.0-31-generic [6.8.0-31.31]\n\
reboot=yes\n\
reboot_pkg=linux-image-6.8.0-60-generic\n\
reboot_pkg=libc6\n\
reboot_pkg=linux-image-6.8.0-60-generic\n\
uu_installed=yes\n\
uu_periodic=0\n\
now=1750000000\n\
lists_mtime=1740000000\n";

    #[test]
    fn parses_inst_lines() {
        let p = parse_inst(
            "libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])",
        )
        .unwrap();
        assert_eq!(
            p,
            Pending {
                name: "libssl3".into(),
                current: Some("3.0.15-1~deb12u1".into()),
                candidate: "3.0.17-1~deb12u2".into(),
                origin: "Debian-Security:12/stable-security".into(),
                security: true,
            }
        );
        // A new package (no current version), an epoch, a multi-arch name.
        let p = parse_inst("libfoo1:i386 (1:2.0-1 Debian:12.11/stable [i386])").unwrap();
        assert_eq!(p.name, "libfoo1:i386");
        assert_eq!(p.current, None);
        assert_eq!(p.candidate, "1:2.0-1");
        assert!(!p.security);
        // A local repository labelled like Debian's security archive.
        let p =
            parse_inst("regie-dummy [1.0] (1.1 Debian-Security:bookworm-security [all])").unwrap();
        assert!(p.security);
        assert_eq!(p.origin, "Debian-Security:bookworm-security");
        assert!(parse_inst("garbage").is_none());
    }

    #[test]
    fn debian12_report() {
        let r = parse_report(DEBIAN12);
        assert!(r.supported);
        assert_eq!(r.os.id, "debian");
        assert_eq!(r.os.version, "12");
        let names: Vec<&str> = r.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "libssl3",
                "linux-image-6.1.0-37-amd64",
                "linux-image-amd64",
                "openssl",
                "base-files",
                "tzdata"
            ]
        );
        assert_eq!((r.security_count, r.other_count), (4, 2));
        assert_eq!(r.packages[1].current, None);
        assert_eq!(
            r.packages[5].origin,
            "Debian:12.11/stable, Debian:12.11/stable-updates"
        );
        assert!(!r.reboot_required);
        assert!(r.unattended && r.unattended_installed);
        assert_eq!(r.lists_age_seconds, Some(3600));
        assert!(r.errors.is_empty());
        assert!(r.pending());
    }

    #[test]
    fn ubuntu2404_report() {
        let r = parse_report(UBUNTU2404);
        let got: Vec<(&str, bool)> = r
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.security))
            .collect();
        assert_eq!(
            got,
            [
                ("libc6", true),
                ("libpython3.12t64", true),
                ("snapd", false)
            ]
        );
        assert_eq!(r.packages[0].candidate, "2.39-0ubuntu8.4");
        assert!(r.reboot_required);
        assert_eq!(r.reboot_packages, ["libc6", "linux-image-6.8.0-60-generic"]);
        assert_eq!(r.removals, ["linux-image-6.8.0-31-generic"]);
        assert!(r.unattended_installed && !r.unattended, "periodic is 0");
        let t = text(&[HostOs {
            host: "srv1".into(),
            report: Some(r),
            error: None,
        }]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("HOST"), "{t}");
        assert!(
            lines[1].split_whitespace().collect::<Vec<_>>()[..6]
                == ["srv1", "2", "1", "yes", "off", "115d"],
            "{t}"
        );
        let libc = t.find("security  libc6").expect(&t);
        let snapd = t.find("other     snapd").expect(&t);
        assert!(libc < snapd, "{t}");
        assert!(t.contains("reboot required by libc6, linux-image-6.8.0-60-generic"));
        assert!(t.contains("installed but off"));
        assert!(t.contains("115d old: use --refresh"));
    }

    #[test]
    fn up_to_date_and_unsupported_hosts() {
        let r = parse_report(
            "os_id=debian\nos_version=12\nos_name=Debian 12\napt=yes\nreboot=no\nuu_installed=no\nnow=100\nlists_mtime=0\n",
        );
        assert!(r.packages.is_empty() && !r.pending());
        assert!(!r.unattended);
        assert_eq!(r.lists_age_seconds, None, "never updated");
        let r = parse_report("os_id=alpine\nos_version=3.20\nos_name=Alpine Linux\napt=no\n");
        assert!(!r.supported && !r.pending() && r.errors.is_empty());
        let t = text(&[HostOs {
            host: "pi".into(),
            report: Some(r),
            error: None,
        }]);
        assert!(t.contains("no apt: not checked"), "{t}");
    }

    #[test]
    fn errors_are_reported() {
        let r = parse_report(
            "apt=yes\nrefresh_error=E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)\nrefresh_error=apt-get update failed\nsim_status=100\nsim_error=E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem.\n",
        );
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        assert!(r.errors[0].contains("Permission denied"));
        assert!(
            r.errors[1].contains("exited with 100") && r.errors[1].contains("dpkg was interrupted")
        );
    }

    /// Run a script with sh on this machine.
    fn sh(script: &str) -> std::process::Output {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap()
    }

    #[test]
    fn scripts_are_valid_sh() {
        for s in [
            report_script(false),
            report_script(true),
            unattended_script(),
        ] {
            let o = std::process::Command::new("sh")
                .args(["-n", "-c", &s])
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{s}\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        assert!(report_script(true).contains("apt-get update -q"));
        assert!(!report_script(false).contains("apt-get update"));
        assert!(report_script(false).contains("apt-get -s -o Debug::NoLocking=1 dist-upgrade"));
    }

    #[test]
    fn report_script_without_apt_says_unsupported() {
        // A host without apt-get (here: an empty PATH) is reported, not failed.
        let o = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(report_script(true))
            .env("PATH", "/nonexistent")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r = parse_report(&String::from_utf8_lossy(&o.stdout));
        assert!(!r.supported && r.errors.is_empty() && !r.pending(), "{r:?}");
    }

    #[test]
    fn unattended_files_say_regie_manages_them() {
        let s = unattended_script();
        for f in [AUTO_UPGRADES_TEXT, DROP_IN_TEXT] {
            assert!(f.starts_with("// Managed by regie"));
        }
        assert!(s.contains("APT::Periodic::Unattended-Upgrade \"1\";"));
        assert!(s.contains("APT::Periodic::Update-Package-Lists \"1\";"));
        assert!(s.contains("Unattended-Upgrade::Automatic-Reboot \"false\";"));
        // The distribution's variables reach the file unexpanded.
        assert!(s.contains("\"${distro_id}:${distro_codename}-security\";"));
        assert!(s.contains("codename=${distro_codename}-security,label=Debian-Security"));
        assert!(s.contains("<<'REGIE_EOF'"));
    }

    #[test]
    fn unattended_files_are_written_once() {
        // The file-writing part, against a scratch directory.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let s = unattended_script();
        let start = s.find("put() {").unwrap();
        let end = s.find("if [ -d /run/systemd/system ]").unwrap();
        let part = s[start..end].replace("put '/etc/apt/apt.conf.d/", &format!("put '{d}/"));
        let o = sh(&part);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(out.lines().count(), 2, "{out}");
        let drop_in =
            std::fs::read_to_string(dir.path().join("52regie-unattended-upgrades")).unwrap();
        assert_eq!(drop_in, DROP_IN_TEXT);
        assert!(drop_in.contains("${distro_codename}"));
        let o = sh(&part);
        assert!(o.stdout.is_empty(), "second run changes nothing");
    }
}

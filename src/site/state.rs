//! `regie status`: the state of a site now, per host and service. This file
//! holds the data model (shared by `check`, `report` and the history store)
//! and the pure parsing of what hosts answer; [`crate::status_run`] collects
//! it over SSH and the Docker API.

use serde::{Deserialize, Serialize};

/// One file system as `df` reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    /// What was asked about (`/`, the base directory, the NAS path).
    pub path: String,
    /// Its mount point.
    pub mount: String,
    pub size_kib: u64,
    pub used_kib: u64,
    pub avail_kib: u64,
    /// Percent used, as `df` counts it (reserved blocks excluded).
    pub used_pct: f64,
    pub inodes: Option<u64>,
    pub inodes_used: Option<u64>,
    pub inodes_pct: Option<f64>,
}

/// The deploy lock of a host, when held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    /// What the lock's holder wrote (`deploy by alice@laptop at ...`).
    pub holder: String,
    pub age_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostStatus {
    pub host: String,
    /// server, nas, sbc.
    pub role: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub uptime_secs: Option<u64>,
    pub load1: Option<f64>,
    pub mem_total_kib: Option<u64>,
    pub mem_available_kib: Option<u64>,
    /// `/` and the base directory (one entry when they share a file system).
    pub disks: Vec<Disk>,
    pub lock: Option<Lock>,
    /// Pending OS updates (None: not checked or not a Debian-like host).
    pub os_security_updates: Option<u64>,
    pub os_other_updates: Option<u64>,
    pub reboot_required: Option<bool>,
    pub os_error: Option<String>,
}

impl HostStatus {
    pub fn mem_used_pct(&self) -> Option<f64> {
        let (t, a) = (self.mem_total_kib?, self.mem_available_kib?);
        (t > 0).then(|| 100.0 * (t.saturating_sub(a)) as f64 / t as f64)
    }
}

/// One container of a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerStatus {
    pub name: String,
    /// The compose service (component) it runs.
    pub component: String,
    pub image: String,
    /// created, running, restarting, exited, dead, ...
    pub state: String,
    /// healthy, unhealthy, starting; None without a healthcheck.
    pub health: Option<String>,
    /// Since the container (re)started; None when it is not running.
    pub uptime_secs: Option<u64>,
    /// Restarts since the container was created.
    pub restart_count: u64,
    /// Stops (`die` events) in the last 24 hours, from the Docker API.
    pub restarts_24h: Option<u64>,
    /// The last healthcheck output when unhealthy (first line).
    pub health_log: Option<String>,
}

impl ContainerStatus {
    pub fn is_up(&self) -> bool {
        self.state == "running" && self.health.as_deref().is_none_or(|h| h == "healthy")
    }
}

/// Version of a service: what runs, what policy allows next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionStatus {
    pub component: String,
    /// The tag the inventory asks for.
    pub wanted: String,
    /// The tag running (None: not running).
    pub running: Option<String>,
    /// The newest version the upgrade policy allows (None: current or unknown).
    pub newest_allowed: Option<String>,
    /// Newer versions that need a person (major steps).
    pub newer: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub service: String,
    pub host: String,
    pub hostname: Option<String>,
    pub containers: Vec<ContainerStatus>,
    /// Components the compose file declares that have no container.
    pub missing: Vec<String>,
    pub version: Option<VersionStatus>,
}

/// TLS certificate served for a public hostname.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertStatus {
    pub hostname: String,
    /// Where it was read (`host:port`).
    pub endpoint: String,
    /// Unix time of notAfter.
    pub not_after: Option<i64>,
    pub days_left: Option<f64>,
    pub issuer: Option<String>,
    /// The chain verifies against the public roots for this name.
    pub trusted: Option<bool>,
    /// The host serving it gets public (ACME) certificates: an untrusted
    /// one is a fault. False for sites on the internal CA.
    #[serde(default)]
    pub public_ca: bool,
    /// Why it is not trusted, or why it could not be read.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NasStatus {
    pub host: String,
    pub reachable: bool,
    pub error: Option<String>,
    pub disk: Option<Disk>,
}

/// Everything `regie status` knows about a site at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteStatus {
    pub site: String,
    pub display_name: String,
    /// fr or en.
    pub locale: String,
    /// Unix time of the reading.
    pub time: u64,
    pub hosts: Vec<HostStatus>,
    pub nas: Option<NasStatus>,
    pub services: Vec<ServiceStatus>,
    pub certificates: Vec<CertStatus>,
    /// Backup state per service, from the hosts' run logs.
    pub backups: Vec<crate::backup::ServiceStatus>,
    /// Hours after which a backup is too old (the policy's daily schedule
    /// plus slack); None without a backup policy.
    pub backup_max_age_hours: Option<f64>,
    /// Parts that could not be read (registry down, ...), for UNKNOWN.
    pub errors: Vec<String>,
}

use std::collections::BTreeMap;

use crate::ssh::quote;

/// One round trip for a host's facts: clock, uptime, load, memory, disk and
/// inode use of `/` and the base directory, the deploy lock, and the tail
/// of the backup run log.
pub fn host_script(base_dir: &str) -> String {
    format!(
        "base={b}\n\
         echo '==regie:now'; date +%s\n\
         echo '==regie:uptime'; cat /proc/uptime 2>/dev/null\n\
         echo '==regie:load'; cat /proc/loadavg 2>/dev/null\n\
         echo '==regie:mem'; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo 2>/dev/null\n\
         dirs=/; [ -d \"$base\" ] && dirs=\"/ $base\"\n\
         echo '==regie:df'; df -Pk $dirs 2>/dev/null\n\
         echo '==regie:dfi'; df -Pi $dirs 2>/dev/null\n\
         echo '==regie:lock'\n\
         if [ -d \"$base/{s}/lock\" ]; then stat -c %Y \"$base/{s}/lock\"; cat \"$base/{s}/lock/info\" 2>/dev/null; echo; fi\n\
         echo '==regie:runs'; tail -n 5000 \"$base/{runs}\" 2>/dev/null\n\
         echo '==regie:end'\n",
        b = quote(base_dir),
        s = crate::deploy::STATE_DIR,
        runs = format_args!("{}/runs.jsonl", crate::backup::DIR),
    )
}

/// What [`host_script`] told.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFacts {
    pub now: Option<u64>,
    pub uptime_secs: Option<u64>,
    pub load1: Option<f64>,
    pub mem_total_kib: Option<u64>,
    pub mem_available_kib: Option<u64>,
    pub disks: Vec<Disk>,
    pub lock: Option<Lock>,
    pub runs: String,
}

fn sections(out: &str) -> BTreeMap<&str, &str> {
    let mut m = BTreeMap::new();
    let mut rest = out;
    while let Some(i) = rest.find("==regie:") {
        let after = &rest[i + 8..];
        let (name, body) = after.split_once('\n').unwrap_or((after, ""));
        // An empty section is followed at once by the next marker.
        let end = if body.starts_with("==regie:") {
            0
        } else {
            body.find("\n==regie:").map(|j| j + 1).unwrap_or(body.len())
        };
        m.insert(name.trim(), &body[..end]);
        rest = &body[end..];
    }
    m
}

/// `df -P` output (KiB blocks or inodes): mount point -> (total, used, free, use%).
fn parse_df(text: &str) -> Vec<(String, u64, u64, u64, Option<f64>)> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 6 {
                return None;
            }
            let n = |i: usize| f[i].parse::<u64>().ok();
            let pct = f[4].trim_end_matches('%').parse::<f64>().ok();
            Some((f[5..].join(" "), n(1)?, n(2)?, n(3)?, pct))
        })
        .collect()
}

/// The disks of `df -Pk` and `df -Pi` for the paths asked (`/` then the
/// base directory), one entry per distinct mount point.
pub fn disks(df: &str, dfi: &str, paths: &[&str]) -> Vec<Disk> {
    let inodes = parse_df(dfi);
    let mut out: Vec<Disk> = Vec::new();
    for (i, (mount, size, used, avail, _)) in parse_df(df).into_iter().enumerate() {
        if out.iter().any(|d| d.mount == mount) {
            continue;
        }
        // df's own rounding (used / (used + avail)), reserved blocks excluded.
        let pct = if used + avail > 0 {
            100.0 * used as f64 / (used + avail) as f64
        } else {
            0.0
        };
        let ino = inodes.iter().find(|x| x.0 == mount);
        out.push(Disk {
            path: paths.get(i).copied().unwrap_or(&mount).to_string(),
            mount,
            size_kib: size,
            used_kib: used,
            avail_kib: avail,
            used_pct: (pct * 10.0).round() / 10.0,
            // File systems without inodes (btrfs) report 0.
            inodes: ino.map(|x| x.1).filter(|n| *n > 0),
            inodes_used: ino.filter(|x| x.1 > 0).map(|x| x.2),
            inodes_pct: ino.filter(|x| x.1 > 0).and_then(|x| x.4),
        });
    }
    out
}

pub fn parse_host(out: &str, base_dir: &str) -> HostFacts {
    let s = sections(out);
    let get = |k: &str| s.get(k).copied().unwrap_or("");
    let now = get("now").trim().parse().ok();
    let mut mem = BTreeMap::new();
    for l in get("mem").lines() {
        let mut it = l.split_whitespace();
        if let (Some(k), Some(v)) = (it.next(), it.next()) {
            if let Ok(v) = v.parse::<u64>() {
                mem.insert(k.trim_end_matches(':').to_string(), v);
            }
        }
    }
    let lock = {
        let mut lines = get("lock").lines();
        lines
            .next()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .map(|mtime| Lock {
                holder: lines.collect::<Vec<_>>().join(" ").trim().to_string(),
                age_secs: now.map(|n: u64| n.saturating_sub(mtime)),
            })
    };
    HostFacts {
        now,
        uptime_secs: get("uptime")
            .split_whitespace()
            .next()
            .and_then(|u| u.parse::<f64>().ok())
            .map(|u| u as u64),
        load1: get("load")
            .split_whitespace()
            .next()
            .and_then(|l| l.parse().ok()),
        mem_total_kib: mem.get("MemTotal").copied(),
        mem_available_kib: mem.get("MemAvailable").copied(),
        disks: disks(get("df"), get("dfi"), &["/", base_dir]),
        lock,
        runs: get("runs").to_string(),
    }
}

/// A tag from an image reference (`repo:tag@digest` -> `tag`).
pub fn image_tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':').map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "==regie:now\n1796083200\n==regie:uptime\n3600.52 7000.1\n\
==regie:load\n0.42 0.30 0.20 1/200 1234\n\
==regie:mem\nMemTotal:        8000000 kB\nMemAvailable:    2000000 kB\n\
==regie:df\nFilesystem     1024-blocks      Used Available Capacity Mounted on\n\
/dev/sda1 100000 90000 5000 95% /\n/dev/sda1 100000 90000 5000 95% /\n\
==regie:dfi\nFilesystem      Inodes  IUsed   IFree IUse% Mounted on\n\
/dev/sda1 6000 3000 3000 50% /\n/dev/sda1 6000 3000 3000 50% /\n\
==regie:lock\n1796076000\ndeploy by alice@laptop\n\
==regie:runs\n{\"time\":1,\"kind\":\"scheduled\"}\n==regie:end\n";

    #[test]
    fn host_facts_parse() {
        let f = parse_host(OUT, "/srv/regie");
        assert_eq!(f.now, Some(1796083200));
        assert_eq!(f.uptime_secs, Some(3600));
        assert_eq!(f.load1, Some(0.42));
        assert_eq!(f.mem_total_kib, Some(8000000));
        assert_eq!(f.mem_available_kib, Some(2000000));
        // `/` and the base dir share one file system: one entry.
        assert_eq!(f.disks.len(), 1);
        let d = &f.disks[0];
        assert_eq!((d.size_kib, d.used_kib, d.avail_kib), (100000, 90000, 5000));
        assert_eq!(d.used_pct, 94.7);
        assert_eq!(d.inodes_pct, Some(50.0));
        let l = f.lock.unwrap();
        assert_eq!(l.holder, "deploy by alice@laptop");
        assert_eq!(l.age_secs, Some(7200));
        assert!(f.runs.contains("scheduled"));
    }

    #[test]
    fn two_file_systems_and_no_lock() {
        let out = "==regie:now\n10\n==regie:df\nh\n/dev/a 100 10 90 10% /\n/dev/b 200 150 50 75% /srv\n\
==regie:dfi\nh\n/dev/a 0 0 0 - /\n/dev/b 10 5 5 50% /srv\n==regie:lock\n==regie:runs\n{}\n==regie:end\n";
        let f = parse_host(out, "/srv/regie");
        assert_eq!(f.disks.len(), 2);
        assert_eq!(f.disks[1].path, "/srv/regie");
        assert_eq!(f.disks[1].mount, "/srv");
        assert_eq!(f.disks[1].used_pct, 75.0);
        // No inodes on `/` (btrfs-like): none reported rather than 0%.
        assert_eq!(f.disks[0].inodes_pct, None);
        assert!(f.lock.is_none());
        assert!(f.mem_total_kib.is_none());
        // The section after an empty one is still read.
        assert_eq!(f.runs, "{}\n");
    }

    #[test]
    fn host_script_quotes_the_base_dir() {
        let s = host_script("/srv/it's here");
        assert!(s.contains("base='/srv/it'\\''s here'"), "{s}");
    }

    #[test]
    fn tags() {
        assert_eq!(image_tag("nextcloud:34.0.2-apache"), Some("34.0.2-apache"));
        assert_eq!(image_tag("127.0.0.1:5000/regie-upd:1.2.0"), Some("1.2.0"));
        assert_eq!(image_tag("127.0.0.1:5000/regie-upd"), None);
        assert_eq!(image_tag("postgres:17@sha256:abc"), Some("17"));
    }
}

//! Status reading, pure: the one-round-trip probe script a host runs for
//! `regie status`, and the parsing of its answer into the site state model
//! ([`crate::site::state`]). The collector runs it over SSH.

use crate::site::state::{Disk, Lock};
use std::collections::BTreeMap;

use crate::util::shell::quote;

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
        s = crate::site::layout::STATE_DIR,
        runs = format_args!("{}/runs.jsonl", crate::backup::plan::DIR),
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

/// The NAS's disk and inode use, for the repository file system. The
/// repository directory may not exist yet: the script asks about its parent.
pub fn nas_script(base: &str) -> String {
    format!(
        "echo '==regie:df'; df -Pk {b}; echo '==regie:dfi'; df -Pi {b}; echo '==regie:end'\n",
        b = quote(&nas_df_dir(base))
    )
}

/// The repository directory may not exist yet: ask about its parent.
pub fn nas_df_dir(base: &str) -> String {
    match base.rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => parent.to_string(),
        _ => base.to_string(),
    }
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
}

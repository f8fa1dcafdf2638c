//! The history behind reports: samples of each site's status kept in a
//! small local store (`<state dir>/history/<site>/YYYY-MM.jsonl`, one JSON
//! line per reading, at most one every [`MIN_INTERVAL_SECS`]), plus what the
//! hosts keep themselves (the backup run log, the deploy and update journal).

use serde::{Deserialize, Serialize};

/// A reading is stored only when the last one is at least this old.
pub const MIN_INTERVAL_SECS: u64 = 600;

/// One file system in a sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskSample {
    /// `host:mount point` (`srv1:/`, `nas1:/volume1`), as `check` names it.
    pub id: String,
    pub used_pct: f64,
    pub used_kib: u64,
    pub size_kib: u64,
}

/// One service in a sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceSample {
    pub service: String,
    /// Every container running and healthy, none missing.
    pub up: bool,
    /// Sum of the containers' restart counts (a counter: reports use the
    /// increase between samples).
    pub restarts: u64,
}

/// One stored reading of a site.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub time: u64,
    /// Hosts that answered / that did not.
    pub hosts_up: Vec<String>,
    pub hosts_down: Vec<String>,
    pub disks: Vec<DiskSample>,
    pub services: Vec<ServiceSample>,
}

/// One backup-related run from a host's log (`.regie/backup/runs.jsonl`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupRun {
    pub host: String,
    pub time: u64,
    /// scheduled, manual, pre-update, safety, drill, restore, retention, verify.
    pub kind: String,
    pub service: Option<String>,
    pub ok: bool,
    pub bytes_added: u64,
    pub seconds: u64,
    pub error: String,
}

/// One line of a host's journal (`.regie/journal.jsonl`): deploys, updates,
/// rollbacks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub host: String,
    pub time: u64,
    /// deploy, update, rollback, postgres-upgrade, ...
    pub action: String,
    pub service: Option<String>,
    pub ok: bool,
    /// One readable line (`files 34.0.2 -> 34.0.3`).
    pub detail: String,
}

/// Everything a site report is made from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// The site now.
    pub status: crate::site::state::SiteStatus,
    /// The judged findings now (`regie check`), worst first.
    pub findings: Vec<crate::site::state::Finding>,
    /// Period covered: unix times.
    pub from: u64,
    pub to: u64,
    pub samples: Vec<Sample>,
    pub backup_runs: Vec<BackupRun>,
    pub journal: Vec<JournalEntry>,
    /// Restic repository size per host, bytes, when read.
    pub repository_bytes: Vec<(String, u64)>,
    /// From the inventory: the site's contact and the provider's addresses.
    pub contact: String,
    pub domain: String,
}

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::site::state::SiteStatus;

/// The reading of a status, as stored.
pub fn sample_of(st: &SiteStatus) -> Sample {
    let mut s = Sample {
        time: st.time,
        ..Default::default()
    };
    for h in &st.hosts {
        if h.reachable {
            s.hosts_up.push(h.host.clone());
        } else {
            s.hosts_down.push(h.host.clone());
        }
        for d in &h.disks {
            s.disks.push(DiskSample {
                id: format!("{}:{}", h.host, d.mount),
                used_pct: d.used_pct,
                used_kib: d.used_kib,
                size_kib: d.size_kib,
            });
        }
    }
    if let Some(d) = st
        .nas
        .as_ref()
        .and_then(|n| n.disk.as_ref().map(|d| (n, d)))
    {
        s.disks.push(DiskSample {
            id: format!("{}:{}", d.0.host, d.1.mount),
            used_pct: d.1.used_pct,
            used_kib: d.1.used_kib,
            size_kib: d.1.size_kib,
        });
    }
    for svc in &st.services {
        let host_up = st.hosts.iter().any(|h| h.host == svc.host && h.reachable);
        if !host_up {
            // Unknown, not down: the host did not answer.
            continue;
        }
        s.services.push(ServiceSample {
            service: svc.service.clone(),
            up: !svc.containers.is_empty()
                && svc.missing.is_empty()
                && svc.containers.iter().all(|c| c.is_up()),
            restarts: svc.containers.iter().map(|c| c.restart_count).sum(),
        });
    }
    s
}

/// `<state dir>/history/<site>`.
pub fn site_dir(state: &Path, site: &str) -> PathBuf {
    state.join("history").join(site)
}

fn month_file(dir: &Path, t: u64) -> PathBuf {
    let t = (t as i64).min(jiff::Timestamp::MAX.as_second());
    let ts = jiff::Timestamp::from_second(t).unwrap_or(jiff::Timestamp::MAX);
    dir.join(format!("{}.jsonl", ts.strftime("%Y-%m")))
}

fn last_time(file: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let last = text.lines().rev().find(|l| !l.trim().is_empty())?;
    serde_json::from_str::<Sample>(last).ok().map(|s| s.time)
}

/// Append the sample unless the last one is less than
/// [`MIN_INTERVAL_SECS`] old. Returns whether it was stored.
pub fn record(state: &Path, site: &str, sample: &Sample) -> Result<bool> {
    let dir = site_dir(state, site);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = month_file(&dir, sample.time);
    if last_time(&file).is_some_and(|t| sample.time < t + MIN_INTERVAL_SECS) {
        return Ok(false);
    }
    let mut line = serde_json::to_string(sample)?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .with_context(|| format!("opening {}", file.display()))?;
    // One write call: concurrent appenders never interleave inside a line.
    f.write_all(line.as_bytes())
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(true)
}

/// Store a status reading; a failure is a warning, never fatal (the
/// status itself was read fine).
pub fn record_quietly(st: &SiteStatus) {
    let Some(state) = crate::site::site_files::state_dir() else {
        return;
    };
    if let Err(e) = record(&state, &st.site, &sample_of(st)) {
        eprintln!("warning: history not kept: {e:#}");
    }
}

/// The samples of `site` between `from` and `to` (unix times), in time
/// order. Unreadable lines (a line cut by a full disk) are skipped.
pub fn load(state: &Path, site: &str, from: u64, to: u64) -> Result<Vec<Sample>> {
    let dir = site_dir(state, site);
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let (first, last) = (
        month_file(Path::new(""), from),
        month_file(Path::new(""), to),
    );
    for f in files {
        let name = PathBuf::from(f.file_name().unwrap_or_default());
        if name < first || name > last {
            continue;
        }
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        out.extend(
            text.lines()
                .filter_map(|l| serde_json::from_str::<Sample>(l).ok())
                .filter(|s| s.time >= from && s.time <= to),
        );
    }
    out.sort_by_key(|s| s.time);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: u64) -> Sample {
        Sample {
            time: t,
            hosts_up: vec!["srv1".into()],
            ..Default::default()
        }
    }

    #[test]
    fn records_at_most_every_interval_and_loads_across_months() {
        let d = tempfile::tempdir().unwrap();
        let nov30 = 1_796_040_000; // 2026-11-30T12:00Z
        assert!(record(d.path(), "s", &sample(nov30)).unwrap());
        assert!(!record(d.path(), "s", &sample(nov30 + 60)).unwrap());
        assert!(record(d.path(), "s", &sample(nov30 + MIN_INTERVAL_SECS)).unwrap());
        let dec1 = nov30 + 86400;
        assert!(record(d.path(), "s", &sample(dec1)).unwrap());
        assert!(d.path().join("history/s/2026-11.jsonl").exists());
        assert!(d.path().join("history/s/2026-12.jsonl").exists());
        let all = load(d.path(), "s", 0, u64::MAX / 2).unwrap();
        assert_eq!(all.len(), 3);
        let some = load(d.path(), "s", nov30 + 1, dec1).unwrap();
        assert_eq!(
            some.iter().map(|s| s.time).collect::<Vec<_>>(),
            [nov30 + MIN_INTERVAL_SECS, dec1]
        );
        // A cut line is skipped, not fatal.
        std::fs::write(d.path().join("history/s/2026-12.jsonl"), "{\"time\":17").unwrap();
        assert_eq!(load(d.path(), "s", 0, u64::MAX / 2).unwrap().len(), 2);
        assert!(load(d.path(), "other", 0, 10).unwrap().is_empty());
    }
}

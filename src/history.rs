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
    /// `host:path` (`nas1:/volume1/regie` for the NAS).
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
    pub status: crate::status::SiteStatus,
    /// The judged findings now (`regie check`), worst first.
    pub findings: Vec<crate::check::Finding>,
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

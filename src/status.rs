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
    /// Why it is not trusted, or why it could not be read.
    pub error: Option<String>,
}

/// Backup state of one service (from the hosts' run log).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupStatus {
    pub service: String,
    pub host: String,
    pub last_success: Option<u64>,
    pub age_hours: Option<f64>,
    pub last_error: Option<String>,
    pub last_drill: Option<u64>,
    pub last_drill_ok: Option<bool>,
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
    pub backups: Vec<BackupStatus>,
    /// Hours after which a backup is too old (the policy's daily schedule
    /// plus slack); None without a backup policy.
    pub backup_max_age_hours: Option<f64>,
    /// Parts that could not be read (registry down, ...), for UNKNOWN.
    pub errors: Vec<String>,
}

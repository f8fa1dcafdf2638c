//! What regie observes on a site: the state of hosts, containers, services,
//! certificates, the NAS and backups at one moment, and the judged level of
//! each finding. The data model shared by status, check, reports, the
//! history store, maintain and the Docker API reader; no logic beyond it.

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
    pub backups: Vec<BackupStatus>,
    /// Hours after which a backup is too old (the policy's daily schedule
    /// plus slack); None without a backup policy.
    pub backup_max_age_hours: Option<f64>,
    /// Retention that has not run for too long, a repository growing
    /// faster than usual (append-only sites, read on the NAS).
    #[serde(default)]
    pub backup_warnings: Vec<String>,
    /// Parts that could not be read (registry down, ...), for UNKNOWN.
    pub errors: Vec<String>,
}

/// A container as `docker inspect` describes it (the fields we use).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub project: String,
    pub service: String,
    /// created, running, restarting, exited, ...
    pub status: String,
    /// healthy, unhealthy, starting; None without a healthcheck.
    pub health: Option<String>,
    pub restart_count: u64,
    pub image: String,
}

impl Container {
    pub fn is_up(&self) -> bool {
        self.status == "running" && self.health.as_deref().is_none_or(|h| h == "healthy")
    }
    /// Running, and Docker has not yet judged its health check (the
    /// first verdict comes one `interval` after start).
    pub fn is_starting(&self) -> bool {
        self.status == "running" && self.health.as_deref() == Some("starting")
    }
    pub fn is_failed(&self) -> bool {
        self.health.as_deref() == Some("unhealthy")
            || matches!(self.status.as_str(), "exited" | "dead")
    }
    /// `name status[/health]`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {}{}",
            self.name,
            self.status,
            self.health
                .as_deref()
                .map(|h| format!("/{h}"))
                .unwrap_or_default()
        )
    }
}

/// Parse `docker inspect` JSON.
pub fn parse_inspect(json: &str) -> Result<Vec<Container>, serde_json::Error> {
    if json.trim().is_empty() {
        return Ok(Vec::new());
    }
    let v: Vec<serde_json::Value> = serde_json::from_str(json)?;
    Ok(v.iter()
        .map(|c| {
            let labels = &c["Config"]["Labels"];
            Container {
                name: c["Name"]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches('/')
                    .to_string(),
                project: labels["com.docker.compose.project"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                service: labels["com.docker.compose.service"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                status: c["State"]["Status"].as_str().unwrap_or("").to_string(),
                health: c["State"]["Health"]["Status"].as_str().map(String::from),
                restart_count: c["RestartCount"].as_u64().unwrap_or(0),
                image: c["Config"]["Image"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect())
}

/// Last successful capture per service from a host's runs log, and whether
/// each is within the policy (a daily backup: at most 26 hours old).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupStatus {
    pub host: String,
    pub service: String,
    pub last_success: Option<u64>,
    #[serde(default)]
    pub last_run: Option<u64>,
    pub last_error: Option<String>,
    pub age_hours: Option<f64>,
    #[serde(default)]
    pub fresh: bool,
    pub last_drill: Option<u64>,
    pub last_drill_ok: Option<bool>,
}

/// The default backup policy: a daily capture, at most 26 hours old.
pub const MAX_AGE_SECS: u64 = 26 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Warning,
    Unknown,
    Critical,
}

/// One judged fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub level: Level,
    /// host, service, disk, certificate, backup, update, os, lock, nas.
    pub kind: String,
    /// What it is about (`srv1:/`, `files`, `cloud.example.fr`).
    pub subject: String,
    /// One readable sentence (English).
    pub message: String,
    /// The same sentence as data, for pages in other languages: a code
    /// (`disk_used`, `cert_expires`...) and its values, numbers written
    /// with a `.`. Absent in readings stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

/// A finding's sentence as a code and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detail {
    pub code: String,
    pub args: Vec<String>,
}

impl Level {
    /// The monitoring plugin exit code.
    pub fn exit_code(self) -> i32 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
            Level::Unknown => 3,
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }
}

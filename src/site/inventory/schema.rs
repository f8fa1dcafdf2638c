//! The inventory file's schema: the serde structs one YAML file parses
//! into, strictly (unknown keys are errors), with their defaults.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub site: Site,
    pub hosts: BTreeMap<String, Host>,
    #[serde(default)]
    pub services: BTreeMap<String, ServiceSpec>,
    #[serde(default)]
    pub proxy: ProxySpec,
    #[serde(default)]
    pub backup: Option<BackupPolicy>,
    #[serde(default)]
    pub maintenance: Option<Maintenance>,
    #[serde(default)]
    pub notify: Notify,
    /// Registry mirrors and private registries, by registry host as
    /// written in image names (`docker.io`, `ghcr.io`, `reg.example.fr:5000`).
    #[serde(default)]
    pub registries: BTreeMap<String, RegistrySpec>,
    #[serde(default)]
    pub secrets: SecretsSpec,
    /// `regie status` / `check`: thresholds and where to read certificates.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// Directory whose `stacks/` and `templates/` override or add to the
    /// built-in catalog (relative to the inventory file).
    #[serde(default)]
    pub catalog: Option<PathBuf>,
    /// How the hosts get their images: `pull` from the registries (the
    /// default), or `push` from the operator's machine over SSH (sites
    /// without a registry); a host's own `images:` overrides it.
    #[serde(default)]
    pub images: ImageMode,
    /// With `images: push`: an OCI image layout directory (skopeo's
    /// `oci:` output) to take the images from instead of the operator's
    /// Docker engine (relative to the inventory file).
    #[serde(default)]
    pub image_layout: Option<PathBuf>,
}

/// Where a host's images come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ImageMode {
    /// The host pulls them from their registries (compose does).
    #[default]
    Pull,
    /// regie carries them over SSH, only the layers the host lacks.
    Push,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Fr,
    En,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub domain: String,
    pub contact: String,
    #[serde(default = "default_tz")]
    pub timezone: String,
    #[serde(default)]
    pub locale: Locale,
}

fn default_tz() -> String {
    "Europe/Paris".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Server,
    Nas,
    Sbc,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub role: Role,
    pub address: String,
    #[serde(default)]
    pub ssh: Ssh,
    #[serde(default)]
    pub ram_mb: Option<u64>,
    #[serde(default)]
    pub disk_gb: Option<u64>,
    #[serde(default = "default_base_dir")]
    pub base_dir: String,
    /// Reachable from the internet on a public IP.
    #[serde(default)]
    pub public: bool,
    /// On a NAS: directory that holds the backup repositories.
    #[serde(default)]
    pub path: Option<String>,
    /// CPU architecture (`amd64`, `arm64`, `armv7`; `x86_64`, `aarch64`...
    /// are read as those). Stacks whose images lack it are refused.
    #[serde(default)]
    pub arch: Option<String>,
    /// `pull` or `push`: overrides the site's `images:` for this host.
    #[serde(default)]
    pub images: Option<ImageMode>,
}

impl Host {
    /// Whether regie pushes this host's images (its own setting, else the
    /// site's).
    pub fn image_mode(&self, site: ImageMode) -> ImageMode {
        self.images.unwrap_or(site)
    }

    /// The declared architecture, or arm64 assumed for a single-board
    /// computer that declares none (`true`: assumed).
    pub fn arch(&self) -> Option<(crate::site::arch::Arch, bool)> {
        match (&self.arch, self.role) {
            (Some(a), _) => crate::site::arch::Arch::parse(a).map(|a| (a, false)),
            (None, Role::Sbc) => Some((crate::site::arch::Arch::Arm64, true)),
            (None, _) => None,
        }
    }
}

fn default_base_dir() -> String {
    "/opt/regie".into()
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub identity: Option<String>,
    /// Bastion, as `[user@]host[:port]` or the name of another host.
    #[serde(default)]
    pub jump: Option<String>,
    #[serde(default)]
    pub sudo: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Memory limit, e.g. `512m`, `2g`.
    #[serde(default)]
    pub memory: Option<String>,
    #[serde(default)]
    pub cpus: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub host: String,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// Full image references replacing the catalog's, per component.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Limits per component.
    #[serde(default)]
    pub resources: BTreeMap<String, Resources>,
    #[serde(default)]
    pub settings: serde_yaml::Mapping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// ACME on public hosts, the internal CA on LAN-only hosts.
    #[default]
    Auto,
    Acme,
    Internal,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySpec {
    #[serde(default)]
    pub tls: TlsMode,
    /// ACME account email (default: the site contact).
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub images: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Keep {
    /// The last N captures whatever their age (0: not used).
    #[serde(default)]
    pub last: u32,
    #[serde(default = "d7")]
    pub daily: u32,
    #[serde(default = "d4")]
    pub weekly: u32,
    #[serde(default = "d12")]
    pub monthly: u32,
}
fn d7() -> u32 {
    7
}
fn d4() -> u32 {
    4
}
fn d12() -> u32 {
    12
}
impl Default for Keep {
    fn default() -> Self {
        Keep {
            last: 0,
            daily: 7,
            weekly: 4,
            monthly: 12,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackupPolicy {
    /// A NAS or server host, or `local` for a directory on each host.
    pub to: String,
    /// Repository directory (default: the NAS's `path`, else `<base_dir>/backups`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default = "default_at")]
    pub at: String,
    #[serde(default)]
    pub keep: Keep,
    /// Services to back up (default: all).
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// restic image run on the hosts (default: restic/restic, pinned).
    #[serde(default)]
    pub image: Option<String>,
    /// What the hosts' key may do on a NAS or server: `append-only` (the
    /// default: add snapshots and read, never delete or rewrite) or `full`
    /// (plain SFTP, the hosts run retention themselves).
    #[serde(default)]
    pub access: Option<BackupAccess>,
    /// A copy of every repository on a second server in another building
    /// (see docs/backup.md, "The off-site copy").
    #[serde(default)]
    pub offsite: Option<Offsite>,
}

/// The off-site copy: the NAS pushes each host's repository to another
/// SSH server with `restic copy`, through an append-only key; regie runs
/// it, and the off-site retention, with its own access.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Offsite {
    /// A host of the inventory (role nas or server) in another building:
    /// another site's NAS, a rented server.
    pub to: String,
    /// Repository directory there (default: the host's `path`, else
    /// `<base_dir>/backups`); the site's repositories go in `<path>/<site>`.
    #[serde(default)]
    pub path: Option<String>,
    /// Retention there (default: the site's `keep`).
    #[serde(default)]
    pub keep: Option<Keep>,
    /// `host` or `host:port` at which the NAS and the servers reach it, when not the
    /// inventory's address and port (a VPN, another name inside a LAN).
    #[serde(default)]
    pub address_from_site: Option<String>,
}

/// The hosts' rights on the backup target (see docs/backup.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackupAccess {
    /// `rclone serve restic --stdio --append-only`, forced by the NAS's
    /// authorized_keys; retention runs from the operator's side.
    AppendOnly,
    /// SFTP (`internal-sftp`): the hosts can delete.
    Full,
}

fn default_at() -> String {
    "02:30".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    /// e.g. `sun 03:00-05:00`, `mon,thu 22:00-23:30`, `daily 04:00-05:00`.
    pub window: String,
    /// Restore drill frequency in days (0: never).
    #[serde(default = "d30")]
    pub drill_days: u32,
    /// `regie maintain` applies the updates the catalog's policy allows
    /// (never a major) inside the window.
    #[serde(default = "yes")]
    pub auto_update: bool,
}
fn yes() -> bool {
    true
}
fn d30() -> u32 {
    30
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    #[serde(default)]
    pub email: Vec<String>,
    #[serde(default)]
    pub webhook: Option<String>,
    /// Mail server the reports to `email` go through (required with `email`).
    #[serde(default)]
    pub smtp: Option<Smtp>,
}

/// Outgoing mail server for notifications. Its password, when `user` is
/// set, is the site secret `notify.smtp_password` (never in the inventory).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// Sender address of the reports.
    pub from: String,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Login for SMTP authentication (none: no authentication).
    #[serde(default)]
    pub user: Option<String>,
}
fn default_smtp_port() -> u16 {
    587
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required, never skipped).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a server on this machine.
    None,
}

impl SmtpSecurity {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
            SmtpSecurity::None => "none",
        }
    }
}

impl Smtp {
    /// The server is this machine: `localhost` or a loopback IP address.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySpec {
    /// Base URL regie reads tags from (`https://mirror.example.fr`).
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSpec {
    /// Encrypted secrets file (default `<inventory stem>.secrets.age` beside it).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// age identity file used to decrypt (default: `$REGIE_AGE_IDENTITY`,
    /// then `~/.config/regie/identity.txt`).
    #[serde(default)]
    pub identity: Option<PathBuf>,
    /// Further age recipients (colleagues) the file is encrypted to.
    #[serde(default)]
    pub recipients: Vec<String>,
}

impl Site {
    /// The name people read: `display_name`, else the site's name.
    pub fn display(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Read every public hostname's certificate at this `HOST:PORT` (with
    /// the hostname as SNI) instead of the hostname's own address on 443:
    /// for a monitor inside the LAN, or a site behind NAT.
    #[serde(default)]
    pub tls_connect: Option<String>,
    #[serde(default)]
    pub thresholds: crate::site::thresholds::Thresholds,
}

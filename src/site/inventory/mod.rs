//! The site inventory: one YAML file per client site, parsed strictly and
//! validated against the catalog. Every problem becomes a [`Diagnostic`]
//! naming the file, line, column and YAML path.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::catalog::{Catalog, Descriptor, Proto, SettingSpec, SettingType};
use crate::diag::{did_you_mean, Diagnostic, InvalidInput, PositionIndex};

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

// ---------------------------------------------------------------------------
// Resolved model: what rendering works from.

#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    pub name: String,
    pub host: String,
    /// Web hostname when the stack has a web entry point.
    pub hostname: Option<String>,
    pub version: String,
    /// Component -> full image reference.
    pub images: BTreeMap<String, String>,
    pub resources: BTreeMap<String, Resources>,
    /// Settings with defaults filled in.
    pub settings: Json,
}

/// A validated inventory with everything resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub file: PathBuf,
    pub inv: Inventory,
    pub catalog: Catalog,
    /// Host -> stacks placed on it: the automatic proxy first, then the
    /// services in name order (deploy brings them up in this order).
    pub placement: BTreeMap<String, Vec<Placed>>,
    pub warnings: Vec<Diagnostic>,
}

impl Site {
    /// The name people read: `display_name`, else the site's name.
    pub fn display(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

impl Resolved {
    /// Whether the proxy on `host` gets public certificates (ACME) rather
    /// than the internal CA's.
    pub fn acme(&self, host: &str) -> bool {
        match self.inv.proxy.tls {
            TlsMode::Acme => true,
            TlsMode::Internal => false,
            TlsMode::Auto => self.inv.hosts.get(host).is_some_and(|h| h.public),
        }
    }
}

// ---------------------------------------------------------------------------
// Syntax checks shared by validation.

pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && !s
            .rsplit('.')
            .next()
            .unwrap_or("")
            .bytes()
            .all(|b| b.is_ascii_digit())
}

pub fn is_email(s: &str) -> bool {
    let Some((local, dom)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && is_domain(dom)
}

pub fn is_address(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok() || is_domain(s) || is_slug(s)
}

fn is_abs_path(s: &str) -> bool {
    s.starts_with('/')
        && s.len() > 1
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        && !s.split('/').any(|c| c == "..")
}

fn is_tag(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !s.starts_with(['.', '-'])
}

/// `[registry[:port]/]path[:tag][@sha256:digest]`, lowercase path.
pub fn is_image_ref(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let Some(h) = d.strip_prefix("sha256:") else {
            return false;
        };
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
    }
    let (name, tag) = match rest.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        if !is_tag(t) {
            return false;
        }
    }
    if name.is_empty() {
        return false;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        let reg = parts.remove(0);
        let host = reg.split(':').next().unwrap_or("");
        if host.is_empty()
            || !reg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
        {
            return false;
        }
    }
    parts.iter().all(|p| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && p.as_bytes()[0].is_ascii_alphanumeric()
    })
}

fn is_hhmm(s: &str) -> bool {
    let Some((h, m)) = s.split_once(':') else {
        return false;
    };
    h.len() == 2
        && m.len() == 2
        && h.parse::<u32>().is_ok_and(|h| h < 24)
        && m.parse::<u32>().is_ok_and(|m| m < 60)
}

fn is_memory(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    let digits = s.trim_end_matches(['k', 'm', 'g', 'b']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.len() - digits.len() <= 2
}

/// Text that lands in config files: printable, one line.
fn is_text(s: &str) -> bool {
    !s.chars().any(|c| c.is_control())
}

fn is_timezone(s: &str) -> bool {
    s == "UTC"
        || (s.contains('/')
            && s.split('/').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_+-".contains(&b))
            }))
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Read every public hostname's certificate at this `HOST:PORT` (with
    /// the hostname as SNI) instead of the hostname's own address on 443:
    /// for a monitor inside the LAN, or a site behind NAT.
    #[serde(default)]
    pub tls_connect: Option<String>,
    #[serde(default)]
    pub thresholds: crate::check::Thresholds,
}

/// Parsed maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
}

pub fn parse_window(s: &str) -> Result<Window, String> {
    let (days, times) = s.trim().split_once(' ').ok_or("missing time range")?;
    let days: Vec<String> = if days == "daily" {
        DAYS.iter().map(|d| d.to_string()).collect()
    } else {
        days.split(',')
            .map(|d| {
                let d = d.trim().to_ascii_lowercase();
                if DAYS.contains(&d.as_str()) {
                    Ok(d)
                } else {
                    Err(format!("unknown day `{d}`"))
                }
            })
            .collect::<Result<_, _>>()?
    };
    let (a, b) = times
        .trim()
        .split_once('-')
        .ok_or("missing `-` in time range")?;
    if !is_hhmm(a) || !is_hhmm(b) {
        return Err("times must be HH:MM".into());
    }
    if a == b {
        return Err("window is empty".into());
    }
    Ok(Window {
        days,
        start: a.into(),
        end: b.into(),
    })
}

// ---------------------------------------------------------------------------
// Parsing.

/// Turn a serde_yaml error into a diagnostic, with a suggestion for unknown
/// fields and variants.
fn serde_diag(e: &serde_yaml::Error) -> Diagnostic {
    let full = e.to_string();
    // serde_yaml appends " at line L column C"; we report position separately.
    // The position is reported on its own: drop its copy from the text.
    let msg = match e.location() {
        Some(l) => full.replacen(
            &format!(" at line {} column {}", l.line(), l.column()),
            "",
            1,
        ),
        None => full.clone(),
    };
    let (path, msg) = match msg.split_once(": ") {
        Some((p, m)) if !p.contains(' ') && !p.contains('`') => (p.to_string(), m.to_string()),
        _ => (String::new(), msg),
    };
    let known = [
        "unknown field",
        "unknown variant",
        "missing field",
        "invalid type",
        "invalid value",
        "duplicate",
    ];
    let msg = if known.iter().any(|k| msg.starts_with(k)) {
        msg
    } else {
        format!("invalid YAML: {msg}")
    };
    let mut d = Diagnostic::error(path, msg.clone());
    if let Some(loc) = e.location() {
        d.line = Some(loc.line());
        d.column = Some(loc.column());
    }
    // "unknown field `x`, expected one of `a`, `b`" / "unknown variant `x`, expected `a` or `b`"
    for kind in ["unknown field `", "unknown variant `"] {
        if let Some(rest) = msg.strip_prefix(kind) {
            if let Some((word, tail)) = rest.split_once('`') {
                let what = if kind.contains("field") {
                    "unknown key"
                } else {
                    "unknown value"
                };
                d.message = format!("{what} `{word}`");
                let cands: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
                if !cands.is_empty() {
                    d.expected = Some(format!("one of {}", cands.join(", ")));
                } else if tail.contains("there are no fields") {
                    d.expected = Some("no keys here".into());
                }
                d.hint = did_you_mean(word, cands.iter().copied());
            }
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let f = rest.trim_end_matches('`');
        d.message = format!("missing required key `{f}`");
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((got, exp)) = rest.split_once(", expected ") {
            d.message = format!("wrong type: got {got}");
            d.expected = Some(match exp {
                "u16" => "a whole number from 1 to 65535".to_string(),
                "u32" | "u64" => "a whole number".to_string(),
                "f64" => "a number".to_string(),
                "a boolean" => "true or false".to_string(),
                _ => exp.to_string(),
            });
        }
    }
    d
}

/// Parse and validate an inventory file. On error nothing is written
/// anywhere; the caller reports the diagnostics and exits 2.
pub fn load(file: &Path) -> Result<Resolved, InvalidInput> {
    let src = std::fs::read_to_string(file).map_err(|e| InvalidInput {
        file: file.to_path_buf(),
        diagnostics: vec![Diagnostic {
            file: file.to_path_buf(),
            ..Diagnostic::error("", format!("cannot read inventory: {e}"))
        }],
    })?;
    load_str(file, &src)
}

pub fn load_str(file: &Path, src: &str) -> Result<Resolved, InvalidInput> {
    let fail = |mut d: Vec<Diagnostic>| {
        for x in &mut d {
            x.file = file.to_path_buf();
        }
        InvalidInput {
            file: file.to_path_buf(),
            diagnostics: d,
        }
    };
    let index = PositionIndex::build(src);
    if !index.duplicates.is_empty() {
        let diags = index
            .duplicates
            .iter()
            .map(|(path, line, col)| {
                let key = path.rsplit('.').next().unwrap_or(path);
                let mut d = err(path.clone(), format!("duplicate key `{key}`")).expected(
                    "each name once per mapping (a second entry would silently replace the first)",
                );
                d.line = Some(*line);
                d.column = Some(*col);
                d
            })
            .collect();
        return Err(fail(diags));
    }
    let inv: Inventory = serde_yaml::from_str(src).map_err(|e| fail(vec![serde_diag(&e)]))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let catalog_dir = inv.catalog.as_ref().map(|c| base.join(c));
    let catalog = Catalog::with_overrides(catalog_dir.as_deref()).map_err(|e| {
        let mut d = Diagnostic::error("catalog", format!("{e:#}"));
        if let Some((l, c)) = index.locate("catalog") {
            d.line = Some(l);
            d.column = Some(c);
        }
        fail(vec![d])
    })?;
    let mut diags = Vec::new();
    let placement = validate(&inv, &catalog, &mut diags);
    // Key errors point at the key, value errors at the value.
    for d in &mut diags {
        let key_like =
            d.message.starts_with("unknown key") || d.message.starts_with("unknown service");
        index.place(file, std::slice::from_mut(d), key_like);
    }
    diags.sort_by_key(|d| (d.severity, d.line, d.column));
    if diags.iter().any(Diagnostic::is_error) {
        return Err(InvalidInput {
            file: file.to_path_buf(),
            diagnostics: diags,
        });
    }
    Ok(Resolved {
        file: file.to_path_buf(),
        inv,
        catalog,
        placement,
        warnings: diags,
    })
}

// ---------------------------------------------------------------------------
// Validation.

fn err(path: impl Into<String>, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(path, msg)
}

/// Check settings against their schema, filling defaults. Returns JSON for
/// the templates.
fn check_settings(
    path: &str,
    given: &serde_yaml::Mapping,
    schema: &BTreeMap<String, SettingSpec>,
    diags: &mut Vec<Diagnostic>,
) -> Json {
    let mut out = serde_json::Map::new();
    for (k, v) in given {
        let Some(key) = k.as_str() else {
            diags.push(err(path, "setting names must be strings"));
            continue;
        };
        if !schema.contains_key(key) {
            let mut d = err(format!("{path}.{key}"), format!("unknown key `{key}`"));
            d.expected = Some(if schema.is_empty() {
                "no keys here".to_string()
            } else {
                format!(
                    "one of {}",
                    schema.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            });
            d.hint = did_you_mean(key, schema.keys().map(String::as_str));
            diags.push(d);
            let _ = v;
        }
    }
    for (name, spec) in schema {
        let p = format!("{path}.{name}");
        match given.get(name) {
            Some(v) => {
                out.insert(name.clone(), check_value(&p, v, spec, diags));
            }
            None => {
                if spec.required {
                    diags.push(
                        err(p.clone(), format!("missing required key `{name}`"))
                            .expected(spec.doc.clone()),
                    );
                    // Point at the settings mapping (or its service).
                } else if let Some(d) = &spec.default {
                    out.insert(name.clone(), yaml_to_json(d));
                }
                // No default: left out, so templates can use `default(...)`.
            }
        }
    }
    Json::Object(out)
}

fn yaml_to_json(v: &Yaml) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

fn type_name(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

fn check_value(path: &str, v: &Yaml, spec: &SettingSpec, diags: &mut Vec<Diagnostic>) -> Json {
    let wrong = |diags: &mut Vec<Diagnostic>, exp: &str| {
        diags
            .push(err(path, format!("wrong type: got {}", type_name(v))).expected(exp.to_string()));
        Json::Null
    };
    match spec.kind {
        SettingType::Bool => match v {
            Yaml::Bool(b) => Json::Bool(*b),
            _ => wrong(diags, "true or false"),
        },
        SettingType::Int => match v.as_i64() {
            Some(i) => {
                if spec.min.is_some_and(|m| i < m) || spec.max.is_some_and(|m| i > m) {
                    diags.push(err(path, format!("{i} is out of range")).expected(format!(
                        "a whole number from {} to {}",
                        spec.min.map(|m| m.to_string()).unwrap_or("-inf".into()),
                        spec.max.map(|m| m.to_string()).unwrap_or("+inf".into())
                    )));
                }
                Json::from(i)
            }
            None => wrong(diags, "a whole number"),
        },
        SettingType::String
        | SettingType::Email
        | SettingType::Domain
        | SettingType::Ip
        | SettingType::Enum => {
            let s = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Number(n) if spec.kind == SettingType::String => n.to_string(),
                _ => return wrong(diags, "a string"),
            };
            let (ok, exp) = match spec.kind {
                SettingType::String => (is_text(&s), "one line of printable text".to_string()),
                SettingType::Email => (
                    is_email(&s),
                    "an email address such as admin@example.fr".to_string(),
                ),
                SettingType::Domain => (
                    is_domain(&s),
                    "a domain name such as example.fr".to_string(),
                ),
                SettingType::Ip => (
                    s.parse::<IpAddr>().is_ok(),
                    "an IP address such as 203.0.113.7".to_string(),
                ),
                _ => (
                    spec.values.contains(&s),
                    format!("one of {}", spec.values.join(", ")),
                ),
            };
            if !ok {
                let mut d =
                    err(path, format!("invalid value `{}`", s.escape_debug())).expected(exp);
                if spec.kind == SettingType::Enum {
                    d.hint = did_you_mean(&s, spec.values.iter().map(String::as_str));
                }
                diags.push(d);
            }
            Json::String(s)
        }
        SettingType::List => match v {
            Yaml::Sequence(items) => {
                let item = spec.items.as_deref().expect("list setting without items");
                Json::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, x)| check_value(&format!("{path}[{i}]"), x, item, diags))
                        .collect(),
                )
            }
            _ => wrong(diags, "a list"),
        },
        SettingType::Object => match v {
            Yaml::Mapping(m) => check_settings(path, m, &spec.fields, diags),
            _ => wrong(diags, "a mapping"),
        },
    }
}

fn host_candidates(inv: &Inventory) -> impl Iterator<Item = &str> {
    inv.hosts.keys().map(String::as_str)
}

fn hosts_list(inv: &Inventory) -> String {
    inv.hosts.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn resolve_images(
    path: &str,
    d: &Descriptor,
    version: &str,
    overrides: &BTreeMap<String, String>,
    settings: &Json,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    for (comp, img) in overrides {
        if !d.components.contains_key(comp) {
            diags.push(
                err(
                    format!("{path}.images.{comp}"),
                    format!("unknown component `{comp}`"),
                )
                .expected(format!(
                    "one of {}",
                    d.components.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
                .hint(did_you_mean(comp, d.components.keys().map(String::as_str))),
            );
        } else if !is_image_ref(img) {
            diags.push(
                err(format!("{path}.images.{comp}"), format!("invalid image reference `{}`", img.escape_debug()))
                    .expected("an image such as registry.example.fr:5000/team/app:1.2 or name@sha256:<64 hex>"),
            );
        }
    }
    let resolved: BTreeMap<String, String> = d
        .components
        .iter()
        .map(|(name, c)| {
            let img = overrides.get(name).cloned().unwrap_or_else(|| {
                let mut image = c.image.clone();
                if let Json::Object(m) = settings {
                    for (k, v) in m {
                        if let Json::String(s) = v {
                            image = image.replace(&format!("{{{k}}}"), s);
                        }
                    }
                }
                format!(
                    "{image}:{}{}",
                    if c.main || c.versioned {
                        version
                    } else {
                        &c.tag
                    },
                    c.suffix
                )
            });
            (name.clone(), img)
        })
        .collect();
    for (name, img) in &resolved {
        let follows_version = d.components[name].main || d.components[name].versioned;
        // A bad version is reported on its own.
        if !overrides.contains_key(name)
            && (!follows_version || is_tag(version))
            && !is_image_ref(img)
        {
            diags.push(
                err(
                    path,
                    format!(
                        "component `{name}` resolves to an invalid image reference `{}`",
                        img.escape_debug()
                    ),
                )
                .expected("settings and version that make a valid image name"),
            );
        }
    }
    resolved
}

fn validate(
    inv: &Inventory,
    cat: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Vec<Placed>> {
    // Site.
    let s = &inv.site;
    if !is_slug(&s.name) {
        diags.push(err("site.name", format!("invalid site name `{}`", s.name.escape_debug())).expected(
            "a slug: lowercase letters, digits and `-`, at most 63 characters (it names directories and projects)",
        ));
    }
    if !is_domain(&s.domain) {
        diags.push(
            err(
                "site.domain",
                format!("invalid domain `{}`", s.domain.escape_debug()),
            )
            .expected("a domain name such as techniville.fr"),
        );
    }
    if !is_email(&s.contact) {
        diags.push(
            err(
                "site.contact",
                format!("invalid email address `{}`", s.contact.escape_debug()),
            )
            .expected("an email address such as dsi@techniville.fr"),
        );
    }
    if !is_timezone(&s.timezone) {
        diags.push(
            err(
                "site.timezone",
                format!("invalid time zone `{}`", s.timezone.escape_debug()),
            )
            .expected("an IANA zone such as Europe/Paris or UTC"),
        );
    }
    if let Some(n) = &s.display_name {
        if !is_text(n) || n.trim().is_empty() {
            diags.push(
                err(
                    "site.display_name",
                    "display name must be one non-empty line",
                )
                .expected("printable text"),
            );
        }
    }

    // Hosts.
    let mut addresses: BTreeMap<(String, u16), String> = BTreeMap::new();
    for (name, h) in &inv.hosts {
        let p = format!("hosts.{name}");
        if !is_slug(name) {
            diags.push(
                err(
                    p.clone(),
                    format!("invalid host name `{}`", name.escape_debug()),
                )
                .expected("a slug: lowercase letters, digits and `-`"),
            );
        }
        if !is_address(&h.address) {
            diags.push(
                err(
                    format!("{p}.address"),
                    format!("invalid address `{}`", h.address.escape_debug()),
                )
                .expected("an IPv4/IPv6 address or a DNS name"),
            );
        }
        let port = h.ssh.port.unwrap_or(22);
        if port == 0 {
            diags.push(
                err(format!("{p}.ssh.port"), "port 0 is not a valid SSH port")
                    .expected("1 to 65535"),
            );
        }
        if let Some(other) = addresses.insert((h.address.clone(), port), name.clone()) {
            diags.push(
                err(
                    format!("{p}.address"),
                    format!("host `{name}` has the same address and SSH port as `{other}`"),
                )
                .expected("one entry per machine"),
            );
        }
        if let Some(u) = &h.ssh.user {
            if u.is_empty()
                || !u
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            {
                diags.push(
                    err(
                        format!("{p}.ssh.user"),
                        format!("invalid user name `{}`", u.escape_debug()),
                    )
                    .expected("letters, digits, `.`, `_` or `-`"),
                );
            }
        }
        if let Some(j) = &h.ssh.jump {
            let hostpart = j.rsplit('@').next().unwrap_or(j);
            let hostpart = hostpart.split(':').next().unwrap_or(hostpart);
            if j == name {
                diags.push(err(
                    format!("{p}.ssh.jump"),
                    "a host cannot be its own jump host",
                ));
            } else if !inv.hosts.contains_key(j) && !is_address(hostpart) {
                diags.push(
                    err(
                        format!("{p}.ssh.jump"),
                        format!("invalid jump host `{}`", j.escape_debug()),
                    )
                    .expected("another host's name or [user@]host[:port]"),
                );
            }
        }
        if !is_abs_path(&h.base_dir) {
            diags.push(
                err(
                    format!("{p}.base_dir"),
                    format!("invalid directory `{}`", h.base_dir.escape_debug()),
                )
                .expected("an absolute path of letters, digits, `/._-`"),
            );
        }
        match (&h.path, h.role) {
            (Some(path), _) if !is_abs_path(path) => diags.push(
                err(
                    format!("{p}.path"),
                    format!("invalid directory `{}`", path.escape_debug()),
                )
                .expected("an absolute path such as /volume1/regie"),
            ),
            (Some(_), Role::Server | Role::Sbc) => diags.push(
                err(format!("{p}.path"), "`path` is only for NAS hosts").expected("role: nas"),
            ),
            _ => {}
        }
    }

    // Services.
    let mut placement: BTreeMap<String, Vec<Placed>> = BTreeMap::new();
    let mut hostnames: BTreeMap<String, String> = BTreeMap::new();
    for (svc, spec) in &inv.services {
        let p = format!("services.{svc}");
        let Some(d) = cat.stacks.get(svc).filter(|d| !d.automatic) else {
            diags.push(
                err(p.clone(), format!("unknown service `{svc}`"))
                    .expected(format!(
                        "one of {}",
                        cat.placeable().collect::<Vec<_>>().join(", ")
                    ))
                    .hint(did_you_mean(svc, cat.placeable())),
            );
            continue;
        };
        let host = match inv.hosts.get(&spec.host) {
            None => {
                diags.push(
                    err(format!("{p}.host"), format!("unknown host `{}`", spec.host))
                        .expected(format!("one of {}", hosts_list(inv)))
                        .hint(did_you_mean(&spec.host, host_candidates(inv))),
                );
                None
            }
            Some(h) if h.role == Role::Nas => {
                diags.push(
                    err(
                        format!("{p}.host"),
                        format!("`{}` is a NAS: services run on servers", spec.host),
                    )
                    .expected("a host with role server or sbc"),
                );
                None
            }
            Some(h) => Some(h),
        };
        let settings = check_settings(&format!("{p}.settings"), &spec.settings, &d.settings, diags);
        let version = spec.version.clone().unwrap_or_else(|| {
            d.components
                .values()
                .find(|c| c.main)
                .map(|c| c.tag.clone())
                .unwrap_or_default()
        });
        if !is_tag(&version) {
            diags.push(
                err(
                    format!("{p}.version"),
                    format!("invalid version `{}`", version.escape_debug()),
                )
                .expected("an image tag such as 31 or 10.11.4"),
            );
        }
        let images = resolve_images(&p, d, &version, &spec.images, &settings, diags);
        for (comp, r) in &spec.resources {
            let rp = format!("{p}.resources.{comp}");
            if !d.components.contains_key(comp) {
                diags.push(
                    err(rp.clone(), format!("unknown component `{comp}`"))
                        .expected(format!(
                            "one of {}",
                            d.components.keys().cloned().collect::<Vec<_>>().join(", ")
                        ))
                        .hint(did_you_mean(comp, d.components.keys().map(String::as_str))),
                );
            }
            if let Some(m) = &r.memory {
                if !is_memory(m) {
                    diags.push(
                        err(
                            format!("{rp}.memory"),
                            format!("invalid memory size `{}`", m.escape_debug()),
                        )
                        .expected("a size such as 512m or 2g"),
                    );
                }
            }
            if let Some(c) = r.cpus {
                if !(c > 0.0 && c <= 256.0) {
                    diags.push(
                        err(format!("{rp}.cpus"), format!("invalid CPU count {c}"))
                            .expected("a number above 0"),
                    );
                }
            }
        }
        let hostname = if d.web.is_some() || d.subdomain.is_some() {
            let h = spec.hostname.clone().unwrap_or_else(|| {
                format!(
                    "{}.{}",
                    d.subdomain.as_deref().unwrap_or(svc),
                    inv.site.domain
                )
            });
            if !is_domain(&h) {
                diags.push(
                    err(
                        format!("{p}.hostname"),
                        format!("invalid hostname `{}`", h.escape_debug()),
                    )
                    .expected("a fully qualified name such as chat.techniville.fr"),
                );
            } else if let Some(other) = hostnames.insert(h.clone(), svc.clone()) {
                diags.push(
                    err(
                        format!("{p}.hostname"),
                        format!("hostname `{h}` is already used by service `{other}`"),
                    )
                    .expected("one hostname per service"),
                );
            }
            Some(h)
        } else {
            if spec.hostname.is_some() {
                diags.push(err(
                    format!("{p}.hostname"),
                    format!("service `{svc}` has no web entry point"),
                ));
            }
            None
        };
        service_rules(svc, &p, spec, host, &settings, inv, diags);
        if let Some(h) = host {
            let _ = h;
            placement
                .entry(spec.host.clone())
                .or_default()
                .push(Placed {
                    name: svc.clone(),
                    host: spec.host.clone(),
                    hostname,
                    version,
                    images,
                    resources: spec.resources.clone(),
                    settings,
                });
        }
    }

    // Proxy on each host serving web services.
    if let Some(proxy) = cat.stacks.get("proxy") {
        if let Some(e) = &inv.proxy.email {
            if !is_email(e) {
                diags.push(err(
                    "proxy.email",
                    format!("invalid email address `{}`", e.escape_debug()),
                ));
            }
        }
        let version = inv.proxy.version.clone().unwrap_or_else(|| {
            proxy
                .components
                .values()
                .find(|c| c.main)
                .map(|c| c.tag.clone())
                .unwrap_or_default()
        });
        for (host, stacks) in placement.iter_mut() {
            let web = stacks.iter().any(|s| cat.stacks[&s.name].web.is_some());
            if web {
                let settings = Json::Object(Default::default());
                let images = resolve_images(
                    "proxy",
                    proxy,
                    &version,
                    &inv.proxy.images,
                    &settings,
                    diags,
                );
                stacks.insert(
                    0,
                    Placed {
                        name: "proxy".into(),
                        host: host.clone(),
                        hostname: None,
                        version: version.clone(),
                        images,
                        resources: BTreeMap::new(),
                        settings,
                    },
                );
            }
        }
    }

    // Ports, RAM, mail reachability per host.
    for (host, stacks) in &placement {
        let h = &inv.hosts[host];
        let mut ports: BTreeMap<(u16, Proto), String> = BTreeMap::new();
        let mut ram = 0;
        for s in stacks {
            let d = &cat.stacks[&s.name];
            ram += d.min_ram_mb;
            for port in &d.ports {
                if let Some(other) = ports.insert((port.port, port.proto), s.name.clone()) {
                    diags.push(
                        err(
                            format!("services.{}.host", s.name),
                            format!(
                                "port {}/{} on host `{host}` is claimed by both `{other}` and `{}`",
                                port.port, port.proto, s.name
                            ),
                        )
                        .expected("each public port used by one service per host"),
                    );
                }
            }
        }
        if let Some(declared) = h.ram_mb {
            if declared < ram {
                diags.push(
                    Diagnostic::warning(
                        format!("hosts.{host}.ram_mb"),
                        format!(
                            "host `{host}` declares {declared} MB of RAM but its services need at least {ram} MB ({})",
                            stacks.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" + ")
                        ),
                    )
                    .expected(format!("ram_mb >= {ram}")),
                );
            }
        }
        if !h.public && stacks.iter().any(|s| s.name == "mail") {
            diags.push(Diagnostic::warning(
                "services.mail.host",
                format!(
                    "host `{host}` is LAN-only (public: false): mail from the internet cannot reach it; \
                     only local and relayed mail will work"
                ),
            ));
        }
    }

    // Backup.
    if let Some(b) = &inv.backup {
        if b.to != "local" {
            match inv.hosts.get(&b.to) {
                None => diags.push(
                    err("backup.to", format!("unknown host `{}`", b.to))
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
        if let Some(path) = &b.path {
            if !is_abs_path(path) {
                diags.push(
                    err(
                        "backup.path",
                        format!("invalid directory `{}`", path.escape_debug()),
                    )
                    .expected("an absolute path"),
                );
            }
        }
        if !is_hhmm(&b.at) {
            diags.push(
                err(
                    "backup.at",
                    format!("invalid time `{}`", b.at.escape_debug()),
                )
                .expected("HH:MM, e.g. 02:30"),
            );
        }
        if b.keep.last + b.keep.daily + b.keep.weekly + b.keep.monthly == 0 {
            diags.push(
                err("backup.keep", "retention keeps nothing")
                    .expected("at least one of last, daily, weekly, monthly above 0"),
            );
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

    for (path, msg) in inv.monitoring.thresholds.problems() {
        diags.push(err(format!("monitoring.thresholds.{path}"), msg));
    }
    if let Some(t) = &inv.monitoring.tls_connect {
        if !t
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0))
        {
            diags.push(
                err(
                    "monitoring.tls_connect",
                    format!("invalid address `{}`", t.escape_debug()),
                )
                .expected("HOST:PORT, such as 192.168.1.10:443"),
            );
        }
    }
    if let Some(m) = &inv.maintenance {
        if let Err(e) = parse_window(&m.window) {
            diags.push(
                err("maintenance.window", format!("invalid window `{}`: {e}", m.window.escape_debug()))
                    .expected("days and a time range such as `sun 03:00-05:00`, `mon,thu 22:00-23:30` or `daily 04:00-05:00`"),
            );
        }
    }
    for (name, r) in &inv.registries {
        let ok = (r.url.starts_with("https://") || r.url.starts_with("http://"))
            && !r.url.contains(char::is_whitespace);
        if !ok {
            diags.push(
                err(
                    format!("registries.{name}.url"),
                    format!("invalid registry URL `{}`", r.url.escape_debug()),
                )
                .expected("an http(s) URL such as https://mirror.example.fr"),
            );
        }
    }
    for (i, e) in inv.notify.email.iter().enumerate() {
        if !is_email(e) {
            diags.push(
                err(
                    format!("notify.email[{i}]"),
                    format!("invalid email address `{}`", e.escape_debug()),
                )
                .expected("an email address"),
            );
        }
    }
    if let Some(w) = &inv.notify.webhook {
        let ok = w
            .strip_prefix("https://")
            .or_else(|| w.strip_prefix("http://"))
            .is_some_and(|r| {
                let host = r.split(['/', ':']).next().unwrap_or("");
                is_address(host) && is_text(r) && !r.contains(' ')
            });
        if !ok {
            diags.push(
                err(
                    "notify.webhook",
                    format!("invalid URL `{}`", w.escape_debug()),
                )
                .expected("an http(s) URL such as https://chat.example.fr/hooks/xyz"),
            );
        }
    }
    match &inv.notify.smtp {
        None if !inv.notify.email.is_empty() => diags.push(
            err(
                "notify.email",
                "`notify.smtp` is missing: reports to these addresses cannot be sent without a mail server",
            )
            .expected("a `notify.smtp` section with at least `host` and `from`"),
        ),
        None => {}
        Some(smtp) => {
            if !is_address(&smtp.host) {
                diags.push(
                    err(
                        "notify.smtp.host",
                        format!("invalid SMTP server `{}`", smtp.host.escape_debug()),
                    )
                    .expected("a domain name or IP address such as smtp.example.fr"),
                );
            }
            if smtp.port == 0 {
                diags.push(
                    err("notify.smtp.port", "port 0 is not a valid SMTP port")
                        .expected("1-65535 (usually 587 with starttls, 465 with tls)"),
                );
            }
            if !is_email(&smtp.from) {
                diags.push(
                    err(
                        "notify.smtp.from",
                        format!("invalid sender address `{}`", smtp.from.escape_debug()),
                    )
                    .expected("an email address"),
                );
            }
            if let Some(u) = &smtp.user {
                if u.is_empty() || !is_text(u) {
                    diags.push(
                        err(
                            "notify.smtp.user",
                            format!("invalid SMTP user `{}`", u.escape_debug()),
                        )
                        .expected("a non-empty login without control characters"),
                    );
                }
            }
            if smtp.security == SmtpSecurity::None && !smtp.is_loopback() {
                diags.push(
                    Diagnostic::warning(
                        "notify.smtp.security",
                        format!(
                            "reports{} are sent unencrypted to `{}`",
                            if smtp.user.is_some() {
                                " and the SMTP password"
                            } else {
                                ""
                            },
                            smtp.host.escape_debug()
                        ),
                    )
                    .expected("`starttls` or `tls` unless the server is this machine (localhost, 127.0.0.1, ::1)"),
                );
            }
            if inv.notify.email.is_empty() {
                diags.push(Diagnostic::warning(
                    "notify.smtp",
                    "`notify.smtp` is set but `notify.email` is empty: no report is emailed",
                ));
            }
        }
    }
    for (i, r) in inv.secrets.recipients.iter().enumerate() {
        if r.parse::<age::x25519::Recipient>().is_err() {
            diags.push(
                err(
                    format!("secrets.recipients[{i}]"),
                    format!("invalid age recipient `{}`", r.escape_debug()),
                )
                .expected("an age public key starting with age1"),
            );
        }
    }
    placement
}

/// Rules that belong to one built-in service and cannot be said in a schema.
fn service_rules(
    svc: &str,
    p: &str,
    _spec: &ServiceSpec,
    host: Option<&Host>,
    settings: &Json,
    inv: &Inventory,
    diags: &mut Vec<Diagnostic>,
) {
    match svc {
        "mail" => {
            let domains: BTreeSet<String> = settings["domains"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let domains = if domains.is_empty() {
                BTreeSet::from([inv.site.domain.clone()])
            } else {
                domains
            };
            let mut seen = BTreeSet::new();
            for (i, a) in settings["accounts"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let addr = a["address"].as_str().unwrap_or_default();
                if let Some((_, dom)) = addr.rsplit_once('@') {
                    if !domains.contains(dom) {
                        diags.push(
                            err(
                                format!("{p}.settings.accounts[{i}].address"),
                                format!("`{addr}` is not in one of the mail domains"),
                            )
                            .expected(format!(
                                "an address @{}",
                                domains.iter().cloned().collect::<Vec<_>>().join(" or @")
                            )),
                        );
                    }
                }
                if !seen.insert(addr.to_string()) {
                    diags.push(err(
                        format!("{p}.settings.accounts[{i}].address"),
                        format!("account `{addr}` is listed twice"),
                    ));
                }
            }
        }
        "visio" if settings["public_ip"].is_null() => {
            if let Some(h) = host {
                if h.address.parse::<IpAddr>().is_err() {
                    diags.push(
                        err(
                            format!("{p}.settings"),
                            "Jitsi needs the IP address clients reach the video bridge on",
                        )
                        .expected(format!(
                            "settings.public_ip (the host address `{}` is not an IP)",
                            h.address
                        )),
                    );
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_checks() {
        assert!(is_domain("techniville.fr"));
        assert!(!is_domain("techniville"));
        assert!(!is_domain("-a.fr"));
        assert!(!is_domain("a..fr"));
        assert!(!is_domain("1.2.3.4"));
        assert!(is_email("dsi@techniville.fr"));
        assert!(!is_email("dsi@techniville"));
        assert!(!is_email("a b@x.fr"));
        assert!(is_image_ref("postgres:17"));
        assert!(is_image_ref("registry.local:5000/team/app:1.2"));
        assert!(is_image_ref("ghcr.io/jitsi/web:stable-10314"));
        assert!(is_image_ref(&format!("x@sha256:{}", "a".repeat(64))));
        assert!(!is_image_ref("Postgres:17"));
        assert!(!is_image_ref("x:1;rm -rf /"));
        assert!(is_memory("512m") && is_memory("2g") && !is_memory("2 GB"));
    }

    #[test]
    fn windows() {
        let w = parse_window("sun 03:00-05:00").unwrap();
        assert_eq!(w.days, vec!["sun"]);
        assert_eq!(parse_window("daily 04:00-05:00").unwrap().days.len(), 7);
        assert!(parse_window("sunday 03:00-05:00").is_err());
        assert!(parse_window("sun 3h-5h").is_err());
    }
}

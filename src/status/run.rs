//! Collects a site's status over SSH and the Docker API (`regie status`),
//! and judges it (`regie check`). Every host is read in one SSH round trip
//! plus the Docker API through the same session; hosts in parallel.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::apply::{connect, RunOptions};
use crate::backup::Repo;
use crate::check::{self, Level, Thresholds};
use crate::cli::{print_json, Output};
use crate::inventory::{Resolved, Role};
use crate::status::{
    self, CertStatus, ContainerStatus, HostStatus, NasStatus, ServiceStatus, SiteStatus,
    VersionStatus,
};

/// What to read besides hosts and containers.
#[derive(Debug, Clone)]
pub struct Collect {
    pub run: RunOptions,
    /// Ask the registries for newer versions.
    pub versions: bool,
    /// Simulate an OS upgrade on each host (apt, no refresh).
    pub os: bool,
    /// Read the public hostnames' certificates.
    pub tls: bool,
}

/// What both `status` and `check` can leave out, and host keys.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Do not check pending OS updates.
    #[arg(long)]
    pub no_os: bool,
    /// Do not read the TLS certificates.
    #[arg(long)]
    pub no_tls: bool,
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Hosts read at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
}

impl ReadArgs {
    fn collect(&self, versions: bool) -> Collect {
        Collect {
            run: RunOptions {
                accept_new_host_keys: self.accept_new_host_keys,
                parallel: self.parallel,
                ..Default::default()
            },
            versions,
            os: !self.no_os,
            tls: !self.no_tls,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// Do not ask the registries for newer versions.
    #[arg(long)]
    pub no_registry: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The site to check (required without a subcommand).
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: Option<PathBuf>,
    /// Disk use (percent) from which a file system is WARNING.
    #[arg(long, value_name = "PCT")]
    pub disk_warning: Option<f64>,
    /// Disk use (percent) from which a file system is CRITICAL.
    #[arg(long, value_name = "PCT")]
    pub disk_critical: Option<f64>,
    /// Days before expiry from which a certificate is WARNING.
    #[arg(long, value_name = "DAYS")]
    pub cert_warning: Option<f64>,
    /// Days before expiry from which a certificate is CRITICAL.
    #[arg(long, value_name = "DAYS")]
    pub cert_critical: Option<f64>,
    /// Hours after which the last successful backup is CRITICAL.
    #[arg(long, value_name = "HOURS")]
    pub backup_max_age: Option<f64>,
    /// Also ask the registries for newer versions (reported, never a
    /// warning: updates are `maintain`'s business).
    #[arg(long)]
    pub versions: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// One host's reading.
struct HostReading {
    status: HostStatus,
    containers: Vec<(String, ContainerStatus)>,
    runs: String,
    now: Option<u64>,
}

fn read_host(site: &Resolved, host: &str, c: &Collect) -> HostReading {
    let h = &site.inv.hosts[host];
    let mut st = HostStatus {
        host: host.to_string(),
        role: format!("{:?}", h.role).to_lowercase(),
        ..Default::default()
    };
    let mut containers = Vec::new();
    let mut runs = String::new();
    let mut now = None;
    let res = (|| -> Result<()> {
        let conn = connect(site, host, &c.run)?;
        st.reachable = true;
        let out = conn.run(&status::host_script(&h.base_dir), b"")?;
        let f = status::parse_host(&String::from_utf8_lossy(&out.stdout), &h.base_dir);
        if f.now.is_none() {
            bail!("incomplete answer from the host: {}", out.stderr.trim());
        }
        now = f.now;
        let t = f.now.unwrap_or_else(crate::apply::unix_now);
        st.uptime_secs = f.uptime_secs;
        st.load1 = f.load1;
        st.mem_total_kib = f.mem_total_kib;
        st.mem_available_kib = f.mem_available_kib;
        st.disks = f.disks;
        st.lock = f.lock;
        runs = f.runs;
        if c.os {
            match conn.run(&crate::osupdate::report_script(false), b"") {
                Ok(o) if o.ok() => {
                    let r = crate::osupdate::parse_report(&String::from_utf8_lossy(&o.stdout));
                    if r.supported {
                        st.os_security_updates = Some(r.security_count as u64);
                        st.os_other_updates = Some(r.other_count as u64);
                        st.reboot_required = Some(r.reboot_required);
                        if !r.errors.is_empty() {
                            st.os_error = Some(r.errors.join("; "));
                        }
                    }
                }
                Ok(o) => st.os_error = Some(format!("exit {}: {}", o.status, o.stderr.trim())),
                Err(e) => st.os_error = Some(e.to_string()),
            }
        }
        if site.placement.contains_key(host) {
            let api = crate::docker_api::DockerApi::open(&conn)?;
            let label = format!("regie.site={}", site.inv.site.name);
            containers = api.status(&label, t)?;
            // Until a second ago: a stream whose end is now or later stays open
            // on some engines.
            match api.stops(&label, t.saturating_sub(86400), t.saturating_sub(1)) {
                Ok(stops) => {
                    for (_, c) in containers.iter_mut() {
                        c.restarts_24h = Some(stops.get(&c.name).copied().unwrap_or(0));
                    }
                }
                Err(e) => st.error = Some(format!("restart count: {e:#}")),
            }
        }
        Ok(())
    })();
    if let Err(e) = res {
        st.error = Some(format!("{e:#}"));
        // A host whose script or Docker API failed is not known to be fine.
        if containers.is_empty() && st.disks.is_empty() {
            st.reachable = false;
        }
    }
    HostReading {
        status: st,
        containers,
        runs,
        now,
    }
}

fn read_nas(site: &Resolved, o: &RunOptions) -> Option<NasStatus> {
    let Some(Repo::Sftp { nas, base, .. }) = Repo::of(site) else {
        return None;
    };
    let mut st = NasStatus {
        host: nas.clone(),
        ..Default::default()
    };
    let script = format!(
        "echo '==regie:df'; df -Pk {b}; echo '==regie:dfi'; df -Pi {b}; echo '==regie:end'\n",
        b = crate::ssh::quote(&nas_df_dir(&base))
    );
    match connect(site, &nas, o).and_then(|c| Ok(c.run(&script, b"")?)) {
        Ok(out) => {
            st.reachable = true;
            let f = status::parse_host(&String::from_utf8_lossy(&out.stdout), &base);
            st.disk = f.disks.into_iter().next().map(|mut d| {
                d.path = base.clone();
                d
            });
            if st.disk.is_none() {
                st.error = Some(format!("df failed: {}", out.stderr.trim()));
            }
        }
        Err(e) => st.error = Some(format!("{e:#}")),
    }
    Some(st)
}

/// The repository directory may not exist yet: ask about its parent.
fn nas_df_dir(base: &str) -> String {
    match base.rsplit_once('/') {
        Some((parent, _)) if !parent.is_empty() => parent.to_string(),
        _ => base.to_string(),
    }
}

fn services_of(
    site: &Resolved,
    host: &str,
    containers: &[(String, ContainerStatus)],
) -> Vec<ServiceStatus> {
    let Some(placed) = site.placement.get(host) else {
        return Vec::new();
    };
    placed
        .iter()
        .map(|p| {
            let mine: Vec<ContainerStatus> = containers
                .iter()
                .filter(|(project, _)| {
                    *project == crate::render::project(&site.inv.site.name, &p.name)
                })
                .map(|(_, c)| c.clone())
                .collect();
            let missing = if mine.is_empty() {
                Vec::new()
            } else {
                p.images
                    .keys()
                    .filter(|k| !mine.iter().any(|c| &c.component == *k))
                    .cloned()
                    .collect()
            };
            ServiceStatus {
                service: p.name.clone(),
                host: host.to_string(),
                hostname: p.hostname.clone(),
                containers: mine,
                missing,
                version: None,
            }
        })
        .collect()
}

fn backups_of(
    site: &Resolved,
    host: &str,
    runs: &str,
    now: u64,
) -> Vec<crate::backup::ServiceStatus> {
    let services: Vec<String> = crate::backup::captures(site, host)
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    if services.is_empty() {
        return Vec::new();
    }
    let (results, _) = crate::backup::parse_results(runs);
    crate::backup::service_status(host, &services, &results, now)
        .into_iter()
        .map(|mut s| {
            // Not rounded: a limit can be shorter than a tenth of an hour.
            s.age_hours = s
                .last_success
                .map(|t| now.saturating_sub(t) as f64 / 3600.0);
            s
        })
        .collect()
}

/// Where each public hostname's certificate is read: `monitoring.tls_connect`
/// when set, else the hostname itself on 443; and whether it must be
/// publicly trusted.
pub fn cert_targets(site: &Resolved) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = Vec::new();
    for p in site.placement.values().flatten() {
        if let Some(h) = &p.hostname {
            if out.iter().any(|(x, _, _)| x == h) {
                continue;
            }
            let endpoint = site
                .inv
                .monitoring
                .tls_connect
                .clone()
                .unwrap_or_else(|| format!("{h}:443"));
            out.push((h.clone(), endpoint, site.acme(&p.host)));
        }
    }
    out
}

fn read_certs(site: &Resolved, now: i64) -> Vec<CertStatus> {
    let targets = cert_targets(site);
    std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|(h, e, public)| {
                s.spawn(move || CertStatus {
                    public_ca: *public,
                    ..crate::tls::check(h, e, now)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("certificate thread"))
            .collect()
    })
}

fn versions(site: &Resolved, o: &RunOptions, services: &mut [ServiceStatus]) -> Option<String> {
    let checks = match crate::update_run::check(site, o, None) {
        Ok(c) => c,
        Err(e) => return Some(format!("versions not checked: {e:#}")),
    };
    for c in checks {
        let Some(cand) = &c.candidates else { continue };
        if let Some(s) = services.iter_mut().find(|s| s.service == c.service) {
            s.version = Some(VersionStatus {
                component: c.component.clone(),
                wanted: status::image_tag(&c.image).unwrap_or("").to_string(),
                running: c
                    .running
                    .as_deref()
                    .and_then(status::image_tag)
                    .map(str::to_string),
                newest_allowed: cand.allowed.clone(),
                newer: cand.newer.clone(),
                error: c.error.clone(),
            });
        }
    }
    None
}

/// Read a site's status.
pub fn collect(site: &Resolved, c: &Collect) -> SiteStatus {
    let hosts: Vec<String> = site
        .inv
        .hosts
        .iter()
        .filter(|(n, h)| h.role != Role::Nas || site.placement.contains_key(*n))
        .map(|(n, _)| n.clone())
        .collect();
    let readings = crate::apply::in_parallel(
        &hosts,
        |h| h.as_str(),
        c.run.parallel,
        |h, _| read_host(site, h, c),
        |r| {
            if r.status.reachable {
                "read"
            } else {
                "unreachable"
            }
        },
    );
    let now = readings
        .iter()
        .find_map(|r| r.now)
        .unwrap_or_else(crate::apply::unix_now);
    let mut st = SiteStatus {
        site: site.inv.site.name.clone(),
        display_name: site.inv.site.display().to_string(),
        locale: serde_json::to_value(site.inv.site.locale)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "en".into()),
        time: crate::apply::unix_now(),
        backup_max_age_hours: site
            .inv
            .backup
            .as_ref()
            .map(|_| crate::backup::MAX_AGE_SECS as f64 / 3600.0),
        ..Default::default()
    };
    for r in readings {
        st.services
            .extend(services_of(site, &r.status.host, &r.containers));
        if r.status.reachable {
            st.backups.extend(backups_of(
                site,
                &r.status.host,
                &r.runs,
                r.now.unwrap_or(now),
            ));
        }
        st.hosts.push(r.status);
    }
    st.nas = read_nas(site, &c.run);
    if c.tls {
        st.certificates = read_certs(site, now as i64);
    }
    if c.versions {
        if let Some(e) = versions(site, &c.run, &mut st.services) {
            st.errors.push(e);
        }
    }
    st
}

fn fmt_age(secs: u64) -> String {
    match secs {
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h{:02}", s / 3600, (s % 3600) / 60),
        s => format!("{}d", s / 86400),
    }
}

/// The text table of `regie status`.
pub fn text(st: &SiteStatus) -> String {
    let mut t = format!("{} ({})\n\nHOSTS\n", st.display_name, st.site);
    t.push_str(&format!(
        "{:<10} {:<7} {:>8} {:>6} {:>5}  {:<36} {:<10} LOCK\n",
        "HOST", "STATE", "UPTIME", "LOAD", "MEM", "DISK (used, inodes)", "OS UPDATES"
    ));
    for h in &st.hosts {
        let disks: Vec<String> = h
            .disks
            .iter()
            .map(|d| {
                format!(
                    "{} {:.0}%{}",
                    d.mount,
                    d.used_pct,
                    d.inodes_pct
                        .map(|i| format!("/{i:.0}%i"))
                        .unwrap_or_default()
                )
            })
            .collect();
        let os = match (h.os_security_updates, h.os_other_updates) {
            (Some(s), Some(o)) => format!(
                "{s} sec, {o}{}",
                if h.reboot_required == Some(true) {
                    ", reboot"
                } else {
                    ""
                }
            ),
            _ => "-".into(),
        };
        t.push_str(&format!(
            "{:<10} {:<7} {:>8} {:>6} {:>5}  {:<36} {:<10} {}\n",
            h.host,
            if h.reachable { "up" } else { "DOWN" },
            h.uptime_secs.map(fmt_age).unwrap_or_else(|| "-".into()),
            h.load1
                .map(|l| format!("{l:.2}"))
                .unwrap_or_else(|| "-".into()),
            h.mem_used_pct()
                .map(|m| format!("{m:.0}%"))
                .unwrap_or_else(|| "-".into()),
            disks.join(", "),
            os,
            h.lock
                .as_ref()
                .map(|l| format!(
                    "held {} by {}",
                    l.age_secs.map(fmt_age).unwrap_or_default(),
                    l.holder
                ))
                .unwrap_or_else(|| "free".into()),
        ));
        if let Some(e) = &h.error {
            t.push_str(&format!("  ! {e}\n"));
        }
    }
    if let Some(n) = &st.nas {
        t.push_str(&format!(
            "{:<10} {:<7} {}\n",
            n.host,
            if n.reachable { "up" } else { "DOWN" },
            match (&n.disk, &n.error) {
                (Some(d), _) => format!(
                    "NAS {} {:.0}% used, {} free",
                    d.path,
                    d.used_pct,
                    check::human_kib(d.avail_kib)
                ),
                (None, Some(e)) => format!("NAS unreachable: {e}"),
                _ => "NAS".into(),
            }
        ));
    }
    t.push_str(&format!(
        "\nSERVICES\n{:<8} {:<8} {:<26} {:<12} {:<10} {:>8} {:>8}  VERSION\n",
        "SERVICE", "HOST", "CONTAINER", "STATE", "HEALTH", "UPTIME", "STOPS24H"
    ));
    for s in &st.services {
        let version = s
            .version
            .as_ref()
            .map(|v| {
                let run = v.running.clone().unwrap_or_else(|| "-".into());
                match &v.newest_allowed {
                    Some(n) => format!("{run} (update: {n})"),
                    None if !v.newer.is_empty() => {
                        format!(
                            "{run} (newer: {})",
                            v.newer.last().cloned().unwrap_or_default()
                        )
                    }
                    None => format!("{run} (current)"),
                }
            })
            .unwrap_or_default();
        if s.containers.is_empty() {
            t.push_str(&format!(
                "{:<8} {:<8} {:<26} {:<12}\n",
                s.service, s.host, "-", "no container"
            ));
        }
        for (i, c) in s.containers.iter().enumerate() {
            t.push_str(&format!(
                "{:<8} {:<8} {:<26} {:<12} {:<10} {:>8} {:>8}  {}\n",
                if i == 0 { s.service.as_str() } else { "" },
                if i == 0 { s.host.as_str() } else { "" },
                c.name,
                c.state,
                c.health.as_deref().unwrap_or("-"),
                c.uptime_secs.map(fmt_age).unwrap_or_else(|| "-".into()),
                c.restarts_24h
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "?".into()),
                if i == 0 { version.as_str() } else { "" },
            ));
        }
        for m in &s.missing {
            t.push_str(&format!("{:<8} {:<8} {:<26} missing\n", "", "", m));
        }
    }
    if !st.certificates.is_empty() {
        t.push_str("\nCERTIFICATES\n");
        for c in &st.certificates {
            t.push_str(&format!(
                "{:<34} {}\n",
                c.hostname,
                match c.days_left {
                    Some(d) => format!(
                        "{d:.1} days left{}",
                        match (c.trusted, &c.error) {
                            (Some(false), Some(e)) => format!(", NOT TRUSTED: {e}"),
                            (Some(true), _) => ", trusted".into(),
                            _ => String::new(),
                        }
                    ),
                    None => format!("not read: {}", c.error.as_deref().unwrap_or("?")),
                }
            ));
        }
    }
    if !st.backups.is_empty() {
        t.push_str("\nBACKUPS\n");
        for b in &st.backups {
            t.push_str(&format!(
                "{:<8} {:<8} {}{}\n",
                b.service,
                b.host,
                b.age_hours
                    .map(|a| format!("last success {a:.1} h ago"))
                    .unwrap_or_else(|| "never backed up".into()),
                b.last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            ));
        }
    }
    for e in &st.errors {
        t.push_str(&format!("\n! {e}\n"));
    }
    t
}

pub fn status_cli(args: &StatusArgs, output: Output) -> Result<i32> {
    let site = crate::cli::load(&args.inventory)?;
    let st = collect(&site, &args.read.collect(!args.no_registry));
    crate::history::record_quietly(&st);
    if output == Output::Json {
        print_json(&serde_json::to_value(&st)?)?;
    } else {
        std::io::stdout().lock().write_all(text(&st).as_bytes())?;
    }
    let down = st.hosts.iter().any(|h| !h.reachable);
    Ok(if down { crate::cli::EXIT_FAILED } else { 0 })
}

/// The site's thresholds with the command line's overrides.
pub fn thresholds(site: &Resolved, args: &CheckArgs) -> Result<Thresholds> {
    let mut t = site.inv.monitoring.thresholds.clone();
    let set = |slot: &mut f64, v: Option<f64>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(&mut t.disk_warning, args.disk_warning);
    set(&mut t.disk_critical, args.disk_critical);
    set(&mut t.cert_warning_days, args.cert_warning);
    set(&mut t.cert_critical_days, args.cert_critical);
    if args.backup_max_age.is_some() {
        t.backup_max_age_hours = args.backup_max_age;
    }
    if let Some((field, msg)) = t.problems().into_iter().next() {
        bail!("invalid threshold {field}: {msg}");
    }
    Ok(t)
}

pub fn check_cli(args: &CheckArgs, output: Output) -> Result<i32> {
    let Some(inv) = &args.inventory else {
        println!("REGIE UNKNOWN - no inventory: regie check -i SITE.yml (or regie check dns -i SITE.yml)");
        return Ok(Level::Unknown.exit_code());
    };
    // A plugin must answer UNKNOWN, never crash, on a bad configuration.
    let prepared = crate::cli::load(inv).and_then(|site| {
        let t = thresholds(&site, args)?;
        Ok((site, t))
    });
    let (site, t) = match prepared {
        Ok(x) => x,
        Err(e) => {
            return Ok(crate::cli::plugin_unknown(
                "REGIE",
                &e.context(inv.display().to_string()),
            ))
        }
    };
    let st = collect(&site, &args.read.collect(args.versions));
    crate::history::record_quietly(&st);
    let findings = check::judge(&st, &t);
    let level = check::worst(&findings);
    if output == Output::Json {
        print_json(&serde_json::json!({
            "site": st.site,
            "level": level,
            "exit": level.exit_code(),
            "findings": findings,
            "perfdata": check::perfdata(&st, &t),
            "status": st,
        }))?;
    } else {
        print!("{}", check::plugin_output(&st, &findings, &t));
    }
    Ok(level.exit_code())
}

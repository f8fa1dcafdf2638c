//! Collects a site's status over SSH and the Docker API (`regie status`),
//! and judges it (`regie check`). Every host is read in one SSH round trip
//! plus the Docker API through the same session; hosts in parallel.

use anyhow::{bail, Result};

use crate::backup::plan::Repo;
use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::{Resolved, Role};
use crate::site::state::{
    CertStatus, ContainerStatus, HostStatus, NasStatus, ServiceStatus, SiteStatus, VersionStatus,
};
use crate::status::plan as probe;

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
        let out = conn.run(&probe::host_script(&h.base_dir), b"")?;
        let f = probe::parse_host(&String::from_utf8_lossy(&out.stdout), &h.base_dir);
        if f.now.is_none() {
            bail!("incomplete answer from the host: {}", out.stderr.trim());
        }
        now = f.now;
        let t = f.now.unwrap_or_else(crate::util::time::unix_now);
        st.uptime_secs = f.uptime_secs;
        st.load1 = f.load1;
        st.mem_total_kib = f.mem_total_kib;
        st.mem_available_kib = f.mem_available_kib;
        st.disks = f.disks;
        st.lock = f.lock;
        runs = f.runs;
        if c.os {
            match conn.run(&crate::osupdate::plan::report_script(false), b"") {
                Ok(o) if o.ok() => {
                    let r =
                        crate::osupdate::plan::parse_report(&String::from_utf8_lossy(&o.stdout));
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
            let api = crate::remote::docker_api::DockerApi::open(&conn)?;
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
    let script = crate::status::plan::nas_script(&base);
    match connect(site, &nas, o).and_then(|c| Ok(c.run(&script, b"")?)) {
        Ok(out) => {
            st.reachable = true;
            let f = probe::parse_host(&String::from_utf8_lossy(&out.stdout), &base);
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
                    *project == crate::site::layout::project(&site.inv.site.name, &p.name)
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
) -> Vec<crate::site::state::BackupStatus> {
    let services: Vec<String> = crate::backup::plan::captures(site, host)
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    if services.is_empty() {
        return Vec::new();
    }
    let (results, _) = crate::backup::plan::parse_results(runs);
    crate::backup::plan::service_status(host, &services, &results, now)
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
                    ..crate::remote::tls::check(h, e, now)
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
    let checks = match crate::update::run::check(site, o, None) {
        Ok(c) => c,
        Err(e) => return Some(format!("versions not checked: {e:#}")),
    };
    for c in checks {
        let Some(cand) = &c.candidates else { continue };
        if let Some(s) = services.iter_mut().find(|s| s.service == c.service) {
            s.version = Some(VersionStatus {
                component: c.component.clone(),
                wanted: crate::site::image::image_tag(&c.image)
                    .unwrap_or("")
                    .to_string(),
                running: c
                    .running
                    .as_deref()
                    .and_then(crate::site::image::image_tag)
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
    let readings = crate::remote::parallel::in_parallel(
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
        .unwrap_or_else(crate::util::time::unix_now);
    let mut st = SiteStatus {
        site: site.inv.site.name.clone(),
        display_name: site.inv.site.display().to_string(),
        locale: serde_json::to_value(site.inv.site.locale)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "en".into()),
        time: crate::util::time::unix_now(),
        backup_max_age_hours: site
            .inv
            .backup
            .as_ref()
            .map(|_| crate::site::state::MAX_AGE_SECS as f64 / 3600.0),
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
    if st.nas.as_ref().is_some_and(|n| n.reachable) {
        match crate::backup::run::nas_retention(site, &c.run) {
            Ok(n) => st.backup_warnings = n.warnings,
            Err(e) => st.errors.push(format!("backup retention: {e:#}")),
        }
    }
    // The off-site copy: copies too old or failed, its retention, the
    // server unreachable.
    if let Some(off) = crate::backup::run::offsite_status(site, &c.run) {
        st.backup_warnings.extend(off.warnings);
        if let Some(e) = off.error {
            st.backup_warnings
                .push(format!("off-site copy `{}`: {e}", off.server));
        }
    }
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

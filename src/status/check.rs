//! `regie check`: a site's status judged against thresholds, with the
//! monitoring plugin conventions (exit 0 OK, 1 WARNING, 2 CRITICAL,
//! 3 UNKNOWN; one summary line and perfdata). Pure: no network here.

use crate::site::state::{Detail, Finding, Level};
use crate::site::thresholds::Thresholds;

use crate::site::state::{
    CertStatus, ContainerStatus, Disk, HostStatus, ServiceStatus, SiteStatus,
};

fn finding(
    level: Level,
    kind: &str,
    subject: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        level,
        kind: kind.into(),
        subject: subject.into(),
        message: message.into(),
        detail: None,
    }
}

/// A finding whose sentence a report can translate: `code` and its values.
fn with_detail(mut f: Finding, code: &str, args: &[String]) -> Finding {
    f.detail = Some(Detail {
        code: code.into(),
        args: args.to_vec(),
    });
    f
}

fn over(v: f64, warn: f64, crit: f64) -> Level {
    if v > crit {
        Level::Critical
    } else if v > warn {
        Level::Warning
    } else {
        Level::Ok
    }
}

fn judge_disk(out: &mut Vec<Finding>, owner: &str, d: &Disk, t: &Thresholds) {
    let subject = format!("{owner}:{}", d.mount);
    let l = over(d.used_pct, t.disk_warning, t.disk_critical);
    if l != Level::Ok {
        let args = [
            subject.clone(),
            format!("{:.0}", d.used_pct),
            human_kib(d.avail_kib),
            format!("{:.0}", t.disk_warning),
            format!("{:.0}", t.disk_critical),
        ];
        out.push(with_detail(
            finding(
                l,
                "disk",
                &subject,
                format!(
                    "{}: {}% used, {} free (limits {}%/{}%)",
                    args[0], args[1], args[2], args[3], args[4]
                ),
            ),
            "disk_used",
            &args,
        ));
    }
    if let Some(p) = d.inodes_pct {
        let l = over(p, t.inodes_warning, t.inodes_critical);
        if l != Level::Ok {
            let args = [
                subject.clone(),
                format!("{p:.0}"),
                format!("{:.0}", t.inodes_warning),
                format!("{:.0}", t.inodes_critical),
            ];
            out.push(with_detail(
                finding(
                    l,
                    "disk",
                    &subject,
                    format!(
                        "{}: {}% of inodes used (limits {}%/{}%)",
                        args[0], args[1], args[2], args[3]
                    ),
                ),
                "disk_inodes",
                &args,
            ));
        }
    }
}

/// `12.3 GiB`, from KiB.
pub fn human_kib(kib: u64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB"];
    let mut v = kib as f64;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", units[i])
}

fn judge_host(out: &mut Vec<Finding>, h: &HostStatus, t: &Thresholds) {
    if !h.reachable {
        out.push(finding(
            Level::Critical,
            "host",
            &h.host,
            format!(
                "{}: unreachable: {}",
                h.host,
                h.error.as_deref().unwrap_or("no answer")
            ),
        ));
        return;
    }
    for d in &h.disks {
        judge_disk(out, &h.host, d, t);
    }
    if let Some(p) = h.mem_used_pct() {
        if p > t.memory_warning {
            out.push(finding(
                Level::Warning,
                "memory",
                &h.host,
                format!(
                    "{}: {p:.0}% of memory in use (limit {:.0}%)",
                    h.host, t.memory_warning
                ),
            ));
        }
    }
    if let Some(l) = &h.lock {
        let hours = l.age_secs.unwrap_or(0) as f64 / 3600.0;
        if hours >= t.lock_stale_hours {
            out.push(finding(
                Level::Warning,
                "lock",
                &h.host,
                format!(
                    "{}: locked for {hours:.0} h by {} (stale? `regie lock release`)",
                    h.host, l.holder
                ),
            ));
        }
    }
    if let Some(e) = &h.os_error {
        out.push(finding(
            Level::Unknown,
            "os",
            &h.host,
            format!("{}: OS updates not checked: {e}", h.host),
        ));
    }
    let sec = h.os_security_updates.unwrap_or(0);
    if sec > 0 && t.security_updates_warning {
        out.push(finding(
            Level::Warning,
            "os",
            &h.host,
            format!(
                "{}: {sec} security update(s) pending (`regie update os`)",
                h.host
            ),
        ));
    }
    if h.reboot_required == Some(true) {
        out.push(finding(
            Level::Warning,
            "os",
            &h.host,
            format!("{}: reboot required", h.host),
        ));
    }
}

fn judge_service(out: &mut Vec<Finding>, s: &ServiceStatus, t: &Thresholds, host_down: bool) {
    if host_down {
        return; // the host's finding says it all
    }
    let name = &s.service;
    if s.containers.is_empty() {
        out.push(finding(
            Level::Critical,
            "service",
            name,
            format!(
                "{name}: no container on {} (not deployed, or removed)",
                s.host
            ),
        ));
        return;
    }
    for m in &s.missing {
        out.push(finding(
            Level::Critical,
            "service",
            name,
            format!("{name}: component {m} has no container"),
        ));
    }
    for c in &s.containers {
        let health = c.health.as_deref();
        let (level, what) = match (c.state.as_str(), health) {
            ("running", None | Some("healthy")) => (Level::Ok, String::new()),
            ("running", Some("starting")) => (
                Level::Warning,
                "starting (health check pending)".to_string(),
            ),
            ("running", Some("unhealthy")) => (
                Level::Critical,
                format!(
                    "unhealthy{}",
                    c.health_log
                        .as_deref()
                        .map(|l| format!(": {l}"))
                        .unwrap_or_default()
                ),
            ),
            (state, _) => (Level::Critical, state.to_string()),
        };
        if level != Level::Ok {
            out.push(finding(
                level,
                "service",
                name,
                format!("{name}: {} {what}", c.name),
            ));
        }
        if let Some(n) = c.restarts_24h {
            if n >= t.restarts_warning {
                out.push(finding(
                    Level::Warning,
                    "service",
                    name,
                    format!("{name}: {} stopped {n} times in 24 h", c.name),
                ));
            }
        }
    }
}

fn judge_cert(out: &mut Vec<Finding>, c: &CertStatus, t: &Thresholds) {
    let h = &c.hostname;
    let Some(days) = c.days_left else {
        out.push(finding(
            Level::Critical,
            "certificate",
            h,
            format!(
                "{h}: certificate not read: {}",
                c.error.as_deref().unwrap_or("no answer")
            ),
        ));
        return;
    };
    if days < 0.0 {
        let args = [h.clone(), format!("{:.0}", -days)];
        let message = format!("{}: certificate expired {} day(s) ago", args[0], args[1]);
        let f = finding(Level::Critical, "certificate", h, message);
        out.push(with_detail(f, "cert_expired", &args));
        return;
    }
    let l = if days < t.cert_critical_days {
        Level::Critical
    } else if days < t.cert_warning_days {
        Level::Warning
    } else {
        Level::Ok
    };
    if l != Level::Ok {
        let args = [h.clone(), format!("{days:.1}")];
        let message = format!("{}: certificate expires in {} day(s)", args[0], args[1]);
        let f = finding(l, "certificate", h, message);
        out.push(with_detail(f, "cert_expires", &args));
    }
    if c.public_ca && c.trusted == Some(false) {
        out.push(finding(
            Level::Critical,
            "certificate",
            h,
            format!(
                "{h}: certificate not trusted by browsers: {}",
                c.error.as_deref().unwrap_or("unknown issuer")
            ),
        ));
    }
}

fn judge_backup(out: &mut Vec<Finding>, b: &crate::site::state::BackupStatus, max_hours: f64) {
    let s = &b.service;
    match b.age_hours {
        None => out.push(finding(
            Level::Critical,
            "backup",
            s,
            format!(
                "{s}: no successful backup on record{}",
                b.last_error
                    .as_deref()
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            ),
        )),
        Some(age) if age > max_hours => out.push(finding(
            Level::Critical,
            "backup",
            s,
            format!(
                "{s}: last successful backup {age:.0} h ago (limit {max_hours:.0} h){}",
                b.last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            ),
        )),
        Some(_) => {
            if let Some(e) = &b.last_error {
                out.push(finding(
                    Level::Warning,
                    "backup",
                    s,
                    format!("{s}: the last backup run failed: {e}"),
                ));
            }
        }
    }
    if b.last_drill_ok == Some(false) {
        out.push(finding(
            Level::Warning,
            "backup",
            s,
            format!("{s}: the last restore drill failed"),
        ));
    }
}

/// Every finding of a site, worst first.
pub fn judge(st: &SiteStatus, t: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in &st.errors {
        out.push(finding(Level::Unknown, "status", &st.site, e.clone()));
    }
    for h in &st.hosts {
        judge_host(&mut out, h, t);
    }
    if let Some(n) = &st.nas {
        if n.reachable {
            if let Some(d) = &n.disk {
                judge_disk(&mut out, &n.host, d, t);
            }
        } else {
            out.push(finding(
                Level::Critical,
                "nas",
                &n.host,
                format!(
                    "NAS {} unreachable: {}",
                    n.host,
                    n.error.as_deref().unwrap_or("no answer")
                ),
            ));
        }
    }
    for s in &st.services {
        let down = st.hosts.iter().any(|h| h.host == s.host && !h.reachable);
        judge_service(&mut out, s, t, down);
    }
    for c in &st.certificates {
        judge_cert(&mut out, c, t);
    }
    let max = t.backup_max_age(st.backup_max_age_hours);
    for b in &st.backups {
        let down = st.hosts.iter().any(|h| h.host == b.host && !h.reachable);
        if !down {
            judge_backup(&mut out, b, max);
        }
    }
    // Retention from regie's side overdue, or a repository growing fast.
    for w in &st.backup_warnings {
        let host = w.split(':').next().unwrap_or("");
        out.push(finding(Level::Warning, "backup", host, w.clone()));
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.level));
    out
}

pub fn worst(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}

/// Perfdata label: quoted when it has spaces or quotes.
fn label(s: &str) -> String {
    let s = s.replace('\'', "");
    if s.contains([' ', '=']) {
        format!("'{s}'")
    } else {
        s
    }
}

fn num(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Nagios perfdata: disk and inode use, memory, containers up, restarts,
/// backup ages, certificate days.
pub fn perfdata(st: &SiteStatus, t: &Thresholds) -> String {
    let mut p = Vec::new();
    let disk = |p: &mut Vec<String>, owner: &str, d: &Disk| {
        p.push(format!(
            "{}={}%;{};{};0;100",
            label(&format!("{owner}:{}", d.mount)),
            num(d.used_pct),
            num(t.disk_warning),
            num(t.disk_critical)
        ));
        if let Some(i) = d.inodes_pct {
            p.push(format!(
                "{}={}%;{};{};0;100",
                label(&format!("{owner}:{} inodes", d.mount)),
                num(i),
                num(t.inodes_warning),
                num(t.inodes_critical)
            ));
        }
    };
    for h in &st.hosts {
        for d in &h.disks {
            disk(&mut p, &h.host, d);
        }
        if let Some(m) = h.mem_used_pct() {
            p.push(format!(
                "{}={}%;{};;0;100",
                label(&format!("{} memory", h.host)),
                num(m),
                num(t.memory_warning)
            ));
        }
    }
    if let Some(d) = st
        .nas
        .as_ref()
        .and_then(|n| n.disk.as_ref().map(|d| (n, d)))
    {
        disk(&mut p, &d.0.host, d.1);
    }
    let all: Vec<&ContainerStatus> = st.services.iter().flat_map(|s| &s.containers).collect();
    let up = all.iter().filter(|c| c.is_up()).count();
    p.push(format!("containers_up={up};;;0;{}", all.len()));
    let restarts: u64 = all.iter().filter_map(|c| c.restarts_24h).sum();
    p.push(format!("restarts_24h={restarts};;;0"));
    let max = t.backup_max_age(st.backup_max_age_hours);
    for b in &st.backups {
        if let Some(a) = b.age_hours {
            p.push(format!(
                "{}={}s;;{};0",
                label(&format!("backup_age {}", b.service)),
                (a * 3600.0).round() as u64,
                (max * 3600.0).round() as u64
            ));
        }
    }
    for c in &st.certificates {
        if let Some(d) = c.days_left {
            p.push(format!(
                "{}={};{};{}",
                label(&format!("cert_days {}", c.hostname)),
                num(d),
                num(t.cert_warning_days),
                num(t.cert_critical_days)
            ));
        }
    }
    p.join(" ")
}

/// The plugin's output: `REGIE LEVEL - site: summary | perfdata`, then one
/// line per finding (Nagios long output).
pub fn plugin_output(st: &SiteStatus, findings: &[Finding], t: &Thresholds) -> String {
    let w = worst(findings);
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let summary = if findings.is_empty() {
        let n: usize = st.services.iter().map(|s| s.containers.len()).sum();
        // Only a site with a backup policy has backups to call fresh.
        let backups = if st.backup_max_age_hours.is_some() {
            "backups fresh"
        } else {
            "no backup policy"
        };
        format!(
            "{} host(s), {} service(s), {n} container(s) up, {backups}",
            st.hosts.len(),
            st.services.len()
        )
    } else {
        let mut parts = Vec::new();
        for l in [Level::Critical, Level::Unknown, Level::Warning] {
            let n = count(l);
            if n > 0 {
                parts.push(format!("{n} {}", l.word().to_lowercase()));
            }
        }
        format!("{}: {}", parts.join(", "), findings[0].message)
    };
    let mut out = format!(
        "REGIE {} - {}: {} | {}\n",
        w.word(),
        st.site,
        summary.replace('|', "/"),
        perfdata(st, t)
    );
    for f in findings {
        out.push_str(&format!(
            "[{}] {}\n",
            f.level.word(),
            f.message.replace('|', "/")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::state::*;

    fn disk(mount: &str, pct: f64, inodes: Option<f64>) -> Disk {
        Disk {
            path: mount.into(),
            mount: mount.into(),
            size_kib: 1000,
            used_kib: (pct * 10.0) as u64,
            avail_kib: 1000 - (pct * 10.0) as u64,
            used_pct: pct,
            inodes: inodes.map(|_| 100),
            inodes_used: inodes.map(|p| p as u64),
            inodes_pct: inodes,
        }
    }

    fn container(name: &str, state: &str, health: Option<&str>) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            component: "app".into(),
            state: state.into(),
            health: health.map(str::to_string),
            restarts_24h: Some(0),
            ..Default::default()
        }
    }

    /// A healthy site: one host, one service, a fresh backup, a valid
    /// public certificate, the NAS half full.
    fn healthy() -> SiteStatus {
        SiteStatus {
            site: "s".into(),
            hosts: vec![HostStatus {
                host: "srv1".into(),
                reachable: true,
                mem_total_kib: Some(1000),
                mem_available_kib: Some(500),
                disks: vec![disk("/", 40.0, Some(10.0))],
                os_security_updates: Some(0),
                reboot_required: Some(false),
                ..Default::default()
            }],
            nas: Some(NasStatus {
                host: "nas".into(),
                reachable: true,
                disk: Some(disk("/volume1", 50.0, None)),
                error: None,
            }),
            services: vec![ServiceStatus {
                service: "files".into(),
                host: "srv1".into(),
                containers: vec![container("s-files-app-1", "running", Some("healthy"))],
                ..Default::default()
            }],
            certificates: vec![CertStatus {
                hostname: "cloud.x.fr".into(),
                days_left: Some(60.0),
                trusted: Some(true),
                public_ca: true,
                ..Default::default()
            }],
            backups: vec![crate::site::state::BackupStatus {
                service: "files".into(),
                host: "srv1".into(),
                age_hours: Some(5.0),
                ..Default::default()
            }],
            backup_max_age_hours: Some(26.0),
            ..Default::default()
        }
    }

    fn levels(st: &SiteStatus, t: &Thresholds) -> Vec<(Level, String)> {
        judge(st, t)
            .into_iter()
            .map(|f| (f.level, f.message))
            .collect()
    }

    #[test]
    fn a_healthy_site_is_ok_with_perfdata() {
        let t = Thresholds::default();
        let st = healthy();
        assert!(judge(&st, &t).is_empty());
        let out = plugin_output(&st, &[], &t);
        assert_eq!(
            out,
            "REGIE OK - s: 1 host(s), 1 service(s), 1 container(s) up, backups fresh | \
             srv1:/=40%;85;95;0;100 'srv1:/ inodes'=10%;85;95;0;100 'srv1 memory'=50%;95;;0;100 \
             nas:/volume1=50%;85;95;0;100 containers_up=1;;;0;1 restarts_24h=0;;;0 \
             'backup_age files'=18000s;;93600;0 'cert_days cloud.x.fr'=60;14;3\n"
        );
    }

    #[test]
    fn overdue_retention_is_a_warning() {
        let t = Thresholds::default();
        let mut st = healthy();
        st.backup_warnings = vec![
            "srv1: retention last ran 12 days ago (more than 10): run `regie backup prune`".into(),
        ];
        let f = judge(&st, &t);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].level, Level::Warning);
        assert_eq!(worst(&f), Level::Warning);
        assert!(plugin_output(&st, &f, &t).contains("retention last ran 12 days ago"));
    }

    #[test]
    fn a_site_without_backup_policy_does_not_claim_fresh_backups() {
        let t = Thresholds::default();
        let mut st = healthy();
        st.backups.clear();
        st.backup_max_age_hours = None;
        let findings = judge(&st, &t);
        let out = plugin_output(&st, &findings, &t);
        assert!(!out.contains("backups fresh"), "{out}");
        assert!(out.contains("no backup policy"), "{out}");
    }

    #[test]
    fn disks_inodes_and_memory_against_thresholds() {
        let t = Thresholds::default();
        let mut st = healthy();
        st.hosts[0].disks = vec![disk("/", 90.0, Some(96.0)), disk("/srv", 85.0, None)];
        st.hosts[0].mem_available_kib = Some(10);
        let l = levels(&st, &t);
        assert_eq!(l[0].0, Level::Critical);
        assert!(l[0].1.contains("96% of inodes used"), "{l:?}");
        assert!(l
            .iter()
            .any(|(lv, m)| *lv == Level::Warning && m.starts_with("srv1:/: 90% used")));
        // 85% is not above 85%.
        assert!(!l.iter().any(|(_, m)| m.starts_with("srv1:/srv")), "{l:?}");
        assert!(l
            .iter()
            .any(|(lv, m)| *lv == Level::Warning && m.contains("99% of memory")));
        let custom = Thresholds {
            disk_warning: 95.0,
            disk_critical: 98.0,
            inodes_critical: 97.0,
            memory_warning: 100.0,
            ..Default::default()
        };
        assert_eq!(worst(&judge(&st, &custom)), Level::Warning);
    }

    #[test]
    fn containers_are_judged_by_state_health_and_stops() {
        let t = Thresholds::default();
        let mut st = healthy();
        let mut flapping = container("s-files-db-1", "running", None);
        flapping.restarts_24h = Some(3);
        st.services[0].containers = vec![
            ContainerStatus {
                health_log: Some("curl: (7) refused".into()),
                ..container("s-files-app-1", "running", Some("unhealthy"))
            },
            container("s-files-cron-1", "exited", None),
            container("s-files-redis-1", "running", Some("starting")),
            flapping,
        ];
        st.services[0].missing = vec!["worker".into()];
        let l = levels(&st, &t);
        let has = |lv: Level, m: &str| l.iter().any(|(x, y)| *x == lv && y == m);
        assert!(
            has(
                Level::Critical,
                "files: s-files-app-1 unhealthy: curl: (7) refused"
            ),
            "{l:?}"
        );
        assert!(
            has(Level::Critical, "files: s-files-cron-1 exited"),
            "{l:?}"
        );
        assert!(
            has(Level::Critical, "files: component worker has no container"),
            "{l:?}"
        );
        assert!(
            has(
                Level::Warning,
                "files: s-files-redis-1 starting (health check pending)"
            ),
            "{l:?}"
        );
        assert!(
            has(
                Level::Warning,
                "files: s-files-db-1 stopped 3 times in 24 h"
            ),
            "{l:?}"
        );
        st.services[0].containers.clear();
        let l = levels(&st, &t);
        assert_eq!(
            l[0].1,
            "files: no container on srv1 (not deployed, or removed)"
        );
    }

    #[test]
    fn certificates() {
        let t = Thresholds::default();
        let mut st = healthy();
        let judge_days = |st: &mut SiteStatus, d: Option<f64>| {
            st.certificates[0].days_left = d;
            levels(st, &t)
        };
        assert_eq!(judge_days(&mut st, Some(10.0))[0].0, Level::Warning);
        assert_eq!(judge_days(&mut st, Some(2.0))[0].0, Level::Critical);
        let l = judge_days(&mut st, Some(-3.0));
        assert_eq!(
            l[0],
            (
                Level::Critical,
                "cloud.x.fr: certificate expired 3 day(s) ago".into()
            )
        );
        st.certificates[0].error = Some("connection refused".into());
        let l = judge_days(&mut st, None);
        assert_eq!(
            l[0],
            (
                Level::Critical,
                "cloud.x.fr: certificate not read: connection refused".into()
            )
        );
        // Untrusted: a fault for a public certificate only.
        st.certificates[0].days_left = Some(60.0);
        st.certificates[0].trusted = Some(false);
        st.certificates[0].error = Some("unknown issuer".into());
        assert_eq!(levels(&st, &t)[0].0, Level::Critical);
        st.certificates[0].public_ca = false;
        assert!(levels(&st, &t).is_empty());
    }

    #[test]
    fn backups_nas_host_lock_and_os() {
        let t = Thresholds::default();
        let mut st = healthy();
        st.backups[0].age_hours = Some(30.0);
        st.backups[0].last_error = Some("NAS full".into());
        st.backups[0].last_drill_ok = Some(false);
        let l = levels(&st, &t);
        assert_eq!(
            l[0],
            (
                Level::Critical,
                "files: last successful backup 30 h ago (limit 26 h); last error: NAS full".into()
            )
        );
        assert!(l.contains(&(
            Level::Warning,
            "files: the last restore drill failed".into()
        )));
        // The inventory's limit wins over the policy's.
        let relaxed = Thresholds {
            backup_max_age_hours: Some(50.0),
            ..Default::default()
        };
        assert_eq!(
            levels(&st, &relaxed)[0].1,
            "files: the last backup run failed: NAS full"
        );
        st.backups[0].age_hours = None;
        assert!(levels(&st, &t)[0]
            .1
            .starts_with("files: no successful backup on record"));

        let mut st = healthy();
        st.nas.as_mut().unwrap().reachable = false;
        st.nas.as_mut().unwrap().error = Some("timed out".into());
        st.hosts[0].lock = Some(Lock {
            holder: "deploy by a@b".into(),
            age_secs: Some(7 * 3600),
        });
        st.hosts[0].os_security_updates = Some(2);
        st.hosts[0].reboot_required = Some(true);
        let l = levels(&st, &t);
        assert_eq!(
            l[0],
            (Level::Critical, "NAS nas unreachable: timed out".into())
        );
        for m in [
            "srv1: locked for 7 h by deploy by a@b (stale? `regie lock release`)",
            "srv1: 2 security update(s) pending (`regie update os`)",
            "srv1: reboot required",
        ] {
            assert!(l.contains(&(Level::Warning, m.to_string())), "{m} in {l:?}");
        }
        // A fresh lock is a deploy running, not a problem.
        st.hosts[0].lock.as_mut().unwrap().age_secs = Some(600);
        assert!(!levels(&st, &t).iter().any(|(_, m)| m.contains("locked")));

        // A host down: its services and backups are not judged again.
        let mut st = healthy();
        st.hosts[0] = HostStatus {
            host: "srv1".into(),
            error: Some("connection refused".into()),
            ..Default::default()
        };
        st.services[0].containers.clear();
        st.backups[0].age_hours = None;
        let l = levels(&st, &t);
        assert_eq!(
            l,
            vec![(
                Level::Critical,
                "srv1: unreachable: connection refused".into()
            )]
        );
    }

    #[test]
    fn summary_line_counts_levels_and_escapes_the_bar() {
        let t = Thresholds::default();
        let mut st = healthy();
        st.errors
            .push("versions not checked: registry | down".into());
        st.hosts[0].os_security_updates = Some(1);
        let f = judge(&st, &t);
        assert_eq!(worst(&f), Level::Unknown);
        assert_eq!(Level::Unknown.exit_code(), 3);
        let out = plugin_output(&st, &f, &t);
        let first = out.lines().next().unwrap();
        assert!(
            first.starts_with(
                "REGIE UNKNOWN - s: 1 unknown, 1 warning: versions not checked: registry / down | "
            ),
            "{first}"
        );
        assert_eq!(
            first.matches(" | ").count(),
            1,
            "one bar before the perfdata: {first}"
        );
        assert_eq!(out.lines().count(), 3);
    }

    #[test]
    fn threshold_problems() {
        assert!(Thresholds::default().problems().is_empty());
        let t = Thresholds {
            disk_warning: 101.0,
            inodes_warning: 90.0,
            inodes_critical: 80.0,
            cert_critical_days: 20.0,
            backup_max_age_hours: Some(0.0),
            ..Default::default()
        };
        let p: Vec<String> = t.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            p,
            [
                "disk_warning",
                "disk_warning",
                "inodes_warning",
                "cert_critical_days",
                "backup_max_age_hours"
            ]
        );
    }
}

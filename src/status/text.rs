//! The text table of `regie status`: a site's state for a terminal.

use crate::site::state::SiteStatus;
use crate::status::check;

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

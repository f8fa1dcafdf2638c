//! Every backup file a host gets under `.regie/backup/` (script, restic
//! password, NAS key and host key, drill copies, systemd timer and cron
//! entry) and the script that installs the schedule.

use anyhow::{Context, Result};

use crate::site::files::{sha256_hex, RenderedFile};
use crate::site::inventory::Resolved;
use crate::site::secrets::{Kind, Store};
use crate::util::shell::quote;

use super::drill::drill_compose;
use super::nas::{nas_key, nas_known_hosts};
use super::offsite::{offsite_known_hosts, OffsiteRepo};
use super::repo::{captures, Repo};
use super::script::host_script;
use super::{DIR, SCRIPT};

fn systemd_time(at: &str) -> String {
    format!("*-*-* {at}:00")
}

fn file(path: String, content: String, mode: u32, secret: bool) -> RenderedFile {
    let content = content.into_bytes();
    RenderedFile {
        path,
        sha256: sha256_hex(&content),
        mode,
        secret,
        content,
    }
}

/// Every backup file of `host`, under `.regie/backup/` of its base
/// directory; empty when nothing there is backed up.
pub fn host_files(
    site: &Resolved,
    host: &str,
    rendered: &[RenderedFile],
    known_hosts: &str,
    store: &mut Store,
) -> Result<Vec<RenderedFile>> {
    let Some(script) = host_script(site, host, rendered) else {
        return Ok(Vec::new());
    };
    let b = site.inv.backup.as_ref().expect("script implies a policy");
    let h = &site.inv.hosts[host];
    let name = &site.inv.site.name;
    let mut out = vec![file(format!("{DIR}/regie-backup"), script, 0o700, false)];
    let pw = store.get_or_generate("backup.restic_password", Kind::Alnum(40));
    out.push(file(
        format!("{DIR}/restic.password"),
        format!("{}\n", pw.expose()),
        0o600,
        true,
    ));
    if let Some(Repo::Sftp { address, port, .. }) = Repo::of(site) {
        let key = nas_key(store)?;
        out.push(file(format!("{DIR}/nas_key"), key, 0o600, true));
        // The NAS's host key, and the off-site server's as the site's
        // machines reach it (restores from the copy).
        let mut kh = nas_known_hosts(known_hosts, &address, port);
        if let Some(o) = OffsiteRepo::of(site) {
            kh.push_str(&offsite_known_hosts(known_hosts, &o).unwrap_or_else(|| {
                format!(
                    "# the off-site server `{}` is not trusted yet: run `regie hosts trust {}`, then deploy\n",
                    o.host, o.host
                )
            }));
        }
        out.push(file(format!("{DIR}/known_hosts"), kh, 0o644, false));
    }
    for c in captures(site, host) {
        let path = format!("{}/docker-compose.yml", c.name);
        if let Some(f) = rendered.iter().find(|f| f.path == path) {
            let text = drill_compose(&String::from_utf8_lossy(&f.content))
                .with_context(|| format!("drill copy of {path}"))?;
            out.push(file(
                format!("{DIR}/drill/{}.yml", c.name),
                text,
                0o644,
                false,
            ));
        }
    }
    let script = format!("{}/{SCRIPT}", h.base_dir);
    let tz = &site.inv.site.timezone;
    out.push(file(
        format!("{DIR}/{}.service", unit_name(name)),
        format!(
            "[Unit]\nDescription=regie backup of site {name} (restic)\n\
             Wants=network-online.target\nAfter=network-online.target docker.service\n\n\
             [Service]\nType=oneshot\nExecStart=/bin/bash \"{script}\" run --kind scheduled\n\
             Nice=10\nIOSchedulingClass=idle\n"
        ),
        0o644,
        false,
    ));
    out.push(file(
        format!("{DIR}/{}.timer", unit_name(name)),
        format!(
            "[Unit]\nDescription=regie backup of site {name}, daily at {at} ({tz})\n\n\
             [Timer]\nOnCalendar={cal} {tz}\n# A run missed while the machine was off happens at the next boot.\nPersistent=true\n\n\
             [Install]\nWantedBy=timers.target\n",
            at = b.at,
            cal = systemd_time(&b.at),
        ),
        0o644,
        false,
    ));
    let (hh, mm) = b.at.split_once(':').unwrap_or(("02", "30"));
    out.push(file(
        format!("{DIR}/cron"),
        format!(
            "# regie backup of site {name}, daily at {at} (host's time zone; the site's is {tz})\n\
             {m} {h} * * * root /bin/bash {q} run --kind scheduled >>{log} 2>&1\n",
            at = b.at,
            m = mm.trim_start_matches('0').parse::<u32>().unwrap_or(0),
            h = hh.trim_start_matches('0').parse::<u32>().unwrap_or(0),
            q = quote(&script),
            log = quote(&format!("{}/{DIR}/cron.log", h.base_dir)),
        ),
        0o644,
        false,
    ));
    Ok(out)
}

/// The name of a site's backup timer, service and cron entry.
pub fn unit_name(site: &str) -> String {
    format!("regie-backup-{site}")
}

/// Removes what [`schedule_script`] installed (systemd units and cron
/// entry), whichever it was.
pub fn unschedule_script(site: &str) -> String {
    format!(
        "unit={unit}
         rm -f \"/etc/cron.d/$unit\"
         if command -v systemctl >/dev/null 2>&1; then
           systemctl disable --now \"$unit.timer\" >/dev/null 2>&1
           rm -f \"/etc/systemd/system/$unit.service\" \"/etc/systemd/system/$unit.timer\"
         fi
",
        unit = quote(&unit_name(site)),
    )
}

/// Installs the schedule: the systemd timer where systemd runs, else a cron
/// entry. Prints which.
pub fn schedule_script(base_dir: &str, site: &str) -> String {
    format!(
        "set -eu\n\
         d={d}\n\
         unit={unit}\n\
         chmod 700 \"$d\"\n\
         if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then\n\
           install -m 644 \"$d/$unit.service\" \"$d/$unit.timer\" /etc/systemd/system/\n\
           rm -f \"/etc/cron.d/$unit\"\n\
           systemctl daemon-reload\n\
           systemctl enable --now \"$unit.timer\" >/dev/null 2>&1\n\
           echo systemd\n\
         else\n\
           mkdir -p /etc/cron.d\n\
           install -m 644 \"$d/cron\" \"/etc/cron.d/$unit\"\n\
           echo cron\n\
         fi\n",
        d = quote(&format!("{base_dir}/{DIR}")),
        unit = quote(&unit_name(site)),
    )
}

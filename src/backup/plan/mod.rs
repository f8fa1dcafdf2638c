//! Backups, pure part: from the inventory and the catalog, the files each
//! host needs to back itself up with restic — the host-resident script
//! `regie-backup` (the same code runs from the timer, from `regie backup
//! run` and by hand), the repository password and NAS key, the NAS's host
//! key, scratch compose files for restore drills, the systemd timer or cron
//! entry — and the small scripts and parsers the executor uses.

use std::collections::BTreeMap;

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use serde_yaml::{Mapping, Value};

use crate::site::catalog::{Descriptor, Exec};
use crate::site::files::{sha256_hex, RenderedFile, VERSION};
use crate::site::inventory::{Resolved, Role};
use crate::site::secrets::{Kind, Store};
use crate::site::state::{BackupStatus, MAX_AGE_SECS};
use crate::util::shell::{known_hosts_name, quote};

/// restic's own image; `backup.image` overrides it.
pub const DEFAULT_IMAGE: &str = "restic/restic:0.18.1";

/// The restic image the site's hosts run.
pub fn restic_image(site: &Resolved) -> String {
    site.inv
        .backup
        .as_ref()
        .and_then(|b| b.image.clone())
        .unwrap_or_else(|| DEFAULT_IMAGE.to_string())
}
/// Where the backup files live under a host's base directory.
pub use crate::site::layout::{BACKUP_DIR as DIR, BACKUP_SCRIPT as SCRIPT};
const BODY: &str = include_str!("backup.sh");

/// Where a site's repositories are (one per host, `<base>/<host>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repo {
    /// On a NAS or server over SFTP.
    Sftp {
        nas: String,
        user: String,
        address: String,
        port: u16,
        /// `<path>/<site>`
        base: String,
    },
    /// A directory on each host (`<path>/<site>`).
    Local { base: String },
}

impl Repo {
    pub fn of(site: &Resolved) -> Option<Repo> {
        let b = site.inv.backup.as_ref()?;
        let name = &site.inv.site.name;
        if b.to == "local" {
            return Some(Repo::Local {
                base: format!(
                    "{}/{name}",
                    b.path
                        .clone()
                        .unwrap_or_else(|| "/var/backups/regie".into())
                ),
            });
        }
        let h = site.inv.hosts.get(&b.to)?;
        let path = b
            .path
            .clone()
            .or_else(|| h.path.clone())
            .unwrap_or_else(|| {
                if h.role == Role::Nas {
                    "/backups".into()
                } else {
                    format!("{}/backups", h.base_dir)
                }
            });
        Some(Repo::Sftp {
            nas: b.to.clone(),
            user: h.ssh.user.clone().unwrap_or_else(|| "root".into()),
            address: h.address.clone(),
            port: h.ssh.port.unwrap_or(22),
            base: format!("{path}/{name}"),
        })
    }

    /// The repository of one host, as plain restic names it.
    pub fn url(&self, host: &str) -> String {
        match self {
            Repo::Sftp {
                user,
                address,
                base,
                ..
            } => format!("sftp:{user}@{address}:{base}/{host}"),
            Repo::Local { base } => format!("{base}/{host}"),
        }
    }
}

/// One service's capture, as the script sees it.
#[derive(Debug, Clone)]
pub struct Capture<'a> {
    pub name: &'a str,
    pub project: String,
    pub desc: &'a Descriptor,
}

/// Services backed up on `host`: those placed there, limited by
/// `backup.services`, that have something to capture.
pub fn captures<'a>(site: &'a Resolved, host: &str) -> Vec<Capture<'a>> {
    let Some(b) = &site.inv.backup else {
        return Vec::new();
    };
    let Some(placed) = site.placement.get(host) else {
        return Vec::new();
    };
    placed
        .iter()
        // The proxy's data (certificates) is always kept.
        .filter(|p| p.name == "proxy" || b.services.as_ref().is_none_or(|l| l.contains(&p.name)))
        .filter_map(|p| {
            let d = site.catalog.stacks.get(&p.name)?;
            let bk = &d.backup;
            if bk.volumes.is_empty() && bk.dumps.is_empty() {
                return None;
            }
            Some(Capture {
                name: &p.name,
                project: format!("{}-{}", site.inv.site.name, p.name),
                desc: d,
            })
        })
        .collect()
}

/// Docker's names for a stack's volumes, live and in the drill copy:
/// `<project>_<key>` (`<project>-drill_<key>`), or the `name:` the compose
/// file gives (`<name>-drill`).
#[derive(Debug, Clone, Default)]
pub struct VolumeNames {
    pub live: BTreeMap<String, String>,
    pub drill: BTreeMap<String, String>,
}

pub fn volume_names(project: &str, compose: Option<&str>) -> VolumeNames {
    let doc: Value = compose
        .and_then(|c| serde_yaml::from_str(c).ok())
        .unwrap_or(Value::Null);
    let mut n = VolumeNames::default();
    if let Some(Value::Mapping(vols)) = doc.get("volumes") {
        for (k, v) in vols {
            let Some(k) = k.as_str() else { continue };
            match v.get("name").and_then(Value::as_str) {
                Some(name) => {
                    n.live.insert(k.into(), name.into());
                    n.drill.insert(k.into(), format!("{name}-drill"));
                }
                None => {
                    n.live.insert(k.into(), format!("{project}_{k}"));
                    n.drill.insert(k.into(), format!("{project}-drill_{k}"));
                }
            }
        }
    }
    n
}

impl VolumeNames {
    fn live(&self, project: &str, key: &str) -> String {
        self.live
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("{project}_{key}"))
    }
    fn drill(&self, project: &str, key: &str) -> String {
        self.drill
            .get(key)
            .cloned()
            .unwrap_or_else(|| format!("{project}-drill_{key}"))
    }
}

fn words(cmd: &[String]) -> String {
    cmd.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

fn exec_line(e: &Exec) -> String {
    format!(
        "inside {} {} -- {}",
        quote(&e.component),
        quote(e.user.as_deref().unwrap_or("")),
        words(&e.command)
    )
}

/// A bash function running hooks in order; `all` runs every one and fails
/// at the end if any failed (for "after" hooks: maintenance mode must go off
/// even when something before failed).
fn hook_fn(name: &str, hooks: &[Exec], all: bool) -> String {
    if hooks.is_empty() {
        return format!("{name}() {{ :; }}\n");
    }
    if all {
        let body: String = hooks
            .iter()
            .map(|e| format!("  {} || rc=1\n", exec_line(e)))
            .collect();
        format!("{name}() {{\n  local rc=0\n{body}  return $rc\n}}\n")
    } else {
        let body: Vec<String> = hooks.iter().map(exec_line).collect();
        format!("{name}() {{\n  {}\n}}\n", body.join(" &&\n  "))
    }
}

fn arr(items: impl IntoIterator<Item = String>) -> String {
    let v: Vec<String> = items.into_iter().map(|s| quote(&s)).collect();
    format!("({})", v.join(" "))
}

/// The host-resident backup script of `host` (given its rendered files, for
/// the compose volume names), or None when nothing there is backed up.
pub fn host_script(site: &Resolved, host: &str, rendered: &[RenderedFile]) -> Option<String> {
    let b = site.inv.backup.as_ref()?;
    let repo = Repo::of(site)?;
    let caps = captures(site, host);
    if caps.is_empty() {
        return None;
    }
    let h = &site.inv.hosts[host];
    let mut s = String::new();
    s.push_str(&format!(
        "#!/bin/bash\n\
         # regie-backup: backups of site {site}, host {host}, with restic.\n\
         # Generated by regie {VERSION} from the site inventory; runs without regie.\n\
         # The repository password is in restic.password beside this file.\n",
        site = site.inv.site.name,
    ));
    let (kind, base, opts) = match &repo {
        Repo::Sftp {
            user,
            address,
            port,
            base,
            ..
        } => (
            "sftp",
            format!("sftp:{user}@{address}:{base}"),
            vec![
                "-o".to_string(),
                format!(
                    "sftp.command=ssh -i /regie/nas_key -o UserKnownHostsFile=/regie/known_hosts \
                     -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=20 \
                     -o ServerAliveInterval=10 -o ServerAliveCountMax=3 -p {port} {user}@{address} -s sftp"
                ),
            ],
        ),
        Repo::Local { base } => ("local", base.clone(), vec![]),
    };
    let mut keep = Vec::new();
    for (flag, n) in [
        ("--keep-last", b.keep.last),
        ("--keep-daily", b.keep.daily),
        ("--keep-weekly", b.keep.weekly),
        ("--keep-monthly", b.keep.monthly),
    ] {
        if n > 0 {
            keep.push(flag.to_string());
            keep.push(n.to_string());
        }
    }
    s.push_str(&format!(
        "SITE={}\nHOST={}\nBASE={}\nIMAGE={}\nREGIE_VERSION={}\n\
         REPO_KIND={kind}\nREPO_BASE={}\nRESTIC_OPTS={}\nENV_ARGS=()\nKEEP={}\n\
         LOCK_WAIT=${{LOCK_WAIT:-1800}}\nHEALTH_TIMEOUT=${{HEALTH_TIMEOUT:-300}}\nDRILL_DAYS={}\nSERVICES={}\n",
        quote(&site.inv.site.name),
        quote(host),
        quote(&h.base_dir),
        quote(b.image.as_deref().unwrap_or(DEFAULT_IMAGE)),
        quote(VERSION),
        quote(&base),
        arr(opts),
        arr(keep),
        site.inv.maintenance.as_ref().map_or(30, |m| m.drill_days),
        arr(caps.iter().map(|c| c.name.to_string())),
    ));
    for c in &caps {
        let bk = &c.desc.backup;
        let n = c.name;
        let compose_path = format!("{n}/docker-compose.yml");
        let compose = rendered
            .iter()
            .find(|f| f.path == compose_path)
            .map(|f| String::from_utf8_lossy(&f.content).into_owned());
        let vn = volume_names(&c.project, compose.as_deref());
        let p = &c.project;
        let dump_vol = |f: &dyn Fn(&str) -> String| {
            arr(bk
                .dumps
                .iter()
                .map(|d| d.volume.as_deref().map(f).unwrap_or_default()))
        };
        s.push_str(&format!("\n# --- {n}: {}\n", c.desc.description));
        s.push_str(&format!(
            "svc_{n}() {{\n  STACK={}\n  PROJECT={}\n  VOLUMES={}\n  DRILL_VOLUMES={}\n  NDUMPS={}\n  DUMP_FILE={}\n  DUMP_COMPONENT={}\n  DUMP_VOLUME={}\n  DRILL_DUMP_VOLUME={}\n}}\n",
            quote(n),
            quote(p),
            arr(bk.volumes.iter().map(|v| vn.live(p, v))),
            arr(bk.volumes.iter().map(|v| vn.drill(p, v))),
            bk.dumps.len(),
            arr(bk.dumps.iter().map(|d| d.file.clone())),
            arr(bk.dumps.iter().map(|d| d.component.clone())),
            dump_vol(&|v| vn.live(p, v)),
            dump_vol(&|v| vn.drill(p, v)),
        ));
        s.push_str(&hook_fn(&format!("before_{n}"), &bk.before, false));
        s.push_str(&hook_fn(&format!("after_{n}"), &bk.after, true));
        s.push_str(&hook_fn(
            &format!("after_restore_{n}"),
            &bk.after_restore,
            false,
        ));
        for (i, d) in bk.dumps.iter().enumerate() {
            let ex =
                |cmd: &[String]| format!("inside {} '' -- {}", quote(&d.component), words(cmd));
            s.push_str(&format!("dump_{n}_{i}() {{ {}; }}\n", ex(&d.command)));
            s.push_str(&format!("restore_{n}_{i}() {{ {}; }}\n", ex(&d.restore)));
            match &d.check {
                Some(c) => s.push_str(&format!("check_{n}_{i}() {{ {}; }}\n", ex(c))),
                None => s.push_str(&format!("check_{n}_{i}() {{ :; }}\n")),
            }
        }
    }
    s.push_str(BODY);
    Some(s)
}

/// A scratch copy of a stack's compose file for restore drills: no
/// published ports, no external networks (so not behind the proxy), no
/// fixed container names, never restarted, labelled `regie.drill`.
pub fn drill_compose(compose: &str) -> Result<String> {
    let mut doc: Value = serde_yaml::from_str(compose).context("parsing the compose file")?;
    let top = doc
        .as_mapping_mut()
        .ok_or_else(|| anyhow!("compose file is not a mapping"))?;
    let mut external = Vec::new();
    if let Some(Value::Mapping(nets)) = top.get_mut("networks") {
        for (k, v) in nets.iter() {
            if v.get("external").and_then(Value::as_bool) == Some(true) {
                if let Some(k) = k.as_str() {
                    external.push(k.to_string());
                }
            }
        }
        for k in &external {
            nets.remove(k.as_str());
        }
    }
    // Volumes with a fixed name get their own drill name: a drill never
    // touches a live volume.
    if let Some(Value::Mapping(vols)) = top.get_mut("volumes") {
        for (_, v) in vols.iter_mut() {
            let Some(m) = v.as_mapping_mut() else {
                continue;
            };
            if m.get("external").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(name) = m.get("name").and_then(Value::as_str).map(String::from) {
                m.insert("name".into(), format!("{name}-drill").into());
            }
        }
    }
    if let Some(Value::Mapping(services)) = top.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            let Some(m) = svc.as_mapping_mut() else {
                continue;
            };
            // Without `restart`, compose never restarts the scratch stack.
            for k in [
                "ports",
                "container_name",
                "hostname",
                "domainname",
                "restart",
            ] {
                m.remove(k);
            }
            match m.get_mut("networks") {
                Some(Value::Sequence(list)) => {
                    list.retain(|n| n.as_str().is_none_or(|n| !external.iter().any(|e| e == n)))
                }
                Some(Value::Mapping(map)) => {
                    for e in &external {
                        map.remove(e.as_str());
                    }
                }
                _ => {}
            }
            if matches!(m.get("networks"), Some(Value::Sequence(l)) if l.is_empty())
                || matches!(m.get("networks"), Some(Value::Mapping(l)) if l.is_empty())
            {
                m.remove("networks");
            }
            match m.get_mut("labels") {
                Some(Value::Mapping(l)) => {
                    l.insert("regie.drill".into(), "true".into());
                }
                Some(Value::Sequence(l)) => l.push("regie.drill=true".into()),
                _ => {
                    let mut l = Mapping::new();
                    l.insert("regie.drill".into(), "true".into());
                    m.insert("labels".into(), Value::Mapping(l));
                }
            }
        }
    }
    // Written as JSON (which YAML parsers read): every string stays quoted,
    // so YAML 1.1 readers such as compose v1 never take `on` or `no` for
    // booleans.
    let text = serde_json::to_string_pretty(&doc)?;
    Ok(format!(
        "# Restore drill copy of this stack (scratch project, no ports, no proxy).\n{text}\n"
    ))
}

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

/// The NAS's host key lines from the site's known_hosts text, re-keyed to
/// the address and port the hosts use.
pub fn nas_known_hosts(known_hosts: &str, address: &str, port: u16) -> String {
    let name = known_hosts_name(address, port);
    let lines: Vec<&str> = known_hosts
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|hosts| hosts.split(',').any(|h| h == name))
        })
        .collect();
    if lines.is_empty() {
        format!("# the NAS's key is not trusted yet: run `regie hosts trust` for it, then deploy ({name})\n")
    } else {
        lines.join("\n") + "\n"
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
        out.push(file(
            format!("{DIR}/known_hosts"),
            nas_known_hosts(known_hosts, &address, port),
            0o644,
            false,
        ));
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
        format!("{DIR}/regie-backup-{name}.service"),
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
        format!("{DIR}/regie-backup-{name}.timer"),
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

/// The site's key for the hosts to reach the NAS (OpenSSH ed25519), kept in
/// the secrets file so a rebuilt host reaches the NAS without a new key.
pub fn nas_key(store: &mut Store) -> Result<String> {
    let mut err = None;
    let s = store.derived("backup.nas_key", || {
        match ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)
            .and_then(|k| k.to_openssh(ssh_key::LineEnding::LF).map(|s| s.to_string()))
        {
            Ok(s) => s,
            Err(e) => {
                err = Some(e);
                String::new()
            }
        }
    });
    if let Some(e) = err {
        return Err(anyhow!("generating the NAS key: {e}"));
    }
    Ok(s.expose().to_string())
}

/// Public half of the NAS key, as an authorized_keys line that allows SFTP
/// only (sshd runs its built-in SFTP server whatever the client asks).
pub fn nas_authorized_line(private: &str, site: &str) -> Result<String> {
    let k = ssh_key::PrivateKey::from_openssh(private).context("reading the NAS key")?;
    let p = k
        .public_key()
        .to_openssh()
        .context("writing the NAS public key")?;
    Ok(format!(
        "restrict,command=\"internal-sftp\" {p} regie-backup@{site}"
    ))
}

/// On the NAS: the repository directory and the hosts' key (idempotent;
/// any other line for the same key is replaced, so its options are ours).
pub fn nas_setup_script(base: &str, line: &str) -> String {
    // The key's base64 blob identifies its lines.
    let blob = line.split_whitespace().nth(2).unwrap_or(line);
    format!(
        "set -eu\n\
         mkdir -p {b}\n\
         mkdir -p ~/.ssh && chmod 700 ~/.ssh && touch ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys\n\
         if ! grep -qxF {l} ~/.ssh/authorized_keys || [ \"$(grep -cF {k} ~/.ssh/authorized_keys)\" != 1 ]; then\n\
           grep -vF {k} ~/.ssh/authorized_keys > ~/.ssh/authorized_keys.regie || true\n\
           printf '%s\\n' {l} >> ~/.ssh/authorized_keys.regie\n\
           chmod 600 ~/.ssh/authorized_keys.regie\n\
           mv -f ~/.ssh/authorized_keys.regie ~/.ssh/authorized_keys\n\
         fi\n\
         df -Pk {b} | awk 'NR==2 {{print $4}}'\n",
        b = quote(base),
        l = quote(line),
        k = quote(blob),
    )
}

/// Free space (KiB) and use (percent, with its `%`) of the file system
/// holding the repositories on the NAS, as `FREE USE%`.
pub fn nas_df_script(base: &str) -> String {
    format!(
        "df -Pk {b} 2>/dev/null | awk 'NR==2 {{print $4, $5}}'",
        b = quote(base)
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
        unit = quote(&format!("regie-backup-{site}")),
    )
}

/// Run the host script with arguments.
pub fn invoke(base_dir: &str, args: &[&str]) -> String {
    let script = format!("{base_dir}/{SCRIPT}");
    let mut s = format!(
        "if [ ! -f {q} ]; then echo 'no backup script on this host: run `regie deploy` first' >&2; exit 3; fi\n\
         exec /bin/bash {q}",
        q = quote(&script)
    );
    for a in args {
        s.push(' ');
        s.push_str(&quote(a));
    }
    s.push('\n');
    s
}

/// One `==regie:result` line of the script.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub time: u64,
    pub kind: String,
    #[serde(default)]
    pub service: Option<String>,
    pub ok: bool,
    #[serde(default)]
    pub capture: Option<String>,
    #[serde(default)]
    pub snapshots: Vec<String>,
    #[serde(default)]
    pub bytes_added: u64,
    #[serde(default)]
    pub seconds: u64,
    #[serde(default)]
    pub check_seconds: Option<u64>,
    #[serde(default)]
    pub restore_seconds: Option<u64>,
    #[serde(default)]
    pub files_checked: Option<u64>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub error: String,
}

/// Results and steps from the script's output (or its log file).
pub fn parse_results(out: &str) -> (Vec<RunResult>, Vec<String>) {
    let mut res = Vec::new();
    let mut steps = Vec::new();
    for l in out.lines() {
        if let Some(j) = l.strip_prefix("==regie:result ") {
            if let Ok(r) = serde_json::from_str(j) {
                res.push(r);
            }
        } else if let Some(s) = l.strip_prefix("==regie:step ") {
            steps.push(s.to_string());
        } else if l.starts_with('{') {
            if let Ok(r) = serde_json::from_str(l) {
                res.push(r);
            }
        }
    }
    (res, steps)
}

/// A restic snapshot (`snapshots --json`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Snapshot {
    pub time: String,
    pub short_id: String,
    pub id: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Snapshot {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
    }
}

/// A capture: a service's snapshots sharing a `capture=` tag.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureInfo {
    pub capture: String,
    pub service: String,
    pub host: String,
    pub time: String,
    /// The files snapshot's short id (what `--snapshot` takes).
    pub id: String,
    pub snapshots: Vec<String>,
    pub dumps: Vec<String>,
    pub pre_restore: bool,
}

pub fn group_captures(snaps: &[Snapshot]) -> Vec<CaptureInfo> {
    let mut by: BTreeMap<String, CaptureInfo> = BTreeMap::new();
    for s in snaps {
        let Some(cap) = s.tag("capture") else {
            continue;
        };
        let e = by.entry(cap.to_string()).or_insert_with(|| CaptureInfo {
            capture: cap.to_string(),
            service: s.tag("service").unwrap_or("?").to_string(),
            host: s.tag("host").unwrap_or(&s.hostname).to_string(),
            time: s.time.clone(),
            id: String::new(),
            snapshots: Vec::new(),
            dumps: Vec::new(),
            pre_restore: false,
        });
        e.snapshots.push(s.short_id.clone());
        if s.tag("part") == Some("files") {
            e.id = s.short_id.clone();
            e.time = s.time.clone();
        } else {
            e.dumps.extend(s.paths.iter().cloned());
        }
        if s.tags.iter().any(|t| t == "pre-restore") {
            e.pre_restore = true;
        }
    }
    let mut v: Vec<CaptureInfo> = by.into_values().filter(|c| !c.id.is_empty()).collect();
    v.sort_by(|a, b| a.time.cmp(&b.time));
    v
}

pub fn service_status(
    host: &str,
    services: &[String],
    log: &[RunResult],
    now: u64,
) -> Vec<BackupStatus> {
    services
        .iter()
        .map(|s| {
            let mine = log
                .iter()
                .filter(|r| r.service.as_deref() == Some(s.as_str()));
            let caps: Vec<&RunResult> = mine
                .clone()
                .filter(|r| r.kind != "drill" && r.kind != "restore")
                .collect();
            let ok = caps.iter().filter(|r| r.ok).map(|r| r.time).max();
            let last = caps.iter().max_by_key(|r| r.time);
            let drill = mine.filter(|r| r.kind == "drill").max_by_key(|r| r.time);
            let age = ok.map(|t| now.saturating_sub(t));
            BackupStatus {
                host: host.to_string(),
                service: s.clone(),
                last_success: ok,
                last_run: last.map(|r| r.time),
                last_error: last.filter(|r| !r.ok).map(|r| r.error.clone()),
                age_hours: age.map(|a| (a as f64 / 360.0).round() / 10.0),
                fresh: age.is_some_and(|a| a <= MAX_AGE_SECS),
                last_drill: drill.map(|r| r.time),
                last_drill_ok: drill.map(|r| r.ok),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drill_copy_has_no_ports_no_proxy_and_a_label() {
        let c = r#"
version: "2.4"
services:
  app:
    image: x
    ports: ["80:80"]
    container_name: fixed
    restart: unless-stopped
    networks: [backend, proxy]
    labels:
      regie.site: s
  db:
    image: y
    networks:
      backend: {}
      proxy: { aliases: [db] }
volumes:
  data:
  certs:
    name: s_proxy_data
  shared:
    external: true
    name: s_shared
networks:
  backend:
    internal: true
  proxy:
    external: true
    name: s_proxy
"#;
        let d = drill_compose(c).unwrap();
        let v: Value = serde_yaml::from_str(&d).unwrap();
        let app = &v["services"]["app"];
        assert!(app.get("ports").is_none());
        assert!(app.get("container_name").is_none());
        assert!(app.get("restart").is_none());
        assert_eq!(
            app["networks"],
            serde_yaml::from_str::<Value>("[backend]").unwrap()
        );
        assert_eq!(app["labels"]["regie.drill"], Value::from("true"));
        assert_eq!(app["labels"]["regie.site"], Value::from("s"));
        assert!(v["services"]["db"]["networks"].get("proxy").is_none());
        assert!(v["networks"].get("proxy").is_none());
        assert!(v["networks"].get("backend").is_some());
        assert!(v["volumes"].get("data").is_some());
        assert_eq!(
            v["volumes"]["certs"]["name"],
            Value::from("s_proxy_data-drill")
        );
        assert_eq!(v["volumes"]["shared"]["name"], Value::from("s_shared"));
        let n = volume_names("s-x", Some(c));
        assert_eq!(n.live["data"], "s-x_data");
        assert_eq!(n.drill["data"], "s-x-drill_data");
        assert_eq!(n.live["certs"], "s_proxy_data");
        assert_eq!(n.drill["certs"], "s_proxy_data-drill");
    }

    #[test]
    fn nas_known_hosts_keeps_only_the_nas_lines() {
        let kh = "[127.0.0.1]:2201 ssh-ed25519 AAAA1\n[127.0.0.1]:2202 ssh-ed25519 AAAA2\nnas.lan ssh-ed25519 AAAA3\n";
        assert_eq!(
            nas_known_hosts(kh, "127.0.0.1", 2202),
            "[127.0.0.1]:2202 ssh-ed25519 AAAA2\n"
        );
        assert_eq!(
            nas_known_hosts(kh, "nas.lan", 22),
            "nas.lan ssh-ed25519 AAAA3\n"
        );
        assert!(nas_known_hosts(kh, "other", 22).starts_with("# the NAS's key is not trusted"));
    }

    #[test]
    fn results_and_steps_are_parsed_and_noise_ignored() {
        let out = "==regie:step files: capture x\nrestic noise\n==regie:result {\"time\":5,\"kind\":\"manual\",\"service\":\"files\",\"ok\":false,\"capture\":\"c\",\"snapshots\":[],\"bytes_added\":0,\"seconds\":1,\"error\":\"dump failed\"}\n==regie:result {broken\n";
        let (r, s) = parse_results(out);
        assert_eq!(s, vec!["files: capture x"]);
        assert_eq!(r.len(), 1);
        assert!(!r[0].ok);
        assert_eq!(r[0].error, "dump failed");
    }

    fn rr(time: u64, service: &str, kind: &str, ok: bool) -> RunResult {
        RunResult {
            time,
            kind: kind.into(),
            service: Some(service.into()),
            ok,
            error: if ok { String::new() } else { "boom".into() },
            ..Default::default()
        }
    }

    #[test]
    fn status_uses_the_last_success_and_the_policy_age() {
        let now = 1_000_000;
        let log = vec![
            rr(now - 30 * 3600, "chat", "scheduled", true),
            rr(now - 3600, "chat", "scheduled", false),
            rr(now - 3600, "files", "scheduled", true),
            rr(now - 10, "files", "drill", false),
        ];
        let st = service_status(
            "srv1",
            &["chat".into(), "files".into(), "wiki".into()],
            &log,
            now,
        );
        assert_eq!(st[0].last_success, Some(now - 30 * 3600));
        assert!(!st[0].fresh, "30 h old is stale");
        assert_eq!(st[0].last_error.as_deref(), Some("boom"));
        assert!(st[1].fresh);
        assert_eq!(st[1].last_drill_ok, Some(false));
        assert_eq!(
            st[1].last_success,
            Some(now - 3600),
            "a drill is not a backup"
        );
        assert!(!st[2].fresh && st[2].last_success.is_none());
    }

    #[test]
    fn captures_group_by_tag() {
        let s = |short: &str, time: &str, tags: &[&str], path: &str| Snapshot {
            time: time.into(),
            short_id: short.into(),
            id: short.into(),
            hostname: "h".into(),
            paths: vec![path.into()],
            tags: tags.iter().map(|t| t.to_string()).collect(),
        };
        let g = group_captures(&[
            s(
                "a1",
                "2026-01-01T02:30:00Z",
                &["service=chat", "capture=c1", "part=dump"],
                "/dumps/m.pgdump",
            ),
            s(
                "a2",
                "2026-01-01T02:30:05Z",
                &["service=chat", "capture=c1", "part=files"],
                "/volumes/x",
            ),
            s(
                "b1",
                "2026-01-02T02:30:05Z",
                &["service=chat", "capture=c2", "part=files", "pre-restore"],
                "/volumes/x",
            ),
            s(
                "z9",
                "2026-01-02T02:30:05Z",
                &["service=chat", "capture=c3", "part=dump"],
                "/dumps/m.pgdump",
            ),
        ]);
        assert_eq!(
            g.len(),
            2,
            "a capture without its files snapshot is not listed"
        );
        assert_eq!(g[0].id, "a2");
        assert_eq!(g[0].snapshots, vec!["a1", "a2"]);
        assert_eq!(g[0].dumps, vec!["/dumps/m.pgdump"]);
        assert!(g[1].pre_restore);
    }

    #[test]
    fn invoke_quotes_every_argument() {
        let s = invoke("/opt/my regie", &["restore", "files", "$(id)"]);
        assert!(s.contains("'/opt/my regie/.regie/backup/regie-backup' 'restore' 'files' '$(id)'"));
    }
}

#[cfg(test)]
mod script_tests {
    use super::*;

    /// The generated script of every example host parses with bash.
    #[test]
    fn example_scripts_parse_with_bash() {
        let mut n = 0;
        for ex in ["cabinet-durand", "mairie-techniville", "asso-lan"] {
            let path = std::path::PathBuf::from(format!(
                "{}/inventories/{ex}.yml",
                env!("CARGO_MANIFEST_DIR")
            ));
            let site = crate::site::inventory::load(&path).expect("example loads");
            for host in site.placement.keys() {
                let Some(script) = host_script(&site, host, &[]) else {
                    continue;
                };
                let dir = tempfile::tempdir().unwrap();
                let f = dir.path().join("s");
                std::fs::write(&f, &script).unwrap();
                let o = std::process::Command::new("bash")
                    .arg("-n")
                    .arg(&f)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "{ex}/{host}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                n += 1;
            }
        }
        assert!(n >= 3, "only {n} scripts checked");
    }
}

//! `regie bootstrap HOST`: check that a fresh Debian/Ubuntu host can run the
//! stacks placed on it, and with `--install` install Docker and compose from
//! the distribution's packages and turn on unattended security upgrades.
//! The checks are one script; judging its output is pure.

use serde::Serialize;

use crate::site::arch::{list, Arch};
use crate::site::inventory::Resolved;
pub use crate::site::state::Level;
use crate::util::shell::quote;

/// One shell script printing `key=value` facts about the host.
pub fn facts_script(base_dir: &str) -> String {
    format!(
        "base={b}\n\
         . /etc/os-release 2>/dev/null; echo \"os_id=$ID\"; echo \"os_version=$VERSION_ID\"; echo \"os_name=$PRETTY_NAME\"\n\
         echo \"docker=$(docker version --format '{{{{.Server.Version}}}}' 2>/dev/null)\"\n\
         echo \"docker_cli=$(command -v docker || true)\"\n\
         if docker compose version >/dev/null 2>&1; then echo \"compose=v2 $(docker compose version --short 2>/dev/null)\"; \
         elif command -v docker-compose >/dev/null 2>&1; then echo \"compose=v1 $(docker-compose version --short 2>/dev/null)\"; else echo compose=; fi\n\
         d=\"$base\"; while [ ! -d \"$d\" ]; do d=$(dirname \"$d\"); done\n\
         echo \"free_kib=$(df -Pk \"$d\" | awk 'NR==2 {{print $4}}')\"\n\
         echo \"mem_kib=$(awk '/^MemTotal:/ {{print $2}}' /proc/meminfo)\"\n\
         echo \"ntp=$(timedatectl show -p NTPSynchronized --value 2>/dev/null)\"\n\
         echo \"listening=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == \"0A\" {{split($2, a, \":\"); print a[2]}}' | sort -u | tr '\\n' ' ')\"\n\
         echo \"apt=$(command -v apt-get || true)\"\n\
         echo \"arch_uname=$(uname -m)\"\n\
         echo \"arch_dpkg=$(dpkg --print-architecture 2>/dev/null)\"\n\
         {uu}",
        b = quote(base_dir),
        uu = crate::osupdate::plan::unattended_probe()
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub level: Level,
    pub what: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub host: String,
    pub checks: Vec<Check>,
    /// Packages `--install` would install.
    pub install: Vec<String>,
}

fn fact<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or("")
        .trim()
}

/// What a host must offer for the stacks placed on it.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    pub ram_mb: u64,
    /// Ports the stacks publish.
    pub ports: Vec<u16>,
    /// The architecture the inventory declares for the host.
    pub arch: Option<Arch>,
    /// Placed images with the architectures they are published for
    /// (from the catalog's upstream facts).
    pub images: Vec<(String, Vec<Arch>)>,
}

/// Judge the facts against what the host must run.
pub fn judge(host: &str, out: &str, need: &Needs) -> Report {
    let (need_ram_mb, need_ports) = (need.ram_mb, &need.ports[..]);
    let mut checks = Vec::new();
    let mut install = Vec::new();
    let mut push = |level, what: &str, detail: String| {
        checks.push(Check {
            level,
            what: what.into(),
            detail,
        })
    };
    let os = fact(out, "os_id");
    let ver = fact(out, "os_version");
    let supported = matches!(
        (os, ver),
        ("debian", "11" | "12" | "13") | ("ubuntu", "22.04" | "24.04" | "26.04")
    );
    push(
        if supported { Level::Ok } else { Level::Warning },
        "operating system",
        format!(
            "{}{}",
            fact(out, "os_name"),
            if supported {
                ""
            } else {
                " (not a tested Debian/Ubuntu release)"
            }
        ),
    );
    let apt = !fact(out, "apt").is_empty();
    match fact(out, "docker") {
        "" => {
            let cli = !fact(out, "docker_cli").is_empty();
            push(
                Level::Critical,
                "docker",
                if cli {
                    "installed but the daemon is not reachable (is it running? is the user in the docker group or sudo set?)".into()
                } else {
                    "not installed".into()
                },
            );
            if !cli {
                install.push("docker.io".to_string());
            }
        }
        v => push(Level::Ok, "docker", format!("Docker Engine {v}")),
    }
    match fact(out, "compose") {
        "" => {
            push(
                Level::Critical,
                "compose",
                "no `docker compose` plugin nor `docker-compose`".into(),
            );
            install.push("docker-compose".to_string());
        }
        c => push(Level::Ok, "compose", c.to_string()),
    }
    if !install.is_empty() && !apt {
        push(
            Level::Critical,
            "packages",
            "no apt-get: install Docker and compose by hand".into(),
        );
    }
    // Unattended security upgrades (only judged when the facts have them).
    if apt && out.lines().any(|l| l.starts_with("uu_installed=")) {
        let installed = fact(out, "uu_installed") == "yes";
        let on = installed && crate::osupdate::plan::periodic_on(fact(out, "uu_periodic"));
        if on {
            push(Level::Ok, "unattended", "unattended upgrades on".into());
        } else {
            push(
                Level::Warning,
                "unattended",
                if installed {
                    "unattended-upgrades installed but off: --install turns on daily security upgrades".into()
                } else {
                    "unattended-upgrades not installed: --install installs it for daily security upgrades".into()
                },
            );
            install.push(UNATTENDED.to_string());
        }
    }
    match fact(out, "free_kib").parse::<u64>() {
        Ok(k) if k < 5 * 1024 * 1024 => push(
            Level::Warning,
            "disk",
            format!("{} MB free under the base directory (below 5 GB)", k / 1024),
        ),
        Ok(k) => push(
            Level::Ok,
            "disk",
            format!("{} GB free under the base directory", k / 1024 / 1024),
        ),
        Err(_) => push(Level::Warning, "disk", "free space unknown".into()),
    }
    match fact(out, "mem_kib").parse::<u64>() {
        Ok(k) if k / 1024 < need_ram_mb => push(
            Level::Warning,
            "memory",
            format!(
                "{} MB, the placed services want at least {need_ram_mb} MB",
                k / 1024
            ),
        ),
        Ok(k) => push(Level::Ok, "memory", format!("{} MB", k / 1024)),
        Err(_) => push(Level::Warning, "memory", "unknown".into()),
    }
    match fact(out, "ntp") {
        "yes" => push(Level::Ok, "time sync", "NTP synchronised".into()),
        "no" => push(
            Level::Warning,
            "time sync",
            "clock not synchronised (TLS and backups need a right clock)".into(),
        ),
        _ => push(
            Level::Warning,
            "time sync",
            "unknown (no timedatectl)".into(),
        ),
    }
    let listening: Vec<u16> = fact(out, "listening")
        .split_whitespace()
        .filter_map(|h| u16::from_str_radix(h, 16).ok())
        .collect();
    let busy: Vec<String> = need_ports
        .iter()
        .filter(|p| listening.contains(p))
        .map(|p| p.to_string())
        .collect();
    if busy.is_empty() {
        push(
            Level::Ok,
            "ports",
            format!(
                "free: {}",
                need_ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    } else {
        push(
            Level::Warning,
            "ports",
            format!(
                "already listening: {} (fine if regie's own stacks hold them)",
                busy.join(", ")
            ),
        );
    }
    judge_arch(host, out, need, &mut push);
    Report {
        host: host.into(),
        checks,
        install,
    }
}

/// The host's real architecture against the inventory's `arch` and the
/// architectures of the images placed on it.
fn judge_arch(host: &str, out: &str, need: &Needs, push: &mut impl FnMut(Level, &str, String)) {
    let (dpkg, uname) = (fact(out, "arch_dpkg"), fact(out, "arch_uname"));
    let Some(real) = Arch::of_host(dpkg, uname) else {
        push(
            Level::Warning,
            "architecture",
            format!("unknown (uname -m: `{uname}`, dpkg: `{dpkg}`)"),
        );
        return;
    };
    let lacking: Vec<String> = need
        .images
        .iter()
        .filter(|(_, archs)| !archs.contains(&real))
        .map(|(image, archs)| format!("{image} ({} only)", list(archs)))
        .collect();
    if !lacking.is_empty() {
        push(
            Level::Critical,
            "architecture",
            format!(
                "the host is {real}; not published for it: {}",
                lacking.join(", ")
            ),
        );
    }
    match need.arch {
        None => push(
            Level::Warning,
            "architecture",
            format!("{real}; the inventory sets none: add `arch: {real}` to hosts.{host}"),
        ),
        Some(d) if d != real => push(
            Level::Critical,
            "architecture",
            format!(
                "the inventory says {d} but the host is {real}: fix hosts.{host}.arch \
                 (the stacks were checked against {d})"
            ),
        ),
        Some(_) if lacking.is_empty() => push(Level::Ok, "architecture", real.to_string()),
        Some(_) => {}
    }
}

/// The package `--install` adds when unattended upgrades are off; it then
/// also configures them ([`crate::osupdate::plan::unattended_script`]).
pub const UNATTENDED: &str = "unattended-upgrades";

/// Install packages from the distribution (only on `--install`), and
/// configure unattended security upgrades when `unattended-upgrades` is
/// among them.
pub fn install_script(packages: &[String]) -> String {
    let pkgs: Vec<String> = packages.iter().map(|p| quote(p)).collect();
    let mut s = format!(
        "set -e\nexport DEBIAN_FRONTEND=noninteractive\napt-get update -q\napt-get install -y -q {}\n",
        pkgs.join(" ")
    );
    if packages.iter().any(|p| p != UNATTENDED) {
        s.push_str(
            "if command -v systemctl >/dev/null 2>&1; then systemctl enable --now docker; fi\n",
        );
    }
    if packages.iter().any(|p| p == UNATTENDED) {
        // In a subshell: the script has its own `set -u` and exits.
        s.push_str(&format!(
            "(\n{})\n",
            crate::osupdate::plan::unattended_script()
        ));
    }
    s
}

/// What the host must offer for the stacks placed on it: RAM (MB), the
/// ports they publish, the architecture its images need.
pub fn needs(site: &Resolved, host: &str) -> Needs {
    let placed = site.placement.get(host).cloned().unwrap_or_default();
    let ram: u64 = placed
        .iter()
        .map(|p| site.catalog.stacks[&p.name].min_ram_mb)
        .sum();
    let mut ports: Vec<u16> = placed
        .iter()
        .flat_map(|p| site.catalog.stacks[&p.name].ports.iter().map(|x| x.port))
        .collect();
    ports.sort();
    ports.dedup();
    let mut images = Vec::new();
    for p in &placed {
        let d = &site.catalog.stacks[&p.name];
        let overrides = if d.automatic {
            &site.inv.proxy.images
        } else {
            &site.inv.services[&p.name].images
        };
        for comp in d.components.keys().filter(|c| !overrides.contains_key(*c)) {
            if let Some(f) = site.catalog.image_facts(&p.name, comp) {
                images.push((p.images[comp].clone(), f.arches()));
            }
        }
    }
    Needs {
        ram_mb: ram,
        ports,
        arch: site
            .inv
            .hosts
            .get(host)
            .and_then(|h| h.arch.as_deref())
            .and_then(Arch::parse),
        images,
    }
}

impl Report {
    /// A check failed: the host cannot run its stacks as it is.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.level == Level::Critical)
    }
}

/// The report for a terminal: one line per check, then what `--install`
/// would do.
pub fn text(r: &Report) -> String {
    let mut t = String::new();
    for c in &r.checks {
        let l = match c.level {
            Level::Ok => "ok  ",
            Level::Warning | Level::Unknown => "WARN",
            Level::Critical => "FAIL",
        };
        t.push_str(&format!("{l} {:<16} {}\n", c.what, c.detail));
    }
    if !r.install.is_empty() {
        t.push_str(&format!(
            "--install would run: apt-get install {}\n",
            r.install.join(" ")
        ));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(ram_mb: u64, ports: &[u16]) -> Needs {
        Needs {
            ram_mb,
            ports: ports.to_vec(),
            arch: Some(Arch::Amd64),
            images: Vec::new(),
        }
    }

    #[test]
    fn judges_a_fresh_host() {
        let out = "os_id=debian\nos_version=12\nos_name=Debian GNU/Linux 12 (bookworm)\ndocker=\ndocker_cli=\ncompose=\nfree_kib=1048576\nmem_kib=4000000\nntp=\nlistening=0016 0050 \napt=/usr/bin/apt-get\n";
        let r = judge("srv1", out, &need(8192, &[80, 443, 25]));
        assert_eq!(r.install, vec!["docker.io", "docker-compose"]);
        let by = |w: &str| r.checks.iter().find(|c| c.what == w).unwrap().clone();
        assert_eq!(by("docker").level, Level::Critical);
        assert_eq!(by("disk").level, Level::Warning);
        assert_eq!(by("memory").level, Level::Warning);
        assert!(by("ports").detail.contains("80"), "port 80 (0x50) is taken");
        assert!(!by("ports").detail.contains("443"));
    }

    #[test]
    fn judges_a_ready_host() {
        let out = "os_id=ubuntu\nos_version=24.04\nos_name=Ubuntu 24.04\ndocker=27.5.1\ndocker_cli=/usr/bin/docker\ncompose=v2 2.33.0\nfree_kib=104857600\nmem_kib=16000000\nntp=yes\nlistening=0016\napt=/usr/bin/apt-get\narch_uname=x86_64\narch_dpkg=amd64\n";
        let r = judge("srv1", out, &need(4096, &[80, 443]));
        assert!(r.install.is_empty());
        assert!(
            r.checks.iter().all(|c| c.level == Level::Ok),
            "{:?}",
            r.checks
        );
    }

    #[test]
    fn judges_unattended_upgrades() {
        let ready = "os_id=debian\nos_version=12\nos_name=Debian 12\ndocker=27.5.1\ndocker_cli=/usr/bin/docker\ncompose=v2 2.33.0\nfree_kib=104857600\nmem_kib=16000000\nntp=yes\nlistening=\napt=/usr/bin/apt-get\n";
        let by = |r: &Report| r.checks.iter().find(|c| c.what == "unattended").cloned();
        let r = judge(
            "srv1",
            &format!("{ready}uu_installed=yes\nuu_lists=1\nuu_periodic=1\n"),
            &need(1, &[]),
        );
        assert_eq!(by(&r).unwrap().level, Level::Ok);
        assert!(r.install.is_empty());
        let r = judge(
            "srv1",
            &format!("{ready}uu_installed=yes\nuu_periodic=0\n"),
            &need(1, &[]),
        );
        assert_eq!(by(&r).unwrap().level, Level::Warning);
        assert!(by(&r).unwrap().detail.contains("installed but off"));
        assert_eq!(r.install, vec![UNATTENDED]);
        let r = judge("srv1", &format!("{ready}uu_installed=no\n"), &need(1, &[]));
        assert_eq!(by(&r).unwrap().level, Level::Warning);
        assert_eq!(r.install, vec![UNATTENDED]);
        assert!(
            r.checks.iter().all(|c| c.level != Level::Critical),
            "a warning only: the host can run the stacks"
        );
        // No apt: nothing judged, nothing to install.
        let r = judge(
            "srv1",
            &format!(
                "{}uu_installed=no\n",
                ready.replace("apt=/usr/bin/apt-get", "apt=")
            ),
            &need(1, &[]),
        );
        assert!(by(&r).is_none());
        assert!(r.install.is_empty());
    }

    #[test]
    fn judges_the_architecture_against_the_inventory_and_the_images() {
        let ready = "os_id=debian\nos_version=12\nos_name=Debian 12\ndocker=27.5.1\ndocker_cli=/usr/bin/docker\ncompose=v2 2.33.0\nfree_kib=104857600\nmem_kib=16000000\nntp=yes\nlistening=\napt=/usr/bin/apt-get\n";
        let arch = |r: &Report| {
            r.checks
                .iter()
                .filter(|c| c.what == "architecture")
                .map(|c| (c.level, c.detail.clone()))
                .collect::<Vec<_>>()
        };
        let pi = format!("{ready}arch_uname=aarch64\narch_dpkg=arm64\n");
        let mut n = need(1, &[]);
        n.arch = Some(Arch::Arm64);
        n.images = vec![("caddy:2.11.2-alpine".into(), vec![Arch::Amd64, Arch::Arm64])];
        let r = judge("pi", &pi, &n);
        assert_eq!(arch(&r), [(Level::Ok, "arm64".to_string())]);
        // Not set in the inventory: a finding naming the line to add.
        n.arch = None;
        let a = arch(&judge("pi", &pi, &n));
        assert_eq!(a[0].0, Level::Warning);
        assert!(a[0].1.contains("add `arch: arm64` to hosts.pi"), "{a:?}");
        // The inventory says amd64: the stacks were checked for the wrong one.
        n.arch = Some(Arch::Amd64);
        let a = arch(&judge("pi", &pi, &n));
        assert_eq!(a[0].0, Level::Critical);
        assert!(a[0].1.contains("says amd64 but the host is arm64"), "{a:?}");
        // An image without a build for the host.
        n.images.push((
            "mattermost/mattermost-team-edition:11.7.9".into(),
            vec![Arch::Amd64],
        ));
        let r = judge("pi", &pi, &n);
        assert!(r.failed());
        assert!(arch(&r)[0]
            .1
            .contains("mattermost-team-edition:11.7.9 (amd64 only)"));
        // A 64-bit kernel under a 32-bit system pulls armv7 images.
        let armhf = format!("{ready}arch_uname=aarch64\narch_dpkg=armhf\n");
        n.arch = Some(Arch::Armv7);
        n.images.clear();
        assert_eq!(
            arch(&judge("pi", &armhf, &n)),
            [(Level::Ok, "armv7".to_string())]
        );
        let none = arch(&judge("pi", ready, &n));
        assert_eq!(none[0].0, Level::Warning);
    }

    #[test]
    fn needs_name_the_declared_arch_and_each_placed_image() {
        let site =
            crate::site::inventory::load(std::path::Path::new("inventories/asso-lan.yml")).unwrap();
        let n = needs(&site, "pi");
        assert_eq!(n.arch, Some(Arch::Arm64));
        let names: Vec<&str> = n.images.iter().map(|(i, _)| i.as_str()).collect();
        assert!(names.contains(&"nextcloud:34.0.2-apache"), "{names:?}");
        assert!(names.contains(&"caddy:2.11.2-alpine"), "{names:?}");
        assert!(n.images.iter().all(|(_, a)| a.contains(&Arch::Arm64)));
    }

    #[test]
    fn install_script_configures_unattended_upgrades() {
        let only = install_script(&[UNATTENDED.to_string()]);
        assert!(only.contains("apt-get install -y -q 'unattended-upgrades'"));
        assert!(only.contains("52regie-unattended-upgrades"));
        assert!(!only.contains("enable --now docker"), "{only}");
        let docker = install_script(&["docker.io".to_string()]);
        assert!(docker.contains("enable --now docker"));
        assert!(!docker.contains("unattended"));
        let both = install_script(&["docker-compose".to_string(), UNATTENDED.to_string()]);
        assert!(both.contains("enable --now docker") && both.contains("20auto-upgrades"));
        let o = std::process::Command::new("sh")
            .args(["-n", "-c", &both])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let facts = facts_script("/opt/regie");
        assert!(facts.contains("uu_installed=") && facts.contains("${Status}"));
    }
}

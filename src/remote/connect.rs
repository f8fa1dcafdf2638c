//! From an inventory host to an open SSH connection: the target (address,
//! port, user, key, jump hosts, `~/.ssh/config`), host-key checking against
//! the site's known_hosts, and recording a host's key on request. Every
//! executor connects through here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::remote::ssh::{Conn, HostKeys, Options, SshError, Target};
use crate::site::inventory::Resolved;
use crate::site::selection::PlanOptions;
use crate::site::site_files::site_known_hosts;

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(p),
    }
}

/// SSH target of an inventory host.
pub fn target(site: &Resolved, host: &str) -> Result<Target> {
    target_depth(site, host, 0)
}

/// The user's ssh config (`$REGIE_SSH_CONFIG`, else `~/.ssh/config`).
fn ssh_config_text() -> String {
    let path = std::env::var_os("REGIE_SSH_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".ssh/config")));
    path.and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
}

fn target_depth(site: &Resolved, host: &str, depth: usize) -> Result<Target> {
    if depth > 4 {
        bail!("jump host chain through `{host}` is too long or loops");
    }
    let h = site
        .inv
        .hosts
        .get(host)
        .with_context(|| format!("no host `{host}` in the inventory"))?;
    // The inventory wins; ~/.ssh/config fills in what it does not say.
    let conf = crate::remote::ssh::lookup_config(&ssh_config_text(), &[h.address.as_str(), host]);
    let resolve_identity = |p: &str| {
        let e = expand_home(p);
        if e.is_relative() {
            site.file.parent().unwrap_or(Path::new(".")).join(e)
        } else {
            e
        }
    };
    let identity = h
        .ssh
        .identity
        .as_deref()
        .map(resolve_identity)
        .or_else(|| conf.identity_file.as_deref().map(expand_home));
    let user = h
        .ssh
        .user
        .clone()
        .or(conf.user.clone())
        .unwrap_or_else(|| "root".into());
    let jump_spec = h.ssh.jump.clone().or(conf.proxy_jump.clone());
    let jump = match jump_spec {
        None => None,
        Some(j) if site.inv.hosts.contains_key(&j) => {
            Some(Box::new(target_depth(site, &j, depth + 1)?))
        }
        Some(j) => {
            let (juser, rest) = match j.split_once('@') {
                Some((u, r)) => (Some(u.to_string()), r),
                None => (None, j.as_str()),
            };
            let (jaddr, jport) = match rest.rsplit_once(':') {
                Some((a, p)) => (
                    a.to_string(),
                    Some(
                        p.parse()
                            .with_context(|| format!("bad port in jump host `{j}`"))?,
                    ),
                ),
                None => (rest.to_string(), None),
            };
            let jc = crate::remote::ssh::lookup_config(&ssh_config_text(), &[jaddr.as_str()]);
            Some(Box::new(Target {
                name: j.clone(),
                address: jc.host_name.clone().unwrap_or(jaddr),
                port: jport.or(jc.port).unwrap_or(22),
                user: juser.or(jc.user).unwrap_or_else(|| user.clone()),
                identity: jc
                    .identity_file
                    .as_deref()
                    .map(expand_home)
                    .or_else(|| identity.clone()),
                sudo: false,
                jump: None,
            }))
        }
    };
    Ok(Target {
        name: host.to_string(),
        // An inventory address that is an alias in ~/.ssh/config resolves
        // through its HostName.
        address: conf.host_name.clone().unwrap_or_else(|| h.address.clone()),
        port: h.ssh.port.or(conf.port).unwrap_or(22),
        user,
        identity,
        sudo: h.ssh.sudo,
        jump,
    })
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub accept_new_host_keys: bool,
    pub connect_timeout: Duration,
    pub health_timeout: Duration,
    pub parallel: usize,
    pub plan: PlanOptions,
    pub delete_data: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            accept_new_host_keys: false,
            connect_timeout: Duration::from_secs(10),
            health_timeout: Duration::from_secs(180),
            parallel: 8,
            plan: PlanOptions::default(),
            delete_data: false,
        }
    }
}

fn host_keys(site: &Resolved, accept_new: bool) -> HostKeys {
    HostKeys {
        site_file: site_known_hosts(site),
        user_file: std::env::var_os("HOME").map(|h| Path::new(&h).join(".ssh/known_hosts")),
        accept_new,
    }
}

fn ssh_options(site: &Resolved, o: &RunOptions) -> Options {
    Options {
        connect_timeout: o.connect_timeout,
        command_timeout: Duration::from_secs(600),
        inventory: site.file.display().to_string(),
    }
}

pub fn connect(site: &Resolved, host: &str, o: &RunOptions) -> Result<Conn> {
    let t = target(site, host)?;
    Conn::connect(
        &t,
        &host_keys(site, o.accept_new_host_keys),
        &ssh_options(site, o),
    )
    .map_err(anyhow::Error::from)
}

/// Record a host's current key in the site's known_hosts (`regie hosts trust`).
pub fn trust(site: &Resolved, host: &str, o: &RunOptions) -> Result<String> {
    let t = target(site, host)?;
    if t.jump.is_some() {
        // Through a bastion: connect with accept-new for this host only.
        let keys = HostKeys {
            accept_new: true,
            ..host_keys(site, false)
        };
        let c = Conn::connect(&t, &keys, &ssh_options(site, o))?;
        return Ok(crate::remote::ssh::fingerprint(
            c.session().host_key().map(|k| k.0).unwrap_or_default(),
        ));
    }
    let (sess, fp) = Conn::fetch_host_key(&t, &ssh_options(site, o))?;
    let keys = host_keys(site, true);
    // Refuse to paper over a changed key.
    let mut kh = sess.known_hosts()?;
    for f in [Some(keys.site_file.clone()), keys.user_file.clone()]
        .into_iter()
        .flatten()
    {
        if f.exists() {
            kh.read_file(&f, ssh2::KnownHostFileKind::OpenSSH)?;
        }
    }
    let key = sess.host_key().map(|k| k.0).unwrap_or_default();
    match kh.check_port(&t.address, t.port, key) {
        ssh2::CheckResult::Match => return Ok(format!("{fp} (already trusted)")),
        ssh2::CheckResult::Mismatch => {
            return Err(SshError::ChangedHostKey {
                host: t.name.clone(),
                addr: crate::util::shell::known_hosts_name(&t.address, t.port),
                fingerprint: fp,
                file: keys.site_file.display().to_string(),
            }
            .into())
        }
        _ => {}
    }
    keys.record(&sess, &t)?;
    Ok(fp)
}

//! The `hosts` section (names, addresses, SSH, directories), then what
//! lands on each host once the stacks are placed: ports, RAM, mail
//! reachability.

use crate::site::diag::Show;
use std::collections::BTreeMap;

use super::err;
use crate::site::catalog::{Catalog, Proto};
use crate::site::diag::{did_you_mean, Diagnostic};
use crate::site::inventory::syntax::{is_abs_path, is_address, is_domain, is_slug};
use crate::site::inventory::{Inventory, Placed, Role};

pub(super) fn check(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    let mut addresses: BTreeMap<(String, u16), String> = BTreeMap::new();
    for (name, h) in &inv.hosts {
        let p = format!("hosts.{name}");
        if !is_slug(name) {
            diags.push(
                err(p.clone(), format!("invalid host name `{}`", name.shown()))
                    .expected("a slug: lowercase letters, digits and `-`"),
            );
        }
        if !is_address(&h.address) {
            diags.push(
                err(
                    format!("{p}.address"),
                    format!("invalid address `{}`", h.address.shown()),
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
                        format!("invalid user name `{}`", u.shown()),
                    )
                    .expected("letters, digits, `.`, `_` or `-`"),
                );
            }
        }
        if let Some(j) = &h.ssh.jump {
            check_jump(inv, name, j, &format!("{p}.ssh.jump"), diags);
        }
        if !is_abs_path(&h.base_dir) {
            diags.push(
                err(
                    format!("{p}.base_dir"),
                    format!("invalid directory `{}`", h.base_dir.shown()),
                )
                .expected("an absolute path of letters, digits, `/._-`"),
            );
        }
        match (&h.path, h.role) {
            (Some(path), _) if !is_abs_path(path) => diags.push(
                err(
                    format!("{p}.path"),
                    format!("invalid directory `{}`", path.shown()),
                )
                .expected("an absolute path such as /volume1/regie"),
            ),
            (Some(_), Role::Server | Role::Sbc) => diags.push(
                err(format!("{p}.path"), "`path` is only for NAS hosts").expected("role: nas"),
            ),
            _ => {}
        }
    }
}

/// Ports, RAM, mail reachability per host.
pub(super) fn check_placement(
    inv: &Inventory,
    cat: &Catalog,
    placement: &BTreeMap<String, Vec<Placed>>,
    diags: &mut Vec<Diagnostic>,
) {
    for (host, stacks) in placement {
        let h = &inv.hosts[host];
        let mut ports: BTreeMap<(u16, Proto), String> = BTreeMap::new();
        let mut ram = 0;
        let mut parts = Vec::new();
        for s in stacks {
            let d = &cat.stacks[&s.name];
            ram += d.min_ram_mb;
            parts.push(s.name.clone());
            // Settings that switch on a part with its own RAM (ClamAV).
            for (k, spec) in &d.settings {
                if let (Some(mb), true) = (spec.ram_mb, s.settings[k.as_str()] == true) {
                    ram += mb;
                    parts.push(format!("{}.{k}", s.name));
                }
            }
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
                            parts.join(" + ")
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
}

/// `ssh.jump`: another inventory host (the chain followed, without loop,
/// at most four bastions deep as the connection allows), or an outside
/// bastion written `[user@]address[:port]` with an IP or a full domain
/// name, or `user@name[:port]`: a bare word that is no inventory host is a
/// typo, not a DNS name.
fn check_jump(inv: &Inventory, name: &str, j: &str, path: &str, diags: &mut Vec<Diagnostic>) {
    if j == name {
        diags.push(err(path, "a host cannot be its own jump host"));
        return;
    }
    if inv.hosts.contains_key(j) {
        let mut seen = vec![name.to_string()];
        let mut cur = j.to_string();
        while let Some(next) = inv.hosts.get(&cur).and_then(|h| h.ssh.jump.clone()) {
            seen.push(cur.clone());
            if seen.contains(&next) || seen.len() > 4 {
                seen.push(next);
                diags.push(
                    err(
                        path,
                        format!(
                            "jump host chain {} loops or is more than four bastions deep",
                            seen.iter()
                                .map(|s| s.shown().to_string())
                                .collect::<Vec<_>>()
                                .join(" -> ")
                        ),
                    )
                    .expected("a chain that ends at a host reached directly"),
                );
                return;
            }
            cur = next;
        }
        return;
    }
    let expected = "another host's name, or [user@]address[:port] with an IP address or a full domain name (user@name for a ~/.ssh/config alias) and a port from 1 to 65535";
    let (user, rest) = match j.split_once('@') {
        Some((u, r)) => (Some(u), r),
        None => (None, j),
    };
    let (addr, port) = match rest.rsplit_once(':') {
        Some((a, p)) if !a.contains(':') => (a, Some(p)),
        _ => (rest, None),
    };
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let user_ok = user.is_none_or(|u| {
        !u.is_empty()
            && u.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !u.starts_with('-')
    });
    // A single word is accepted with an explicit user (`admin@bastion`, a
    // ~/.ssh/config alias), never bare: bare, it is a misspelt host.
    let addr_ok = addr.parse::<std::net::IpAddr>().is_ok()
        || is_domain(addr)
        || (user.is_some() && is_slug(addr));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0) && !p.starts_with('+'));
    if !(user_ok && addr_ok && port_ok) {
        let why = if !port_ok {
            format!("invalid port in jump host `{}`", j.shown())
        } else if !addr_ok && !j.contains(['@', ':', '.']) {
            format!("`{}` is not a host of the inventory", j.shown())
        } else {
            format!("invalid jump host `{}`", j.shown())
        };
        diags.push(
            err(path, why)
                .expected(expected)
                .hint(did_you_mean(j, host_candidates(inv))),
        );
    }
}

pub(super) fn host_candidates(inv: &Inventory) -> impl Iterator<Item = &str> {
    inv.hosts.keys().map(String::as_str)
}

pub(super) fn hosts_list(inv: &Inventory) -> String {
    inv.hosts.keys().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The jump forms accepted; the refused ones are in tests/bad.
    #[test]
    fn accepted_jump_hosts() {
        for j in [
            "srv1",
            "bastion.demo.fr",
            "admin@bastion.demo.fr:2222",
            "admin@bastion",
            "192.0.2.99:22",
        ] {
            let src = format!(
                "site: {{ name: demo, domain: demo.fr, contact: admin@demo.fr }}\n\
                 hosts:\n  srv1: {{ role: server, address: 192.0.2.10, ram_mb: 8192 }}\n  \
                 srv2: {{ role: server, address: 192.0.2.11, ram_mb: 8192, ssh: {{ jump: \"{j}\" }} }}\n\
                 services:\n  chat: {{ host: srv1 }}\n"
            );
            let r = crate::site::inventory::load_str(Path::new("t.yml"), &src);
            assert!(r.is_ok(), "{j}: {:?}", r.err().map(|e| e.diagnostics));
        }
    }
}

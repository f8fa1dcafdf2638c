//! The mail service's own rules: accounts in the mail domains and listed
//! once, at least one mailbox (docker-mailserver stops without one), no
//! alias on a mailbox regie makes for another stack, a usable backend
//! network, and a warning for a listed domain nothing uses.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::Value as Json;

use super::err;
use crate::site::catalog::Catalog;
use crate::site::diag::{Diagnostic, Show};
use crate::site::inventory::Inventory;
use crate::site::mail;

pub(super) fn check(
    p: &str,
    settings: &Json,
    inv: &Inventory,
    cat: &Catalog,
    diags: &mut Vec<Diagnostic>,
) {
    let domains: BTreeSet<String> = mail::domains(settings, &inv.site.domain)
        .into_iter()
        .collect();
    let mut seen = BTreeSet::new();
    let accounts = settings["accounts"].as_array().cloned().unwrap_or_default();
    for (i, a) in accounts.iter().enumerate() {
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
        if !seen.insert(addr.to_ascii_lowercase()) {
            diags.push(
                err(
                    format!("{p}.settings.accounts[{i}].address"),
                    format!("account `{addr}` is listed twice"),
                )
                .expected(
                    "each mailbox once (addresses differing only in case are the same mailbox)",
                ),
            );
        }
        if let Some(q) = a["quota"].as_str() {
            if !is_quota(q) {
                diags.push(
                    err(
                        format!("{p}.settings.accounts[{i}].quota"),
                        format!("invalid quota `{}`", q.shown()),
                    )
                    .expected("a size such as 500M or 2G (a number and B, K, M, G or T)"),
                );
            }
        }
    }
    // Stacks of this site that send mail get a mailbox here.
    let senders: Vec<&str> = inv
        .services
        .keys()
        .filter(|s| cat.stacks.get(*s).is_some_and(|d| d.sends_mail))
        .map(String::as_str)
        .collect();
    if accounts.is_empty() && senders.is_empty() {
        diags.push(
            err(
                format!("{p}.settings.accounts"),
                "the mail service has no mailbox: docker-mailserver stops when it has none",
            )
            .expected("at least one account in settings.accounts"),
        );
    }
    let primary =
        mail::primary_domain(&mail::domains(settings, &inv.site.domain), &inv.site.domain);
    for (i, a) in settings["aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let addr = a["address"].as_str().unwrap_or_default();
        if let Some(s) = senders
            .iter()
            .find(|s| mail::sender_address(s, &primary).eq_ignore_ascii_case(addr))
        {
            diags.push(
                err(
                    format!("{p}.settings.aliases[{i}].address"),
                    format!("`{addr}` is the mailbox service `{s}` sends its mail from"),
                )
                .expected("another alias address"),
            );
        }
    }
    check_alias_targets(p, settings, &domains, &seen, &senders, &primary, diags);
    if let Some(s) = settings["backend_subnet"].as_str() {
        let path = format!("{p}.settings.backend_subnet");
        match mail::Backend::parse(s) {
            Err(e) => diags.push(
                err(path, format!("invalid backend subnet: {e}"))
                    .expected("a private IPv4 network such as 172.31.253.0/24"),
            ),
            Ok(b) => {
                for (name, h) in &inv.hosts {
                    if h.address.parse::<Ipv4Addr>().is_ok_and(|ip| b.contains(ip)) {
                        diags.push(
                            err(
                                path.clone(),
                                format!(
                                    "`{s}` holds the address of host `{name}` ({}): the host could not reach it",
                                    h.address
                                ),
                            )
                            .expected("a private IPv4 network no host of the site is on"),
                        );
                    }
                }
            }
        }
    }
    let listed: Vec<String> = settings["domains"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(String::from))
        .collect();
    let unused = mail::unused_domains(settings, &inv.site.domain);
    for (i, d) in listed.iter().enumerate() {
        if unused.contains(d) {
            diags.push(
                Diagnostic::warning(
                    format!("{p}.settings.domains[{i}]"),
                    format!(
                        "mail domain `{d}` has no account or alias: it receives mail for postmaster@{d} and abuse@{d} only"
                    ),
                )
                .expected(format!("an account or alias @{d}, or remove the domain")),
            );
        }
    }
}

/// A Dovecot size: a whole number and an optional unit.
fn is_quota(s: &str) -> bool {
    let digits = s.trim_end_matches(['B', 'b', 'K', 'k', 'M', 'm', 'G', 'g', 'T', 't']);
    !digits.is_empty()
        && s.len() - digits.len() <= 1
        && digits.len() <= 15
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b != b'0')
}

/// Each alias is in a mail domain and forwards somewhere: to an outside
/// address, or to a mailbox or alias that exists here (a local recipient
/// that does not exist bounces every message).
fn check_alias_targets(
    p: &str,
    settings: &Json,
    domains: &BTreeSet<String>,
    accounts: &BTreeSet<String>,
    senders: &[&str],
    primary: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let aliases = settings["aliases"].as_array().cloned().unwrap_or_default();
    let mut local: BTreeSet<String> = accounts.clone();
    local.extend(
        aliases
            .iter()
            .filter_map(|a| a["address"].as_str())
            .map(str::to_ascii_lowercase),
    );
    local.extend(
        senders
            .iter()
            .map(|s| mail::sender_address(s, primary).to_ascii_lowercase()),
    );
    for d in domains {
        for l in mail::REQUIRED_LOCAL_PARTS {
            local.insert(format!("{l}@{d}").to_ascii_lowercase());
        }
    }
    let in_domains = |addr: &str| {
        addr.rsplit_once('@')
            .is_some_and(|(_, d)| domains.iter().any(|x| x.eq_ignore_ascii_case(d)))
    };
    let list = domains.iter().cloned().collect::<Vec<_>>().join(" or @");
    for (i, a) in aliases.iter().enumerate() {
        let ap = format!("{p}.settings.aliases[{i}]");
        let addr = a["address"].as_str().unwrap_or_default();
        if !addr.is_empty() && !in_domains(addr) {
            diags.push(
                err(
                    format!("{ap}.address"),
                    format!("alias `{}` is not in one of the mail domains", addr.shown()),
                )
                .expected(format!("an address @{list}")),
            );
        }
        let to = a["to"].as_array().cloned().unwrap_or_default();
        if to.is_empty() {
            diags.push(
                err(format!("{ap}.to"), "the alias forwards to nobody")
                    .expected("at least one recipient"),
            );
        }
        for (j, t) in to.iter().enumerate() {
            let Some(t) = t.as_str() else { continue };
            if in_domains(t) && !local.contains(&t.to_ascii_lowercase()) {
                diags.push(
                    err(
                        format!("{ap}.to[{j}]"),
                        format!(
                            "`{}` is in a mail domain of this site but is no mailbox or alias",
                            t.shown()
                        ),
                    )
                    .expected(
                        "an account or alias of settings.accounts/aliases, or an outside address",
                    ),
                );
            }
        }
    }
}

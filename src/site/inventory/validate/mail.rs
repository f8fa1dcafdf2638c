//! The mail service's own rules: accounts in the mail domains and listed
//! once, at least one mailbox (docker-mailserver stops without one), no
//! alias on a mailbox regie makes for another stack, a usable backend
//! network, and a warning for a listed domain nothing uses.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::Value as Json;

use super::err;
use crate::site::catalog::Catalog;
use crate::site::diag::Diagnostic;
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
        if !seen.insert(addr.to_string()) {
            diags.push(err(
                format!("{p}.settings.accounts[{i}].address"),
                format!("account `{addr}` is listed twice"),
            ));
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

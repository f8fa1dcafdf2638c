//! The DNS records a site needs (the catalog's, per service, and an address
//! record per web hostname), as a table and as a BIND zone file snippet.

use std::net::IpAddr;

use super::document::{c, tx, Inline};
use super::facts::{descriptor, placed};
use crate::site::inventory::{Placed, Resolved};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: String,
    pub name: String,
    pub value: String,
    pub service: String,
    pub note: Option<String>,
}

/// The record pointing a name at an address: A, AAAA, or CNAME when the
/// address is a name.
fn address_record(address: &str) -> (&'static str, String) {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => ("A", address.to_string()),
        Ok(IpAddr::V6(_)) => ("AAAA", address.to_string()),
        Err(_) => ("CNAME", format!("{address}.")),
    }
}

/// The domains a stack's `{domain}` records are made for: its `domains`
/// setting (mail), else the site's domain.
fn record_domains(site: &Resolved, p: &Placed) -> Vec<String> {
    let listed: Vec<String> = p.settings["domains"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        vec![site.inv.site.domain.clone()]
    } else {
        listed
    }
}

/// The DNS records the site needs: the catalog's, per service, plus an
/// address record for every web hostname; each once.
pub fn dns_records(site: &Resolved) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    let mut push = |r: Record| {
        if !out
            .iter()
            .any(|o| o.kind == r.kind && o.name == r.name && o.value == r.value)
        {
            out.push(r);
        }
    };
    for (host, p) in placed(site) {
        let Some(hostname) = p.hostname.as_deref() else {
            continue;
        };
        let address = &site.inv.hosts[host].address;
        let d = descriptor(site, p);
        for r in &d.dns {
            let domains = if r.name.contains("{domain}") || r.value.contains("{domain}") {
                record_domains(site, p)
            } else {
                vec![site.inv.site.domain.clone()]
            };
            for domain in domains {
                let vars = crate::site::catalog::DnsVars {
                    hostname,
                    address,
                    domain: &domain,
                    dkim_selector: d.dkim_selector.as_deref().unwrap_or("{dkim_selector}"),
                };
                let mut kind = r.kind.clone();
                let mut value = vars.fill(&r.value);
                if kind == "A" && r.value == "{address}" {
                    let (k, v) = address_record(address);
                    kind = k.to_string();
                    value = v;
                }
                push(Record {
                    kind,
                    name: vars.fill(&r.name),
                    value,
                    service: p.name.clone(),
                    note: r.note.clone(),
                });
            }
        }
        let (kind, value) = address_record(address);
        push(Record {
            kind: kind.into(),
            name: hostname.into(),
            value,
            service: p.name.clone(),
            note: None,
        });
    }
    out
}

/// A zone file line; records that cannot go into the zone as they are (PTR,
/// set at the address's owner, and values to be filled in, written in
/// parentheses in the catalog) are comments.
fn zone_line(r: &Record, width: usize) -> String {
    let name = if r.name.ends_with('.') {
        r.name.clone()
    } else {
        format!("{}.", r.name)
    };
    let comment = r.kind == "PTR" || r.value.starts_with('(');
    let line = format!("{name:<width$} IN {:<5} {}", r.kind, r.value);
    let note = r
        .note
        .as_deref()
        .map(|n| format!("  ; {n}"))
        .unwrap_or_default();
    if comment {
        format!("; {line}{note}")
    } else {
        format!("{line}{note}")
    }
}

/// Values to fill in (in parentheses in the catalog) are instructions, shown
/// as text; the others are the record's data.
pub(super) fn dns_value(value: &str) -> Vec<Inline> {
    if value.starts_with('(') {
        tx(value)
    } else {
        vec![c(value)]
    }
}

pub(super) fn zone_file(records: &[Record]) -> String {
    let width = records.iter().map(|r| r.name.len() + 1).max().unwrap_or(0);
    records
        .iter()
        .map(|r| zone_line(r, width))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_placeholders_and_address_records() {
        let vars = crate::site::catalog::DnsVars {
            hostname: "mail.x.fr",
            address: "1.2.3.4",
            domain: "x.fr",
            dkim_selector: "mail",
        };
        assert_eq!(
            vars.fill("{dkim_selector}._domainkey.{domain} {hostname}. {address}"),
            "mail._domainkey.x.fr mail.x.fr. 1.2.3.4"
        );
        assert_eq!(address_record("1.2.3.4"), ("A", "1.2.3.4".into()));
        assert_eq!(
            address_record("2001:db8::1"),
            ("AAAA", "2001:db8::1".into())
        );
        assert_eq!(
            address_record("srv.example.fr"),
            ("CNAME", "srv.example.fr.".into())
        );
    }

    #[test]
    fn zone_lines_comment_what_cannot_be_published() {
        let r = |kind: &str, value: &str| Record {
            kind: kind.into(),
            name: "x.fr".into(),
            value: value.into(),
            service: "mail".into(),
            note: None,
        };
        assert_eq!(
            zone_line(&r("MX", "10 mail.x.fr."), 5),
            "x.fr. IN MX    10 mail.x.fr."
        );
        assert!(zone_line(&r("PTR", "mail.x.fr."), 5).starts_with("; "));
        assert!(zone_line(&r("TXT", "(public key …)"), 5).starts_with("; "));
    }
}

//! The DNS records a site needs, in one model: the catalog's `dns` records
//! of each placed service with their placeholders filled (one per mail
//! domain where the record names `{domain}`), and an address record per web
//! hostname. The run book prints them; `regie check dns` takes the mail
//! service's values from them. Pure.

use std::net::IpAddr;

use super::catalog::{Descriptor, DnsVars};
use super::inventory::{Placed, Resolved};

/// docker-mailserver's own default, for a stack without `dkim_selector`.
pub const DEFAULT_DKIM_SELECTOR: &str = "mail";

/// One record, filled: what goes into the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: String,
    pub name: String,
    pub value: String,
    /// The service that needs it.
    pub service: String,
    pub note: Option<String>,
}

/// The record pointing a name at an address: A, AAAA, or CNAME when the
/// address is a name.
pub fn address_record(address: &str) -> (&'static str, String) {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => ("A", address.to_string()),
        Ok(IpAddr::V6(_)) => ("AAAA", address.to_string()),
        Err(_) => ("CNAME", format!("{address}.")),
    }
}

/// The DKIM selector a stack's keys are made with.
pub fn dkim_selector(d: &Descriptor) -> &str {
    d.dkim_selector.as_deref().unwrap_or(DEFAULT_DKIM_SELECTOR)
}

/// The domains a service's `{domain}` records are made for: its `domains`
/// setting (mail), else the site's domain.
pub fn service_domains(site: &Resolved, p: &Placed) -> Vec<String> {
    crate::site::mail::domains(&p.settings, &site.inv.site.domain)
}

/// The catalog's records of one placed service, filled; none when the
/// service has no hostname.
pub fn service_records(site: &Resolved, p: &Placed) -> Vec<Record> {
    let Some(hostname) = p.hostname.as_deref() else {
        return vec![];
    };
    let address = &site.inv.hosts[&p.host].address;
    let d = &site.catalog.stacks[&p.name];
    let mut out = vec![];
    for r in &d.dns {
        let domains = if r.name.contains("{domain}") || r.value.contains("{domain}") {
            service_domains(site, p)
        } else {
            vec![site.inv.site.domain.clone()]
        };
        for domain in domains {
            let vars = DnsVars {
                hostname,
                address,
                domain: &domain,
                dkim_selector: dkim_selector(d),
            };
            let (kind, value) = if r.kind == "A" && r.value == "{address}" {
                let (k, v) = address_record(address);
                (k.to_string(), v)
            } else {
                (r.kind.clone(), vars.fill(&r.value))
            };
            out.push(Record {
                kind,
                name: vars.fill(&r.name),
                value,
                service: p.name.clone(),
                note: r.note.clone(),
            });
        }
    }
    out
}

/// The DNS records the site needs: each service's, then an address record
/// for its web hostname; each record once.
pub fn site_records(site: &Resolved) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    let mut push = |r: Record| {
        if !out
            .iter()
            .any(|o| o.kind == r.kind && o.name == r.name && o.value == r.value)
        {
            out.push(r);
        }
    };
    for p in site.placement.values().flatten() {
        let Some(hostname) = p.hostname.as_deref() else {
            continue;
        };
        service_records(site, p).into_iter().for_each(&mut push);
        let (kind, value) = address_record(&site.inv.hosts[&p.host].address);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_address_records() {
        let vars = DnsVars {
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
}

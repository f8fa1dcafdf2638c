//! What the site needs: the mail service as the inventory and catalog
//! place it ([`MailSetup`]) and the records its mail domains must
//! publish ([`wanted`]), in report order. Pure.

use std::net::IpAddr;

use anyhow::{Context, Result};

use super::zone::unquote;
use crate::site::dns::{dkim_selector, service_domains, service_records, Record};
use crate::site::inventory::Resolved;
use crate::util::dns::{Query, Rtype};

/// The catalog stack that receives mail.
const MAIL: &str = "mail";

/// The mail service as the inventory places it.
#[derive(Debug, Clone)]
pub struct MailSetup {
    /// The mail hostname, e.g. `mail.cabinet-durand.fr`.
    pub hostname: String,
    /// The inventory host running the mail service.
    pub host: String,
    /// That host's `address`: an IP address or a name.
    pub address: String,
    pub site_domain: String,
    /// Mail domains (`settings.domains`, default the site domain).
    pub domains: Vec<String>,
    pub dkim: DkimSource,
    /// The mail service's records as the site model fills them
    /// (`site::dns`, which the run book prints too).
    pub records: Vec<Record>,
}

/// Where the DKIM key comes from: docker-mailserver makes it on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct DkimSource {
    pub selector: String,
    pub host: String,
    /// The stack's directory on the host (`<base_dir>/mail`).
    pub stack_dir: String,
    /// Its compose project (`<site>-mail`).
    pub project: String,
}

impl DkimSource {
    pub(super) fn command(&self, domain: &str) -> String {
        format!(
            "cd {} && docker compose -p {} exec mailserver setup config dkim selector {} domain {domain}",
            self.stack_dir, self.project, self.selector
        )
    }

    /// Written by `setup config dkim` (Rspamd, 2048-bit RSA): the record in
    /// zone-file form.
    pub(super) fn key_file(&self, domain: &str) -> String {
        format!(
            "{}/config/rspamd/dkim/rsa-2048-{}-{domain}.public.txt",
            self.stack_dir, self.selector
        )
    }
}

impl MailSetup {
    /// `None` when the site has no mail service.
    pub fn from_site(site: &Resolved) -> Result<Option<MailSetup>> {
        let Some(placed) = site.placement.values().flatten().find(|p| p.name == MAIL) else {
            return Ok(None);
        };
        let host = site.inv.hosts.get(&placed.host).with_context(|| {
            format!(
                "the mail service's host `{}` is not in the inventory",
                placed.host
            )
        })?;
        let hostname = placed
            .hostname
            .clone()
            .context("the mail service has no hostname")?;
        let descriptor = site
            .catalog
            .stacks
            .get(MAIL)
            .context("the catalog has no `mail` stack")?;
        let domains = service_domains(site, placed)
            .iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
        Ok(Some(MailSetup {
            hostname: hostname.to_ascii_lowercase(),
            host: placed.host.clone(),
            address: host.address.clone(),
            site_domain: site.inv.site.domain.to_ascii_lowercase(),
            domains,
            dkim: DkimSource {
                selector: dkim_selector(descriptor).to_string(),
                host: placed.host.clone(),
                stack_dir: format!("{}/{MAIL}", host.base_dir.trim_end_matches('/')),
                project: format!("{}-{MAIL}", site.inv.site.name),
            },
            records: service_records(site, placed),
        }))
    }

    /// The zone a name belongs to: the longest of the site and mail domains
    /// it is in, else its parent.
    fn zone_of(&self, name: &str) -> String {
        std::iter::once(&self.site_domain)
            .chain(&self.domains)
            .filter(|z| name == z.as_str() || name.ends_with(&format!(".{z}")))
            .max_by_key(|z| z.len())
            .cloned()
            .unwrap_or_else(|| name.split_once('.').map_or(name, |(_, p)| p).to_string())
    }

    /// The site model's value for a record of this type and name whose
    /// value starts with `prefix`, else `default`.
    fn value(&self, kind: &str, name: &str, prefix: &str, default: String) -> String {
        self.records
            .iter()
            .filter(|r| r.kind.eq_ignore_ascii_case(kind) && r.name.eq_ignore_ascii_case(name))
            .map(|r| r.value.clone())
            .find(|v| unquote(v).starts_with(prefix))
            .unwrap_or(default)
    }
}

/// What one record must say.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// MX of the domain names the mail hostname.
    Mx { exchange: String },
    /// A (or AAAA) of the mail hostname: exactly these addresses; none
    /// means no record of that type.
    Address { v6: bool, ips: Vec<IpAddr> },
    /// One SPF record at the domain that lets the server send.
    Spf { hostname: String, ips: Vec<IpAddr> },
    /// A DKIM key at `<selector>._domainkey.<domain>`.
    Dkim { domain: String, source: DkimSource },
    /// A DMARC record with a policy at `_dmarc.<domain>`.
    Dmarc,
    /// PTR of the address names the mail hostname, which resolves back.
    Ptr { ip: IpAddr, hostname: String },
}

impl Expect {
    pub fn label(&self) -> &'static str {
        match self {
            Expect::Mx { .. } => "MX",
            Expect::Address { v6: false, .. } => "A",
            Expect::Address { v6: true, .. } => "AAAA",
            Expect::Spf { .. } => "SPF",
            Expect::Dkim { .. } => "DKIM",
            Expect::Dmarc => "DMARC",
            Expect::Ptr { .. } => "PTR",
        }
    }

    pub(super) fn rtype(&self) -> Rtype {
        match self {
            Expect::Mx { .. } => Rtype::Mx,
            Expect::Address { v6, .. } => Rtype::address(*v6),
            Expect::Spf { .. } | Expect::Dkim { .. } | Expect::Dmarc => Rtype::Txt,
            Expect::Ptr { .. } => Rtype::Ptr,
        }
    }
}

/// One record the site needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub expect: Expect,
    /// The zone it is published in (groups the snippet).
    pub zone: String,
    /// Owner name without the final dot; the address for PTR.
    pub name: String,
    /// Values to publish, in zone-file syntax.
    pub values: Vec<String>,
}

impl Wanted {
    pub(super) fn query(&self) -> Query {
        Query::new(&self.name, self.expect.rtype())
    }
}

/// The records the site needs, in the order they are reported: MX, A and
/// AAAA, SPF, DKIM, DMARC, PTR. `ips` are the mail host's public
/// addresses; `None` when they are unknown (then A, AAAA and PTR are not
/// checked).
pub fn wanted(setup: &MailSetup, ips: Option<&[IpAddr]>) -> Vec<Wanted> {
    let h = &setup.hostname;
    let per_domain = |make: &dyn Fn(&str) -> Wanted| -> Vec<Wanted> {
        setup.domains.iter().map(|d| make(d)).collect()
    };
    let mut out = per_domain(&|d| Wanted {
        expect: Expect::Mx {
            exchange: h.clone(),
        },
        zone: d.to_string(),
        name: d.to_string(),
        values: vec![setup.value("MX", d, "", format!("10 {h}."))],
    });
    for v6 in [false, true] {
        let Some(ips) = ips else { break };
        let family: Vec<IpAddr> = ips
            .iter()
            .filter(|ip| ip.is_ipv6() == v6)
            .copied()
            .collect();
        out.push(Wanted {
            values: family.iter().map(IpAddr::to_string).collect(),
            expect: Expect::Address { v6, ips: family },
            zone: setup.zone_of(h),
            name: h.clone(),
        });
    }
    out.extend(per_domain(&|d| Wanted {
        expect: Expect::Spf {
            hostname: h.clone(),
            ips: ips.unwrap_or_default().to_vec(),
        },
        zone: d.to_string(),
        name: d.to_string(),
        values: vec![setup.value("TXT", d, "v=spf1", "\"v=spf1 mx ~all\"".into())],
    }));
    out.extend(per_domain(&|d| Wanted {
        expect: Expect::Dkim {
            domain: d.to_string(),
            source: setup.dkim.clone(),
        },
        zone: d.to_string(),
        name: format!("{}._domainkey.{d}", setup.dkim.selector),
        values: vec![],
    }));
    out.extend(per_domain(&|d| {
        let name = format!("_dmarc.{d}");
        let default = format!("\"v=DMARC1; p=quarantine; rua=mailto:postmaster@{d}\"");
        Wanted {
            expect: Expect::Dmarc,
            zone: d.to_string(),
            values: vec![setup.value("TXT", &name, "v=DMARC1", default)],
            name,
        }
    }));
    for ip in ips.unwrap_or_default() {
        out.push(Wanted {
            expect: Expect::Ptr {
                ip: *ip,
                hostname: h.clone(),
            },
            zone: setup.zone_of(h),
            name: ip.to_string(),
            values: vec![format!("{h}.")],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fixtures::*;

    #[test]
    fn the_mail_setup_comes_from_the_inventory_and_the_catalog() {
        let m = durand();
        assert_eq!(m.hostname, "mail.cabinet-durand.fr");
        assert_eq!((m.host.as_str(), m.address.as_str()), ("srv1", IP));
        assert_eq!(m.domains, ["cabinet-durand.fr"]);
        assert_eq!(
            m.dkim,
            DkimSource {
                selector: "mail".into(),
                host: "srv1".into(),
                stack_dir: "/opt/regie/mail".into(),
                project: "cabinet-durand-mail".into(),
            }
        );
        let t = MailSetup::from_site(&site("mairie-techniville"))
            .unwrap()
            .unwrap();
        assert_eq!(t.domains, ["techniville.fr", "ccas-techniville.fr"]);
        assert!(MailSetup::from_site(&site("asso-lan")).unwrap().is_none());
    }

    #[test]
    fn wanted_values_come_from_the_catalog_in_report_order() {
        let w = wanted(&durand(), Some(&[ip(IP)]));
        let rows: Vec<(&str, &str, Vec<&str>)> = w
            .iter()
            .map(|w| {
                (
                    w.expect.label(),
                    w.name.as_str(),
                    w.values.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "MX",
                    "cabinet-durand.fr",
                    vec!["10 mail.cabinet-durand.fr."]
                ),
                ("A", "mail.cabinet-durand.fr", vec![IP]),
                ("AAAA", "mail.cabinet-durand.fr", vec![]),
                ("SPF", "cabinet-durand.fr", vec!["\"v=spf1 mx ~all\""]),
                ("DKIM", "mail._domainkey.cabinet-durand.fr", vec![]),
                (
                    "DMARC",
                    "_dmarc.cabinet-durand.fr",
                    vec!["\"v=DMARC1; p=quarantine; rua=mailto:postmaster@cabinet-durand.fr\""]
                ),
                ("PTR", IP, vec!["mail.cabinet-durand.fr."]),
            ]
        );
        assert!(w.iter().all(|w| w.zone == "cabinet-durand.fr"));
        let unknown = wanted(&durand(), None);
        assert_eq!(
            unknown.iter().map(|w| w.expect.label()).collect::<Vec<_>>(),
            ["MX", "SPF", "DKIM", "DMARC"]
        );
    }

    #[test]
    fn the_dkim_selector_and_defaults_without_catalog_records() {
        let mut m = durand();
        m.records.clear();
        m.dkim.selector = "s2026".into();
        let w = wanted(&m, Some(&[ip(IP)]));
        assert!(w
            .iter()
            .any(|w| w.name == "s2026._domainkey.cabinet-durand.fr"));
        let dmarc = w.iter().find(|w| w.expect == Expect::Dmarc).unwrap();
        assert_eq!(
            dmarc.values,
            ["\"v=DMARC1; p=quarantine; rua=mailto:postmaster@cabinet-durand.fr\""]
        );
    }

    #[test]
    fn zones_are_the_longest_known_domain() {
        let mut m = durand();
        m.domains = vec!["cabinet-durand.fr".into(), "durand-avocats.fr".into()];
        assert_eq!(m.zone_of("mail.cabinet-durand.fr"), "cabinet-durand.fr");
        assert_eq!(m.zone_of("_dmarc.durand-avocats.fr"), "durand-avocats.fr");
        assert_eq!(m.zone_of("mail.elsewhere.example"), "elsewhere.example");
    }
}

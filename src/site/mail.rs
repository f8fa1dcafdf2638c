//! What the mail stack derives from the inventory beyond its settings: the
//! mail domains, the mailboxes other stacks send their notifications from,
//! the postmaster and abuse aliases every mail domain needs, and the fixed
//! addresses of the network between webmail and the mail server (so
//! fail2ban can be told never to ban webmail).
//!
//! Pure functions on plain values: both validation and rendering use them,
//! so what is checked is what is rendered.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::Value as Json;

/// The catalog name of the mail stack.
pub const STACK: &str = "mail";

/// Quota of the mailboxes regie makes for other stacks: they only receive
/// bounces, which must not fill the disk.
pub const SERVICE_QUOTA: &str = "100M";

/// Addresses every mail domain must have (RFC 5321 postmaster; abuse for
/// complaints), made as aliases unless the inventory defines them.
pub const REQUIRED_LOCAL_PARTS: [&str; 2] = ["postmaster", "abuse"];

/// The mail domains: the `domains` setting, else the site's domain.
pub fn domains(settings: &Json, site_domain: &str) -> Vec<String> {
    let listed: Vec<String> = strings(&settings["domains"]);
    if listed.is_empty() {
        vec![site_domain.to_string()]
    } else {
        listed
    }
}

/// The domain of the addresses regie makes itself (service mailboxes,
/// `POSTMASTER_ADDRESS`): the site's domain when it is a mail domain, else
/// the first mail domain.
pub fn primary_domain(domains: &[String], site_domain: &str) -> String {
    if domains.iter().any(|d| d == site_domain) || domains.is_empty() {
        site_domain.to_string()
    } else {
        domains[0].clone()
    }
}

/// The mailbox stack `stack` sends its mail from: its SMTP login and its
/// sender address, which spoof protection requires to be the same.
pub fn sender_address(stack: &str, primary_domain: &str) -> String {
    format!("noreply-{stack}@{primary_domain}")
}

/// The secret holding a mailbox's password: `regie secrets show <this>`.
/// The mail template hashes the same secret (`sha512_crypt`).
pub fn password_secret(address: &str) -> String {
    format!("{STACK}.account.{address}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub address: String,
    pub quota: Option<String>,
    /// The stack this mailbox sends for, when regie made it.
    pub service: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub address: String,
    pub to: Vec<String>,
    /// Made by regie (postmaster, abuse), not listed in the inventory.
    pub generated: bool,
}

/// The inventory's accounts, then one mailbox per stack in `senders` (the
/// stacks of the site that send mail) unless the inventory lists it.
pub fn accounts(settings: &Json, senders: &[String], primary_domain: &str) -> Vec<Account> {
    let mut out: Vec<Account> = settings["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some(Account {
                address: a["address"].as_str()?.to_string(),
                quota: a["quota"].as_str().map(String::from),
                service: None,
            })
        })
        .collect();
    for s in senders {
        let address = sender_address(s, primary_domain);
        if !out.iter().any(|a| a.address == address) {
            out.push(Account {
                address,
                quota: Some(SERVICE_QUOTA.to_string()),
                service: Some(s.clone()),
            });
        }
    }
    out
}

/// The inventory's aliases, then `postmaster@` and `abuse@` of each mail
/// domain that no account or alias defines, forwarded to the site contact
/// (to the first account if the contact is one of those very addresses).
pub fn aliases(
    settings: &Json,
    domains: &[String],
    accounts: &[Account],
    contact: &str,
) -> Vec<Alias> {
    let mut out: Vec<Alias> = settings["aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some(Alias {
                address: a["address"].as_str()?.to_string(),
                to: strings(&a["to"]),
                generated: false,
            })
        })
        .collect();
    let defined: BTreeSet<String> = accounts
        .iter()
        .map(|a| a.address.to_lowercase())
        .chain(out.iter().map(|a| a.address.to_lowercase()))
        .collect();
    let mut made = Vec::new();
    for d in domains {
        for l in REQUIRED_LOCAL_PARTS {
            let address = format!("{l}@{d}");
            if !defined.contains(&address.to_lowercase()) {
                made.push(address);
            }
        }
    }
    let target = if made.iter().any(|m| m.eq_ignore_ascii_case(contact)) {
        accounts.first().map(|a| a.address.clone())
    } else {
        Some(contact.to_string())
    };
    if let Some(target) = target {
        out.extend(made.into_iter().map(|address| Alias {
            address,
            to: vec![target.clone()],
            generated: true,
        }));
    }
    out
}

/// Mail domains no account and no inventory alias uses: they would
/// receive nothing but postmaster and abuse mail.
pub fn unused_domains(settings: &Json, site_domain: &str) -> Vec<String> {
    let used: BTreeSet<String> = settings["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(settings["aliases"].as_array().into_iter().flatten())
        .filter_map(|a| a["address"].as_str())
        .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_lowercase()))
        .collect();
    domains(settings, site_domain)
        .into_iter()
        .filter(|d| !used.contains(&d.to_lowercase()))
        .collect()
}

/// The private IPv4 network between webmail and the mail server. Webmail
/// gets the subnet's second address, outside the range Docker hands out,
/// and the gateway the first: fail2ban ignores webmail's address only, so
/// clients that Docker's port proxy relays (seen as the gateway) can still
/// be banned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backend {
    net: u32,
    prefix: u8,
}

impl Backend {
    /// Parse `a.b.c.d/n`: a private (RFC 1918) network address with a
    /// prefix of 16 to 28 bits.
    pub fn parse(s: &str) -> Result<Backend, String> {
        let (ip, len) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` has no prefix length"))?;
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| format!("`{ip}` is not an IPv4 address"))?;
        let prefix: u8 = len
            .parse()
            .ok()
            .filter(|p| (16..=28).contains(p))
            .ok_or_else(|| format!("prefix `/{len}` is not between /16 and /28"))?;
        if !ip.is_private() {
            return Err(format!("`{ip}` is not a private address"));
        }
        let net = u32::from(ip);
        let mask = u32::MAX << (32 - prefix);
        if net & !mask != 0 {
            return Err(format!(
                "`{s}` is not a network address (did you mean {}/{prefix}?)",
                Ipv4Addr::from(net & mask)
            ));
        }
        Ok(Backend { net, prefix })
    }

    fn host(&self, n: u32) -> String {
        Ipv4Addr::from(self.net + n).to_string()
    }

    pub fn subnet(&self) -> String {
        format!("{}/{}", Ipv4Addr::from(self.net), self.prefix)
    }

    pub fn gateway(&self) -> String {
        self.host(1)
    }

    pub fn webmail(&self) -> String {
        self.host(2)
    }

    /// The upper half, from which Docker assigns the other containers'
    /// addresses.
    pub fn dynamic_range(&self) -> String {
        let half = 1u32 << (32 - self.prefix - 1);
        format!("{}/{}", Ipv4Addr::from(self.net + half), self.prefix + 1)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - self.prefix);
        u32::from(ip) & mask == self.net
    }
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(String::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_mailboxes_follow_the_inventory_accounts() {
        let s = json!({"accounts": [{"address": "a@x.fr", "quota": "1G"}, {"address": "noreply-files@x.fr"}]});
        let senders = vec!["chat".to_string(), "files".to_string()];
        let a = accounts(&s, &senders, "x.fr");
        let addrs: Vec<&str> = a.iter().map(|a| a.address.as_str()).collect();
        assert_eq!(addrs, ["a@x.fr", "noreply-files@x.fr", "noreply-chat@x.fr"]);
        assert_eq!(a[2].service.as_deref(), Some("chat"));
        assert_eq!(a[2].quota.as_deref(), Some(SERVICE_QUOTA));
        // Listed by the inventory: kept as it is, not doubled.
        assert_eq!(a[1].service, None);
    }

    #[test]
    fn primary_domain_is_the_site_domain_when_it_receives_mail() {
        let d = vec!["b.fr".to_string(), "a.fr".to_string()];
        assert_eq!(primary_domain(&d, "a.fr"), "a.fr");
        assert_eq!(primary_domain(&d, "c.fr"), "b.fr");
        assert_eq!(domains(&json!({"domains": []}), "c.fr"), ["c.fr"]);
    }

    #[test]
    fn postmaster_and_abuse_exist_for_every_domain() {
        let s = json!({
            "accounts": [{"address": "jean@a.fr"}],
            "aliases": [{"address": "Postmaster@b.fr", "to": ["jean@a.fr"]}]
        });
        let d = vec!["a.fr".to_string(), "b.fr".to_string()];
        let acc = accounts(&s, &[], "a.fr");
        let al = aliases(&s, &d, &acc, "boss@elsewhere.fr");
        let made: Vec<(&str, &str)> = al
            .iter()
            .filter(|a| a.generated)
            .map(|a| (a.address.as_str(), a.to[0].as_str()))
            .collect();
        assert_eq!(
            made,
            [
                ("postmaster@a.fr", "boss@elsewhere.fr"),
                ("abuse@a.fr", "boss@elsewhere.fr"),
                ("abuse@b.fr", "boss@elsewhere.fr")
            ]
        );
        // A contact that is itself one of the made aliases would loop.
        let al = aliases(&s, &d, &acc, "abuse@a.fr");
        assert!(al
            .iter()
            .filter(|a| a.generated)
            .all(|a| a.to == ["jean@a.fr"]));
    }

    #[test]
    fn unused_domains_are_found() {
        let s = json!({"domains": ["a.fr", "b.fr", "c.fr"], "accounts": [{"address": "x@a.fr"}],
                       "aliases": [{"address": "y@C.fr", "to": ["x@a.fr"]}]});
        assert_eq!(unused_domains(&s, "a.fr"), ["b.fr"]);
    }

    #[test]
    fn backend_addresses() {
        let b = Backend::parse("172.31.253.0/24").unwrap();
        assert_eq!(b.subnet(), "172.31.253.0/24");
        assert_eq!(b.gateway(), "172.31.253.1");
        assert_eq!(b.webmail(), "172.31.253.2");
        assert_eq!(b.dynamic_range(), "172.31.253.128/25");
        assert!(b.contains("172.31.253.200".parse().unwrap()));
        assert!(!b.contains("172.31.254.2".parse().unwrap()));
        let b = Backend::parse("10.9.0.16/28").unwrap();
        assert_eq!(b.dynamic_range(), "10.9.0.24/29");
        assert_eq!(b.webmail(), "10.9.0.18");
        for bad in [
            "172.31.253.0",
            "172.31.253.1/24",
            "8.8.8.0/24",
            "10.0.0.0/8",
            "10.0.0.0/30",
            "x/24",
        ] {
            assert!(Backend::parse(bad).is_err(), "{bad}");
        }
    }
}

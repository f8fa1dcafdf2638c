//! The lookups a check needs, asked once each, and the check itself: learn
//! the mail host's addresses, then look up and judge every wanted record.
//! Talks to a resolver only through the [`Resolve`] trait.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::judge::{judge, DnsFinding};
use super::wanted::{wanted, Expect, MailSetup, Wanted};
use crate::site::state::Level;
use crate::util::dns::{Answer, Answers, Query, Resolve, Rtype, Unreachable};

/// Every lookup the judgement needs, each once.
pub fn queries(wanted: &[Wanted]) -> Vec<Query> {
    let mut seen = BTreeSet::new();
    wanted
        .iter()
        .flat_map(needs)
        .filter(|q| seen.insert(q.clone()))
        .collect()
}

fn needs(w: &Wanted) -> Vec<Query> {
    let mut q = vec![w.query()];
    match &w.expect {
        // `a` and `mx` in the SPF record.
        Expect::Spf { hostname, .. } => {
            q.extend([Rtype::A, Rtype::Aaaa, Rtype::Mx].map(|t| Query::new(&w.name, t)));
            q.extend([Rtype::A, Rtype::Aaaa].map(|t| Query::new(hostname, t)));
        }
        // Forward confirmation.
        Expect::Ptr { ip, hostname } => q.push(Query::new(hostname, Rtype::address(ip.is_ipv6()))),
        _ => {}
    }
    q
}

pub(super) fn ask(r: &impl Resolve, queries: &[Query]) -> Result<Answers, Unreachable> {
    queries
        .iter()
        .map(|q| {
            r.resolve(q)
                .map(|a| (q.clone(), a))
                .map_err(|error| Unreachable {
                    resolver: r.label(),
                    query: q.clone(),
                    error,
                })
        })
        .collect()
}

/// Lookups that learn the mail host's addresses: none when the inventory
/// gives an IP address.
pub fn address_queries(setup: &MailSetup) -> Vec<Query> {
    if setup.address.parse::<IpAddr>().is_ok() {
        return vec![];
    }
    [Rtype::A, Rtype::Aaaa]
        .map(|t| Query::new(&setup.address, t))
        .to_vec()
}

/// The mail host's addresses to check against: the inventory's IP, or
/// what its name resolves to (`Err`: why they are unknown).
pub fn host_ips(setup: &MailSetup, answers: &Answers) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = setup.address.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let mut ips = vec![];
    for q in address_queries(setup) {
        match answers.get(&q) {
            Some(Answer::Records(r)) => {
                ips.extend(r.iter().filter_map(|a| a.parse::<IpAddr>().ok()))
            }
            Some(Answer::Failed(e)) => return Err(format!("cannot be looked up ({e})")),
            Some(Answer::Missing) | None => {}
        }
    }
    if ips.is_empty() {
        return Err("does not resolve".into());
    }
    Ok(ips)
}

/// The mail host's addresses are unknown (`why`, from [`host_ips`]).
fn unknown_host(setup: &MailSetup, why: &str) -> DnsFinding {
    DnsFinding {
        level: Level::Unknown,
        check: "HOST",
        name: setup.address.clone(),
        found: vec![],
        message: format!(
            "the address of host {} {why}: A, AAAA and PTR of {} are not checked",
            setup.host, setup.hostname
        ),
        fix: None,
    }
}

/// Look everything up and judge it.
pub fn check(setup: &MailSetup, r: &impl Resolve) -> Result<Vec<DnsFinding>, Unreachable> {
    let (ips, mut findings) = match host_ips(setup, &ask(r, &address_queries(setup))?) {
        Ok(ips) => (Some(ips), vec![]),
        Err(why) => (None, vec![unknown_host(setup, &why)]),
    };
    let wanted = wanted(setup, ips.as_deref());
    let answers = ask(r, &queries(&wanted))?;
    findings.extend(judge(&wanted, &answers));
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fixtures::*;

    #[test]
    fn queries_cover_every_check_once() {
        let q = queries(&wanted(&durand(), Some(&[ip(IP)])));
        let set: BTreeSet<&Query> = q.iter().collect();
        assert_eq!(set.len(), q.len(), "no duplicates: {q:?}");
        for (name, t) in [
            ("cabinet-durand.fr", Rtype::Mx),
            ("cabinet-durand.fr", Rtype::Txt),
            ("cabinet-durand.fr", Rtype::A),
            ("mail.cabinet-durand.fr", Rtype::A),
            ("mail.cabinet-durand.fr", Rtype::Aaaa),
            ("mail._domainkey.cabinet-durand.fr", Rtype::Txt),
            ("_dmarc.cabinet-durand.fr", Rtype::Txt),
            (IP, Rtype::Ptr),
        ] {
            assert!(q.contains(&Query::new(name, t)), "{t:?} {name} missing");
        }
    }

    #[test]
    fn the_host_address_may_be_a_name() {
        let mut m = durand();
        m.address = "srv1.hosting.example".into();
        let mut a = good();
        a.insert(Query::new("srv1.hosting.example", Rtype::A), found(&[IP]));
        let f = check(&m, &a).unwrap();
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:#?}");
        a.remove(&Query::new("srv1.hosting.example", Rtype::A));
        let f = check(&m, &a).unwrap();
        assert_eq!(f[0].check, "HOST");
        assert_eq!(f[0].level, Level::Unknown);
        assert!(
            f[0].message.contains("does not resolve"),
            "{}",
            f[0].message
        );
        assert!(!f.iter().any(|f| ["A", "PTR"].contains(&f.check)));
        assert_eq!(of(&f, "SPF").level, Level::Unknown);
    }
}

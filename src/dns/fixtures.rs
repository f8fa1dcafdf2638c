//! Test fixtures shared by the unit tests of the check: the
//! cabinet-durand site from the example inventories and its zone as it
//! should be.

use std::net::IpAddr;
use std::path::Path;

use super::{Answer, Answers, DnsFinding, MailSetup, Query, Rtype};
use crate::site::inventory::Resolved;

pub(super) fn site(name: &str) -> Resolved {
    crate::site::inventory::load(Path::new(&format!("inventories/{name}.yml"))).unwrap()
}

pub(super) fn durand() -> MailSetup {
    MailSetup::from_site(&site("cabinet-durand"))
        .unwrap()
        .unwrap()
}

pub(super) const IP: &str = "203.0.113.10";

pub(super) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub(super) fn found(v: &[&str]) -> Answer {
    Answer::Records(v.iter().map(|s| s.to_string()).collect())
}

/// The zone of cabinet-durand.fr as it should be.
pub(super) fn good() -> Answers {
    let d = "cabinet-durand.fr";
    let h = "mail.cabinet-durand.fr";
    Answers::from([
        (
            Query::new(d, Rtype::Mx),
            found(&["10 mail.cabinet-durand.fr."]),
        ),
        (Query::new(h, Rtype::A), found(&[IP])),
        (
            Query::new(d, Rtype::Txt),
            found(&["v=spf1 mx ~all", "google-site-verification=x"]),
        ),
        (
            Query::new(&format!("mail._domainkey.{d}"), Rtype::Txt),
            found(&["v=DKIM1; k=rsa; p=MIIBIjANBgkq"]),
        ),
        (
            Query::new(&format!("_dmarc.{d}"), Rtype::Txt),
            found(&["v=DMARC1; p=quarantine; rua=mailto:postmaster@cabinet-durand.fr"]),
        ),
        (
            Query::new(IP, Rtype::Ptr),
            found(&["mail.cabinet-durand.fr."]),
        ),
    ])
}

pub(super) fn of<'a>(findings: &'a [DnsFinding], check: &str) -> &'a DnsFinding {
    findings.iter().find(|f| f.check == check).unwrap()
}

//! Judging the answers: one [`DnsFinding`] per wanted record, with the
//! MX, A/AAAA and PTR judgements; SPF, DKIM and DMARC are judged in
//! their own files and return the same [`Verdict`]. Pure.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::Serialize;

use super::dkim_dmarc::{judge_dkim, judge_dmarc};
use super::spf::judge_spf;
use super::wanted::{Expect, Wanted};
use super::zone::shown;
use crate::site::state::Level;
use crate::util::dns::{Answer, Answers, Query, Rtype};

/// One record checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DnsFinding {
    pub level: Level,
    /// MX, A, AAAA, SPF, DKIM, DMARC, PTR (HOST: the mail host's address).
    pub check: &'static str,
    pub name: String,
    /// The records that matter for this check, as found.
    pub found: Vec<String>,
    pub message: String,
    /// The record to publish, when publishing it fixes the problem.
    #[serde(skip)]
    pub fix: Option<Wanted>,
}

/// A judgement before it becomes a finding.
pub(super) struct Verdict {
    pub(super) level: Level,
    pub(super) message: String,
    /// The records that matter, as found.
    pub(super) found: Vec<String>,
    /// Publishing the wanted record fixes it.
    pub(super) fix: bool,
    /// Values to publish instead of the wanted ones (a found record repaired).
    pub(super) values: Option<Vec<String>>,
}

impl Verdict {
    pub(super) fn ok(found: Vec<String>, message: impl Into<String>) -> Verdict {
        Verdict {
            level: Level::Ok,
            message: message.into(),
            found,
            fix: false,
            values: None,
        }
    }
    /// Wrong or missing: the wanted record fixes it.
    pub(super) fn fix(level: Level, found: Vec<String>, message: impl Into<String>) -> Verdict {
        Verdict {
            level,
            message: message.into(),
            found,
            fix: true,
            values: None,
        }
    }
    /// A problem no record of ours fixes.
    pub(super) fn note(level: Level, found: Vec<String>, message: impl Into<String>) -> Verdict {
        Verdict {
            fix: false,
            ..Verdict::fix(level, found, message)
        }
    }
    /// Fixed by publishing this TXT value rather than the wanted one.
    pub(super) fn publish_txt(self, value: &str) -> Verdict {
        Verdict {
            fix: true,
            values: Some(vec![shown(Rtype::Txt, value)]),
            ..self
        }
    }
}

pub fn judge(wanted: &[Wanted], answers: &Answers) -> Vec<DnsFinding> {
    wanted.iter().map(|w| judge_one(w, answers)).collect()
}

fn judge_one(w: &Wanted, answers: &Answers) -> DnsFinding {
    let v = match answers.get(&w.query()) {
        Some(Answer::Records(found)) => verdict(w, found, answers),
        Some(Answer::Missing) => verdict(w, &[], answers),
        Some(Answer::Failed(e)) => {
            Verdict::note(Level::Unknown, vec![], format!("lookup failed: {e}"))
        }
        None => Verdict::note(Level::Unknown, vec![], "not looked up"),
    };
    DnsFinding {
        level: v.level,
        check: w.expect.label(),
        name: w.name.clone(),
        fix: (v.fix && v.level != Level::Ok).then(|| Wanted {
            values: v.values.unwrap_or_else(|| w.values.clone()),
            ..w.clone()
        }),
        found: v.found,
        message: v.message,
    }
}

fn verdict(w: &Wanted, found: &[String], answers: &Answers) -> Verdict {
    match &w.expect {
        Expect::Mx { exchange } => judge_mx(found, exchange),
        Expect::Address { v6, ips } => judge_address(found, ips, *v6),
        Expect::Spf { ips, .. } => judge_spf(found, &w.name, ips, answers),
        Expect::Dkim { .. } => judge_dkim(found),
        Expect::Dmarc => judge_dmarc(found),
        Expect::Ptr { ip, hostname } => {
            let back = records(answers, hostname, Rtype::address(ip.is_ipv6()));
            judge_ptr(found, hostname, *ip, back)
        }
    }
}

/// The records found for a query; `None` when it was not looked up or failed.
pub(super) fn records<'a>(answers: &'a Answers, name: &str, rtype: Rtype) -> Option<&'a [String]> {
    match answers.get(&Query::new(name, rtype))? {
        Answer::Records(r) => Some(r),
        Answer::Missing => Some(&[]),
        Answer::Failed(_) => None,
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn judge_mx(found: &[String], exchange: &str) -> Verdict {
    let mx: Vec<(u16, &str)> = found
        .iter()
        .filter_map(|r| {
            let (p, n) = r.split_once(' ')?;
            Some((p.parse().ok()?, n))
        })
        .collect();
    let all = found.to_vec();
    let Some(ours) = mx
        .iter()
        .filter(|(_, n)| same_name(n, exchange))
        .map(|(p, _)| *p)
        .min()
    else {
        return if mx.is_empty() {
            Verdict::fix(Level::Critical, all, "no MX record")
        } else {
            Verdict::fix(
                Level::Critical,
                all,
                format!("points to {}, not {exchange}.", found.join(", ")),
            )
        };
    };
    match mx
        .iter()
        .find(|(p, n)| *p < ours && !same_name(n, exchange))
    {
        Some((p, n)) => Verdict::note(
            Level::Warning,
            all,
            format!(
                "{n} (preference {p}) comes before {exchange}. ({ours}): mail goes there first"
            ),
        ),
        None => Verdict::ok(all, format!("{ours} {exchange}.")),
    }
}

fn judge_address(found: &[String], ips: &[IpAddr], v6: bool) -> Verdict {
    let have: BTreeSet<IpAddr> = found.iter().filter_map(|a| a.parse().ok()).collect();
    let want: BTreeSet<IpAddr> = ips.iter().copied().collect();
    let list = |s: &BTreeSet<IpAddr>| {
        s.iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let all = found.to_vec();
    if want.is_empty() {
        let family = if v6 { "IPv6" } else { "IPv4" };
        return if have.is_empty() {
            Verdict::ok(
                all,
                format!("none, as the host has no {family} address in the inventory"),
            )
        } else {
            Verdict::note(
                Level::Warning,
                all,
                format!(
                    "{} but the host has no {family} address in the inventory: remove the record or add the address",
                    list(&have)
                ),
            )
        };
    }
    if have.is_empty() {
        Verdict::fix(
            Level::Critical,
            all,
            format!("missing (should be {})", list(&want)),
        )
    } else if !want.is_subset(&have) {
        Verdict::fix(
            Level::Critical,
            all,
            format!("{}, not {}", list(&have), list(&want)),
        )
    } else if have != want {
        let extra = have.difference(&want).copied().collect();
        Verdict::note(
            Level::Warning,
            all,
            format!("{} also points to {}", list(&want), list(&extra)),
        )
    } else {
        Verdict::ok(all, list(&have))
    }
}

fn judge_ptr(found: &[String], hostname: &str, ip: IpAddr, back: Option<&[String]>) -> Verdict {
    let all = found.to_vec();
    if found.is_empty() {
        return Verdict::fix(
            Level::Warning,
            all,
            "no PTR record: many receivers refuse mail from an address without one",
        );
    }
    if !found.iter().any(|n| same_name(n, hostname)) {
        return Verdict::fix(
            Level::Warning,
            all,
            format!("{}, not {hostname}.", found.join(", ")),
        );
    }
    let ip_s = ip.to_string();
    if back.is_some_and(|b| b.contains(&ip_s)) {
        Verdict::ok(all, format!("{hostname}. (resolves back to {ip})"))
    } else {
        Verdict::note(
            Level::Warning,
            all,
            format!("{hostname}. but {hostname} does not resolve back to {ip}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fixtures::*;
    use crate::dns::{check, zone_snippet};

    fn levels(findings: &[DnsFinding]) -> Vec<(&'static str, Level)> {
        findings.iter().map(|f| (f.check, f.level)).collect()
    }

    #[test]
    fn a_good_zone_is_all_ok() {
        let f = check(&durand(), &good()).unwrap();
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:#?}");
        assert_eq!(
            of(&f, "PTR").message,
            "mail.cabinet-durand.fr. (resolves back to 203.0.113.10)"
        );
        assert_eq!(of(&f, "MX").message, "10 mail.cabinet-durand.fr.");
        assert!(zone_snippet(&f).is_empty());
    }

    #[test]
    fn mx_a_and_ptr_problems() {
        let mut a = good();
        a.insert(
            Query::new("cabinet-durand.fr", Rtype::Mx),
            found(&["5 backup.example.", "10 mail.cabinet-durand.fr."]),
        );
        a.insert(
            Query::new("mail.cabinet-durand.fr", Rtype::A),
            found(&["198.51.100.7"]),
        );
        a.insert(
            Query::new("mail.cabinet-durand.fr", Rtype::Aaaa),
            found(&["2001:db8::1"]),
        );
        a.insert(
            Query::new(IP, Rtype::Ptr),
            found(&["mail.cabinet-durand.fr."]),
        );
        let f = check(&durand(), &a).unwrap();
        assert_eq!(
            levels(&f),
            [
                ("MX", Level::Warning),
                ("A", Level::Critical),
                ("AAAA", Level::Warning),
                ("SPF", Level::Warning),
                ("DKIM", Level::Ok),
                ("DMARC", Level::Ok),
                ("PTR", Level::Warning),
            ]
        );
        assert!(
            of(&f, "MX").fix.is_none(),
            "a preferred backup MX is not ours to fix"
        );
        assert_eq!(of(&f, "A").message, "198.51.100.7, not 203.0.113.10");
        assert!(of(&f, "AAAA")
            .message
            .contains("no IPv6 address in the inventory"));
        assert_eq!(
            of(&f, "PTR").message,
            "mail.cabinet-durand.fr. but mail.cabinet-durand.fr does not resolve back to 203.0.113.10"
        );
        a.remove(&Query::new("cabinet-durand.fr", Rtype::Mx));
        a.insert(
            Query::new(IP, Rtype::Ptr),
            found(&["vps-1.provider.example."]),
        );
        let f = check(&durand(), &a).unwrap();
        assert_eq!(
            (of(&f, "MX").level, of(&f, "MX").message.as_str()),
            (Level::Critical, "no MX record")
        );
        assert_eq!(
            of(&f, "PTR").message,
            "vps-1.provider.example., not mail.cabinet-durand.fr."
        );
    }

    #[test]
    fn failed_lookups_are_unknown() {
        let mut a = good();
        a.insert(
            Query::new("_dmarc.cabinet-durand.fr", Rtype::Txt),
            Answer::Failed("SERVFAIL".into()),
        );
        let f = check(&durand(), &a).unwrap();
        let d = of(&f, "DMARC");
        assert_eq!(
            (d.level, d.message.as_str()),
            (Level::Unknown, "lookup failed: SERVFAIL")
        );
        assert!(d.fix.is_none());
    }
}

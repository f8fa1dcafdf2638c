//! SPF (RFC 7208), as far as it can be judged from the answers at hand:
//! evaluating a record for the server's addresses, judging the domain's
//! SPF records, and the repaired record to publish. Pure.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::judge::{records, Verdict};
use crate::site::state::Level;
use crate::util::dns::{Answers, Rtype};

fn is_spf(txt: &str) -> bool {
    let t = txt.trim_start();
    t.get(..6).is_some_and(|v| v.eq_ignore_ascii_case("v=spf1"))
        && t[6..].chars().next().is_none_or(|c| c == ' ')
}

/// How one SPF record treats one address.
#[derive(Debug, Clone, PartialEq)]
pub enum SpfResult {
    /// Authorized by this term.
    Pass(String),
    /// Not authorized (by this term, or by nothing).
    Fail(String),
    /// Depends on a term that is not evaluated here (`include:`, ...).
    Undecided(String),
}

enum Matches {
    Yes,
    No,
    Unknown,
}

/// Addresses (and MX exchanges) known for names, from the answers.
type Known<'a> = dyn Fn(&str, Rtype) -> Option<Vec<String>> + 'a;

/// The qualifier of a mechanism (`+` when none) and the rest.
fn qualifier(term: &str) -> (char, &str) {
    match term.chars().next() {
        Some(q @ ('+' | '-' | '~' | '?')) => (q, &term[1..]),
        _ => ('+', term),
    }
}

/// A modifier is `name=value` where the name has no `:` or `/`.
fn modifier(term: &str) -> Option<(&str, &str)> {
    term.split_once('=')
        .filter(|(n, _)| !n.contains([':', '/']))
}

/// The record lets any server send: its `all` passes.
pub fn spf_allows_everyone(record: &str) -> bool {
    record
        .split_whitespace()
        .skip(1)
        .map(qualifier)
        .find(|(_, m)| m.eq_ignore_ascii_case("all"))
        .is_some_and(|(q, _)| q == '+')
}

/// Evaluate the record for `ip` sent as `domain`, in order, the first
/// matching mechanism deciding.
pub fn spf_eval(record: &str, ip: IpAddr, domain: &str, known: &Known) -> SpfResult {
    let mut undecided: Option<&str> = None;
    let mut redirect = None;
    for term in record.split_whitespace().skip(1) {
        if let Some((name, _)) = modifier(term) {
            if name.eq_ignore_ascii_case("redirect") {
                redirect = Some(term);
            }
            continue;
        }
        let (q, mech) = qualifier(term);
        let m = if mech.eq_ignore_ascii_case("all") {
            Matches::Yes
        } else {
            mechanism_matches(mech, ip, domain, known)
        };
        match (m, undecided) {
            (Matches::Yes, _) if q == '+' => return SpfResult::Pass(term.into()),
            (Matches::Yes, None) => return SpfResult::Fail(term.into()),
            (Matches::Yes, Some(u)) => return SpfResult::Undecided(u.into()),
            (Matches::Unknown, None) => undecided = Some(term),
            _ => {}
        }
    }
    match undecided.or(redirect) {
        Some(u) => SpfResult::Undecided(u.into()),
        None => SpfResult::Fail("no term matches".into()),
    }
}

fn mechanism_matches(mech: &str, ip: IpAddr, domain: &str, known: &Known) -> Matches {
    let (name, arg) = match mech.find([':', '/']) {
        Some(i) => (
            &mech[..i],
            mech[i..].strip_prefix(':').unwrap_or(&mech[i..]),
        ),
        None => (mech, ""),
    };
    let (target, v4len, v6len) = split_cidr(arg);
    let target = if target.is_empty() { domain } else { target };
    let prefix = if ip.is_ipv6() { v6len } else { v4len };
    let hosts_cover = |host: &str| -> Option<bool> {
        let addrs = known(host, Rtype::address(ip.is_ipv6()))?;
        Some(
            addrs
                .iter()
                .filter_map(|a| a.parse().ok())
                .any(|a| covers(a, prefix, ip)),
        )
    };
    let decided = |b: Option<bool>| match b {
        Some(true) => Matches::Yes,
        Some(false) => Matches::No,
        None => Matches::Unknown,
    };
    match name.to_ascii_lowercase().as_str() {
        "ip4" | "ip6" => match target.parse::<IpAddr>() {
            Ok(net) => decided(Some(covers(net, prefix, ip))),
            Err(_) => Matches::No,
        },
        _ if target.contains('%') => Matches::Unknown,
        "a" => decided(hosts_cover(target)),
        "mx" => decided(known(target, Rtype::Mx).and_then(|mx| {
            let covered: Vec<Option<bool>> = mx
                .iter()
                .filter_map(|r| r.split_once(' ').map(|(_, n)| hosts_cover(n)))
                .collect();
            if covered.contains(&Some(true)) {
                Some(true)
            } else if covered.contains(&None) {
                None
            } else {
                Some(false)
            }
        })),
        "include" | "exists" | "ptr" => Matches::Unknown,
        _ => Matches::No,
    }
}

/// `example.fr/24//64` → (`example.fr`, Some(24), Some(64)); `ip4:` and
/// `ip6:` carry a single length, taken for both.
fn split_cidr(arg: &str) -> (&str, Option<u8>, Option<u8>) {
    let (rest, v6) = match arg.split_once("//") {
        Some((r, l)) => (r, l.parse().ok()),
        None => (arg, None),
    };
    match rest.split_once('/') {
        Some((t, l)) => {
            let len = l.parse().ok();
            (t, len, v6.or(len))
        }
        None => (rest, None, v6),
    }
}

/// `ip` is in `net/len` (no length: the address itself).
fn covers(net: IpAddr, len: Option<u8>, ip: IpAddr) -> bool {
    fn masked(bits: u128, len: u32, width: u32) -> u128 {
        let len = len.min(width);
        if len == 0 {
            0
        } else {
            bits >> (width - len)
        }
    }
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let l = len.map_or(32, u32::from);
            masked(u32::from(n).into(), l, 32) == masked(u32::from(i).into(), l, 32)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let l = len.map_or(128, u32::from);
            masked(n.into(), l, 128) == masked(i.into(), l, 128)
        }
        _ => false,
    }
}

pub(super) fn judge_spf(
    found: &[String],
    domain: &str,
    ips: &[IpAddr],
    answers: &Answers,
) -> Verdict {
    let spf: Vec<String> = found.iter().filter(|t| is_spf(t)).cloned().collect();
    let known = |name: &str, t: Rtype| records(answers, name, t).map(<[String]>::to_vec);
    let eval = |record: &str| -> Vec<(IpAddr, SpfResult)> {
        ips.iter()
            .map(|ip| (*ip, spf_eval(record, *ip, domain, &known)))
            .collect()
    };
    let repaired = || {
        spf_repair(&spf, |r| {
            eval(r)
                .iter()
                .all(|(_, res)| matches!(res, SpfResult::Pass(_)))
        })
    };
    let record = match spf.as_slice() {
        [] => return Verdict::fix(Level::Critical, spf, "no SPF record"),
        [one] => one.clone(),
        _ => {
            let message = format!(
                "{} SPF records: receivers treat that as an error (merge them into one)",
                spf.len()
            );
            return Verdict::fix(Level::Critical, spf.clone(), message).publish_txt(&repaired());
        }
    };
    if spf_allows_everyone(&record) {
        let message = "`+all` lets any server send mail as this domain";
        return Verdict::fix(Level::Critical, spf.clone(), message).publish_txt(&repaired());
    }
    if ips.is_empty() {
        let message = "present; the server's address is unknown, so not evaluated";
        return Verdict::note(Level::Unknown, spf, message);
    }
    let results = eval(&record);
    let first = |pick: fn(&SpfResult) -> Option<&String>| {
        results.iter().find_map(|(ip, r)| pick(r).map(|t| (ip, t)))
    };
    if let Some((ip, why)) = first(|r| match r {
        SpfResult::Fail(t) => Some(t),
        _ => None,
    }) {
        let why = if why.contains(' ') {
            why.clone()
        } else {
            format!("`{why}`")
        };
        let message = format!("does not authorize {ip} ({why})");
        return Verdict::fix(Level::Critical, spf.clone(), message).publish_txt(&repaired());
    }
    if let Some((ip, term)) = first(|r| match r {
        SpfResult::Undecided(t) => Some(t),
        _ => None,
    }) {
        let message = format!("cannot tell whether it authorizes {ip}: `{term}` is not evaluated");
        return Verdict::fix(Level::Warning, spf.clone(), message).publish_txt(&repaired());
    }
    let how: BTreeSet<String> = results
        .iter()
        .filter_map(|(_, r)| match r {
            SpfResult::Pass(t) => Some(format!("`{t}`")),
            _ => None,
        })
        .collect();
    let who: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    let how: Vec<String> = how.into_iter().collect();
    Verdict::ok(
        spf,
        format!("authorizes {} ({})", who.join(", "), how.join(", ")),
    )
}

/// One SPF record made from those found: their terms merged in order,
/// `+all` turned into `~all` (added when there is neither `all` nor
/// `redirect=`), and `mx` put first unless `passes` says the server is
/// already authorized.
pub fn spf_repair(records: &[String], passes: impl Fn(&str) -> bool) -> String {
    let mut terms: Vec<&str> = vec![];
    let mut all: Option<&str> = None;
    for t in records.iter().flat_map(|r| r.split_whitespace().skip(1)) {
        let (q, m) = qualifier(t);
        if m.eq_ignore_ascii_case("all") {
            all.get_or_insert(if q == '+' { "~all" } else { t });
        } else if !terms.iter().any(|x| x.eq_ignore_ascii_case(t)) {
            terms.push(t);
        }
    }
    let redirect = terms
        .iter()
        .any(|t| modifier(t).is_some_and(|(n, _)| n.eq_ignore_ascii_case("redirect")));
    if !redirect {
        all.get_or_insert("~all");
    }
    let build = |first: Option<&str>| {
        std::iter::once("v=spf1")
            .chain(first)
            .chain(terms.iter().copied())
            .chain(all)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let merged = build(None);
    if passes(&merged) {
        merged
    } else {
        build(Some("mx"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fixtures::*;
    use crate::dns::query::ask;
    use crate::dns::{check, queries, wanted, Query};

    fn no_names(_: &str, _: Rtype) -> Option<Vec<String>> {
        None
    }

    #[test]
    fn spf_records_are_recognized() {
        assert!(is_spf("v=spf1 mx -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 mx"));
        assert!(!is_spf("google-site-verification=x"));
        assert!(!is_spf("é"));
        assert!(spf_allows_everyone("v=spf1 mx +all"));
        assert!(spf_allows_everyone("v=spf1 all"));
        assert!(!spf_allows_everyone("v=spf1 mx -all +all"));
        assert!(!spf_allows_everyone("v=spf1 mx"));
    }

    #[test]
    fn spf_ip_mechanisms_with_prefixes() {
        let a = ip(IP);
        let eval = |r: &str, ip| spf_eval(r, ip, "d.example", &no_names);
        assert_eq!(
            eval("v=spf1 ip4:203.0.113.10 -all", a),
            SpfResult::Pass("ip4:203.0.113.10".into())
        );
        assert_eq!(
            eval("v=spf1 ip4:203.0.113.0/24 -all", a),
            SpfResult::Pass("ip4:203.0.113.0/24".into())
        );
        assert_eq!(
            eval("v=spf1 ip4:203.0.112.0/24 -all", a),
            SpfResult::Fail("-all".into())
        );
        assert_eq!(
            eval("v=spf1 ip4:0.0.0.0/0", a),
            SpfResult::Pass("ip4:0.0.0.0/0".into())
        );
        assert_eq!(
            eval("v=spf1 -ip4:203.0.113.10 +ip4:203.0.113.10", a),
            SpfResult::Fail("-ip4:203.0.113.10".into())
        );
        assert_eq!(
            eval("v=spf1 ip6:2001:db8::/32 ~all", ip("2001:db8::25")),
            SpfResult::Pass("ip6:2001:db8::/32".into())
        );
        assert_eq!(
            eval("v=spf1 ip6:2001:db8::/32 ~all", a),
            SpfResult::Fail("~all".into())
        );
        assert_eq!(eval("v=spf1", a), SpfResult::Fail("no term matches".into()));
        assert_eq!(
            split_cidr("d.example/24//64"),
            ("d.example", Some(24), Some(64))
        );
        assert_eq!(split_cidr("//64"), ("", None, Some(64)));
    }

    #[test]
    fn spf_a_and_mx_use_the_answers() {
        let answers = ask(&good(), &queries(&wanted(&durand(), Some(&[ip(IP)])))).unwrap();
        let known = |n: &str, t: Rtype| records(&answers, n, t).map(<[String]>::to_vec);
        let a = ip(IP);
        let eval = |r: &str| spf_eval(r, a, "cabinet-durand.fr", &known);
        assert_eq!(eval("v=spf1 mx -all"), SpfResult::Pass("mx".into()));
        assert_eq!(
            eval("v=spf1 mx:cabinet-durand.fr -all"),
            SpfResult::Pass("mx:cabinet-durand.fr".into())
        );
        assert_eq!(
            eval("v=spf1 a:mail.cabinet-durand.fr -all"),
            SpfResult::Pass("a:mail.cabinet-durand.fr".into())
        );
        assert_eq!(
            eval("v=spf1 a/24 -all"),
            SpfResult::Fail("-all".into()),
            "the domain has no A record"
        );
        assert_eq!(
            eval("v=spf1 include:_spf.example ~all"),
            SpfResult::Undecided("include:_spf.example".into())
        );
        assert_eq!(
            eval("v=spf1 include:_spf.example mx -all"),
            SpfResult::Pass("mx".into())
        );
        assert_eq!(
            eval("v=spf1 a:other.example -all"),
            SpfResult::Undecided("a:other.example".into())
        );
        assert_eq!(
            eval("v=spf1 redirect=_spf.example"),
            SpfResult::Undecided("redirect=_spf.example".into())
        );
    }

    #[test]
    fn spf_judgement() {
        let judge_txt = |txt: &[&str]| {
            let mut a = good();
            a.insert(Query::new("cabinet-durand.fr", Rtype::Txt), found(txt));
            of(&check(&durand(), &a).unwrap(), "SPF").clone()
        };
        let ok = judge_txt(&["v=spf1 mx ~all"]);
        assert_eq!(ok.level, Level::Ok);
        assert_eq!(ok.message, "authorizes 203.0.113.10 (`mx`)");
        let missing = judge_txt(&["google-site-verification=x"]);
        assert_eq!(
            (missing.level, missing.message.as_str()),
            (Level::Critical, "no SPF record")
        );
        assert!(missing.found.is_empty(), "other TXT records are not shown");
        let two = judge_txt(&["v=spf1 a -all", "v=spf1 mx -all"]);
        assert_eq!(two.level, Level::Critical);
        assert!(two.message.starts_with("2 SPF records"), "{}", two.message);
        assert_eq!(two.fix.unwrap().values, ["\"v=spf1 a mx -all\""]);
        let plus_all = judge_txt(&["v=spf1 mx +all"]);
        assert_eq!(plus_all.level, Level::Critical);
        assert_eq!(plus_all.fix.unwrap().values, ["\"v=spf1 mx ~all\""]);
        let other = judge_txt(&["v=spf1 ip4:198.51.100.7 -all"]);
        assert_eq!(other.level, Level::Critical);
        assert_eq!(other.message, "does not authorize 203.0.113.10 (`-all`)");
        assert_eq!(
            other.fix.unwrap().values,
            ["\"v=spf1 mx ip4:198.51.100.7 -all\""]
        );
        let include = judge_txt(&["v=spf1 include:_spf.provider.example ~all"]);
        assert_eq!(include.level, Level::Warning);
        assert!(include
            .message
            .contains("`include:_spf.provider.example` is not evaluated"));
        assert_eq!(
            include.fix.unwrap().values,
            ["\"v=spf1 mx include:_spf.provider.example ~all\""]
        );
    }

    #[test]
    fn spf_repair_merges_and_keeps_a_redirect() {
        let never = |_: &str| false;
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            spf_repair(&r(&["v=spf1 a ?all", "v=spf1 a include:x -all"]), never),
            "v=spf1 mx a include:x ?all"
        );
        assert_eq!(
            spf_repair(&r(&["v=spf1 redirect=_spf.x"]), never),
            "v=spf1 mx redirect=_spf.x"
        );
        assert_eq!(
            spf_repair(&r(&["v=spf1 ip4:1.2.3.4"]), |_| true),
            "v=spf1 ip4:1.2.3.4 ~all"
        );
    }
}

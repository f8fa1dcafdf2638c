//! `regie check dns`: the mail DNS records a site needs (MX, A/AAAA, SPF,
//! DKIM, DMARC, PTR for each mail domain), compared with what a resolver
//! answers, and the zone-file lines that fix what is missing or wrong.
//!
//! Commands as data: [`MailSetup::from_site`], [`wanted`], [`queries`],
//! [`judge`] and [`zone_snippet`] are pure; only [`Dns`] talks to the
//! network, behind the [`Resolve`] trait.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use serde_json::json;

use crate::catalog::DnsRecord;
use crate::check::Level;
use crate::cli::Output;
use crate::inventory::Resolved;

/// The catalog stack that receives mail.
const MAIL: &str = "mail";
/// docker-mailserver's own default, for a catalog without `dkim_selector`.
const DEFAULT_DKIM_SELECTOR: &str = "mail";
/// Per try. hickory retries `ATTEMPTS` times after the first try, so a
/// dead resolver gives UNKNOWN in about 4 seconds.
const TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: usize = 1;

#[derive(Debug, clap::Args)]
pub struct DnsArgs {
    /// The site's inventory.
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// DNS server to ask: IP, IP:PORT or [IPv6]:PORT (port 53 by default);
    /// repeat for several. Default: the servers of /etc/resolv.conf.
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Vec<String>,
}

/// A plugin answers UNKNOWN (exit 3) when it cannot judge at all.
pub fn cli(args: &DnsArgs, output: Output) -> Result<i32> {
    Ok(run(args, output).unwrap_or_else(|e| crate::cli::plugin_unknown("DNS", &e)))
}

fn run(args: &DnsArgs, output: Output) -> Result<i32> {
    let servers = args
        .resolver
        .iter()
        .map(|s| parse_resolver(s))
        .collect::<Result<Vec<_>>>()?;
    let site = crate::cli::load(&args.inventory)?;
    let report = match MailSetup::from_site(&site)? {
        None => Report::no_mail(&site.inv.site.name),
        Some(setup) => {
            let dns = Dns::new(&servers)?;
            match check(&setup, &dns) {
                Ok(findings) => Report::new(&setup, findings, &dns.label()),
                Err(e) => Report::unreachable(&e),
            }
        }
    };
    report.print(output)?;
    Ok(report.level.exit_code())
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`; port 53 when none is given.
pub fn parse_resolver(s: &str) -> Result<SocketAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    s.parse::<SocketAddr>().map_err(|_| {
        anyhow!(
            "invalid --resolver `{}`: expected an IP address with an optional port, \
             such as 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53",
            s.escape_debug()
        )
    })
}

// ---------------------------------------------------------------------------
// What the site needs.

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
    /// The catalog's `dns` records for the mail stack.
    pub records: Vec<DnsRecord>,
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
    fn command(&self, domain: &str) -> String {
        format!(
            "cd {} && docker compose -p {} exec mailserver setup config dkim selector {} domain {domain}",
            self.stack_dir, self.project, self.selector
        )
    }

    /// Written by `setup config dkim` (Rspamd, 2048-bit RSA): the record in
    /// zone-file form.
    fn key_file(&self, domain: &str) -> String {
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
        let mut domains: Vec<String> = placed.settings["domains"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().map(str::to_ascii_lowercase))
            .collect();
        if domains.is_empty() {
            domains.push(site.inv.site.domain.to_ascii_lowercase());
        }
        Ok(Some(MailSetup {
            hostname: hostname.to_ascii_lowercase(),
            host: placed.host.clone(),
            address: host.address.clone(),
            site_domain: site.inv.site.domain.to_ascii_lowercase(),
            domains,
            dkim: DkimSource {
                selector: descriptor
                    .dkim_selector
                    .clone()
                    .unwrap_or_else(|| DEFAULT_DKIM_SELECTOR.to_string()),
                host: placed.host.clone(),
                stack_dir: format!("{}/{MAIL}", host.base_dir.trim_end_matches('/')),
                project: format!("{}-{MAIL}", site.inv.site.name),
            },
            records: descriptor.dns.clone(),
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

    /// The catalog's value for a record of this type and name whose value
    /// starts with `prefix` (placeholders replaced), else `default`.
    fn value(&self, kind: &str, name: &str, domain: &str, prefix: &str, default: String) -> String {
        let vars = crate::catalog::DnsVars {
            hostname: &self.hostname,
            address: &self.address,
            domain,
            dkim_selector: &self.dkim.selector,
        };
        let subst = |s: &str| vars.fill(s);
        self.records
            .iter()
            .filter(|r| r.kind.eq_ignore_ascii_case(kind) && subst(&r.name) == name)
            .map(|r| subst(&r.value))
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

    fn rtype(&self) -> Rtype {
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
    fn query(&self) -> Query {
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
        values: vec![setup.value("MX", d, d, "", format!("10 {h}."))],
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
        values: vec![setup.value("TXT", d, d, "v=spf1", "\"v=spf1 mx ~all\"".into())],
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
            values: vec![setup.value("TXT", &name, d, "v=DMARC1", default)],
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

// ---------------------------------------------------------------------------
// Queries and answers.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rtype {
    A,
    Aaaa,
    Mx,
    Txt,
    Ptr,
}

impl Rtype {
    fn address(v6: bool) -> Rtype {
        if v6 {
            Rtype::Aaaa
        } else {
            Rtype::A
        }
    }

    fn word(self) -> &'static str {
        match self {
            Rtype::A => "A",
            Rtype::Aaaa => "AAAA",
            Rtype::Mx => "MX",
            Rtype::Txt => "TXT",
            Rtype::Ptr => "PTR",
        }
    }
}

/// One lookup: a name (lowercase, no final dot; the address for PTR) and
/// a type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Query {
    pub name: String,
    pub rtype: Rtype,
}

impl Query {
    pub fn new(name: &str, rtype: Rtype) -> Query {
        Query {
            name: name.trim_end_matches('.').to_ascii_lowercase(),
            rtype,
        }
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.rtype.word(), self.name)
    }
}

/// What the resolver said. Records are in presentation form: `10 mail.example.fr.`
/// for MX, the joined strings for TXT, the address for A/AAAA, the name
/// with its final dot for PTR.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Records(Vec<String>),
    /// NXDOMAIN or no record of that type.
    Missing,
    /// The resolver answered with an error (SERVFAIL, REFUSED...).
    Failed(String),
}

pub type Answers = BTreeMap<Query, Answer>;

/// The resolver could not be reached at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreachable {
    pub resolver: String,
    pub query: Query,
    pub error: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "resolver {} did not answer ({}): {}",
            self.resolver, self.query, self.error
        )
    }
}

/// Looks a query up. `Err` (a transport failure: timeout, refused
/// connection) means the resolver cannot be reached.
pub trait Resolve {
    fn resolve(&self, q: &Query) -> Result<Answer, String>;
    /// The resolver, for messages: `127.0.0.1:5353`.
    fn label(&self) -> String;
}

/// A fixed set of answers: what was not given is missing.
impl Resolve for Answers {
    fn resolve(&self, q: &Query) -> Result<Answer, String> {
        Ok(self.get(q).cloned().unwrap_or(Answer::Missing))
    }
    fn label(&self) -> String {
        "(fixed answers)".into()
    }
}

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

fn ask(r: &impl Resolve, queries: &[Query]) -> Result<Answers, Unreachable> {
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

// ---------------------------------------------------------------------------
// Judging.

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
struct Verdict {
    level: Level,
    message: String,
    /// The records that matter, as found.
    found: Vec<String>,
    /// Publishing the wanted record fixes it.
    fix: bool,
    /// Values to publish instead of the wanted ones (a found record repaired).
    values: Option<Vec<String>>,
}

impl Verdict {
    fn ok(found: Vec<String>, message: impl Into<String>) -> Verdict {
        Verdict {
            level: Level::Ok,
            message: message.into(),
            found,
            fix: false,
            values: None,
        }
    }
    /// Wrong or missing: the wanted record fixes it.
    fn fix(level: Level, found: Vec<String>, message: impl Into<String>) -> Verdict {
        Verdict {
            level,
            message: message.into(),
            found,
            fix: true,
            values: None,
        }
    }
    /// A problem no record of ours fixes.
    fn note(level: Level, found: Vec<String>, message: impl Into<String>) -> Verdict {
        Verdict {
            fix: false,
            ..Verdict::fix(level, found, message)
        }
    }
    /// Fixed by publishing this TXT value rather than the wanted one.
    fn publish_txt(self, value: &str) -> Verdict {
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
fn records<'a>(answers: &'a Answers, name: &str, rtype: Rtype) -> Option<&'a [String]> {
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

// --- SPF (RFC 7208), as far as it can be judged from the answers at hand.

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

fn judge_spf(found: &[String], domain: &str, ips: &[IpAddr], answers: &Answers) -> Verdict {
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

// --- DKIM (RFC 6376) and DMARC (RFC 7489) tag lists.

/// `k=v; k2=v2` → [("k", "v"), ("k2", "v2")], keys lowercased.
pub fn tags(txt: &str) -> Vec<(String, String)> {
    txt.split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn is_dmarc(txt: &str) -> bool {
    tags(txt)
        .first()
        .is_some_and(|(k, v)| k == "v" && v == "DMARC1")
}

fn judge_dmarc(found: &[String]) -> Verdict {
    let dmarc: Vec<String> = found.iter().filter(|t| is_dmarc(t)).cloned().collect();
    let record = match dmarc.as_slice() {
        [] => return Verdict::fix(Level::Warning, dmarc, "no DMARC record"),
        [one] => one.clone(),
        _ => {
            let message = format!(
                "{} DMARC records: receivers ignore them all (keep one)",
                dmarc.len()
            );
            return Verdict::fix(Level::Warning, dmarc, message);
        }
    };
    let t = tags(&record);
    let problem = match tag(&t, "p").map(str::to_ascii_lowercase).as_deref() {
        Some(p @ ("quarantine" | "reject")) => return Verdict::ok(dmarc, format!("p={p}")),
        Some("none") => "p=none: monitoring only, forged mail is still delivered".to_string(),
        Some(p) => format!("invalid policy p={p}"),
        None => "no p= tag: the record is invalid".to_string(),
    };
    Verdict::fix(Level::Warning, dmarc, problem).publish_txt(&dmarc_repair(&record))
}

/// The DMARC record with `p=quarantine`, its other tags kept.
pub fn dmarc_repair(record: &str) -> String {
    let mut t = tags(record);
    t.retain(|(k, _)| k != "p");
    t.insert(1.min(t.len()), ("p".into(), "quarantine".into()));
    t.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn is_dkim(txt: &str) -> bool {
    let t = tags(txt);
    tag(&t, "v").is_some() || tag(&t, "p").is_some()
}

fn judge_dkim(found: &[String]) -> Verdict {
    let keys: Vec<String> = found.iter().filter(|t| is_dkim(t)).cloned().collect();
    let one = match keys.as_slice() {
        [] => {
            return Verdict::fix(
                Level::Warning,
                keys,
                "no DKIM key: receivers cannot verify the server's signatures",
            )
        }
        [one] => tags(one),
        _ => {
            return Verdict::fix(
                Level::Warning,
                keys.clone(),
                format!("{} records: keep one key per selector", keys.len()),
            )
        }
    };
    match (tag(&one, "v"), tag(&one, "p")) {
        (Some(v), _) if v != "DKIM1" => {
            Verdict::fix(Level::Warning, keys, format!("invalid version v={v}"))
        }
        (_, None) => Verdict::fix(Level::Warning, keys, "no p= tag: the record is invalid"),
        (_, Some("")) => Verdict::fix(Level::Warning, keys, "empty p=: the key is revoked"),
        (_, Some(_)) => {
            let k = tag(&one, "k").unwrap_or("rsa");
            Verdict::ok(keys, format!("key published (k={k})"))
        }
    }
}

// ---------------------------------------------------------------------------
// The zone-file snippet.

fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// A found record as it would appear in a zone file.
fn shown(rtype: Rtype, value: &str) -> String {
    match rtype {
        Rtype::Txt => format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")),
        _ => value.to_string(),
    }
}

/// The records to create or change, grouped by zone; empty when nothing
/// needs publishing.
pub fn zone_snippet(findings: &[DnsFinding]) -> String {
    let fixes: Vec<(&Wanted, &[String])> = findings
        .iter()
        .filter_map(|f| f.fix.as_ref().map(|w| (w, f.found.as_slice())))
        .collect();
    let width = fixes.iter().map(|(w, _)| owner(w).len()).max().unwrap_or(0);
    let mut zones: Vec<(&str, Vec<String>)> = vec![];
    for (w, found) in fixes {
        let lines = fix_lines(w, found, width);
        match zones.iter_mut().find(|(z, _)| *z == w.zone) {
            Some((_, l)) => l.extend(lines),
            None => zones.push((&w.zone, lines)),
        }
    }
    zones
        .iter()
        .map(|(z, lines)| {
            format!(
                "; records to create in the zone {z}\n{}\n",
                lines.join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The owner name as written in the zone file.
fn owner(w: &Wanted) -> String {
    format!("{}.", w.name)
}

fn record_line(owner: &str, rtype: &str, value: &str, width: usize) -> String {
    format!("{owner:<width$} IN {rtype:<5} {value}")
}

fn fix_lines(w: &Wanted, found: &[String], width: usize) -> Vec<String> {
    let rtype = w.expect.rtype();
    let instead = (!found.is_empty()).then(|| {
        let old: Vec<String> = found.iter().map(|v| shown(rtype, v)).collect();
        format!("; instead of: {}", old.join(" "))
    });
    let body: Vec<String> = match &w.expect {
        Expect::Ptr { ip, hostname } => vec![format!(
            "; PTR: ask the ISP or hosting provider to set {ip} -> {hostname}."
        )],
        Expect::Dkim { domain, source } => vec![
            format!(
                "; DKIM: the key is made on the mail server; on {} run",
                source.host
            ),
            format!(";   {}", source.command(domain)),
            format!(
                "; and publish the record it prints (also in {}):",
                source.key_file(domain)
            ),
            format!(
                "; {}",
                record_line(
                    &owner(w),
                    "TXT",
                    "\"v=DKIM1; k=rsa; p=<public key>\"",
                    width
                )
            ),
        ],
        _ => w
            .values
            .iter()
            .map(|v| record_line(&owner(w), rtype.word(), v, width))
            .collect(),
    };
    instead.into_iter().chain(body).collect()
}

// ---------------------------------------------------------------------------
// The report.

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub level: Level,
    /// First line of the plugin output: `DNS OK - ...`.
    pub summary: String,
    pub resolver: Option<String>,
    pub hostname: Option<String>,
    pub domains: Vec<String>,
    pub findings: Vec<DnsFinding>,
    pub snippet: String,
}

impl Report {
    pub fn new(setup: &MailSetup, findings: Vec<DnsFinding>, resolver: &str) -> Report {
        let level = findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
        let problems: Vec<String> = findings
            .iter()
            .filter(|f| f.level != Level::Ok)
            .map(|f| format!("{} {}: {}", f.check, f.name, f.message))
            .collect();
        let detail = if problems.is_empty() {
            format!(
                "{}: {} records as they should be for {} mail domain(s) (resolver {resolver})",
                setup.hostname,
                findings.len(),
                setup.domains.len()
            )
        } else {
            format!("{} problem(s): {}", problems.len(), problems.join("; "))
        };
        Report {
            level,
            summary: summary_line(level, &detail),
            resolver: Some(resolver.to_string()),
            hostname: Some(setup.hostname.clone()),
            domains: setup.domains.clone(),
            snippet: zone_snippet(&findings),
            findings,
        }
    }

    pub fn no_mail(site: &str) -> Report {
        Report::bare(
            Level::Ok,
            &format!("site {site} has no mail service: nothing to check"),
            None,
        )
    }

    pub fn unreachable(e: &Unreachable) -> Report {
        Report::bare(Level::Unknown, &e.to_string(), Some(e.resolver.clone()))
    }

    fn bare(level: Level, detail: &str, resolver: Option<String>) -> Report {
        Report {
            level,
            summary: summary_line(level, detail),
            resolver,
            hostname: None,
            domains: vec![],
            findings: vec![],
            snippet: String::new(),
        }
    }

    /// Plugin text: the summary, one line per record, then the snippet.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n", self.summary);
        for f in &self.findings {
            out.push_str(&format!(
                "{:<8} {:<5} {}: {}\n",
                f.level.word(),
                f.check,
                f.name,
                f.message
            ));
        }
        if !self.snippet.is_empty() {
            out.push('\n');
            out.push_str(&self.snippet);
        }
        out
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "status": self.level.word(),
            "exit_code": self.level.exit_code(),
            "summary": self.summary,
            "resolver": self.resolver,
            "hostname": self.hostname,
            "domains": self.domains,
            "findings": self.findings,
            "snippet": self.snippet,
        })
    }

    fn print(&self, output: Output) -> Result<()> {
        match output {
            Output::Json => crate::cli::print_json(&self.json()),
            Output::Text => {
                print!("{}", self.text());
                Ok(())
            }
        }
    }
}

/// `DNS LEVEL - detail` on one line; `|` would start perfdata.
fn summary_line(level: Level, detail: &str) -> String {
    format!(
        "DNS {} - {}",
        level.word(),
        detail.replace(['|', '\n'], " ")
    )
}

// ---------------------------------------------------------------------------
// The resolver.

/// hickory-resolver on a single-threaded tokio runtime, without cache
/// between runs, hosts file or search domains.
pub struct Dns {
    runtime: tokio::runtime::Runtime,
    resolver: hickory_resolver::TokioResolver,
    label: String,
}

impl Dns {
    /// `servers` empty: the system's resolvers (/etc/resolv.conf).
    pub fn new(servers: &[SocketAddr]) -> Result<Dns> {
        use hickory_resolver::config::{
            ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
        };
        let config = if servers.is_empty() {
            let (config, _) = hickory_resolver::system_conf::read_system_conf().context(
                "cannot read the system's resolvers from /etc/resolv.conf; give --resolver",
            )?;
            config
        } else {
            ResolverConfig::from_name_servers(
                servers
                    .iter()
                    .map(|s| {
                        let conn = |mut c: ConnectionConfig| {
                            c.port = s.port();
                            c
                        };
                        NameServerConfig::new(
                            s.ip(),
                            true,
                            vec![conn(ConnectionConfig::udp()), conn(ConnectionConfig::tcp())],
                        )
                    })
                    .collect(),
            )
        };
        let label = config
            .name_servers()
            .iter()
            .map(|ns| {
                let port = ns.connections.first().map_or(53, |c| c.port);
                SocketAddr::new(ns.ip, port).to_string()
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut opts = ResolverOpts::default();
        opts.timeout = TIMEOUT;
        opts.attempts = ATTEMPTS;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.cache_size = 0;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the DNS runtime")?;
        let resolver = {
            let _in = runtime.enter();
            hickory_resolver::TokioResolver::builder_with_config(
                config,
                hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
            )
            .with_options(opts)
            .build()
            .context("cannot set up the DNS resolver")?
        };
        Ok(Dns {
            runtime,
            resolver,
            label,
        })
    }
}

impl Resolve for Dns {
    fn resolve(&self, q: &Query) -> Result<Answer, String> {
        use hickory_resolver::net::NetError;
        use hickory_resolver::proto::rr::{Name, RecordType};
        let name = match q.rtype {
            Rtype::Ptr => q
                .name
                .parse::<IpAddr>()
                .map(Name::from)
                .map_err(|e| e.to_string()),
            _ => Name::from_ascii(format!("{}.", q.name)).map_err(|e| e.to_string()),
        };
        let name = match name {
            Ok(n) => n,
            Err(e) => return Ok(Answer::Failed(format!("invalid name: {e}"))),
        };
        let rtype = match q.rtype {
            Rtype::A => RecordType::A,
            Rtype::Aaaa => RecordType::AAAA,
            Rtype::Mx => RecordType::MX,
            Rtype::Txt => RecordType::TXT,
            Rtype::Ptr => RecordType::PTR,
        };
        match self.runtime.block_on(self.resolver.lookup(name, rtype)) {
            Ok(lookup) => {
                let mut found: Vec<String> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .filter_map(|r| presented(&r.data))
                    .collect();
                // Stable output whatever order the resolver answers in.
                found.sort();
                Ok(if found.is_empty() {
                    Answer::Missing
                } else {
                    Answer::Records(found)
                })
            }
            Err(e) if e.is_no_records_found() => Ok(Answer::Missing),
            Err(NetError::Dns(e)) => Ok(Answer::Failed(e.to_string())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn label(&self) -> String {
        self.label.clone()
    }
}

/// A record in the form [`Answer::Records`] holds.
fn presented(data: &hickory_resolver::proto::rr::RData) -> Option<String> {
    use hickory_resolver::proto::rr::RData;
    let fqdn = |s: String| if s.ends_with('.') { s } else { s + "." };
    Some(match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::MX(mx) => format!(
            "{} {}",
            mx.preference,
            fqdn(mx.exchange.to_ascii().to_ascii_lowercase())
        ),
        RData::TXT(t) => t
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s))
            .collect(),
        RData::PTR(p) => fqdn(p.0.to_ascii().to_ascii_lowercase()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn site(name: &str) -> Resolved {
        crate::inventory::load(Path::new(&format!("inventories/{name}.yml"))).unwrap()
    }

    fn durand() -> MailSetup {
        MailSetup::from_site(&site("cabinet-durand"))
            .unwrap()
            .unwrap()
    }

    const IP: &str = "203.0.113.10";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn found(v: &[&str]) -> Answer {
        Answer::Records(v.iter().map(|s| s.to_string()).collect())
    }

    /// The zone of cabinet-durand.fr as it should be.
    fn good() -> Answers {
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

    fn levels(findings: &[DnsFinding]) -> Vec<(&'static str, Level)> {
        findings.iter().map(|f| (f.check, f.level)).collect()
    }

    fn of<'a>(findings: &'a [DnsFinding], check: &str) -> &'a DnsFinding {
        findings.iter().find(|f| f.check == check).unwrap()
    }

    fn no_names(_: &str, _: Rtype) -> Option<Vec<String>> {
        None
    }

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
    fn resolver_addresses() {
        assert_eq!(
            parse_resolver("192.0.2.53").unwrap().to_string(),
            "192.0.2.53:53"
        );
        assert_eq!(parse_resolver("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(
            parse_resolver("2001:db8::53").unwrap().to_string(),
            "[2001:db8::53]:53"
        );
        assert_eq!(parse_resolver("[2001:db8::53]:5353").unwrap().port(), 5353);
        let e = parse_resolver("dns.example:53").unwrap_err().to_string();
        assert!(e.contains("invalid --resolver `dns.example:53`"), "{e}");
    }

    // --- SPF

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

    // --- DKIM and DMARC

    #[test]
    fn dmarc_policies() {
        let j = |v: &[&str]| {
            let v = judge_dmarc(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            (v.level, v.message, v.values)
        };
        assert_eq!(j(&["v=DMARC1; p=reject"]).0, Level::Ok);
        assert_eq!(j(&["v=DMARC1;p=Quarantine;pct=100"]).1, "p=quarantine");
        let none = j(&["v=DMARC1; p=none; rua=mailto:d@x.example"]);
        assert_eq!(none.0, Level::Warning);
        assert_eq!(
            none.2.unwrap(),
            ["\"v=DMARC1; p=quarantine; rua=mailto:d@x.example\""]
        );
        let (level, message, values) = j(&[]);
        assert_eq!(
            (level, message.as_str()),
            (Level::Warning, "no DMARC record")
        );
        assert!(values.is_none(), "the catalog's record is published");
        assert_eq!(
            j(&["v=DMARC1; rua=mailto:d@x.example"]).1,
            "no p= tag: the record is invalid"
        );
        assert_eq!(
            j(&["v=DMARC1; p=sometimes"]).1,
            "invalid policy p=sometimes"
        );
        assert!(j(&["v=DMARC1; p=reject", "v=DMARC1; p=none"])
            .1
            .starts_with("2 DMARC records"));
        assert_eq!(
            j(&["p=reject; v=DMARC1"]).1,
            "no DMARC record",
            "v= must come first"
        );
        assert_eq!(dmarc_repair("v=DMARC1"), "v=DMARC1; p=quarantine");
        assert_eq!(
            tags(" v = DMARC1 ;P=none;; "),
            [("v".into(), "DMARC1".into()), ("p".into(), "none".into())]
        );
    }

    #[test]
    fn dkim_keys() {
        let j = |v: &[&str]| {
            let v = judge_dkim(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            (v.level, v.message)
        };
        assert_eq!(
            j(&["v=DKIM1; k=rsa; p=MIIB"]),
            (Level::Ok, "key published (k=rsa)".into())
        );
        assert_eq!(
            j(&["k=ed25519; p=abc"]),
            (Level::Ok, "key published (k=ed25519)".into())
        );
        assert_eq!(j(&["v=DKIM1; k=rsa; p="]).1, "empty p=: the key is revoked");
        assert_eq!(j(&["v=DKIM2; p=abc"]).1, "invalid version v=DKIM2");
        assert_eq!(j(&["v=DKIM1; k=rsa"]).1, "no p= tag: the record is invalid");
        assert_eq!(j(&["unrelated text"]).0, Level::Warning);
        assert_eq!(j(&["p=a", "p=b"]).1, "2 records: keep one key per selector");
    }

    // --- Judging the other records

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

    struct Dead;
    impl Resolve for Dead {
        fn resolve(&self, _: &Query) -> Result<Answer, String> {
            Err("request timed out".into())
        }
        fn label(&self) -> String {
            "192.0.2.1:53".into()
        }
    }

    #[test]
    fn an_unreachable_resolver_is_unknown_and_named() {
        let e = check(&durand(), &Dead).unwrap_err();
        let r = Report::unreachable(&e);
        assert_eq!(r.level, Level::Unknown);
        assert_eq!(
            r.summary,
            "DNS UNKNOWN - resolver 192.0.2.1:53 did not answer (MX cabinet-durand.fr): request timed out"
        );
    }

    // --- Snippet and report

    #[test]
    fn the_snippet_holds_exactly_the_records_to_publish() {
        let mut a = good();
        a.insert(
            Query::new("cabinet-durand.fr", Rtype::Mx),
            found(&["10 mx.other.example."]),
        );
        a.insert(
            Query::new("cabinet-durand.fr", Rtype::Txt),
            found(&["google-site-verification=x"]),
        );
        a.remove(&Query::new("mail.cabinet-durand.fr", Rtype::A));
        a.remove(&Query::new("mail._domainkey.cabinet-durand.fr", Rtype::Txt));
        a.remove(&Query::new("_dmarc.cabinet-durand.fr", Rtype::Txt));
        a.insert(
            Query::new(IP, Rtype::Ptr),
            found(&["vps-1.provider.example."]),
        );
        let f = check(&durand(), &a).unwrap();
        assert_eq!(
            zone_snippet(&f),
            "\
; records to create in the zone cabinet-durand.fr
; instead of: 10 mx.other.example.
cabinet-durand.fr.                 IN MX    10 mail.cabinet-durand.fr.
mail.cabinet-durand.fr.            IN A     203.0.113.10
cabinet-durand.fr.                 IN TXT   \"v=spf1 mx ~all\"
; DKIM: the key is made on the mail server; on srv1 run
;   cd /opt/regie/mail && docker compose -p cabinet-durand-mail exec mailserver setup config dkim selector mail domain cabinet-durand.fr
; and publish the record it prints (also in /opt/regie/mail/config/rspamd/dkim/rsa-2048-mail-cabinet-durand.fr.public.txt):
; mail._domainkey.cabinet-durand.fr. IN TXT   \"v=DKIM1; k=rsa; p=<public key>\"
_dmarc.cabinet-durand.fr.          IN TXT   \"v=DMARC1; p=quarantine; rua=mailto:postmaster@cabinet-durand.fr\"
; instead of: vps-1.provider.example.
; PTR: ask the ISP or hosting provider to set 203.0.113.10 -> mail.cabinet-durand.fr.
"
        );
    }

    #[test]
    fn the_snippet_is_grouped_by_zone() {
        let mut m = durand();
        m.domains = vec!["cabinet-durand.fr".into(), "durand.example".into()];
        let mut a = good();
        a.insert(
            Query::new("durand.example", Rtype::Mx),
            found(&["10 mail.cabinet-durand.fr."]),
        );
        a.insert(
            Query::new("mail._domainkey.durand.example", Rtype::Txt),
            found(&["p=x"]),
        );
        a.insert(
            Query::new("_dmarc.durand.example", Rtype::Txt),
            found(&["v=DMARC1; p=reject"]),
        );
        let snippet = zone_snippet(&check(&m, &a).unwrap());
        assert_eq!(
            snippet,
            "; records to create in the zone durand.example\ndurand.example. IN TXT   \"v=spf1 mx ~all\"\n"
        );
    }

    #[test]
    fn report_lines() {
        let m = durand();
        let ok = Report::new(&m, check(&m, &good()).unwrap(), "127.0.0.1:53");
        assert_eq!(ok.level.exit_code(), 0);
        assert_eq!(
            ok.summary,
            "DNS OK - mail.cabinet-durand.fr: 7 records as they should be for 1 mail domain(s) (resolver 127.0.0.1:53)"
        );
        let text = ok.text();
        assert!(text.contains("\nOK       PTR   203.0.113.10: mail.cabinet-durand.fr. (resolves back to 203.0.113.10)\n"), "{text}");
        let mut a = good();
        a.remove(&Query::new("_dmarc.cabinet-durand.fr", Rtype::Txt));
        a.remove(&Query::new("cabinet-durand.fr", Rtype::Txt));
        let bad = Report::new(&m, check(&m, &a).unwrap(), "127.0.0.1:53");
        assert_eq!((bad.level, bad.level.exit_code()), (Level::Critical, 2));
        assert_eq!(
            bad.summary,
            "DNS CRITICAL - 2 problem(s): SPF cabinet-durand.fr: no SPF record; DMARC _dmarc.cabinet-durand.fr: no DMARC record"
        );
        assert!(bad
            .text()
            .contains("\n\n; records to create in the zone cabinet-durand.fr\n"));
        let json = bad.json();
        assert_eq!(json["status"], "CRITICAL");
        assert_eq!(json["findings"][3]["check"], "SPF");
        assert_eq!(json["findings"][3]["level"], "CRITICAL");
        assert_eq!(json["snippet"], bad.snippet);
        assert_eq!(summary_line(Level::Ok, "a|b"), "DNS OK - a b");
        assert_eq!(
            Report::no_mail("x").summary,
            "DNS OK - site x has no mail service: nothing to check"
        );
    }
}

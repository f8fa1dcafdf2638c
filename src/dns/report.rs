//! The plugin report: the worst level, the one-line summary, one line per
//! record and the snippet, as text or JSON. Builds strings only; printing
//! is the command's.

use serde_json::json;

use super::judge::DnsFinding;
use super::wanted::MailSetup;
use super::zone::zone_snippet;
use crate::site::state::Level;
use crate::util::dns::Unreachable;

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
}

/// `DNS LEVEL - detail` on one line; `|` would start perfdata.
fn summary_line(level: Level, detail: &str) -> String {
    format!(
        "DNS {} - {}",
        level.word(),
        detail.replace(['|', '\n'], " ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fixtures::*;
    use crate::dns::{check, Answer, Query, Resolve, Rtype};

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

//! The zone-file snippet: the records to create or change, grouped by
//! zone, in zone-file syntax, with the steps for what no zone line fixes
//! (the DKIM key, the PTR). Pure.

use super::judge::DnsFinding;
use super::wanted::{Expect, Wanted};
use crate::util::dns::Rtype;

pub(super) fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// A found record as it would appear in a zone file.
pub(super) fn shown(rtype: Rtype, value: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::fixtures::*;
    use crate::dns::{check, Query};

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
}

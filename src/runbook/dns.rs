//! The site's DNS records (`site::dns`, the model `regie check dns` uses
//! too) as the run book shows them: table values and a BIND zone file
//! snippet.

use super::document::{c, tx, Inline};
use crate::site::dns::Record;

/// A zone file line; records that cannot go into the zone as they are (PTR,
/// set at the address's owner, and values to be filled in, written in
/// parentheses in the catalog) are comments.
fn zone_line(r: &Record, width: usize) -> String {
    let name = if r.name.ends_with('.') {
        r.name.clone()
    } else {
        format!("{}.", r.name)
    };
    let comment = r.kind == "PTR" || r.value.starts_with('(');
    let line = format!("{name:<width$} IN {:<5} {}", r.kind, r.value);
    let note = r
        .note
        .as_deref()
        .map(|n| format!("  ; {n}"))
        .unwrap_or_default();
    if comment {
        format!("; {line}{note}")
    } else {
        format!("{line}{note}")
    }
}

/// Values to fill in (in parentheses in the catalog) are instructions, shown
/// as text; the others are the record's data.
pub(super) fn dns_value(value: &str) -> Vec<Inline> {
    if value.starts_with('(') {
        tx(value)
    } else {
        vec![c(value)]
    }
}

pub(super) fn zone_file(records: &[Record]) -> String {
    let width = records.iter().map(|r| r.name.len() + 1).max().unwrap_or(0);
    records
        .iter()
        .map(|r| zone_line(r, width))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lines_comment_what_cannot_be_published() {
        let r = |kind: &str, value: &str| Record {
            kind: kind.into(),
            name: "x.fr".into(),
            value: value.into(),
            service: "mail".into(),
            note: None,
        };
        assert_eq!(
            zone_line(&r("MX", "10 mail.x.fr."), 5),
            "x.fr. IN MX    10 mail.x.fr."
        );
        assert!(zone_line(&r("PTR", "mail.x.fr."), 5).starts_with("; "));
        assert!(zone_line(&r("TXT", "(public key …)"), 5).starts_with("; "));
    }
}

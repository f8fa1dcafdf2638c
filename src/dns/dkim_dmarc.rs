//! DKIM (RFC 6376) and DMARC (RFC 7489): both are `k=v;` tag lists in TXT
//! records; judging the selector's key and the domain's policy, and the
//! repaired DMARC record. Pure.

use super::judge::Verdict;
use crate::site::state::Level;

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

pub(super) fn judge_dmarc(found: &[String]) -> Verdict {
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

pub(super) fn judge_dkim(found: &[String]) -> Verdict {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

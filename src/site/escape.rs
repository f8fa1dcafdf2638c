//! What each escaping filter of the templates refuses, as pure checks shared
//! by the renderer (which applies them) and by validation (which applies
//! the same rule to each setting before anything is rendered, so a value a
//! filter would refuse is reported at `validate` with its position), and
//! which filters the templates apply to which settings.

use std::collections::{BTreeMap, BTreeSet};

/// The escaping filters that refuse some values.
pub const REFUSING: [&str; 4] = ["env", "caddy", "token", "php"];

/// Why `filter` refuses `s`, or `None` when it prints it. The reason never
/// echoes the value: it may be a secret.
pub fn refusal(filter: &str, s: &str) -> Option<String> {
    match filter {
        "env" => {
            if let Some(c) = s
                .chars()
                .find(|c| c.is_control() || *c == '$' || *c == '\\')
            {
                return Some(format!(
                    "value cannot be written to an env file: it contains {c:?} ($, backslash and control characters are refused)"
                ));
            }
            if s.contains(" #") || s.contains("\t#") {
                return Some(
                    "value cannot be written to an env file: ` #` would start a comment".into(),
                );
            }
            if s.starts_with(['"', '\'', '`']) || s.trim() != s {
                return Some(
                    "value cannot be written to an env file: it starts with a quote or starts/ends with spaces"
                        .into(),
                );
            }
            None
        }
        "caddy" => s
            .chars()
            .any(|c| c.is_control() || c == '{' || c == '}')
            .then(|| {
                "value cannot be written to a Caddyfile: control characters and braces are refused"
                    .into()
            }),
        "token" => (s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@._+-$/".contains(&b)))
        .then(|| "value is not a plain word (letters, digits and @._+-$/ only)".into()),
        "php" => s
            .chars()
            .any(|c| c.is_control())
            .then(|| "control characters cannot be written to a PHP file".into()),
        _ => None,
    }
}

/// Which escaping filters print which setting: for each setting name, the
/// filters and the template that applies them. `stack` is `Some` for the
/// settings of the template's own stack (`settings.KEY`), `None` for
/// settings read through another stack's entry (`w.settings.KEY`, as the
/// proxy does for every service).
pub type SettingFilters = BTreeMap<(Option<String>, String), BTreeSet<(String, String)>>;

/// Read every template for `{{ settings.KEY ... | FILTER }}`, and for loops
/// `{% for X in settings.KEY %}` whose variable is printed `{{ X | FILTER }}`.
pub fn setting_filters(templates: &BTreeMap<String, String>) -> SettingFilters {
    let mut out = SettingFilters::new();
    for (name, src) in templates {
        let stack = name.split('/').next().unwrap_or("").to_string();
        // Loop variables bound to a setting: var -> (own stack?, key).
        let mut loops: BTreeMap<String, (bool, String)> = BTreeMap::new();
        let mut rest = src.as_str();
        while let Some(i) = rest.find(['{']) {
            let after = &rest[i + 1..];
            let (close, stmt) = match after.chars().next() {
                Some('{') => ("}}", false),
                Some('%') => ("%}", true),
                _ => {
                    rest = after;
                    continue;
                }
            };
            let body_start = &after[1..];
            let Some(j) = body_start.find(close) else {
                break;
            };
            let body = body_start[..j].trim_matches(|c: char| c == '-' || c.is_whitespace());
            rest = &body_start[j + 2..];
            if stmt {
                // for X in EXPR
                let words: Vec<&str> = body.split_whitespace().collect();
                if words.len() >= 4 && words[0] == "for" && words[2] == "in" {
                    if let Some(k) = setting_of(words[3]) {
                        loops.insert(words[1].to_string(), k);
                    }
                }
                continue;
            }
            let head = body.split('|').next().unwrap_or("").trim();
            let filter = body.rsplit('|').next().unwrap_or("").trim();
            // Only the escapers that refuse values matter (yaml quotes all).
            if !body.contains('|') || !REFUSING.contains(&filter) {
                continue;
            }
            let target = setting_of(head).or_else(|| loops.get(head).cloned());
            if let Some((own, key)) = target {
                let k = (own.then(|| stack.clone()), key);
                out.entry(k)
                    .or_default()
                    .insert((filter.to_string(), name.clone()));
            }
        }
    }
    out
}

/// `settings.KEY` (own stack) or `VAR.settings.KEY` (any stack), ignoring
/// anything after the key.
fn setting_of(expr: &str) -> Option<(bool, String)> {
    let expr = expr.trim();
    let (own, tail) = if let Some(t) = expr.strip_prefix("settings.") {
        (true, t)
    } else {
        let i = expr.find(".settings.")?;
        (false, &expr[i + ".settings.".len()..])
    };
    let key: String = tail
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!key.is_empty()).then_some((own, key))
}

/// The filters that will print setting `key` of `stack`.
pub fn filters_for<'a>(
    map: &'a SettingFilters,
    stack: &str,
    key: &str,
) -> impl Iterator<Item = &'a (String, String)> {
    let own = map.get(&(Some(stack.to_string()), key.to_string()));
    let any = map.get(&(None, key.to_string()));
    own.into_iter().chain(any).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals() {
        assert!(refusal("env", "a$b").is_some());
        assert!(refusal("env", "a #b").is_some());
        assert!(refusal("env", "`x").is_some());
        assert!(refusal("env", "Mairie d'Anville").is_none());
        assert!(refusal("caddy", "a{b").is_some());
        assert!(refusal("token", "a b").is_some());
        assert!(refusal("php", "a\nb").is_some());
        assert!(refusal("yaml", "$ # `").is_none());
    }

    #[test]
    fn finds_direct_and_loop_uses() {
        let mut t = BTreeMap::new();
        t.insert(
            "files/app.env.tera".to_string(),
            "A={{ settings.admin_user | env }}\n{% for d in settings.trusted_domains %} {{ d | env }}{% endfor %}\nB: {{ settings.x | yaml }}\n".to_string(),
        );
        t.insert(
            "proxy/Caddyfile.tera".to_string(),
            "{% for n in w.settings.upload_from %} {{ n | caddy }}{% endfor %}".to_string(),
        );
        let m = setting_filters(&t);
        let f = |s: &str, k: &str| -> Vec<String> {
            filters_for(&m, s, k).map(|(f, _)| f.clone()).collect()
        };
        assert_eq!(f("files", "admin_user"), ["env"]);
        assert_eq!(f("files", "trusted_domains"), ["env"]);
        assert!(f("files", "x").is_empty());
        assert!(f("wiki", "admin_user").is_empty());
        assert_eq!(f("share", "upload_from"), ["caddy"]);
    }
}

//! Service settings checked against the catalog's schema for the stack,
//! defaults filled in, as JSON for the templates.

use crate::site::diag::Show;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use super::err;
use crate::site::catalog::{SettingSpec, SettingType};
use crate::site::diag::{did_you_mean, Diagnostic};
use crate::site::inventory::syntax::{is_domain, is_email, is_text};

/// Keys of a service itself (`services.<name>.<key>`), often put under
/// `settings:` by mistake.
const SERVICE_KEYS: [&str; 5] = ["host", "hostname", "version", "images", "resources"];

/// Where a settings mapping sits, for hints about a key that is unknown
/// there: the stack's name and every other stack's top-level settings.
pub(super) struct Whereabouts<'a> {
    pub stack: &'a str,
    pub others: Vec<(&'a str, &'a BTreeMap<String, SettingSpec>)>,
}

/// The hint for an unknown setting `key`: a key that belongs one level up
/// (a service key) or to another stack is named as such, since a close
/// spelling in this stack would mislead (`max_upload_mb` under `mail` is
/// share's setting, not a typo of mail's `max_message_mb`); the close
/// spelling in this stack is still offered after it.
fn unknown_key_hint(
    path: &str,
    key: &str,
    schema: &BTreeMap<String, SettingSpec>,
    place: Option<&Whereabouts>,
) -> Option<String> {
    let near = did_you_mean(key, schema.keys().map(String::as_str));
    let Some(place) = place else { return near };
    if SERVICE_KEYS.contains(&key) {
        let up = path.strip_suffix(".settings").unwrap_or(path);
        return Some(format!(
            "`{key}` is a key of the service, not a setting: write it as {up}.{key}"
        ));
    }
    let owners: Vec<&str> = place
        .others
        .iter()
        .filter(|(name, s)| *name != place.stack && s.contains_key(key))
        .map(|(name, _)| *name)
        .collect();
    if owners.is_empty() {
        return near;
    }
    let named: Vec<String> = owners.iter().map(|o| format!("`{o}`")).collect();
    let whose = match named.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => named.join(""),
    };
    let mut hint = format!(
        "`{}` is a setting of {whose}, not of `{}`",
        key.shown(),
        place.stack
    );
    if let Some(n) = near {
        hint.push_str(&format!("; for `{}`, {n}", place.stack));
    }
    Some(hint)
}

/// Check settings against their schema, filling defaults. Returns JSON for
/// the templates. `place` is given for a service's top-level settings.
pub(super) fn check_settings(
    path: &str,
    given: &serde_yaml::Mapping,
    schema: &BTreeMap<String, SettingSpec>,
    place: Option<&Whereabouts>,
    diags: &mut Vec<Diagnostic>,
) -> Json {
    let mut out = serde_json::Map::new();
    for (k, v) in given {
        let Some(key) = k.as_str() else {
            diags.push(err(path, "setting names must be strings"));
            continue;
        };
        if !schema.contains_key(key) {
            let mut d = err(
                format!("{path}.{key}"),
                format!("unknown key `{}`", key.shown()),
            );
            d.expected = Some(if schema.is_empty() {
                "no keys here".to_string()
            } else {
                format!(
                    "one of {}",
                    schema.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            });
            d.hint = unknown_key_hint(path, key, schema, place);
            diags.push(d);
            let _ = v;
        }
    }
    for (name, spec) in schema {
        let p = format!("{path}.{name}");
        match given.get(name) {
            Some(v) => {
                out.insert(name.clone(), check_value(&p, v, spec, diags));
            }
            None => {
                if spec.required {
                    diags.push(
                        err(p.clone(), format!("missing required key `{name}`"))
                            .expected(spec.doc.clone()),
                    );
                    // Point at the settings mapping (or its service).
                } else if let Some(d) = &spec.default {
                    out.insert(name.clone(), yaml_to_json(d));
                }
                // No default: left out, so templates can use `default(...)`.
            }
        }
    }
    Json::Object(out)
}

fn yaml_to_json(v: &Yaml) -> Json {
    serde_json::to_value(v).unwrap_or(Json::Null)
}

fn type_name(v: &Yaml) -> &'static str {
    match v {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

fn check_value(path: &str, v: &Yaml, spec: &SettingSpec, diags: &mut Vec<Diagnostic>) -> Json {
    let wrong = |diags: &mut Vec<Diagnostic>, exp: &str| {
        diags
            .push(err(path, format!("wrong type: got {}", type_name(v))).expected(exp.to_string()));
        Json::Null
    };
    match spec.kind {
        SettingType::Bool => match v {
            Yaml::Bool(b) => Json::Bool(*b),
            _ => wrong(diags, "true or false"),
        },
        SettingType::Int => match v.as_i64() {
            Some(i) => {
                if spec.min.is_some_and(|m| i < m) || spec.max.is_some_and(|m| i > m) {
                    diags.push(err(path, format!("{i} is out of range")).expected(format!(
                        "a whole number from {} to {}",
                        spec.min.map(|m| m.to_string()).unwrap_or("-inf".into()),
                        spec.max.map(|m| m.to_string()).unwrap_or("+inf".into())
                    )));
                }
                Json::from(i)
            }
            None => wrong(diags, "a whole number"),
        },
        SettingType::String
        | SettingType::Email
        | SettingType::Domain
        | SettingType::Ip
        | SettingType::Cidr
        | SettingType::Enum => {
            let s = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Number(n) if spec.kind == SettingType::String => n.to_string(),
                _ => return wrong(diags, "a string"),
            };
            let (ok, exp) = match spec.kind {
                SettingType::String => (is_text(&s), "one line of printable text".to_string()),
                SettingType::Email => (
                    is_email(&s),
                    "an email address such as admin@example.fr".to_string(),
                ),
                SettingType::Domain => (
                    is_domain(&s),
                    "a domain name such as example.fr".to_string(),
                ),
                SettingType::Ip => (
                    s.parse::<IpAddr>().is_ok(),
                    "an IP address such as 203.0.113.7".to_string(),
                ),
                SettingType::Cidr => (
                    super::super::syntax::parse_cidr(&s).is_some(),
                    "a network in CIDR notation such as 192.168.1.0/24 or 2001:db8::/48"
                        .to_string(),
                ),
                _ => (
                    spec.values.contains(&s),
                    format!("one of {}", spec.values.join(", ")),
                ),
            };
            if !ok {
                let mut d = err(path, format!("invalid value `{}`", s.shown())).expected(exp);
                if spec.kind == SettingType::Enum {
                    d.hint = did_you_mean(&s, spec.values.iter().map(String::as_str));
                }
                diags.push(d);
            }
            Json::String(s)
        }
        SettingType::List => match v {
            Yaml::Sequence(items) => {
                let item = spec.items.as_deref().expect("list setting without items");
                Json::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, x)| check_value(&format!("{path}[{i}]"), x, item, diags))
                        .collect(),
                )
            }
            _ => wrong(diags, "a list"),
        },
        SettingType::Object => match v {
            Yaml::Mapping(m) => check_settings(path, m, &spec.fields, None, diags),
            _ => wrong(diags, "a mapping"),
        },
    }
}

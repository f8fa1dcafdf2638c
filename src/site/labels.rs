//! The labels a rendered compose file must give every service: regie finds
//! a site's containers by `regie.site` (deploy's drift check, status,
//! backup) and recreates them when their config files change through
//! `regie.config-hash`. A custom template without them would be redeployed
//! on every run, or never recreated, with no word said: render refuses it
//! and says which template, service and label. The catalog's `m::common`
//! macro writes them (and `regie.stack`, `regie.component`).

use crate::site::diag::Show;
use anyhow::{bail, Result};
use serde_yaml::Value;

/// The labels regie reads, with the values this render must give them.
pub struct Expected<'a> {
    pub site: &'a str,
    pub config_hash: &'a str,
}

/// One service's label, from either compose form (a map, or a list of
/// `key=value`).
fn label(labels: &Value, key: &str) -> Option<String> {
    match labels {
        Value::Mapping(m) => m.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        }),
        Value::Sequence(items) => items.iter().find_map(|i| {
            i.as_str()?
                .split_once('=')
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }),
        _ => None,
    }
}

/// Check every service of a rendered compose file. `template` names the
/// file the error points at.
pub fn check(compose: &str, template: &str, want: &Expected) -> Result<()> {
    let doc: Value = match serde_yaml::from_str(compose) {
        Ok(v) => v,
        Err(e) => bail!("{template} does not render a YAML compose file: {e}"),
    };
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        bail!("{template} renders a compose file without `services`");
    };
    for (name, svc) in services {
        let name = name.as_str().unwrap_or("?");
        let labels = svc.get("labels").unwrap_or(&Value::Null);
        for (key, value) in [
            ("regie.site", want.site),
            ("regie.config-hash", want.config_hash),
        ] {
            match label(labels, key) {
                Some(v) if v == value => {}
                found => {
                    let found = match found {
                        Some(v) => format!("`{}`", v.shown()),
                        None => "no such label".into(),
                    };
                    bail!(
                        "{template}: service `{}` must carry the label {key}: {value} \
                         (found {found}); regie finds a site's containers by \
                         `regie.site` and recreates them on a config change through \
                         `regie.config-hash`. Add `{{{{ m::common(stack=stack, \
                         component=\"...\", site=site, config_hash=config_hash) }}}}` \
                         to the service (see docs/catalog.md)",
                        name.shown()
                    );
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WANT: Expected = Expected {
        site: "s",
        config_hash: "abc",
    };

    #[test]
    fn both_label_forms_pass() {
        let map =
            "services:\n  app:\n    labels:\n      regie.site: s\n      regie.config-hash: abc\n";
        check(map, "t", &WANT).unwrap();
        let list = "services:\n  app:\n    labels: [\"regie.site=s\", \"regie.config-hash=abc\"]\n";
        check(list, "t", &WANT).unwrap();
    }

    #[test]
    fn a_missing_or_wrong_label_names_template_service_and_label() {
        let none = "services:\n  app:\n    image: x\n  db:\n    labels: {regie.site: s, regie.config-hash: abc}\n";
        let e = check(none, "hello/docker-compose.yml.tera", &WANT)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("hello/docker-compose.yml.tera: service `app` must carry the label regie.site: s (found no such label)"),
            "{e}"
        );
        let stale = "services:\n  app:\n    labels: {regie.site: s, regie.config-hash: old}\n";
        let e = check(stale, "t", &WANT).unwrap_err().to_string();
        assert!(e.contains("regie.config-hash: abc (found `old`)"), "{e}");
        let forged = "services:\n  \"a\\nerror: x\":\n    image: x\n";
        let e = check(forged, "t", &WANT).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn not_a_compose_file() {
        assert!(check("services: [", "t", &WANT).is_err());
        assert!(check("version: '2'\n", "t", &WANT)
            .unwrap_err()
            .to_string()
            .contains("without `services`"));
    }
}

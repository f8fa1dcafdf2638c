//! Every sentence and label of the pages, one table per language, read from
//! `locales/report/*.yml` (compiled in) so they can be edited without Rust.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// Every sentence and label of the pages in one language; the field names
/// are the keys of the YAML files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Text {
    pub(super) doc_title: String,
    pub(super) fleet_title: String,
    pub(super) period: String,
    pub(super) days: (String, String),
    pub(super) label_period: String,
    pub(super) label_generated: String,
    pub(super) label_read: String,
    pub(super) label_state: String,
    pub(super) state_ok: String,
    pub(super) state_attention: String,
    pub(super) state_problem: String,
    pub(super) sentence_ok: String,
    pub(super) sentence_attention: String,
    pub(super) sentence_problem: String,
    pub(super) level_ok: String,
    pub(super) level_warning: String,
    pub(super) level_unknown: String,
    pub(super) level_critical: String,
    pub(super) h_problems: String,
    pub(super) no_problems: String,
    /// A plain headline per finding kind (`{0}`: its subject); the check's
    /// own message follows as the detail.
    pub(super) headlines: BTreeMap<String, String>,
    /// The check's sentence per detail code (`{0}`, `{1}`...: its values),
    /// so that a French page does not show English details.
    pub(super) details: BTreeMap<String, String>,
    pub(super) h_services: String,
    pub(super) col_service: String,
    pub(super) col_address: String,
    pub(super) col_host: String,
    pub(super) col_version: String,
    pub(super) col_newest: String,
    pub(super) col_state: String,
    pub(super) col_uptime: String,
    pub(super) up_to_date: String,
    pub(super) unknown: String,
    pub(super) major_available: String,
    pub(super) svc_up: String,
    pub(super) svc_degraded: String,
    pub(super) svc_down: String,
    pub(super) containers: String,
    pub(super) no_services: String,
    pub(super) h_availability: String,
    pub(super) availability_intro: String,
    pub(super) col_availability: String,
    pub(super) col_readings: String,
    pub(super) col_restarts: String,
    pub(super) col_reachable: String,
    pub(super) readings: (String, String),
    pub(super) not_measured: String,
    pub(super) no_samples: String,
    pub(super) h_backups: String,
    pub(super) backup_caption: String,
    pub(super) chart_added: String,
    pub(super) legend_ok: String,
    pub(super) legend_failed: String,
    pub(super) legend_none: String,
    pub(super) day_ok: String,
    pub(super) day_failed: String,
    pub(super) day_none: String,
    pub(super) col_last_backup: String,
    pub(super) col_result: String,
    pub(super) col_added: String,
    pub(super) col_duration: String,
    pub(super) col_in_period: String,
    pub(super) col_last_success: String,
    pub(super) succeeded_n: (String, String),
    pub(super) failed_n: (String, String),
    pub(super) succeeded: String,
    pub(super) failed: String,
    pub(super) ago: String,
    pub(super) never: String,
    pub(super) h_failures: String,
    pub(super) repo_sizes: String,
    pub(super) no_backups: String,
    pub(super) h_drills: String,
    pub(super) drills_intro: String,
    pub(super) col_time: String,
    pub(super) col_last_drill: String,
    pub(super) col_error: String,
    pub(super) no_drills: String,
    pub(super) h_updates: String,
    pub(super) col_action: String,
    pub(super) col_detail: String,
    pub(super) act_update: String,
    pub(super) act_rollback: String,
    pub(super) act_deploy: String,
    pub(super) act_postgres: String,
    pub(super) no_updates: String,
    pub(super) os_pending: String,
    pub(super) os_counts: String,
    pub(super) reboot_needed: String,
    pub(super) h_disks: String,
    pub(super) disk_caption: String,
    pub(super) col_disk: String,
    pub(super) col_used: String,
    pub(super) col_trend: String,
    pub(super) used_of: String,
    pub(super) trend_points: String,
    pub(super) stable: String,
    pub(super) no_disks: String,
    pub(super) no_disk_history: String,
    pub(super) h_certs: String,
    pub(super) col_expires: String,
    pub(super) col_days_left: String,
    pub(super) col_trusted: String,
    pub(super) yes: String,
    pub(super) no: String,
    pub(super) no_certs: String,
    pub(super) h_about: String,
    pub(super) about: String,
    pub(super) contact: String,
    pub(super) not_read: String,
    pub(super) fleet_intro: String,
    pub(super) col_site: String,
    pub(super) col_problems: String,
    pub(super) col_warnings: String,
    pub(super) col_oldest_backup: String,
    pub(super) col_fullest_disk: String,
    pub(super) col_services_up: String,
    pub(super) col_cert_days: String,
    pub(super) no_sites: String,
    pub(super) fleet_about: String,
}

const FR_YML: &str = include_str!("../../locales/report/fr.yml");
const EN_YML: &str = include_str!("../../locales/report/en.yml");

/// The files are compiled in and the tests below read them: a file that does
/// not load fails the tests, never a report run.
fn load(name: &str, yaml: &str) -> Text {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("locales/report/{name}: {e}"))
}

/// The French texts, read once.
pub(super) fn fr() -> &'static Text {
    static TEXT: OnceLock<Text> = OnceLock::new();
    TEXT.get_or_init(|| load("fr.yml", FR_YML))
}

/// The English texts, read once.
pub(super) fn en() -> &'static Text {
    static TEXT: OnceLock<Text> = OnceLock::new();
    TEXT.get_or_init(|| load("en.yml", EN_YML))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_yaml::Value;

    use super::*;

    #[test]
    fn both_languages_load() {
        assert_eq!(fr().doc_title, "Rapport de fonctionnement");
        assert_eq!(en().doc_title, "Service report");
        let kinds = |t: &Text| t.headlines.keys().cloned().collect::<Vec<_>>();
        assert_eq!(kinds(fr()), kinds(en()));
        let codes = |t: &Text| t.details.keys().cloned().collect::<Vec<_>>();
        assert_eq!(codes(fr()), codes(en()));
    }

    /// The `{0}`, `{1}`... of a text, as `fill` reads them.
    fn placeholders(text: &str) -> BTreeSet<usize> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}')?.0.parse().ok())
            .collect()
    }

    /// Walk both files side by side: same keys, same placeholders in each text.
    fn compare(path: &str, fr: &Value, en: &Value, errors: &mut Vec<String>) {
        match (fr, en) {
            (Value::Mapping(f), Value::Mapping(e)) => {
                let keys = |m: &serde_yaml::Mapping| {
                    m.keys()
                        .map(|k| k.as_str().unwrap_or("?").to_string())
                        .collect::<BTreeSet<_>>()
                };
                if keys(f) != keys(e) {
                    errors.push(format!(
                        "{path}: keys differ: {:?} / {:?}",
                        keys(f).difference(&keys(e)).collect::<Vec<_>>(),
                        keys(e).difference(&keys(f)).collect::<Vec<_>>()
                    ));
                }
                for (k, fv) in f {
                    if let Some(ev) = e.get(k) {
                        let key = k.as_str().unwrap_or("?");
                        compare(&format!("{path}{key}."), fv, ev, errors);
                    }
                }
            }
            (Value::Sequence(f), Value::Sequence(e)) if f.len() == e.len() => {
                for (i, (fv, ev)) in f.iter().zip(e).enumerate() {
                    compare(&format!("{path}{i}."), fv, ev, errors);
                }
            }
            (Value::String(f), Value::String(e)) => {
                if placeholders(f) != placeholders(e) {
                    errors.push(format!("{path} {f:?} / {e:?}: placeholders differ"));
                }
            }
            _ => errors.push(format!("{path}: not the same shape in fr.yml and en.yml")),
        }
    }

    #[test]
    fn french_and_english_texts_have_the_same_placeholders() {
        let fr: Value = serde_yaml::from_str(FR_YML).unwrap();
        let en: Value = serde_yaml::from_str(EN_YML).unwrap();
        let mut errors = Vec::new();
        compare("", &fr, &en, &mut errors);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        assert_eq!(
            placeholders("{0} : {1}, {x} {12}"),
            BTreeSet::from([0, 1, 12])
        );
    }
}

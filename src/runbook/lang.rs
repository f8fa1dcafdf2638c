//! The run book's wording, per language: every sentence, label and template
//! (with `{name}` placeholders, see [`fill`](super::document::fill)), so that
//! the section builders hold no prose. The text itself is in
//! `locales/runbook/fr.yml` and `en.yml` at the top of the repository, where
//! a translator or a sysadmin can edit it without reading Rust; it is
//! compiled into the binary and read once per language.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::site::inventory::Locale;

/// The wording of one language; the keys of its message file are the field
/// names, every one required, no other accepted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lang {
    pub title: String,
    pub toc: String,
    pub none: String,
    pub yes: String,
    pub no: String,
    pub days: [String; 7],
    pub every_day: String,
    pub and: String,
    pub list_sep: String,
    pub window: String,
    pub mb: String,
    pub gb: String,
    // Cover.
    pub colon: String,
    pub cover_site: String,
    pub cover_domain: String,
    pub cover_contact: String,
    pub cover_notify: String,
    pub cover_timezone: String,
    pub cover_inventory: String,
    pub cover_generated: String,
    pub generated_value: String,
    pub cover_intro: String,
    pub cover_reversible: String,
    // Section titles.
    pub s_hosts: String,
    pub s_services: String,
    pub s_data: String,
    pub s_backup: String,
    pub s_restore: String,
    pub s_without: String,
    pub s_updates: String,
    pub s_dns: String,
    pub s_contacts: String,
    // Hosts.
    pub hosts_intro: String,
    pub hosts_head: [String; 8],
    pub role_server: String,
    pub role_nas: String,
    pub role_sbc: String,
    pub public: String,
    pub ssh_jump: String,
    pub repo_sftp: String,
    pub repo_local: String,
    // Services.
    pub services_intro: String,
    pub services_head: [String; 5],
    pub svc_project: String,
    pub svc_url: String,
    pub svc_version: String,
    pub svc_ports: String,
    pub svc_no_ports: String,
    pub svc_automatic: String,
    pub svc_images_pull: String,
    pub svc_images_push_engine: String,
    pub svc_images_push_layout: String,
    pub tls_acme: String,
    pub tls_internal: String,
    pub images_head: [String; 2],
    // Data.
    pub data_intro: String,
    pub data_secret: String,
    pub data_manifest: String,
    pub data_backup_dir: String,
    pub data_nas_key: String,
    pub volumes_head: [String; 4],
    pub vol_files: String,
    pub vol_dump: String,
    pub data_db: String,
    pub data_secret_files: String,
    // Backups.
    pub no_backup: String,
    pub policy_head: [String; 2],
    pub p_to: String,
    pub to_sftp: String,
    pub to_local: String,
    pub p_at: String,
    pub at_value: String,
    pub p_keep: String,
    pub keep: [String; 4],
    pub p_services: String,
    pub p_image: String,
    pub p_drills: String,
    pub p_offsite: String,
    pub offsite_value: String,
    pub drills_every: String,
    pub drills_off: String,
    pub repos_head: [String; 3],
    pub backup_password: String,
    pub backup_nas_key: String,
    pub backup_nas_key_append_only: String,
    pub backup_offsite: String,
    pub backup_schedule: String,
    pub backup_capture: String,
    pub capture_layout: String,
    pub backup_check: String,
    pub check_comments: [String; 4],
    // Restore.
    pub restore_intro: String,
    pub h_with_regie: String,
    pub with_regie_comments: [String; 3],
    pub with_regie_after: String,
    pub h_with_script: String,
    pub with_script: String,
    pub h_with_restic: String,
    pub with_restic: String,
    pub restic_sftp_comment: String,
    pub restic_rclone_comment: String,
    pub restic_on_nas: String,
    pub restic_compose_note: String,
    pub capture_placeholder: String,
    pub st_choose: String,
    pub st_fetch: String,
    pub st_stop: String,
    pub st_volumes: String,
    pub st_dir: String,
    pub st_db: String,
    pub st_start: String,
    pub st_after: String,
    pub st_clean: String,
    pub h_offsite: String,
    pub offsite_intro: String,
    pub offsite_regie_comments: [String; 2],
    pub offsite_script: String,
    pub offsite_restic: String,
    pub offsite_rclone_comment: String,
    pub offsite_on_server: String,
    pub offsite_pw_comment: String,
    pub h_new_machine: String,
    pub new_machine_nas: String,
    pub new_machine: String,
    // Without regie.
    pub without_intro: String,
    pub h_compose: String,
    pub compose_head: [String; 4],
    pub proxy_first: String,
    pub h_commands: String,
    pub start_all: String,
    pub ops_comments: [String; 6],
    pub compose_versions: String,
    pub h_backup_script: String,
    pub backup_script: String,
    pub script_comments: [String; 5],
    pub h_offsite_without: String,
    pub offsite_without: String,
    pub offsite_without_after: String,
    pub h_stop: String,
    pub stop_intro: String,
    pub stop_cron: String,
    pub stop_maintain: String,
    pub h_secrets: String,
    pub secrets_file: String,
    pub secrets_key: String,
    pub secrets_hosts: String,
    pub secrets_here: String,
    pub h_handover: String,
    pub handover_intro: String,
    pub handover_inventory: String,
    pub handover_secrets: String,
    pub handover_key: String,
    pub handover_known_hosts: String,
    pub handover_catalog: String,
    pub handover_runbook: String,
    pub handover_access: String,
    pub handover_nothing_else: String,
    pub handover_after: String,
    pub revoke: [String; 3],
    // Updates.
    pub updates_window: String,
    pub updates_no_window: String,
    pub auto_on: String,
    pub auto_off: String,
    pub updates_head: [String; 4],
    pub policy_same_major: String,
    pub policy_one_major: String,
    pub policy_esr: String,
    pub policy_rolling: String,
    pub policy_release_tags: String,
    pub updates_comments: [String; 3],
    pub updates_by_hand: String,
    // DNS.
    pub dns_intro: String,
    pub dns_mail: String,
    pub dns_lan: String,
    pub dns_head: [String; 5],
    pub dns_zone: String,
    pub dns_none: String,
    // Contacts.
    pub contacts_head: [String; 2],
    pub c_client: String,
    pub c_notify: String,
    pub c_no_notify: String,
    pub c_webhook: String,
    pub c_webhook_set: String,
    pub c_smtp: String,
    pub c_smtp_user: String,
    pub c_acme: String,
    pub c_window: String,
    pub escalation_notify: String,
    pub escalation_silent: String,
    pub escalation_window: String,
}

const FR_YML: &str = include_str!("../../locales/runbook/fr.yml");
const EN_YML: &str = include_str!("../../locales/runbook/en.yml");

/// A message file, read into a [`Lang`]; it is part of the binary, so an
/// error is a bug caught by the tests below.
fn load(file: &str, text: &str) -> Lang {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("locales/runbook/{file}: {e}"))
}

pub fn lang(locale: Locale) -> &'static Lang {
    static FR: OnceLock<Lang> = OnceLock::new();
    static EN: OnceLock<Lang> = OnceLock::new();
    match locale {
        Locale::Fr => FR.get_or_init(|| load("fr.yml", FR_YML)),
        Locale::En => EN.get_or_init(|| load("en.yml", EN_YML)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[test]
    fn both_message_files_load() {
        // Every key present, none unknown, lists of the right length.
        assert_eq!(load("fr.yml", FR_YML).title, "Dossier d'exploitation");
        assert_eq!(load("en.yml", EN_YML).title, "Run book");
        assert!(std::ptr::eq(lang(Locale::Fr), lang(Locale::Fr)));
    }

    /// The `{name}` placeholders of one text.
    fn names(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            rest = &rest[i + 1..];
            if let Some(j) = rest.find('}') {
                let name = &rest[..j];
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    out.insert(name.to_string());
                }
            }
        }
        out
    }

    /// The placeholders of every text of a message file, by key (`key[i]`
    /// for an item of a list).
    fn placeholders(file: &str) -> BTreeMap<String, BTreeSet<String>> {
        let map: BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(file).unwrap();
        let mut out = BTreeMap::new();
        for (key, value) in map {
            match value {
                serde_yaml::Value::String(s) => {
                    out.insert(key, names(&s));
                }
                serde_yaml::Value::Sequence(items) => {
                    for (i, item) in items.iter().enumerate() {
                        out.insert(format!("{key}[{i}]"), names(item.as_str().unwrap()));
                    }
                }
                other => panic!("{key}: not a text or a list of texts: {other:?}"),
            }
        }
        out
    }

    #[test]
    fn both_languages_use_the_same_placeholders() {
        assert_eq!(
            names("{n}\u{a0}Mo, {a_b} {} {x y} `{c}`"),
            ["a_b", "c", "n"].map(String::from).into()
        );
        let fr = placeholders(FR_YML);
        let en = placeholders(EN_YML);
        assert_eq!(fr.keys().collect::<Vec<_>>(), en.keys().collect::<Vec<_>>());
        for (key, names) in &fr {
            assert_eq!(
                names, &en[key],
                "{key}: fr.yml and en.yml differ in placeholders"
            );
        }
        assert!(fr.values().any(|n| !n.is_empty()));
    }
}

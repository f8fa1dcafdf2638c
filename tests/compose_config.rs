//! Every rendered compose file passes the real compose CLI's `config -q`,
//! and hostile inventory values reach the containers' environment verbatim
//! without injecting keys.

mod common;

use std::process::Command as Std;

use common::*;

#[test]
fn every_rendered_compose_file_passes_compose_config() {
    let clis = compose_clis();
    let mut checked = 0;
    for ex in EXAMPLES {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        render_example(ex, &out);
        for dir in compose_dirs(&out) {
            for cli in &clis {
                let o = Std::new(&cli[0])
                    .args(&cli[1..])
                    .args(["-p", "regie-config-test", "config", "-q"])
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&o.stderr);
                assert!(
                    o.status.success(),
                    "{ex}: {} fails `{} config`: {stderr}",
                    dir.display(),
                    cli.join(" ")
                );
                // Compose v2 warns on stderr (e.g. "the attribute `version`
                // is obsolete"): a rendered file draws no warning at all.
                assert!(
                    stderr.trim().is_empty(),
                    "{ex}: `{} config` warns on {}: {stderr}",
                    cli.join(" "),
                    dir.display()
                );
            }
            checked += 1;
        }
    }
    // 4 stacks for the small business, 8 for the town hall, 3 for the association.
    assert_eq!(checked, 15);
}

// At most 30 bytes: Mattermost's site name is cut there (max_bytes).
const HOSTILE_NAME: &str = "d'A \"$HOME\" #1: {evil} ${X}\\n";

#[test]
fn hostile_values_cannot_inject_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("site.yml");
    let yaml_name = serde_json::to_string(HOSTILE_NAME).unwrap();
    std::fs::write(
        &inv,
        format!(
            "site: {{ name: hostile, display_name: {yaml_name}, domain: hostile.fr, contact: a@hostile.fr }}\n\
             hosts:\n  srv1: {{ role: server, address: 192.0.2.1, public: true }}\n\
             services:\n  chat: {{ host: srv1 }}\n  mail: {{ host: srv1 }}\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    regie()
        .env("REGIE_PASSPHRASE", "a passphrase for the test")
        .args(["render", "-i"])
        .arg(&inv)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert!(HOSTILE_NAME.len() <= 30);
    let compose = std::fs::read_to_string(out.join("srv1/chat/docker-compose.yml")).unwrap();
    // Parsed as YAML, the value is one string and no extra key appears.
    let doc: serde_yaml::Value = serde_yaml::from_str(&compose).unwrap();
    let env = &doc["services"]["app"]["environment"];
    assert_eq!(env.as_mapping().unwrap().len(), 1);
    assert_eq!(
        env["MM_TEAMSETTINGS_SITENAME"].as_str().unwrap(),
        HOSTILE_NAME.replace('$', "$$")
    );
    // The real compose CLI reads it without interpolating anything: its
    // normalised output keeps the `$$` escapes (a literal `$` in the
    // container) and it warns about no unset variable.
    let cli = compose_cli();
    let o = Std::new(&cli[0])
        .args(&cli[1..])
        .args(["-p", "hostile", "config"])
        .current_dir(out.join("srv1/chat"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let resolved: serde_yaml::Value = serde_yaml::from_slice(&o.stdout).unwrap();
    assert_eq!(
        resolved["services"]["app"]["environment"]["MM_TEAMSETTINGS_SITENAME"]
            .as_str()
            .unwrap(),
        HOSTILE_NAME.replace('$', "$$")
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains("not set"),
        "compose interpolated something: {stderr}"
    );
    // The Roundcube PHP file gets a single-quoted literal.
    let php = std::fs::read_to_string(out.join("srv1/mail/webmail/regie.php")).unwrap();
    assert!(
        php.contains(r#"$config['product_name'] = 'd\'A "$HOME" #1: {evil} ${X}\\n';"#),
        "{php}"
    );
}

#[test]
fn a_value_an_env_file_cannot_hold_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("site.yml");
    // `$` in a Nextcloud admin name would be expanded by compose v2 in an env file.
    std::fs::write(
        &inv,
        "site: { name: envtest, domain: envtest.fr, contact: a@envtest.fr }\n\
         hosts:\n  srv1: { role: server, address: 192.0.2.1 }\n\
         services:\n  files: { host: srv1, settings: { admin_user: \"adm$n\" } }\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = regie()
        .env("REGIE_PASSPHRASE", "a passphrase for the test")
        .args(["render", "-i"])
        .arg(&inv)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    // Refused as an inventory mistake (exit 2), with its position.
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("site.yml:5:")
            && err.contains("services.files.settings.admin_user")
            && err.contains("files/app.env.tera")
            && err.contains("env file"),
        "{err}"
    );
    assert!(!out.exists());
    assert!(!tmp.path().join("site.secrets.age").exists());
}

//! The mail stack as rendered for the example sites: what the other mail
//! files and stacks must agree on. Webmail's fixed address is the one
//! fail2ban ignores; the mail server sees only its own certificate; chat
//! and files log in with a mailbox that exists and send as that mailbox;
//! every mail domain has its postmaster and abuse addresses; the drill
//! copy cannot send mail.

mod common;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use common::*;
use serde_yaml::Value;

fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(
        files
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing"))
            .clone(),
    )
    .unwrap()
}

fn env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The example sites with a mail service, rendered.
fn mail_sites() -> Vec<(&'static str, BTreeMap<String, Vec<u8>>)> {
    let tmp = tempfile::tempdir().unwrap();
    let v: Vec<_> = ["mairie-techniville", "cabinet-durand"]
        .into_iter()
        .map(|ex| (ex, render_example(ex, &tmp.path().join(ex))))
        .collect();
    assert!(v
        .iter()
        .all(|(_, f)| f.contains_key("srv1/mail/docker-compose.yml")));
    v
}

fn ipv4_in(ip: Ipv4Addr, cidr: &str) -> bool {
    let (net, len) = cidr.split_once('/').unwrap();
    let net: Ipv4Addr = net.parse().unwrap();
    let mask = u32::MAX << (32 - len.parse::<u32>().unwrap());
    u32::from(ip) & mask == u32::from(net) & mask
}

#[test]
fn the_mail_server_mounts_only_its_own_certificate() {
    for (ex, files) in mail_sites() {
        let c: Value = serde_yaml::from_str(&text(&files, "srv1/mail/docker-compose.yml")).unwrap();
        let proxy_volume = format!("{ex}_proxy_data");
        // The compose key of the proxy's volume, if the file declares it.
        let caddy_keys: Vec<String> = c["volumes"]
            .as_mapping()
            .unwrap()
            .iter()
            .filter(|(_, v)| v["name"].as_str() == Some(proxy_volume.as_str()))
            .map(|(k, _)| k.as_str().unwrap().to_string())
            .collect();
        for (name, svc) in c["services"].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            for m in svc["volumes"].as_sequence().into_iter().flatten() {
                let m = m.as_str().unwrap();
                let source = m.split(':').next().unwrap();
                if caddy_keys.iter().any(|k| k == source) || source == proxy_volume {
                    assert_eq!(name, "certs", "{ex}: {name} mounts the proxy's data");
                    assert!(m.ends_with(":ro"), "{ex}: {m}");
                    assert_eq!(svc["network_mode"].as_str(), Some("none"), "{ex}");
                }
            }
        }
        let env = env(&text(&files, "srv1/mail/mailserver.env"));
        let mounts: Vec<&str> = c["services"]["mailserver"]["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(mounts.contains(&"certs:/tls:ro"), "{ex}: {mounts:?}");
        for k in ["SSL_CERT_PATH", "SSL_KEY_PATH"] {
            assert!(env[k].starts_with("/tls/"), "{ex}: {k}={}", env[k]);
        }
        assert!(
            !env.contains_key("ONE_DIR"),
            "{ex}: ONE_DIR is gone upstream"
        );
        // Webmail is created even while the mail server is not healthy.
        let dep = &c["services"]["webmail"]["depends_on"];
        assert!(
            !serde_yaml::to_string(dep)
                .unwrap()
                .contains("service_healthy"),
            "{ex}: {dep:?}"
        );
    }
}

#[test]
fn fail2ban_ignores_webmail_and_only_webmail() {
    for (ex, files) in mail_sites() {
        let c: Value = serde_yaml::from_str(&text(&files, "srv1/mail/docker-compose.yml")).unwrap();
        let ipam = &c["networks"]["backend"]["ipam"]["config"][0];
        let subnet = ipam["subnet"].as_str().unwrap();
        let gateway: Ipv4Addr = ipam["gateway"].as_str().unwrap().parse().unwrap();
        let range = ipam["ip_range"].as_str().unwrap();
        let webmail: Ipv4Addr = c["services"]["webmail"]["networks"]["backend"]["ipv4_address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(ipv4_in(webmail, subnet), "{ex}");
        // Docker never hands webmail's address to another container.
        assert!(!ipv4_in(webmail, range) && ipv4_in(webmail, subnet), "{ex}");
        let jail = text(&files, "srv1/mail/config/fail2ban-jail.cf");
        assert!(jail.contains("[DEFAULT]"), "{jail}");
        let ignore: Vec<&str> = jail
            .lines()
            .find_map(|l| l.strip_prefix("ignoreip = "))
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(ignore, ["127.0.0.1/8", &format!("{webmail}/32")], "{ex}");
        // Clients relayed by Docker's port proxy come from the gateway:
        // they can still be banned.
        assert!(ignore.iter().all(|i| !ipv4_in(gateway, i)), "{ex}");
        let env = env(&text(&files, "srv1/mail/mailserver.env"));
        assert_eq!(env["ENABLE_FAIL2BAN"], "1");
    }
}

#[test]
fn chat_and_files_log_in_with_a_mailbox_and_send_as_it() {
    for (ex, files) in mail_sites() {
        let accounts: BTreeMap<String, String> =
            text(&files, "srv1/mail/config/postfix-accounts.cf")
                .lines()
                .filter_map(|l| l.split_once('|'))
                .map(|(a, h)| {
                    (
                        a.to_string(),
                        h.trim_start_matches("{SHA512-CRYPT}").to_string(),
                    )
                })
                .collect();
        let mut checked = 0;
        if let Some(chat) = files.get("srv1/chat/app.env") {
            let e = env(&String::from_utf8(chat.clone()).unwrap());
            assert_eq!(e["MM_EMAILSETTINGS_ENABLESMTPAUTH"], "true");
            let login = &e["MM_EMAILSETTINGS_SMTPUSERNAME"];
            assert_eq!(
                &e["MM_EMAILSETTINGS_FEEDBACKEMAIL"], login,
                "{ex}: spoof protection"
            );
            let hash = accounts
                .get(login)
                .unwrap_or_else(|| panic!("{ex}: {login} is no account"));
            assert!(sha_crypt::sha512_check(&e["MM_EMAILSETTINGS_SMTPPASSWORD"], hash).is_ok());
            checked += 1;
        }
        let e = env(&text(&files, "srv1/files/app.env"));
        let login = &e["SMTP_NAME"];
        assert_eq!(
            &format!("{}@{}", e["MAIL_FROM_ADDRESS"], e["MAIL_DOMAIN"]),
            login,
            "{ex}: spoof protection"
        );
        let hash = accounts
            .get(login)
            .unwrap_or_else(|| panic!("{ex}: {login} is no account"));
        assert!(sha_crypt::sha512_check(&e["SMTP_PASSWORD"], hash).is_ok());
        checked += 1;
        assert_eq!(checked, if ex == "mairie-techniville" { 2 } else { 1 });
    }
}

#[test]
fn every_mail_domain_has_postmaster_and_abuse() {
    for (ex, files) in mail_sites() {
        let inv: Value = serde_yaml::from_str(
            &std::fs::read_to_string(format!("inventories/{ex}.yml")).unwrap(),
        )
        .unwrap();
        let mail = &inv["services"]["mail"]["settings"];
        let mut domains: Vec<String> = mail["domains"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        if domains.is_empty() {
            domains.push(inv["site"]["domain"].as_str().unwrap().to_string());
        }
        let mut known: Vec<String> = text(&files, "srv1/mail/config/postfix-accounts.cf")
            .lines()
            .filter_map(|l| l.split_once('|').map(|(a, _)| a.to_string()))
            .collect();
        known.extend(
            text(&files, "srv1/mail/config/postfix-virtual.cf")
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_whitespace().next().map(String::from)),
        );
        for d in &domains {
            for l in ["postmaster", "abuse"] {
                assert!(known.contains(&format!("{l}@{d}")), "{ex}: {l}@{d} missing");
            }
        }
        let env = env(&text(&files, "srv1/mail/mailserver.env"));
        assert!(known.contains(&env["POSTMASTER_ADDRESS"]), "{ex}");
    }
}

#[test]
fn webmail_keeps_its_key_and_takes_large_attachments() {
    for (ex, files) in mail_sites() {
        let e = env(&text(&files, "srv1/mail/webmail.env"));
        let key = &e["ROUNDCUBEMAIL_DES_KEY"];
        assert_eq!(
            key.len(),
            24,
            "{ex}: Roundcube's cipher needs 24 characters"
        );
        let c: Value = serde_yaml::from_str(&text(&files, "srv1/mail/docker-compose.yml")).unwrap();
        let w = &c["services"]["webmail"];
        assert_eq!(w["env_file"][0].as_str(), Some("webmail.env"));
        assert_eq!(
            w["environment"]["ROUNDCUBEMAIL_UPLOAD_MAX_FILESIZE"].as_str(),
            Some("25M")
        );
        // The mail server accepts the encoded message.
        let limit: u64 = env(&text(&files, "srv1/mail/mailserver.env"))
            ["POSTFIX_MESSAGE_SIZE_LIMIT"]
            .parse()
            .unwrap();
        assert!(limit >= 25 * 1024 * 1024 * 4 / 3, "{ex}: {limit}");
        let manifest: serde_json::Value =
            serde_json::from_slice(&files["srv1/manifest.json"]).unwrap();
        let f = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "mail/webmail.env")
            .unwrap();
        assert_eq!(f["mode"], 0o600);
    }
}

#[test]
fn the_mail_drill_cannot_reach_out() {
    for (ex, files) in mail_sites() {
        let d: Value =
            serde_yaml::from_str(&text(&files, "srv1/.regie/backup/drill/mail.yml")).unwrap();
        let nets = d["networks"].as_mapping().unwrap();
        assert!(!nets.is_empty());
        for (k, v) in nets {
            assert_eq!(v["internal"].as_bool(), Some(true), "{ex}: network {k:?}");
            assert!(v.get("ipam").is_none(), "{ex}: fixed subnet in the drill");
        }
        for (name, svc) in d["services"].as_mapping().unwrap() {
            assert!(
                svc.get("networks").is_some() || svc["network_mode"].as_str() == Some("none"),
                "{ex}: {name:?} would be on the default network"
            );
        }
    }
}

/// The `certs` container's script, run for real (busybox sh, as POSIX as
/// the image's dash): it finds the certificate under any issuer's
/// directory, copies it with its key, and copies a renewal.
#[test]
fn the_certs_script_copies_the_certificate_from_any_issuer() {
    use std::process::Command;
    let tmp = tempfile::tempdir().unwrap();
    let files = render_example("cabinet-durand", &tmp.path().join("out"));
    let c: Value = serde_yaml::from_str(&text(&files, "srv1/mail/docker-compose.yml")).unwrap();
    let certs = &c["services"]["certs"];
    let host = certs["environment"]["MAIL_HOST"].as_str().unwrap();
    // Compose turns `$$` into `$`.
    let script = certs["command"][2].as_str().unwrap().replace("$$", "$");
    // The loop's pause, shortened for the test.
    let script = script.replace("sleep 60", "sleep 1");
    let caddy = tmp.path().join("caddy");
    let tls = tmp.path().join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let put = |issuer: &str, body: &str| {
        let d = caddy.join(format!("caddy/certificates/{issuer}/{host}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{host}.key")), format!("key {body}")).unwrap();
        std::fs::write(d.join(format!("{host}.crt")), format!("crt {body}")).unwrap();
    };
    // Another site's certificate is never copied.
    let other = caddy.join("caddy/certificates/acme-v02.api.letsencrypt.org-directory/wiki.x.fr");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("wiki.x.fr.crt"), "other").unwrap();
    put("acme.zerossl.com-v2-dv90", "zerossl");
    let name = format!("regie-certs-test-{}", std::process::id());
    let run = Command::new("docker")
        .args(["run", "-d", "--rm", "--name", &name, "--network", "none"])
        .args(["-e", &format!("MAIL_HOST={host}")])
        .arg("-v")
        .arg(format!("{}:/caddy:ro", caddy.display()))
        .arg("-v")
        .arg(format!("{}:/tls", tls.display()))
        .args(["regie-busybox:1", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let wait_for = |want: &str| {
        for _ in 0..50 {
            if std::fs::read_to_string(tls.join("cert.pem"))
                .ok()
                .as_deref()
                == Some(want)
            {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        false
    };
    let first = wait_for("crt zerossl");
    // A renewal by another issuer, newer: copied too.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    put("acme-v02.api.letsencrypt.org-directory", "letsencrypt");
    let renewed = wait_for("crt letsencrypt");
    let logs = Command::new("docker")
        .args(["logs", &name])
        .output()
        .unwrap();
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    let logs =
        String::from_utf8_lossy(&logs.stdout).to_string() + &String::from_utf8_lossy(&logs.stderr);
    assert!(first, "first certificate not copied: {logs}");
    assert!(renewed, "renewal not copied: {logs}");
    assert_eq!(
        std::fs::read_to_string(tls.join("key.pem")).unwrap(),
        "key letsencrypt"
    );
    let names: Vec<_> = std::fs::read_dir(&tls)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

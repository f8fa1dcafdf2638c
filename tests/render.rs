//! Rendering of the example inventories: snapshots of every file,
//! determinism, modes, manifests.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

#[test]
fn snapshots_of_every_rendered_file() {
    for ex in EXAMPLES {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let files = render_example(ex, &out);
        assert!(files.len() > 5, "{ex}: only {} files", files.len());
        for (path, bytes) in files {
            let name = format!("{ex}__{}", path.replace('/', "__"));
            let text = String::from_utf8(bytes).expect("rendered files are UTF-8");
            insta::assert_snapshot!(name, text);
        }
    }
}

#[test]
fn rendering_twice_is_byte_identical_and_keeps_secrets() {
    for ex in EXAMPLES {
        let secrets = format!("inventories/{ex}.secrets.age");
        let before = std::fs::read(&secrets).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let a = render_example(ex, &tmp.path().join("a"));
        let b = render_example(ex, &tmp.path().join("b"));
        assert_eq!(a, b, "{ex}: two renders differ");
        // Re-rendering into the same directory replaces it with the same bytes.
        let again = render_example(ex, &tmp.path().join("a"));
        assert_eq!(a, again);
        assert_eq!(
            std::fs::read(&secrets).unwrap(),
            before,
            "{ex}: secrets file rewritten with no new secret"
        );
    }
}

#[test]
fn modes_and_manifest_hashes() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let files = render_example("mairie-techniville", &out);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for host in ["srv1", "srv2"] {
        let manifest: serde_json::Value =
            serde_json::from_slice(&files[&format!("{host}/manifest.json")]).unwrap();
        assert_eq!(manifest["host"], host);
        let listed = manifest["files"].as_array().unwrap();
        let on_disk = files
            .keys()
            .filter(|k| k.starts_with(&format!("{host}/")) && !k.ends_with("manifest.json"));
        assert_eq!(listed.len(), on_disk.count(), "manifest lists every file");
        for f in listed {
            let rel = format!("{host}/{}", f["path"].as_str().unwrap());
            let bytes = &files[&rel];
            assert_eq!(
                f["sha256"].as_str().unwrap(),
                hex(&sha2::Sha256::digest(bytes)),
                "{rel}"
            );
            let mode = std::fs::metadata(out.join(&rel))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            let secret = f["secret"].as_bool().unwrap();
            let want = if secret {
                0o600
            } else if rel.ends_with("/regie-backup") {
                0o700
            } else {
                0o644
            };
            assert_eq!(mode, want, "{rel}");
            assert_eq!(f["mode"].as_u64().unwrap() as u32, mode);
        }
    }
    // Env files holding passwords are secret.
    for secret in [
        "srv1/chat/app.env",
        "srv1/chat/db.env",
        "srv1/files/app.env",
        "srv2/visio/jicofo.env",
        "srv2/visio/jvb.env",
        "srv2/proxy/proxy.env",
        "srv1/mail/config/postfix-accounts.cf",
    ] {
        let mode = std::fs::metadata(out.join(secret))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{secret}");
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn town_hall_places_all_six_services_and_a_proxy_per_host() {
    let tmp = tempfile::tempdir().unwrap();
    let files = render_example("mairie-techniville", &tmp.path().join("out"));
    for stack in [
        "srv1/proxy",
        "srv1/mail",
        "srv1/chat",
        "srv1/wiki",
        "srv1/files",
        "srv2/proxy",
        "srv2/visio",
        "srv2/share",
    ] {
        assert!(
            files.contains_key(&format!("{stack}/docker-compose.yml")),
            "{stack} missing"
        );
    }
    let caddy = String::from_utf8(files["srv1/proxy/config/Caddyfile"].clone()).unwrap();
    for h in [
        "mail.techniville.fr",
        "chat.techniville.fr",
        "intranet.techniville.fr",
        "cloud.techniville.fr",
    ] {
        assert!(
            caddy.contains(&format!("\n{h} {{")) || caddy.contains(&format!("\n{h}, ")),
            "{h} not proxied"
        );
    }
    assert!(!caddy.contains("tls internal"), "public host must use ACME");
    // Nextcloud's extra trusted domain is served too.
    assert!(caddy.contains("cloud.techniville.fr, fichiers.techniville.fr {"));
    // The LAN-only association gets the internal CA.
    let lan = render_example("asso-lan", &tmp.path().join("lan"));
    let caddy = String::from_utf8(lan["pi/proxy/config/Caddyfile"].clone()).unwrap();
    assert!(caddy.contains("tls internal"));
}

#[test]
fn a_long_accented_site_name_is_cut_to_mattermosts_30_bytes() {
    // Mattermost refuses a site name over 30 bytes; the name counts in
    // bytes, so "é" counts twice and must not be cut in half.
    let tmp = tempfile::tempdir().unwrap();
    for f in ["mairie-techniville.secrets.age", "example-identity.txt"] {
        std::fs::copy(format!("inventories/{f}"), tmp.path().join(f)).unwrap();
    }
    let src = std::fs::read_to_string("inventories/mairie-techniville.yml").unwrap();
    let long = "Communauté de communes de Fréjus";
    let changed = src.replacen(
        "display_name: Mairie de Techniville",
        &format!("display_name: {long}"),
        1,
    );
    assert_ne!(changed, src);
    let inv = tmp.path().join("mairie-techniville.yml");
    std::fs::write(&inv, changed).unwrap();
    let out = tmp.path().join("out");
    regie()
        .args(["render", "-i"])
        .arg(&inv)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let compose = std::fs::read_to_string(out.join("srv1/chat/docker-compose.yml")).unwrap();
    let line = compose
        .lines()
        .find(|l| l.contains("MM_TEAMSETTINGS_SITENAME"))
        .unwrap();
    // The 30th byte falls inside the "é" of "Fréjus": it is left out whole.
    assert_eq!(
        line.trim(),
        r#"MM_TEAMSETTINGS_SITENAME: "Communauté de communes de Fr""#,
        "{line}"
    );
    let short = "Mairie de Techniville";
    assert!(long.len() > 30 && short.len() <= 30);
}

#[test]
fn a_digest_pinned_postgres_is_mounted_by_the_major_of_its_tag() {
    // PostgreSQL 18 keeps its data one level up (/var/lib/postgresql); the
    // major comes from the tag, also when a digest follows it.
    let tmp = tempfile::tempdir().unwrap();
    for f in ["mairie-techniville.secrets.age", "example-identity.txt"] {
        std::fs::copy(format!("inventories/{f}"), tmp.path().join(f)).unwrap();
    }
    let src = std::fs::read_to_string("inventories/mairie-techniville.yml").unwrap();
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let pin =
        |from: &str, img: &str| format!("{from}\n    images: {{ postgres: \"{img}@{digest}\" }}");
    let changed = src
        .replacen(
            "  chat:\n    host: srv1",
            &pin("  chat:\n    host: srv1", "postgres:17-alpine"),
            1,
        )
        .replacen(
            "    hostname: cloud.techniville.fr",
            &pin("    hostname: cloud.techniville.fr", "postgres:18-alpine"),
            1,
        );
    assert_eq!(changed.matches(&digest).count(), 2);
    let inv = tmp.path().join("mairie-techniville.yml");
    std::fs::write(&inv, &changed).unwrap();
    let render = |out: &std::path::Path| {
        regie()
            .env("NO_COLOR", "1")
            .args(["render", "-i"])
            .arg(&inv)
            .arg("-o")
            .arg(out)
            .assert()
    };
    let out = tmp.path().join("out");
    render(&out).success();
    let mount = |stack: &str| {
        let c =
            std::fs::read_to_string(out.join(format!("srv1/{stack}/docker-compose.yml"))).unwrap();
        let image = c.lines().find(|l| l.contains(&digest)).unwrap().to_string();
        let m = c.lines().find(|l| l.trim().starts_with("- db:")).unwrap();
        (image.trim().to_string(), m.trim().to_string())
    };
    assert_eq!(
        mount("files"),
        (
            format!("image: \"postgres:18-alpine@{digest}\""),
            "- db:/var/lib/postgresql".to_string()
        )
    );
    assert_eq!(
        mount("chat"),
        (
            format!("image: \"postgres:17-alpine@{digest}\""),
            "- db:/var/lib/postgresql/data".to_string()
        )
    );

    // A digest alone does not say the major: refused, nothing written.
    std::fs::write(
        &inv,
        changed.replace(
            &format!("postgres:18-alpine@{digest}"),
            &format!("postgres@{digest}"),
        ),
    )
    .unwrap();
    let out2 = tmp.path().join("out2");
    render(&out2).code(2).stderr(predicates::str::contains(format!(
        "services.files.images.postgres: image `postgres@{digest}` of component `postgres` does not name its PostgreSQL major"
    )));
    assert!(!out2.exists());
}

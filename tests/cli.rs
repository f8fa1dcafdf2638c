//! The command line as a sysadmin uses it: catalog, secrets, completions,
//! output directory safety, overrides.

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn catalog_lists_all_stacks_with_versions() {
    let out = regie()
        .arg("catalog")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for s in ["chat", "files", "mail", "proxy", "share", "visio", "wiki"] {
        assert!(
            text.lines().any(|l| l.starts_with(s)),
            "{s} missing:\n{text}"
        );
    }
    assert!(text.contains("11.7.9"));
    let json = regie()
        .args(["catalog", "--output", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 7);
    let files = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "files")
        .unwrap();
    assert_eq!(files["images"]["app"], "nextcloud:34.0.2-apache");
    assert_eq!(files["upgrade"], "one-major-at-a-time");
}

#[test]
fn catalog_show_prints_a_descriptor_and_suggests_on_typos() {
    regie()
        .args(["catalog", "show", "chat"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("mattermost/mattermost-{edition}-edition")
                .and(predicate::str::contains("file: mattermost.pgdump"))
                .and(predicate::str::contains("database: mattermost")),
        );
    regie()
        .args(["catalog", "show", "chta"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("no stack `chta`")
                .and(predicate::str::contains("did you mean `chat`?")),
        );
}

#[test]
fn secrets_list_names_only_and_show_on_request() {
    let out = regie()
        .args([
            "secrets",
            "list",
            "-i",
            "inventories/mairie-techniville.yml",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let names = String::from_utf8(out).unwrap();
    assert!(names.lines().any(|l| l == "chat.db_password"), "{names}");
    assert!(names
        .lines()
        .any(|l| l == "mail.account.maire@techniville.fr"));
    let pw = regie()
        .args([
            "secrets",
            "show",
            "chat.db_password",
            "-i",
            "inventories/mairie-techniville.yml",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let pw = String::from_utf8(pw).unwrap().trim().to_string();
    assert_eq!(pw.len(), 32);
    assert!(!names.contains(&pw), "list must not print values");
    // The value shown is the one rendered into the env file.
    let tmp = tempfile::tempdir().unwrap();
    let files = render_example("mairie-techniville", &tmp.path().join("out"));
    let env = String::from_utf8(files["srv1/chat/db.env"].clone()).unwrap();
    assert!(env.contains(&format!("POSTGRES_PASSWORD={pw}\n")));
    regie()
        .args([
            "secrets",
            "show",
            "chat.db_pasword",
            "-i",
            "inventories/mairie-techniville.yml",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("did you mean `chat.db_password`?"));
}

#[test]
fn render_never_prints_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let pw = regie()
        .args([
            "secrets",
            "show",
            "files.admin_password",
            "-i",
            "inventories/cabinet-durand.yml",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let pw = String::from_utf8(pw).unwrap().trim().to_string();
    for fmt in ["text", "json"] {
        let o = regie()
            .args([
                "render",
                "--output",
                fmt,
                "-i",
                "inventories/cabinet-durand.yml",
                "-o",
            ])
            .arg(tmp.path().join(fmt))
            .assert()
            .success()
            .get_output()
            .clone();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !all.contains(&pw),
            "secret printed by render --output {fmt}"
        );
    }
}

#[test]
fn wrong_key_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other.txt");
    regie()
        .args(["secrets", "keygen"])
        .arg(&other)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("age1"));
    regie()
        .args(["secrets", "keygen"])
        .arg(&other)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refusing to overwrite"));
    regie()
        .args(["render", "-i", "inventories/asso-lan.yml", "--identity"])
        .arg(&other)
        .arg("-o")
        .arg(tmp.path().join("out"))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("cannot decrypt").and(predicate::str::contains("wrong key")),
        );
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn render_refuses_to_replace_a_directory_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("thesis.odt"), "do not delete").unwrap();
    regie()
        .args(["render", "-i", "inventories/asso-lan.yml", "-o"])
        .arg(&precious)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("was not written by regie render"));
    assert_eq!(
        std::fs::read_to_string(precious.join("thesis.odt")).unwrap(),
        "do not delete"
    );
}

/// A destination render refuses (a regular file, a directory regie did not
/// write) is refused before anything is written: no secrets file either.
#[test]
fn refused_render_destination_makes_no_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::copy("inventories/asso-lan.yml", dir.join("site.yml")).unwrap();
    std::fs::write(dir.join("a-file"), "keep").unwrap();
    std::fs::create_dir(dir.join("foreign")).unwrap();
    std::fs::write(dir.join("foreign/notes.txt"), "keep").unwrap();
    for out in ["a-file", "foreign"] {
        regie()
            .env("REGIE_PASSPHRASE", "test")
            .args(["render", "-i"])
            .arg(dir.join("site.yml"))
            .arg("-o")
            .arg(dir.join(out))
            .assert()
            .code(1)
            .stderr(predicate::str::contains("was not written by regie render"));
        assert!(
            !dir.join("site.secrets.age").exists(),
            "render -o {out} made the secrets file"
        );
    }
    assert_eq!(std::fs::read_to_string(dir.join("a-file")).unwrap(), "keep");
    let mut left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["a-file", "foreign", "site.yml"]);
}

#[test]
fn rerender_removes_files_of_removed_services() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let src = std::fs::read_to_string("inventories/asso-lan.yml").unwrap();
    std::fs::copy(
        "inventories/asso-lan.secrets.age",
        dir.join("site.secrets.age"),
    )
    .unwrap();
    std::fs::copy(
        "inventories/example-identity.txt",
        dir.join("example-identity.txt"),
    )
    .unwrap();
    std::fs::write(dir.join("site.yml"), &src).unwrap();
    let out = dir.join("out");
    regie()
        .args(["render", "-i"])
        .arg(dir.join("site.yml"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("pi/files/docker-compose.yml").exists());
    let without = src.replace("  files:\n    host: pi\n", "");
    assert_ne!(without, src);
    std::fs::write(dir.join("site.yml"), without).unwrap();
    regie()
        .args(["render", "-i"])
        .arg(dir.join("site.yml"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert!(!out.join("pi/files").exists());
    assert!(out.join("pi/wiki/docker-compose.yml").exists());
}

#[test]
fn a_catalog_directory_adds_stacks_and_overrides_templates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cat = dir.join("catalog");
    std::fs::create_dir_all(cat.join("stacks")).unwrap();
    std::fs::create_dir_all(cat.join("templates/kanban")).unwrap();
    std::fs::create_dir_all(cat.join("templates/wiki")).unwrap();
    std::fs::write(
        cat.join("stacks/kanban.yml"),
        "name: kanban\ndescription: A kanban board\nsubdomain: tableau\nweb: { component: app, port: 3000 }\n\
         min_ram_mb: 256\ncomponents:\n  app: { image: registry.example.fr/kanban, tag: \"1.0\", main: true }\n\
         upgrade: { policy: same-major }\n\
         settings:\n  title: { type: string, default: Tableau, doc: board title }\n\
         files:\n  - { template: kanban/docker-compose.yml.tera, path: docker-compose.yml }\n",
    )
    .unwrap();
    std::fs::write(
        cat.join("templates/kanban/docker-compose.yml.tera"),
        "version: \"2.4\"\nservices:\n  app:\n    image: {{ stack.images.app | yaml }}\n    environment:\n      TITLE: {{ settings.title | yaml }}\n",
    )
    .unwrap();
    std::fs::write(
        cat.join("templates/wiki/docker-compose.yml.tera"),
        "# site override\nversion: \"2.4\"\nservices:\n  app:\n    image: {{ stack.images.app | yaml }}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("site.yml"),
        "site: { name: custom, domain: custom.fr, contact: a@custom.fr }\ncatalog: catalog\n\
         hosts:\n  srv1: { role: server, address: 192.0.2.1 }\n\
         services:\n  kanban: { host: srv1, settings: { titel: x } }\n  wiki: { host: srv1 }\n",
    )
    .unwrap();
    // The added stack's settings are checked against its own schema.
    regie()
        .args(["validate", "-i"])
        .arg(dir.join("site.yml"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("services.kanban.settings.titel: unknown key `titel`")
                .and(predicate::str::contains("did you mean `title`?")),
        );
    let src = std::fs::read_to_string(dir.join("site.yml"))
        .unwrap()
        .replace("titel: x", "title: Projets");
    std::fs::write(dir.join("site.yml"), src).unwrap();
    let out = dir.join("out");
    let render = || {
        regie()
            .env("REGIE_PASSPHRASE", "test")
            .args(["render", "-i"])
            .arg(dir.join("site.yml"))
            .arg("-o")
            .arg(&out)
            .assert()
    };
    // Templates whose services lack the labels regie finds containers by
    // are refused at render, naming the template, the service and the
    // label; nothing is written, no secret is made.
    render()
        .code(1)
        .stderr(predicate::str::contains(
            "kanban/docker-compose.yml.tera: service `app` must carry the label regie.site: custom (found no such label)",
        ));
    assert!(!out.exists());
    assert!(!dir.join("site.secrets.age").exists());
    let labelled = |t: &str| {
        let body = t.replace(
            "services:\n  app:\n",
            "services:\n  app:\n{{ m::common(stack=stack, component=\"app\", site=site, config_hash=config_hash) }}\n",
        );
        format!("{{%- import \"macros.tera\" as m -%}}\n{body}")
    };
    for t in ["kanban", "wiki"] {
        let p = cat.join(format!("templates/{t}/docker-compose.yml.tera"));
        let src = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, labelled(&src)).unwrap();
    }
    render().success();
    let k = std::fs::read_to_string(out.join("srv1/kanban/docker-compose.yml")).unwrap();
    assert!(k.contains("regie.site: \"custom\""), "{k}");
    assert!(
        k.contains("\"registry.example.fr/kanban:1.0\"") && k.contains("TITLE: \"Projets\""),
        "{k}"
    );
    let w = std::fs::read_to_string(out.join("srv1/wiki/docker-compose.yml")).unwrap();
    assert!(w.contains("# site override"), "{w}");
    let caddy = std::fs::read_to_string(out.join("srv1/proxy/config/Caddyfile")).unwrap();
    assert!(caddy.contains("tableau.custom.fr {"), "{caddy}");
    // A broken descriptor is reported with its file.
    std::fs::write(cat.join("stacks/broken.yml"), "name: broken\n").unwrap();
    regie()
        .args(["validate", "-i"])
        .arg(dir.join("site.yml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("broken.yml is invalid"));
}

#[test]
fn completions_and_help() {
    regie()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_regie"));
    regie()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("render"));
    regie().arg("frobnicate").assert().code(2);
}

#[test]
fn validate_reports_warnings_but_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = tmp.path().join("site.yml");
    std::fs::write(
        &inv,
        "site: { name: warn, domain: warn.fr, contact: a@warn.fr }\n\
         hosts:\n  srv1: { role: server, address: 192.0.2.1, ram_mb: 512 }\n\
         services:\n  mail: { host: srv1, settings: { accounts: [{ address: a@warn.fr }] } }\n",
    )
    .unwrap();
    let o = regie()
        .args(["validate", "-i"])
        .arg(&inv)
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(o).unwrap();
    assert!(
        err.contains("warning: ") && err.contains("ram_mb: host `srv1` declares 512 MB"),
        "{err}"
    );
    assert!(err.contains("LAN-only"), "{err}");
    assert!(err.contains("no backup policy"), "{err}");
}

/// PostgreSQL 18 images keep their data one level up: the templates mount
/// the volume where each major expects it.
#[test]
fn postgres_18_volume_mount_follows_the_image() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["cabinet-durand.secrets.age", "example-identity.txt"] {
        std::fs::copy(format!("inventories/{f}"), tmp.path().join(f)).unwrap();
    }
    let y = std::fs::read_to_string("inventories/cabinet-durand.yml").unwrap();
    let render = |y: &str, out: &str| {
        let inv = tmp.path().join("cabinet-durand.yml");
        std::fs::write(&inv, y).unwrap();
        let out = tmp.path().join(out);
        regie()
            .args(["render", "-i"])
            .arg(&inv)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        std::fs::read_to_string(out.join("srv1/files/docker-compose.yml")).unwrap()
    };
    let c17 = render(&y, "r17");
    assert!(
        c17.contains("      - db:/var/lib/postgresql/data\n"),
        "{c17}"
    );
    let y18 = y.replacen(
        "  files:\n",
        "  files:\n    images: { postgres: \"postgres:18-alpine\" }\n",
        1,
    );
    assert_ne!(y18, y);
    let c18 = render(&y18, "r18");
    assert!(
        c18.contains("image: \"postgres:18-alpine\"") || c18.contains("image: postgres:18-alpine"),
        "{c18}"
    );
    assert!(c18.contains("      - db:/var/lib/postgresql\n"), "{c18}");
}

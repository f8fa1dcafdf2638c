//! `regie docs`: the run book of the example sites, with the real binary.
//! Snapshots are the review copy of the text; the assertions check the
//! facts a provider relies on, and that no secret leaks.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const DATE: &str = "2026-12-01";

fn regie() -> Command {
    Command::cargo_bin("regie").unwrap()
}

/// The run book of an inventory, written into `out`: (Markdown, HTML).
fn docs(inventory: &Path, out: &Path, site: &str) -> (String, String) {
    regie()
        .args(["docs", "--date", DATE, "-i"])
        .arg(inventory)
        .arg("-o")
        .arg(out)
        .assert()
        .success();
    let read =
        |ext: &str| std::fs::read_to_string(out.join(format!("{site}-runbook.{ext}"))).unwrap();
    (read("md"), read("html"))
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(format!("inventories/{name}.yml"))
}

/// The town hall example with `locale: en`, as a copy in `dir`.
fn english_copy(dir: &Path) -> PathBuf {
    let src = std::fs::read_to_string(example("mairie-techniville")).unwrap();
    assert!(src.contains("locale: fr"));
    let path = dir.join("mairie-techniville.yml");
    std::fs::write(&path, src.replace("locale: fr", "locale: en")).unwrap();
    path
}

/// Every value in the site's secrets file (unlocked by the examples' key).
fn secret_values(inventory: &Path) -> Vec<String> {
    let out = |args: &[&str]| {
        let o = regie()
            .args(args)
            .arg("-i")
            .arg(inventory)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(o).unwrap()
    };
    let names = out(&["secrets", "list"]);
    names
        .lines()
        .map(|n| out(&["secrets", "show", n]))
        .collect()
}

#[test]
fn snapshots_of_the_examples() {
    let tmp = tempfile::tempdir().unwrap();
    for (ex, site) in [
        ("cabinet-durand", "cabinet-durand"),
        ("mairie-techniville", "mairie-techniville"),
        ("asso-lan", "asso-les-jardins"),
    ] {
        let (md, html) = docs(&example(ex), &tmp.path().join(ex), site);
        insta::assert_snapshot!(format!("{}_md", ex.replace('-', "_")), md);
        if ex == "cabinet-durand" {
            insta::assert_snapshot!("cabinet_durand_html", html);
        }
    }
    let en = english_copy(tmp.path());
    let (md, _) = docs(&en, &tmp.path().join("en"), "mairie-techniville");
    insta::assert_snapshot!("mairie_techniville_en_md", md);
}

#[test]
fn french_run_book_has_the_facts_a_provider_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let (md, html) = docs(&example("cabinet-durand"), tmp.path(), "cabinet-durand");
    for text in [&md, &html] {
        assert!(
            text.contains("Dossier d'exploitation") || text.contains("Dossier d&#39;exploitation")
        );
        assert!(text.contains("sftp:backup@192.168.1.20:/volume1/regie/cabinet-durand/srv1"));
        assert!(text.contains("restic restore latest --tag"));
        assert!(text.contains("regie restore -i cabinet-durand.yml --service files"));
        assert!(text.contains("/opt/regie/files/docker-compose.yml"));
        assert!(text.contains("cabinet-durand-files_html"));
        assert!(text.contains("regie-backup-cabinet-durand.timer"));
        assert!(text.contains("https://cloud.cabinet-durand.fr"));
        assert!(text.contains("astreinte@infogerance.example"));
        assert!(text.contains("Sauvegardes"));
        assert!(text.contains("Réversibilité") || text.contains("réversibilité"));
    }
    // The mail domain's records, in the table and as a zone file.
    assert!(md.contains("| MX | `cabinet-durand.fr` | `10 mail.cabinet-durand.fr.` |"));
    assert!(md.contains("mail.cabinet-durand.fr."));
    assert!(md.contains("IN A     203.0.113.10"));
    // The proxy's data volume has a fixed name.
    assert!(md.contains("`cabinet-durand_proxy_data`"));
    // The database goes back into a fresh PostgreSQL, its roles first.
    assert!(md.contains("exec -T postgres psql --username=nextcloud --dbname=postgres"));
    assert!(md.contains(
        "exec -T postgres pg_restore --username=nextcloud --dbname=nextcloud --clean --if-exists --exit-on-error"
    ));
}

#[test]
fn english_run_book_is_in_english() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = english_copy(tmp.path());
    let (md, html) = docs(&inv, &tmp.path().join("out"), "mairie-techniville");
    assert!(md.starts_with("# Run book — Mairie de Techniville\n"));
    assert!(html.contains("<html lang=\"en\">"));
    for word in [
        "## 4. Backups",
        "## 5. Restoring",
        "reversibility",
        "Maintenance window",
    ] {
        assert!(md.contains(word), "missing {word}");
    }
    for word in ["Sauvegardes", "Restauration", "Hôte", "dossier"] {
        assert!(
            !md.contains(word),
            "French word {word} in the English run book"
        );
    }
    // Both mail domains get their records.
    assert!(md.contains("| MX | `ccas-techniville.fr` |"));
    assert!(md.contains("_dmarc.ccas-techniville.fr"));
}

#[test]
fn no_secret_value_appears() {
    let tmp = tempfile::tempdir().unwrap();
    for (ex, site) in [
        ("cabinet-durand", "cabinet-durand"),
        ("mairie-techniville", "mairie-techniville"),
    ] {
        let inv = example(ex);
        let secrets = secret_values(&inv);
        assert!(secrets.len() > 5, "{ex}: only {} secrets", secrets.len());
        let (md, html) = docs(&inv, &tmp.path().join(ex), site);
        for value in &secrets {
            // Multi-line values (the NAS key) are checked line by line.
            for part in value.lines().map(str::trim).filter(|p| p.len() >= 12) {
                assert!(!md.contains(part), "{ex}: a secret is in the Markdown");
                assert!(!html.contains(part), "{ex}: a secret is in the HTML");
            }
        }
    }
}

#[test]
fn html_is_self_contained_and_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, html) = docs(
        &example("mairie-techniville"),
        tmp.path(),
        "mairie-techniville",
    );
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">")
    );
    assert!(html.contains("<title>Dossier d&#39;exploitation — Mairie de Techniville</title>"));
    assert!(html.contains("@media print"));
    assert!(html.contains("break-before:page"));
    for external in ["<link", "<script", "src=", "@import", "url("] {
        assert!(!html.contains(external), "external asset: {external}");
    }
    // The catalog's DKIM instruction has angle brackets: escaped.
    assert!(html.contains("docker exec &lt;mailserver&gt; setup config dkim"));
    assert!(!html.contains("<mailserver>"));
    assert!(html.ends_with("</main>\n</body>\n</html>\n"));
}

#[test]
fn json_output_names_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("new/dir");
    let o = regie()
        .args([
            "docs",
            "--output",
            "json",
            "--date",
            DATE,
            "-i",
            "inventories/asso-lan.yml",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&o).unwrap();
    assert_eq!(v["site"], "asso-les-jardins");
    let md = PathBuf::from(v["markdown"].as_str().unwrap());
    let html = PathBuf::from(v["html"].as_str().unwrap());
    assert_eq!(md, out.join("asso-les-jardins-runbook.md"));
    assert_eq!(html, out.join("asso-les-jardins-runbook.html"));
    assert!(md.is_file() && html.is_file());
    // Nothing else is left in the directory (no temporary file).
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2);
}

#[test]
fn same_input_same_output() {
    let tmp = tempfile::tempdir().unwrap();
    let a = docs(
        &example("asso-lan"),
        &tmp.path().join("a"),
        "asso-les-jardins",
    );
    let b = docs(
        &example("asso-lan"),
        &tmp.path().join("b"),
        "asso-les-jardins",
    );
    assert_eq!(a, b);
}

#[test]
fn a_bad_inventory_path_is_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    regie()
        .args(["docs", "-i", "inventories/no-such-site.yml", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no-such-site.yml")
                .and(predicate::str::contains("cannot read inventory")),
        );
    assert!(!out.exists());
}

#[test]
fn a_bad_date_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    regie()
        .args([
            "docs",
            "--date",
            "01/12/2026",
            "-i",
            "inventories/asso-lan.yml",
            "-o",
        ])
        .arg(tmp.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY-MM-DD"));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn the_run_book_says_where_the_images_come_from() {
    let tmp = tempfile::tempdir().unwrap();
    let (md, _) = docs(&example("cabinet-durand"), tmp.path(), "cabinet-durand");
    assert!(md.contains("l'hôte les télécharge depuis leurs registres"));
    assert!(!md.contains("regie les apporte par SSH"));
    // A site without a registry: from the operator's engine, or a layout.
    let src = std::fs::read_to_string(example("cabinet-durand")).unwrap();
    for (extra, says) in [
        ("images: push\n", "depuis le moteur Docker de la machine"),
        (
            "images: push\nimage_layout: livraison/images\n",
            "depuis le répertoire d'images `livraison/images`",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let inv = dir.path().join("cabinet-durand.yml");
        std::fs::write(&inv, format!("{src}{extra}")).unwrap();
        let (md, _) = docs(&inv, &dir.path().join("out"), "cabinet-durand");
        assert!(md.contains(says), "{extra}");
        assert!(!md.contains("l'hôte les télécharge depuis leurs registres"));
    }
}

/// The town hall example with an off-site copy on a NAS in another
/// building, reached from the site at another address and port, in `locale`.
fn offsite_copy(dir: &Path, locale: &str) -> PathBuf {
    let src = std::fs::read_to_string(example("mairie-techniville")).unwrap();
    // The example's own copy (to its intercommunalité) is replaced.
    let own = src
        .find("  # Every night's captures")
        .and_then(|a| src[a..].find("monthly: 24 }\n").map(|b| (a, a + b + 14)))
        .expect("the example's offsite block");
    let src = format!("{}{}", &src[..own.0], &src[own.1..]);
    let nas = "    path: /volume1/regie\n";
    let keep = "  keep: { daily: 14, weekly: 8, monthly: 12 }\n";
    assert!(src.contains(nas) && src.contains(keep));
    let text = src
        .replace("locale: fr", &format!("locale: {locale}"))
        .replace(
            nas,
            &format!(
                "{nas}  coffre:\n    role: nas\n    address: 203.0.113.50\n    ssh: {{ user: regie-copie }}\n    path: /srv/coffre\n"
            ),
        )
        .replace(
            keep,
            &format!(
                "{keep}  offsite:\n    to: coffre\n    keep: {{ daily: 7, weekly: 4, monthly: 24 }}\n    address_from_site: coffre.infogerance.example:2222\n"
            ),
        );
    let path = dir.join("mairie-techniville.yml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Sections 4 to 6 of a run book (backups, restoring, without regie).
fn backup_sections(md: &str) -> String {
    let start = md.find("\n## 4. ").expect("section 4");
    let end = md.find("\n## 7. ").expect("section 7");
    md[start + 1..end].to_string()
}

#[test]
fn the_off_site_copy_is_in_the_run_book() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, _) = docs(
        &example("cabinet-durand"),
        &tmp.path().join("plain"),
        "cabinet-durand",
    );
    assert!(!plain.contains("--offsite") && !plain.contains("hors site"));
    for (locale, name, words) in [
        (
            "fr",
            "mairie_techniville_offsite_fr",
            "Depuis la copie hors site",
        ),
        (
            "en",
            "mairie_techniville_offsite_en",
            "From the off-site copy",
        ),
    ] {
        let dir = tmp.path().join(locale);
        std::fs::create_dir(&dir).unwrap();
        let inv = offsite_copy(&dir, locale);
        let (md, html) = docs(&inv, &dir.join("out"), "mairie-techniville");
        for text in [&md, &html] {
            assert!(text.contains(words), "{locale}");
            // Where the copy is, as the site's machines reach it.
            assert!(text.contains("/srv/coffre/mairie-techniville"));
            assert!(text.contains("-p 2222 regie-copie@coffre.infogerance.example"));
            // By hand from a host, with the script and with plain restic.
            assert!(text.contains("/opt/regie/.regie/backup/regie-backup --offsite snapshots"));
            assert!(text.contains("--offsite restore"));
            assert!(text.contains("export RESTIC_REPOSITORY=rclone:srv1"));
            // The copy without regie, on the NAS, with the NAS's own key.
            assert!(text.contains("/volume1/regie/mairie-techniville/.regie-offsite/key"));
            assert!(text.contains("copy --from-repo"));
            assert!(text.contains("backup.offsite_key"));
        }
        insta::assert_snapshot!(name, backup_sections(&md));
    }
}

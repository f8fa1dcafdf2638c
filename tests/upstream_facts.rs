//! The catalog against its upstream facts (`stacks/facts/*.yml`): every
//! image has facts for the tag it pins, every rendered compose file of the
//! example inventories (stacks and restore-drill copies) only runs programs
//! and users its images have, and a catalog whose hooks do not fit their
//! image is refused when it loads.

mod common;

use common::*;
use regie::site::catalog::Catalog;

#[test]
fn every_pinned_image_has_facts_for_its_tag() {
    let cat = Catalog::builtin().unwrap();
    let mut missing = Vec::new();
    for (stack, d) in &cat.stacks {
        for (comp, c) in &d.components {
            if cat.image_facts(stack, comp).is_none() {
                missing.push(format!(
                    "{stack}/{comp}: {}:{}{} has no facts in stacks/facts/{stack}.yml for this image and tag",
                    c.image, c.tag, c.suffix
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn rendered_compose_files_fit_their_images() {
    let cat = Catalog::builtin().unwrap();
    let facts = |s: &str, c: &str| cat.image_facts(s, c).cloned();
    let mut bad = Vec::new();
    let mut checked = 0;
    for ex in EXAMPLES {
        let tmp = tempfile::tempdir().unwrap();
        for (path, bytes) in render_example(ex, &tmp.path().join("out")) {
            let drill = path.contains("/.regie/backup/drill/");
            if !(path.ends_with("/docker-compose.yml") || drill) {
                continue;
            }
            let src = String::from_utf8(bytes).unwrap();
            bad.extend(regie::site::facts::audit_compose(
                facts,
                &format!("{ex}/{path}"),
                &src,
            ));
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} compose files checked");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_hook_that_does_not_fit_its_image_is_refused_at_load() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("stacks")).unwrap();
    let files = std::fs::read_to_string("stacks/files.yml").unwrap();
    // Maintenance mode as an account the Nextcloud image does not have.
    let bad_user = files.replacen("user: www-data", "user: nextcloud", 1);
    std::fs::write(tmp.path().join("stacks/files.yml"), &bad_user).unwrap();
    let e = Catalog::with_overrides(Some(tmp.path())).unwrap_err();
    assert!(
        format!("{e:#}").contains("`nextcloud`, which is not an account"),
        "{e:#}"
    );
    let bad_prog = files.replacen(
        "command: [php, occ, upgrade]",
        "command: [mysqldump, occ, upgrade]",
        1,
    );
    assert_ne!(bad_prog, files);
    std::fs::write(tmp.path().join("stacks/files.yml"), &bad_prog).unwrap();
    let e = Catalog::with_overrides(Some(tmp.path())).unwrap_err();
    assert!(format!("{e:#}").contains("runs `mysqldump`"), "{e:#}");
}

#[test]
fn site_facts_override_the_built_in_ones() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("stacks/facts")).unwrap();
    let chat = std::fs::read_to_string("stacks/facts/chat.yml").unwrap();
    let arm = chat.replacen("archs: [amd64]", "archs: [amd64, arm64]", 1);
    assert_ne!(arm, chat);
    std::fs::write(tmp.path().join("stacks/facts/chat.yml"), arm).unwrap();
    let cat = Catalog::with_overrides(Some(tmp.path())).unwrap();
    assert_eq!(
        cat.image_facts("chat", "app").unwrap().archs,
        ["amd64", "arm64"]
    );
    // A fact without a source is refused.
    let nosrc: String = chat
        .lines()
        .filter(|l| !l.starts_with("      archs: \"https://github.com/mattermost"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(nosrc, chat);
    std::fs::write(tmp.path().join("stacks/facts/chat.yml"), nosrc).unwrap();
    let e = Catalog::with_overrides(Some(tmp.path())).unwrap_err();
    assert!(
        format!("{e:#}").contains("fact `archs` has neither a source"),
        "{e:#}"
    );
}

#[test]
fn a_secret_file_variable_needs_an_image_that_reads_it() {
    // Files' env templates pass the passwords as *_FILE; that holds only
    // while the facts say the images read those variables from a file.
    assert!(Catalog::with_overrides(None).is_ok());
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("stacks/facts")).unwrap();
    let facts = std::fs::read_to_string("stacks/facts/files.yml").unwrap();
    let without = facts
        .replacen("file_env: [POSTGRES_PASSWORD, ", "file_env: [", 1)
        .replacen(
            " POSTGRES_PASSWORD, POSTGRES_USER, MYSQL",
            " POSTGRES_USER, MYSQL",
            1,
        );
    assert_eq!(facts.len() - without.len(), 2 * "POSTGRES_PASSWORD, ".len());
    std::fs::write(tmp.path().join("stacks/facts/files.yml"), &without).unwrap();
    let e = Catalog::with_overrides(Some(tmp.path())).unwrap_err();
    assert!(
        format!("{e:#}").contains(
            "sets POSTGRES_PASSWORD_FILE, but no component's upstream facts say its image reads POSTGRES_PASSWORD from a file"
        ),
        "{e:#}"
    );
}

/// The hosts' backup script on an append-only NAS runs only programs the
/// default restic image has (ssh as rclone's program, no rclone), and
/// names the repository by the host alone, the last word the NAS's forced
/// command reads (restic appends the remote last).
#[test]
fn append_only_scripts_fit_the_restic_image_and_the_forced_command() {
    use regie::backup::plan::upstream::{FACTS, RESTIC_IMAGE_PROGRAMS};
    assert!(FACTS.iter().all(|f| !f.source.is_empty()));
    let mut checked = 0;
    for ex in EXAMPLES {
        let path = std::path::PathBuf::from(format!("inventories/{ex}.yml"));
        let site = regie::site::inventory::load(&path).unwrap();
        let Some(repo) = regie::backup::plan::Repo::of(&site) else {
            continue;
        };
        if !repo.append_only() {
            continue;
        }
        for host in site.placement.keys() {
            let Some(script) = regie::backup::plan::host_script(&site, host, &[]) else {
                continue;
            };
            let line = script
                .lines()
                .find(|l| l.starts_with("RESTIC_OPTS="))
                .expect("RESTIC_OPTS");
            let prog = line
                .split("rclone.program=")
                .nth(1)
                .unwrap_or_else(|| panic!("{ex}/{host}: no rclone.program in {line}"));
            let first = prog.split_whitespace().next().unwrap();
            assert!(
                RESTIC_IMAGE_PROGRAMS.contains(&first),
                "{ex}/{host}: {first} is not in the restic image"
            );
            assert!(!prog.contains("rclone "), "{ex}/{host}: {prog}");
            assert!(script.contains("REPO_KIND=rclone"), "{ex}/{host}");
            assert!(script.contains("rclone) printf 'rclone:%s' \"$1\""));
            checked += 1;
        }
    }
    assert!(checked >= 2, "only {checked} append-only hosts checked");
}

/// The off-site copy runs, on the NAS, exactly the restic words its facts
/// name, and its ssh to the off-site server is the same least-privilege
/// command as the hosts' (key given, strict host key, no prompt).
#[test]
fn offsite_scripts_use_the_recorded_restic_words() {
    use regie::backup::plan::{
        copy_ids_script, copy_list_script, upstream::FACTS, CopyMode, OffsiteRepo,
    };
    let path = std::path::PathBuf::from("inventories/mairie-techniville.yml");
    let site = regie::site::inventory::load(&path).unwrap();
    let off = OffsiteRepo::of(&site).expect("the example has an off-site copy");
    let facts: String = FACTS.iter().map(|f| f.what).collect::<Vec<_>>().join("\n");
    let list = copy_list_script("/srv/b/x", "srv1", &off, CopyMode::List);
    let copy = copy_ids_script("/srv/b/x", "srv1", &off, &["a".into()]);
    assert!(list.contains(
        "init --from-repo \"$src\" --from-password-file \"$t/pw\" --copy-chunker-params"
    ));
    assert!(copy.contains("copy --from-repo \"$src\" --from-password-file \"$t/pw\" 'a'"));
    for flag in [
        "--from-repo",
        "--from-password-file",
        "--copy-chunker-params",
        "`original`",
    ] {
        assert!(facts.contains(flag), "no recorded fact for {flag}");
    }
    for opt in [
        "StrictHostKeyChecking=yes",
        "BatchMode=yes",
        "IdentitiesOnly=yes",
    ] {
        assert!(list.contains(opt) && copy.contains(opt), "{opt}");
    }
}

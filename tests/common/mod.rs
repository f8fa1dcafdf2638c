//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub mod engine;
pub mod notes_site;
pub mod registry;
pub mod sinks;
pub mod testbed;

pub const EXAMPLES: [&str; 3] = ["cabinet-durand", "mairie-techniville", "asso-lan"];

pub fn regie() -> Command {
    let mut c = Command::cargo_bin("regie").unwrap();
    // Tests never read the developer's own ~/.ssh/config.
    c.env("NO_COLOR", "1")
        .env("REGIE_SSH_CONFIG", "/dev/null")
        .env_remove("REGIE_AGE_IDENTITY")
        .env_remove("REGIE_PASSPHRASE");
    c
}

/// Render an example inventory into `out` and return every file (relative
/// path -> bytes).
pub fn render_example(name: &str, out: &Path) -> BTreeMap<String, Vec<u8>> {
    regie()
        .args(["render", "-i", &format!("inventories/{name}.yml"), "-o"])
        .arg(out)
        .assert()
        .success();
    read_tree(out)
}

pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    walk(root, root, &mut m);
    m
}

fn walk(root: &Path, dir: &Path, m: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, m);
        } else {
            m.insert(
                p.strip_prefix(root).unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            );
        }
    }
}

/// The compose CLIs of this machine, v2 (`docker compose`) first, then v1
/// (`docker-compose`) when it is installed too. Panics without v2: the test
/// set-up (.ci/run) installs both, as regie supports both.
pub fn compose_clis() -> Vec<Vec<String>> {
    let works = |argv: &[&str]| {
        std::process::Command::new(argv[0])
            .args(&argv[1..])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        works(&["docker", "compose", "version"]),
        "`docker compose` (v2) is not installed: .ci/run installs Debian trixie's plugin"
    );
    let mut clis = vec![vec!["docker".to_string(), "compose".to_string()]];
    if works(&["docker-compose", "version"]) {
        clis.push(vec!["docker-compose".to_string()]);
    }
    clis
}

/// The compose CLI regie prefers: `docker compose` (v2).
pub fn compose_cli() -> Vec<String> {
    compose_clis().remove(0)
}

/// Every directory holding a docker-compose.yml below `root`.
pub fn compose_dirs(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = read_tree(root)
        .keys()
        .filter(|k| k.ends_with("/docker-compose.yml"))
        .map(|k| root.join(k).parent().unwrap().to_path_buf())
        .collect();
    v.sort();
    v
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

/// The weekday (`mon`..`sun`) `n` days after today (UTC). For 2 <= n <= 5,
/// a maintenance window on that day is closed now in any time zone.
pub fn weekday_in(n: usize) -> &'static str {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = std::process::Command::new("date")
        .args(["-u", "+%u"])
        .output()
        .expect("date");
    let today: usize = String::from_utf8_lossy(&today.stdout)
        .trim()
        .parse()
        .expect("date +%u");
    days[(today - 1 + n) % 7]
}

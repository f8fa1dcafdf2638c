//! `regie update os` and unattended upgrades against the test bed: a real
//! sshd and real apt in a Debian bookworm container, with local file:
//! repositories (no network): one labelled as Debian's security archive,
//! one plain.

mod common;

use common::regie;
use common::testbed::{docker, TestBed};

/// Builds regie-dummy and regie-other 1.0 and installs them, then offers
/// 1.1 of each: regie-dummy from a repository labelled as Debian's
/// security archive, regie-other from a plain one. The container's own
/// sources are moved aside and the lists updated from these only.
const SETUP: &str = r#"set -eu
mkpkg() { # name version dir
  d=$(mktemp -d)
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: regie tests <ops@test.example>\nDescription: regie test package\n' "$1" "$2" >"$d/DEBIAN/control"
  echo "$1 $2" >"$d/usr/share/doc/$1/version"
  mkdir -p "$3"
  dpkg-deb --build --root-owner-group "$d" "$3/$1_$2_all.deb" >/dev/null
  rm -rf "$d"
}
repo() { # dir origin label suite
  cd "$1"
  : >Packages
  for f in *.deb; do
    dpkg-deb -f "$f" >>Packages
    printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$f" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" >>Packages
  done
  printf 'Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\nDate: %s\nSHA256:\n %s %s Packages\n' \
    "$2" "$3" "$4" "$4" "$(date -R -u)" "$(sha256sum Packages | cut -d' ' -f1)" "$(stat -c %s Packages)" >Release
  cd /
}
mkpkg regie-dummy 1.0 /srv/old
mkpkg regie-other 1.0 /srv/old
dpkg -i /srv/old/regie-dummy_1.0_all.deb /srv/old/regie-other_1.0_all.deb >/dev/null
mkpkg regie-dummy 1.1 /srv/sec
mkpkg regie-other 1.1 /srv/main
repo /srv/sec Debian Debian-Security bookworm-security
repo /srv/main regie-test regie-test regie-test
mkdir -p /etc/apt/regie-test-moved
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
  if [ -e "$f" ]; then mv "$f" /etc/apt/regie-test-moved/; fi
done
printf 'deb [trusted=yes] file:/srv/sec ./\ndeb [trusted=yes] file:/srv/main ./\n' >/etc/apt/sources.list.d/regie-test.list
apt-get update -q >/dev/null
"#;

fn sh(tb: &TestBed, script: &str) -> String {
    let o = docker(&["exec", &tb.host("srv1").container, "sh", "-c", script]);
    assert!(
        o.status.success(),
        "{script}\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Run regie; (exit code, stdout, stderr).
fn run(inv: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let o = regie()
        .args(args)
        .arg("-i")
        .arg(inv)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn json(inv: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["--output", "json", "update", "os", "--host", "srv1"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(inv, &args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

#[test]
fn pending_security_updates_reboot_and_unattended() {
    let tb = TestBed::new(1);
    let inv = tb.inventory("  hello:\n    host: srv1\n", "");
    let os = |extra: &[&str]| {
        let mut args = vec!["update", "os", "--host", "srv1", "--accept-new-host-keys"];
        args.extend_from_slice(extra);
        run(&inv, &args)
    };

    // The image has no package lists: nothing pending, and the report says
    // the lists were never updated.
    let (code, out, err) = os(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("never updated"), "{out}");

    sh(&tb, SETUP);
    let (code, out, err) = os(&[]);
    assert_eq!(code, 3, "updates pending: {out}{err}");
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("srv1 "))
        .expect(&out)
        .split_whitespace()
        .collect();
    assert_eq!(row[..5], ["srv1", "1", "1", "no", "on"], "{out}");
    let dummy = out.find("security  regie-dummy  1.0 -> 1.1").expect(&out);
    let other = out.find("other     regie-other  1.0 -> 1.1").expect(&out);
    assert!(dummy < other, "security first: {out}");
    assert!(out.contains("Debian-Security:bookworm-security"), "{out}");

    // A reboot asked by a package.
    sh(
        &tb,
        "touch /var/run/reboot-required && echo regie-dummy >/var/run/reboot-required.pkgs",
    );
    let (code, v) = json(&inv, &[]);
    assert_eq!(code, 3);
    let r = &v[0]["report"];
    assert_eq!(v[0]["host"], "srv1");
    assert!(v[0]["error"].is_null(), "{v}");
    assert_eq!(r["os"]["id"], "debian");
    assert_eq!(r["supported"], true);
    assert_eq!(r["reboot_required"], true, "{v}");
    assert_eq!(r["reboot_packages"], serde_json::json!(["regie-dummy"]));
    assert_eq!(r["unattended"], true);
    assert_eq!(
        (r["security_count"].as_u64(), r["other_count"].as_u64()),
        (Some(1), Some(1))
    );
    let p = &r["packages"];
    assert_eq!(p[0]["name"], "regie-dummy");
    assert_eq!(p[0]["current"], "1.0");
    assert_eq!(p[0]["candidate"], "1.1");
    assert_eq!(p[0]["security"], true);
    assert_eq!(p[1]["name"], "regie-other");
    assert_eq!(p[1]["security"], false);
    assert!(r["lists_age_seconds"].as_u64().unwrap() < 3600, "{v}");
    let (_, out, _) = os(&[]);
    assert!(out.contains("reboot required by regie-dummy"), "{out}");
    sh(
        &tb,
        "rm -f /var/run/reboot-required /var/run/reboot-required.pkgs",
    );

    // Without lists nothing shows; --refresh updates them first.
    sh(&tb, "rm -rf /var/lib/apt/lists/*");
    let (code, v) = json(&inv, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["report"]["packages"], serde_json::json!([]));
    let (code, v) = json(&inv, &["--refresh"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v[0]["report"]["refreshed"], true);
    assert_eq!(v[0]["report"]["packages"].as_array().unwrap().len(), 2);

    // Unattended upgrades off: bootstrap warns, --install turns them on
    // (the package is in the image: the install step is a no-op).
    sh(&tb, "rm -f /etc/apt/apt.conf.d/20auto-upgrades");
    let (code, v) = json(&inv, &[]);
    assert_eq!(code, 3);
    assert_eq!(v[0]["report"]["unattended"], false);
    assert_eq!(v[0]["report"]["unattended_installed"], true);
    let (code, out, err) = run(&inv, &["bootstrap", "srv1"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("WARN unattended") && l.contains("installed but off")),
        "{out}"
    );
    assert!(
        out.contains("--install would run: apt-get install unattended-upgrades"),
        "{out}"
    );
    let (code, out, err) = run(&inv, &["bootstrap", "srv1", "--install"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.lines().any(|l| l.starts_with("ok   unattended")),
        "{out}"
    );
    let auto = sh(&tb, "cat /etc/apt/apt.conf.d/20auto-upgrades");
    assert!(auto.starts_with("// Managed by regie"), "{auto}");
    let drop_in = sh(&tb, "cat /etc/apt/apt.conf.d/52regie-unattended-upgrades");
    assert!(drop_in.starts_with("// Managed by regie"), "{drop_in}");
    let conf = sh(&tb, "apt-config dump");
    assert!(
        conf.contains("APT::Periodic::Unattended-Upgrade \"1\";"),
        "{conf}"
    );
    assert!(conf.contains("Unattended-Upgrade::Automatic-Reboot \"false\";"));
    // Only the security origins are left of the package's own list.
    assert!(
        !conf.contains("codename=${distro_codename},label=Debian\";"),
        "the point-release origin is cleared: {conf}"
    );
    assert!(conf.contains("codename=${distro_codename}-security,label=Debian-Security"));
    let (_, v) = json(&inv, &[]);
    assert_eq!(v[0]["report"]["unattended"], true);
    // Nothing left to do: a second run installs and writes nothing.
    let (code, out, _) = run(&inv, &["bootstrap", "srv1"]);
    assert_eq!(code, 0);
    assert!(!out.contains("--install would run"), "{out}");

    // unattended-upgrade itself picks the security update only.
    let dry = sh(
        &tb,
        "unattended-upgrade --dry-run --debug 2>&1 | grep -E '^(Packages that will be upgraded|Checking: )' || true",
    );
    assert!(
        dry.lines()
            .any(|l| l.trim() == "Packages that will be upgraded: regie-dummy"),
        "{dry}"
    );
}

#[test]
fn host_selection_and_refresh_as_root() {
    let tb = TestBed::new(1);
    let inv = tb.inventory(
        "  hello:\n    host: srv1\n",
        "  nas:\n    role: nas\n    address: 127.0.0.1\n    path: /srv/backup\n",
    );
    let (code, _, err) = run(&inv, &["update", "os", "--host", "nas"]);
    assert_eq!(code, 1);
    assert!(err.contains("is the NAS"), "{err}");
    let (code, _, err) = run(&inv, &["update", "os", "--host", "nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("no host `nope`"), "{err}");

    // --refresh needs root: a user without sudo gets an error, with sudo
    // it works (no sources: nothing to fetch, no network needed).
    sh(
        &tb,
        "mkdir -p /etc/apt/moved && mv /etc/apt/sources.list /etc/apt/moved/",
    );
    let yaml = std::fs::read_to_string(&inv).unwrap();
    std::fs::write(&inv, yaml.replace("user: root", "user: deploy")).unwrap();
    let (code, out, err) = run(
        &inv,
        &["update", "os", "--refresh", "--accept-new-host-keys"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("needs root"), "{err}");
    std::fs::write(&inv, yaml.replace("user: root", "user: deploy, sudo: true")).unwrap();
    let (code, v) = json(&inv, &["--refresh"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v[0]["report"]["refreshed"], true, "{v}");
}

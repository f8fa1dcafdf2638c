//! Table-driven test of the exact messages for bad inventories.
//!
//! Each `tests/bad/NAME.yml` is paired with `tests/bad/NAME.expected`, the
//! exact standard error of `regie validate`. Every case must exit 2, and
//! `regie render` of it must write nothing (no output directory, no secrets).

use std::path::Path;

use assert_cmd::Command;

fn cases() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir("tests/bad")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    v.sort();
    v
}

#[test]
fn at_least_25_bad_inventories() {
    assert!(cases().len() >= 25, "only {} cases", cases().len());
}

#[test]
fn each_bad_inventory_gives_its_exact_message_and_exit_2() {
    let mut failures = Vec::new();
    for case in cases() {
        let expected_path = case.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected file", case.display()));
        let out = Command::cargo_bin("regie")
            .unwrap()
            .env("NO_COLOR", "1")
            .args(["validate", "-i"])
            .arg(&case)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(2) {
            failures.push(format!(
                "{}: exit {:?}, expected 2",
                case.display(),
                out.status.code()
            ));
        }
        if stderr != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{stderr}",
                case.display()
            ));
        }
        // Every error line names the file, a line and a column.
        for line in stderr.lines().filter(|l| l.starts_with("error: ")) {
            let rest = &line["error: ".len()..];
            let prefix = format!("{}:", case.display());
            assert!(rest.starts_with(&prefix), "{line}");
            let pos: Vec<&str> = rest[prefix.len()..].splitn(3, ':').collect();
            assert!(
                pos[0].parse::<usize>().is_ok() && pos[1].parse::<usize>().is_ok(),
                "no line:column in {line}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn render_of_a_bad_inventory_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    for case in cases() {
        // Copy the case beside a key so a secrets file could be written there.
        let dir = tmp.path().join(case.file_stem().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        let inv = dir.join("site.yml");
        std::fs::copy(&case, &inv).unwrap();
        let out = dir.join("out");
        Command::cargo_bin("regie")
            .unwrap()
            .env("NO_COLOR", "1")
            .env("REGIE_PASSPHRASE", "test passphrase")
            .args(["render", "-i"])
            .arg(&inv)
            .arg("-o")
            .arg(&out)
            .assert()
            .code(2);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("site.yml")],
            "{} wrote files",
            case.display()
        );
        assert!(!Path::new(&out).exists());
    }
}

/// `regie validate --output json` of a bad inventory: exit 2, the report.
fn validate_json(inventory: &str) -> serde_json::Value {
    let out = Command::cargo_bin("regie")
        .unwrap()
        .args(["validate", "--output", "json", "-i", inventory])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{inventory}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_output_lists_diagnostics() {
    let v = validate_json("tests/bad/unknown-service.yml");
    assert_eq!(v["valid"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "services.wikki");
    assert_eq!(d["line"], 18);
    assert_eq!(d["column"], 3);
    assert_eq!(d["hint"], "did you mean `wiki`?");
}

/// A value quoted back in a message cannot forge a line or reach the terminal
/// as an escape sequence, on a terminal-less stderr and with colours on; the
/// JSON output keeps the value exactly as written.
#[test]
fn quoted_values_cannot_forge_lines_or_escape_sequences() {
    for color in [true, false] {
        let mut cmd = Command::cargo_bin("regie").unwrap();
        if color {
            cmd.env_remove("NO_COLOR");
        } else {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd
            .args(["validate", "-i", "tests/bad/inject-service-key.yml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains('\x1b'), "raw ESC in {stderr:?}");
        assert!(!stderr.contains('\x07'), "raw BEL in {stderr:?}");
        let errors: Vec<_> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(errors[0].contains("\\u{1b}]0;pwned"), "{stderr}");
    }
    let v = validate_json("tests/bad/inject-service-key.yml");
    assert_eq!(
        v["diagnostics"][0]["path"],
        "services.chat\nerror: tests/bad/x.yml:1:1: all clear\x1b]0;pwned\x07\x1b[2J"
    );
}

/// An identity file the inventory names but that cannot be used (missing,
/// or holding no age key) stops `render` at the inventory's line for
/// `secrets.identity`, exit 2, before anything is written.
#[test]
fn unusable_identity_named_by_the_inventory_is_reported_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string("tests/bad/bad-enum-setting.yml")
        .unwrap()
        .replace("edition: entreprise", "edition: team");
    let line = base.lines().count() + 2;
    std::fs::write(tmp.path().join("not-a-key.txt"), "hello\n").unwrap();
    for (name, why) in [
        ("missing.txt", "No such file or directory"),
        ("not-a-key.txt", "holds no AGE-SECRET-KEY line"),
    ] {
        let inv = tmp.path().join("site.yml");
        std::fs::write(&inv, format!("{base}secrets:\n  identity: {name}\n")).unwrap();
        let out = tmp.path().join("out");
        let o = Command::cargo_bin("regie")
            .unwrap()
            .env("NO_COLOR", "1")
            .env_remove("REGIE_AGE_IDENTITY")
            .env("REGIE_PASSPHRASE", "a passphrase that must not be used")
            .args(["render", "-i"])
            .arg(&inv)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        let at = format!("site.yml:{line}:13: secrets.identity: cannot use the age identity");
        assert!(err.contains(&at), "{name}: {err}");
        assert!(err.contains(why), "{name}: {err}");
        assert!(!out.exists());
        assert!(!tmp.path().join("site.secrets.age").exists());
    }
}

//! `regie report`: the HTML pages rendered from two fixture sites (a French
//! site over 30 days, a new English site with no history), snapshots of
//! the HTML, static checks (self-contained HTML5) and a real browser:
//! headless Chromium loads each page with no console message, takes a
//! screenshot and prints it to PDF.
//!
//! Chromium is required (Debian: `apt-get install chromium`); without it
//! these tests fail, they never skip. Set `REGIE_REPORT_KEEP=DIR` to keep
//! the pages, screenshots and PDFs for a look.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use regie::status::history::ReportInput;

const CABINET: &str = "tests/fixtures/report/cabinet-durand.json";
const ASSO: &str = "tests/fixtures/report/asso-lan.json";
const TO: u64 = 1_796_083_200; // 2026-12-01T00:00Z
const DAY: u64 = 86_400;
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

fn fixture(path: &str) -> ReportInput {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not a ReportInput: {e}"))
}

fn fixtures() -> Vec<ReportInput> {
    vec![fixture(CABINET), fixture(ASSO)]
}

/// Where pages go: a temporary directory, or `$REGIE_REPORT_KEEP/<name>`.
fn out_dir(name: &str) -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("REGIE_REPORT_KEEP") {
        Some(keep) => {
            let dir = PathBuf::from(keep).join(name);
            let _ = std::fs::remove_dir_all(&dir);
            (None, dir)
        }
        None => {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join(name);
            (Some(tmp), dir)
        }
    }
}

// ---------------------------------------------------------------- fixtures

#[test]
fn fixtures_are_realistic() {
    let c = fixture(CABINET);
    assert_eq!((c.from, c.to), (TO - 30 * DAY, TO));
    assert_eq!(c.status.locale, "fr");
    assert!(
        (300..=400).contains(&c.samples.len()),
        "{} samples",
        c.samples.len()
    );
    assert!(std::fs::metadata(CABINET).unwrap().len() < 1_000_000);
    // 30 days of scheduled backups: one day with a failure, one without any.
    let days_with = |ok: bool| {
        let mut d: Vec<u64> = c
            .backup_runs
            .iter()
            .filter(|r| r.kind == "scheduled" && r.ok == ok && r.time >= c.from)
            .map(|r| r.time / DAY)
            .collect();
        d.dedup();
        d
    };
    assert_eq!(days_with(true).len(), 29);
    assert_eq!(days_with(false).len(), 1);
    assert_eq!(
        c.backup_runs.iter().filter(|r| r.kind == "drill").count(),
        4
    );
    let journal: Vec<&str> = c
        .journal
        .iter()
        .filter(|j| j.time >= c.from)
        .map(|j| j.action.as_str())
        .collect();
    assert_eq!(journal, ["update", "update", "rollback"]);
    assert_eq!(c.findings.len(), 2);
    assert_eq!(c.status.hosts.len(), 2);
    assert!(c.status.nas.is_some());

    let a = fixture(ASSO);
    assert_eq!(a.status.locale, "en");
    assert!(a.samples.is_empty() && a.backup_runs.is_empty());
}

// ---------------------------------------------------------------- snapshots

#[test]
fn site_page_of_a_french_site() {
    let html = regie::report::site_html(&fixture(CABINET));
    for expected in [
        "<html lang=\"fr\">",
        "<title>Cabinet Durand, experts-comptables — Rapport de fonctionnement — 01/12/2026</title>",
        "du 01/11/2026 au 30/11/2026 (30 jours)",
        "Espace disque : srv2:/ se remplit",
        "Le certificat de sécurité de wiki.cabinet-durand.fr demande une action",
        "<a href=\"https://cloud.cabinet-durand.fr\">cloud.cabinet-durand.fr</a>",
        "Retour à la version précédente",
        "38,6\u{a0}Go",
        "heures sont en UTC",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert_eq!(html.matches("<g class=\"day ").count(), 30);
    assert_eq!(html.matches("<g class=\"day failed\">").count(), 1);
    assert_eq!(html.matches("<g class=\"day none\">").count(), 1);
    // Open problems come first, before the services.
    assert!(html.find("id=\"problems\"").unwrap() < html.find("id=\"services\"").unwrap());
    // Nothing from outside the period.
    assert!(
        !html.contains("outside"),
        "an entry from before the period is shown"
    );
    insta::assert_snapshot!("site_cabinet-durand", html);
}

#[test]
fn site_page_of_a_new_english_site() {
    let html = regie::report::site_html(&fixture(ASSO));
    for expected in [
        "<html lang=\"en\">",
        "No readings yet for this period",
        "No backup recorded in this period.",
        "No restore drill in this period.",
        "Les Jardins partagés (&quot;Shared Gardens&quot; &amp; Co)",
        "Backup of files to be checked",
        "2026-11-29",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert!(
        !html.contains("100.0%"),
        "no data must not read as full availability"
    );
    assert!(!html.contains("<svg"), "no chart without data");
    insta::assert_snapshot!("site_asso-lan", html);
}

#[test]
fn fleet_page() {
    let html = regie::report::fleet_html(&fixtures());
    // One English site: the page is in English; the worst site comes first.
    assert!(html.contains("<html lang=\"en\">"));
    let asso = html.find("href=\"asso-les-jardins.html\"").unwrap();
    let cabinet = html.find("href=\"cabinet-durand.html\"").unwrap();
    assert!(asso < cabinet);
    insta::assert_snapshot!("fleet", html);
    let fr = regie::report::fleet_html(&[fixture(CABINET)]);
    assert!(fr.contains("<html lang=\"fr\">") && fr.contains("Vue d&#39;ensemble des sites"));
}

// ---------------------------------------------------------------- static checks

/// Every tag closed in order (void elements and `/>` aside).
fn check_nesting(html: &str) -> Result<(), String> {
    const VOID: [&str; 6] = ["meta", "br", "img", "hr", "input", "link"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>').ok_or("a tag is not closed by '>'")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(top) if top == name => {}
                top => return Err(format!("</{name}> closes {top:?}")),
            }
            continue;
        }
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if !(tag.ends_with('/') || VOID.contains(&name)) {
            stack.push(name.to_string());
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("left open: {stack:?}"))
    }
}

/// The rule for links: nothing is loaded (no `<link>`, `<script>`, `src=`,
/// CSS `url()` other than in-page `url(#…)`, `@import`); the only `href`s
/// are the sites' pages (fleet), in-page anchors and the services' own
/// addresses (`https://<hostname>` of a service in the input).
fn check_self_contained(html: &str, inputs: &[ReportInput]) -> Result<(), String> {
    let lower = html.to_ascii_lowercase();
    for banned in [
        "<link", "<script", " src=", "@import", "<iframe", "<object", "<embed", "<img",
    ] {
        if lower.contains(banned) {
            return Err(format!("{banned} in the page"));
        }
    }
    for (i, _) in lower.match_indices("url(") {
        if !lower[i..].starts_with("url(#") {
            return Err(format!("external url( at {i}"));
        }
    }
    let allowed_https: Vec<String> = inputs
        .iter()
        .flat_map(|i| i.status.services.iter().filter_map(|s| s.hostname.clone()))
        .map(|h| format!("https://{h}"))
        .collect();
    for (i, _) in html.match_indices("href=\"") {
        let target = &html[i + 6..];
        let target = &target[..target.find('"').unwrap()];
        let ok = target.starts_with('#')
            || (target.ends_with(".html") && !target.contains(['/', ':']))
            || allowed_https.iter().any(|a| a == target);
        if !ok {
            return Err(format!("href to {target}"));
        }
    }
    Ok(())
}

#[test]
fn pages_are_self_contained_html5() {
    let inputs = fixtures();
    let mut pages: Vec<(String, String)> = inputs
        .iter()
        .map(|i| (i.status.site.clone(), regie::report::site_html(i)))
        .collect();
    pages.push(("fleet".into(), regie::report::fleet_html(&inputs)));
    for (name, html) in &pages {
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\""), "{name}");
        assert!(html.contains("<meta charset=\"utf-8\">"), "{name}");
        assert!(
            html.contains("<title>") && html.contains("@media print"),
            "{name}"
        );
        assert!(html.contains("Content-Security-Policy"), "{name}");
        check_nesting(html).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_self_contained(html, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The rules do catch what they are for.
    assert!(check_self_contained("<img src=\"https://x/y.png\">", &inputs).is_err());
    assert!(check_self_contained("<a href=\"https://evil.example\">", &inputs).is_err());
    assert!(check_self_contained("<style>a{background:url(http://x)}</style>", &inputs).is_err());
    assert!(check_nesting("<div><p></div></p>").is_err());
}

#[test]
fn write_creates_pages_json_and_index() {
    let inputs = fixtures();
    let (_tmp, dir) = out_dir("write");
    let written = regie::report::write(&dir, &inputs).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "cabinet-durand.html",
            "cabinet-durand.json",
            "asso-les-jardins.html",
            "asso-les-jardins.json",
            "index.html"
        ]
    );
    for input in &inputs {
        let site = &input.status.site;
        let json = std::fs::read_to_string(dir.join(format!("{site}.json"))).unwrap();
        let back: ReportInput = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, input, "{site}.json does not re-read as its input");
        let html = std::fs::read_to_string(dir.join(format!("{site}.html"))).unwrap();
        assert_eq!(html, regie::report::site_html(input));
    }
    // Deterministic: a second run writes the same bytes, and leaves no
    // temporary file behind.
    let first: Vec<Vec<u8>> = written.iter().map(|p| std::fs::read(p).unwrap()).collect();
    regie::report::write(&dir, &inputs).unwrap();
    let second: Vec<Vec<u8>> = written.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(first, second);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 5);
}

/// Runs once `regie report --from-json` is wired in the CLI.
#[test]
fn cli_report_from_json() {
    let (_tmp, dir) = out_dir("cli");
    let out = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args(["report", "--from-json", CABINET, "--from-json", ASSO, "-o"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "regie report --from-json failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let inputs = fixtures();
    for input in &inputs {
        let html =
            std::fs::read_to_string(dir.join(format!("{}.html", input.status.site))).unwrap();
        assert_eq!(html, regie::report::site_html(input));
    }
    let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert_eq!(index, regie::report::fleet_html(&inputs));
}

// ---------------------------------------------------------------- Chromium

fn chromium_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "chromium is not installed: the report tests load the pages in a real browser \
         (Debian: apt-get install chromium)"
    );
}

/// What one Chromium run printed on stderr.
struct Run {
    stderr: String,
}

impl Run {
    /// Console messages (errors, uncaught exceptions, blocked loads):
    /// Chromium prints them as `...:INFO:CONSOLE:<line>] "message", source: ...`
    /// with `--enable-logging=stderr`.
    fn console(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .collect()
    }
}

/// Run headless Chromium on `page` with `action` (`--screenshot=...` or
/// `--print-to-pdf=...`); killed (with its child processes) after
/// [`CHROMIUM_TIMEOUT`].
fn chromium(page: &Path, action: &str, work: &Path) -> Run {
    let profile = tempfile::tempdir().unwrap();
    let log_path = work.join(format!(
        "chromium-{}.log",
        page.file_name().unwrap().to_string_lossy()
    ));
    let log = File::create(&log_path).unwrap();
    let mut child = Command::new(chromium_binary())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-pdf-header-footer",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(action)
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("starting chromium");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > CHROMIUM_TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "chromium did not finish within {CHROMIUM_TIMEOUT:?} on {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed on {}: {status}\n{stderr}",
        page.display()
    );
    Run { stderr }
}

fn screenshot(page: &Path, work: &Path) -> (Run, Vec<u8>) {
    let png = work.join(format!(
        "{}.png",
        page.file_stem().unwrap().to_string_lossy()
    ));
    let run = chromium(page, &format!("--screenshot={}", png.display()), work);
    let bytes =
        std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot of {}: {e}", page.display()));
    (run, bytes)
}

#[test]
fn pages_load_in_chromium_without_console_messages_and_print() {
    let (_tmp, dir) = out_dir("chromium");
    let written = regie::report::write(&dir, &fixtures()).unwrap();
    for page in written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
    {
        let (run, png) = screenshot(page, &dir);
        assert!(
            run.console().is_empty(),
            "{}: console messages:\n{}",
            page.display(),
            run.console().join("\n")
        );
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{}: not a PNG",
            page.display()
        );
        assert!(
            png.len() > 10_000,
            "{}: screenshot of {} bytes",
            page.display(),
            png.len()
        );

        let pdf = dir.join(format!(
            "{}.pdf",
            page.file_stem().unwrap().to_string_lossy()
        ));
        let run = chromium(page, &format!("--print-to-pdf={}", pdf.display()), &dir);
        assert!(
            run.console().is_empty(),
            "{}: {:?}",
            page.display(),
            run.console()
        );
        let bytes =
            std::fs::read(&pdf).unwrap_or_else(|e| panic!("no PDF of {}: {e}", page.display()));
        assert!(bytes.starts_with(b"%PDF-"), "{}: not a PDF", page.display());
        assert!(
            bytes.len() > 10_000,
            "{}: PDF of {} bytes",
            page.display(),
            bytes.len()
        );
    }
}

/// The console check can fail: a script error, and an external image that
/// the pages' Content-Security-Policy blocks, are both reported.
#[test]
fn chromium_console_check_catches_a_broken_page() {
    let (_tmp, dir) = out_dir("chromium-broken");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'\">\
         <title>broken</title></head><body><p>broken</p>\
         <img src=\"https://example.com/logo.png\" alt=\"\">\
         <script>console.error(\"x-console-error\"); undefined_fn()</script></body></html>",
    )
    .unwrap();
    let (run, png) = screenshot(&page, &dir);
    let console = run.console().join("\n");
    assert!(
        console.contains("x-console-error"),
        "console.error not seen:\n{}",
        run.stderr
    );
    assert!(
        console.contains("undefined_fn is not defined"),
        "exception not seen:\n{}",
        run.stderr
    );
    assert!(
        console.contains("https://example.com/logo.png"),
        "blocked load not seen:\n{}",
        run.stderr
    );
    assert!(png.starts_with(b"\x89PNG"));
}

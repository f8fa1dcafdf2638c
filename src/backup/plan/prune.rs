//! Retention from the trusted side. With append-only access the hosts can
//! no longer forget or prune, so regie runs restic on the NAS itself, over
//! its own SSH access (a key the hosts never hold), against the repository
//! directories: the script below, its per-host record on the NAS, and the
//! warnings `backup status` draws from those records (retention that has
//! not run for too long, a repository growing faster than usual).

use serde::{Deserialize, Serialize};

use crate::site::inventory::Keep;
use crate::util::shell::quote;

/// The NAS file holding one JSON line per host and retention run, beside
/// the repositories (`<base>/` + this). The hosts' key cannot reach it: it
/// serves `<base>/<host>` only.
pub const RETENTION_LOG: &str = ".regie-retention.jsonl";

/// Retention older than this many days is reported by `backup status`.
pub const RETENTION_MAX_DAYS: u64 = 10;

/// `regie maintain` runs retention, in its window, when the last one on
/// a repository is older than this many days.
pub const PRUNE_EVERY_DAYS: u64 = 7;

/// Whether retention is due: a repository whose last successful run is
/// older than [`PRUNE_EVERY_DAYS`], or that never had one.
pub fn prune_due(repos: &[NasRepo], records: &[RetentionRecord], now: u64) -> bool {
    repos.iter().any(|r| {
        records
            .iter()
            .filter(|x| x.ok && x.host == r.host)
            .map(|x| x.time)
            .max()
            .is_none_or(|t| now.saturating_sub(t) >= PRUNE_EVERY_DAYS * 86400)
    })
}

/// A repository growing this many times faster than its usual rate, by at
/// least [`GROWTH_MIN_KIB`], is reported.
pub const GROWTH_FACTOR: u64 = 3;
pub const GROWTH_MIN_KIB: u64 = 100 * 1024;

/// `--keep-*` flags of a policy.
pub fn keep_flags(k: &Keep) -> Vec<String> {
    let mut v = Vec::new();
    for (flag, n) in [
        ("--keep-last", k.last),
        ("--keep-daily", k.daily),
        ("--keep-weekly", k.weekly),
        ("--keep-monthly", k.monthly),
    ] {
        if n > 0 {
            v.push(flag.to_string());
            v.push(n.to_string());
        }
    }
    v
}

/// On the NAS, as regie's own user: forget per service by the site's
/// policy (captures taken before a restore are kept), prune, and record the
/// result. The repository password comes on stdin (never on a command
/// line) and lives in a 0600 temporary file for the run.
pub fn prune_script(base: &str, host: &str, services: &[String], keep: &Keep) -> String {
    let repo = format!("{base}/{host}");
    let keep = keep_flags(keep)
        .iter()
        .map(|f| quote(f))
        .collect::<Vec<_>>()
        .join(" ");
    let mut forget = String::new();
    for s in services {
        forget.push_str(&format!(
            "  R forget --host {h} --tag {a} --tag {b} --group-by host,paths {keep} >>\"$t/out\" 2>&1 || {{ fail \"forget {s} failed\"; return; }}\n",
            h = quote(host),
            a = quote(&format!("service={s},kind=scheduled")),
            b = quote(&format!("service={s},kind=manual")),
        ));
    }
    format!(
        r#"set -u
umask 077
repo={repo}
log={log}
host={host}
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
cat >"$t/pw"
command -v restic >/dev/null 2>&1 || {{ echo "restic is not installed on the NAS (needed for retention)" >&2; exit 3; }}
R() {{ restic -r "$repo" --password-file "$t/pw" --cache-dir "$t/cache" "$@"; }}
kib() {{ du -sk "$repo" 2>/dev/null | awk '{{print $1}}'; }}
count() {{ R snapshots --json --no-lock 2>>"$t/out" | grep -o '"short_id"' | wc -l | tr -d ' '; }}
record() {{ # OK ERROR
  line="{{\"time\":$(date +%s),\"host\":\"$host\",\"ok\":$1,\"snapshots_before\":${{n0:-0}},\"snapshots_after\":${{n1:-0}},\"kib_before\":${{k0:-0}},\"kib_after\":${{k1:-0}},\"seconds\":$(($(date +%s) - t0)),\"error\":\"$2\"}}"
  printf '%s\n' "$line" >>"$log"
  printf '==regie:result %s\n' "$line"
}}
fail() {{
  k1=$(kib); n1=${{n0:-0}}
  record false "$1: $(tail -n 3 "$t/out" | tr -d '"\\' | tr '\n\t' '  ')"
  rc=1
}}
run() {{
  t0=$(date +%s)
  [ -f "$repo/config" ] || {{ fail "no repository at $repo"; return; }}
  k0=$(kib)
  n0=$(count)
{forget}  R prune >>"$t/out" 2>&1 || {{ fail "prune failed"; return; }}
  k1=$(kib)
  n1=$(count)
  record true ""
}}
rc=0
run
exit $rc
"#,
        repo = quote(&repo),
        log = quote(&format!("{base}/{RETENTION_LOG}")),
        host = quote(host),
    )
}

/// On the NAS: the retention records of the site, then one line per host
/// `HOST KIB CREATED` (repository size in KiB, its config file's time; `-`
/// when there is no repository).
pub fn nas_repos_script(base: &str, hosts: &[String]) -> String {
    let mut s = format!(
        "tail -n 2000 {} 2>/dev/null || true\necho '==regie:repos'\n",
        quote(&format!("{base}/{RETENTION_LOG}"))
    );
    for h in hosts {
        let r = quote(&format!("{base}/{h}"));
        s.push_str(&format!(
            "if [ -f {r}/config ]; then echo {h} \"$(du -sk {r} | awk '{{print $1}}')\" \"$(date -r {r}/config +%s 2>/dev/null || stat -c %Y {r}/config)\"; else echo {h} - -; fi\n",
            h = quote(h),
        ));
    }
    s
}

/// One retention run on the NAS, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRecord {
    pub time: u64,
    pub host: String,
    pub ok: bool,
    #[serde(default)]
    pub snapshots_before: u64,
    #[serde(default)]
    pub snapshots_after: u64,
    #[serde(default)]
    pub kib_before: u64,
    #[serde(default)]
    pub kib_after: u64,
    #[serde(default)]
    pub seconds: u64,
    #[serde(default)]
    pub error: String,
}

/// A repository as seen on the NAS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NasRepo {
    pub host: String,
    pub kib: u64,
    pub created: u64,
}

/// Records (JSON lines, then `==regie:repos`) and repositories from the
/// output of [`nas_repos_script`] or a prune.
pub fn parse_nas_repos(text: &str) -> (Vec<RetentionRecord>, Vec<NasRepo>) {
    let mut recs = Vec::new();
    let mut repos = Vec::new();
    let mut in_repos = false;
    for l in text.lines() {
        if l == "==regie:repos" {
            in_repos = true;
            continue;
        }
        let l = l.strip_prefix("==regie:result ").unwrap_or(l);
        if !in_repos {
            if let Ok(r) = serde_json::from_str(l) {
                recs.push(r);
            }
            continue;
        }
        let w: Vec<&str> = l.split_whitespace().collect();
        if let [h, kib, created] = w.as_slice() {
            if let (Ok(kib), Ok(created)) = (kib.parse(), created.parse()) {
                repos.push(NasRepo {
                    host: h.to_string(),
                    kib,
                    created,
                });
            }
        }
    }
    (recs, repos)
}

/// What `backup status` says about one repository's retention and growth.
pub fn retention_warnings(repo: &NasRepo, records: &[RetentionRecord], now: u64) -> Vec<String> {
    let day = 86400;
    let mut out = Vec::new();
    let mut mine: Vec<&RetentionRecord> = records
        .iter()
        .filter(|r| r.host == repo.host && r.ok)
        .collect();
    mine.sort_by_key(|r| r.time);
    let max = RETENTION_MAX_DAYS * day;
    match mine.last() {
        None if now.saturating_sub(repo.created) > max => out.push(format!(
            "{}: retention has never run on this repository, created {} days ago: run `regie backup prune`",
            repo.host,
            now.saturating_sub(repo.created) / day
        )),
        Some(r) if now.saturating_sub(r.time) > max => out.push(format!(
            "{}: retention last ran {} days ago (more than {RETENTION_MAX_DAYS}): run `regie backup prune`",
            repo.host,
            now.saturating_sub(r.time) / day
        )),
        _ => {}
    }
    // Growth between runs: from the size left by one run to the size the
    // next found, per day.
    let rate = |kib: u64, from: &RetentionRecord, t: u64| -> Option<u64> {
        let dt = t.saturating_sub(from.time);
        (dt >= 3600).then(|| kib.saturating_sub(from.kib_after) * day / dt)
    };
    let mut usual: Vec<u64> = mine
        .windows(2)
        .filter_map(|w| rate(w[1].kib_before, w[0], w[1].time))
        .collect();
    if let (Some(last), true) = (mine.last(), usual.len() >= 2) {
        usual.sort_unstable();
        let median = usual[usual.len() / 2];
        let grown = repo.kib.saturating_sub(last.kib_after);
        if let Some(now_rate) = rate(repo.kib, last, now) {
            if grown >= GROWTH_MIN_KIB && now_rate > GROWTH_FACTOR * median.max(1024) {
                out.push(format!(
                    "{}: the repository grows {} MiB a day since the last retention, usually {} MiB: a host writing much more than usual (new data, or files being encrypted)?",
                    repo.host,
                    now_rate / 1024,
                    median / 1024
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(time: u64, before: u64, after: u64) -> RetentionRecord {
        RetentionRecord {
            time,
            host: "srv1".into(),
            ok: true,
            snapshots_before: 0,
            snapshots_after: 0,
            kib_before: before,
            kib_after: after,
            seconds: 1,
            error: String::new(),
        }
    }
    const D: u64 = 86400;

    #[test]
    fn old_or_missing_retention_is_reported() {
        let repo = |created| NasRepo {
            host: "srv1".into(),
            kib: 1000,
            created,
        };
        let now = 100 * D;
        assert!(retention_warnings(&repo(now - 2 * D), &[], now).is_empty());
        let w = retention_warnings(&repo(now - 20 * D), &[], now);
        assert!(w[0].contains("never run"), "{w:?}");
        let w = retention_warnings(&repo(0), &[rec(now - 11 * D, 1, 1)], now);
        assert!(w[0].contains("last ran 11 days ago"), "{w:?}");
        assert!(retention_warnings(&repo(0), &[rec(now - 3 * D, 1, 1)], now).is_empty());
        // A failed run does not count, another host's neither.
        let mut failed = rec(now - D, 1, 1);
        failed.ok = false;
        let mut other = rec(now - D, 1, 1);
        other.host = "srv2".into();
        assert_eq!(
            retention_warnings(&repo(0), &[rec(now - 11 * D, 1, 1), failed, other], now).len(),
            1
        );
    }

    #[test]
    fn fast_growth_is_reported_against_the_usual_rate() {
        let now = 100 * D;
        // Weekly runs, about 10 MiB a day in between.
        let recs = [
            rec(now - 21 * D, 0, 100_000),
            rec(now - 14 * D, 170_000, 110_000),
            rec(now - 7 * D, 180_000, 120_000),
        ];
        let repo = |kib| NasRepo {
            host: "srv1".into(),
            kib,
            created: 0,
        };
        // One day later: 10 MiB more, as usual.
        assert!(retention_warnings(&repo(130_240), &recs, now - 6 * D).is_empty());
        // 2 GiB in a day: a host encrypting its files?
        let w = retention_warnings(&repo(120_000 + 2 * 1024 * 1024), &recs, now - 6 * D);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("2048 MiB a day"), "{w:?}");
        // Fast but small (under 100 MiB): not reported.
        assert!(retention_warnings(&repo(120_000 + 90 * 1024), &recs, now - 6 * D).is_empty());
        // No history to compare with: nothing said.
        assert!(retention_warnings(&repo(9_000_000), &recs[2..], now - 6 * D).is_empty());
    }

    #[test]
    fn prune_is_due_weekly_per_repository() {
        let repo = |h: &str| NasRepo {
            host: h.into(),
            kib: 1,
            created: 0,
        };
        let now = 100 * D;
        let mut r2 = rec(now - 8 * D, 1, 1);
        r2.host = "srv2".into();
        assert!(!prune_due(&[repo("srv1")], &[rec(now - 2 * D, 1, 1)], now));
        assert!(prune_due(&[repo("srv1")], &[], now));
        assert!(prune_due(
            &[repo("srv1"), repo("srv2")],
            &[rec(now - 2 * D, 1, 1), r2],
            now
        ));
    }

    #[test]
    fn nas_output_is_read() {
        let text = "{\"time\":5,\"host\":\"srv1\",\"ok\":true,\"kib_before\":9,\"kib_after\":7}\nnot json\n==regie:repos\nsrv1 120 1000\nsrv2 - -\n";
        let (recs, repos) = parse_nas_repos(text);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].kib_after, 7);
        assert_eq!(
            repos,
            vec![NasRepo {
                host: "srv1".into(),
                kib: 120,
                created: 1000
            }]
        );
    }

    /// The prune script is valid sh and keeps the password off its
    /// command lines.
    #[test]
    fn prune_script_parses_and_reads_the_password_from_stdin() {
        let s = prune_script(
            "/srv/it's",
            "srv1",
            &["notes".into(), "files".into()],
            &Keep::default(),
        );
        assert!(s.contains("cat >\"$t/pw\""));
        assert!(s.contains("'--keep-daily' '7'"));
        assert!(s.contains("'service=files,kind=manual'"));
        let o = std::process::Command::new("sh")
            .arg("-n")
            .arg("-c")
            .arg(&s)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

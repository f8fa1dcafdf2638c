//! Reading what the backup script reports: its `==regie:result` and
//! `==regie:step` lines, restic snapshots grouped into captures, and the
//! per-service backup status (last success, freshness, last drill).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::site::state::{BackupStatus, MAX_AGE_SECS};

/// One `==regie:result` line of the script.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub time: u64,
    pub kind: String,
    #[serde(default)]
    pub service: Option<String>,
    pub ok: bool,
    #[serde(default)]
    pub capture: Option<String>,
    #[serde(default)]
    pub snapshots: Vec<String>,
    #[serde(default)]
    pub bytes_added: u64,
    #[serde(default)]
    pub seconds: u64,
    #[serde(default)]
    pub check_seconds: Option<u64>,
    #[serde(default)]
    pub restore_seconds: Option<u64>,
    #[serde(default)]
    pub files_checked: Option<u64>,
    #[serde(default)]
    pub from: Option<String>,
    /// `offsite` for a restore or drill from the off-site copy.
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub error: String,
}

/// Results and steps from the script's output (or its log file).
pub fn parse_results(out: &str) -> (Vec<RunResult>, Vec<String>) {
    let mut res = Vec::new();
    let mut steps = Vec::new();
    for l in out.lines() {
        if let Some(j) = l.strip_prefix("==regie:result ") {
            if let Ok(r) = serde_json::from_str(j) {
                res.push(r);
            }
        } else if let Some(s) = l.strip_prefix("==regie:step ") {
            steps.push(s.to_string());
        } else if l.starts_with('{') {
            if let Ok(r) = serde_json::from_str(l) {
                res.push(r);
            }
        }
    }
    (res, steps)
}

/// A restic snapshot (`snapshots --json`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Snapshot {
    pub time: String,
    pub short_id: String,
    pub id: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The snapshot this one was copied from (`restic copy`).
    #[serde(default)]
    pub original: Option<String>,
}

impl Snapshot {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
    }
}

/// A capture: a service's snapshots sharing a `capture=` tag.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureInfo {
    pub capture: String,
    pub service: String,
    pub host: String,
    pub time: String,
    /// The files snapshot's short id (what `--snapshot` takes).
    pub id: String,
    pub snapshots: Vec<String>,
    pub dumps: Vec<String>,
    pub pre_restore: bool,
}

pub fn group_captures(snaps: &[Snapshot]) -> Vec<CaptureInfo> {
    let mut by: BTreeMap<String, CaptureInfo> = BTreeMap::new();
    for s in snaps {
        let Some(cap) = s.tag("capture") else {
            continue;
        };
        let e = by.entry(cap.to_string()).or_insert_with(|| CaptureInfo {
            capture: cap.to_string(),
            service: s.tag("service").unwrap_or("?").to_string(),
            host: s.tag("host").unwrap_or(&s.hostname).to_string(),
            time: s.time.clone(),
            id: String::new(),
            snapshots: Vec::new(),
            dumps: Vec::new(),
            pre_restore: false,
        });
        e.snapshots.push(s.short_id.clone());
        if s.tag("part") == Some("files") {
            e.id = s.short_id.clone();
            e.time = s.time.clone();
        } else {
            e.dumps.extend(s.paths.iter().cloned());
        }
        if s.tags.iter().any(|t| t == "pre-restore") {
            e.pre_restore = true;
        }
    }
    let mut v: Vec<CaptureInfo> = by.into_values().filter(|c| !c.id.is_empty()).collect();
    v.sort_by(|a, b| a.time.cmp(&b.time));
    v
}

pub fn service_status(
    host: &str,
    services: &[String],
    log: &[RunResult],
    now: u64,
) -> Vec<BackupStatus> {
    services
        .iter()
        .map(|s| {
            let mine = log
                .iter()
                .filter(|r| r.service.as_deref() == Some(s.as_str()));
            let caps: Vec<&RunResult> = mine
                .clone()
                .filter(|r| r.kind != "drill" && r.kind != "restore")
                .collect();
            let ok = caps.iter().filter(|r| r.ok).map(|r| r.time).max();
            let last = caps.iter().max_by_key(|r| r.time);
            let drill = mine.filter(|r| r.kind == "drill").max_by_key(|r| r.time);
            let age = ok.map(|t| now.saturating_sub(t));
            BackupStatus {
                host: host.to_string(),
                service: s.clone(),
                last_success: ok,
                last_run: last.map(|r| r.time),
                last_error: last.filter(|r| !r.ok).map(|r| r.error.clone()),
                age_hours: age.map(|a| (a as f64 / 360.0).round() / 10.0),
                fresh: age.is_some_and(|a| a <= MAX_AGE_SECS),
                last_drill: drill.map(|r| r.time),
                last_drill_ok: drill.map(|r| r.ok),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_steps_are_parsed_and_noise_ignored() {
        let out = "==regie:step files: capture x\nrestic noise\n==regie:result {\"time\":5,\"kind\":\"manual\",\"service\":\"files\",\"ok\":false,\"capture\":\"c\",\"snapshots\":[],\"bytes_added\":0,\"seconds\":1,\"error\":\"dump failed\"}\n==regie:result {broken\n";
        let (r, s) = parse_results(out);
        assert_eq!(s, vec!["files: capture x"]);
        assert_eq!(r.len(), 1);
        assert!(!r[0].ok);
        assert_eq!(r[0].error, "dump failed");
    }

    fn rr(time: u64, service: &str, kind: &str, ok: bool) -> RunResult {
        RunResult {
            time,
            kind: kind.into(),
            service: Some(service.into()),
            ok,
            error: if ok { String::new() } else { "boom".into() },
            ..Default::default()
        }
    }

    #[test]
    fn status_uses_the_last_success_and_the_policy_age() {
        let now = 1_000_000;
        let log = vec![
            rr(now - 30 * 3600, "chat", "scheduled", true),
            rr(now - 3600, "chat", "scheduled", false),
            rr(now - 3600, "files", "scheduled", true),
            rr(now - 10, "files", "drill", false),
        ];
        let st = service_status(
            "srv1",
            &["chat".into(), "files".into(), "wiki".into()],
            &log,
            now,
        );
        assert_eq!(st[0].last_success, Some(now - 30 * 3600));
        assert!(!st[0].fresh, "30 h old is stale");
        assert_eq!(st[0].last_error.as_deref(), Some("boom"));
        assert!(st[1].fresh);
        assert_eq!(st[1].last_drill_ok, Some(false));
        assert_eq!(
            st[1].last_success,
            Some(now - 3600),
            "a drill is not a backup"
        );
        assert!(!st[2].fresh && st[2].last_success.is_none());
    }

    #[test]
    fn captures_group_by_tag() {
        let s = |short: &str, time: &str, tags: &[&str], path: &str| Snapshot {
            time: time.into(),
            short_id: short.into(),
            id: short.into(),
            hostname: "h".into(),
            paths: vec![path.into()],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            original: None,
        };
        let g = group_captures(&[
            s(
                "a1",
                "2026-01-01T02:30:00Z",
                &["service=chat", "capture=c1", "part=dump"],
                "/dumps/m.pgdump",
            ),
            s(
                "a2",
                "2026-01-01T02:30:05Z",
                &["service=chat", "capture=c1", "part=files"],
                "/volumes/x",
            ),
            s(
                "b1",
                "2026-01-02T02:30:05Z",
                &["service=chat", "capture=c2", "part=files", "pre-restore"],
                "/volumes/x",
            ),
            s(
                "z9",
                "2026-01-02T02:30:05Z",
                &["service=chat", "capture=c3", "part=dump"],
                "/dumps/m.pgdump",
            ),
        ]);
        assert_eq!(
            g.len(),
            2,
            "a capture without its files snapshot is not listed"
        );
        assert_eq!(g[0].id, "a2");
        assert_eq!(g[0].snapshots, vec!["a1", "a2"]);
        assert_eq!(g[0].dumps, vec!["/dumps/m.pgdump"]);
        assert!(g[1].pre_restore);
    }
}

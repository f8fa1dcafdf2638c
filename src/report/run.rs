//! `regie report`: gathers each site's status, its stored readings and the
//! hosts' own logs (backup runs, deploy and update journal), then writes the
//! pages with [`crate::report`].

use anyhow::Result;
use serde_json::Value;

use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::Resolved;
use crate::site::layout::{self, BACKUP_DIR};
use crate::status::history::{BackupRun, JournalEntry, ReportInput};
use crate::status::run::Collect;
use crate::util::shell::quote;

/// One line of a host's journal, as a report entry. Deploy lines carry no
/// `kind`; update and PostgreSQL upgrade lines do.
pub fn journal_entry(host: &str, v: &Value) -> Option<JournalEntry> {
    let time = v["at"].as_u64()?;
    let kind = v["kind"].as_str().unwrap_or("deploy");
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let (service, ok, detail) = match kind {
        "deploy" => {
            let changed: Vec<String> = v["stacks_changed"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let failed = v["failed"].as_array().map(|a| a.len()).unwrap_or(0);
            let files = v["files"].as_array().map(|a| a.len()).unwrap_or(0);
            (
                (!changed.is_empty()).then(|| changed.join(", ")),
                failed == 0,
                format!("{files} file(s) changed"),
            )
        }
        _ => {
            let outcome = text("outcome").unwrap_or_else(|| "done".into());
            let ok = matches!(
                outcome.as_str(),
                "updated" | "completed" | "done" | "up-to-date"
            ) && v["error"].is_null();
            let tag = |k: &str| {
                text(k)
                    .map(|s| crate::site::image::image_tag(&s).unwrap_or(&s).to_string())
                    .unwrap_or_else(|| "?".into())
            };
            (
                text("service"),
                ok,
                format!("{} -> {} ({outcome})", tag("from"), tag("to")),
            )
        }
    };
    Some(JournalEntry {
        host: host.to_string(),
        time,
        action: kind.to_string(),
        service,
        ok,
        detail,
    })
}

/// Backup runs of a host's log between `from` and `to`.
pub fn backup_runs(host: &str, log: &str, from: u64, to: u64) -> Vec<BackupRun> {
    let (results, _) = crate::backup::plan::parse_results(log);
    results
        .into_iter()
        .filter(|r| r.time >= from && r.time <= to)
        .map(|r| BackupRun {
            host: host.to_string(),
            time: r.time,
            kind: r.kind,
            service: r.service,
            ok: r.ok,
            bytes_added: r.bytes_added,
            seconds: r.seconds,
            error: r.error,
        })
        .collect()
}

/// Both logs of a host in one round trip; the backup log whole (a year of
/// daily runs of a few services is a few hundred kB).
fn logs_script(base: &str) -> String {
    format!(
        "echo '==regie:runs'; cat {runs} 2>/dev/null\n\
         echo '==regie:journal'; cat {journal} 2>/dev/null\n\
         echo '==regie:end'\n",
        runs = quote(&format!("{base}/{BACKUP_DIR}/runs.jsonl")),
        journal = quote(&layout::journal(base)),
    )
}

fn split_logs(out: &str) -> (&str, &str) {
    let after_runs = out.split_once("==regie:runs\n").map(|x| x.1).unwrap_or("");
    let (runs, rest) = after_runs
        .split_once("==regie:journal\n")
        .unwrap_or((after_runs, ""));
    let journal = rest.split_once("==regie:end").map(|x| x.0).unwrap_or(rest);
    (runs, journal)
}

/// Gather one site's report input.
pub fn gather(site: &Resolved, o: &RunOptions, days: u32, versions: bool) -> Result<ReportInput> {
    let status = crate::status::run::collect(
        site,
        &Collect {
            run: o.clone(),
            versions,
            os: true,
            tls: true,
        },
    );
    crate::status::history::record_quietly(&status);
    let to = status.time;
    let from = to.saturating_sub(days as u64 * 86400);
    let t = site.inv.monitoring.thresholds.clone();
    let findings = crate::status::check::judge(&status, &t);
    let mut input = ReportInput {
        findings,
        from,
        to,
        contact: site.inv.site.contact.clone(),
        domain: site.inv.site.domain.clone(),
        ..Default::default()
    };
    if let Some(state) = crate::site::site_files::state_dir() {
        input.samples = crate::status::history::load(&state, &site.inv.site.name, from, to)?;
    }
    for h in status.hosts.iter().filter(|h| h.reachable) {
        let base = &site.inv.hosts[&h.host].base_dir;
        let res = (|| -> Result<()> {
            let conn = connect(site, &h.host, o)?;
            let out = conn.run(&logs_script(base), b"")?;
            let text = String::from_utf8_lossy(&out.stdout);
            let (runs, journal) = split_logs(&text);
            input
                .backup_runs
                .extend(backup_runs(&h.host, runs, from, to));
            input.journal.extend(
                journal
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .filter_map(|v| journal_entry(&h.host, &v))
                    .filter(|e| e.time >= from && e.time <= to),
            );
            if !crate::backup::plan::captures(site, &h.host).is_empty() {
                if let (Some(size), _) = crate::backup::run::repo_size(&conn, base)? {
                    input.repository_bytes.push((h.host.clone(), size));
                }
            }
            Ok(())
        })();
        if let Err(e) = res {
            eprintln!("warning: {}: logs not read: {e:#}", h.host);
        }
    }
    input.backup_runs.sort_by_key(|r| r.time);
    input.journal.sort_by_key(|e| e.time);
    input.status = status;
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lines_become_entries() {
        let deploy = serde_json::json!({"at": 10, "by": "alice", "files": [{"path": "a"}, {"path": "b"}], "stacks_changed": ["files", "wiki"], "failed": []});
        let e = journal_entry("srv1", &deploy).unwrap();
        assert_eq!((e.action.as_str(), e.ok), ("deploy", true));
        assert_eq!(e.service.as_deref(), Some("files, wiki"));
        assert_eq!(e.detail, "2 file(s) changed");
        let upd = serde_json::json!({"at": 20, "kind": "update", "service": "files", "from": "nextcloud:34.0.2-apache", "to": "nextcloud:34.0.3-apache", "outcome": "rolled-back", "error": "health"});
        let e = journal_entry("srv1", &upd).unwrap();
        assert!(!e.ok);
        assert_eq!(e.detail, "34.0.2-apache -> 34.0.3-apache (rolled-back)");
        let ok = serde_json::json!({"at": 30, "kind": "update", "service": "files", "from": "x:1", "to": "x:2", "outcome": "updated", "error": null});
        assert!(journal_entry("srv1", &ok).unwrap().ok);
        assert!(journal_entry("srv1", &serde_json::json!({"kind": "update"})).is_none());
    }

    #[test]
    fn logs_split_and_filter_by_period() {
        let out = "==regie:runs\n{\"time\":5,\"kind\":\"scheduled\",\"service\":\"files\",\"ok\":true,\"bytes_added\":7}\n\
                   {\"time\":50,\"kind\":\"drill\",\"service\":\"files\",\"ok\":false,\"error\":\"x\"}\n\
                   ==regie:journal\n{\"at\":1}\n==regie:end\n";
        let (runs, journal) = split_logs(out);
        assert_eq!(journal.trim(), "{\"at\":1}");
        let r = backup_runs("srv1", runs, 0, 10);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].bytes_added, r[0].kind.as_str()), (7, "scheduled"));
        assert_eq!(backup_runs("srv1", runs, 0, 100).len(), 2);
    }
}

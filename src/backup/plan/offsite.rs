//! The off-site copy, pure part. Each host's repository on the NAS is
//! copied to a second SSH server in another building with `restic copy`,
//! which regie starts on the NAS over its own access. The NAS writes
//! through a key of its own that the off-site server forces to `rclone
//! serve restic --append-only` (as the NAS does for the hosts): a NAS taken
//! over can add to the off-site copy, never delete from it, and the
//! off-site server holds no key to the NAS. The hosts' key is let in the
//! same way, so that they restore and drill from the copy when the NAS is
//! gone. Retention there runs with regie's access, like on the NAS.
//!
//! Here: where the copy is, the NAS's known_hosts for it, the scripts run on
//! the NAS (installing its key, copying, reading the records), the copy
//! records and the warnings drawn from them.

use serde::{Deserialize, Serialize};

use crate::site::inventory::{parse_host_port, Keep, Resolved};
use crate::util::shell::{known_hosts_name, quote};

use super::nas::ssh_program;
use super::repo::repo_dir;
use super::results::Snapshot;

/// On the NAS, beside the repositories: one JSON line per host and copy.
/// The hosts' key cannot reach it (it serves `<base>/<host>` only).
pub const COPY_LOG: &str = ".regie-offsite.jsonl";

/// On the NAS, beside the repositories: the NAS's key to the off-site
/// server (mode 0600) and that server's host key.
pub const PUSH_DIR: &str = ".regie-offsite";

/// `regie maintain` copies, in its window, when the last successful copy of
/// a repository is older than this.
pub const COPY_EVERY_HOURS: u64 = 20;

/// A last successful copy older than this is reported by `backup status`.
pub const COPY_MAX_HOURS: u64 = 48;

/// Where the off-site copy of a site's repositories is.
#[derive(Debug, Clone)]
pub struct OffsiteRepo {
    /// The inventory host.
    pub host: String,
    pub user: String,
    /// How regie reaches it.
    pub address: String,
    pub port: u16,
    /// How the NAS and the site's servers reach it.
    pub site_address: String,
    pub site_port: u16,
    /// `<path>/<site>`; each host's repository is `<base>/<host>`.
    pub base: String,
    pub keep: Keep,
}

impl OffsiteRepo {
    /// The off-site copy of the site, if the inventory names one (and the
    /// backups go to a NAS or server).
    pub fn of(site: &Resolved) -> Option<OffsiteRepo> {
        let b = site.inv.backup.as_ref()?;
        let o = b.offsite.as_ref()?;
        if b.to == "local" {
            return None;
        }
        let h = site.inv.hosts.get(&o.to)?;
        let path = repo_dir(o.path.as_deref(), h);
        let port = h.ssh.port.unwrap_or(22);
        let (site_address, site_port) = o
            .address_from_site
            .as_deref()
            .and_then(parse_host_port)
            .unwrap_or_else(|| (h.address.clone(), port));
        Some(OffsiteRepo {
            host: o.to.clone(),
            user: h.ssh.user.clone().unwrap_or_else(|| "root".into()),
            address: h.address.clone(),
            port,
            site_address,
            site_port,
            base: format!("{path}/{}", site.inv.site.name),
            keep: o.keep.clone().unwrap_or_else(|| b.keep.clone()),
        })
    }

    /// The ssh command the site's machines run to reach the copy, with
    /// the given key and known_hosts files.
    pub fn ssh_from_site(&self, key: &str, known_hosts: &str) -> String {
        ssh_program(
            key,
            known_hosts,
            &self.user,
            &self.site_address,
            self.site_port,
        )
    }
}

/// The off-site server's host key lines, from regie's known_hosts (where
/// they are under the address regie uses), named as the site's machines
/// reach it. None when regie does not trust that server yet.
pub fn offsite_known_hosts(known_hosts: &str, o: &OffsiteRepo) -> Option<String> {
    let ours = known_hosts_name(&o.address, o.port);
    let theirs = known_hosts_name(&o.site_address, o.site_port);
    let lines: Vec<String> = known_hosts
        .lines()
        .filter_map(|l| {
            let (hosts, rest) = l.split_once(char::is_whitespace)?;
            hosts
                .split(',')
                .any(|h| h == ours)
                .then(|| format!("{theirs} {}", rest.trim_start()))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n") + "\n")
}

/// On the NAS: the NAS's key to the off-site server (read from stdin, never
/// on a command line) and that server's host key, in `<base>/.regie-offsite/`.
pub fn push_install_script(nas_base: &str, known_hosts: &str) -> String {
    let d = quote(&format!("{nas_base}/{PUSH_DIR}"));
    format!(
        "set -eu\numask 077\nmkdir -p {d}\nchmod 700 {d}\n\
         cat >{d}/key.new\nchmod 600 {d}/key.new\nmv -f {d}/key.new {d}/key\n\
         printf '%s' {kh} >{d}/known_hosts\n",
        kh = quote(known_hosts),
    )
}

/// What a copy run does on one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyMode {
    /// Create the off-site repository if it is missing (same chunker
    /// parameters as the NAS's, so that data deduplicates).
    Init,
    /// The same, then list the snapshots of both sides and those already
    /// copied once (the first half of a copy).
    List,
}

/// The shell prologue of the scripts run on the NAS as regie's own user:
/// the repository password on stdin (a 0600 temporary file for the run),
/// `S` restic on the NAS's repository of the host, `D` restic on its
/// off-site copy through the NAS's key.
fn prologue(nas_base: &str, host: &str, o: &OffsiteRepo) -> String {
    let d = format!("{nas_base}/{PUSH_DIR}");
    let prog = o.ssh_from_site(&format!("{d}/key"), &format!("{d}/known_hosts"));
    format!(
        r#"set -u
umask 077
src={src}
dst={dst}
prog={prog}
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
cat >"$t/pw"
for x in restic ssh; do
  command -v "$x" >/dev/null 2>&1 || {{ echo "$x is not installed on the NAS (the off-site copy needs it)" >&2; exit 3; }}
done
[ -f "$src/config" ] || {{ echo "no repository at $src on the NAS" >&2; exit 4; }}
S() {{ restic -r "$src" --password-file "$t/pw" --cache-dir "$t/cache" "$@"; }}
D() {{ restic -r "$dst" -o rclone.program="$prog" --password-file "$t/pw" --cache-dir "$t/cache" "$@"; }}
"#,
        src = quote(&format!("{nas_base}/{host}")),
        dst = quote(&format!("rclone:{host}")),
        prog = quote(&prog),
    )
}

/// The file on the NAS listing the snapshots of `host` already copied off
/// site once (so that one the copy's own retention forgot is not copied
/// again).
fn copied_file(nas_base: &str, host: &str) -> String {
    format!("{nas_base}/{PUSH_DIR}/{host}.copied")
}

/// First half of a copy (or all of `backup init`'s part): create the
/// off-site repository if missing; then print both snapshot lists and the
/// snapshots already copied once (`==regie:` lines).
pub fn copy_list_script(nas_base: &str, host: &str, o: &OffsiteRepo, mode: CopyMode) -> String {
    format!(
        r#"{prologue}if ! D cat config >/dev/null 2>"$t/err"; then
  if grep -qi 'wrong password\|no key found' "$t/err"; then
    echo "the off-site repository exists but the site's password does not open it" >&2
    exit 1
  fi
  if ! D init --from-repo "$src" --from-password-file "$t/pw" --copy-chunker-params >"$t/out" 2>&1; then
    echo "creating the off-site repository failed: $(cat "$t/err" "$t/out" | tail -n 4 | tr '\n' ' ')" >&2
    exit 1
  fi
  echo "==regie:created"
fi
[ {mode} = init ] && exit 0
p=$(S snapshots --json --no-lock 2>"$t/err") || {{ echo "listing the snapshots on the NAS failed: $(tail -n 3 "$t/err" | tr '\n' ' ')" >&2; exit 1; }}
d=$(D snapshots --json --no-lock 2>"$t/err") || {{ echo "listing the snapshots off site failed: $(tail -n 3 "$t/err" | tr '\n' ' ')" >&2; exit 1; }}
printf '==regie:primary %s\n' "$(printf '%s' "$p" | tr -d '\n')"
printf '==regie:offsite %s\n' "$(printf '%s' "$d" | tr -d '\n')"
printf '==regie:copied %s\n' "$(cat {copied} 2>/dev/null | tr '\n' ' ')"
"#,
        prologue = prologue(nas_base, host, o),
        mode = match mode {
            CopyMode::Init => "init",
            CopyMode::List => "list",
        },
        copied = quote(&copied_file(nas_base, host)),
    )
}

/// Second half: copy the given snapshots (full ids) off site, then print
/// the off-site list and the time it took.
pub fn copy_ids_script(nas_base: &str, host: &str, o: &OffsiteRepo, ids: &[String]) -> String {
    let ids: Vec<String> = ids.iter().map(|i| quote(i)).collect();
    format!(
        r#"{prologue}t0=$(date +%s)
rc=0
if ! D copy --from-repo "$src" --from-password-file "$t/pw" {ids} >"$t/out" 2>&1; then
  echo "restic copy failed: $(tail -n 4 "$t/out" | tr '\n' ' ')" >&2
  rc=1
fi
printf '==regie:offsite %s\n' "$(D snapshots --json --no-lock 2>>"$t/err" | tr -d '\n')"
printf '==regie:seconds %s\n' "$(($(date +%s) - t0))"
exit $rc
"#,
        prologue = prologue(nas_base, host, o),
        ids = ids.join(" "),
    )
}

/// What a copy script printed.
#[derive(Debug, Clone, Default)]
pub struct CopyOutput {
    pub created: bool,
    pub primary: Option<Vec<Snapshot>>,
    pub offsite: Option<Vec<Snapshot>>,
    /// Snapshots of the NAS copied off site once already (full ids).
    pub copied: Vec<String>,
    pub seconds: u64,
}

pub fn parse_copy_output(text: &str) -> CopyOutput {
    let mut o = CopyOutput::default();
    let list = |s: &str| serde_json::from_str::<Vec<Snapshot>>(s.trim()).ok();
    for l in text.lines() {
        if l == "==regie:created" {
            o.created = true;
        } else if let Some(s) = l.strip_prefix("==regie:primary ") {
            o.primary = list(s);
        } else if let Some(s) = l.strip_prefix("==regie:offsite ") {
            o.offsite = list(s);
        } else if let Some(s) = l.strip_prefix("==regie:copied ") {
            o.copied = s.split_whitespace().map(String::from).collect();
        } else if let Some(s) = l.strip_prefix("==regie:seconds ") {
            o.seconds = s.trim().parse().unwrap_or(0);
        }
    }
    o
}

/// Ids of the snapshots off site, and of the NAS snapshots they copy.
fn present(offsite: &[Snapshot]) -> std::collections::BTreeSet<&str> {
    offsite
        .iter()
        .flat_map(|s| [Some(s.id.as_str()), s.original.as_deref()])
        .flatten()
        .collect()
}

/// Snapshots of the NAS that the off-site copy lacks (a copied snapshot
/// names its original), full ids.
pub fn missing(primary: &[Snapshot], offsite: &[Snapshot]) -> Vec<String> {
    let have = present(offsite);
    primary
        .iter()
        .filter(|s| !have.contains(s.id.as_str()))
        .map(|s| s.id.clone())
        .collect()
}

/// What to copy: the NAS's snapshots that are not off site and were never
/// copied (one copied once and forgotten there by the copy's own retention
/// stays forgotten).
pub fn to_copy(primary: &[Snapshot], offsite: &[Snapshot], copied: &[String]) -> Vec<String> {
    missing(primary, offsite)
        .into_iter()
        .filter(|id| !copied.contains(id))
        .collect()
}

/// The NAS's snapshots copied once, after a copy: those off site now and
/// those copied before, among the NAS's current ones (a snapshot the NAS
/// forgot is dropped from the list).
pub fn copied_after(primary: &[Snapshot], offsite: &[Snapshot], copied: &[String]) -> Vec<String> {
    let have = present(offsite);
    primary
        .iter()
        .filter(|s| have.contains(s.id.as_str()) || copied.contains(&s.id))
        .map(|s| s.id.clone())
        .collect()
}

/// On the NAS: write the list of snapshots copied once (ids are hex: no
/// quoting needed, quoted anyway).
pub fn copied_script(nas_base: &str, host: &str, ids: &[String]) -> String {
    let f = quote(&copied_file(nas_base, host));
    let mut s = format!("umask 077\n: >{f}.new\n");
    for chunk in ids.chunks(64) {
        let words: Vec<String> = chunk.iter().map(|i| quote(i)).collect();
        s.push_str(&format!("printf '%s\\n' {} >>{f}.new\n", words.join(" ")));
    }
    s.push_str(&format!("mv -f {f}.new {f}\n"));
    s
}

/// One copy of one host's repository, as recorded on the NAS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyRecord {
    pub time: u64,
    pub host: String,
    pub ok: bool,
    /// Snapshots on the NAS and off site after the copy.
    #[serde(default)]
    pub primary: u64,
    #[serde(default)]
    pub offsite: u64,
    /// Snapshots copied by this run.
    #[serde(default)]
    pub copied: u64,
    /// Snapshots it should have copied that are still missing off site
    /// (short ids).
    #[serde(default)]
    pub missing: Vec<String>,
    #[serde(default)]
    pub seconds: u64,
    #[serde(default)]
    pub error: String,
}

impl CopyRecord {
    /// The record of a run: what the listing found (`list`), what the
    /// copy of `wanted` printed (`copy`, None when there was nothing to
    /// copy), its exit and error text. A run that exits 0 but leaves a
    /// wanted snapshot missing failed.
    pub fn from_run(
        host: &str,
        time: u64,
        list: &CopyOutput,
        wanted: &[String],
        copy: Option<(&CopyOutput, bool, &str)>,
    ) -> CopyRecord {
        let p = list.primary.as_deref().unwrap_or_default();
        let before = list.offsite.as_deref().unwrap_or_default();
        let (after, exit_ok, error, seconds) = match copy {
            None => (Some(before), true, "", 0),
            Some((c, ok, e)) => (c.offsite.as_deref(), ok, e, c.seconds),
        };
        let mut error = error.trim().to_string();
        let miss: Vec<String> = match after {
            Some(a) => {
                let have = present(a);
                wanted
                    .iter()
                    .filter(|id| !have.contains(id.as_str()))
                    .map(|id| id.get(..8).unwrap_or(id).to_string())
                    .collect()
            }
            None => wanted
                .iter()
                .map(|id| id.get(..8).unwrap_or(id).to_string())
                .collect(),
        };
        if exit_ok && after.is_none() && error.is_empty() {
            error = "the off-site snapshot list could not be read after the copy".into();
        }
        if exit_ok && !miss.is_empty() && error.is_empty() {
            error = format!(
                "{} snapshot(s) of the NAS still missing off site",
                miss.len()
            );
        }
        let n = after.map_or(before.len(), |a| a.len()) as u64;
        CopyRecord {
            time,
            host: host.to_string(),
            ok: exit_ok && after.is_some() && miss.is_empty(),
            primary: p.len() as u64,
            offsite: n,
            copied: (wanted.len() - miss.len().min(wanted.len())) as u64,
            missing: miss,
            seconds,
            error,
        }
    }
}

/// On the NAS: append one record to the copy log (as a quoted word: no
/// secret in it).
pub fn record_script(nas_base: &str, r: &CopyRecord) -> String {
    let line = serde_json::to_string(r).unwrap_or_default();
    format!(
        "printf '%s\\n' {} >>{}",
        quote(&line),
        quote(&format!("{nas_base}/{COPY_LOG}"))
    )
}

/// On the NAS: the last copy records (JSON lines).
pub fn copy_log_script(nas_base: &str) -> String {
    format!(
        "tail -n 2000 {} 2>/dev/null || true",
        quote(&format!("{nas_base}/{COPY_LOG}"))
    )
}

pub fn parse_copy_log(text: &str) -> Vec<CopyRecord> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn last_ok<'a>(records: &'a [CopyRecord], host: &str) -> Option<&'a CopyRecord> {
    records
        .iter()
        .filter(|r| r.ok && r.host == host)
        .max_by_key(|r| r.time)
}

/// Whether a copy is due: a host whose last successful copy is older than
/// [`COPY_EVERY_HOURS`], or that never had one.
pub fn copy_due(records: &[CopyRecord], hosts: &[String], now: u64) -> bool {
    hosts.iter().any(|h| {
        last_ok(records, h).is_none_or(|r| now.saturating_sub(r.time) >= COPY_EVERY_HOURS * 3600)
    })
}

/// What `backup status` says about the copies: none yet, too old, the
/// last one failed or left snapshots behind.
pub fn copy_warnings(records: &[CopyRecord], hosts: &[String], now: u64) -> Vec<String> {
    let mut out = Vec::new();
    for h in hosts {
        let last = records
            .iter()
            .filter(|r| &r.host == h)
            .max_by_key(|r| r.time);
        match (last_ok(records, h), last) {
            (None, _) => out.push(format!(
                "{h}: no off-site copy yet: run `regie backup copy`"
            )),
            (Some(ok), _) if now.saturating_sub(ok.time) > COPY_MAX_HOURS * 3600 => {
                out.push(format!(
                    "{h}: the last off-site copy is {} h old (more than {COPY_MAX_HOURS}){}",
                    now.saturating_sub(ok.time) / 3600,
                    last.filter(|l| !l.ok)
                        .map(|l| format!("; the last attempt failed: {}", l.error))
                        .unwrap_or_default()
                ))
            }
            (Some(_), Some(l)) if !l.ok => {
                out.push(format!("{h}: the last off-site copy failed: {}", l.error))
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(id: &str, original: Option<&str>) -> Snapshot {
        Snapshot {
            time: String::new(),
            short_id: id[..4].to_string(),
            id: id.to_string(),
            hostname: String::new(),
            paths: vec![],
            tags: vec![],
            original: original.map(String::from),
        }
    }

    fn repo() -> OffsiteRepo {
        OffsiteRepo {
            host: "far".into(),
            user: "backup".into(),
            address: "127.0.0.1".into(),
            port: 2301,
            site_address: "far.example.org".into(),
            site_port: 2222,
            base: "/srv/regie/acme".into(),
            keep: Keep::default(),
        }
    }

    #[test]
    fn known_hosts_are_renamed_for_the_site() {
        let kh = "[127.0.0.1]:2201 ssh-ed25519 AAAA1\n[127.0.0.1]:2301 ssh-ed25519 AAAA2\n[127.0.0.1]:2301 ecdsa-sha2-nistp256 AAAA3\n";
        assert_eq!(
            offsite_known_hosts(kh, &repo()).unwrap(),
            "[far.example.org]:2222 ssh-ed25519 AAAA2\n[far.example.org]:2222 ecdsa-sha2-nistp256 AAAA3\n"
        );
        assert_eq!(
            offsite_known_hosts("[127.0.0.1]:2201 ssh-ed25519 A\n", &repo()),
            None
        );
    }

    #[test]
    fn the_copy_is_complete_when_every_snapshot_has_its_copy() {
        let p = vec![snap("aaaa1111", None), snap("bbbb2222", None)];
        let d = vec![snap("cccc3333", Some("aaaa1111"))];
        assert_eq!(missing(&p, &d), vec!["bbbb2222".to_string()]);
        let d2 = vec![d[0].clone(), snap("dddd4444", Some("bbbb2222"))];
        assert!(missing(&p, &d2).is_empty());
        // A snapshot made off site directly (a safety capture) counts too.
        assert!(missing(&[snap("eeee5555", None)], &[snap("eeee5555", None)]).is_empty());
    }

    #[test]
    fn a_snapshot_forgotten_off_site_is_not_copied_again() {
        let p = vec![
            snap("aaaa1111", None),
            snap("bbbb2222", None),
            snap("ffff6666", None),
        ];
        // bbbb was copied once, then forgotten by the copy's retention.
        let d = vec![snap("cccc3333", Some("aaaa1111"))];
        let copied = vec!["aaaa1111".to_string(), "bbbb2222".to_string()];
        assert_eq!(to_copy(&p, &d, &copied), vec!["ffff6666".to_string()]);
        // After copying ffff: all three are listed; one the NAS forgot goes.
        let d2 = vec![d[0].clone(), snap("abcd7777", Some("ffff6666"))];
        assert_eq!(
            copied_after(&p, &d2, &copied),
            vec!["aaaa1111", "bbbb2222", "ffff6666"]
        );
        assert_eq!(
            copied_after(&p[1..], &d2, &copied),
            vec!["bbbb2222", "ffff6666"]
        );
        // The list, written by a real sh.
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().display().to_string();
        std::fs::create_dir(dir.path().join(PUSH_DIR)).unwrap();
        let sh = copied_script(&base, "srv1", &copied_after(&p, &d2, &copied));
        let st = std::process::Command::new("sh")
            .arg("-c")
            .arg(&sh)
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(PUSH_DIR).join("srv1.copied")).unwrap(),
            "aaaa1111\nbbbb2222\nffff6666\n"
        );
    }

    #[test]
    fn a_run_is_recorded_from_what_it_printed() {
        let list = parse_copy_output(&format!(
            "==regie:created\n==regie:primary {}\n==regie:offsite []\n==regie:copied \n",
            r#"[{"time":"t","short_id":"aaaa","id":"aaaa11112222"},{"time":"t","short_id":"bbbb","id":"bbbb11112222"}]"#,
        ));
        assert!(list.created);
        assert_eq!(list.primary.as_ref().unwrap().len(), 2);
        let wanted = to_copy(list.primary.as_deref().unwrap(), &[], &list.copied);
        assert_eq!(wanted.len(), 2);
        let copy = parse_copy_output(&format!(
            "==regie:offsite {}\n==regie:seconds 7\n",
            r#"[{"time":"t","short_id":"cccc","id":"cccc3333","original":"aaaa11112222"},{"time":"t","short_id":"dddd","id":"dddd3333","original":"bbbb11112222"}]"#
        ));
        let r = CopyRecord::from_run("srv1", 100, &list, &wanted, Some((&copy, true, "")));
        assert!(
            r.ok && r.copied == 2 && r.primary == 2 && r.offsite == 2 && r.seconds == 7,
            "{r:?}"
        );
        // Exit 0 with a wanted snapshot left behind is a failure.
        let half = parse_copy_output(
            r#"==regie:offsite [{"time":"t","short_id":"cccc","id":"cccc3333","original":"aaaa11112222"}]"#,
        );
        let r2 = CopyRecord::from_run("srv1", 100, &list, &wanted, Some((&half, true, "")));
        assert!(!r2.ok, "{r2:?}");
        assert_eq!(r2.missing, vec!["bbbb1111".to_string()]);
        assert_eq!(r2.copied, 1);
        assert!(r2.error.contains("1 snapshot(s)"), "{}", r2.error);
        // No list after the copy: a failure too, with restic's word if any.
        let r3 = CopyRecord::from_run(
            "srv1",
            100,
            &list,
            &wanted,
            Some((&CopyOutput::default(), true, "")),
        );
        assert!(!r3.ok && r3.error.contains("could not be read"), "{r3:?}");
        let r4 = CopyRecord::from_run(
            "srv1",
            100,
            &list,
            &wanted,
            Some((&CopyOutput::default(), false, "ssh: connect refused")),
        );
        assert_eq!(r4.error, "ssh: connect refused");
        // Nothing to copy: ok.
        let r5 = CopyRecord::from_run("srv1", 100, &list, &[], None);
        assert!(r5.ok && r5.copied == 0, "{r5:?}");
    }

    fn rec(host: &str, time: u64, ok: bool) -> CopyRecord {
        CopyRecord {
            time,
            host: host.into(),
            ok,
            primary: 1,
            offsite: 1,
            copied: 0,
            missing: vec![],
            seconds: 1,
            error: if ok { String::new() } else { "cut".into() },
        }
    }

    #[test]
    fn copies_are_due_daily_and_reported_when_old_or_failed() {
        let h = |x: &str| vec![x.to_string()];
        let now = 1_000_000;
        assert!(copy_due(&[], &h("srv1"), now));
        assert!(!copy_due(&[rec("srv1", now - 3600, true)], &h("srv1"), now));
        assert!(copy_due(
            &[rec("srv1", now - 21 * 3600, true)],
            &h("srv1"),
            now
        ));
        assert!(copy_due(&[rec("srv1", now - 3600, false)], &h("srv1"), now));
        assert!(copy_due(&[rec("srv2", now - 3600, true)], &h("srv1"), now));

        let w = copy_warnings(&[], &h("srv1"), now);
        assert!(w[0].contains("no off-site copy yet"), "{w:?}");
        assert!(copy_warnings(&[rec("srv1", now - 3600, true)], &h("srv1"), now).is_empty());
        let w = copy_warnings(
            &[
                rec("srv1", now - 50 * 3600, true),
                rec("srv1", now - 3600, false),
            ],
            &h("srv1"),
            now,
        );
        assert!(
            w[0].contains("50 h old") && w[0].contains("failed: cut"),
            "{w:?}"
        );
        let w = copy_warnings(
            &[
                rec("srv1", now - 7200, true),
                rec("srv1", now - 3600, false),
            ],
            &h("srv1"),
            now,
        );
        assert!(w[0].contains("last off-site copy failed"), "{w:?}");
    }

    #[test]
    fn the_copy_scripts_keep_the_password_off_the_command_line() {
        for sc in [
            copy_list_script("/srv/b/acme", "srv1", &repo(), CopyMode::List),
            copy_ids_script(
                "/srv/b/acme",
                "srv1",
                &repo(),
                &["aaaa".into(), "bbbb".into()],
            ),
        ] {
            assert!(sc.contains("cat >\"$t/pw\""));
            assert!(sc.contains("--password-file \"$t/pw\""));
            assert!(sc.contains("src='/srv/b/acme/srv1'\n"), "{sc}");
            assert!(sc.contains("dst='rclone:srv1'\n"));
            assert!(sc.contains("-i /srv/b/acme/.regie-offsite/key"));
            assert!(sc.contains("-p 2222 backup@far.example.org"));
        }
        assert!(
            copy_ids_script("/b", "srv1", &repo(), &["aaaa".into(), "bbbb".into()])
                .contains("--from-password-file \"$t/pw\" 'aaaa' 'bbbb' >")
        );
        let i = push_install_script("/srv/b/acme", "far ssh-ed25519 A\n");
        assert!(
            i.contains("cat >'/srv/b/acme/.regie-offsite'/key.new"),
            "{i}"
        );
    }
}

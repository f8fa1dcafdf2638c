//! Update planning, pure: which versions a service may move to under its
//! catalog policy, whether now is inside the maintenance window, how the
//! inventory's `version:` is rewritten, and the shell scripts the executor
//! ([`crate::update::run`]) runs on a host. Nothing here touches the network.

use std::cmp::Ordering;

use serde::Serialize;

use super::release;
use crate::site::catalog::UpgradePolicy;
use crate::site::inventory::{Resolved, Window};
use crate::site::layout;
use crate::util::shell::quote;

/// The numeric parts of a tag (`34.0.2-apache` with suffix `-apache` →
/// [34, 0, 2]); None for tags of another shape (`latest`, `35.0.0rc1`,
/// another variant).
pub fn parse_version(tag: &str, suffix: &str) -> Option<Vec<u64>> {
    let v = tag.strip_suffix(suffix)?;
    if v.is_empty() {
        return None;
    }
    v.split('.')
        .map(|p| {
            if !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect()
}

fn cmp(a: &[u64], b: &[u64]) -> Ordering {
    a.cmp(b)
}

/// What a service's main image may move to.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Candidates {
    /// Newer versions of the same shape, oldest first.
    pub newer: Vec<String>,
    /// The newest version the policy allows without asking (`update apply`
    /// with no `--to`, and `regie maintain`).
    pub allowed: Option<String>,
    /// The next major (or next ESR): needs `--to` by hand.
    pub next_major: Option<String>,
    pub notes: Vec<String>,
}

fn esr_index(esr: &[String], v: &[u64]) -> Option<usize> {
    esr.iter()
        .position(|e| parse_version(e, "").is_some_and(|p| v.len() >= 2 && p[..] == v[..2]))
}

/// Newer versions among `tags` and what the policy allows. `current` is the
/// version without the suffix.
pub fn candidates(
    policy: UpgradePolicy,
    esr: &[String],
    current: &str,
    suffix: &str,
    tags: &[String],
) -> Candidates {
    let mut c = Candidates::default();
    if policy == UpgradePolicy::Rolling {
        c.notes
            .push("rolling tag: updates are new digests of the same tag".into());
        return c;
    }
    if policy == UpgradePolicy::ReleaseTags {
        if release::release(current, current).is_none() {
            c.notes.push(format!(
                "version `{current}` is not a release tag: newer releases cannot be judged"
            ));
            return c;
        }
        let plain: Vec<String> = tags
            .iter()
            .filter_map(|t| t.strip_suffix(suffix).map(String::from))
            .collect();
        c.newer = release::newer(current, &plain);
        c.allowed = c.newer.last().cloned();
        return c;
    }
    let Some(cur) = parse_version(current, "") else {
        c.notes.push(format!(
            "version `{current}` is not numeric: newer versions cannot be judged"
        ));
        return c;
    };
    let mut newer: Vec<(Vec<u64>, String)> = tags
        .iter()
        .filter_map(|t| {
            let v = parse_version(t, suffix)?;
            (v.len() == cur.len() && cmp(&v, &cur) == Ordering::Greater)
                .then(|| (v, t.strip_suffix(suffix).unwrap_or(t).to_string()))
        })
        .collect();
    newer.sort();
    newer.dedup();
    c.newer = newer.iter().map(|(_, t)| t.clone()).collect();
    let newest_where = |f: &dyn Fn(&[u64]) -> bool| {
        newer
            .iter()
            .rev()
            .find(|(v, _)| f(v))
            .map(|(_, t)| t.clone())
    };
    match policy {
        UpgradePolicy::SameMajor | UpgradePolicy::OneMajorAtATime => {
            c.allowed = newest_where(&|v| v[0] == cur[0]);
            c.next_major = newest_where(&|v| v[0] == cur[0] + 1);
            if c.next_major.is_none() {
                if let Some(far) = newest_where(&|v| v[0] > cur[0] + 1) {
                    if policy == UpgradePolicy::OneMajorAtATime {
                        c.notes.push(format!(
                            "{far} exists but majors are taken one at a time, and no {} release was found",
                            cur[0] + 1
                        ));
                    } else {
                        c.next_major = Some(far);
                    }
                }
            }
            if policy == UpgradePolicy::OneMajorAtATime {
                if let (Some(a), Some(_)) = (&c.allowed, &c.next_major) {
                    c.notes.push(format!(
                        "update to {a} (newest of {}) before the next major",
                        cur[0]
                    ));
                }
            }
        }
        UpgradePolicy::Esr => {
            if cur.len() < 2 {
                c.notes.push("ESR policy needs major.minor versions".into());
                return c;
            }
            c.allowed = newest_where(&|v| v[..2] == cur[..2]);
            match esr_index(esr, &cur) {
                Some(i) => {
                    if let Some(next) = esr.get(i + 1).and_then(|e| parse_version(e, "")) {
                        c.next_major = newest_where(&|v| v[..2] == next[..]);
                    }
                }
                None => c.notes.push(format!(
                    "{current} is not an Extended Support Release ({}): move to one by hand",
                    esr.join(", ")
                )),
            }
        }
        UpgradePolicy::Rolling | UpgradePolicy::ReleaseTags => unreachable!(),
    }
    c
}

/// Why a move from `current` to `target` is refused, if it is.
pub fn refuse(
    policy: UpgradePolicy,
    esr: &[String],
    current: &str,
    target: &str,
    suffix: &str,
    tags: &[String],
) -> Option<String> {
    if target == current {
        return Some(format!("{target} is the version in place"));
    }
    if !tags.iter().any(|t| *t == format!("{target}{suffix}")) {
        return Some(format!(
            "the registry has no tag {target}{suffix} (see `regie update check`)"
        ));
    }
    if policy == UpgradePolicy::Rolling {
        return None;
    }
    if policy == UpgradePolicy::ReleaseTags {
        return match release::compare(target, current) {
            Some(Ordering::Greater) => None,
            Some(_) => Some(format!(
                "{target} is older than {current}: downgrades are refused (restore a backup taken before the update instead)"
            )),
            None => Some(format!(
                "{target} is not a release tag of the same form as {current}"
            )),
        };
    }
    let (Some(cur), Some(tgt)) = (parse_version(current, ""), parse_version(target, "")) else {
        return Some(format!(
            "versions {current} and {target} cannot be compared: set `version:` in the inventory and deploy instead"
        ));
    };
    if tgt.len() != cur.len() {
        return Some(format!("{target} is not of the same form as {current}"));
    }
    if cmp(&tgt, &cur) != Ordering::Greater {
        return Some(format!(
            "{target} is older than {current}: downgrades are refused (restore a backup taken before the update instead)"
        ));
    }
    let c = candidates(policy, esr, current, suffix, tags);
    match policy {
        UpgradePolicy::OneMajorAtATime if tgt[0] > cur[0] => {
            if tgt[0] > cur[0] + 1 {
                return Some(format!(
                    "{target} skips a major: go to {} first (one major at a time)",
                    cur[0] + 1
                ));
            }
            if let Some(a) = &c.allowed {
                return Some(format!(
                    "update to {a}, the newest {} release, before moving to {}",
                    cur[0], tgt[0]
                ));
            }
        }
        UpgradePolicy::Esr if tgt[..2] != cur[..2] => {
            let next = esr_index(esr, &cur).and_then(|i| esr.get(i + 1));
            let ok = next
                .and_then(|n| parse_version(n, ""))
                .is_some_and(|n| tgt[..2] == n[..]);
            if !ok {
                return Some(format!(
                    "{target} is not the next Extended Support Release after {current} ({}): go ESR to ESR",
                    next.map(String::as_str).unwrap_or("none known")
                ));
            }
            if let Some(a) = &c.allowed {
                return Some(format!(
                    "update to {a}, the newest of this ESR, before moving to the next"
                ));
            }
        }
        _ => {}
    }
    None
}

/// Newer PostgreSQL majors than a component's tag (`17-alpine` → 18):
/// never automatic, they need dump and restore.
pub fn postgres_majors(tag: &str, tags: &[String]) -> Vec<String> {
    let (num, suffix) = match tag.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => tag.split_at(i),
        None => (tag, ""),
    };
    let Ok(cur) = num.parse::<u64>() else {
        return vec![];
    };
    let mut v: Vec<u64> = tags
        .iter()
        .filter_map(|t| t.strip_suffix(suffix)?.parse::<u64>().ok())
        .filter(|m| *m > cur)
        .collect();
    v.sort();
    v.dedup();
    v.iter().map(|m| format!("{m}{suffix}")).collect()
}

// ---------------------------------------------------------------------------
// Maintenance window.

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Whether `day` (mon..sun) at `minutes` after midnight, site time, is in
/// the window. A window that crosses midnight (`fri 23:00-01:00`) belongs
/// to the day it starts.
pub fn in_window(w: &Window, day: &str, minutes: u32) -> bool {
    let hm = |s: &str| {
        let (h, m) = s.split_once(':').unwrap_or(("0", "0"));
        h.parse::<u32>().unwrap_or(0) * 60 + m.parse::<u32>().unwrap_or(0)
    };
    let (a, b) = (hm(&w.start), hm(&w.end));
    let has = |d: &str| w.days.iter().any(|x| x == d);
    if a < b {
        has(day) && minutes >= a && minutes < b
    } else {
        let i = DAYS.iter().position(|d| *d == day).unwrap_or(0);
        let prev = DAYS[(i + 6) % 7];
        (has(day) && minutes >= a) || (has(prev) && minutes < b)
    }
}

/// Weekday (mon..sun) and minutes after midnight now, in the time zone.
pub fn now_in(tz: &str) -> Result<(String, u32, String), String> {
    let zone = jiff::tz::TimeZone::get(tz).map_err(|e| format!("time zone {tz}: {e}"))?;
    let now = jiff::Timestamp::now().to_zoned(zone);
    let day = DAYS[now.weekday().to_monday_zero_offset() as usize].to_string();
    let minutes = now.hour() as u32 * 60 + now.minute() as u32;
    Ok((
        day,
        minutes,
        now.strftime("%a %Y-%m-%d %H:%M %Z").to_string(),
    ))
}

/// Why a run is refused outside the window, if it is.
pub fn window_refusal(site: &Resolved) -> Option<String> {
    let Some(m) = &site.inv.maintenance else {
        return Some("the inventory has no maintenance window (maintenance.window): use --now to update anyway".into());
    };
    let w = crate::site::inventory::parse_window(&m.window).ok()?;
    match now_in(&site.inv.site.timezone) {
        Ok((day, min, shown)) if !in_window(&w, &day, min) => Some(format!(
            "outside the maintenance window `{}` (now {shown}): use --now to update anyway",
            m.window
        )),
        Ok(_) => None,
        Err(e) => Some(e),
    }
}

// ---------------------------------------------------------------------------
// Inventory edit: the new version is written back, so that the inventory
// stays the truth and the next deploy keeps it.

/// `src` with `services.<service>.version` set to `version`: the value is
/// replaced in place when present (comments and layout kept), else a
/// `version:` line is added under the service.
pub fn set_service_version(src: &str, service: &str, version: &str) -> Result<String, String> {
    set_scalar(src, &["services", service, "version"], version)
}

/// `src` with `services.<service>.images.<component>` set to `image`.
pub fn set_service_image(
    src: &str,
    service: &str,
    component: &str,
    image: &str,
) -> Result<String, String> {
    set_scalar(src, &["services", service, "images", component], image)
}

/// `src` with the scalar at `path` (keys from the top) set to `value`,
/// quoted. An existing value is replaced in place; missing keys are added
/// as block mappings under the deepest key present, which must exist from
/// `path[..2]` on and be written in block style.
fn set_scalar(src: &str, path: &[&str], value: &str) -> Result<String, String> {
    let index = crate::site::diag::PositionIndex::build(src);
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    let quoted = format!("\"{value}\"");
    let dotted = |n: usize| path[..n].join(".");
    let (found, _) = index.exact(&dotted(path.len()));
    if let Some((l, c)) = found {
        let line = lines
            .get_mut(l - 1)
            .ok_or("inventory changed while reading")?;
        let start = line
            .char_indices()
            .nth(c - 1)
            .map(|(i, _)| i)
            .ok_or("bad position")?;
        let rest = &line[start..];
        let len = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => rest[1..]
                .find(q)
                .map(|i| i + 2)
                .ok_or("unterminated quote")?,
            _ => rest.find([' ', '#', ',', '}']).unwrap_or(rest.len()),
        };
        line.replace_range(start..start + len, &quoted);
    } else {
        // The deepest key that exists.
        let (depth, (l, c)) = (2..path.len())
            .rev()
            .find_map(|n| index.exact(&dotted(n)).1.map(|p| (n, p)))
            .ok_or(format!("no `{}` in the inventory", dotted(2)))?;
        let after_colon = lines[l - 1]
            .split_once(':')
            .map(|x| x.1.trim().to_string())
            .unwrap_or_default();
        if !after_colon.is_empty() && !after_colon.starts_with('#') {
            return Err(format!(
                "{} is written inline: set `{}: {quoted}` in it by hand",
                dotted(depth),
                path[depth..].join(".")
            ));
        }
        // Indentation of the key's first child, else two more than the key.
        let mut indent = lines[l..]
            .iter()
            .find(|x| !x.trim().is_empty() && !x.trim_start().starts_with('#'))
            .map(|x| x.len() - x.trim_start().len())
            .filter(|i| *i > c - 1)
            .unwrap_or(c + 1);
        let step = indent - (c - 1);
        for (at, k) in (l..).zip(&path[depth..]) {
            let text = if at - l == path.len() - depth - 1 {
                format!("{}{k}: {quoted}", " ".repeat(indent))
            } else {
                format!("{}{k}:", " ".repeat(indent))
            };
            lines.insert(at, text);
            indent += step;
        }
    }
    let mut out = lines.join("\n");
    if src.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Host scripts.

/// Running containers of a compose project, one line each:
/// `SERVICE|IMAGE_REF|IMAGE_ID|STARTED_AT|REPO_DIGESTS` (digests comma-separated).
pub fn running_images_script(project: &str) -> String {
    format!(
        "for c in $(docker ps -q --filter label=com.docker.compose.project={p}); do\n\
         \x20 line=$(docker inspect -f '{{{{index .Config.Labels \"com.docker.compose.service\"}}}}|{{{{.Config.Image}}}}|{{{{.Image}}}}|{{{{.State.StartedAt}}}}' \"$c\") || continue\n\
         \x20 id=${{line#*|*|}}; id=${{id%%|*}}\n\
         \x20 printf '%s|%s\\n' \"$line\" \"$(docker image inspect -f '{{{{join .RepoDigests \",\"}}}}' \"$id\" 2>/dev/null)\"\n\
         done\n",
        p = quote(project)
    )
}

/// A component's running image.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Running {
    pub component: String,
    pub image: String,
    pub id: String,
    pub started_at: String,
    pub digests: Vec<String>,
}

pub fn parse_running(out: &str) -> Vec<Running> {
    let mut v: Vec<Running> = out
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(5, '|');
            Some(Running {
                component: it.next()?.to_string(),
                image: it.next()?.to_string(),
                id: it.next()?.to_string(),
                started_at: it.next()?.to_string(),
                digests: it
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .filter(|d| !d.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect();
    v.sort_by(|a, b| a.component.cmp(&b.component));
    v
}

/// The repository digest of a running image for its own name
/// (`name@sha256:...` among RepoDigests).
pub fn digest_for(r: &Running) -> Option<String> {
    let name = crate::site::image::ImageRef::parse(&r.image).name();
    r.digests
        .iter()
        .find_map(|d| d.strip_prefix(&format!("{name}@")).map(str::to_string))
        .or_else(|| {
            r.digests
                .first()
                .and_then(|d| d.split_once('@').map(|(_, x)| x.to_string()))
        })
}

/// Pull images (the new version's), stopping at the first failure.
pub fn pull_script(images: &[String]) -> String {
    let mut s = String::from("set -e\n");
    for i in images {
        s.push_str(&format!("docker pull -q {}\n", quote(i)));
    }
    s
}

/// Point each reference back at the exact image it named before the
/// update (image id = content digest of the image), so the previous files
/// start the previous images whatever a pull did to the tag meanwhile.
pub fn retag_script(pairs: &[(String, String)]) -> String {
    let mut s = String::from("set -e\n");
    for (id, image) in pairs {
        s.push_str(&format!("docker tag {} {}\n", quote(id), quote(image)));
    }
    s
}

/// A fingerprint of named volumes' contents (paths, sizes, modes, times),
/// read in a throw-away container of `image` (the restic image, present on
/// every backed-up host): tells whether a failed version wrote to them.
pub fn fingerprint_script(image: &str, volumes: &[String]) -> String {
    let mut s = String::from("set -e\n");
    for v in volumes {
        s.push_str(&format!(
            "if docker volume inspect {v} >/dev/null 2>&1; then\n\
             \x20 printf '%s ' {v}; docker run --rm --network none --entrypoint /bin/sh -v {v}:/v:ro {img} -c 'cd /v && find . -exec stat -c \"%n %s %a %Y\" {{}} + | sort | sha256sum'\n\
             else echo {v} missing; fi\n",
            v = quote(v),
            img = quote(image)
        ));
    }
    s
}

/// Remove a compose project's containers (`rm -f -s`), keeping volumes.
pub fn compose_rm_script(
    base_dir: &str,
    stack: &str,
    project: &str,
    compose: crate::deploy::plan::Compose,
) -> String {
    format!(
        "cd {}/{} && {} -p {} rm -f -s 2>&1",
        quote(base_dir),
        quote(stack),
        compose.command(),
        quote(project)
    )
}

/// Copy a named volume into a new one (`to` must not exist), in a
/// throw-away container of `image` (the restic image).
pub fn copy_volume_script(image: &str, from: &str, to: &str) -> String {
    format!(
        "set -e
         if docker volume inspect {to} >/dev/null 2>&1; then echo 'volume {t} exists already' >&2; exit 1; fi
         docker volume create {to} >/dev/null
         docker run --rm --network none --entrypoint /bin/sh -v {from}:/from:ro -v {to}:/to {img} -c 'cp -a /from/. /to/'
",
        from = quote(from),
        to = quote(to),
        t = to.replace('\'', ""),
        img = quote(image)
    )
}

pub fn volume_rm_script(volume: &str) -> String {
    format!("docker volume rm {} >/dev/null\n", quote(volume))
}

/// Put a kept copy back as the live volume: the project's containers are
/// removed (they hold the volume), the live volume replaced by a copy.
pub fn put_volume_back_script(image: &str, project: &str, kept: &str, live: &str) -> String {
    format!(
        "set -e
         ids=$(docker ps -aq --filter label=com.docker.compose.project={p})
         [ -z \"$ids\" ] || docker rm -f $ids >/dev/null
         docker volume rm -f {live} >/dev/null
         docker volume create {live} >/dev/null
         docker run --rm --network none --entrypoint /bin/sh -v {kept}:/from:ro -v {live}:/to {img} -c 'cp -a /from/. /to/'
",
        p = quote(project),
        kept = quote(kept),
        live = quote(live),
        img = quote(image)
    )
}

/// Write (or with `body` empty, remove) the host's record of an update in
/// progress, `.regie/update/<service>.json`.
pub fn record_script(base_dir: &str, service: &str, remove: bool) -> String {
    let f = quote(&layout::update_record(base_dir, service));
    if remove {
        format!("rm -f {f}\n")
    } else {
        format!(
            "set -e\nmkdir -p {d}\numask 077\ncat >{f}.tmp\nmv {f}.tmp {f}\n",
            d = quote(&layout::update_dir(base_dir))
        )
    }
}

/// Append a line to the host's journal (`regie history` reads it).
pub fn journal_script(base_dir: &str, line: &str) -> String {
    format!(
        "printf '%s\\n' {} >> {}\n",
        quote(line),
        quote(&layout::journal(base_dir))
    )
}

pub fn read_record_script(base_dir: &str, service: &str) -> String {
    format!(
        "cat {} 2>/dev/null || true\n",
        quote(&layout::update_record(base_dir, service))
    )
}

/// Run a catalog step in a running component of the project.
pub fn exec_script(project: &str, ex: &crate::site::catalog::Exec) -> String {
    let user = ex
        .user
        .as_ref()
        .map(|u| format!("-u {} ", quote(u)))
        .unwrap_or_default();
    let cmd: Vec<String> = ex.command.iter().map(|a| quote(a)).collect();
    format!(
        "c=$(docker ps -q --filter label=com.docker.compose.project={p} --filter label=com.docker.compose.service={comp} | head -n 1)\n\
         [ -n \"$c\" ] || {{ echo 'no running {c}' >&2; exit 1; }}\n\
         docker exec {user}\"$c\" {cmd} 2>&1\n",
        p = quote(project),
        comp = quote(&ex.component),
        c = ex.component.replace('\'', ""),
        cmd = cmd.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use UpgradePolicy::*;

    fn tags(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn release_tag_policies_propose_newer_releases_and_refuse_older_ones() {
        let t = tags(&["stable-11031", "stable-11146-2", "stable-11200", "stable"]);
        let c = candidates(ReleaseTags, &[], "stable-11146-2", "", &t);
        assert_eq!(c.newer, ["stable-11200"]);
        assert_eq!(c.allowed.as_deref(), Some("stable-11200"));
        assert_eq!(c.next_major, None);
        assert_eq!(
            refuse(ReleaseTags, &[], "stable-11146-2", "stable-11200", "", &t),
            None
        );
        assert!(
            refuse(ReleaseTags, &[], "stable-11146-2", "stable-11031", "", &t)
                .unwrap()
                .contains("downgrades are refused")
        );
        assert!(refuse(ReleaseTags, &[], "stable-11146-2", "stable", "", &t)
            .unwrap()
            .contains("not a release tag"));
        // Under `rolling` (the old policy of visio and wiki) a new release
        // tag was never proposed.
        assert!(candidates(Rolling, &[], "stable-11146-2", "", &t)
            .newer
            .is_empty());
        let c = candidates(ReleaseTags, &[], "stable", "", &t);
        assert!(c.newer.is_empty() && c.notes[0].contains("not a release tag"));
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("34.0.2-apache", "-apache"),
            Some(vec![34, 0, 2])
        );
        assert_eq!(parse_version("34.0.2-fpm", "-apache"), None);
        assert_eq!(parse_version("35.0.0rc1-apache", "-apache"), None);
        assert_eq!(parse_version("latest", ""), None);
        assert_eq!(parse_version("1.10.0", ""), Some(vec![1, 10, 0]));
    }

    #[test]
    fn same_major_stays_in_major() {
        let t = tags(&[
            "1.0.0",
            "1.1.0",
            "1.10.0",
            "1.2.0",
            "2.0.0",
            "latest",
            "1.3.0-rc1",
        ]);
        let c = candidates(SameMajor, &[], "1.1.0", "", &t);
        assert_eq!(c.allowed.as_deref(), Some("1.10.0"));
        assert_eq!(c.next_major.as_deref(), Some("2.0.0"));
        assert_eq!(c.newer, tags(&["1.2.0", "1.10.0", "2.0.0"]));
        assert_eq!(
            refuse(SameMajor, &[], "1.1.0", "1.0.0", "", &t)
                .unwrap()
                .split(':')
                .next(),
            Some("1.0.0 is older than 1.1.0")
        );
        assert!(refuse(SameMajor, &[], "1.1.0", "1.2.0", "", &t).is_none());
        assert!(
            refuse(SameMajor, &[], "1.1.0", "2.0.0", "", &t).is_none(),
            "explicit --to may change major"
        );
        assert!(refuse(SameMajor, &[], "1.1.0", "1.9.0", "", &t)
            .unwrap()
            .contains("no tag 1.9.0"));
    }

    #[test]
    fn nextcloud_one_major_at_a_time() {
        let t = tags(&[
            "33.0.1-apache",
            "33.0.4-apache",
            "34.0.0-apache",
            "34.0.2-apache",
            "35.0.1-apache",
            "35.0.1-fpm",
        ]);
        let c = candidates(OneMajorAtATime, &[], "33.0.1", "-apache", &t);
        assert_eq!(c.allowed.as_deref(), Some("33.0.4"));
        assert_eq!(c.next_major.as_deref(), Some("34.0.2"));
        let r = refuse(OneMajorAtATime, &[], "33.0.1", "34.0.2", "-apache", &t).unwrap();
        assert!(r.contains("update to 33.0.4"), "{r}");
        let r = refuse(OneMajorAtATime, &[], "33.0.4", "35.0.1", "-apache", &t).unwrap();
        assert!(r.contains("skips a major"), "{r}");
        assert!(refuse(OneMajorAtATime, &[], "33.0.4", "34.0.2", "-apache", &t).is_none());
    }

    #[test]
    fn mattermost_esr_steps() {
        let esr = tags(&["10.5", "10.11", "11.7"]);
        let t = tags(&[
            "10.11.3", "10.11.9", "11.0.0", "11.6.1", "11.7.2", "11.7.9", "11.8.0",
        ]);
        let c = candidates(Esr, &esr, "10.11.3", "", &t);
        assert_eq!(c.allowed.as_deref(), Some("10.11.9"));
        assert_eq!(c.next_major.as_deref(), Some("11.7.9"));
        assert!(refuse(Esr, &esr, "10.11.9", "11.8.0", "", &t)
            .unwrap()
            .contains("not the next Extended Support Release"));
        assert!(refuse(Esr, &esr, "10.11.3", "11.7.9", "", &t)
            .unwrap()
            .contains("newest of this ESR"));
        assert!(refuse(Esr, &esr, "10.11.9", "11.7.9", "", &t).is_none());
        let c = candidates(Esr, &esr, "11.6.1", "", &t);
        assert!(c.notes[0].contains("not an Extended Support Release"));
    }

    #[test]
    fn postgres_majors_are_listed() {
        let t = tags(&["16-alpine", "17-alpine", "18-alpine", "18", "17.6-alpine"]);
        assert_eq!(postgres_majors("17-alpine", &t), tags(&["18-alpine"]));
    }

    #[test]
    fn windows() {
        let w = crate::site::inventory::parse_window("mon,thu 22:00-23:30").unwrap();
        assert!(in_window(&w, "mon", 22 * 60));
        assert!(in_window(&w, "thu", 23 * 60 + 29));
        assert!(!in_window(&w, "thu", 23 * 60 + 30));
        assert!(!in_window(&w, "tue", 22 * 60 + 10));
        let w = crate::site::inventory::parse_window("sun 23:00-01:00").unwrap();
        assert!(in_window(&w, "sun", 23 * 60 + 5));
        assert!(in_window(&w, "mon", 30));
        assert!(!in_window(&w, "sun", 30));
        assert!(now_in("Europe/Paris").is_ok());
        assert!(now_in("Mars/Olympus").is_err());
    }

    #[test]
    fn rewrites_the_inventory_version() {
        let src = "site:\n  name: x\nservices:\n  files:\n    host: srv1\n    version: \"34.0.2\"  # pinned\n  wiki:\n    host: srv1\n";
        let out = set_service_version(src, "files", "34.0.3").unwrap();
        assert!(out.contains("    version: \"34.0.3\"  # pinned\n"), "{out}");
        let out = set_service_version(src, "wiki", "2026-09-01").unwrap();
        assert!(
            out.ends_with("  wiki:\n    version: \"2026-09-01\"\n    host: srv1\n"),
            "{out}"
        );
        let src2 = "services:\n  files: { host: srv1 }\n";
        assert!(set_service_version(src2, "files", "1")
            .unwrap_err()
            .contains("inline"));
        let src3 = "services:\n  files:\n    version: 34.0.2\n    host: srv1\n";
        assert_eq!(
            set_service_version(src3, "files", "34.0.3").unwrap(),
            "services:\n  files:\n    version: \"34.0.3\"\n    host: srv1\n"
        );
    }

    #[test]
    fn rewrites_nested_images() {
        let src = "services:\n  chat:\n    host: srv1\n  files:\n    host: srv1\n";
        let out = set_service_image(src, "chat", "postgres", "postgres:18-alpine").unwrap();
        assert_eq!(
            out,
            "services:\n  chat:\n    images:\n      postgres: \"postgres:18-alpine\"\n    host: srv1\n  files:\n    host: srv1\n"
        );
        let again = set_service_image(&out, "chat", "postgres", "postgres:19-alpine").unwrap();
        assert!(
            again.contains("      postgres: \"postgres:19-alpine\"\n"),
            "{again}"
        );
        let src = "services:\n  chat:\n    images:\n      app: x:1\n    host: srv1\n";
        let out = set_service_image(src, "chat", "postgres", "postgres:18").unwrap();
        assert!(
            out.contains("    images:\n      postgres: \"postgres:18\"\n      app: x:1\n"),
            "{out}"
        );
        let src = "services:\n  chat:\n    images: { app: x:1 }\n";
        assert!(set_service_image(src, "chat", "postgres", "p:1")
            .unwrap_err()
            .contains("inline"));
    }

    #[test]
    fn running_images() {
        let out = "app|127.0.0.1:5000/upd:1.0.0|sha256:aaa|2026-12-01T22:00:00Z|127.0.0.1:5000/upd@sha256:111\ndb|postgres:17|sha256:bbb|2026-12-01T21:00:00Z|\n";
        let r = parse_running(out);
        assert_eq!(r.len(), 2);
        assert_eq!(digest_for(&r[0]).as_deref(), Some("sha256:111"));
        assert_eq!(digest_for(&r[1]), None);
        assert!(
            running_images_script("s-upd").contains("'s-upd'")
                || running_images_script("s-upd").contains("s-upd")
        );
    }

    #[test]
    fn scripts_quote() {
        let s = retag_script(&[("sha256:a".into(), "x:1;rm -rf /".into())]);
        assert!(s.contains("'x:1;rm -rf /'"), "{s}");
        let s = pull_script(&["a b".into()]);
        assert!(s.contains("'a b'"));
    }
}

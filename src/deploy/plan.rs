//! Deploy planning, pure: from a rendered host and what the host reported,
//! decide which files to write or remove and which stacks to bring up, and
//! produce the shell scripts that do it. Nothing here touches the network;
//! [`crate::deploy::run`] runs the scripts over SSH.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::site::files::{HostRender, Manifest, RenderedFile};
use crate::site::inventory::Resolved;
use crate::site::secrets::Store;
use crate::site::state::{parse_inspect, Container};
use crate::util::shell::quote;

/// Directory under the base dir where regie keeps its state on a host.
pub use crate::site::layout::STATE_DIR;

/// Everything a site's hosts get: the stacks' rendered files and, on each
/// backed-up host, the backup script with its keys. New secrets are added
/// to `store`.
pub fn render_site(site: &Resolved, store: Store) -> (anyhow::Result<Vec<HostRender>>, Store) {
    let (res, store) = crate::site::render::render(site, store, crate::backup::plan::host_files);
    // A host whose images regie pushes also needs the backup image.
    let res = res.map(|mut hosts| {
        if site.inv.backup.is_some() {
            let restic = crate::backup::plan::restic_image(site);
            for h in &mut hosts {
                if let Some(p) = &mut h.push {
                    p.extra.push(restic.clone());
                }
            }
        }
        hosts
    });
    (res, store)
}

/// Which compose CLI a host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Compose {
    /// `docker compose` (v2 plugin).
    V2,
    /// `docker-compose` (v1).
    V1,
}

impl Compose {
    pub fn command(self) -> &'static str {
        match self {
            Compose::V2 => "docker compose",
            Compose::V1 => "docker-compose",
        }
    }
}

/// What one round trip told us about a host.
#[derive(Debug, Clone, Default)]
pub struct RemoteState {
    pub compose: Option<Compose>,
    pub docker: bool,
    pub manifest: Option<Manifest>,
    /// Lock info when the host is locked by someone else.
    pub lock_held_by: Option<String>,
    /// We took the lock in this round trip.
    pub lock_acquired: bool,
    pub containers: Vec<Container>,
    /// Free space under the base dir, in KiB.
    pub free_kib: Option<u64>,
}

/// One shell script that reports a host's state, and, with `lock`, takes the
/// deploy lock atomically (`mkdir`).
///
/// It is the whole cost of a no-op deploy, so it runs as few programs as it
/// can, and the slow ones side by side: the compose CLI's version (two Go
/// programs for the v2 plugin) in the background while `docker ps` lists
/// the site's containers; `docker ps` failing says Docker is unreachable.
/// Sections are named, so their order does not matter, but the background
/// part prints its one short line before anything long is written, and the
/// script waits for it before the rest, so no output interleaves.
pub fn probe_script(base_dir: &str, site: &str, lock: Option<&str>) -> String {
    let b = quote(base_dir);
    let mut s = format!(
        "base={b}\n\
         ( c=none; if docker compose version >/dev/null 2>&1; then c=v2; \
         elif command -v docker-compose >/dev/null 2>&1; then c=v1; fi; \
         printf '==regie:compose\\n%s\\n' \"$c\" ) &\n\
         if ids=$(docker ps -aq --filter label=regie.site={} 2>/dev/null); then docker=yes; else docker=no; ids=; fi\n\
         wait\n\
         echo '==regie:docker'; echo \"$docker\"\n\
         echo '==regie:free'; df -Pk \"$base\" 2>/dev/null | awk 'NR==2 {{print $4}}' || df -Pk / | awk 'NR==2 {{print $4}}'\n",
        quote(site)
    );
    if let Some(info) = lock {
        s.push_str(&format!(
            "echo '==regie:lock'\n\
             mkdir -p \"$base/{STATE_DIR}\"\n\
             if mkdir \"$base/{STATE_DIR}/lock\" 2>/dev/null; then printf '%s\\n' {} > \"$base/{STATE_DIR}/lock/info\"; echo acquired; \
             else echo held; cat \"$base/{STATE_DIR}/lock/info\" 2>/dev/null; echo; fi\n",
            quote(info)
        ));
    } else {
        s.push_str(&format!(
            "echo '==regie:lock'; if [ -d \"$base/{STATE_DIR}/lock\" ]; then echo held; cat \"$base/{STATE_DIR}/lock/info\" 2>/dev/null; echo; else echo free; fi\n"
        ));
    }
    s.push_str(&format!(
        "echo '==regie:manifest'; cat \"$base/{STATE_DIR}/manifest.json\" 2>/dev/null; echo\n\
         echo '==regie:containers'; [ -n \"$ids\" ] && docker inspect $ids\n\
         echo '==regie:end'\n"
    ));
    s
}

fn sections(out: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut cur: Option<String> = None;
    let mut buf = String::new();
    for line in out.split_inclusive('\n') {
        if let Some(name) = line.trim_end().strip_prefix("==regie:") {
            if let Some(c) = cur.take() {
                m.insert(c, std::mem::take(&mut buf));
            }
            cur = Some(name.to_string());
        } else {
            buf.push_str(line);
        }
    }
    if let Some(c) = cur {
        m.insert(c, buf);
    }
    m
}

/// Parse the probe's output. An unparsable manifest is an error: better stop
/// than redeploy everything blindly.
pub fn parse_probe(out: &str) -> Result<RemoteState, String> {
    let s = sections(out);
    if !s.contains_key("end") {
        return Err("incomplete answer from the host (connection cut?)".into());
    }
    let mut st = RemoteState {
        docker: s.get("docker").map(|v| v.trim() == "yes").unwrap_or(false),
        compose: match s.get("compose").map(|v| v.trim()) {
            Some("v2") => Some(Compose::V2),
            Some("v1") => Some(Compose::V1),
            _ => None,
        },
        free_kib: s.get("free").and_then(|v| v.trim().parse().ok()),
        ..Default::default()
    };
    if let Some(lock) = s.get("lock") {
        let mut lines = lock.lines();
        match lines.next().map(str::trim) {
            Some("acquired") => st.lock_acquired = true,
            Some("held") => {
                let info: String = lines.collect::<Vec<_>>().join(" ");
                st.lock_held_by = Some(if info.trim().is_empty() {
                    "unknown holder".into()
                } else {
                    info.trim().into()
                });
            }
            _ => {}
        }
    }
    if let Some(m) = s.get("manifest").filter(|m| !m.trim().is_empty()) {
        st.manifest = Some(
            serde_json::from_str(m)
                .map_err(|e| format!("the host's manifest is unreadable: {e}"))?,
        );
    }
    if let Some(c) = s.get("containers") {
        st.containers =
            parse_inspect(c).map_err(|e| format!("unreadable docker inspect output: {e}"))?;
    }
    Ok(st)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Create,
    Update,
    Remove,
}

#[derive(Debug, Clone, Serialize)]
pub struct FilePlan {
    pub path: String,
    pub change: Change,
    pub secret: bool,
    pub mode: u32,
    pub old_sha256: Option<String>,
    pub new_sha256: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StackAction {
    /// `compose up -d --remove-orphans`.
    Up,
    /// `compose down` and its files removed (only with --prune).
    Remove,
    /// No longer in the inventory but kept (no --prune).
    Keep,
}

#[derive(Debug, Clone, Serialize)]
pub struct StackPlan {
    pub name: String,
    pub project: String,
    pub action: StackAction,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostPlan {
    pub host: String,
    pub base_dir: String,
    pub files: Vec<FilePlan>,
    pub stacks: Vec<StackPlan>,
}

impl HostPlan {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.stacks.iter().all(|s| s.action == StackAction::Keep)
    }
    pub fn stacks_up(&self) -> impl Iterator<Item = &StackPlan> {
        self.stacks.iter().filter(|s| s.action == StackAction::Up)
    }
}

pub use crate::site::selection::PlanOptions;

fn stack_of(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

/// Compare what should be on the host with what is there.
pub fn plan_host(want: &HostRender, remote: &RemoteState, opts: &PlanOptions) -> HostPlan {
    let selected = |stack: &str| opts.only.as_ref().is_none_or(|o| o.contains(stack));
    let old: BTreeMap<&str, &RenderedFile> = remote
        .manifest
        .as_ref()
        .map(|m| m.files.iter().map(|f| (f.path.as_str(), f)).collect())
        .unwrap_or_default();
    let new: BTreeMap<&str, &RenderedFile> =
        want.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let old_stacks: BTreeMap<&str, &str> = remote
        .manifest
        .as_ref()
        .map(|m| {
            m.stacks
                .iter()
                .map(|s| (s.name.as_str(), s.project.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let mut files = Vec::new();
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, f) in &new {
        let stack = stack_of(path);
        if !selected(stack) {
            continue;
        }
        let change = match old.get(path) {
            None => Change::Create,
            Some(o) if o.sha256 != f.sha256 || o.mode != f.mode => Change::Update,
            Some(_) => continue,
        };
        reasons.entry(stack.to_string()).or_default().push(format!(
            "{} {}",
            if change == Change::Create {
                "new"
            } else {
                "changed"
            },
            &path[stack.len() + 1..]
        ));
        files.push(FilePlan {
            path: path.to_string(),
            change,
            secret: f.secret,
            mode: f.mode,
            old_sha256: old.get(path).map(|o| o.sha256.clone()),
            new_sha256: Some(f.sha256.clone()),
        });
    }
    let wanted_stacks: BTreeSet<&str> = want
        .manifest
        .stacks
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    for (path, o) in &old {
        let stack = stack_of(path);
        if new.contains_key(path) || !selected(stack) {
            continue;
        }
        // A stack that leaves the inventory is taken down with its
        // directory by `compose down` (only with --prune), not file by file.
        if !wanted_stacks.contains(stack) {
            continue;
        }
        reasons
            .entry(stack.to_string())
            .or_default()
            .push(format!("removed {}", &path[stack.len() + 1..]));
        files.push(FilePlan {
            path: path.to_string(),
            change: Change::Remove,
            secret: o.secret,
            mode: o.mode,
            old_sha256: Some(o.sha256.clone()),
            new_sha256: None,
        });
    }
    let mut stacks = Vec::new();
    for s in &want.manifest.stacks {
        if !selected(&s.name) {
            continue;
        }
        let mut why = reasons.remove(&s.name).unwrap_or_default();
        if !old_stacks.contains_key(s.name.as_str()) && why.is_empty() {
            why.push("new stack".into());
        }
        let mine: Vec<&Container> = remote
            .containers
            .iter()
            .filter(|c| c.project == s.project)
            .collect();
        if mine.is_empty() {
            why.push("no container".into());
        } else {
            // A container Docker has not judged yet is no reason to bring
            // the stack up again (the deploy's gate checked it on demand).
            for c in mine.iter().filter(|c| !c.is_up() && !c.is_starting()) {
                why.push(format!(
                    "{} is {}{}",
                    c.service,
                    c.status,
                    c.health
                        .as_deref()
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default()
                ));
            }
        }
        if !why.is_empty() {
            stacks.push(StackPlan {
                name: s.name.clone(),
                project: s.project.clone(),
                action: StackAction::Up,
                reasons: why,
            });
        }
    }
    for (name, project) in &old_stacks {
        if wanted_stacks.contains(name) || !selected(name) {
            continue;
        }
        let (action, why) = if opts.prune {
            (
                StackAction::Remove,
                "no longer in the inventory".to_string(),
            )
        } else {
            (
                StackAction::Keep,
                "no longer in the inventory; kept (use --prune to remove it)".to_string(),
            )
        };
        stacks.push(StackPlan {
            name: name.to_string(),
            project: project.to_string(),
            action,
            reasons: vec![why],
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    HostPlan {
        host: want.host.clone(),
        base_dir: want.manifest.base_dir.clone(),
        files,
        stacks,
    }
}

/// The upload: one tar stream with every created or updated file, and the
/// script that unpacks it into a staging directory on the same file system,
/// checks every sha256, then renames each file into place (atomic per file)
/// and removes what must go. A cut connection or a full disk leaves only the
/// staging directory, which the next run clears.
pub fn upload(plan: &HostPlan, want: &HostRender) -> (String, Vec<u8>) {
    let content: BTreeMap<&str, &RenderedFile> =
        want.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    let mut checks = String::new();
    let mut moves = String::new();
    for f in &plan.files {
        let q = quote(&f.path);
        match f.change {
            Change::Create | Change::Update => {
                let rf = content[f.path.as_str()];
                let mut h = tar::Header::new_gnu();
                h.set_size(rf.content.len() as u64);
                h.set_mode(rf.mode);
                h.set_uid(0);
                h.set_gid(0);
                h.set_mtime(0);
                h.set_entry_type(tar::EntryType::Regular);
                tar.append_data(&mut h, &f.path, rf.content.as_slice())
                    .expect("in-memory tar");
                checks.push_str(&format!("{}  {}\n", rf.sha256, f.path));
                moves.push_str(&format!(
                    "mkdir -p \"$base/$(dirname {q})\"; chmod {:o} \"$stage\"/{q}; mv -f \"$stage\"/{q} \"$base\"/{q}\n",
                    rf.mode
                ));
            }
            Change::Remove => moves.push_str(&format!("rm -f \"$base\"/{q}\n")),
        }
    }
    let data = tar.into_inner().expect("in-memory tar");
    if checks.is_empty() {
        return (
            format!("set -eu\nbase={}\n{moves}", quote(&plan.base_dir)),
            Vec::new(),
        );
    }
    let script = format!(
        "set -eu\n\
         base={base}\n\
         mkdir -p \"$base/{STATE_DIR}\"\n\
         rm -rf \"$base/{STATE_DIR}\"/stage.*\n\
         stage=\"$base/{STATE_DIR}/stage.$$\"\n\
         mkdir -m 700 \"$stage\"\n\
         trap 'rm -rf \"$stage\"' EXIT\n\
         tar -x -f - -C \"$stage\" --no-same-owner\n\
         (cd \"$stage\" && sha256sum -c --quiet --strict) <<'REGIE_SUMS'\n{checks}REGIE_SUMS\n\
         {moves}",
        base = quote(&plan.base_dir)
    );
    (script, data)
}

/// Print files with markers, for diffs (one round trip).
pub fn cat_files_script<'a>(base_dir: &str, paths: impl Iterator<Item = &'a str>) -> String {
    let mut s = format!("base={}\n", quote(base_dir));
    for p in paths {
        let q = quote(p);
        s.push_str(&format!(
            "printf '==regie:file %s\\n' {q}; cat \"$base\"/{q} 2>/dev/null\n"
        ));
    }
    s
}

pub fn parse_cat_files(out: &str) -> BTreeMap<String, String> {
    sections(out)
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("file ").map(|p| (p.to_string(), v)))
        .collect()
}

/// `compose up` for one stack.
pub fn up_script(base_dir: &str, stack: &str, project: &str, compose: Compose) -> String {
    format!(
        "cd {}/{} && {} -p {} up -d --remove-orphans 2>&1",
        quote(base_dir),
        quote(stack),
        compose.command(),
        quote(project)
    )
}

/// `compose down` for a pruned stack, then its directory; volumes only
/// with `delete_data`.
pub fn down_script(
    base_dir: &str,
    stack: &str,
    project: &str,
    compose: Compose,
    delete_data: bool,
) -> String {
    format!(
        "set -e; cd {b}/{s} && {c} -p {p} down --remove-orphans{v} 2>&1; cd / && mkdir -p {b}/{st}/pruned && mv {b}/{s} {b}/{st}/pruned/{s}.$(date +%Y%m%d%H%M%S)",
        b = quote(base_dir),
        st = STATE_DIR,
        s = quote(stack),
        c = compose.command(),
        p = quote(project),
        v = if delete_data { " --volumes" } else { "" }
    )
}

/// State of one compose project's containers.
pub fn inspect_project_script(project: &str) -> String {
    format!(
        "ids=$(docker ps -aq --filter label=com.docker.compose.project={}); [ -z \"$ids\" ] || docker inspect $ids",
        quote(project)
    )
}

/// Last log lines of containers, for a failed health check.
pub fn logs_script(containers: &[&str], lines: u32) -> String {
    containers
        .iter()
        .map(|c| {
            format!(
                "echo \"--- {c}\"; docker logs --tail {lines} {} 2>&1",
                quote(c)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Print a host's deploy and update journal (nothing when there is none).
pub fn journal_read_script(base_dir: &str) -> String {
    format!(
        "cat {} 2>/dev/null || true",
        quote(&crate::site::layout::journal(base_dir))
    )
}

/// Write the host manifest (sent on stdin) and append to the journal.
pub fn manifest_script(base_dir: &str, journal_line: &str) -> String {
    format!(
        "set -eu\nbase={}\nmkdir -p \"$base/{STATE_DIR}\"\n\
         cat > \"$base/{STATE_DIR}/manifest.json.tmp\"\n\
         mv -f \"$base/{STATE_DIR}/manifest.json.tmp\" \"$base/{STATE_DIR}/manifest.json\"\n\
         printf '%s\\n' {} >> \"$base/{STATE_DIR}/journal.jsonl\"\n",
        quote(base_dir),
        quote(journal_line)
    )
}

pub fn unlock_script(base_dir: &str) -> String {
    format!("rm -rf {}/{STATE_DIR}/lock", quote(base_dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::files::StackManifest;

    fn file(path: &str, body: &str, secret: bool) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            content: body.as_bytes().to_vec(),
            mode: if secret { 0o600 } else { 0o644 },
            secret,
            sha256: crate::site::files::sha256_hex(body.as_bytes()),
        }
    }

    fn host(files: Vec<RenderedFile>, stacks: &[&str]) -> HostRender {
        HostRender {
            push: None,
            host: "srv1".into(),
            files: files.clone(),
            manifest: Manifest {
                regie_version: "test".into(),
                deployed_by: None,
                deployed_at: None,
                site: "s".into(),
                host: "srv1".into(),
                base_dir: "/opt/regie".into(),
                stacks: stacks
                    .iter()
                    .map(|s| StackManifest {
                        name: s.to_string(),
                        project: format!("s-{s}"),
                        version: "1".into(),
                        images: Default::default(),
                        config_hash: "x".into(),
                    })
                    .collect(),
                files,
            },
        }
    }

    fn running(project: &str) -> Container {
        Container {
            name: format!("{project}_app_1"),
            project: project.into(),
            service: "app".into(),
            status: "running".into(),
            health: Some("healthy".into()),
            restart_count: 0,
            image: "x".into(),
        }
    }

    #[test]
    fn first_deploy_creates_everything() {
        let want = host(
            vec![
                file("a/docker-compose.yml", "x", false),
                file("a/app.env", "p", true),
            ],
            &["a"],
        );
        let p = plan_host(&want, &RemoteState::default(), &PlanOptions::default());
        assert_eq!(p.files.len(), 2);
        assert!(p.files.iter().all(|f| f.change == Change::Create));
        assert_eq!(p.stacks.len(), 1);
        assert_eq!(p.stacks[0].action, StackAction::Up);
    }

    #[test]
    fn no_op_when_in_sync_and_running() {
        let want = host(vec![file("a/docker-compose.yml", "x", false)], &["a"]);
        let remote = RemoteState {
            manifest: Some(want.manifest.clone()),
            containers: vec![running("s-a")],
            ..Default::default()
        };
        let p = plan_host(&want, &remote, &PlanOptions::default());
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn a_changed_config_file_brings_its_stack_up_and_only_it() {
        let old = host(
            vec![
                file("a/docker-compose.yml", "x", false),
                file("a/config/c", "1", false),
                file("b/docker-compose.yml", "y", false),
            ],
            &["a", "b"],
        );
        let want = host(
            vec![
                file("a/docker-compose.yml", "x", false),
                file("a/config/c", "2", false),
                file("b/docker-compose.yml", "y", false),
            ],
            &["a", "b"],
        );
        let remote = RemoteState {
            manifest: Some(old.manifest.clone()),
            containers: vec![running("s-a"), running("s-b")],
            ..Default::default()
        };
        let p = plan_host(&want, &remote, &PlanOptions::default());
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.files[0].change, Change::Update);
        let up: Vec<_> = p.stacks_up().map(|s| s.name.as_str()).collect();
        assert_eq!(up, vec!["a"]);
        assert_eq!(p.stacks[0].reasons, vec!["changed config/c"]);
    }

    #[test]
    fn a_stopped_container_brings_its_stack_up() {
        let want = host(vec![file("a/docker-compose.yml", "x", false)], &["a"]);
        let mut c = running("s-a");
        c.status = "exited".into();
        c.health = None;
        let remote = RemoteState {
            manifest: Some(want.manifest.clone()),
            containers: vec![c],
            ..Default::default()
        };
        let p = plan_host(&want, &remote, &PlanOptions::default());
        assert_eq!(p.stacks[0].reasons, vec!["app is exited"]);
    }

    #[test]
    fn an_unhealthy_container_brings_its_stack_up_a_starting_one_does_not() {
        let want = host(vec![file("a/docker-compose.yml", "x", false)], &["a"]);
        let with = |health: &str| {
            let mut c = running("s-a");
            c.health = Some(health.into());
            let remote = RemoteState {
                manifest: Some(want.manifest.clone()),
                containers: vec![c],
                ..Default::default()
            };
            plan_host(&want, &remote, &PlanOptions::default())
        };
        assert_eq!(
            with("unhealthy").stacks[0].reasons,
            vec!["app is running (unhealthy)"]
        );
        assert!(with("starting").is_empty());
    }

    #[test]
    fn removed_stack_kept_without_prune_removed_with() {
        let old = host(
            vec![
                file("a/docker-compose.yml", "x", false),
                file("b/docker-compose.yml", "y", false),
            ],
            &["a", "b"],
        );
        let want = host(vec![file("a/docker-compose.yml", "x", false)], &["a"]);
        let remote = RemoteState {
            manifest: Some(old.manifest.clone()),
            containers: vec![running("s-a"), running("s-b")],
            ..Default::default()
        };
        let p = plan_host(&want, &remote, &PlanOptions::default());
        assert!(p.files.is_empty());
        assert_eq!(p.stacks[0].action, StackAction::Keep);
        assert!(p.is_empty());
        let p = plan_host(
            &want,
            &remote,
            &PlanOptions {
                prune: true,
                ..Default::default()
            },
        );
        assert!(
            p.files.is_empty(),
            "compose down removes the directory itself"
        );
        assert!(!p.is_empty());
        assert_eq!(p.stacks[0].action, StackAction::Remove);
    }

    #[test]
    fn service_filter() {
        let want = host(
            vec![
                file("a/docker-compose.yml", "x", false),
                file("b/docker-compose.yml", "y", false),
            ],
            &["a", "b"],
        );
        let only = Some(BTreeSet::from(["b".to_string()]));
        let p = plan_host(
            &want,
            &RemoteState::default(),
            &PlanOptions { only, prune: false },
        );
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.stacks.len(), 1);
        assert_eq!(p.stacks[0].name, "b");
    }

    #[test]
    fn upload_is_one_tar_and_quotes_paths() {
        let want = host(
            vec![
                file("a/docker-compose.yml", "x", false),
                file("a/it's.env", "p", true),
            ],
            &["a"],
        );
        let p = plan_host(&want, &RemoteState::default(), &PlanOptions::default());
        let (script, tar) = upload(&p, &want);
        assert!(script.contains(r"'a/it'\''s.env'"));
        assert!(script.contains("sha256sum -c"));
        let mut a = tar::Archive::new(tar.as_slice());
        let names: Vec<_> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names.len(), 2);
        // Secrets travel in the tar on stdin, never in the script.
        assert!(!script.contains("\np\n"));
    }

    /// The real script on a real shell: a lock whose info has no final
    /// newline (as older versions wrote it) still ends before the next
    /// section, and the holder is read whole.
    #[test]
    fn held_lock_info_is_not_glued_to_the_next_section() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().to_str().unwrap();
        std::fs::create_dir_all(dir.path().join(STATE_DIR).join("lock")).unwrap();
        let info = "{\"command\":\"regie deploy\"}";
        std::fs::write(dir.path().join(STATE_DIR).join("lock/info"), info).unwrap();
        for lock in [None, Some("{\"command\":\"other\"}")] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(probe_script(base, "demo", lock))
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("\n==regie:manifest\n"), "{text}");
            let st = parse_probe(&text).unwrap();
            assert_eq!(st.lock_held_by.as_deref(), Some(info), "{text}");
        }
        // A lock this version takes ends its info with a newline.
        std::fs::remove_dir_all(dir.path().join(STATE_DIR).join("lock")).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(probe_script(base, "demo", Some("me")))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("==regie:lock\nacquired\n"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(STATE_DIR).join("lock/info")).unwrap(),
            "me\n"
        );
    }

    #[test]
    fn probe_parsing() {
        let out = "==regie:docker\nyes\n==regie:compose\nv1\n==regie:free\n1234\n==regie:lock\nheld\n{\"holder\":\"bob\"}\n==regie:manifest\n==regie:containers\n==regie:end\n";
        let st = parse_probe(out).unwrap();
        assert_eq!(st.compose, Some(Compose::V1));
        assert!(st.docker);
        assert_eq!(st.free_kib, Some(1234));
        assert_eq!(st.lock_held_by.as_deref(), Some("{\"holder\":\"bob\"}"));
        assert!(st.manifest.is_none());
        assert!(
            parse_probe("==regie:docker\nyes\n").is_err(),
            "cut answer must be an error"
        );
    }

    #[test]
    fn inspect_parsing() {
        let j = r#"[{"Name":"/s-a_app_1","RestartCount":2,"Config":{"Image":"busybox","Labels":{"com.docker.compose.project":"s-a","com.docker.compose.service":"app"}},"State":{"Status":"running","Health":{"Status":"unhealthy"}}}]"#;
        let c = parse_inspect(j).unwrap();
        assert_eq!(c[0].name, "s-a_app_1");
        assert!(c[0].is_failed());
        assert!(!c[0].is_up());
    }
}

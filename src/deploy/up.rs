//! Bringing a host's changed stacks up together, pure: the order they
//! must respect (waves), the one script that runs each wave's
//! `compose up` concurrently on the host, and the reading of its output.
//! A host with several changed stacks then waits for the slowest one, not
//! for their sum, in one SSH round trip.

use std::collections::BTreeMap;

use crate::deploy::plan::{Compose, StackPlan};
use crate::util::shell::quote;

/// The stack that creates the site's proxy network and volume, which the
/// other web stacks join as `external`: it goes up first.
pub const PROXY_STACK: &str = "proxy";

/// Stacks to bring up, in waves: the proxy alone first (when it changed),
/// then every other stack at once. Within a wave, the plan's order.
pub fn waves<'a>(stacks: &[&'a StackPlan]) -> Vec<Vec<&'a StackPlan>> {
    let (first, rest): (Vec<&StackPlan>, Vec<&StackPlan>) =
        stacks.iter().partition(|s| s.name == PROXY_STACK);
    [first, rest]
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect()
}

/// Marker before each stack's output in the script's stdout.
const MARK: &str = "==regie:up ";

/// One script: each wave's `compose up -d --remove-orphans` run as
/// background jobs, the next wave once the previous one is done; then,
/// per stack, a marker line with its exit status and its output, every
/// output line indented by one space (so no output can pass for a marker).
pub fn up_many_script(base_dir: &str, waves: &[Vec<&StackPlan>], compose: Compose) -> String {
    let mut s = format!(
        "T=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$T\"' EXIT\n\
         up() {{ (cd {}/\"$1\" && {} -p \"$2\" up -d --remove-orphans) >\"$T/$1.out\" 2>&1; echo $? >\"$T/$1.rc\"; }}\n",
        quote(base_dir),
        compose.command()
    );
    for wave in waves {
        for st in wave {
            s.push_str(&format!(
                "up {} {} &\n",
                quote(&st.name),
                quote(&st.project)
            ));
        }
        s.push_str("wait\n");
    }
    let names: Vec<String> = waves.iter().flatten().map(|st| quote(&st.name)).collect();
    s.push_str(&format!(
        "for s in {}; do printf '{MARK}%s %s\\n' \"$s\" \"$(cat \"$T/$s.rc\" 2>/dev/null || echo 255)\"; sed 's/^/ /' \"$T/$s.out\" 2>/dev/null; done\n",
        names.join(" ")
    ));
    s
}

/// What `compose up` did for one stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpResult {
    pub ok: bool,
    pub output: String,
}

/// Read the script's output: per stack named in `stacks`, its result. A
/// stack without a marker (the script was cut short) is a failure.
pub fn parse_up_many(out: &str, stacks: &[&str]) -> BTreeMap<String, UpResult> {
    let mut res: BTreeMap<String, UpResult> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in out.lines() {
        if let Some((name, rc)) = line
            .strip_prefix(MARK)
            .and_then(|r| r.rsplit_once(' '))
            .filter(|(n, _)| stacks.contains(n) && !res.contains_key(*n))
        {
            res.insert(
                name.to_string(),
                UpResult {
                    ok: rc.trim() == "0",
                    output: String::new(),
                },
            );
            current = Some(name.to_string());
        } else if let Some(r) = current.as_ref().and_then(|c| res.get_mut(c)) {
            r.output.push_str(line.strip_prefix(' ').unwrap_or(line));
            r.output.push('\n');
        }
    }
    for s in stacks {
        res.entry(s.to_string()).or_insert_with(|| UpResult {
            ok: false,
            output: "no result: the command was cut short".into(),
        });
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::plan::StackAction;

    fn st(name: &str) -> StackPlan {
        StackPlan {
            name: name.into(),
            project: format!("site-{name}"),
            action: StackAction::Up,
            reasons: vec![],
        }
    }

    #[test]
    fn the_proxy_goes_first_and_the_rest_together() {
        let (a, p, b) = (st("chat"), st("proxy"), st("wiki"));
        let w = waves(&[&a, &p, &b]);
        let names: Vec<Vec<&str>> = w
            .iter()
            .map(|w| w.iter().map(|s| s.name.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["proxy"], vec!["chat", "wiki"]]);
        assert_eq!(waves(&[&a]).len(), 1);
        assert!(waves(&[]).is_empty());
    }

    #[test]
    fn one_script_runs_each_wave_in_the_background_and_reports_per_stack() {
        let (a, p, b) = (st("chat"), st("proxy"), st("wiki"));
        let s = up_many_script("/opt/my regie", &waves(&[&a, &p, &b]), Compose::V2);
        assert!(s.contains(
            "(cd '/opt/my regie'/\"$1\" && docker compose -p \"$2\" up -d --remove-orphans)"
        ));
        let proxy = s.find("up 'proxy' 'site-proxy' &").unwrap();
        let first_wait = s.find("wait\n").unwrap();
        let chat = s.find("up 'chat' 'site-chat' &").unwrap();
        assert!(proxy < first_wait && first_wait < chat, "{s}");
        assert!(s.contains("up 'wiki' 'site-wiki' &\nwait\n"));
        assert!(s.contains("for s in 'proxy' 'chat' 'wiki'; do"));
    }

    #[test]
    fn the_script_runs_in_sh_and_its_output_reads_back() {
        // The real script, in sh, with a stand-in compose that fails for
        // one stack: each stack's status and output come back separately.
        let dir = tempfile::tempdir().unwrap();
        for n in ["proxy", "chat", "wiki"] {
            std::fs::create_dir(dir.path().join(n)).unwrap();
        }
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(
            bin.join("docker-compose"),
            "#!/bin/sh\necho \"up $2 in $(basename \"$PWD\")\"\n[ \"$2\" != site-chat ] || { echo boom >&2; exit 3; }\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            bin.join("docker-compose"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let (a, p, b) = (st("chat"), st("proxy"), st("wiki"));
        let script = up_many_script(
            &dir.path().to_string_lossy(),
            &waves(&[&a, &p, &b]),
            Compose::V1,
        );
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .output()
            .unwrap();
        assert!(o.status.success());
        let r = parse_up_many(
            &String::from_utf8_lossy(&o.stdout),
            &["proxy", "chat", "wiki"],
        );
        assert!(r["proxy"].ok && r["proxy"].output == "up site-proxy in proxy\n");
        assert!(!r["chat"].ok && r["chat"].output.contains("boom"), "{r:?}");
        assert!(r["wiki"].ok && r["wiki"].output == "up site-wiki in wiki\n");
    }

    #[test]
    fn a_stack_without_a_result_failed_and_output_cannot_forge_one() {
        // proxy's output holds a line that looks like chat's marker: it is
        // indented, so it stays proxy's output; chat never reported.
        let out = "==regie:up proxy 0\n Creating x\n ==regie:up chat 0\n==regie:up proxy 1\n";
        let r = parse_up_many(out, &["proxy", "chat"]);
        assert!(r["proxy"].ok, "{r:?}");
        assert_eq!(
            r["proxy"].output,
            "Creating x\n==regie:up chat 0\n==regie:up proxy 1\n"
        );
        assert!(!r["chat"].ok);
        assert!(r["chat"].output.contains("cut short"));
    }
}

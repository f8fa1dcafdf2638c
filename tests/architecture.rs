//! The layer rule of `src/lib.rs`, checked on the source: every `crate::`
//! path outside test code is an import edge between components, and
//!
//! - `util` imports nothing of the crate;
//! - `site` imports `util` and `site`;
//! - `remote` imports `util`, `site` and `remote`;
//! - a capability's planner files import `util`, `site` and planners;
//! - a capability's executor files (`run.rs`, or under `run/`) import
//!   anything but `cli`;
//! - nothing but `cli` imports `cli`;
//! - the components (`site::x`, `remote::x`, `cap.plan`, `cap.run`, `util`,
//!   `cli`) form no cycle;
//! - every source file is declared by a `mod` line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Util,
    Site,
    Remote,
    Planner,
    Executor,
    Cli,
}

/// The module path of a file under `src/` (`site/inventory/mod.rs` ->
/// `["site", "inventory"]`).
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The component and layer of a module path.
fn classify(m: &[String]) -> Option<(String, Layer)> {
    let first = m.first()?.as_str();
    Some(match first {
        "util" => ("util".into(), Layer::Util),
        "cli" => ("cli".into(), Layer::Cli),
        "site" | "remote" => {
            let layer = if first == "site" {
                Layer::Site
            } else {
                Layer::Remote
            };
            match m.get(1) {
                Some(x) => (format!("{first}::{x}"), layer),
                None => (first.into(), layer),
            }
        }
        cap => {
            let run = m
                .get(1)
                .is_some_and(|s| s == "run" || s.starts_with("run_"));
            if run {
                (format!("{cap}.run"), Layer::Executor)
            } else {
                (format!("{cap}.plan"), Layer::Planner)
            }
        }
    })
}

fn allowed(from: Layer, to: Layer) -> bool {
    use Layer::*;
    match from {
        Util => to == Util,
        Site => matches!(to, Util | Site),
        Remote => matches!(to, Util | Site | Remote),
        Planner => matches!(to, Util | Site | Planner),
        Executor => to != Cli,
        Cli => true,
    }
}

/// The production part of a file: without `#[cfg(test)]` items and
/// comments.
fn production(src: &str) -> String {
    let mut out = String::new();
    let mut skip_next_item = false;
    let mut depth_at_skip: Option<i64> = None;
    let mut depth: i64 = 0;
    for line in src.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if t.starts_with("#[cfg(test)]") {
            skip_next_item = true;
            continue;
        }
        let opens = line.matches('{').count() as i64;
        let closes = line.matches('}').count() as i64;
        if skip_next_item {
            skip_next_item = false;
            if opens > closes {
                depth_at_skip = Some(depth);
                depth += opens - closes;
            }
            // A one-line item (`mod fixtures;`) is skipped whole.
            continue;
        }
        depth += opens - closes;
        if let Some(d) = depth_at_skip {
            if depth <= d {
                depth_at_skip = None;
            }
            continue;
        }
        let code = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every `crate::` path of a text, `use crate::{a::b, c}` groups expanded
/// one level deep (enough to name the module).
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            let mut nest = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => nest += 1,
                    '}' if nest == 0 => break,
                    '}' => nest -= 1,
                    ',' if nest == 0 => {
                        out.push(segments(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(segments(&item));
            rest = &group[end.min(group.len())..];
        } else {
            out.push(segments(rest));
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

fn segments(s: &str) -> Vec<String> {
    let mut v = Vec::new();
    for part in s.trim().split("::") {
        let word: String = part
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if word.is_empty() || word.chars().next().is_some_and(|c| c.is_uppercase()) {
            break;
        }
        v.push(word);
        if part.len() != v.last().map_or(0, |w| w.len()) {
            break;
        }
    }
    v
}

/// The violations of the rule in a set of files (`rel path` -> source).
fn check(files: &BTreeMap<String, String>) -> Vec<String> {
    let modules: BTreeSet<Vec<String>> = files.keys().map(|f| module_of(f)).collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, src) in files {
        if rel == "main.rs" {
            continue;
        }
        let from_mod = module_of(rel);
        let Some((from, from_layer)) = classify(&from_mod) else {
            continue; // lib.rs: the root only declares modules
        };
        for path in crate_paths(&production(src)) {
            // The deepest module the path names.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p))
                .unwrap_or_else(|| path[..1].to_vec());
            let Some((to, to_layer)) = classify(&target) else {
                problems.push(format!(
                    "{rel}: `crate::{}` names no module",
                    path.join("::")
                ));
                continue;
            };
            if to == from {
                continue;
            }
            if !allowed(from_layer, to_layer) {
                problems.push(format!(
                    "{rel}: {from} ({from_layer:?}) must not import {to} ({to_layer:?}): crate::{}",
                    path.join("::")
                ));
            }
            edges.entry(from.clone()).or_default().insert(to);
        }
    }
    problems.extend(cycles(&edges));
    // Every file is declared by its parent.
    for rel in files.keys() {
        if rel == "lib.rs" || rel == "main.rs" {
            continue;
        }
        let m = module_of(rel);
        let name = m.last().cloned().unwrap_or_default();
        let parent = &m[..m.len() - 1];
        let parent_file = files.iter().find(|(f, _)| {
            module_of(f) == parent
                && (f.ends_with("mod.rs") || f.as_str() == "lib.rs" || !parent.is_empty())
        });
        let declared = parent_file.is_some_and(|(_, s)| {
            s.lines().any(|l| {
                let l = l.trim();
                l == format!("mod {name};")
                    || l == format!("pub mod {name};")
                    || l == format!("pub(crate) mod {name};")
            })
        });
        if !declared {
            problems.push(format!("{rel}: not declared by a `mod {name};` line"));
        }
    }
    problems
}

/// Cycles between components (Tarjan's strongly connected components).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        if let Some(ws) = t.edges.get(v) {
            for w in ws {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let l = t.low[v].min(t.low[w]);
                    t.low.insert(v, l);
                } else if t.on.contains(w) {
                    let l = t.low[v].min(t.index[w]);
                    t.low.insert(v, l);
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: BTreeSet<&str> = edges
        .iter()
        .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(v.iter().map(|s| s.as_str())))
        .collect();
    for n in nodes {
        if !t.index.contains_key(n) {
            visit(&mut t, n);
        }
    }
    t.out
        .into_iter()
        .map(|c| format!("import cycle: {}", c.join(" <-> ")))
        .collect()
}

fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            read_tree(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, std::fs::read_to_string(&p).unwrap());
        }
    }
}

#[test]
fn the_source_follows_the_layer_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    read_tree(&root, &root, &mut files);
    assert!(files.len() > 50, "read {} files", files.len());
    let problems = check(&files);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A small crate that follows the rule, to which the tests below add one
/// forbidden import each.
fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("lib.rs", "pub mod util;\npub mod site;\npub mod remote;\npub mod backup;\npub mod cli;\n"),
        ("util/mod.rs", "pub mod shell;\n"),
        ("util/shell.rs", "pub fn quote() {}\n"),
        ("site/mod.rs", "pub mod inventory;\n"),
        ("site/inventory.rs", "use crate::util::shell::quote;\n"),
        ("remote/mod.rs", "pub mod ssh;\n"),
        ("remote/ssh.rs", "use crate::site::inventory::Resolved;\n"),
        ("backup/mod.rs", "pub mod plan;\npub mod run;\n"),
        ("backup/plan.rs", "use crate::site::inventory::Resolved;\n#[cfg(test)]\nmod tests {\n    use crate::remote::ssh::Conn;\n}\n"),
        ("backup/run.rs", "use crate::backup::plan;\nuse crate::remote::ssh::Conn;\n"),
        ("cli/mod.rs", "use crate::backup::run;\n"),
    ]
}

#[test]
fn a_crate_that_follows_the_rule_passes() {
    let problems = check(&tree(&good()));
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn forbidden_imports_cycles_and_orphans_are_caught() {
    let cases: [(&str, &str, &str); 7] = [
        (
            "backup/plan.rs",
            "use crate::remote::ssh::Conn;\n",
            "backup.plan (Planner) must not import remote::ssh",
        ),
        (
            "backup/plan.rs",
            "use crate::{site::inventory, backup::run::go};\n",
            "must not import backup.run (Executor)",
        ),
        (
            "site/inventory.rs",
            "fn f() { crate::backup::plan::x(); }\n",
            "site::inventory (Site) must not import backup.plan",
        ),
        (
            "remote/ssh.rs",
            "use crate::backup::plan::Repo;\n",
            "remote::ssh (Remote) must not import backup.plan",
        ),
        (
            "backup/run.rs",
            "use crate::cli::Output;\n",
            "must not import cli",
        ),
        (
            "util/shell.rs",
            "use crate::site::inventory;\n",
            "util (Util) must not import site::inventory",
        ),
        (
            "site/mod.rs",
            "pub mod inventory;\npub mod other;\nuse crate::site::other::X;\n",
            "import cycle",
        ),
    ];
    for (file, text, expected) in cases {
        let mut files = tree(&good());
        let old = files[file].clone();
        files.insert(file.to_string(), format!("{old}{text}"));
        if file == "site/mod.rs" {
            files.insert(
                "site/other.rs".into(),
                "use crate::site::inventory::X;\n".into(),
            );
            files.insert(
                "site/inventory.rs".into(),
                "use crate::site::other::Y;\n".into(),
            );
        }
        let problems = check(&files);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{file} + {text:?}: expected {expected:?} in {problems:?}"
        );
    }
    let mut files = tree(&good());
    files.insert("backup/orphan.rs".into(), String::new());
    let problems = check(&files);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("backup/orphan.rs: not declared")),
        "{problems:?}"
    );
}

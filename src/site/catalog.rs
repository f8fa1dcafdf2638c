//! The stack catalog: one descriptor per service (`stacks/*.yml`) and its Tera
//! templates (`templates/<stack>/...`), embedded in the binary and overridable
//! from a directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use include_dir::{include_dir, Dir};
use serde::{Deserialize, Serialize};

use crate::site::facts::StackFacts;

static STACKS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/stacks");
static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");
static FACTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/stacks/facts");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    pub name: String,
    pub description: String,
    /// Placed automatically by regie (the reverse proxy), never in `services:`.
    #[serde(default)]
    pub automatic: bool,
    /// Default subdomain of the site's domain for the web hostname.
    #[serde(default)]
    pub subdomain: Option<String>,
    /// Web entry point served through the host's reverse proxy.
    #[serde(default)]
    pub web: Option<Web>,
    /// The stack sends mail (notifications, password resets): when the
    /// site has a mail service, regie gives it a mailbox there and the
    /// template a `mail_sender` (address, password, SMTP host).
    #[serde(default)]
    pub sends_mail: bool,
    pub min_ram_mb: u64,
    pub components: BTreeMap<String, Component>,
    /// Ports published on the host.
    #[serde(default)]
    pub ports: Vec<Port>,
    /// Named volumes (without the compose project prefix) and what they hold.
    #[serde(default)]
    pub volumes: BTreeMap<String, String>,
    #[serde(default)]
    pub backup: Backup,
    pub upgrade: Upgrade,
    #[serde(default)]
    pub dns: Vec<DnsRecord>,
    /// DKIM selector the stack signs mail with (`{dkim_selector}` in `dns`
    /// record names): `<selector>._domainkey.<domain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_selector: Option<String>,
    #[serde(default)]
    pub settings: BTreeMap<String, SettingSpec>,
    pub files: Vec<FileSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    pub component: String,
    pub port: u16,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Image name without tag; `{setting}` is replaced by that setting's value.
    pub image: String,
    /// Default pinned tag.
    pub tag: String,
    /// The service's `version:` in the inventory sets this component's tag.
    #[serde(default)]
    pub main: bool,
    /// The tag follows the service version like the main component's
    /// (components released together, e.g. Jitsi's four images).
    #[serde(default)]
    pub versioned: bool,
    /// Appended to the tag (image variant), e.g. `-apache`.
    #[serde(default)]
    pub suffix: String,
    /// Health check run inside the container (documentation; the compose
    /// template carries the real one).
    #[serde(default)]
    pub healthcheck: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub port: u16,
    pub proto: Proto,
    pub component: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Volumes captured as files.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Database dumps streamed into the backup.
    #[serde(default)]
    pub dumps: Vec<Dump>,
    /// Commands run in a component before the capture (e.g. maintenance mode on).
    #[serde(default)]
    pub before: Vec<Exec>,
    /// Commands run after the capture, also when it failed.
    #[serde(default)]
    pub after: Vec<Exec>,
    /// Commands run after a restore.
    #[serde(default)]
    pub after_restore: Vec<Exec>,
}

pub use super::dump::{check_dump, Dump, LoginFrom, Postgres};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Exec {
    pub component: String,
    #[serde(default)]
    pub user: Option<String>,
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradePolicy {
    /// Any newer tag of the same major.
    SameMajor,
    /// Next major only after the current one (e.g. Nextcloud).
    OneMajorAtATime,
    /// From one extended-support release to the next (Mattermost).
    Esr,
    /// Moving tags such as `stable`: follow the digest.
    Rolling,
    /// Every release is a new tag of the same form (Jitsi `stable-NNNNN`,
    /// DokuWiki dates): newer tags are proposed, none is a major.
    ReleaseTags,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Upgrade {
    pub policy: UpgradePolicy,
    /// Extended-support releases (`major.minor`) in order, for `esr`.
    #[serde(default)]
    pub esr: Vec<String>,
    /// The new version migrates the database when it starts: a failed
    /// update is rolled back with the pre-update backup restored.
    #[serde(default)]
    pub migrates_database: bool,
    /// Steps run once the new version is healthy (a failure rolls back).
    #[serde(default)]
    pub after: Vec<Exec>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRecord {
    #[serde(rename = "type")]
    pub kind: String,
    /// `{hostname}`, `{domain}`, `{address}` and `{dkim_selector}` are
    /// replaced.
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// The values of a catalog DNS template's placeholders for one service.
pub struct DnsVars<'a> {
    pub hostname: &'a str,
    pub address: &'a str,
    pub domain: &'a str,
    pub dkim_selector: &'a str,
}

impl DnsVars<'_> {
    /// Fill `{hostname}`, `{address}`, `{domain}` and `{dkim_selector}` of
    /// a record's name or value.
    pub fn fill(&self, tpl: &str) -> String {
        tpl.replace("{hostname}", self.hostname)
            .replace("{address}", self.address)
            .replace("{domain}", self.domain)
            .replace("{dkim_selector}", self.dkim_selector)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingType {
    String,
    Int,
    Bool,
    Email,
    Domain,
    Ip,
    /// A network in CIDR notation, or one address.
    Cidr,
    Enum,
    List,
    Object,
}

/// Schema of one service setting. Settings are checked against it and
/// defaults filled in before rendering.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettingSpec {
    #[serde(rename = "type")]
    pub kind: SettingType,
    pub doc: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<serde_yaml::Value>,
    /// For `enum`.
    #[serde(default)]
    pub values: Vec<String>,
    /// For `list`.
    #[serde(default)]
    pub items: Option<Box<SettingSpec>>,
    /// For `object`.
    #[serde(default)]
    pub fields: BTreeMap<String, SettingSpec>,
    /// For `int`.
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// For `bool`: RAM in MB the stack needs on top of `min_ram_mb` while
    /// the setting is on (ClamAV in `mail`).
    #[serde(default)]
    pub ram_mb: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Template name under `templates/`.
    pub template: String,
    /// Path of the rendered file inside the stack directory.
    pub path: String,
    /// Holds secrets: written with mode 0600; never fetched for diffs.
    #[serde(default)]
    pub secret: bool,
    /// Rendered only when this boolean setting is true.
    #[serde(default)]
    pub when: Option<String>,
}

impl FileSpec {
    /// The compose file is rendered last: it receives the hash of the other
    /// files so that a config change recreates the containers.
    pub fn is_compose(&self) -> bool {
        self.path == "docker-compose.yml"
    }
}

/// All stacks and templates in effect for a site.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub stacks: BTreeMap<String, Descriptor>,
    /// Template name -> source.
    pub templates: BTreeMap<String, String>,
    /// Where each descriptor came from (for messages).
    pub origin: BTreeMap<String, String>,
    /// Upstream facts about each stack's images (`stacks/facts/<stack>.yml`).
    pub facts: BTreeMap<String, StackFacts>,
}

fn parse_descriptor(name: &str, src: &str, origin: &str) -> Result<Descriptor> {
    let d: Descriptor = serde_yaml::from_str(src)
        .with_context(|| format!("stack descriptor {origin} is invalid"))?;
    if d.name != name {
        bail!(
            "stack descriptor {origin} has name `{}` but its file is named `{name}.yml`",
            d.name
        );
    }
    Ok(d)
}

fn walk_templates(dir: &Dir<'_>, out: &mut BTreeMap<String, String>) {
    for f in dir.files() {
        if let Some(s) = f.contents_utf8() {
            out.insert(f.path().to_string_lossy().replace('\\', "/"), s.to_string());
        }
    }
    for d in dir.dirs() {
        walk_templates(d, out);
    }
}

fn walk_fs(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk_fs(root, &p, out)?;
        } else {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let s = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            out.insert(rel, s);
        }
    }
    Ok(())
}

impl Catalog {
    /// The catalog shipped in the binary.
    pub fn builtin() -> Result<Catalog> {
        let mut stacks = BTreeMap::new();
        let mut origin = BTreeMap::new();
        for f in STACKS.files() {
            let path = f.path();
            if path.extension().and_then(|e| e.to_str()) != Some("yml") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let src = f.contents_utf8().unwrap_or_default();
            let o = format!("(built-in) stacks/{}", path.display());
            stacks.insert(name.clone(), parse_descriptor(&name, src, &o)?);
            origin.insert(name, o);
        }
        let mut templates = BTreeMap::new();
        walk_templates(&TEMPLATES, &mut templates);
        let mut facts = BTreeMap::new();
        for f in FACTS.files() {
            let Some(name) = f.path().file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let o = format!("(built-in) stacks/facts/{}", f.path().display());
            let src = f.contents_utf8().unwrap_or_default();
            facts.insert(name.to_string(), StackFacts::parse(name, src, &o)?);
        }
        let cat = Catalog {
            stacks,
            templates,
            origin,
            facts,
        };
        cat.check()?;
        Ok(cat)
    }

    /// The built-in catalog with a site's directory laid over it:
    /// `DIR/stacks/<name>.yml` replaces or adds a descriptor,
    /// `DIR/stacks/facts/<name>.yml` the upstream facts of its images, and
    /// `DIR/templates/<stack>/<file>` replaces or adds a template.
    pub fn with_overrides(dir: Option<&Path>) -> Result<Catalog> {
        let mut cat = Catalog::builtin()?;
        let Some(dir) = dir else { return Ok(cat) };
        if !dir.is_dir() {
            bail!("catalog directory {} does not exist", dir.display());
        }
        let sdir = dir.join("stacks");
        if sdir.is_dir() {
            let mut files = BTreeMap::new();
            walk_fs(&sdir, &sdir, &mut files)?;
            for (rel, src) in files {
                let Some(name) = rel.strip_suffix(".yml") else {
                    continue;
                };
                let o = sdir.join(&rel).display().to_string();
                if let Some(stack) = name.strip_prefix("facts/") {
                    let f = StackFacts::parse(stack, &src, &o)?;
                    cat.facts.insert(stack.to_string(), f);
                    continue;
                }
                cat.stacks
                    .insert(name.to_string(), parse_descriptor(name, &src, &o)?);
                cat.origin.insert(name.to_string(), o);
            }
        }
        let tdir = dir.join("templates");
        if tdir.is_dir() {
            walk_fs(&tdir, &tdir, &mut cat.templates)?;
        }
        cat.check()?;
        Ok(cat)
    }

    /// Internal consistency of descriptors: referenced components and
    /// templates exist, exactly one main component.
    fn check(&self) -> Result<()> {
        for (name, d) in &self.stacks {
            let o = &self.origin[name];
            let mains = d.components.values().filter(|c| c.main).count();
            if mains != 1 {
                bail!("{o}: exactly one component must be `main: true` (found {mains})");
            }
            let comp_ok = |c: &str| d.components.contains_key(c);
            for p in &d.ports {
                if !comp_ok(&p.component) {
                    bail!(
                        "{o}: port {} names unknown component `{}`",
                        p.port,
                        p.component
                    );
                }
            }
            if let Some(w) = &d.web {
                if !comp_ok(&w.component) {
                    bail!("{o}: web names unknown component `{}`", w.component);
                }
            }
            for x in d
                .backup
                .before
                .iter()
                .chain(&d.backup.after)
                .chain(&d.backup.after_restore)
            {
                if !comp_ok(&x.component) {
                    bail!(
                        "{o}: backup command names unknown component `{}`",
                        x.component
                    );
                }
            }
            if d.dkim_selector.is_none() && d.dns.iter().any(|r| r.name.contains("{dkim_selector}"))
            {
                bail!("{o}: a dns record uses {{dkim_selector}} but `dkim_selector` is not set");
            }
            for v in &d.backup.volumes {
                if !d.volumes.contains_key(v) {
                    bail!("{o}: backup names undeclared volume `{v}`");
                }
            }
            for x in &d.backup.dumps {
                if !comp_ok(&x.component) {
                    bail!("{o}: backup dump names unknown component `{}`", x.component);
                }
                if let Some(v) = &x.volume {
                    if !d.volumes.contains_key(v) {
                        bail!("{o}: backup dump names undeclared volume `{v}`");
                    }
                }
                check_dump(o, x, &d.backup.volumes)?;
            }
            let mut names: Vec<String> = d.backup.dumps.iter().map(|x| x.file.clone()).collect();
            names.extend(d.backup.dumps.iter().filter_map(Dump::roles_file));
            let n = names.len();
            names.sort();
            names.dedup();
            if names.len() != n {
                bail!("{o}: two backup dumps (or their roles files) have the same file name");
            }
            fn check_spec(o: &str, path: &str, s: &SettingSpec) -> Result<()> {
                match s.kind {
                    SettingType::List => match &s.items {
                        Some(i) => check_spec(o, &format!("{path}[]"), i)?,
                        None => bail!("{o}: list setting `{path}` has no `items`"),
                    },
                    _ if s.ram_mb.is_some() && s.kind != SettingType::Bool => {
                        bail!("{o}: setting `{path}` has `ram_mb`, which only a bool setting may have")
                    }
                    SettingType::Enum if s.values.is_empty() => {
                        bail!("{o}: enum setting `{path}` has no `values`")
                    }
                    SettingType::Object => {
                        for (k, f) in &s.fields {
                            check_spec(o, &format!("{path}.{k}"), f)?;
                        }
                    }
                    _ => {}
                }
                Ok(())
            }
            for (k, spec) in &d.settings {
                check_spec(o, k, spec)?;
            }
            self.check_facts(name)?;
            if !d.files.iter().any(FileSpec::is_compose) {
                bail!("{o}: no file renders docker-compose.yml");
            }
            for f in &d.files {
                let Some(src) = self.templates.get(&f.template) else {
                    bail!("{o}: template `{}` not found", f.template);
                };
                let unescaped = crate::site::catalog::unescaped_expressions(src);
                if !unescaped.is_empty() {
                    bail!(
                        "template `{}` prints values without an escaping filter ({}): {}",
                        f.template,
                        crate::site::catalog::ESCAPERS.join(", "),
                        unescaped.join("; ")
                    );
                }
                if f.path.starts_with('/') || f.path.split('/').any(|c| c == ".." || c.is_empty()) {
                    bail!("{o}: file path `{}` must be relative, without `..`", f.path);
                }
                if let Some(w) = &f.when {
                    if d.settings.get(w).map(|s| s.kind) != Some(SettingType::Bool) {
                        bail!(
                            "{o}: file `{}` is rendered `when: {w}` but {w} is not a bool setting",
                            f.path
                        );
                    }
                }
            }
        }
        Ok(())
    }

    pub fn placeable(&self) -> impl Iterator<Item = &str> {
        self.stacks
            .iter()
            .filter(|(_, d)| !d.automatic)
            .map(|(n, _)| n.as_str())
    }
}

/// Descriptor summary for `regie catalog`.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub version: &'a str,
    pub images: BTreeMap<&'a str, String>,
    pub min_ram_mb: u64,
    pub upgrade: UpgradePolicy,
    pub origin: &'a str,
}

impl Catalog {
    pub fn summaries(&self) -> Vec<Summary<'_>> {
        self.stacks
            .iter()
            .map(|(n, d)| {
                let main = d.components.values().find(|c| c.main).expect("checked");
                Summary {
                    name: n,
                    description: &d.description,
                    version: &main.tag,
                    images: d
                        .components
                        .iter()
                        .map(|(k, c)| (k.as_str(), format!("{}:{}{}", c.image, c.tag, c.suffix)))
                        .collect(),
                    min_ram_mb: d.min_ram_mb,
                    upgrade: d.upgrade.policy,
                    origin: &self.origin[n],
                }
            })
            .collect()
    }
}

pub fn catalog_dir_display(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(built-in)".into())
}

pub use crate::site::template_lint::{unescaped_expressions, ESCAPERS};

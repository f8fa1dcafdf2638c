//! `update check`: what runs on the hosts against what the registries
//! offer, per component, under each stack's version policy. Read-only: it
//! connects and lists tags, nothing is pulled or changed.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::{main_component, mirrors, project};
use crate::remote::connect::{connect, RunOptions};
use crate::remote::registry::{Client, ImageRef};
use crate::site::inventory::{ImageMode, Placed, Resolved};
use crate::update::plan::{self as update, Candidates, Running};

/// Tags of repositories, read once each.
#[derive(Default)]
struct TagCache(BTreeMap<String, std::result::Result<Vec<String>, String>>);

impl TagCache {
    fn tags(
        &mut self,
        image: &ImageRef,
        m: &BTreeMap<String, String>,
    ) -> std::result::Result<Vec<String>, String> {
        let key = format!("{}/{}", image.registry, image.repository);
        self.0
            .entry(key)
            .or_insert_with(|| Client::new(image, m).tags().map_err(|e| format!("{e:#}")))
            .clone()
    }
}

/// One component of one service, as `update check` sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentCheck {
    pub service: String,
    pub host: String,
    pub component: String,
    /// The image the inventory and catalog ask for.
    pub image: String,
    /// What runs now (None: not running).
    pub running: Option<String>,
    pub running_digest: Option<String>,
    /// The registry's digest for the same tag, when it differs from the
    /// running one (the tag was rebuilt: a pull would change the image).
    pub new_digest: Option<String>,
    /// For the service's main component: versions by policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Candidates>,
    pub notes: Vec<String>,
    pub error: Option<String>,
}

impl ComponentCheck {
    /// An update that policy lets `apply` (and `maintain`) take alone.
    pub fn allowed(&self) -> Option<&str> {
        self.candidates.as_ref().and_then(|c| c.allowed.as_deref())
    }
}

/// `regie update check`: running images from the hosts, versions from the
/// registries; nothing is pulled.
pub fn check(site: &Resolved, o: &RunOptions, only: Option<&str>) -> Result<Vec<ComponentCheck>> {
    let m = mirrors(site);
    let mut cache = TagCache::default();
    let mut out = Vec::new();
    // Hosts whose images regie pushes: the versions on offer are the tags
    // the operator's source holds (engine or image layout), not a registry's.
    let source = std::cell::OnceCell::new();
    let source_tags = |r: &ImageRef| -> std::result::Result<Vec<String>, String> {
        let s = source.get_or_init(|| {
            crate::images::run::source::Source::open(&crate::site::files::ImagePush {
                layout: site.inv.image_layout.as_ref().map(|l| site.relative(l)),
                extra: vec![],
            })
            .map_err(|e| format!("{e:#}"))
        });
        match s {
            Ok(s) => s.tags(&r.name()).map_err(|e| format!("{e:#}")),
            Err(e) => Err(e.clone()),
        }
    };
    for (host, stacks) in &site.placement {
        let pushed = site
            .inv
            .hosts
            .get(host)
            .is_some_and(|h| h.image_mode(site.inv.images) == ImageMode::Push);
        let stacks: Vec<&Placed> = stacks
            .iter()
            .filter(|p| only.is_none_or(|s| s == p.name))
            .collect();
        if stacks.is_empty() {
            continue;
        }
        // What runs, per stack (an unreachable host is reported, not fatal).
        let running: std::result::Result<BTreeMap<String, Vec<Running>>, String> =
            connect(site, host, o)
                .and_then(|conn| {
                    let mut r = BTreeMap::new();
                    for p in &stacks {
                        let outp =
                            conn.run(&update::running_images_script(&project(site, &p.name)), b"")?;
                        r.insert(
                            p.name.clone(),
                            update::parse_running(&String::from_utf8_lossy(&outp.stdout)),
                        );
                    }
                    Ok(r)
                })
                .map_err(|e| format!("{e:#}"));
        for p in &stacks {
            let d = &site.catalog.stacks[&p.name];
            let main = main_component(d).map(|(n, _)| n.clone());
            for (comp, image) in &p.images {
                let r = ImageRef::parse(image);
                let mut c = ComponentCheck {
                    service: p.name.clone(),
                    host: host.clone(),
                    component: comp.clone(),
                    image: image.clone(),
                    running: None,
                    running_digest: None,
                    new_digest: None,
                    candidates: None,
                    notes: vec![],
                    error: None,
                };
                match &running {
                    Ok(rs) => {
                        if let Some(x) = rs
                            .get(&p.name)
                            .and_then(|v| v.iter().find(|x| &x.component == comp))
                        {
                            c.running = Some(x.image.clone());
                            c.running_digest = update::digest_for(x);
                        } else {
                            c.notes.push("not running".into());
                        }
                    }
                    Err(e) => c.error = Some(format!("{host}: {e}")),
                }
                let tags = if pushed {
                    source_tags(&r)
                } else {
                    cache.tags(&r, &m)
                };
                let tags = match tags {
                    Ok(t) => t,
                    Err(e) => {
                        c.error = Some(e);
                        out.push(c);
                        continue;
                    }
                };
                if let (Some(tag), Some(rd), false) = (&r.tag, &c.running_digest, pushed) {
                    if c.running.as_deref() == Some(image.as_str()) {
                        match Client::new(&r, &m).digest(tag) {
                            Ok(d) if &d != rd => c.new_digest = Some(d),
                            Ok(_) => {}
                            Err(e) => c.notes.push(format!("digest of {tag}: {e:#}")),
                        }
                    }
                }
                if Some(comp) == main.as_ref() {
                    let cd = &d.components[comp];
                    let cands = update::candidates(
                        d.upgrade.policy,
                        &d.upgrade.esr,
                        &p.version,
                        &cd.suffix,
                        &tags,
                    );
                    c.candidates = Some(cands);
                } else if r.repository.ends_with("postgres") {
                    if let Some(tag) = &r.tag {
                        for m in update::postgres_majors(tag, &tags) {
                            c.notes.push(format!(
                                "PostgreSQL {m} exists: majors are never automatic (`regie update postgres --service {} --to {}`)",
                                p.name,
                                crate::site::image::postgres_major(&format!("x:{m}")).unwrap_or(0)
                            ));
                        }
                    }
                }
                out.push(c);
            }
        }
    }
    Ok(out)
}

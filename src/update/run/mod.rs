//! Update executor: reads registries and hosts for `update check`, and runs
//! `update apply` on a host: lock, backup first, record, pull, recreate,
//! health, post-upgrade steps, and on any failure an automatic rollback
//! (previous images by id, previous files, the pre-update backup restored
//! when the data was touched). What to do is decided in `update::plan`;
//! this module only carries it out.
//!
//! One file per command: `check`, `apply` (with the report, lock and
//! rollback), `interrupted` (`update rollback` and the host record),
//! `postgres` (major upgrades). This file keeps the helpers they share and
//! re-exports the public API under its old paths.

mod apply;
mod check;
mod interrupted;
mod postgres;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use crate::site::catalog::Descriptor;
use crate::site::files::HostRender;
use crate::site::inventory::Resolved;

/// The window policy lives in the planner; its old path.
pub use crate::update::plan::window_refusal;
pub use apply::{apply, ApplyOptions, ApplyReport, Step};
pub use check::{check, ComponentCheck};
pub use interrupted::rollback_interrupted;
pub use postgres::postgres;

/// Mirrors and private registries of the inventory (`registries:`).
fn mirrors(site: &Resolved) -> BTreeMap<String, String> {
    site.inv
        .registries
        .iter()
        .map(|(k, v)| (k.clone(), v.url.clone()))
        .collect()
}

fn project(site: &Resolved, stack: &str) -> String {
    crate::site::layout::project(&site.inv.site.name, stack)
}

fn main_component(d: &Descriptor) -> Option<(&String, &crate::site::catalog::Component)> {
    d.components.iter().find(|(_, c)| c.main)
}

/// The files of `host` as the site renders them.
fn render_host(site: &Resolved, host: &str, identity: Option<&Path>) -> Result<HostRender> {
    let (renders, _) = crate::deploy::run::render_saving_secrets(site, identity)?;
    Ok(renders
        .into_iter()
        .find(|r| r.host == host)
        .expect("host rendered"))
}

/// Bring the new images onto the host before anything stops: pulled from
/// their registries, or pushed by regie when the host's images are
/// (`images: push`, a site without a registry). Ok with what was done,
/// Err with why not.
fn fetch_images(
    conn: &crate::remote::ssh::Conn,
    base: &str,
    r: &HostRender,
    images: &[String],
) -> std::result::Result<String, String> {
    if let Some(push) = &r.push {
        let done = crate::images::run::push(conn, base, push, images, &|_| {})
            .map_err(|e| format!("{e:#}"))?;
        return Ok(done
            .iter()
            .map(|p| {
                if p.present {
                    format!("{} (already there)", p.image)
                } else {
                    format!(
                        "{} pushed ({} of {} layers, {} bytes)",
                        p.image, p.layers_sent, p.layers, p.bytes_sent
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(", "));
    }
    let out = conn
        .run(&crate::update::plan::pull_script(images), b"")
        .map_err(|e| e.to_string())?;
    if !out.ok() {
        return Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            out.stderr.trim()
        ));
    }
    Ok(images.join(", "))
}

/// How long it took, for messages.
pub fn since(t0: Instant) -> String {
    format!("{:.0}s", t0.elapsed().as_secs_f64())
}

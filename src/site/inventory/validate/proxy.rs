//! The `proxy` section, and the automatic proxy placed first on each host
//! that serves a web service.

use crate::site::diag::Show;
use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::err;
use super::services::resolve_images;
use crate::site::catalog::Catalog;
use crate::site::diag::Diagnostic;
use crate::site::inventory::syntax::{is_email, is_tag};
use crate::site::inventory::{Inventory, Placed};

/// Proxy on each host serving web services.
pub(super) fn place(
    inv: &Inventory,
    cat: &Catalog,
    placement: &mut BTreeMap<String, Vec<Placed>>,
    diags: &mut Vec<Diagnostic>,
) {
    if let Some(proxy) = cat.stacks.get("proxy") {
        if let Some(e) = &inv.proxy.email {
            if !is_email(e) {
                diags.push(err(
                    "proxy.email",
                    format!("invalid email address `{}`", e.shown()),
                ));
            }
        }
        let version = inv.proxy.version.clone().unwrap_or_else(|| {
            proxy
                .components
                .values()
                .find(|c| c.main)
                .map(|c| c.tag.clone())
                .unwrap_or_default()
        });
        if !is_tag(&version) {
            diags.push(
                err(
                    "proxy.version",
                    format!("invalid version `{}`", version.shown()),
                )
                .expected("an image tag such as 2.10.2"),
            );
        }
        for (host, stacks) in placement.iter_mut() {
            let web = stacks.iter().any(|s| cat.stacks[&s.name].web.is_some());
            if web {
                let settings = Json::Object(Default::default());
                let images = resolve_images(
                    "proxy",
                    proxy,
                    &version,
                    &inv.proxy.images,
                    &settings,
                    diags,
                );
                stacks.insert(
                    0,
                    Placed {
                        name: "proxy".into(),
                        host: host.clone(),
                        hostname: None,
                        version: version.clone(),
                        images,
                        resources: BTreeMap::new(),
                        settings,
                    },
                );
            }
        }
    }
}

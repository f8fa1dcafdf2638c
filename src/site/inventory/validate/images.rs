//! `images:` and `image_layout:` (sites without a registry): what regie
//! cannot push is refused here, before any connection.

use std::collections::BTreeMap;

use super::err;
use crate::site::diag::{Diagnostic, Show};
use crate::site::inventory::{ImageMode, Inventory, Placed};

pub(super) fn check(
    inv: &Inventory,
    placement: &BTreeMap<String, Vec<Placed>>,
    diags: &mut Vec<Diagnostic>,
) {
    let pushes = |host: &str| {
        inv.hosts
            .get(host)
            .is_some_and(|h| h.image_mode(inv.images) == ImageMode::Push)
    };
    for (host, stacks) in placement {
        if !pushes(host) {
            continue;
        }
        for p in stacks {
            for (comp, image) in &p.images {
                if crate::site::image::ImageRef::parse(image).digest.is_some() {
                    let path = if inv.services.contains_key(&p.name) {
                        format!("services.{}.images.{comp}", p.name)
                    } else {
                        format!("hosts.{host}.images")
                    };
                    diags.push(
                        err(
                            path,
                            format!(
                                "`{}` is pinned by digest: regie cannot push it to `{host}` (a loaded image has a tag, no registry digest)",
                                image.shown()
                            ),
                        )
                        .expected("an image named by tag only on a host with images: push"),
                    );
                }
            }
        }
    }
    if inv.image_layout.is_some() && !inv.hosts.keys().any(|h| pushes(h)) {
        diags.push(Diagnostic::warning(
            "image_layout",
            "no host has `images: push`: the image layout is not used",
        ));
    }
}

//! Section "Services": each service, its Compose project, URL, version,
//! ports and images, and how the proxy gets its certificates.

use crate::runbook::document::{c, fill, t, tx, Inline};
use crate::runbook::facts::{descriptor, placed, project};
use crate::runbook::lang::Lang;
use crate::runbook::Ctx;
use crate::site::catalog::Descriptor;
use crate::site::inventory::{ImageMode, Placed};

fn url(p: &Placed) -> Vec<Inline> {
    match &p.hostname {
        Some(h) => vec![Inline::Link(format!("https://{h}"))],
        None => vec![t("—")],
    }
}

fn ports(l: &Lang, d: &Descriptor) -> String {
    d.ports
        .iter()
        .map(|p| format!("{}/{} — {}", p.port, p.proto, p.purpose))
        .collect::<Vec<_>>()
        .join(&l.list_sep)
}

pub(crate) fn services(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let pattern = format!("{}-<service>", site.inv.site.name);
    cx.p(fill(&l.services_intro, &[("pattern", c(pattern))]));
    let rows = placed(site)
        .map(|(host, p)| {
            vec![
                vec![c(&p.name)],
                vec![t(&descriptor(site, p).description)],
                vec![c(host)],
                url(p),
                vec![c(&p.version)],
            ]
        })
        .collect();
    cx.table(&l.services_head, rows);
    for (host, p) in placed(site) {
        service(cx, host, p);
    }
}

fn service(cx: &mut Ctx, host: &str, p: &Placed) {
    let l = cx.l;
    let site = cx.site;
    let d = descriptor(site, p);
    cx.h(3, format!("{} ({host})", p.name));
    let mut items = vec![fill(&l.svc_project, &[("v", c(project(site, &p.name)))])];
    if let Some(h) = &p.hostname {
        items.push(fill(
            &l.svc_url,
            &[("v", Inline::Link(format!("https://{h}")))],
        ));
    }
    items.push(fill(&l.svc_version, &[("v", c(&p.version))]));
    items.push(if d.ports.is_empty() {
        tx(&l.svc_no_ports)
    } else {
        fill(&l.svc_ports, &[("v", t(ports(l, d)))])
    });
    if d.automatic {
        items.push(tx(&l.svc_automatic));
        items.push(tls(cx, host));
    }
    items.push(images_from(cx, host));
    cx.list(items);
    let rows = p
        .images
        .iter()
        .map(|(comp, img)| vec![vec![c(comp)], vec![c(img)]])
        .collect();
    cx.table(&l.images_head, rows);
}

/// Where the host's images come from: its registries, or regie over SSH
/// (`images: push`) from the operator's engine or an image layout.
fn images_from(cx: &Ctx, host: &str) -> Vec<Inline> {
    let inv = cx.inv();
    let push = inv
        .hosts
        .get(host)
        .is_some_and(|h| h.image_mode(inv.images) == ImageMode::Push);
    match (push, &inv.image_layout) {
        (false, _) => tx(&cx.l.svc_images_pull),
        (true, None) => tx(&cx.l.svc_images_push_engine),
        (true, Some(dir)) => fill(
            &cx.l.svc_images_push_layout,
            &[("dir", c(dir.display().to_string()))],
        ),
    }
}

fn tls(cx: &Ctx, host: &str) -> Vec<Inline> {
    let inv = cx.inv();
    if cx.site.acme(host) {
        let email = inv.proxy.email.as_deref().unwrap_or(&inv.site.contact);
        fill(&cx.l.tls_acme, &[("email", c(email))])
    } else {
        let file = cx
            .site
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cmd = format!("regie proxy root-ca -i {file} --host {host} -o {host}-root-ca.crt");
        fill(
            &cx.l.tls_internal,
            &[("path", c(crate::proxy::plan::ROOT_PATH)), ("cmd", c(&cmd))],
        )
    }
}

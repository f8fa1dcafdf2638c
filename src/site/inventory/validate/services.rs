//! The `services` section: each service's stack, host, version, images,
//! resources, hostname and settings, plus the rules of single built-in
//! services. Returns the placement of the services on the hosts.

use crate::site::diag::Show;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value as Json;

use super::err;
use super::hosts::{host_candidates, hosts_list};
use super::settings::{check_settings, Whereabouts};
use crate::site::catalog::{Catalog, Descriptor};
use crate::site::diag::{did_you_mean, Diagnostic};
use crate::site::escape::{filters_for, refusal, setting_filters, SettingFilters};
use crate::site::image;
use crate::site::inventory::syntax::{is_domain, is_image_ref, is_memory, is_tag};
use crate::site::inventory::{Host, Inventory, Placed, Role};

pub(super) fn check(
    inv: &Inventory,
    cat: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Vec<Placed>> {
    let mut placement: BTreeMap<String, Vec<Placed>> = BTreeMap::new();
    let mut hostnames: BTreeMap<String, String> = BTreeMap::new();
    let filters = setting_filters(&cat.templates);
    for (svc, spec) in &inv.services {
        let p = format!("services.{svc}");
        let Some(d) = cat.stacks.get(svc).filter(|d| !d.automatic) else {
            diags.push(
                err(p.clone(), format!("unknown service `{}`", svc.shown()))
                    .expected(format!(
                        "one of {}",
                        cat.placeable().collect::<Vec<_>>().join(", ")
                    ))
                    .hint(did_you_mean(svc, cat.placeable())),
            );
            continue;
        };
        let host = match inv.hosts.get(&spec.host) {
            None => {
                diags.push(
                    err(
                        format!("{p}.host"),
                        format!("unknown host `{}`", spec.host.shown()),
                    )
                    .expected(format!("one of {}", hosts_list(inv)))
                    .hint(did_you_mean(&spec.host, host_candidates(inv))),
                );
                None
            }
            Some(h) if h.role == Role::Nas => {
                diags.push(
                    err(
                        format!("{p}.host"),
                        format!("`{}` is a NAS: services run on servers", spec.host),
                    )
                    .expected("a host with role server or sbc"),
                );
                None
            }
            Some(h) => Some(h),
        };
        let place = Whereabouts {
            stack: svc,
            others: cat
                .stacks
                .iter()
                .map(|(n, s)| (n.as_str(), &s.settings))
                .collect(),
        };
        let settings = check_settings(
            &format!("{p}.settings"),
            &spec.settings,
            &d.settings,
            Some(&place),
            diags,
        );
        check_printable(&p, svc, spec, &settings, &filters, diags);
        let version = spec.version.clone().unwrap_or_else(|| {
            d.components
                .values()
                .find(|c| c.main)
                .map(|c| c.tag.clone())
                .unwrap_or_default()
        });
        if !is_tag(&version) {
            diags.push(
                err(
                    format!("{p}.version"),
                    format!("invalid version `{}`", version.shown()),
                )
                .expected("an image tag such as 31 or 10.11.4"),
            );
        }
        let images = resolve_images(&p, d, &version, &spec.images, &settings, diags);
        for (comp, r) in &spec.resources {
            let rp = format!("{p}.resources.{comp}");
            if !d.components.contains_key(comp) {
                diags.push(
                    err(rp.clone(), format!("unknown component `{comp}`"))
                        .expected(format!(
                            "one of {}",
                            d.components.keys().cloned().collect::<Vec<_>>().join(", ")
                        ))
                        .hint(did_you_mean(comp, d.components.keys().map(String::as_str))),
                );
            }
            if let Some(m) = &r.memory {
                if !is_memory(m) {
                    diags.push(
                        err(
                            format!("{rp}.memory"),
                            format!("invalid memory size `{}`", m.shown()),
                        )
                        .expected("a size such as 512m or 2g"),
                    );
                }
            }
            if let Some(c) = r.cpus {
                if !(c > 0.0 && c <= 256.0) {
                    diags.push(
                        err(format!("{rp}.cpus"), format!("invalid CPU count {c}"))
                            .expected("a number above 0"),
                    );
                }
            }
        }
        let hostname = if d.web.is_some() || d.subdomain.is_some() {
            let h = spec.hostname.clone().unwrap_or_else(|| {
                format!(
                    "{}.{}",
                    d.subdomain.as_deref().unwrap_or(svc),
                    inv.site.domain
                )
            });
            if !is_domain(&h) {
                diags.push(
                    err(
                        format!("{p}.hostname"),
                        format!("invalid hostname `{}`", h.shown()),
                    )
                    .expected("a fully qualified name such as chat.techniville.fr"),
                );
            } else if let Some(other) = hostnames.insert(h.to_ascii_lowercase(), svc.clone()) {
                diags.push(
                    err(
                        format!("{p}.hostname"),
                        format!("hostname `{h}` is already used by service `{other}`"),
                    )
                    .expected(
                        "one hostname per service (names differing only in case are the same)",
                    ),
                );
            }
            Some(h)
        } else {
            if spec.hostname.is_some() {
                diags.push(err(
                    format!("{p}.hostname"),
                    format!("service `{svc}` has no web entry point"),
                ));
            }
            None
        };
        service_rules(svc, &p, host, &settings, inv, cat, diags);
        if let Some(h) = host {
            let _ = h;
            placement
                .entry(spec.host.clone())
                .or_default()
                .push(Placed {
                    name: svc.clone(),
                    host: spec.host.clone(),
                    hostname,
                    version,
                    images,
                    resources: spec.resources.clone(),
                    settings,
                });
        }
    }
    check_aliases(&placement, &mut hostnames, diags);
    placement
}

/// Nextcloud's `trusted_domains` are extra names of its site in the proxy:
/// each must be free, as a hostname is (Caddy refuses a configuration that
/// names one site twice, taking every site of the host down).
fn check_aliases(
    placement: &BTreeMap<String, Vec<Placed>>,
    hostnames: &mut BTreeMap<String, String>,
    diags: &mut Vec<Diagnostic>,
) {
    for s in placement.values().flatten().filter(|s| s.name == "files") {
        let Some(list) = s.settings["trusted_domains"].as_array() else {
            continue;
        };
        for (i, d) in list.iter().enumerate() {
            let Some(d) = d.as_str() else { continue };
            if let Some(other) = hostnames.insert(d.to_ascii_lowercase(), "files".into()) {
                diags.push(
                    err(
                        format!("services.files.settings.trusted_domains[{i}]"),
                        format!(
                            "`{}` is already the hostname of service `{other}`",
                            d.shown()
                        ),
                    )
                    .expected("a name no other service (and no other entry) uses"),
                );
            }
        }
    }
}

/// Rules that belong to one built-in service and cannot be said in a schema.
fn service_rules(
    svc: &str,
    p: &str,
    host: Option<&Host>,
    settings: &Json,
    inv: &Inventory,
    cat: &Catalog,
    diags: &mut Vec<Diagnostic>,
) {
    match svc {
        "mail" => super::mail::check(p, settings, inv, cat, diags),
        "visio" if settings["public_ip"].is_null() => {
            if let Some(h) = host {
                if h.address.parse::<IpAddr>().is_err() {
                    diags.push(
                        err(
                            format!("{p}.settings"),
                            "Jitsi needs the IP address clients reach the video bridge on",
                        )
                        .expected(format!(
                            "settings.public_ip (the host address `{}` is not an IP)",
                            h.address
                        )),
                    );
                }
            }
        }
        "share" => share_upload_from(p, settings, diags),
        _ => {}
    }
}

/// The first address of each network Docker gives bridges from its default
/// pools (172.17.0.0/16 to 172.31.0.0/16): the gateway a client relayed by
/// docker-proxy (IPv6, hairpin) appears to come from.
fn docker_gateways() -> impl Iterator<Item = IpAddr> {
    (17u8..=31).map(|n| IpAddr::from([172, n, 0, 1]))
}

/// share's upload networks: a list that holds Docker's bridge gateways lets
/// every relayed client upload (audit: share, S3).
fn share_upload_from(p: &str, settings: &Json, diags: &mut Vec<Diagnostic>) {
    for (i, n) in settings["upload_from"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(net) = n.as_str().and_then(super::super::syntax::parse_cidr) else {
            continue;
        };
        if let Some(gw) = docker_gateways().find(|g| super::super::syntax::cidr_contains(net, *g)) {
            diags.push(
                err(
                    format!("{p}.settings.upload_from[{i}]"),
                    format!(
                        "`{}` holds {gw}, the gateway of a Docker bridge network: clients relayed by Docker (IPv6, hairpin) appear to come from it and could upload from anywhere",
                        n.as_str().unwrap_or_default().shown()
                    ),
                )
                .expected("the office network itself, such as 192.168.1.0/24 (not 172.16.0.0/12)"),
            );
        }
    }
}

pub(super) fn resolve_images(
    path: &str,
    d: &Descriptor,
    version: &str,
    overrides: &BTreeMap<String, String>,
    settings: &Json,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    for (comp, img) in overrides {
        if !d.components.contains_key(comp) {
            diags.push(
                err(
                    format!("{path}.images.{comp}"),
                    format!("unknown component `{comp}`"),
                )
                .expected(format!(
                    "one of {}",
                    d.components.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
                .hint(did_you_mean(comp, d.components.keys().map(String::as_str))),
            );
        } else if !is_image_ref(img) {
            diags.push(
                err(format!("{path}.images.{comp}"), format!("invalid image reference `{}`", img.shown()))
                    .expected("an image such as registry.example.fr:5000/team/app:1.2 or name@sha256:<64 hex>"),
            );
        }
    }
    let resolved: BTreeMap<String, String> = d
        .components
        .iter()
        .map(|(name, c)| {
            let img = overrides.get(name).cloned().unwrap_or_else(|| {
                let mut image = c.image.clone();
                if let Json::Object(m) = settings {
                    for (k, v) in m {
                        if let Json::String(s) = v {
                            image = image.replace(&format!("{{{k}}}"), s);
                        }
                    }
                }
                format!(
                    "{image}:{}{}",
                    if c.main || c.versioned {
                        version
                    } else {
                        &c.tag
                    },
                    c.suffix
                )
            });
            (name.clone(), img)
        })
        .collect();
    for (name, img) in &resolved {
        let follows_version = d.components[name].main || d.components[name].versioned;
        // A bad version is reported on its own.
        if !overrides.contains_key(name)
            && (!follows_version || is_tag(version))
            && !is_image_ref(img)
        {
            diags.push(
                err(
                    path,
                    format!(
                        "component `{name}` resolves to an invalid image reference `{}`",
                        img.shown()
                    ),
                )
                .expected("settings and version that make a valid image name"),
            );
        }
        // The data directory of a PostgreSQL image depends on its major,
        // read from the tag: a digest alone does not say it.
        if image::is_postgres(&d.components[name].image)
            && is_image_ref(img)
            && image::postgres_major(img).is_none()
        {
            let at = if overrides.contains_key(name) {
                format!("{path}.images.{name}")
            } else {
                path.to_string()
            };
            diags.push(
                err(
                    at,
                    format!(
                        "image `{}` of component `{name}` does not name its PostgreSQL major, which sets where the data volume is mounted",
                        img.escape_debug()
                    ),
                )
                .expected("a tag starting with the major, with the digest if you pin one, such as postgres:17@sha256:<64 hex>")
            );
        }
    }
    resolved
}

/// Each setting the inventory gives passes the escaping filters the
/// templates print it with (an env file refuses `$` or ` #`, a Caddyfile
/// braces...): refused here, at its position, rather than at render.
fn check_printable(
    p: &str,
    stack: &str,
    spec: &crate::site::inventory::ServiceSpec,
    settings: &Json,
    filters: &SettingFilters,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(obj) = settings.as_object() else {
        return;
    };
    for (key, value) in obj {
        if !spec.settings.contains_key(key.as_str()) {
            continue; // a default from the catalog
        }
        let items: Vec<(String, &Json)> = match value {
            Json::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{p}.settings.{key}[{i}]"), v))
                .collect(),
            v => vec![(format!("{p}.settings.{key}"), v)],
        };
        for (path, v) in items {
            let text = match v {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                _ => continue,
            };
            for (filter, template) in filters_for(filters, stack, key) {
                if let Some(why) = refusal(filter, &text) {
                    diags.push(err(path.clone(), format!("{why} ({template})")));
                    break;
                }
            }
        }
    }
}

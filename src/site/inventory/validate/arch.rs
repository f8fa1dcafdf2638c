//! Host architectures: the `arch` of each host, and each placed stack's
//! images against it, from the catalog's upstream facts. A stack whose
//! image is not published for its host's architecture is refused (a
//! warning when the facts' architecture list is itself unverified).

use crate::site::diag::Show;
use std::collections::BTreeMap;

use super::err;
use crate::site::arch::{list, Arch, HOST_ARCHS};
use crate::site::catalog::Catalog;
use crate::site::diag::{did_you_mean, Diagnostic};
use crate::site::inventory::{Inventory, Placed, Role};

/// Each host's `arch` is one regie knows; a single-board computer without
/// one is assumed to be arm64, and told so.
pub(super) fn check_hosts(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    for (name, h) in &inv.hosts {
        let p = format!("hosts.{name}");
        match &h.arch {
            Some(a) if !Arch::parse(a).is_some_and(|a| HOST_ARCHS.contains(&a)) => diags.push(
                err(
                    format!("{p}.arch"),
                    format!("unknown architecture `{}`", a.shown()),
                )
                .expected(list(&HOST_ARCHS).replace(" and ", " or "))
                .hint(did_you_mean(a, Arch::all_spellings())),
            ),
            Some(_) => {}
            None if h.role == Role::Sbc => diags.push(
                Diagnostic::warning(
                    format!("{p}.role"),
                    format!(
                        "single-board computer `{name}` has no `arch`: regie assumes arm64 \
                         (`regie bootstrap {name}` reads the real one)"
                    ),
                )
                .expected("arch: arm64, armv7 or amd64"),
            ),
            None => {}
        }
    }
}

/// Every image of every placed stack is published for its host's
/// architecture. Components whose image the inventory replaces
/// (`images:`) are the operator's choice and not checked.
pub(super) fn check_placement(
    inv: &Inventory,
    cat: &Catalog,
    placement: &BTreeMap<String, Vec<Placed>>,
    diags: &mut Vec<Diagnostic>,
) {
    for (host, stacks) in placement {
        let Some((arch, assumed)) = inv.hosts[host].arch() else {
            continue;
        };
        for s in stacks {
            let d = &cat.stacks[&s.name];
            let (path, overrides) = if d.automatic {
                (format!("hosts.{host}"), &inv.proxy.images)
            } else {
                (
                    format!("services.{}.host", s.name),
                    &inv.services[&s.name].images,
                )
            };
            for comp in d.components.keys() {
                let Some(f) = cat.image_facts(&s.name, comp) else {
                    continue;
                };
                let archs = f.arches();
                if overrides.contains_key(comp) || archs.contains(&arch) {
                    continue;
                }
                let why = if assumed {
                    ", assumed: single-board computer without `arch`"
                } else {
                    ""
                };
                let msg = format!(
                    "service `{}` cannot run on host `{host}` ({arch}{why}): image `{}` is published for {} only{}",
                    s.name,
                    s.images[comp],
                    list(&archs),
                    if f.archs_verified() { "" } else { " (unverified upstream)" },
                );
                let expected = format!(
                    "a host whose arch is {}, or an image built for {arch} in {}.images.{comp}",
                    list(&archs).replace(" and ", " or "),
                    if d.automatic {
                        "proxy".to_string()
                    } else {
                        format!("services.{}", s.name)
                    },
                );
                diags.push(if f.archs_verified() {
                    err(path.clone(), msg).expected(expected)
                } else {
                    Diagnostic::warning(path.clone(), msg).expected(expected)
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::site::inventory::load_str;

    fn site(host: &str, chat: &str) -> String {
        format!(
            "site: {{ name: demo, domain: demo.fr, contact: a@demo.fr }}\n\
             hosts:\n  h:\n    role: sbc\n    address: 192.0.2.1\n{host}\
             services:\n  chat:\n    host: h\n{chat}"
        )
    }

    #[test]
    fn spellings_are_normalised_and_overridden_images_are_the_operators_choice() {
        let ok = |src: String| load_str(Path::new("t.yml"), &src).map(|r| r.inv.hosts["h"].arch());
        // An amd64 board (x86_64 read as amd64) runs chat.
        let a = ok(site("    arch: x86_64\n", "")).unwrap();
        assert_eq!(a, Some((crate::site::arch::Arch::Amd64, false)));
        // An arm64 board runs chat from an image the operator built.
        let img = "    images: { app: reg.example.fr/mattermost-arm64:11.7.9 }\n";
        assert!(ok(site("    arch: arm64\n", img)).is_ok());
        // Without it, refused, naming the image and its architectures.
        let e = ok(site("    arch: armv7l\n", "")).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(d.path, "services.chat.host");
        assert!(d.message.contains("(armv7)"), "{}", d.message);
        assert!(
            d.message.contains("published for amd64 only"),
            "{}",
            d.message
        );
        assert!(d.line.is_some() && d.column.is_some());
    }
}

//! Facts the sections share, read from the inventory and the catalog: Compose
//! project, file and volume names as render and backups make them, the
//! hosts' paths, the backed-up hosts, and wording helpers (lists, windows).

use super::document::{fill_str, sh};
use super::lang::Lang;
use crate::backup::plan::{self as backup, Capture};
use crate::site::catalog::{Descriptor, FileSpec};
use crate::site::inventory::{Placed, Resolved};

/// Compose project of a stack (`<site>-<stack>`, as render and backups name it).
pub(super) fn project(site: &Resolved, stack: &str) -> String {
    crate::site::layout::project(&site.inv.site.name, stack)
}

/// The proxy's shared network and certificate volume: their names are fixed
/// by the proxy's compose file (`proxy_network`, `proxy_data_volume` in render).
pub(super) fn proxy_network(site: &Resolved) -> String {
    format!("{}_proxy", site.inv.site.name)
}
pub(super) fn proxy_data_volume(site: &Resolved) -> String {
    format!("{}_proxy_data", site.inv.site.name)
}

/// Docker's name of a stack's volume: `<project>_<key>` (compose's rule,
/// as in `backup::volume_names` without a compose file), except the proxy's
/// data volume, whose compose file gives it a fixed name.
pub(super) fn volume_name(site: &Resolved, stack: &str, key: &str) -> String {
    if stack == "proxy" && key == "data" {
        return proxy_data_volume(site);
    }
    format!("{}_{key}", project(site, stack))
}

pub(super) fn stack_dir(base: &str, stack: &str) -> String {
    format!("{base}/{stack}")
}

pub(super) fn compose_file(base: &str, stack: &str) -> String {
    format!("{base}/{stack}/docker-compose.yml")
}

pub(super) fn compose_cmd(site: &Resolved, base: &str, stack: &str) -> String {
    format!(
        "docker compose -p {} -f {}",
        sh(&project(site, stack)),
        sh(&compose_file(base, stack))
    )
}

/// Whether the host's proxy gets certificates by ACME (else Caddy's
/// internal CA), as render decides.
/// Every placed stack with its host, host by host (proxy first on each).
pub(super) fn placed(site: &Resolved) -> impl Iterator<Item = (&str, &Placed)> {
    site.placement
        .iter()
        .flat_map(|(h, ps)| ps.iter().map(move |p| (h.as_str(), p)))
}

pub(super) fn descriptor<'a>(site: &'a Resolved, p: &Placed) -> &'a Descriptor {
    &site.catalog.stacks[&p.name]
}

/// Files of a stack that render writes (those with a `when` setting only
/// when it is true).
pub(super) fn rendered_files<'a>(
    d: &'a Descriptor,
    p: &'a Placed,
) -> impl Iterator<Item = &'a FileSpec> {
    d.files.iter().filter(move |f| {
        f.when
            .as_ref()
            .is_none_or(|w| p.settings[w.as_str()] == serde_json::Value::Bool(true))
    })
}

pub(super) fn base_dir<'a>(site: &'a Resolved, host: &str) -> &'a str {
    &site.inv.hosts[host].base_dir
}

pub(super) fn backup_path(site: &Resolved, host: &str, file: &str) -> String {
    format!("{}/{}/{file}", base_dir(site, host), backup::DIR)
}

pub(super) fn script_path(site: &Resolved, host: &str) -> String {
    format!("{}/{}", base_dir(site, host), backup::SCRIPT)
}

/// Hosts that back something up, with their captures.
pub(super) fn backed_up(site: &Resolved) -> Vec<(&str, Vec<Capture<'_>>)> {
    site.placement
        .keys()
        .map(|h| (h.as_str(), backup::captures(site, h)))
        .filter(|(_, c)| !c.is_empty())
        .collect()
}

/// A path under the base directory of the backed-up hosts: the real path
/// when they all share one base directory, else with `<base_dir>`.
pub(super) fn on_hosts(site: &Resolved, rel: &str) -> String {
    let mut bases: Vec<&str> = backed_up(site)
        .iter()
        .map(|(h, _)| base_dir(site, h))
        .collect();
    bases.dedup();
    match bases.as_slice() {
        [one] => format!("{one}/{rel}"),
        _ => format!("<base_dir>/{rel}"),
    }
}

pub(super) fn timer_unit(site: &Resolved) -> String {
    crate::backup::plan::unit_name(&site.inv.site.name)
}

/// `a, b and c`.
pub(super) fn join_and(l: &Lang, items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{}{}{last}", init.join(", "), l.and),
    }
}

pub(super) fn human_window(l: &Lang, window: &str) -> String {
    let Ok(w) = crate::site::inventory::parse_window(window) else {
        return window.to_string();
    };
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let days = if w.days.len() == 7 {
        l.every_day.to_string()
    } else {
        let names: Vec<&str> = w
            .days
            .iter()
            .filter_map(|d| DAYS.iter().position(|x| x == d).map(|i| l.days[i].as_str()))
            .collect();
        join_and(l, &names)
    };
    fill_str(
        &l.window,
        &[("days", &days), ("start", &w.start), ("end", &w.end)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::lang::lang;
    use crate::site::inventory::Locale;

    #[test]
    fn both_languages_have_every_day() {
        assert_eq!(
            human_window(lang(Locale::Fr), "mon,thu 22:00-23:30"),
            "lundi et jeudi, de 22:00 à 23:30"
        );
        assert_eq!(
            human_window(lang(Locale::En), "mon,wed,fri 01:00-02:00"),
            "Monday, Wednesday and Friday, 01:00 to 02:00"
        );
        assert_eq!(
            human_window(lang(Locale::En), "daily 04:00-05:00"),
            "every day, 04:00 to 05:00"
        );
    }
}

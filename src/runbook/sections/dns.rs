//! Section "DNS records": the records to create, as a table and a zone file
//! snippet (the records themselves come from `site::dns`).

use crate::runbook::dns::{dns_value, zone_file};
use crate::runbook::document::{c, fill, t, tx};
use crate::runbook::Ctx;
use crate::site::dns::site_records;

pub(crate) fn dns(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let records = site_records(site);
    if records.is_empty() {
        cx.p(tx(&l.dns_none));
        return;
    }
    cx.p(tx(&l.dns_intro));
    if site.placement.values().flatten().any(|p| p.name == "mail") {
        let check = cx.regie("check dns", "");
        cx.p(fill(&l.dns_mail, &[("command", c(check))]));
    }
    if !site.placement.keys().any(|h| site.inv.hosts[h].public) {
        cx.p(tx(&l.dns_lan));
    }
    let rows = records
        .iter()
        .map(|r| {
            vec![
                vec![t(&r.kind)],
                vec![c(&r.name)],
                dns_value(&r.value),
                vec![t(&r.service)],
                tx(r.note.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    cx.table(&l.dns_head, rows);
    cx.p(tx(&l.dns_zone));
    cx.code("dns", zone_file(&records));
}

//! Section "Contacts and escalation": who is told what, through which
//! channel, and when work happens.

use crate::runbook::document::{c, fill, t, tx};
use crate::runbook::facts::human_window;
use crate::runbook::Ctx;

pub(crate) fn contacts(cx: &mut Ctx) {
    let l = cx.l;
    let site = cx.site;
    let inv = &site.inv;
    let notify = if inv.notify.email.is_empty() {
        tx(&l.c_no_notify)
    } else {
        vec![t(inv.notify.email.join(", "))]
    };
    let mut rows = vec![
        vec![tx(&l.c_client), vec![t(&inv.site.contact)]],
        vec![tx(&l.c_notify), notify],
    ];
    if inv.notify.webhook.is_some() {
        rows.push(vec![tx(&l.c_webhook), tx(&l.c_webhook_set)]);
    }
    if let Some(s) = &inv.notify.smtp {
        let mut cell = vec![
            c(format!("{}:{}", s.host, s.port)),
            t(format!(", {}", s.security.as_str())),
        ];
        if let Some(u) = &s.user {
            cell.extend(fill(&l.c_smtp_user, &[("user", c(u))]));
        }
        rows.push(vec![tx(&l.c_smtp), cell]);
    }
    if site.placement.keys().any(|h| site.acme(h)) {
        let email = inv.proxy.email.as_deref().unwrap_or(&inv.site.contact);
        rows.push(vec![tx(&l.c_acme), vec![t(email)]]);
    }
    if let Some(m) = &inv.maintenance {
        let window = format!("{} ({})", human_window(l, &m.window), inv.site.timezone);
        rows.push(vec![tx(&l.c_window), vec![t(window)]]);
    }
    cx.table(&l.contacts_head, rows);
    let notified = !inv.notify.email.is_empty() || inv.notify.webhook.is_some();
    cx.p(tx(if notified {
        &l.escalation_notify
    } else {
        &l.escalation_silent
    }));
    if inv.maintenance.is_some() {
        cx.p(tx(&l.escalation_window));
    }
}

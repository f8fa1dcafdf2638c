//! The `site` section: name, domain, contact, time zone, display name.

use super::err;
use crate::site::diag::Diagnostic;
use crate::site::diag::Show;
use crate::site::inventory::syntax::{is_domain, is_email, is_slug, is_text, is_timezone};
use crate::site::inventory::Inventory;

pub(super) fn check(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    let s = &inv.site;
    if !is_slug(&s.name) {
        diags.push(err("site.name", format!("invalid site name `{}`", s.name.shown())).expected(
            "a slug: lowercase letters, digits and `-`, at most 63 characters (it names directories and projects)",
        ));
    }
    if !is_domain(&s.domain) {
        diags.push(
            err(
                "site.domain",
                format!("invalid domain `{}`", s.domain.shown()),
            )
            .expected("a domain name such as techniville.fr"),
        );
    }
    if !is_email(&s.contact) {
        diags.push(
            err(
                "site.contact",
                format!("invalid email address `{}`", s.contact.shown()),
            )
            .expected("an email address such as dsi@techniville.fr"),
        );
    }
    if !is_timezone(&s.timezone) {
        diags.push(
            err(
                "site.timezone",
                format!("invalid time zone `{}`", s.timezone.shown()),
            )
            .expected("an IANA zone such as Europe/Paris or UTC"),
        );
    }
    if let Some(n) = &s.display_name {
        if !is_text(n) || n.trim().is_empty() {
            diags.push(
                err(
                    "site.display_name",
                    "display name must be one non-empty line",
                )
                .expected("printable text"),
            );
        }
    }
}

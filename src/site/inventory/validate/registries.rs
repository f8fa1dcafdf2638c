//! The `registries` section: each mirror's URL.

use super::err;
use crate::site::diag::Diagnostic;
use crate::site::diag::Show;
use crate::site::inventory::Inventory;

pub(super) fn check(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    for (name, r) in &inv.registries {
        let ok = (r.url.starts_with("https://") || r.url.starts_with("http://"))
            && !r.url.contains(char::is_whitespace);
        if !ok {
            diags.push(
                err(
                    format!("registries.{name}.url"),
                    format!("invalid registry URL `{}`", r.url.shown()),
                )
                .expected("an http(s) URL such as https://mirror.example.fr"),
            );
        }
    }
}

//! The `maintenance` section: the window.

use super::err;
use crate::site::diag::Diagnostic;
use crate::site::diag::Show;
use crate::site::inventory::syntax::parse_window;
use crate::site::inventory::Inventory;

pub(super) fn check(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    if let Some(m) = &inv.maintenance {
        if let Err(e) = parse_window(&m.window) {
            diags.push(
                err("maintenance.window", format!("invalid window `{}`: {e}", m.window.shown()))
                    .expected("days and a time range such as `sun 03:00-05:00`, `mon,thu 22:00-23:30` or `daily 04:00-05:00`"),
            );
        }
    }
}

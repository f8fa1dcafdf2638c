//! The `monitoring` section: thresholds and the `tls_connect` address.

use super::err;
use crate::site::diag::Diagnostic;
use crate::site::diag::Show;
use crate::site::inventory::Inventory;

pub(super) fn check(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    for (path, msg) in inv.monitoring.thresholds.problems() {
        diags.push(err(format!("monitoring.thresholds.{path}"), msg));
    }
    if let Some(t) = &inv.monitoring.tls_connect {
        if !t
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0))
        {
            diags.push(
                err(
                    "monitoring.tls_connect",
                    format!("invalid address `{}`", t.shown()),
                )
                .expected("HOST:PORT, such as 192.168.1.10:443"),
            );
        }
    }
}

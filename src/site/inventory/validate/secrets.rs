//! The `secrets` section: the age recipients.

use super::err;
use crate::site::diag::Diagnostic;
use crate::site::diag::Show;
use crate::site::inventory::Inventory;

pub(super) fn check(inv: &Inventory, diags: &mut Vec<Diagnostic>) {
    for (i, r) in inv.secrets.recipients.iter().enumerate() {
        if r.parse::<age::x25519::Recipient>().is_err() {
            diags.push(
                err(
                    format!("secrets.recipients[{i}]"),
                    format!("invalid age recipient `{}`", r.shown()),
                )
                .expected("an age public key starting with age1"),
            );
        }
    }
}

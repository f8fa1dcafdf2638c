//! Validation of a parsed inventory against the catalog, one section per
//! file. The sections are checked in a fixed order, which is the order of
//! the diagnostics before `load_str` sorts them by position (a stable sort:
//! diagnostics at the same place keep it). Also resolves where each stack
//! runs: the placement.

mod arch;
mod backup;
mod hosts;
mod images;
mod mail;
mod maintenance;
mod monitoring;
mod notify;
mod proxy;
mod registries;
mod secrets;
mod services;
mod settings;
mod site;

use std::collections::BTreeMap;

use crate::site::catalog::Catalog;
use crate::site::diag::Diagnostic;
use crate::site::inventory::{Inventory, Placed};

pub(super) fn err(path: impl Into<String>, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(path, msg)
}

pub(super) fn validate(
    inv: &Inventory,
    cat: &Catalog,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Vec<Placed>> {
    site::check(inv, diags);
    hosts::check(inv, diags);
    arch::check_hosts(inv, diags);
    let mut placement = services::check(inv, cat, diags);
    proxy::place(inv, cat, &mut placement, diags);
    hosts::check_placement(inv, cat, &placement, diags);
    arch::check_placement(inv, cat, &placement, diags);
    backup::check(inv, &placement, diags);
    monitoring::check(inv, diags);
    maintenance::check(inv, diags);
    registries::check(inv, diags);
    images::check(inv, &placement, diags);
    notify::check(inv, diags);
    secrets::check(inv, diags);
    placement
}

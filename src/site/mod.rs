//! The site model: what the inventory says, the catalog of stacks, the
//! rendered files, the secrets, and where things live on hosts and beside
//! the inventory. No network here; planners and executors build on it.

pub mod arch;
pub mod catalog;
pub mod catalog_facts;
pub mod diag;
pub mod dns;
pub mod dump;
pub mod escape;
pub mod facts;
pub mod files;
pub mod image;
pub mod inventory;
pub mod labels;
pub mod layout;
pub mod mail;
pub mod render;
pub mod secrets;
pub mod selection;
pub mod site_files;
pub mod state;
pub mod template_lint;
pub mod thresholds;

use std::path::Path;

use anyhow::Result;

/// Load and validate an inventory, printing its warnings on stderr.
pub fn load(path: &Path) -> Result<inventory::Resolved> {
    let site = inventory::load(path)?;
    for w in &site.warnings {
        diag::eprint(w);
    }
    Ok(site)
}

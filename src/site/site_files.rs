//! Files regie keeps beside an inventory and on the operator's machine:
//! the site's known_hosts and secrets, the age key, the render directory,
//! the local state directory. One place for their names.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::site::diag::{Diagnostic, InvalidInput, PositionIndex, Show};
use crate::site::inventory::Resolved;
use crate::site::secrets;

/// Per-inventory known_hosts file: `<stem>.known_hosts` beside it.
pub fn site_known_hosts(site: &Resolved) -> PathBuf {
    let stem = site
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("site");
    site.file.with_file_name(format!("{stem}.known_hosts"))
}

pub fn rel_to(inventory: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        inventory.parent().unwrap_or(Path::new(".")).join(p)
    }
}

pub fn secrets_path(site: &Resolved) -> PathBuf {
    match &site.inv.secrets.file {
        Some(f) => rel_to(&site.file, f),
        None => {
            let stem = site
                .file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("site");
            site.file.with_file_name(format!("{stem}.secrets.age"))
        }
    }
}

/// The site's secrets, open, with the key to save them again.
pub fn open_secrets(
    site: &Resolved,
    identity: Option<&Path>,
) -> Result<(secrets::Store, secrets::Key)> {
    let key = key_for(site, identity)?;
    let store = secrets::Store::open(&secrets_path(site), &key)?;
    Ok((store, key))
}

/// The key that opens the site's secrets: `identity` (the command line),
/// else the inventory's `secrets.identity`, else the usual places. An
/// identity the inventory names and that cannot be read is reported at its
/// line in the inventory, like any other inventory mistake.
pub fn key_for(site: &Resolved, identity: Option<&Path>) -> Result<secrets::Key> {
    let configured = site
        .inv
        .secrets
        .identity
        .as_ref()
        .map(|p| rel_to(&site.file, p));
    if let (None, Some(p)) = (identity, configured.as_deref()) {
        if let Err(e) = secrets::read_identity(p) {
            return Err(configured_identity_error(site, p, &e).into());
        }
    }
    secrets::find_key(
        identity.or(configured.as_deref()),
        &site.inv.secrets.recipients,
    )
}

fn configured_identity_error(site: &Resolved, path: &Path, e: &anyhow::Error) -> InvalidInput {
    let cause = e.chain().last().map(|c| c.to_string()).unwrap_or_default();
    let mut d = Diagnostic::error(
        "secrets.identity",
        format!(
            "cannot use the age identity `{}`: {}",
            path.display().to_string().shown(),
            cause.shown()
        ),
    )
    .expected(
        "an age identity file (made by `regie secrets keygen` or age-keygen); \
         or give --identity or REGIE_AGE_IDENTITY",
    );
    if let Ok(src) = std::fs::read_to_string(&site.file) {
        PositionIndex::build(&src).place(&site.file, std::slice::from_mut(&mut d), false);
    }
    d.file = site.file.clone();
    InvalidInput {
        file: site.file.clone(),
        diagnostics: vec![d],
    }
}

/// Default output directory: `rendered/<site>` beside the inventory.
pub fn default_out(inventory: &Path, site: &str) -> PathBuf {
    inventory
        .parent()
        .unwrap_or(Path::new("."))
        .join("rendered")
        .join(site)
}

/// Where regie keeps its local state (what `maintain` last notified, the
/// history of readings): `$REGIE_STATE_DIR`,
/// else `$XDG_STATE_HOME/regie`, else `~/.local/state/regie`.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("REGIE_STATE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME") {
        return Some(PathBuf::from(d).join("regie"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/regie"))
}

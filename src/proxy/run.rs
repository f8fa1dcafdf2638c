//! Fetch the local CA's root certificate from each LAN host's proxy over
//! SSH, with the script and the checks of `plan`.

use anyhow::Result;

use super::plan::{self, RootCa};
use crate::remote::connect::{connect, RunOptions};
use crate::site::inventory::Resolved;

/// The root of every host given by `plan::hosts`, in host order.
pub fn root_cas(site: &Resolved, only: Option<&str>, o: &RunOptions) -> Result<Vec<RootCa>> {
    let script = plan::read_script(&site.inv.site.name);
    let mut out = Vec::new();
    for host in plan::hosts(site, only)? {
        let conn = connect(site, &host, o)?;
        let res = conn.run(&script, b"")?;
        out.push(plan::parse(
            &host,
            res.status,
            &String::from_utf8_lossy(&res.stdout),
        )?);
    }
    Ok(out)
}

//! OS package updates of the hosts (Debian/Ubuntu): pending packages,
//! security first, reboot required; unattended security upgrades.
//! (Being written: see the OS updates helper's task.)

use anyhow::{bail, Result};

/// `regie update os`.
pub fn run_cmd(
    _output: crate::cli::Output,
    _job: &crate::cli::JobArgs,
    _host: Option<&str>,
) -> Result<i32> {
    bail!("regie update os is not written yet")
}

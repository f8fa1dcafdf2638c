//! OS updates of the hosts: pending packages (security first), reboot
//! needed, unattended security upgrades. `plan` holds the scripts and
//! parsers (pure), `run` reads the hosts.
pub mod plan;
pub mod run;

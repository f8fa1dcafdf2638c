//! Backups with restic to the NAS: captures, the host-resident backup
//! script, schedules, restores and restore drills. `plan` decides and
//! writes the scripts (pure), `run` drives them on the hosts.
pub mod plan;
pub mod run;

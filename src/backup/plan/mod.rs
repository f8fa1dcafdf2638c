//! Backups, pure part: from the inventory and the catalog, the files each
//! host needs to back itself up with restic — the host-resident script
//! `regie-backup` (the same code runs from the timer, from `regie backup
//! run` and by hand), the repository password and NAS key, the NAS's host
//! key, scratch compose files for restore drills, the systemd timer or cron
//! entry — and the small scripts and parsers the executor uses.
//!
//! One file per concept: `repo` (restic repository and captures), `script`
//! (the host script around `backup.sh`), `drill` (drill compose copies and
//! volume names), `schedule` (a host's backup files, timer and cron),
//! `nas` (NAS key and setup scripts), `prune` (retention from the
//! trusted side, its records and warnings), `offsite` (the copy to another
//! building), `results` (parsers and per-service
//! status), `upstream` (the facts the append-only path rests on). This file re-exports them under their old paths.

mod drill;
mod nas;
mod offsite;
#[cfg(test)]
mod pg_tests;
mod prune;
mod repo;
mod results;
mod schedule;
mod script;
pub mod upstream;

/// Where the backup files live under a host's base directory.
pub use crate::site::layout::{BACKUP_DIR as DIR, BACKUP_SCRIPT as SCRIPT};

pub use drill::{drill_compose, volume_names, VolumeNames};
pub use nas::{
    append_only_command, authorized_line, nas_authorized_line, nas_df_script, nas_key,
    nas_known_hosts, nas_setup_script, offsite_key, NasAccess,
};
pub use offsite::{
    copied_after, copied_script, copy_due, copy_ids_script, copy_list_script, copy_log_script,
    copy_warnings, offsite_known_hosts, parse_copy_log, parse_copy_output, push_install_script,
    record_script, to_copy, CopyMode, CopyOutput, CopyRecord, OffsiteRepo, COPY_EVERY_HOURS,
    COPY_LOG, PUSH_DIR,
};
pub use prune::{
    keep_flags, nas_repos_script, parse_nas_repos, prune_due, prune_script, retention_warnings,
    NasRepo, RetentionRecord, PRUNE_EVERY_DAYS, RETENTION_LOG, RETENTION_MAX_DAYS,
};
pub use repo::{captures, restic_image, Capture, Repo, DEFAULT_IMAGE};
pub use results::{
    group_captures, parse_results, service_status, CaptureInfo, RunResult, Snapshot,
};
pub use schedule::{host_files, schedule_script, unit_name, unschedule_script};
pub use script::{host_script, invoke};

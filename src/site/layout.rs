//! Where regie keeps things on a host, under the host's base directory, and
//! how it names compose projects: the one place for every `.regie/` path.

/// regie's own directory on a host, relative to the base directory.
pub const STATE_DIR: &str = ".regie";
/// Backup files (script, password, NAS key, drill copies), relative to the
/// base directory.
pub const BACKUP_DIR: &str = ".regie/backup";
/// The host-resident backup script, relative to the base directory.
pub const BACKUP_SCRIPT: &str = ".regie/backup/regie-backup";
/// Update records of unfinished updates, relative to the base directory.
pub const UPDATE_DIR: &str = ".regie/update";

/// Image archives being sent to a host (`images: push`), relative to the
/// base directory.
pub const IMAGES_DIR: &str = ".regie/images";

/// The directory holding a host's image archives in transit.
pub fn images_dir(base: &str) -> String {
    format!("{base}/{IMAGES_DIR}")
}

/// The deploy and update journal of a host (one JSON object a line).
pub fn journal(base: &str) -> String {
    format!("{base}/{STATE_DIR}/journal.jsonl")
}

/// The directory holding a host's update records.
pub fn update_dir(base: &str) -> String {
    format!("{base}/{UPDATE_DIR}")
}

/// The record of an update of `service` in progress on a host.
pub fn update_record(base: &str, service: &str) -> String {
    format!("{base}/{UPDATE_DIR}/{service}.json")
}

/// The compose project name of a stack on its host.
pub fn project(site: &str, stack: &str) -> String {
    format!("{site}-{stack}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_under_the_state_directory() {
        assert!(BACKUP_DIR.starts_with(STATE_DIR));
        assert!(BACKUP_SCRIPT.starts_with(BACKUP_DIR));
        assert!(UPDATE_DIR.starts_with(STATE_DIR));
        assert_eq!(journal("/srv/regie"), "/srv/regie/.regie/journal.jsonl");
        assert_eq!(
            update_record("/srv/regie", "files"),
            "/srv/regie/.regie/update/files.json"
        );
        assert_eq!(project("mairie", "files"), "mairie-files");
    }
}

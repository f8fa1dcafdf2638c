//! `regie check`: a site's status judged against thresholds, with the
//! monitoring plugin conventions (exit 0 OK, 1 WARNING, 2 CRITICAL,
//! 3 UNKNOWN; one summary line and perfdata). Pure: no network here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Warning,
    Unknown,
    Critical,
}

/// One judged fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub level: Level,
    /// host, service, disk, certificate, backup, update, os, lock, nas.
    pub kind: String,
    /// What it is about (`srv1:/`, `files`, `cloud.example.fr`).
    pub subject: String,
    /// One readable sentence.
    pub message: String,
}

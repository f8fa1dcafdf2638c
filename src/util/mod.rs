//! Leaf helpers that know nothing of regie's sites: shell quoting, OpenSSH
//! names, atomic file writes, the clock, process exit codes. Nothing here
//! imports another part of the crate.
pub mod dns;
pub mod exit;
pub mod fs;
pub mod shell;
pub mod time;

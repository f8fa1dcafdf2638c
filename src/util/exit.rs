//! Process exit codes, shared by the commands and by the jobs that compute
//! a command's outcome (maintain, updates, plugins).

/// Something failed (a host, a job, a check).
pub const EXIT_FAILED: i32 = 1;
/// The input is invalid (inventory, arguments); nothing was changed.
pub const EXIT_INVALID: i32 = 2;
/// Work is pending: `regie plan` has changes, `update check` has updates.
pub const EXIT_PENDING: i32 = 3;

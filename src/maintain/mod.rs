//! `regie maintain`: the scheduled run over many client sites (health,
//! backups, allowed updates and drills in the window, report, notify). It
//! only orchestrates other capabilities' executors, so it is all `run`.
pub mod run;

//! Acceptance runs: a provider's check of a new regie or catalog version
//! on a staging host before it reaches clients. `plan` holds the probes,
//! scripts and report (pure); `run` drives the executors of deploy,
//! backup, restore and update through every stack of a test site.
pub mod plan;
pub mod run;

//! Host readiness: what a host has and lacks (Docker, compose, disk, time,
//! unattended upgrades), and installing what is missing. `plan` writes the
//! scripts and judges the facts (pure), `run` runs them over SSH.
pub mod plan;
pub mod run;

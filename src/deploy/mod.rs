//! Deploy: put a site's rendered files on its hosts and bring the changed
//! stacks up, health-gated, under the host lock. `plan` decides (pure),
//! `run` does it over SSH.
pub mod gate;
pub mod health;
pub mod plan;
pub mod run;
pub mod up;

//! regie: render, deploy and maintain a self-hosted collaboration stack.
//!
//! The tree is the architecture (see `docs/architecture.md`):
//!
//! - `util`: leaf helpers (shell quoting, atomic writes, clock, exit codes);
//!   imports nothing from the crate.
//! - `site`: the site model (inventory, catalog, render, secrets, host
//!   layout, observed state); no network.
//! - `remote`: SSH, Docker API, registries, TLS, notifications; knows the
//!   site model and nothing of any capability.
//! - one folder per capability (`deploy`, `backup`, `update`, `osupdate`,
//!   `status`, `dns`, `report`, `proxy`, `runbook`, `maintain`, `bootstrap`): its
//!   planner files decide what to do (pure, unit-tested without a network),
//!   its `run` files execute over SSH.
//! - `cli`: clap types and one file per command group; nothing imports it.
//!
//! The rule: `util` ← `site` ← planners ← executors ← `cli`, and `remote`
//! (on `site`) is used by executors only. Planners never import `remote`
//! nor an executor; there is no import cycle. `tests/architecture.rs`
//! enforces it.
pub mod util;

pub mod site;

pub mod remote;

pub mod acceptance;
pub mod backup;
pub mod bootstrap;
pub mod deploy;
pub mod dns;
pub mod images;
pub mod maintain;
pub mod osupdate;
pub mod proxy;
pub mod report;

pub mod runbook;
pub mod status;
pub mod update;

pub mod cli;

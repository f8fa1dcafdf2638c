//! Service updates: what the version policy allows, the maintenance
//! window, backup first, automatic rollback, PostgreSQL majors. `plan`
//! decides and writes the host scripts (pure), `run` executes them.
pub mod plan;
pub mod release;
pub mod run;

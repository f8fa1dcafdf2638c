//! Status and monitoring: read a site now (`plan` is the host probe and
//! its parsing, `run` collects over SSH, the Docker API, TLS and the
//! registries), judge it (`check`, the plugin conventions) and keep the
//! readings (`history`).
pub mod check;
pub mod history;
pub mod plan;
pub mod run;
pub mod text;

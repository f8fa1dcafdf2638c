//! regie: render, deploy and maintain a self-hosted collaboration stack.
pub mod apply;
pub mod backup;
pub mod backup_run;
pub mod bootstrap;
pub mod catalog;
pub mod cli;
pub mod deploy;
pub mod diag;
pub mod docker_api;
pub mod inventory;
pub mod render;
pub mod secrets;
pub mod ssh;

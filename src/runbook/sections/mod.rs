//! The builders of the run book's main sections, one file per section, in
//! the order of the document (the section "Running without regie" in two:
//! `without_regie.rs` and `handover.rs`). Each appends its blocks to the
//! [`Ctx`](super::Ctx).

mod backups;
mod contacts;
mod cover;
mod data;
mod dns;
mod handover;
mod hosts;
mod offsite;
mod restore;
mod services;
mod updates;
mod without_regie;

pub(super) use backups::backups;
pub(super) use contacts::contacts;
pub(super) use cover::cover;
pub(super) use data::data;
pub(super) use dns::dns;
pub(super) use hosts::hosts;
pub(super) use restore::restore;
pub(super) use services::services;
pub(super) use updates::updates;
pub(super) use without_regie::without_regie;

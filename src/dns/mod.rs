//! `regie check dns`: the mail DNS records a site needs (MX, A/AAAA, SPF,
//! DKIM, DMARC, PTR for each mail domain), compared with what a resolver
//! answers, and the zone-file lines that fix what is missing or wrong.
//!
//! Commands as data: [`MailSetup::from_site`], [`wanted`], [`queries`],
//! [`judge`] and [`zone_snippet`] are pure; only the hickory resolver
//! (`remote::resolver::Dns`) talks to the network, behind the [`Resolve`] trait.
//!
//! - `wanted`: the mail setup and the records it needs;
//! - `util::dns`: the [`Resolve`] trait, queries and answers;
//! - `query`: the lookups and the check;
//! - `judge`: findings, MX, A/AAAA and PTR;
//! - `spf`, `dkim_dmarc`: the TXT records;
//! - `zone`: the zone-file snippet;
//! - `report`: the plugin report.
//!
//! The hickory resolver is `remote::resolver`, the command `cli::dns`.

mod dkim_dmarc;
#[cfg(test)]
mod fixtures;
mod judge;
mod query;
mod report;
mod spf;
mod wanted;
mod zone;

pub use crate::util::dns::{Answer, Answers, Query, Resolve, Rtype, Unreachable};
pub use dkim_dmarc::{dmarc_repair, tags};
pub use judge::{judge, DnsFinding};
pub use query::{address_queries, check, host_ips, queries};
pub use report::Report;
pub use spf::{spf_allows_everyone, spf_eval, spf_repair, SpfResult};
pub use wanted::{wanted, DkimSource, Expect, MailSetup, Wanted};
pub use zone::zone_snippet;

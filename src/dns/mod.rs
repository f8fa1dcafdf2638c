//! `regie check dns`: the mail DNS records a site needs (MX, A/AAAA, SPF,
//! DKIM, DMARC, PTR for each mail domain), compared with what a resolver
//! answers, and the zone-file lines that fix what is missing or wrong.
//!
//! Commands as data: [`MailSetup::from_site`], [`wanted`], [`queries`],
//! [`judge`] and [`zone_snippet`] are pure; only [`Dns`] talks to the
//! network, behind the [`Resolve`] trait.
//!
//! - `command`: the clap arguments, the run, the exit code;
//! - `wanted`: the mail setup and the records it needs;
//! - `wire`: the [`Resolve`] trait, queries and answers;
//! - `query`: the lookups and the check;
//! - `judge`: findings, MX, A/AAAA and PTR;
//! - `spf`, `dkim_dmarc`: the TXT records;
//! - `zone`: the zone-file snippet;
//! - `report`: the plugin report;
//! - `resolver`: hickory, the network.

mod command;
mod dkim_dmarc;
#[cfg(test)]
mod fixtures;
mod judge;
mod query;
mod report;
mod resolver;
mod spf;
mod wanted;
mod wire;
mod zone;

pub use command::{cli, parse_resolver, DnsArgs};
pub use dkim_dmarc::{dmarc_repair, tags};
pub use judge::{judge, DnsFinding};
pub use query::{address_queries, check, host_ips, queries};
pub use report::Report;
pub use resolver::Dns;
pub use spf::{spf_allows_everyone, spf_eval, spf_repair, SpfResult};
pub use wanted::{wanted, DkimSource, Expect, MailSetup, Wanted};
pub use wire::{Answer, Answers, Query, Resolve, Rtype, Unreachable};
pub use zone::zone_snippet;

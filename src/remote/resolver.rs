//! The real resolver: hickory-resolver behind the [`Resolve`] trait. The
//! only code of the check that talks to the network.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::util::dns::{Answer, Query, Resolve, Rtype};

/// Per try. hickory retries `ATTEMPTS` times after the first try, so a
/// dead resolver gives UNKNOWN in about 4 seconds.
const TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: usize = 1;

/// hickory-resolver on a single-threaded tokio runtime, without cache
/// between runs, hosts file or search domains.
pub struct Dns {
    runtime: tokio::runtime::Runtime,
    resolver: hickory_resolver::TokioResolver,
    label: String,
}

impl Dns {
    /// `servers` empty: the system's resolvers (/etc/resolv.conf).
    pub fn new(servers: &[SocketAddr]) -> Result<Dns> {
        use hickory_resolver::config::{
            ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
        };
        let config = if servers.is_empty() {
            let (config, _) = hickory_resolver::system_conf::read_system_conf().context(
                "cannot read the system's resolvers from /etc/resolv.conf; give --resolver",
            )?;
            config
        } else {
            ResolverConfig::from_name_servers(
                servers
                    .iter()
                    .map(|s| {
                        let conn = |mut c: ConnectionConfig| {
                            c.port = s.port();
                            c
                        };
                        NameServerConfig::new(
                            s.ip(),
                            true,
                            vec![conn(ConnectionConfig::udp()), conn(ConnectionConfig::tcp())],
                        )
                    })
                    .collect(),
            )
        };
        let label = config
            .name_servers()
            .iter()
            .map(|ns| {
                let port = ns.connections.first().map_or(53, |c| c.port);
                SocketAddr::new(ns.ip, port).to_string()
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut opts = ResolverOpts::default();
        opts.timeout = TIMEOUT;
        opts.attempts = ATTEMPTS;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.cache_size = 0;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the DNS runtime")?;
        let resolver = {
            let _in = runtime.enter();
            hickory_resolver::TokioResolver::builder_with_config(
                config,
                hickory_resolver::net::runtime::TokioRuntimeProvider::default(),
            )
            .with_options(opts)
            .build()
            .context("cannot set up the DNS resolver")?
        };
        Ok(Dns {
            runtime,
            resolver,
            label,
        })
    }
}

impl Resolve for Dns {
    fn resolve(&self, q: &Query) -> Result<Answer, String> {
        use hickory_resolver::net::NetError;
        use hickory_resolver::proto::rr::{Name, RecordType};
        let name = match q.rtype {
            Rtype::Ptr => q
                .name
                .parse::<IpAddr>()
                .map(Name::from)
                .map_err(|e| e.to_string()),
            _ => Name::from_ascii(format!("{}.", q.name)).map_err(|e| e.to_string()),
        };
        let name = match name {
            Ok(n) => n,
            Err(e) => return Ok(Answer::Failed(format!("invalid name: {e}"))),
        };
        let rtype = match q.rtype {
            Rtype::A => RecordType::A,
            Rtype::Aaaa => RecordType::AAAA,
            Rtype::Mx => RecordType::MX,
            Rtype::Txt => RecordType::TXT,
            Rtype::Ptr => RecordType::PTR,
        };
        match self.runtime.block_on(self.resolver.lookup(name, rtype)) {
            Ok(lookup) => {
                let mut found: Vec<String> = lookup
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == rtype)
                    .filter_map(|r| presented(&r.data))
                    .collect();
                // Stable output whatever order the resolver answers in.
                found.sort();
                Ok(if found.is_empty() {
                    Answer::Missing
                } else {
                    Answer::Records(found)
                })
            }
            Err(e) if e.is_no_records_found() => Ok(Answer::Missing),
            Err(NetError::Dns(e)) => Ok(Answer::Failed(e.to_string())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn label(&self) -> String {
        self.label.clone()
    }
}

/// A record in the form [`Answer::Records`] holds.
fn presented(data: &hickory_resolver::proto::rr::RData) -> Option<String> {
    use hickory_resolver::proto::rr::RData;
    let fqdn = |s: String| if s.ends_with('.') { s } else { s + "." };
    Some(match data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::MX(mx) => format!(
            "{} {}",
            mx.preference,
            fqdn(mx.exchange.to_ascii().to_ascii_lowercase())
        ),
        RData::TXT(t) => t
            .txt_data
            .iter()
            .map(|s| String::from_utf8_lossy(s))
            .collect(),
        RData::PTR(p) => fqdn(p.0.to_ascii().to_ascii_lowercase()),
        _ => return None,
    })
}

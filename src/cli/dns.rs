//! The `regie check dns` command: its arguments, the run that loads the
//! inventory, asks the resolver and prints the report, and the exit code.
//! The only part of the check that reads files or writes to stdout.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::{anyhow, Result};

use crate::cli::output::Output;
use crate::dns::{check, MailSetup, Report, Resolve};
use crate::remote::resolver::Dns;

#[derive(Debug, clap::Args)]
pub struct DnsArgs {
    /// The site's inventory.
    #[arg(short, long, value_name = "SITE.yml")]
    pub inventory: PathBuf,
    /// DNS server to ask: IP, IP:PORT or [IPv6]:PORT (port 53 by default);
    /// repeat for several. Default: the servers of /etc/resolv.conf.
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Vec<String>,
}

/// A plugin answers UNKNOWN (exit 3) when it cannot judge at all.
pub fn cli(args: &DnsArgs, output: Output) -> Result<i32> {
    Ok(run(args, output).unwrap_or_else(|e| crate::cli::output::plugin_unknown("DNS", &e)))
}

fn run(args: &DnsArgs, output: Output) -> Result<i32> {
    let servers = args
        .resolver
        .iter()
        .map(|s| parse_resolver(s))
        .collect::<Result<Vec<_>>>()?;
    let site = crate::site::load(&args.inventory)?;
    let report = match MailSetup::from_site(&site)? {
        None => Report::no_mail(&site.inv.site.name),
        Some(setup) => {
            let dns = Dns::new(&servers)?;
            match check(&setup, &dns) {
                Ok(findings) => Report::new(&setup, findings, &dns.label()),
                Err(e) => Report::unreachable(&e),
            }
        }
    };
    report.print(output)?;
    Ok(report.level.exit_code())
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT`; port 53 when none is given.
pub fn parse_resolver(s: &str) -> Result<SocketAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    s.parse::<SocketAddr>().map_err(|_| {
        anyhow!(
            "invalid --resolver `{}`: expected an IP address with an optional port, \
             such as 192.0.2.53, 192.0.2.53:5353 or [2001:db8::53]:53",
            s.escape_debug()
        )
    })
}

impl Report {
    fn print(&self, output: Output) -> Result<()> {
        match output {
            Output::Json => crate::cli::output::print_json(&self.json()),
            Output::Text => {
                print!("{}", self.text());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_addresses() {
        assert_eq!(
            parse_resolver("192.0.2.53").unwrap().to_string(),
            "192.0.2.53:53"
        );
        assert_eq!(parse_resolver("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(
            parse_resolver("2001:db8::53").unwrap().to_string(),
            "[2001:db8::53]:53"
        );
        assert_eq!(parse_resolver("[2001:db8::53]:5353").unwrap().port(), 5353);
        let e = parse_resolver("dns.example:53").unwrap_err().to_string();
        assert!(e.contains("invalid --resolver `dns.example:53`"), "{e}");
    }
}

//! The reverse proxy's local certificate authority: on LAN hosts (`tls
//! internal`) Caddy signs the sites' certificates with its own root, which
//! every client of the office must trust. `regie proxy root-ca` fetches that
//! root (the certificate only, never its key) so the operator can hand it
//! out. `plan` decides which hosts, what to run and how to read the answer;
//! `run` asks the hosts over SSH.

pub mod plan;
pub mod run;

//! The NAS side of SFTP backups: the site's key for the hosts, its
//! SFTP-only authorized_keys line, the NAS's host key for the hosts, and
//! the scripts that prepare the repository directory and read free space.

use anyhow::{anyhow, Context, Result};

use crate::site::secrets::Store;
use crate::util::shell::{known_hosts_name, quote};

/// The NAS's host key lines from the site's known_hosts text, re-keyed to
/// the address and port the hosts use.
pub fn nas_known_hosts(known_hosts: &str, address: &str, port: u16) -> String {
    let name = known_hosts_name(address, port);
    let lines: Vec<&str> = known_hosts
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|hosts| hosts.split(',').any(|h| h == name))
        })
        .collect();
    if lines.is_empty() {
        format!("# the NAS's key is not trusted yet: run `regie hosts trust` for it, then deploy ({name})\n")
    } else {
        lines.join("\n") + "\n"
    }
}

/// The site's key for the hosts to reach the NAS (OpenSSH ed25519), kept in
/// the secrets file so a rebuilt host reaches the NAS without a new key.
pub fn nas_key(store: &mut Store) -> Result<String> {
    ed25519_key(store, "backup.nas_key")
}

/// The NAS's key to the off-site copy (never on the hosts).
pub fn offsite_key(store: &mut Store) -> Result<String> {
    ed25519_key(store, "backup.offsite_key")
}

/// An OpenSSH ed25519 private key kept in the secrets under `name`
/// (generated the first time).
pub(super) fn ed25519_key(store: &mut Store, name: &str) -> Result<String> {
    let mut err = None;
    let s = store.derived(name, || {
        match ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)
            .and_then(|k| k.to_openssh(ssh_key::LineEnding::LF).map(|s| s.to_string()))
        {
            Ok(s) => s,
            Err(e) => {
                err = Some(e);
                String::new()
            }
        }
    });
    if let Some(e) = err {
        return Err(anyhow!("generating the key {name}: {e}"));
    }
    Ok(s.expose().to_string())
}

/// The ssh command restic's backends run to reach a NAS or the off-site
/// copy: the given key only, strict host-key checking against the given
/// file, no prompt, a cut connection noticed in half a minute. (restic
/// splits it on spaces: the paths are validated to hold none.)
pub fn ssh_program(key: &str, known_hosts: &str, user: &str, address: &str, port: u16) -> String {
    format!(
        "ssh -i {key} -o UserKnownHostsFile={known_hosts} \
         -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=20 \
         -o ServerAliveInterval=10 -o ServerAliveCountMax=3 -p {port} {user}@{address}"
    )
}

/// What the hosts' key may run on the NAS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NasAccess<'a> {
    /// SFTP only (sshd's built-in server): the hosts can also delete.
    Sftp,
    /// rclone's restic server in append-only mode, on the repository of the
    /// host the client names (one of `hosts`, under `base`).
    AppendOnly { base: &'a str, hosts: &'a [String] },
}

/// The command sshd forces for the hosts' key in append-only mode. restic's
/// rclone backend runs `<rclone.program> serve restic --stdio … <remote>`;
/// the hosts' remote is their own name (`rclone:<host>`), so the last word
/// of the command the client asked for picks the repository, among this
/// site's hosts only. Anything else is refused. sshd runs the command with
/// the NAS user's shell (any POSIX shell).
pub fn append_only_command(base: &str, hosts: &[String]) -> String {
    let mut s = String::from("case ${SSH_ORIGINAL_COMMAND##* } in ");
    for h in hosts {
        s.push_str(&format!(
            "{h}) exec rclone serve restic --stdio --append-only -q {};; ",
            quote(&format!("{base}/{h}")),
            h = quote(h),
        ));
    }
    s.push_str("*) echo 'regie: this key may only add backups to the repositories of this site' >&2; exit 1;; esac");
    s
}

/// Public half of the NAS key, as an authorized_keys line: `restrict` (no
/// forwarding, no terminal) and a forced command, whatever the client asks.
pub fn nas_authorized_line(private: &str, site: &str, access: &NasAccess) -> Result<String> {
    authorized_line(private, &format!("regie-backup@{site}"), access)
}

/// The same for any of the site's keys, with its comment.
pub fn authorized_line(private: &str, comment: &str, access: &NasAccess) -> Result<String> {
    let k = ssh_key::PrivateKey::from_openssh(private).context("reading the NAS key")?;
    let p = k
        .public_key()
        .to_openssh()
        .context("writing the NAS public key")?;
    let cmd = match access {
        NasAccess::Sftp => "internal-sftp".to_string(),
        // Inside command="…" sshd reads \" as a quote; nothing else is escaped.
        NasAccess::AppendOnly { base, hosts } => {
            append_only_command(base, hosts).replace('"', "\\\"")
        }
    };
    Ok(format!("restrict,command=\"{cmd}\" {p} {comment}"))
}

/// On the NAS: the repository directory and the hosts' key (idempotent;
/// any other line for the same key is replaced, so its options are ours).
pub fn nas_setup_script(base: &str, line: &str) -> String {
    // The key's base64 blob (after its type; the options before it hold
    // spaces) identifies its lines.
    let mut words = line.split_whitespace();
    let blob = words
        .by_ref()
        .find(|w| w.starts_with("ssh-"))
        .and_then(|_| words.next())
        .unwrap_or(line);
    format!(
        "set -eu\n\
         mkdir -p {b}\n\
         mkdir -p ~/.ssh && chmod 700 ~/.ssh && touch ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys\n\
         if ! grep -qxF {l} ~/.ssh/authorized_keys || [ \"$(grep -cF {k} ~/.ssh/authorized_keys)\" != 1 ]; then\n\
           grep -vF {k} ~/.ssh/authorized_keys > ~/.ssh/authorized_keys.regie || true\n\
           printf '%s\\n' {l} >> ~/.ssh/authorized_keys.regie\n\
           chmod 600 ~/.ssh/authorized_keys.regie\n\
           mv -f ~/.ssh/authorized_keys.regie ~/.ssh/authorized_keys\n\
         fi\n\
         df -Pk {b} | awk 'NR==2 {{print $4}}'\n",
        b = quote(base),
        l = quote(line),
        k = quote(blob),
    )
}

/// Free space (KiB) and use (percent, with its `%`) of the file system
/// holding the repositories on the NAS, as `FREE USE%`.
pub fn nas_df_script(base: &str) -> String {
    format!(
        "df -Pk {b} 2>/dev/null | awk 'NR==2 {{print $4, $5}}'",
        b = quote(base)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nas_known_hosts_keeps_only_the_nas_lines() {
        let kh = "[127.0.0.1]:2201 ssh-ed25519 AAAA1\n[127.0.0.1]:2202 ssh-ed25519 AAAA2\nnas.lan ssh-ed25519 AAAA3\n";
        assert_eq!(
            nas_known_hosts(kh, "127.0.0.1", 2202),
            "[127.0.0.1]:2202 ssh-ed25519 AAAA2\n"
        );
        assert_eq!(
            nas_known_hosts(kh, "nas.lan", 22),
            "nas.lan ssh-ed25519 AAAA3\n"
        );
        assert!(nas_known_hosts(kh, "other", 22).starts_with("# the NAS's key is not trusted"));
    }

    /// The forced command, run by a real sh: the host's own name picks its
    /// repository; another word, a path or an injection is refused.
    #[test]
    fn append_only_command_serves_only_the_site_hosts() {
        let hosts = vec!["srv1".to_string(), "srv-2".to_string()];
        let cmd = append_only_command("/vol 1/it's/site", &hosts);
        // rclone replaced by echo: what would run.
        let run = |orig: &str| {
            let o = std::process::Command::new("sh")
                .arg("-c")
                .arg(cmd.replace("exec rclone", "exec echo"))
                .env("SSH_ORIGINAL_COMMAND", orig)
                .output()
                .unwrap();
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stdout).trim().to_string(),
            )
        };
        assert_eq!(
            run("serve restic --stdio --b2-hard-delete srv1"),
            (
                true,
                "serve restic --stdio --append-only -q /vol 1/it's/site/srv1".into()
            )
        );
        assert_eq!(
            run("serve restic --stdio srv-2").1,
            "serve restic --stdio --append-only -q /vol 1/it's/site/srv-2"
        );
        for bad in [
            "",
            "srv3",
            "rm -rf /vol",
            "internal-sftp",
            "x ../srv1",
            "x srv1;id",
            "x $(id)",
        ] {
            assert_eq!(run(bad), (false, String::new()), "{bad}");
        }
    }

    #[test]
    fn authorized_lines_force_a_command() {
        let mut k = String::new();
        let key = ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)
            .unwrap();
        k.push_str(&key.to_openssh(ssh_key::LineEnding::LF).unwrap());
        let sftp = nas_authorized_line(&k, "s", &NasAccess::Sftp).unwrap();
        assert!(sftp.starts_with("restrict,command=\"internal-sftp\" ssh-ed25519 "));
        let hosts = vec!["srv1".to_string()];
        let ao = nas_authorized_line(
            &k,
            "s",
            &NasAccess::AppendOnly {
                base: "/srv/\"q\"",
                hosts: &hosts,
            },
        )
        .unwrap();
        assert!(ao.starts_with("restrict,command=\"case "), "{ao}");
        assert!(ao.contains("/srv/\\\"q\\\"/srv1"), "{ao}");
        assert!(ao.ends_with(" regie-backup@s"));
        // One `"` pair delimits the option: every inner one is escaped.
        let opt = &ao[..ao.find(" ssh-ed25519").unwrap()];
        assert_eq!(opt.matches('"').count() - opt.matches("\\\"").count(), 2);
    }
}

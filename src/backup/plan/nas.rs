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
    let mut err = None;
    let s = store.derived("backup.nas_key", || {
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
        return Err(anyhow!("generating the NAS key: {e}"));
    }
    Ok(s.expose().to_string())
}

/// Public half of the NAS key, as an authorized_keys line that allows SFTP
/// only (sshd runs its built-in SFTP server whatever the client asks).
pub fn nas_authorized_line(private: &str, site: &str) -> Result<String> {
    let k = ssh_key::PrivateKey::from_openssh(private).context("reading the NAS key")?;
    let p = k
        .public_key()
        .to_openssh()
        .context("writing the NAS public key")?;
    Ok(format!(
        "restrict,command=\"internal-sftp\" {p} regie-backup@{site}"
    ))
}

/// On the NAS: the repository directory and the hosts' key (idempotent;
/// any other line for the same key is replaced, so its options are ours).
pub fn nas_setup_script(base: &str, line: &str) -> String {
    // The key's base64 blob identifies its lines.
    let blob = line.split_whitespace().nth(2).unwrap_or(line);
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
}

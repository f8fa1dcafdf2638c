//! The off-site copy, executor part: `backup init` prepares the off-site
//! server (directory, the append-only keys of the NAS and of the hosts)
//! and the NAS (its key to the copy), and creates each host's repository
//! there; `regie backup copy` (and `regie maintain`, daily) runs `restic
//! copy` on the NAS with regie's own access and records each run on the
//! NAS; `backup status` reads those records.

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use super::prune::{password_in, tools_missing};
use crate::backup::plan::{self as backup, CopyMode, CopyRecord, OffsiteRepo, Repo};
use crate::remote::connect::{connect, RunOptions};
use crate::remote::ssh::Conn;
use crate::site::inventory::Resolved;

/// The NAS's name and repository directory, and the off-site copy.
fn sides(site: &Resolved) -> Result<(String, String, OffsiteRepo)> {
    let off = OffsiteRepo::of(site).ok_or_else(|| {
        anyhow!("this site has no off-site copy (`backup.offsite` in the inventory)")
    })?;
    match Repo::of(site) {
        Some(Repo::Sftp { nas, base, .. }) => Ok((nas, base, off)),
        _ => bail!("an off-site copy is made from the NAS: `backup.to` must name a NAS or server"),
    }
}

/// Secrets the copy needs: the repository password, the hosts' NAS key
/// and the NAS's key to the copy (both generated the first time).
pub struct CopySecrets {
    password: String,
    hosts_key: String,
    push_key: String,
}

pub fn copy_secrets(site: &Resolved, identity: Option<&std::path::Path>) -> Result<CopySecrets> {
    let (mut store, key) = crate::site::site_files::open_secrets(site, identity)?;
    let password = password_in(&store)?;
    let hosts_key = backup::nas_key(&mut store)?;
    let push_key = backup::offsite_key(&mut store)?;
    store.save_if_changed(&key)?;
    Ok(CopySecrets {
        password,
        hosts_key,
        push_key,
    })
}

/// Outcome of the off-site copy (or its creation) for one host's repository.
#[derive(Debug, Clone, Serialize)]
pub struct CopyOutcome {
    pub host: String,
    pub ok: bool,
    /// The off-site repository was created by this run.
    pub created: bool,
    pub record: Option<CopyRecord>,
    pub error: Option<String>,
}

/// Part of `regie backup init`: the off-site server (tools, directory, the
/// NAS's and the hosts' keys, append-only), the NAS's key to it, and each
/// host's repository there (created from the NAS's, same chunker
/// parameters). Returns the free space off site (KiB) and per host.
pub fn setup(
    site: &Resolved,
    o: &RunOptions,
    secrets: &CopySecrets,
) -> Result<(Option<u64>, Vec<CopyOutcome>)> {
    let (nas, nas_base, off) = sides(site)?;
    let name = &site.inv.site.name;
    let kh_text = std::fs::read_to_string(crate::site::site_files::site_known_hosts(site))
        .unwrap_or_default();
    let kh = backup::offsite_known_hosts(&kh_text, &off).ok_or_else(|| {
        anyhow!(
            "the off-site server `{}` is not trusted yet: run `regie hosts trust {}` first",
            off.host,
            off.host
        )
    })?;
    // Both machines have their tools before either is changed.
    let far =
        connect(site, &off.host, o).with_context(|| format!("off-site server `{}`", off.host))?;
    let missing = tools_missing(&far, &["rclone", "restic"])?;
    if !missing.is_empty() {
        bail!(
            "off-site server `{}`: {} not found: its keys run `rclone serve restic --append-only` and regie runs restic there for retention; install them (see docs/backup-offsite.md)",
            off.host,
            missing.join(" and ")
        );
    }
    let conn = connect(site, &nas, o).with_context(|| format!("NAS `{nas}`"))?;
    let missing = tools_missing(&conn, &["restic", "ssh"])?;
    if !missing.is_empty() {
        bail!(
            "NAS `{nas}`: {} not found: the NAS runs `restic copy` to the off-site server over ssh (see docs/backup-offsite.md)",
            missing.join(" and ")
        );
    }
    // Every host of the inventory but the two servers may read its own
    // repository there (restores when the NAS is lost).
    let hosts: Vec<String> = site
        .inv
        .hosts
        .keys()
        .filter(|h| **h != nas && **h != off.host)
        .cloned()
        .collect();
    let access = backup::NasAccess::AppendOnly {
        base: &off.base,
        hosts: &hosts,
    };
    let lines = [
        backup::authorized_line(&secrets.hosts_key, &format!("regie-backup@{name}"), &access)?,
        backup::authorized_line(&secrets.push_key, &format!("regie-offsite@{name}"), &access)?,
    ];
    let mut free = None;
    for line in &lines {
        let out = far.run(&backup::nas_setup_script(&off.base, line), b"")?;
        if !out.ok() {
            bail!(
                "off-site server `{}`: preparing {} failed: {}",
                off.host,
                off.base,
                out.stderr.trim()
            );
        }
        free = String::from_utf8_lossy(&out.stdout).trim().parse().ok();
    }
    let mut key = secrets.push_key.clone();
    if !key.ends_with('\n') {
        key.push('\n');
    }
    let out = conn.run(&backup::push_install_script(&nas_base, &kh), key.as_bytes())?;
    if !out.ok() {
        bail!(
            "NAS `{nas}`: installing its key to the off-site copy failed: {}",
            out.stderr.trim()
        );
    }
    let outcomes = per_host(
        site,
        &conn,
        &nas_base,
        &off,
        &secrets.password,
        CopyMode::Init,
        None,
    )?;
    Ok((free, outcomes))
}

/// `regie backup copy`: copy each host's new snapshots off site, record it
/// on the NAS.
pub fn copy(
    site: &Resolved,
    o: &RunOptions,
    secrets: &CopySecrets,
    host: Option<&str>,
) -> Result<Vec<CopyOutcome>> {
    let (nas, nas_base, off) = sides(site)?;
    let conn = connect(site, &nas, o).with_context(|| format!("NAS `{nas}`"))?;
    per_host(
        site,
        &conn,
        &nas_base,
        &off,
        &secrets.password,
        CopyMode::List,
        host,
    )
}

fn per_host(
    site: &Resolved,
    conn: &Conn,
    nas_base: &str,
    off: &OffsiteRepo,
    password: &str,
    mode: CopyMode,
    only: Option<&str>,
) -> Result<Vec<CopyOutcome>> {
    let mut hosts: Vec<String> = super::hosts(site).into_iter().map(|(h, _)| h).collect();
    if let Some(h) = only {
        hosts.retain(|x| x == h);
        if hosts.is_empty() {
            bail!("host `{h}` has nothing to back up");
        }
    }
    let mut out = Vec::new();
    for h in hosts {
        out.push(one(conn, nas_base, off, password, mode, &h));
    }
    Ok(out)
}

fn one(
    conn: &Conn,
    nas_base: &str,
    off: &OffsiteRepo,
    password: &str,
    mode: CopyMode,
    h: &str,
) -> CopyOutcome {
    let pw = format!("{password}\n");
    let failed = |created: bool, e: String| CopyOutcome {
        host: h.to_string(),
        ok: false,
        created,
        record: None,
        error: Some(e),
    };
    let r = match conn.run(
        &backup::copy_list_script(nas_base, h, off, mode),
        pw.as_bytes(),
    ) {
        Ok(r) => r,
        Err(e) => return failed(false, format!("{e:#}")),
    };
    let list = backup::parse_copy_output(&String::from_utf8_lossy(&r.stdout));
    if !r.ok() {
        return failed(list.created, r.stderr.trim().to_string());
    }
    if mode == CopyMode::Init {
        return CopyOutcome {
            host: h.to_string(),
            ok: true,
            created: list.created,
            record: None,
            error: None,
        };
    }
    let (Some(primary), Some(offsite)) = (&list.primary, &list.offsite) else {
        return failed(list.created, "the snapshot lists could not be read".into());
    };
    let wanted = backup::to_copy(primary, offsite, &list.copied);
    let copy = if wanted.is_empty() {
        None
    } else {
        match conn.run(
            &backup::copy_ids_script(nas_base, h, off, &wanted),
            pw.as_bytes(),
        ) {
            Ok(c) => Some((
                backup::parse_copy_output(&String::from_utf8_lossy(&c.stdout)),
                c.ok(),
                c.stderr,
            )),
            Err(e) => Some((Default::default(), false, format!("{e:#}"))),
        }
    };
    let time = crate::util::time::unix_now();
    let rec = CopyRecord::from_run(
        h,
        time,
        &list,
        &wanted,
        copy.as_ref().map(|(c, ok, e)| (c, *ok, e.as_str())),
    );
    // What is off site now counts as copied once; the record goes beside
    // the repositories. A failure to write them is reported, the copy
    // itself stands.
    let after = copy
        .as_ref()
        .and_then(|(c, _, _)| c.offsite.as_deref())
        .unwrap_or(offsite);
    let done = backup::copied_after(primary, after, &list.copied);
    let write = format!(
        "{}\n{}\n",
        backup::copied_script(nas_base, h, &done),
        backup::record_script(nas_base, &rec)
    );
    let write_err = match conn.run(&write, b"") {
        Ok(l) if l.ok() => None,
        Ok(l) => Some(l.stderr.trim().to_string()),
        Err(e) => Some(e.to_string()),
    };
    let error = match ((!rec.ok).then(|| rec.error.clone()), write_err) {
        (e, None) => e,
        (e, Some(w)) => Some(format!(
            "{}recording the copy on the NAS failed: {w}",
            e.map(|e| e + "; ").unwrap_or_default()
        )),
    };
    CopyOutcome {
        host: h.to_string(),
        ok: rec.ok && error.is_none(),
        created: list.created,
        record: Some(rec),
        error,
    }
}

/// The off-site copy as `backup status` shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OffsiteStatus {
    pub server: String,
    pub records: Vec<CopyRecord>,
    pub free_kib: Option<u64>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

/// Copy records (from the NAS), retention and free space (from the copy).
/// None when the site has no off-site copy.
pub fn status(site: &Resolved, o: &RunOptions) -> Option<OffsiteStatus> {
    let (nas, nas_base, off) = sides(site).ok()?;
    let hosts: Vec<String> = super::hosts(site).into_iter().map(|(h, _)| h).collect();
    let now = crate::util::time::unix_now();
    let mut st = OffsiteStatus {
        server: off.host.clone(),
        ..Default::default()
    };
    match connect(site, &nas, o).and_then(|c| Ok(c.run(&backup::copy_log_script(&nas_base), b"")?))
    {
        Ok(r) => {
            let all = backup::parse_copy_log(&String::from_utf8_lossy(&r.stdout));
            st.warnings.extend(
                backup::copy_warnings(&all, &hosts, now)
                    .into_iter()
                    .map(|w| format!("off-site copy: {w}")),
            );
            // The last record per host.
            for h in &hosts {
                if let Some(x) = all.iter().filter(|x| &x.host == h).max_by_key(|x| x.time) {
                    st.records.push(x.clone());
                }
            }
        }
        Err(e) => {
            st.error = Some(format!(
                "reading the copy records on the NAS `{nas}`: {e:#}"
            ))
        }
    }
    // One connection to the off-site server: retention, free space, tools.
    let retention = connect(site, &off.host, o).and_then(|c| {
        Ok((
            super::prune::retention_on(site, &c, super::Target::Offsite)?,
            c,
        ))
    });
    let c = match retention {
        Ok((n, c)) => {
            st.warnings.extend(n.warnings);
            c
        }
        Err(e) => {
            st.error = Some(format!("{e:#}"));
            return Some(st);
        }
    };
    if let Ok(out) = c.run(&backup::nas_df_script(&off.base), b"") {
        st.free_kib = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok());
    }
    if let Ok(m) = tools_missing(&c, &["rclone", "restic"]) {
        if !m.is_empty() {
            st.warnings.push(format!(
                "off-site copy: {} no longer found on `{}`",
                m.join(" and "),
                off.host
            ));
        }
    }
    Some(st)
}

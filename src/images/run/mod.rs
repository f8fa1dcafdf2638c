//! Push a host's images over its SSH connection: ask its engine which
//! images and layers it holds (one round trip), then for each image it
//! lacks build the archive of the missing layers locally, append it to a
//! staging file under `.regie/images` (resuming a cut transfer), check its
//! sha256 on the host, `docker load` it and check the resulting image ID.
//! Until that check passes nothing reaches the engine.

pub mod source;

use std::io::{Seek, SeekFrom};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::images::archive::{self, Layer};
use crate::images::plan;
use crate::remote::ssh::Conn;
use crate::site::files::ImagePush;
use source::Source;

/// What one image cost on one host.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pushed {
    pub image: String,
    /// Already there with the same ID: nothing sent.
    pub present: bool,
    pub layers: usize,
    pub layers_sent: usize,
    /// Size of the archive (config, manifest and the missing layers).
    pub archive_bytes: u64,
    /// Bytes sent this run (less than the archive when a cut transfer
    /// resumed).
    pub bytes_sent: u64,
    /// Bytes found staged by an earlier, cut run.
    pub resumed_from: u64,
    pub seconds: f64,
}

/// Make sure the host behind `conn` has each of `refs` with the ID the
/// source gives it. `progress` gets one line at a time.
pub fn push(
    conn: &Conn,
    base: &str,
    push: &ImagePush,
    refs: &[String],
    progress: &dyn Fn(String),
) -> Result<Vec<Pushed>> {
    if refs.is_empty() {
        return Ok(vec![]);
    }
    let host = conn.target.name.clone();
    if let Some(why) = refs.iter().find_map(|r| plan::refuse(r)) {
        bail!("{host}: {why}");
    }
    progress("images: reading the sources".into());
    let src = Source::open(push)?;
    let described = refs
        .iter()
        .map(|r| src.describe(r))
        .collect::<Result<Vec<_>>>()?;
    progress("images: asking the host's engine".into());
    let out = conn.run(&plan::probe_script(base, refs), b"")?;
    let there = plan::parse_probe(&String::from_utf8_lossy(&out.stdout), refs.len())
        .map_err(|e| anyhow!("{host}: {e} {}", out.stderr.trim()))?;
    let mut done = Vec::new();
    for (i, d) in described.iter().enumerate() {
        let t0 = Instant::now();
        if there.ids[i].as_deref() == Some(d.id.as_str()) {
            done.push(Pushed {
                image: d.reference.clone(),
                present: true,
                layers: d.diff_ids.len(),
                layers_sent: 0,
                archive_bytes: 0,
                bytes_sent: 0,
                resumed_from: 0,
                seconds: 0.0,
            });
            continue;
        }
        let p = push_one(conn, base, &src, d, &there, progress)
            .with_context(|| format!("{host}: pushing {}", d.reference))?;
        done.push(Pushed {
            seconds: t0.elapsed().as_secs_f64(),
            ..p
        });
    }
    Ok(done)
}

fn push_one(
    conn: &Conn,
    base: &str,
    src: &Source,
    d: &source::Described,
    there: &plan::HostImages,
    progress: &dyn Fn(String),
) -> Result<Pushed> {
    let send = plan::layers_to_send(&d.diff_ids, there);
    let n_send = send.iter().filter(|s| **s).count();
    progress(format!(
        "images: {}: reading {n_send} of {} layers",
        d.reference,
        send.len()
    ));
    let m = src.materialize(d)?;
    if m.blobs.len() != d.diff_ids.len() {
        bail!(
            "{} layers, the config lists {}",
            m.blobs.len(),
            d.diff_ids.len()
        );
    }
    let mut layers = Vec::new();
    for (b, s) in m.blobs.iter().zip(&send) {
        layers.push(Layer {
            digest: b.digest.clone(),
            size: b.size,
            data: if *s {
                Some(Box::new(b.open()?) as Box<dyn std::io::Read>)
            } else {
                None
            },
        });
    }
    let staged = tempfile::Builder::new()
        .prefix("regie-push-")
        .tempfile()
        .context("temporary archive")?;
    let w = archive::write(
        std::io::BufWriter::new(staged.reopen()?),
        &d.reference,
        &d.id,
        &m.config,
        layers,
    )?;
    drop(m);
    progress(format!(
        "images: {}: sending {} bytes",
        d.reference, w.bytes
    ));
    let name = plan::part_name(&w.sha256);
    let offset = plan::resume_offset(there, &name, w.bytes);
    let mut f = staged.reopen()?;
    f.seek(SeekFrom::Start(offset))?;
    let total = w.bytes;
    let mb = |b: u64| b as f64 / 1_048_576.0;
    let mut last = Instant::now();
    let mut sent_now = 0u64;
    let out = conn.run_streaming(
        &plan::upload_script(base, &name, offset),
        &mut f,
        &mut |sent| {
            sent_now = sent;
            if last.elapsed().as_millis() >= 250 {
                last = Instant::now();
                progress(format!(
                    "images: {}: {} of {} layers, {:.1}/{:.1} MB",
                    d.reference,
                    w.layers_sent,
                    d.diff_ids.len(),
                    mb(offset + sent),
                    mb(total)
                ));
            }
        },
    )?;
    if !out.ok() {
        bail!("staging the archive failed: {}", out.stderr.trim());
    }
    progress(format!("images: {}: checking and loading", d.reference));
    let out = conn.run(
        &plan::load_script(
            base,
            &name,
            &w.sha256,
            &archive::tagged(&d.reference),
            &d.id,
        ),
        b"",
    )?;
    if !out.ok() {
        bail!("{}", out.stderr.trim());
    }
    Ok(Pushed {
        image: d.reference.clone(),
        present: false,
        layers: d.diff_ids.len(),
        layers_sent: w.layers_sent,
        archive_bytes: w.bytes,
        bytes_sent: sent_now,
        resumed_from: offset,
        seconds: 0.0,
    })
}

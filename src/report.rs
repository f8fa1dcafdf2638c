//! Static HTML reports (pure): one page per client site and a fleet page.
//! Being written.
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::history::ReportInput;

/// Write `<site>.html` and `<site>.json` for each site and `index.html`
/// (the fleet overview) into `dir`; returns the pages written.
pub fn write(dir: &Path, inputs: &[ReportInput]) -> Result<Vec<PathBuf>> {
    let _ = (dir, inputs);
    bail!("regie report is not built yet")
}

//! Which part of a site a run touches: some stacks only (`--service`), and
//! whether stacks no longer in the inventory are removed (`--prune`).

use std::collections::BTreeSet;

/// The stacks a deploy plans for.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Only these stacks (`--service`); None for all.
    pub only: Option<BTreeSet<String>>,
    pub prune: bool,
}

//! The site model: what the inventory says and what regie derives from it; no network.
pub mod inventory;

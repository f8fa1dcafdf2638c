//! Monitoring thresholds: the inventory's `monitoring.thresholds` section,
//! its defaults and its consistency rules. `check` judges against them.

use serde::{Deserialize, Serialize};

/// Limits, from the inventory's `monitoring.thresholds`, each overridable
/// on the command line. Percentages are of the file system or memory used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub disk_warning: f64,
    pub disk_critical: f64,
    pub inodes_warning: f64,
    pub inodes_critical: f64,
    pub memory_warning: f64,
    pub cert_warning_days: f64,
    pub cert_critical_days: f64,
    /// Hours after which the last successful backup is too old (CRITICAL).
    /// Default: the daily schedule plus two hours of slack (26 h).
    pub backup_max_age_hours: Option<f64>,
    /// Container stops in 24 hours from which a service is flagged.
    pub restarts_warning: u64,
    /// A deploy lock older than this is stale (WARNING).
    pub lock_stale_hours: f64,
    /// Pending security updates are a warning (else only counted).
    pub security_updates_warning: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            disk_warning: 85.0,
            disk_critical: 95.0,
            inodes_warning: 85.0,
            inodes_critical: 95.0,
            memory_warning: 95.0,
            cert_warning_days: 14.0,
            cert_critical_days: 3.0,
            backup_max_age_hours: None,
            restarts_warning: 3,
            lock_stale_hours: 6.0,
            security_updates_warning: true,
        }
    }
}

impl Thresholds {
    /// Inconsistent values, as (field, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let pct = [
            ("disk_warning", self.disk_warning),
            ("disk_critical", self.disk_critical),
            ("inodes_warning", self.inodes_warning),
            ("inodes_critical", self.inodes_critical),
            ("memory_warning", self.memory_warning),
        ];
        for (name, v) in pct {
            if !(0.0..=100.0).contains(&v) {
                out.push((name.into(), format!("{v} is not a percentage (0 to 100)")));
            }
        }
        for (w, c, wv, cv) in [
            (
                "disk_warning",
                "disk_critical",
                self.disk_warning,
                self.disk_critical,
            ),
            (
                "inodes_warning",
                "inodes_critical",
                self.inodes_warning,
                self.inodes_critical,
            ),
        ] {
            if wv > cv {
                out.push((w.into(), format!("{w} ({wv}) is above {c} ({cv})")));
            }
        }
        if self.cert_warning_days < self.cert_critical_days {
            out.push((
                "cert_critical_days".into(),
                format!(
                    "cert_critical_days ({}) is above cert_warning_days ({}): warnings come first",
                    self.cert_critical_days, self.cert_warning_days
                ),
            ));
        }
        if self.backup_max_age_hours.is_some_and(|h| h <= 0.0) {
            out.push((
                "backup_max_age_hours".into(),
                "must be a positive number of hours".into(),
            ));
        }
        out
    }

    pub fn backup_max_age(&self, policy_default: Option<f64>) -> f64 {
        self.backup_max_age_hours
            .or(policy_default)
            .unwrap_or(crate::site::state::MAX_AGE_SECS as f64 / 3600.0)
    }
}

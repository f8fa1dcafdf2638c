//! The health gate's judgement of each container, pure: when a container
//! counts as up. Docker computes a health status only one `interval`
//! after start (30 s by default, and the images' own checks often use
//! more), so the gate does not wait for it: it runs the container's own
//! health check on demand (see `DockerApi::probe_health`), with a growing
//! back-off, and a passing check opens the gate. A container with no
//! health check is up once it has run for a short settle time without
//! restarting, so a crash loop is not taken for a start.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::site::state::Container;

/// How long a container without a health check must run, without a
/// restart, before it counts as up.
pub const SETTLE: Duration = Duration::from_secs(2);
/// First wait between two on-demand checks of one container, doubled
/// after each failure up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Up,
    Failed,
    /// Not yet; `probe`: run its health check now.
    Waiting {
        probe: bool,
    },
}

#[derive(Debug, Clone)]
struct Seen {
    running_since: Instant,
    restarts: u64,
    probe_passed: bool,
    next_probe: Instant,
    backoff: Duration,
}

/// What the gate has seen of each container, by name.
#[derive(Debug, Default)]
pub struct Gate {
    seen: HashMap<String, Seen>,
}

impl Gate {
    pub fn judge(&mut self, c: &Container, now: Instant) -> Verdict {
        if c.is_failed() {
            return Verdict::Failed;
        }
        if c.status != "running" {
            self.seen.remove(&c.name);
            return Verdict::Waiting { probe: false };
        }
        let fresh = Seen {
            running_since: now,
            restarts: c.restart_count,
            probe_passed: false,
            next_probe: now,
            backoff: FIRST_BACKOFF,
        };
        let s = self.seen.entry(c.name.clone()).or_insert(fresh.clone());
        if s.restarts != c.restart_count {
            // It restarted since: whatever passed before no longer counts.
            *s = fresh;
        }
        match c.health.as_deref() {
            Some("healthy") => Verdict::Up,
            None if now.duration_since(s.running_since) >= SETTLE => Verdict::Up,
            None => Verdict::Waiting { probe: false },
            // "starting": Docker has not judged yet.
            Some(_) if s.probe_passed => Verdict::Up,
            Some(_) => Verdict::Waiting {
                probe: now >= s.next_probe,
            },
        }
    }

    /// The result of an on-demand check of container `name`.
    pub fn probed(&mut self, name: &str, passed: bool, now: Instant) {
        if let Some(s) = self.seen.get_mut(name) {
            if passed {
                s.probe_passed = true;
            } else {
                s.next_probe = now + s.backoff;
                s.backoff = (s.backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(status: &str, health: Option<&str>, restarts: u64) -> Container {
        Container {
            name: "p-app-1".into(),
            status: status.into(),
            health: health.map(String::from),
            restart_count: restarts,
            ..Default::default()
        }
    }

    #[test]
    fn a_passing_check_on_demand_opens_the_gate_before_docker_judges() {
        let mut g = Gate::default();
        let t0 = Instant::now();
        let starting = c("running", Some("starting"), 0);
        assert_eq!(g.judge(&starting, t0), Verdict::Waiting { probe: true });
        g.probed("p-app-1", true, t0);
        assert_eq!(g.judge(&starting, t0), Verdict::Up);
    }

    #[test]
    fn failed_checks_back_off_and_a_restart_forgets_a_pass() {
        let mut g = Gate::default();
        let t0 = Instant::now();
        let starting = c("running", Some("starting"), 0);
        assert_eq!(g.judge(&starting, t0), Verdict::Waiting { probe: true });
        g.probed("p-app-1", false, t0);
        assert_eq!(g.judge(&starting, t0), Verdict::Waiting { probe: false });
        let t1 = t0 + FIRST_BACKOFF;
        assert_eq!(g.judge(&starting, t1), Verdict::Waiting { probe: true });
        g.probed("p-app-1", false, t1);
        // Doubled.
        assert_eq!(
            g.judge(&starting, t1 + FIRST_BACKOFF),
            Verdict::Waiting { probe: false }
        );
        assert_eq!(
            g.judge(&starting, t1 + FIRST_BACKOFF * 2),
            Verdict::Waiting { probe: true }
        );
        g.probed("p-app-1", true, t1);
        assert_eq!(g.judge(&starting, t1), Verdict::Up);
        // It restarted: the pass no longer counts.
        let restarted = c("running", Some("starting"), 1);
        assert_eq!(g.judge(&restarted, t1), Verdict::Waiting { probe: true });
    }

    #[test]
    fn without_a_check_it_must_settle_without_restarting() {
        let mut g = Gate::default();
        let t0 = Instant::now();
        assert_eq!(
            g.judge(&c("running", None, 0), t0),
            Verdict::Waiting { probe: false }
        );
        assert_eq!(
            g.judge(&c("running", None, 1), t0 + SETTLE),
            Verdict::Waiting { probe: false },
            "a restart starts the settle time again"
        );
        assert_eq!(
            g.judge(&c("running", None, 1), t0 + SETTLE * 2),
            Verdict::Up
        );
    }

    #[test]
    fn docker_s_own_verdicts_stand() {
        let mut g = Gate::default();
        let t0 = Instant::now();
        assert_eq!(g.judge(&c("running", Some("healthy"), 0), t0), Verdict::Up);
        assert_eq!(
            g.judge(&c("running", Some("unhealthy"), 0), t0),
            Verdict::Failed
        );
        assert_eq!(g.judge(&c("exited", None, 0), t0), Verdict::Failed);
        assert_eq!(
            g.judge(&c("created", None, 0), t0),
            Verdict::Waiting { probe: false }
        );
    }
}

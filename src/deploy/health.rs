//! How long a stack may take to become healthy, from its own compose file:
//! Docker does not count failed checks during a service's `start_period`,
//! then marks it unhealthy after `retries` failures one `interval` apart.
//! A deploy gate shorter than that reports UNHEALTHY a service that is
//! still allowed to start (Nextcloud's first install has 300 s), so the
//! gate waits at least this long. Pure.

use std::time::Duration;

use serde_yaml::Value;

/// A compose duration (`1m30s`, `300s`, `500ms`, `2h`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let n: f64 = rest[..n_end].parse().ok()?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..u_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            _ => return None,
        };
        rest = &rest[u_end..];
        total += Duration::from_secs_f64(n * unit);
    }
    Some(total)
}

/// The longest time any service of `compose` may take to turn healthy:
/// `start_period + interval × retries` (Docker's defaults: 0, 30 s, 3).
/// Zero when no service has a healthcheck.
pub fn health_budget(compose: &str) -> Duration {
    let doc: Value = serde_yaml::from_str(compose).unwrap_or(Value::Null);
    let Some(services) = doc.get("services").and_then(Value::as_mapping) else {
        return Duration::ZERO;
    };
    services
        .values()
        .filter_map(|svc| {
            let hc = svc.get("healthcheck")?;
            if hc.get("disable").and_then(Value::as_bool) == Some(true) {
                return None;
            }
            let dur = |k: &str, d: u64| {
                hc.get(k)
                    .and_then(Value::as_str)
                    .and_then(parse_duration)
                    .unwrap_or(Duration::from_secs(d))
            };
            let retries = hc.get("retries").and_then(Value::as_u64).unwrap_or(3);
            Some(dur("start_period", 0) + dur("interval", 30) * retries as u32)
        })
        .max()
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_compose_writes_them() {
        assert_eq!(parse_duration("300s"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        for bad in ["", "10", "5x", "s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_budget_is_the_slowest_service() {
        let c = "services:\n  app:\n    healthcheck:\n      test: [CMD, x]\n      interval: 30s\n      retries: 5\n      start_period: 300s\n  db:\n    healthcheck:\n      test: [CMD, y]\n      interval: 10s\n  web:\n    image: z\n";
        assert_eq!(health_budget(c), Duration::from_secs(450));
        assert_eq!(
            health_budget("services:\n  a:\n    image: x\n"),
            Duration::ZERO
        );
        let defaults = "services:\n  a:\n    healthcheck: { test: [CMD, x] }\n";
        assert_eq!(health_budget(defaults), Duration::from_secs(90));
    }

    #[test]
    fn the_files_stack_needs_more_than_the_default_gate() {
        let compose = include_str!(
            "../../tests/snapshots/render__cabinet-durand__srv1__files__docker-compose.yml.snap"
        );
        let body = compose.splitn(3, "---\n").nth(2).unwrap();
        assert!(
            health_budget(body) > Duration::from_secs(180),
            "{:?}",
            health_budget(body)
        );
    }
}

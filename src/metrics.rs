//! What `/metrics` reports, in the Prometheus text format: requests and their latency by
//! method, route pattern and status (never by tenant: one series per route, not per
//! organization), the database pool, the outbox and the caches. Every label takes values from
//! a set the server fixes, never from what a client sends: a method outside the standard ones is
//! `OTHER`, a path no route matches is `unmatched`, a status is one the server answered with.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::cache::Caches;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// One (method, route, status) series.
#[derive(Default)]
struct Series {
    /// Requests per bucket (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The request counters of one application.
#[derive(Default)]
pub struct Metrics {
    /// Method -> route -> status -> series: nested, so that counting a request of a series seen
    /// before looks it up by `&str` and allocates nothing.
    series: Mutex<BTreeMap<String, Routes>>,
}

/// Route -> status -> series, of one method.
type Routes = BTreeMap<String, BTreeMap<u16, Series>>;

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// What the rest of the text reads at scrape time.
pub struct Gauges {
    /// Connections of the pool, in use and idle.
    pub pool: (u32, usize),
    /// Unsent outbox rows; `None` when the database did not answer.
    pub outbox_backlog: Option<u64>,
    /// Messages this process sent and failed to send since it started.
    pub outbox_sent: u64,
    /// See `outbox_sent`.
    pub outbox_failed: u64,
    /// Webhook deliveries waiting and the age in seconds of the oldest; `None` when the
    /// database did not answer.
    pub webhook_queue: Option<(u64, f64)>,
    /// Webhook attempts this process made: succeeded, failed to be retried, failed for good.
    pub webhook_attempts: (u64, u64, u64),
}

/// The `method` label of a request: the standard methods by name, every other one `OTHER`
/// (a client may send any token as a method; each would be a series of its own).
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "OTHER",
    }
}

/// The `status` label: the status, or 0 outside 100..=599 (the server never answers one; kept
/// bounded all the same).
fn status_label(status: u16) -> u16 {
    if (100..=599).contains(&status) {
        status
    } else {
        0
    }
}

impl Metrics {
    /// Counts one answered request. `route` is the matched pattern (`/o/{slug}/people/`), or
    /// `unmatched`: never the path itself, whose ids and slugs would make a series each. The
    /// method is counted under [`method_label`].
    pub fn record(&self, method: &str, route: &str, status: u16, latency: Duration) {
        let method = method_label(method);
        let status = status_label(status);
        let seconds = latency.as_secs_f64();
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let routes = match series.get_mut(method) {
            Some(routes) => routes,
            None => series.entry(method.to_string()).or_default(),
        };
        let statuses = match routes.get_mut(route) {
            Some(statuses) => statuses,
            None => routes.entry(route.to_string()).or_default(),
        };
        let entry = statuses.entry(status).or_default();
        entry.count += 1;
        entry.sum += seconds;
        if let Some(i) = BUCKETS.iter().position(|&le| seconds <= le) {
            entry.buckets[i] += 1;
        }
    }

    /// The text `/metrics` answers.
    pub fn render(&self, caches: &Caches, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP orgs_http_requests_total Requests answered, by method, route pattern and status.\n# TYPE orgs_http_requests_total counter\n");
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        // Every series, by method, route and status.
        let all = || {
            series.iter().flat_map(|(method, routes)| {
                routes.iter().flat_map(move |(route, statuses)| {
                    statuses
                        .iter()
                        .map(move |(status, s)| (method, route, status, s))
                })
            })
        };
        for (method, route, status, s) in all() {
            let _ = writeln!(
                out,
                "orgs_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP orgs_http_request_duration_seconds Time to answer, by method, route pattern and status.\n# TYPE orgs_http_request_duration_seconds histogram\n");
        for (method, route, status, s) in all() {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "orgs_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "orgs_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\norgs_http_request_duration_seconds_sum{{{labels}}} {}\norgs_http_request_duration_seconds_count{{{labels}}} {}",
                s.count, s.sum, s.count
            );
        }
        drop(series);
        let (in_use, idle) = gauges.pool;
        let _ = write!(
            out,
            "# HELP orgs_db_connections Connections of the database pool.\n# TYPE orgs_db_connections gauge\norgs_db_connections{{state=\"in_use\"}} {in_use}\norgs_db_connections{{state=\"idle\"}} {idle}\n"
        );
        if let Some(backlog) = gauges.outbox_backlog {
            let _ = write!(
                out,
                "# HELP orgs_outbox_backlog Messages waiting in the outbox.\n# TYPE orgs_outbox_backlog gauge\norgs_outbox_backlog {backlog}\n"
            );
        }
        let _ = write!(
            out,
            "# HELP orgs_outbox_sent_total Messages this process handed to the mail server.\n# TYPE orgs_outbox_sent_total counter\norgs_outbox_sent_total {}\n# HELP orgs_outbox_failed_total Sends that failed (and will be retried).\n# TYPE orgs_outbox_failed_total counter\norgs_outbox_failed_total {}\n",
            gauges.outbox_sent, gauges.outbox_failed
        );
        if let Some((depth, age)) = gauges.webhook_queue {
            let _ = write!(
                out,
                "# HELP orgs_webhook_queue_depth Webhook deliveries waiting (due or to be retried).\n# TYPE orgs_webhook_queue_depth gauge\norgs_webhook_queue_depth {depth}\n# HELP orgs_webhook_oldest_undelivered_seconds Age of the oldest waiting webhook delivery.\n# TYPE orgs_webhook_oldest_undelivered_seconds gauge\norgs_webhook_oldest_undelivered_seconds {age}\n"
            );
        }
        let (succeeded, retrying, failed) = gauges.webhook_attempts;
        let _ = write!(
            out,
            "# HELP orgs_webhook_deliveries_total Webhook attempts this process made, by result.\n# TYPE orgs_webhook_deliveries_total counter\norgs_webhook_deliveries_total{{result=\"succeeded\"}} {succeeded}\norgs_webhook_deliveries_total{{result=\"retrying\"}} {retrying}\norgs_webhook_deliveries_total{{result=\"failed\"}} {failed}\n"
        );
        let _ = write!(
            out,
            "# HELP orgs_cache_lookups_total Cached lookups, answered from memory (hit) or the database (miss).\n# TYPE orgs_cache_lookups_total counter\norgs_cache_lookups_total{{result=\"hit\"}} {}\norgs_cache_lookups_total{{result=\"miss\"}} {}\n# HELP orgs_cache_enabled Whether the caches are on (off while the channel to the other instances is down).\n# TYPE orgs_cache_enabled gauge\norgs_cache_enabled {}\n",
            caches.hits.load(Ordering::Relaxed),
            caches.misses.load(Ordering::Relaxed),
            u8::from(caches.enabled())
        );
        out
    }
}

/// The pool's connections in use and idle.
pub fn pool(db: &DatabaseConnection) -> (u32, usize) {
    let (size, idle) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    (
        size.saturating_sub(u32::try_from(idle).unwrap_or(u32::MAX)),
        idle,
    )
}

/// A label value with `\`, `"` and new lines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_lands_in_its_bucket_and_every_bucket_above() {
        let metrics = Metrics::default();
        metrics.record("GET", "/o/{slug}/people/", 200, Duration::from_millis(3));
        metrics.record("GET", "/o/{slug}/people/", 200, Duration::from_millis(30));
        let text = metrics.render(
            &Caches::new(Duration::from_secs(1), 10),
            &Gauges {
                pool: (1, 2),
                outbox_backlog: Some(4),
                outbox_sent: 5,
                outbox_failed: 6,
                webhook_queue: Some((7, 1.5)),
                webhook_attempts: (8, 9, 10),
            },
        );
        let labels = r#"method="GET",route="/o/{slug}/people/",status="200""#;
        for line in [
            format!("orgs_http_requests_total{{{labels}}} 2"),
            format!("orgs_http_request_duration_seconds_bucket{{{labels},le=\"0.0025\"}} 0"),
            format!("orgs_http_request_duration_seconds_bucket{{{labels},le=\"0.005\"}} 1"),
            format!("orgs_http_request_duration_seconds_bucket{{{labels},le=\"0.05\"}} 2"),
            format!("orgs_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 2"),
            format!("orgs_http_request_duration_seconds_count{{{labels}}} 2"),
            "orgs_db_connections{state=\"in_use\"} 1".into(),
            "orgs_outbox_backlog 4".into(),
            "orgs_outbox_failed_total 6".into(),
            "orgs_cache_enabled 1".into(),
            "orgs_webhook_queue_depth 7".into(),
            "orgs_webhook_oldest_undelivered_seconds 1.5".into(),
            r#"orgs_webhook_deliveries_total{result="failed"} 10"#.into(),
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }

    #[test]
    fn a_method_outside_the_standard_ones_is_counted_as_other() {
        let metrics = Metrics::default();
        for method in ["GET", "M000001", "get", "PROPFIND", "BREW"] {
            metrics.record(method, "unmatched", 404, Duration::from_millis(1));
        }
        let text = metrics.render(
            &Caches::new(Duration::from_secs(1), 10),
            &Gauges {
                pool: (0, 0),
                outbox_backlog: None,
                outbox_sent: 0,
                outbox_failed: 0,
                webhook_queue: None,
                webhook_attempts: (0, 0, 0),
            },
        );
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("orgs_http_requests_total{"))
            .collect();
        assert_eq!(
            series,
            [
                r#"orgs_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
                r#"orgs_http_requests_total{method="OTHER",route="unmatched",status="404"} 4"#,
            ]
        );
    }
}

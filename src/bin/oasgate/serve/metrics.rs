//! Prometheus metrics: requests by operation, outcome and status; a latency histogram; open
//! connections and how often the connection cap was reached; reloads.
//!
//! The request path takes a read lock and bumps an atomic; the write lock is taken only the
//! first time a (operation, outcome, status) combination is seen.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::{Response, StatusCode};
use oasgate::Rejection;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What happened to a request, for the `outcome` label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Valid: forwarded (or 200 in forward-auth mode), with its operation.
    Accepted(Arc<str>),
    /// Answered with a problem; the operation when one matched.
    Rejected(Option<Arc<str>>),
    /// Report-only: would have been rejected, and was let through.
    WouldReject(Option<Arc<str>>),
    /// Not looked at: an unknown path passed through, or the served document.
    Unmatched,
    /// The client's fault, found past the layer: a request body that could not be read or
    /// stalled; the operation when one matched.
    ClientError(Option<Arc<str>>),
}

impl Outcome {
    /// The outcome of a response that carries none of its own: a problem from the layer.
    pub fn from_rejection<B>(response: &Response<B>) -> Self {
        match response.extensions().get::<Rejection>() {
            Some(rejection) => Outcome::Rejected(rejection.operation.clone()),
            None => Outcome::Unmatched,
        }
    }

    /// The same request, found to be the client's fault.
    pub fn client_error(self) -> Self {
        match self {
            Outcome::Accepted(op) => Outcome::ClientError(Some(op)),
            Outcome::Rejected(op) | Outcome::WouldReject(op) | Outcome::ClientError(op) => {
                Outcome::ClientError(op)
            }
            Outcome::Unmatched => Outcome::ClientError(None),
        }
    }

    fn index(&self) -> usize {
        match self {
            Outcome::Accepted(_) => 0,
            Outcome::Rejected(_) => 1,
            Outcome::WouldReject(_) => 2,
            Outcome::Unmatched => 3,
            Outcome::ClientError(_) => 4,
        }
    }

    pub fn operation(&self) -> Option<&Arc<str>> {
        match self {
            Outcome::Accepted(op) => Some(op),
            Outcome::Rejected(op) | Outcome::WouldReject(op) | Outcome::ClientError(op) => {
                op.as_ref()
            }
            Outcome::Unmatched => None,
        }
    }
}

const OUTCOMES: [&str; 5] = [
    "accepted",
    "rejected",
    "would_reject",
    "unmatched",
    "client_error",
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Operation, outcome index, status.
type RequestKey = (Option<Arc<str>>, usize, u16);

/// Operation, status, violation code.
type ViolationKey = (String, u16, String);

/// What response validation found, counted from its observer.
#[derive(Default)]
pub struct ResponseCounts {
    violations: RwLock<HashMap<ViolationKey, AtomicU64>>,
    /// Bodies too long to check, by operation.
    unchecked: RwLock<HashMap<String, AtomicU64>>,
}

impl ResponseCounts {
    /// Counts one report: each violation by its code, or a body passed unchecked.
    pub fn observe(&self, report: &oasgate::response::ResponseReport<'_>) {
        if report.body_skipped {
            bump(&self.unchecked, report.operation.to_owned());
        }
        for violation in report.violations {
            let key = (
                report.operation.to_owned(),
                report.status.as_u16(),
                violation.code.as_str().to_owned(),
            );
            bump(&self.violations, key);
        }
    }
}

/// Adds one to the counter of `key`, taking the write lock only for a new key.
fn bump<K: std::hash::Hash + Eq>(map: &RwLock<HashMap<K, AtomicU64>>, key: K) {
    let counted = map
        .read()
        .ok()
        .and_then(|m| m.get(&key).map(|n| n.fetch_add(1, Ordering::Relaxed)))
        .is_some();
    if !counted && let Ok(mut m) = map.write() {
        m.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
    }
}

/// Every counter `oasgate serve` exposes.
#[derive(Default)]
pub struct Metrics {
    requests: RwLock<HashMap<RequestKey, AtomicU64>>,
    /// Shared with the layer's response observer, across reloads.
    pub responses: Arc<ResponseCounts>,
    latency: [Histogram; OUTCOMES.len()],
    reloads: [AtomicU64; 2],
    open_connections: AtomicU64,
    cap_reached: AtomicU64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, outcome: &Outcome, status: StatusCode, elapsed: Duration) {
        let key = (
            outcome.operation().cloned(),
            outcome.index(),
            status.as_u16(),
        );
        let counted = self
            .requests
            .read()
            .ok()
            .and_then(|map| map.get(&key).map(|n| n.fetch_add(1, Ordering::Relaxed)))
            .is_some();
        if !counted && let Ok(mut map) = self.requests.write() {
            map.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
        }
        let histogram = &self.latency[outcome.index()];
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&le| seconds <= le) {
            histogram.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        histogram.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// A client connection was accepted.
    pub fn connection_opened(&self) {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A client connection ended.
    pub fn connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// `max_connections` was reached: the next connection waits for a slot.
    pub fn cap_reached(&self) {
        self.cap_reached.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one reload attempt.
    pub fn reloaded(&self, ok: bool) {
        self.reloads[usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4); `worker_threads` is how many threads
    /// serve connections.
    pub fn render(&self, worker_threads: usize) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP oasgate_requests_total Requests answered, by operation, outcome and status.\n",
        );
        out.push_str("# TYPE oasgate_requests_total counter\n");
        let mut rows: Vec<(String, &str, u16, u64)> = self
            .requests
            .read()
            .map(|map| {
                map.iter()
                    .map(|((op, outcome, status), n)| {
                        (
                            escape(op.as_deref().unwrap_or("")),
                            OUTCOMES[*outcome],
                            *status,
                            n.load(Ordering::Relaxed),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        rows.sort();
        for (operation, outcome, status, n) in rows {
            let _ = writeln!(
                out,
                "oasgate_requests_total{{operation=\"{operation}\",outcome=\"{outcome}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP oasgate_request_duration_seconds Time from the request to the response head, by outcome.\n");
        out.push_str("# TYPE oasgate_request_duration_seconds histogram\n");
        for (outcome, histogram) in OUTCOMES.iter().zip(&self.latency) {
            let count = histogram.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (le, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "oasgate_request_duration_seconds_bucket{{outcome=\"{outcome}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let sum = histogram.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "oasgate_request_duration_seconds_bucket{{outcome=\"{outcome}\",le=\"+Inf\"}} {count}\n\
                 oasgate_request_duration_seconds_sum{{outcome=\"{outcome}\"}} {sum}\n\
                 oasgate_request_duration_seconds_count{{outcome=\"{outcome}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP oasgate_open_connections Client connections open now.\n\
             # TYPE oasgate_open_connections gauge\n\
             oasgate_open_connections {}\n\
             # HELP oasgate_connection_cap_reached_total Times max_connections was reached and new connections waited.\n\
             # TYPE oasgate_connection_cap_reached_total counter\n\
             oasgate_connection_cap_reached_total {}",
            self.open_connections.load(Ordering::Relaxed),
            self.cap_reached.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP oasgate_worker_threads Threads that serve connections (server.workers).\n\
             # TYPE oasgate_worker_threads gauge\n\
             oasgate_worker_threads {worker_threads}"
        );
        out.push_str(
            "# HELP oasgate_reloads_total Reloads (SIGHUP or a watched file changing), by result.\n",
        );
        out.push_str("# TYPE oasgate_reloads_total counter\n");
        for (result, n) in ["ok", "failed"].iter().zip(&self.reloads) {
            let _ = writeln!(
                out,
                "oasgate_reloads_total{{result=\"{result}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        self.render_responses(&mut out);
        out
    }

    fn render_responses(&self, out: &mut String) {
        out.push_str("# HELP oasgate_response_violations_total Violations found in upstream responses (response validation), by operation, status and code.\n");
        out.push_str("# TYPE oasgate_response_violations_total counter\n");
        let mut rows: Vec<(String, u16, String, u64)> = self
            .responses
            .violations
            .read()
            .map(|map| {
                map.iter()
                    .map(|((op, status, code), n)| {
                        (escape(op), *status, escape(code), n.load(Ordering::Relaxed))
                    })
                    .collect()
            })
            .unwrap_or_default();
        rows.sort();
        for (operation, status, code, n) in rows {
            let _ = writeln!(
                out,
                "oasgate_response_violations_total{{operation=\"{operation}\",status=\"{status}\",code=\"{code}\"}} {n}"
            );
        }
        out.push_str("# HELP oasgate_response_bodies_unchecked_total Upstream response bodies longer than response_validation_max_body, passed on unchecked, by operation.\n");
        out.push_str("# TYPE oasgate_response_bodies_unchecked_total counter\n");
        let mut rows: Vec<(String, u64)> = self
            .responses
            .unchecked
            .read()
            .map(|map| {
                map.iter()
                    .map(|(op, n)| (escape(op), n.load(Ordering::Relaxed)))
                    .collect()
            })
            .unwrap_or_default();
        rows.sort();
        for (operation, n) in rows {
            let _ = writeln!(
                out,
                "oasgate_response_bodies_unchecked_total{{operation=\"{operation}\"}} {n}"
            );
        }
    }
}

/// A label value with `\`, `"` and newlines escaped.
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
    fn renders_counts_and_buckets() {
        let metrics = Metrics::default();
        let op: Arc<str> = Arc::from("find\"Pets");
        let ms = Duration::from_millis;
        metrics.record(&Outcome::Accepted(op.clone()), StatusCode::OK, ms(2));
        metrics.record(&Outcome::Accepted(op.clone()), StatusCode::OK, ms(30));
        metrics.record(&Outcome::Rejected(Some(op)), StatusCode::BAD_REQUEST, ms(0));
        metrics.record(&Outcome::Rejected(None), StatusCode::NOT_FOUND, ms(0));
        metrics.record(
            &Outcome::ClientError(Some(Arc::from("upload"))),
            StatusCode::BAD_REQUEST,
            ms(1),
        );
        metrics.reloaded(false);
        let text = metrics.render(3);
        for line in [
            "oasgate_requests_total{operation=\"find\\\"Pets\",outcome=\"accepted\",status=\"200\"} 2",
            "oasgate_requests_total{operation=\"find\\\"Pets\",outcome=\"rejected\",status=\"400\"} 1",
            "oasgate_requests_total{operation=\"\",outcome=\"rejected\",status=\"404\"} 1",
            "oasgate_request_duration_seconds_bucket{outcome=\"accepted\",le=\"0.0025\"} 1",
            "oasgate_request_duration_seconds_bucket{outcome=\"accepted\",le=\"0.05\"} 2",
            "oasgate_request_duration_seconds_bucket{outcome=\"accepted\",le=\"+Inf\"} 2",
            "oasgate_request_duration_seconds_count{outcome=\"rejected\"} 2",
            "oasgate_reloads_total{result=\"failed\"} 1",
            "oasgate_requests_total{operation=\"upload\",outcome=\"client_error\",status=\"400\"} 1",
            "oasgate_request_duration_seconds_count{outcome=\"client_error\"} 1",
            "oasgate_worker_threads 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        assert!(!text.contains("outcome=\"would_reject\",le"));
    }
}

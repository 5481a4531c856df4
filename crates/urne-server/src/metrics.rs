//! Counters and gauges in the Prometheus text format.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The service's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    pub(crate) accepted: AtomicU64,
    pub(crate) shed: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) rejected: Mutex<BTreeMap<&'static str, u64>>,
    pub(crate) responses: Mutex<BTreeMap<(String, u16), u64>>,
}

impl Metrics {
    pub(crate) fn rejection(&self, code: &'static str) {
        *self
            .rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(code)
            .or_default() += 1;
    }

    pub(crate) fn response(&self, route: &str, status: u16) {
        *self
            .responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route.to_owned(), status))
            .or_default() += 1;
    }

    pub(crate) fn render(&self, log_size: u64, checkpoint_size: u64) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP urne_log_size Entries in the board's log.\n# TYPE urne_log_size gauge\n",
        );
        out.push_str(&format!("urne_log_size {log_size}\n"));
        out.push_str("# HELP urne_checkpoint_size Tree size of the latest signed checkpoint.\n# TYPE urne_checkpoint_size gauge\n");
        out.push_str(&format!("urne_checkpoint_size {checkpoint_size}\n"));
        out.push_str("# HELP urne_records_accepted_total Records accepted.\n# TYPE urne_records_accepted_total counter\n");
        out.push_str(&format!(
            "urne_records_accepted_total {}\n",
            self.accepted.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP urne_records_rejected_total Records rejected, by code.\n# TYPE urne_records_rejected_total counter\n");
        for (code, n) in self
            .rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            out.push_str(&format!(
                "urne_records_rejected_total{{code=\"{code}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP urne_requests_shed_total Requests refused because the server was at its concurrency limit.\n# TYPE urne_requests_shed_total counter\n");
        out.push_str(&format!(
            "urne_requests_shed_total {}\n",
            self.shed.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP urne_requests_rate_limited_total Requests refused by the per-client rate limit.\n# TYPE urne_requests_rate_limited_total counter\n");
        out.push_str(&format!(
            "urne_requests_rate_limited_total {}\n",
            self.rate_limited.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP urne_http_responses_total Responses, by route and status.\n# TYPE urne_http_responses_total counter\n");
        for ((route, status), n) in self
            .responses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            out.push_str(&format!(
                "urne_http_responses_total{{route=\"{route}\",status=\"{status}\"}} {n}\n"
            ));
        }
        out
    }
}

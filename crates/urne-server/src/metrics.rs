//! The service's metrics, exposed in the OpenMetrics text format by `prometheus-client`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabel {
    class: &'static str,
}

/// The service's counters and gauges.
pub(crate) struct Metrics {
    registry: Registry,
    accepted: Counter,
    rejected: Family<CodeLabel, Counter>,
    shed: Family<ClassLabel, Counter>,
    limited: Family<CodeLabel, Counter>,
    responses: Family<RouteLabels, Counter>,
    publications: Counter,
    log_size: Gauge,
    checkpoint_size: Gauge,
    /// Times an anonymous election's snapshot answer was encoded (spec/61 §61.2).
    pub(crate) snapshot_encodings: Counter,
    /// Bytes of snapshot answers kept encoded (bounded by `max_snapshot_cache_bytes`).
    pub(crate) snapshot_cache_bytes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let accepted = Counter::default();
        let rejected = Family::<CodeLabel, Counter>::default();
        let shed = Family::<ClassLabel, Counter>::default();
        let limited = Family::<CodeLabel, Counter>::default();
        let responses = Family::<RouteLabels, Counter>::default();
        let publications = Counter::default();
        let log_size = Gauge::default();
        let checkpoint_size = Gauge::default();
        let snapshot_encodings = Counter::default();
        let snapshot_cache_bytes = Gauge::default();
        registry.register(
            "urne_log_size",
            "Entries in the board's log",
            log_size.clone(),
        );
        registry.register(
            "urne_checkpoint_size",
            "Tree size of the latest signed checkpoint",
            checkpoint_size.clone(),
        );
        registry.register(
            "urne_records_accepted",
            "Records accepted",
            accepted.clone(),
        );
        registry.register(
            "urne_records_rejected",
            "Records rejected, by code",
            rejected.clone(),
        );
        registry.register(
            "urne_requests_shed",
            "Requests refused because a concurrency budget was spent, by budget",
            shed.clone(),
        );
        registry.register(
            "urne_requests_limited",
            "Requests refused by a per-client limit, by code",
            limited.clone(),
        );
        registry.register(
            "urne_http_responses",
            "Responses, by route template and status",
            responses.clone(),
        );
        registry.register(
            "urne_checkpoint_publications",
            "Times the served checkpoint and its per-quorum views were recomputed",
            publications.clone(),
        );
        registry.register(
            "urne_snapshot_encodings",
            "Times an anonymous election's snapshot answer was encoded",
            snapshot_encodings.clone(),
        );
        registry.register(
            "urne_snapshot_cache_bytes",
            "Bytes of snapshot answers kept encoded",
            snapshot_cache_bytes.clone(),
        );
        Self {
            registry,
            accepted,
            rejected,
            shed,
            limited,
            responses,
            publications,
            log_size,
            checkpoint_size,
            snapshot_encodings,
            snapshot_cache_bytes,
        }
    }
}

impl Metrics {
    pub(crate) fn accepted(&self) {
        self.accepted.inc();
    }

    pub(crate) fn rejection(&self, code: &'static str) {
        self.rejected.get_or_create(&CodeLabel { code }).inc();
    }

    pub(crate) fn shed(&self, class: &'static str) {
        self.shed.get_or_create(&ClassLabel { class }).inc();
    }

    pub(crate) fn limited(&self, code: &'static str) {
        self.limited.get_or_create(&CodeLabel { code }).inc();
    }

    pub(crate) fn response(&self, route: &'static str, status: u16) {
        self.responses
            .get_or_create(&RouteLabels { route, status })
            .inc();
    }

    pub(crate) fn published(&self) {
        self.publications.inc();
    }

    pub(crate) fn render(&self, log_size: u64, checkpoint_size: u64) -> String {
        self.log_size
            .set(i64::try_from(log_size).unwrap_or(i64::MAX));
        self.checkpoint_size
            .set(i64::try_from(checkpoint_size).unwrap_or(i64::MAX));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

//! The route table and the request pipeline around it (spec/13-http.md): who the
//! client is, its rate and in-flight limits, the concurrency budget of the route's
//! class, the per-request timeout, metrics and one log line per request.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, Version, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{BoxError, Router};
use tower::ServiceBuilder;
use tower::timeout::TimeoutLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::checkpoints::{checkpoint, cosignatures, cosigned_checkpoint, signer_loop};
use crate::errors::{error, method_not_allowed, not_found, retry_later};
use crate::limits::{Admitted, ClientKey, InFlightGuard, RouteClass, client_address};
use crate::proofs::{consistency, inclusion};
use crate::reads::{
    EntryBundle, board_info, contexts, entries, health, metrics, openapi, record_by_hash, tile,
};
use crate::state::{AppState, off_runtime};
use crate::submission::submit;

/// Every route template, so metrics and logs label requests without allocating.
const ROUTES: [&str; 14] = [
    "/checkpoint",
    "/tile/{*rest}",
    "/v1/records",
    "/v1/records/{hash}",
    "/v1/entries",
    "/v1/checkpoint",
    "/v1/cosignatures",
    "/v1/proof/inclusion",
    "/v1/proof/consistency",
    "/v1/contexts",
    "/v1/board",
    "/healthz",
    "/metrics",
    "/openapi.json",
];

/// The request's route template; "unmatched" for unknown paths.
fn route_of<B>(request: &axum::http::Request<B>) -> &'static str {
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    ROUTES
        .iter()
        .chain(&crate::public::ROUTES)
        .find(|r| **r == matched)
        .copied()
        .unwrap_or("unmatched")
}

/// Per-client limits and class budgets, then the route; then metrics.
async fn pipeline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = route_of(&request);
    let class = RouteClass::of(request.method(), route, request.uri().path());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let client = ClientKey::of(client_address(
        peer,
        request.headers(),
        &state.config.trusted_proxies,
    ));
    let response = match admit(&state, class, client) {
        Err(refusal) => refusal,
        Ok((in_flight, admitted)) => {
            let response = next.run(request).await;
            if class == RouteClass::Heavy {
                // A heavy body is produced while it is sent: keep its budget until then.
                let deadline = state.config.send_timeout;
                response.map(|body| Body::new(Holding::new(body, (in_flight, admitted), deadline)))
            } else {
                response
            }
        }
    };
    state.metrics.response(route, response.status().as_u16());
    response
}

fn admit(
    state: &AppState,
    class: RouteClass,
    client: ClientKey,
) -> Result<(InFlightGuard, Admitted), Response> {
    if !state.rates.allow(class, client) {
        state.metrics.limited("rate-limited");
        return Err(retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "too many requests from this client; retry",
            "1",
        ));
    }
    let Some(in_flight) = state.in_flight.enter(client) else {
        state.metrics.limited("too-many-in-flight");
        return Err(retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-in-flight",
            &format!(
                "this client already has {} requests in flight; retry when one has finished",
                state.config.max_in_flight_per_client
            ),
            "1",
        ));
    };
    let Some(admitted) = state.budgets.admit(class) else {
        let name = match class {
            RouteClass::Read => "read",
            RouteClass::Write => "write",
            RouteClass::Heavy => "heavy",
        };
        state.metrics.shed(name);
        return Err(retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            &format!("too many {name} requests in flight; retry"),
            "1",
        ));
    };
    Ok((in_flight, admitted))
}

/// A body that keeps `T` (permits) until it is fully sent, dropped, or `deadline` has
/// passed — whichever comes first: a client that stops reading must not keep a heavy
/// budget slot (hyper has no write timeout, and a stalled socket never polls the body).
struct Holding<T: Send + 'static> {
    body: Body,
    held: Arc<Mutex<Option<T>>>,
    release: tokio::task::JoinHandle<()>,
}

impl<T: Send + 'static> Holding<T> {
    fn new(body: Body, held: T, deadline: Duration) -> Self {
        let held = Arc::new(Mutex::new(Some(held)));
        let expiring = Arc::clone(&held);
        let release = tokio::spawn(async move {
            tokio::time::sleep(deadline).await;
            drop(expiring.lock().unwrap_or_else(|p| p.into_inner()).take());
        });
        Self {
            body,
            held,
            release,
        }
    }

    fn let_go(&self) {
        drop(self.held.lock().unwrap_or_else(|p| p.into_inner()).take());
        self.release.abort();
    }
}

impl<T: Send + 'static> Drop for Holding<T> {
    fn drop(&mut self) {
        self.let_go();
    }
}

impl<T: Send + 'static> http_body::Body for Holding<T> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.let_go();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

async fn on_timeout(method: Method, failure: BoxError) -> Response {
    if !failure.is::<tower::timeout::error::Elapsed>() {
        return crate::errors::internal(&failure.to_string());
    }
    let message = if method == Method::POST {
        "the request took too long; a submitted record may still have been stored: look it up by hash"
    } else {
        "the request took too long; retry"
    };
    error(StatusCode::GATEWAY_TIMEOUT, "timeout", message, None)
}

/// Entry bundles are gzipped when the client accepts gzip (tlog-tiles: bundles SHOULD be
/// compressed at the HTTP layer); nothing else on `/tile/...` is (see [`EntryBundle`]).
fn is_entry_bundle(status: StatusCode, _: Version, _: &HeaderMap, extensions: &Extensions) -> bool {
    status == StatusCode::OK && extensions.get::<EntryBundle>().is_some()
}

/// The status an answer of `/tile/...` had before the compression layer saw it.
#[derive(Clone, Copy)]
struct Served(StatusCode);

async fn remember_status<B>(mut response: axum::http::Response<B>) -> axum::http::Response<B> {
    let status = response.status();
    response.extensions_mut().insert(Served(status));
    response
}

/// tower-http answers 406, over the uncompressed body, a client whose `Accept-Encoding`
/// refuses both gzip and identity; RFC 9110 §12.1 lets a server disregard the header
/// instead, which keeps every error JSON and no 406 cached beside an immutable tile: the
/// answer goes out plain, with its own status.
async fn restore_status<B>(mut response: axum::http::Response<B>) -> axum::http::Response<B> {
    if response.status() == StatusCode::NOT_ACCEPTABLE
        && let Some(Served(status)) = response.extensions().get::<Served>().copied()
    {
        *response.status_mut() = status;
    }
    response
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    let timeout = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(on_timeout))
        .layer(TimeoutLayer::new(state.config.request_timeout));
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &axum::http::Request<Body>| {
            // Method and route template only: never the client's address or the query.
            tracing::info_span!("http", method = %request.method(), route = route_of(request))
        })
        .on_request(())
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Micros),
        );
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route(
            "/tile/{*rest}",
            get(tile).layer::<_, Infallible>(
                ServiceBuilder::new()
                    .layer(middleware::map_response(restore_status))
                    .layer(
                        // The fastest level: the compression runs on the async worker a
                        // step (up to 1 MiB) at a time, and most of the gain is there.
                        CompressionLayer::new()
                            .gzip(true)
                            .quality(tower_http::CompressionLevel::Fastest)
                            .compress_when(is_entry_bundle),
                    )
                    .layer(middleware::map_response(remember_status)),
            ),
        )
        .route("/v1/records", post(submit))
        .route("/v1/records/{hash}", get(record_by_hash))
        .route("/v1/entries", get(entries))
        .route("/v1/checkpoint", get(cosigned_checkpoint))
        .route("/v1/cosignatures", post(cosignatures))
        .route("/v1/proof/inclusion", get(inclusion))
        .route("/v1/proof/consistency", get(consistency))
        .route("/v1/contexts", get(contexts))
        .route("/v1/board", get(board_info))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(crate::public::routes())
        .route_layer(timeout)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), pipeline))
        .layer(trace)
        // Outermost, so that no answer escapes it: pages, JSON errors, axum's own
        // rejections, refusals of the limits, timeouts. A browser must never read a
        // tile, a record or an error as HTML or script (spec/13 §13.1).
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// How long to wait between sweeps of idle rate-limit entries.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

/// Serves until `shutdown` resolves, signing a checkpoint every
/// `checkpoint_interval` when entries were added. On shutdown, requests in flight
/// finish, a last checkpoint covers every durable entry, and the store is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let signer = tokio::spawn(signer_loop(state.clone()));
    let pushers = crate::push::spawn(
        &state.board,
        &state.config.push_witnesses,
        state.config.checkpoint_interval,
    );
    let rates = std::sync::Arc::clone(&state.rates);
    let sweeper = tokio::spawn(async move {
        loop {
            tokio::time::sleep(FORGET_IDLE_EVERY).await;
            rates.forget_idle();
        }
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    // Small answers on keep-alive connections must not wait for Nagle's delayed ACKs.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    signer.abort();
    sweeper.abort();
    let closing = state.clone();
    let _ = off_runtime(move || {
        pushers.stop();
        if let Err(e) = crate::checkpoints::sign_and_publish(&closing) {
            tracing::error!(event = "last-checkpoint-failed", error = %e);
        }
        closing.board.store().close();
    })
    .await;
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http_body_util::BodyExt;
    use tokio::sync::Semaphore;

    #[tokio::test]
    async fn a_heavy_budget_slot_is_released_at_the_deadline_even_if_the_body_is_never_read() {
        let budget = Arc::new(Semaphore::new(1));
        let permit = Arc::clone(&budget).try_acquire_owned().unwrap();
        let held = Holding::new(Body::new(Stalled), permit, Duration::from_millis(50));
        assert_eq!(budget.available_permits(), 0);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(budget.available_permits(), 1, "released by the deadline");
        drop(held);
        assert_eq!(budget.available_permits(), 1);
    }

    #[tokio::test]
    async fn a_heavy_budget_slot_is_released_when_the_body_ends() {
        let budget = Arc::new(Semaphore::new(1));
        let permit = Arc::clone(&budget).try_acquire_owned().unwrap();
        let mut held = Holding::new(Body::from("done"), permit, Duration::from_secs(600));
        assert_eq!(budget.available_permits(), 0);
        while let Some(frame) = held.frame().await {
            frame.unwrap();
        }
        assert_eq!(
            budget.available_permits(),
            1,
            "released at the end of the body"
        );
    }

    /// A route template with its parameters' names blanked: `/tile/{*rest}` and the
    /// OpenAPI document's `/tile/{path}` are one path.
    fn shape(template: &str) -> String {
        template
            .split('/')
            .map(|step| if step.starts_with('{') { "{}" } else { step })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Every path the OpenAPI document describes is one the service routes, and the
    /// snapshot route documents its conditional answer: `If-None-Match`, and a 304 with
    /// the tag as a 200 has it.
    #[test]
    fn the_openapi_paths_are_routes_and_the_snapshot_documents_its_304() {
        let api: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap();
        let routed: Vec<String> = ROUTES
            .iter()
            .chain(&crate::public::ROUTES)
            .map(|r| shape(r))
            .collect();
        let paths = api["paths"].as_object().unwrap();
        for path in paths.keys() {
            assert!(routed.contains(&shape(path)), "{path} is not routed");
        }
        let snapshot = &api["paths"]["/v1/public/elections/{id}/snapshot"]["get"];
        assert!(
            snapshot["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "If-None-Match" && p["in"] == "header"),
            "{snapshot}"
        );
        for status in ["200", "304"] {
            assert!(
                snapshot["responses"][status]["headers"]["ETag"].is_object(),
                "{status}: {snapshot}"
            );
        }
        assert!(snapshot["responses"]["304"].get("content").is_none());
        for status in ["400", "404", "409", "503"] {
            assert!(snapshot["responses"][status].is_object(), "{status}");
        }
    }

    /// A body whose next frame never comes: a peer that stopped reading.
    struct Stalled;

    impl http_body::Body for Stalled {
        type Data = axum::body::Bytes;
        type Error = axum::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            Poll::Pending
        }
    }
}

//! What the board's answers say about themselves (spec/13 §13.1, C2SP tlog-tiles): tiles
//! and entry bundles, full or partial, are immutable; entry bundles are gzipped for a
//! client that accepts gzip and unzip to the very bytes served plain; every answer, error
//! or not, carries `X-Content-Type-Options: nosniff`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt;
use tower::ServiceExt;
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_server::{AppState, ServerConfig, router};
use zeroize::Zeroizing;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn board(name: &str) -> Arc<Board> {
    let dir = std::env::temp_dir().join(format!("urne-headers-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    Arc::new(Board::open(&dir, config, Registry::standard()).unwrap().0)
}

fn open_record(name: &str) -> Vec<u8> {
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [0; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
    Record::sign(id, CONTEXT_OPEN, &body, &authority())
        .unwrap()
        .into_bytes()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn send(app: &axum::Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: body.to_vec(),
    }
}

async fn get(app: &axum::Router, uri: &str, accept_encoding: Option<&str>) -> Answer {
    let mut request = Request::builder().uri(uri);
    if let Some(encodings) = accept_encoding {
        request = request.header(header::ACCEPT_ENCODING, encodings);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

/// A board of 300 records: one full tile and bundle (0..256), a partial one of 44.
async fn board_of_300(name: &str) -> axum::Router {
    let app = router(AppState::new(board(name), ServerConfig::default()));
    for i in 0..300 {
        let request = Request::builder()
            .method("POST")
            .uri("/v1/records")
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(open_record(&format!("Context {i}"))))
            .unwrap();
        assert_eq!(send(&app, request).await.status, StatusCode::CREATED);
    }
    app
}

fn header(answer: &Answer, name: header::HeaderName) -> &str {
    answer
        .headers
        .get(&name)
        .map_or("", |v| v.to_str().unwrap())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn full_and_partial_tiles_and_bundles_are_immutable_and_the_checkpoint_is_not() {
    let app = board_of_300("cache").await;
    for path in [
        "/tile/0/000",
        "/tile/0/001.p/44",
        "/tile/1/000.p/1",
        "/tile/entries/000",
        "/tile/entries/001.p/44",
        "/tile/entries/001.p/1",
    ] {
        let answer = get(&app, path, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(header(&answer, header::CACHE_CONTROL), IMMUTABLE, "{path}");
        assert_eq!(
            header(&answer, header::CONTENT_TYPE),
            "application/octet-stream",
            "{path}"
        );
    }
    let checkpoint = get(&app, "/checkpoint", None).await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    assert_eq!(
        header(&checkpoint, header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        header(&checkpoint, header::CACHE_CONTROL),
        "no-cache, max-age=1"
    );
    // A tile past the log is an error, and an error is never cached as immutable.
    let missing = get(&app, "/tile/entries/001.p/45", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_ne!(header(&missing, header::CACHE_CONTROL), IMMUTABLE);
}

#[tokio::test]
async fn entry_bundles_are_gzipped_when_accepted_and_unzip_to_the_plain_bytes() {
    let app = board_of_300("gzip").await;
    for path in ["/tile/entries/000", "/tile/entries/001.p/44"] {
        let plain = get(&app, path, None).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert_eq!(header(&plain, header::CONTENT_ENCODING), "", "{path}");
        let identity = get(&app, path, Some("identity")).await;
        assert_eq!(header(&identity, header::CONTENT_ENCODING), "", "{path}");
        assert_eq!(identity.body, plain.body, "{path}");

        let zipped = get(&app, path, Some("gzip, identity")).await;
        assert_eq!(zipped.status, StatusCode::OK, "{path}");
        assert_eq!(header(&zipped, header::CONTENT_ENCODING), "gzip", "{path}");
        assert!(
            header(&zipped, header::VARY)
                .to_ascii_lowercase()
                .contains("accept-encoding"),
            "{path}: a cache must key the bundle on Accept-Encoding"
        );
        assert_eq!(header(&zipped, header::CACHE_CONTROL), IMMUTABLE, "{path}");
        assert!(
            zipped.body.len() < plain.body.len(),
            "{path}: {} gzipped bytes for {} plain",
            zipped.body.len(),
            plain.body.len()
        );
        assert_eq!(gunzip(&zipped.body), plain.body, "{path}");
    }
}

#[tokio::test]
async fn hash_tiles_are_never_gzipped_since_hashes_do_not_compress() {
    let app = board_of_300("tiles").await;
    for path in ["/tile/0/000", "/tile/0/001.p/44"] {
        let plain = get(&app, path, None).await;
        let asked = get(&app, path, Some("gzip")).await;
        assert_eq!(asked.status, StatusCode::OK, "{path}");
        assert_eq!(header(&asked, header::CONTENT_ENCODING), "", "{path}");
        assert_eq!(asked.body, plain.body, "{path}");
    }
    // An error on the tile route stays plain JSON too.
    let missing = get(&app, "/tile/entries/009", Some("gzip")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(header(&missing, header::CONTENT_ENCODING), "");
    let error: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(error["code"], "not-found");
}

#[tokio::test]
async fn every_answer_carries_nosniff_errors_and_rejections_included() {
    let app = board_of_300("nosniff").await;
    let mut requests: Vec<(&str, Request<Body>, StatusCode)> = Vec::new();
    let plain = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
    requests.push(("checkpoint", plain("/checkpoint"), StatusCode::OK));
    requests.push(("tile", plain("/tile/0/000"), StatusCode::OK));
    requests.push(("bundle", plain("/tile/entries/000"), StatusCode::OK));
    requests.push(("board", plain("/v1/board"), StatusCode::OK));
    requests.push(("metrics", plain("/metrics"), StatusCode::OK));
    requests.push(("unknown route", plain("/nowhere"), StatusCode::NOT_FOUND));
    requests.push((
        "query the extractor refuses",
        plain("/v1/entries?start=minus-one"),
        StatusCode::BAD_REQUEST,
    ));
    requests.push((
        "unknown query parameter",
        plain("/v1/proof/consistency?first=1&bogus=2"),
        StatusCode::BAD_REQUEST,
    ));
    requests.push((
        "bad hash in the path",
        plain("/v1/records/xyz"),
        StatusCode::BAD_REQUEST,
    ));
    requests.push((
        "wrong method",
        Request::builder()
            .method("DELETE")
            .uri("/checkpoint")
            .body(Body::empty())
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    ));
    requests.push((
        "body too large",
        Request::builder()
            .method("POST")
            .uri("/v1/records")
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(vec![0u8; 300_000]))
            .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    ));
    requests.push((
        "bad JSON submission",
        Request::builder()
            .method("POST")
            .uri("/v1/records")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{\"record\": 1"))
            .unwrap(),
        StatusCode::BAD_REQUEST,
    ));
    for (what, request, status) in requests {
        let answer = send(&app, request).await;
        assert_eq!(answer.status, status, "{what}");
        assert_eq!(
            header(&answer, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff",
            "{what}"
        );
    }

    // A refusal of the limits, made before any route runs.
    let limited = router(AppState::new(
        board("nosniff-limited"),
        ServerConfig {
            reads_per_second: 1,
            read_burst: 1,
            ..ServerConfig::default()
        },
    ));
    let mut refused = None;
    for _ in 0..3 {
        let answer = get(&limited, "/healthz", None).await;
        assert_eq!(header(&answer, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(answer);
        }
    }
    let refused = refused.expect("the third read in a second is over a burst of 1");
    assert_eq!(header(&refused, header::CONTENT_TYPE), "application/json");
}

#[tokio::test]
async fn a_client_refusing_both_gzip_and_identity_gets_the_plain_answer_not_406() {
    let app = board_of_300("refusing").await;
    for refusal in ["identity;q=0", "*;q=0", "br, identity;q=0"] {
        for path in ["/tile/0/000", "/tile/entries/000"] {
            let plain = get(&app, path, None).await;
            let answer = get(&app, path, Some(refusal)).await;
            assert_eq!(answer.status, StatusCode::OK, "{refusal} {path}");
            assert_eq!(
                header(&answer, header::CONTENT_ENCODING),
                "",
                "{refusal} {path}"
            );
            assert_eq!(answer.body, plain.body, "{refusal} {path}");
        }
        // An error keeps its own status and its JSON.
        let missing = get(&app, "/tile/entries/009", Some(refusal)).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{refusal}");
        assert_eq!(header(&missing, header::CONTENT_TYPE), "application/json");
    }
}

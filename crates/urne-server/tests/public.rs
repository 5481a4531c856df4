//! The booth's and the public pages' routes (spec/61): a bad id, key or tracking code is
//! refused naming the parameter, an unknown context is 404, an open election is listed
//! with its phase and counts, and every page carries the same-origin policy. The booth's
//! whole path (cast, audit, lookup, results) runs in a browser: crates/urne-cli/tests/
//! booth_browser.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_server::{AppState, ServerConfig, router};
use zeroize::Zeroizing;

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn app(name: &str) -> (axum::Router, Arc<Board>) {
    let dir = std::env::temp_dir().join(format!("urne-public-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    let board = Arc::new(Board::open(&dir, config, Registry::standard()).unwrap().0);
    (
        router(AppState::new(Arc::clone(&board), ServerConfig::default())),
        board,
    )
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

async fn get_json(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = get(app, uri).await;
    (status, serde_json::from_slice(&body).unwrap())
}

fn open_election(board: &Board, name: &str) -> ContextId {
    open(board, ContextType::ELECTION, name)
}

fn open(board: &Board, context_type: ContextType, name: &str) -> ContextId {
    let body = ContextOpen {
        context_type,
        nonce: [0; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
    let record = Record::sign(id, CONTEXT_OPEN, &body, &authority()).unwrap();
    board.submit(record.into_bytes()).unwrap();
    id
}

#[tokio::test]
async fn bad_ids_keys_and_tracking_codes_are_refused_naming_the_parameter() {
    let (app, board) = app("refused");
    let id = open_election(&board, "Refusals").to_hex();
    for (uri, status, code, field) in [
        (
            "/v1/public/elections/zz".to_owned(),
            400,
            "malformed",
            Some("id"),
        ),
        (
            format!("/v1/public/elections/{}", "ab".repeat(32)),
            404,
            "unknown-context",
            Some("id"),
        ),
        (
            format!("/v1/public/petitions/{id}"),
            404,
            "unknown-context",
            Some("id"),
        ),
        (
            format!("/v1/public/sittings/{id}"),
            404,
            "unknown-context",
            Some("id"),
        ),
        (
            format!("/v1/public/elections/{id}/credentials/xyz"),
            400,
            "malformed",
            Some("key"),
        ),
        // A point, but the list is not sealed before voting opens.
        (
            // The ristretto255 generator's encoding (RFC 9496 §A.1).
            format!(
                "/v1/public/elections/{id}/credentials/\
                 e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"
            ),
            409,
            "wrong-phase",
            Some("id"),
        ),
        (
            "/v1/public/lookup?code=not-a-code".to_owned(),
            400,
            "malformed",
            Some("code"),
        ),
        (
            "/v1/public/lookup".to_owned(),
            400,
            "malformed",
            Some("query"),
        ),
    ] {
        let (got, body) = get_json(&app, &uri).await;
        assert_eq!(got.as_u16(), status, "{uri}: {body}");
        assert_eq!(body["code"], code, "{uri}: {body}");
        assert_eq!(body["field"].as_str(), field, "{uri}: {body}");
    }
    // A well-formed code that no ballot has: found nowhere, not an error.
    let (status, body) =
        get_json(&app, &format!("/v1/public/lookup?code={}", "00".repeat(32))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!([]));
}

#[tokio::test]
async fn an_open_election_is_listed_with_its_phase_and_counts() {
    let (app, board) = app("listed");
    let id = open_election(&board, "Club board 2026");
    let (status, list) = get_json(&app, "/v1/public/contexts").await;
    assert_eq!(status, StatusCode::OK);
    let entry = &list.as_array().unwrap()[0];
    assert_eq!(entry["id"], id.to_hex());
    assert_eq!(entry["type"], "election");
    assert_eq!(entry["phase"], "setup");
    assert_eq!(
        entry["counts"],
        serde_json::json!({"ballots": 0, "audits": 0})
    );
    let (status, election) = get_json(&app, &format!("/v1/public/elections/{}", id.to_hex())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(election["name"], "Club board 2026");
    assert_eq!(election["phase"], "setup");
    // Nothing to vote on until the parameters are sealed, and no result.
    assert!(election["params"].is_null());
    assert!(election["context_hash"].is_null());
    assert!(election["result"].is_null());
    // A petition is listed with its own figures, and is no election.
    let petition = open(&board, ContextType::PETITION, "Bike lanes now");
    let (_, list) = get_json(&app, "/v1/public/contexts").await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == petition.to_hex())
        .unwrap();
    assert_eq!(listed["type"], "petition");
    assert_eq!(
        listed["counts"],
        serde_json::json!({"signatures": 0, "withdrawn": 0})
    );
    let (status, body) =
        get_json(&app, &format!("/v1/public/petitions/{}", petition.to_hex())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Bike lanes now");
    assert!(body["threshold"].is_null(), "no definition posted yet");
    let (status, _) = get_json(&app, &format!("/v1/public/elections/{}", petition.to_hex())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_carry_the_same_origin_policy_and_a_missing_bundle_names_its_build() {
    let (app, _) = app("pages");
    for (uri, kind) in [
        ("/booth/", "text/html"),
        ("/board/", "text/html"),
        ("/booth/booth.js", "text/javascript"),
        ("/booth/common.js", "text/javascript"),
        ("/booth/board.js", "text/javascript"),
        ("/booth/urne.css", "text/css"),
    ] {
        let (status, headers, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{uri}"
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.starts_with("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"),
            "{policy}"
        );
        let text = String::from_utf8(body).unwrap();
        // Nothing from another origin: no absolute URL to load a script, style or font from.
        assert!(
            !text.contains("src=\"http") && !text.contains("href=\"http"),
            "{uri}"
        );
    }
    let (status, _, _) = get(&app, "/booth/../Cargo.toml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get_json(&app, "/booth/secret.txt").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("path"))
    );
    if std::env::var_os("URNE_BOOTH_WASM").is_none() {
        // Next to the test binary (target/debug/deps/../booth) there is no bundle.
        let (status, body) = get_json(&app, "/booth/urne_booth.wasm").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("crates/urne-booth/build.sh"), "{message}");
        // Where the server looked stays in its log, not in a visitor's answer.
        assert!(!message.contains("target"), "{message}");
    }
}

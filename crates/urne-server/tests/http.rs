//! The HTTP service: each bad request gets its own clear error and changes nothing;
//! tiles, proofs and checkpoints verify on the client side; limits; graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt;
use tower::ServiceExt;
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Kind, Record, Registry};
use urne_log::note::{Note, NoteVerifier};
use urne_log::{Checkpoint, Hash, verify_consistency, verify_inclusion};
use urne_server::{AppState, ServerConfig, router};
use zeroize::Zeroizing;

/// Elections whose phases follow one another with no other condition (the standard
/// election also waits for its credential list before voting): these tests walk phases.
fn linear_registry() -> Registry {
    let mut registry = Registry::with_builtin();
    registry
        .register_context(std::sync::Arc::new(urne_board::LinearMachine::election()))
        .unwrap();
    registry
}

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn board(name: &str) -> Arc<Board> {
    let dir = std::env::temp_dir().join(format!("urne-server-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    Arc::new(Board::open(&dir, config, linear_registry()).unwrap().0)
}

fn open_record(name: &str) -> (ContextId, Vec<u8>) {
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [0; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
    (
        id,
        Record::sign(id, CONTEXT_OPEN, &body, &authority())
            .unwrap()
            .into_bytes(),
    )
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    call(app, "GET", uri, "text/plain", Vec::new()).await
}

async fn post(app: &axum::Router, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let (status, bytes) = call(app, "POST", "/v1/records", "application/octet-stream", body).await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn every_bad_submission_gets_its_own_error_and_changes_nothing() {
    let board = board("errors");
    let app = router(AppState::new(Arc::clone(&board), ServerConfig::default()));
    let (id, open) = open_record("HTTP election");
    let (status, receipt) = post(&app, open.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["index"], 0);

    let phase = |p: u8| {
        Record::sign(id, CONTEXT_PHASE, &[p], &authority())
            .unwrap()
            .into_bytes()
    };
    let mut forged = phase(1);
    let n = forged.len();
    forged[n - 1] ^= 1;
    let cases: Vec<(Vec<u8>, &str, &str, StatusCode)> = vec![
        (
            vec![0u8; 200_000],
            "application/octet-stream",
            "too-large",
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            b"{\"record\": 12".to_vec(),
            "application/json",
            "bad-json",
            StatusCode::BAD_REQUEST,
        ),
        (
            b"{\"record\": \"00\", \"extra\": 1}".to_vec(),
            "application/json",
            "bad-json",
            StatusCode::BAD_REQUEST,
        ),
        (
            b"{\"record\": \"ZZ\"}".to_vec(),
            "application/json",
            "bad-json",
            StatusCode::BAD_REQUEST,
        ),
        (
            // A valid record's bytes, but in uppercase hex: refused, not read.
            format!("{{\"record\": \"{}\"}}", hex::encode_upper(phase(1))).into_bytes(),
            "application/json",
            "bad-json",
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![1, 2, 3],
            "application/octet-stream",
            "malformed",
            StatusCode::BAD_REQUEST,
        ),
        (
            forged,
            "application/octet-stream",
            "bad-signature",
            StatusCode::FORBIDDEN,
        ),
        (
            Record::sign(id, Kind(0x4242), b"", &authority())
                .unwrap()
                .into_bytes(),
            "application/octet-stream",
            "unknown-kind",
            StatusCode::BAD_REQUEST,
        ),
        (
            phase(3),
            "application/octet-stream",
            "wrong-phase",
            StatusCode::CONFLICT,
        ),
        (
            Record::sign(ContextId([5; 32]), CONTEXT_PHASE, &[1], &authority())
                .unwrap()
                .into_bytes(),
            "application/octet-stream",
            "unknown-context",
            StatusCode::NOT_FOUND,
        ),
        (
            open.clone(),
            "application/octet-stream",
            "duplicate",
            StatusCode::CONFLICT,
        ),
        (
            Record::sign(id, CONTEXT_PHASE, &[1], &SigningKey::from_bytes(&[2; 32]))
                .unwrap()
                .into_bytes(),
            "application/octet-stream",
            "not-authorized",
            StatusCode::FORBIDDEN,
        ),
    ];
    for (body, content_type, code, expected_status) in cases {
        let (status, bytes) = call(&app, "POST", "/v1/records", content_type, body).await;
        let error: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(error["code"], code, "{error}");
        assert_eq!(status, expected_status, "{code}");
        assert!(!error["message"].as_str().unwrap().is_empty());
        assert_eq!(board.store().size(), 1, "{code} changed the log");
    }
    // Wrong phase: walk to published, then try to move again.
    for p in 1..=6u8 {
        let (status, _) = post(&app, phase(p)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let late = Record::sign(id, CONTEXT_PHASE, &[0], &authority())
        .unwrap()
        .into_bytes();
    let (status, error) = post(&app, late).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::CONFLICT, Some("wrong-phase"))
    );
    // The JSON form is accepted too.
    let (_, other) = open_record("JSON form");
    let body = format!(
        "{{\"record\": \"{}\"}}",
        other.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let (status, _) = call(
        &app,
        "POST",
        "/v1/records",
        "application/json",
        body.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, metrics) = get(&app, "/metrics").await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains("urne_records_rejected_total{code=\"duplicate\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("urne_records_accepted_total 8"),
        "{metrics}"
    );
}

#[tokio::test]
async fn checkpoints_tiles_and_proofs_verify_on_the_client_side() {
    let board = board("reads");
    let app = router(AppState::new(Arc::clone(&board), ServerConfig::default()));
    let mut hashes = Vec::new();
    for i in 0..300 {
        let (_, record) = open_record(&format!("Context {i}"));
        hashes.push(urne_log::leaf_hash(&record));
        assert_eq!(post(&app, record).await.0, StatusCode::CREATED);
    }
    let (status, note) = get(&app, "/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    let note = Note::parse(&note).unwrap();
    let verifier = NoteVerifier::from_vkey(&board.vkey()).unwrap();
    let checkpoint = Checkpoint::open(&note, &verifier).unwrap();
    assert_eq!(checkpoint.size(), 300);

    // Inclusion by hash, against the signed checkpoint.
    let (status, body) = get(
        &app,
        &format!("/v1/proof/inclusion?hash={}", hashes[123].to_hex()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let proof: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let path: Vec<Hash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    verify_inclusion(&hashes[123], 123, 300, &path, checkpoint.root()).unwrap();

    // Consistency from 100 to the checkpoint.
    let (_, body) = get(&app, "/v1/proof/consistency?first=100").await;
    let proof: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let path: Vec<Hash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    verify_consistency(
        100,
        300,
        &board.store().root(100).unwrap(),
        checkpoint.root(),
        &path,
    )
    .unwrap();

    // Tiles: a full level-0 tile, the partial one, the level-1 partial; entry bundles.
    let (status, tile) = get(&app, "/tile/0/000").await;
    assert_eq!((status, tile.len()), (StatusCode::OK, 256 * 32));
    assert_eq!(&tile[..32], &hashes[0].0);
    let (status, partial) = get(&app, "/tile/0/001.p/44").await;
    assert_eq!((status, partial.len()), (StatusCode::OK, 44 * 32));
    let (status, level1) = get(&app, "/tile/1/000.p/1").await;
    assert_eq!(
        (status, level1),
        (
            StatusCode::OK,
            urne_log::hash::root_of(&hashes[..256]).0.to_vec()
        )
    );
    let (status, bundle) = get(&app, "/tile/entries/001.p/44").await;
    assert_eq!(status, StatusCode::OK);
    let len = u16::from_be_bytes([bundle[0], bundle[1]]) as usize;
    assert_eq!(urne_log::leaf_hash(&bundle[2..2 + len]), hashes[256]);
    // The largest bundle index whose start still fits 64 bits: its end does not.
    let huge = urne_log::tiles::index_path(u64::MAX / 256);
    assert_eq!(
        get(&app, &format!("/tile/entries/{huge}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &format!("/tile/0/{huge}")).await.0,
        StatusCode::NOT_FOUND
    );
    for bad in [
        "/tile/0/002",
        "/tile/0/1",
        "/tile/00/000",
        "/tile/0/001.p/45",
    ] {
        assert_eq!(get(&app, bad).await.0, StatusCode::NOT_FOUND, "{bad}");
    }

    // Records by hash and by range; contexts; board; health; OpenAPI.
    let (status, record) = get(&app, &format!("/v1/records/{}", hashes[7].to_hex())).await;
    assert_eq!(
        (status, urne_log::leaf_hash(&record)),
        (StatusCode::OK, hashes[7])
    );
    assert_eq!(
        get(&app, &format!("/v1/records/{}", Hash([0; 32]).to_hex()))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, entries) = get(&app, "/v1/entries?start=10&limit=2").await;
    let entries: serde_json::Value = serde_json::from_slice(&entries).unwrap();
    assert_eq!(entries["entries"][1]["hash"], hashes[11].to_hex());
    assert_eq!(entries["next"], 12);
    assert_eq!(
        get(&app, "/v1/entries?start=0&limit=5000").await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, contexts) = get(&app, "/v1/contexts").await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&contexts)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        300
    );
    assert_eq!(get(&app, "/healthz").await.1, b"ok 300\n");
    let (_, api) = get(&app, "/openapi.json").await;
    let api: serde_json::Value = serde_json::from_slice(&api).unwrap();
    assert!(api["paths"]["/v1/records"]["post"].is_object());
}

/// A kind whose check waits for the test's gate, so that a record of it really waits in
/// the board's queue.
struct Gated(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

const GATED_KIND: Kind = Kind(0x7f31);

impl urne_board::KindHandler for Gated {
    fn kind(&self) -> Kind {
        GATED_KIND
    }
    fn name(&self) -> &'static str {
        "test.gated"
    }
    fn poster(&self) -> urne_board::Poster {
        urne_board::Poster::HandlerDecides
    }
    fn scope(&self) -> urne_board::Scope {
        urne_board::Scope::In {
            types: vec![],
            phases: None,
        }
    }
    fn sequencing(&self) -> urne_board::Sequencing {
        urne_board::Sequencing::Concurrent
    }
    fn check(
        &self,
        _: &Record,
        _: &urne_board::handler::Prechecked,
        _: Option<&urne_board::handler::ContextView<'_>>,
    ) -> Result<Vec<urne_board::UniqueKey>, urne_board::Rejection> {
        let (open, opened) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = opened.wait(open).unwrap();
        }
        Ok(Vec::new())
    }
    fn apply(
        &self,
        _: &Record,
        _: u64,
        _: &mut urne_board::handler::ContextMut<'_>,
    ) -> Result<(), urne_board::Rejection> {
        Ok(())
    }
}

#[tokio::test]
async fn a_submission_beyond_the_boards_queue_bound_gets_503_unavailable_with_retry_after() {
    let dir = std::env::temp_dir().join(format!("urne-server-{}-bound", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    config.max_queued_records = 1;
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let mut registry = linear_registry();
    registry
        .register(Arc::new(Gated(Arc::clone(&gate))))
        .unwrap();
    let board = Arc::new(Board::open(&dir, config, registry).unwrap().0);
    let (id, open) = open_record("Bounded");
    board.submit(open).unwrap();
    let waiting = {
        let board = Arc::clone(&board);
        let record = Record::sign(id, GATED_KIND, b"waits", &authority())
            .unwrap()
            .into_bytes();
        std::thread::spawn(move || board.submit(record))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while board.queued() < 1 {
        assert!(std::time::Instant::now() < deadline, "nothing waits");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let app = router(AppState::new(Arc::clone(&board), ServerConfig::default()));
    let request = Request::builder()
        .method("POST")
        .uri("/v1/records")
        .header("content-type", "application/octet-stream")
        .body(Body::from(open_record("Refused").1))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
    assert_eq!(board.store().size(), 1, "nothing more stored");
    {
        let (open, opened) = &*gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }
    assert_eq!(waiting.join().unwrap().unwrap().index, 1);
}

#[tokio::test]
async fn a_client_over_its_rate_is_told_to_retry() {
    let board = board("rate");
    let config = ServerConfig {
        writes_per_second: 1,
        write_burst: 2,
        ..ServerConfig::default()
    };
    let app = router(AppState::new(board, config));
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(post(&app, open_record(&format!("Rate {i}")).1).await.0);
    }
    assert_eq!(
        statuses,
        vec![
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

fn http(addr: std::net::SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status: u16 = String::from_utf8_lossy(&response[9..12]).parse().unwrap();
    (status, response[head_end + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_keeps_every_acknowledged_record_and_checkpoints_them() {
    let dir = std::env::temp_dir().join(format!("urne-server-{}-shutdown", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = || {
        BoardConfig::new(
            "test.example/board",
            Zeroizing::new([7; 32]),
            vec![authority().verifying_key().to_bytes()],
            vec![],
        )
    };
    let board = Arc::new(Board::open(&dir, config(), linear_registry()).unwrap().0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), ServerConfig::default()),
        async move {
            let _ = stopped.await;
        },
    ));
    let acknowledged = tokio::task::spawn_blocking(move || {
        let mut acked = 0;
        for i in 0..20 {
            let record = open_record(&format!("Shutdown {i}")).1;
            let mut request = format!(
                "POST /v1/records HTTP/1.1\r\nHost: board\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                record.len()
            )
            .into_bytes();
            request.extend_from_slice(&record);
            if http(addr, &request).0 == 201 {
                acked += 1;
            }
        }
        acked
    })
    .await
    .unwrap();
    assert_eq!(acknowledged, 20);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    drop(board);
    let (board, report) = Board::open(&dir, config(), linear_registry()).unwrap();
    assert_eq!(board.store().size(), 20);
    assert_eq!(
        report.checkpoint_size,
        Some(20),
        "the last checkpoint covers every acknowledged record"
    );
}

#[tokio::test]
async fn at_the_concurrency_limit_requests_are_shed_and_nothing_is_stored() {
    let board = board("shed");
    let config = ServerConfig {
        max_concurrent: 0,
        ..ServerConfig::default()
    };
    let app = router(AppState::new(Arc::clone(&board), config));
    let (status, error) = post(&app, open_record("Shed").1).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("overloaded"))
    );
    assert_eq!(board.store().size(), 0);
}

#[tokio::test]
async fn cosigned_checkpoints_are_published_once_per_change_not_per_get() {
    use urne_log::note::{Cosigner, count_cosignatures};
    let cosigners: Vec<Cosigner> = (0..2u8)
        .map(|i| Cosigner::from_seed(&format!("witness{i}.example"), &[30 + i; 32]).unwrap())
        .collect();
    let dir = std::env::temp_dir().join(format!("urne-server-{}-quorum", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        cosigners.iter().map(Cosigner::verifier).collect(),
    );
    let board = Arc::new(Board::open(&dir, config, Registry::standard()).unwrap().0);
    let verifiers = board.witnesses().to_vec();
    let app = router(AppState::new(Arc::clone(&board), ServerConfig::default()));
    assert_eq!(
        post(&app, open_record("Quorum").1).await.0,
        StatusCode::CREATED
    );
    let (_, note) = get(&app, "/checkpoint").await;
    let mut note = Note::parse(&note).unwrap();
    assert_eq!(
        get(&app, "/v1/checkpoint?quorum=1").await.0,
        StatusCode::NOT_FOUND
    );
    note.add_signature(cosigners[0].cosign(note.text(), 1_700_000_000));
    let (status, added) = call(
        &app,
        "POST",
        "/v1/cosignatures",
        "text/plain",
        note.to_text().into_bytes(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&added)
    );
    let publications = |metrics: &[u8]| -> String {
        String::from_utf8_lossy(metrics)
            .lines()
            .find(|l| l.starts_with("urne_checkpoint_publications_total"))
            .unwrap()
            .to_owned()
    };
    let before = publications(&get(&app, "/metrics").await.1);
    for _ in 0..50 {
        let (status, served) = get(&app, "/v1/checkpoint?quorum=1").await;
        assert_eq!(status, StatusCode::OK);
        let served = Note::parse(&served).unwrap();
        assert_eq!(count_cosignatures(&served, &verifiers), 1);
        let (_, latest) = get(&app, "/checkpoint").await;
        assert_eq!(
            count_cosignatures(&Note::parse(&latest).unwrap(), &verifiers),
            1,
            "the latest checkpoint is served with its cosignature"
        );
    }
    assert_eq!(
        before,
        publications(&get(&app, "/metrics").await.1),
        "GETs read the published snapshot; they do not recompute it"
    );
    assert_eq!(
        get(&app, "/v1/checkpoint?quorum=2").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/v1/checkpoint?quorum=3").await.0,
        StatusCode::NOT_FOUND,
        "more witnesses than the board knows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_shutdown_a_submission_waiting_at_the_bound_is_answered_and_gives_its_place_back() {
    let dir =
        std::env::temp_dir().join(format!("urne-server-{}-bound-shutdown", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    config.max_queued_records = 1;
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let mut registry = linear_registry();
    registry
        .register(Arc::new(Gated(Arc::clone(&gate))))
        .unwrap();
    let board = Arc::new(Board::open(&dir, config, registry).unwrap().0);
    let (id, open) = open_record("Bounded at shutdown");
    board.submit(open).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), ServerConfig::default()),
        async move {
            let _ = stopped.await;
        },
    ));
    let post = |record: Vec<u8>| {
        let mut request = format!(
            "POST /v1/records HTTP/1.1\r\nHost: board\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            record.len()
        )
        .into_bytes();
        request.extend_from_slice(&record);
        tokio::task::spawn_blocking(move || http(addr, &request).0)
    };
    let waiting = post(
        Record::sign(id, GATED_KIND, b"waits", &authority())
            .unwrap()
            .into_bytes(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while board.queued() < 1 {
        assert!(std::time::Instant::now() < deadline, "nothing waits");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    // At the bound: refused, told to come back.
    assert_eq!(post(open_record("Beside it").1).await.unwrap(), 503);
    // The server stops while the submission waits in the board; it is still answered.
    stop.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!server.is_finished(), "the server waits for the submission");
    {
        let (open, opened) = &*gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }
    assert_eq!(waiting.await.unwrap(), 201);
    server.await.unwrap().unwrap();
    assert_eq!(board.queued(), 0, "its place was given back");
    assert_eq!(board.store().size(), 2);
}

/// The error codes `/openapi.json` lists are exactly those of spec/13 §13.3's table, so a
/// code added to one is not forgotten in the other.
#[test]
fn the_openapi_error_codes_are_the_specs() {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/13-http.md"
    ))
    .unwrap();
    let table = spec
        .split("## 13.3 Errors")
        .nth(1)
        .and_then(|rest| rest.split("## 13.4").next())
        .unwrap();
    let mut in_spec: Vec<String> = table
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|line| line.split(" |").next())
        .flat_map(|cell| {
            cell.split(", ")
                .map(|code| code.trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let api: serde_json::Value = serde_json::from_str(include_str!("../src/openapi.json")).unwrap();
    let mut in_api: Vec<String> =
        api["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_string())
            .collect();
    in_spec.sort();
    in_api.sort();
    assert!(
        in_spec.len() > 20,
        "the spec's table was not read: {in_spec:?}"
    );
    assert_eq!(in_spec, in_api);
}

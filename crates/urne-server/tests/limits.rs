//! Limits over real sockets: one client cannot take the board from the others, bodies
//! are bounded in size and time, every error is JSON, timeouts and shutdown behave.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_server::{AppState, ServerConfig};
use zeroize::Zeroizing;

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn board(name: &str) -> Arc<Board> {
    let dir = std::env::temp_dir().join(format!("urne-limits-{}-{name}", std::process::id()));
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

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(board: Arc<Board>, config: ServerConfig) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(urne_server::serve(
        listener,
        AppState::new(board, config),
        async move {
            let _ = stopped.await;
        },
    ));
    Running {
        addr,
        stop: Some(stop),
        server,
    }
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.await.unwrap().unwrap();
    }
}

/// A connection from `source` (any 127/8 address works on Linux loopback).
async fn connect_from(source: &str, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads one response (status, headers lowercased, body) from a connection that the
/// server closes or that carries a Content-Length.
async fn read_response(stream: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            if head.contains("transfer-encoding: chunked") {
                let body = read_chunked(stream, buf[end + 4..].to_vec()).await;
                return (head[9..12].parse().unwrap(), head, body);
            }
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let status = head[9..12].parse().unwrap();
            return (status, head, buf[end + 4..end + 4 + length].to_vec());
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Decodes a chunked body whose first bytes are `buf`.
async fn read_chunked(stream: &mut TcpStream, mut buf: Vec<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(line_end) = buf.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&buf[..line_end])
                    .split(';')
                    .next()
                    .unwrap()
                    .trim(),
                16,
            )
            .unwrap();
            if size == 0 {
                return body;
            }
            if buf.len() >= line_end + 2 + size + 2 {
                body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
                buf.drain(..line_end + 2 + size + 2);
                continue;
            }
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-chunk");
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn get_from(source: &str, addr: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    let mut stream = connect_from(source, addr).await;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    (status, body)
}

fn code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)));
    v["code"].as_str().unwrap().to_owned()
}

fn upload_head(declared: usize) -> String {
    format!(
        "POST /v1/records HTTP/1.1\r\nHost: b\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_uploads_from_one_address_do_not_stop_reads_from_another() {
    let board = board("stalled");
    let record = open_record("Before the flood");
    board.submit(record).unwrap();
    board.sign_checkpoint().unwrap();
    let config = ServerConfig {
        max_concurrent: 200,
        max_concurrent_writes: 50,
        max_in_flight_per_client: 20,
        body_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        writes_per_second: 0,
        ..ServerConfig::default()
    };
    let running = start(Arc::clone(&board), config).await;
    // 300 uploads from one address, each declaring 100,000 bytes and sending 10:
    // more than the global budget, all within the write rate.
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut s = connect_from("127.0.0.2", running.addr).await;
        s.write_all(upload_head(100_000).as_bytes()).await.unwrap();
        s.write_all(&[0; 10]).await.unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A second flooding address also takes at most its cap.
    for _ in 0..100 {
        let mut s = connect_from("127.0.0.4", running.addr).await;
        s.write_all(upload_head(100_000).as_bytes()).await.unwrap();
        s.write_all(&[0; 10]).await.unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for path in [
        "/checkpoint",
        "/tile/0/000.p/1",
        "/healthz",
        "/v1/proof/inclusion?index=0",
    ] {
        let (status, body) = get_from("127.0.0.3", running.addr, path).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    }
    // And a write from another address still gets through.
    let mut writer = connect_from("127.0.0.3", running.addr).await;
    let record = open_record("During the flood");
    writer
        .write_all(upload_head(record.len()).as_bytes())
        .await
        .unwrap();
    writer.write_all(&record).await.unwrap();
    let (status, _, body) = read_response(&mut writer).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    // The flooder's surplus was told why; its admitted uploads are still waiting.
    let mut refused = 0;
    for s in stalled.iter_mut().take(300) {
        if let Ok((status, head, body)) =
            tokio::time::timeout(Duration::from_millis(250), read_response(s)).await
        {
            assert_eq!((status, code(&body).as_str()), (429, "too-many-in-flight"));
            assert!(head.contains("retry-after: 1"));
            refused += 1;
        }
    }
    assert_eq!(refused, 280);
    drop(stalled);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_above_the_limit_is_refused_at_once() {
    let board = board("declared");
    let config = ServerConfig {
        body_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        ..ServerConfig::default()
    };
    let limit = config.max_body_bytes;
    let running = start(Arc::clone(&board), config).await;
    let mut s = connect_from("127.0.0.1", running.addr).await;
    s.write_all(upload_head(limit + 1).as_bytes())
        .await
        .unwrap();
    s.write_all(&[0; 10]).await.unwrap();
    let started = Instant::now();
    let (status, _, body) = read_response(&mut s).await;
    assert_eq!((status, code(&body).as_str()), (413, "too-large"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered before any deadline"
    );
    assert_eq!(board.store().size(), 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_has_its_own_code_and_a_retry_hint() {
    let board = board("truncated");
    let running = start(Arc::clone(&board), ServerConfig::default()).await;
    let record = open_record("Cut short");
    let mut s = connect_from("127.0.0.1", running.addr).await;
    s.write_all(upload_head(record.len()).as_bytes())
        .await
        .unwrap();
    s.write_all(&record[..record.len() / 2]).await.unwrap();
    s.shutdown().await.unwrap();
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!((status, code(&body).as_str()), (400, "truncated"));
    assert!(head.contains("retry-after: 1"), "{head}");
    assert_eq!(board.store().size(), 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_at_the_body_deadline() {
    let board = board("slow-body");
    let config = ServerConfig {
        body_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let running = start(Arc::clone(&board), config).await;
    let mut s = connect_from("127.0.0.1", running.addr).await;
    s.write_all(upload_head(1000).as_bytes()).await.unwrap();
    s.write_all(&[0; 10]).await.unwrap();
    let (status, head, body) = read_response(&mut s).await;
    assert_eq!((status, code(&body).as_str()), (408, "body-timeout"));
    assert!(head.contains("retry-after"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_its_time_gets_a_json_timeout() {
    let board = board("timeout");
    let config = ServerConfig {
        request_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_secs(30),
        ..ServerConfig::default()
    };
    let running = start(Arc::clone(&board), config).await;
    let mut s = connect_from("127.0.0.1", running.addr).await;
    s.write_all(upload_head(1000).as_bytes()).await.unwrap();
    let started = Instant::now();
    let (status, _, body) = read_response(&mut s).await;
    assert_eq!((status, code(&body).as_str()), (504, "timeout"));
    assert!(started.elapsed() < Duration::from_secs(10));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_wrong_methods_and_bad_queries_are_json_errors() {
    let board = board("json-errors");
    let running = start(Arc::clone(&board), ServerConfig::default()).await;
    let cases = [
        ("GET", "/nope", 404, "not-found"),
        ("DELETE", "/v1/records", 405, "method-not-allowed"),
        ("POST", "/checkpoint", 405, "method-not-allowed"),
        ("GET", "/v1/entries?start=x", 400, "malformed"),
        ("GET", "/v1/entries", 400, "malformed"),
        ("GET", "/v1/checkpoint?quorum=-1", 400, "malformed"),
        (
            "GET",
            "/v1/proof/consistency?first=1&bogus=2",
            400,
            "malformed",
        ),
        ("GET", "/v1/records/%FF", 400, "malformed"),
    ];
    for (method, path, status, expected) in cases {
        let mut s = connect_from("127.0.0.1", running.addr).await;
        s.write_all(
            format!("{method} {path} HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let (got, head, body) = read_response(&mut s).await;
        assert_eq!(got, status, "{method} {path}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert_eq!(code(&body), expected, "{method} {path}");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_shutdown_completes() {
    let board = board("shutdown-in-flight");
    let config = ServerConfig {
        body_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        ..ServerConfig::default()
    };
    let mut running = start(Arc::clone(&board), config).await;
    let record = open_record("Sent across shutdown");
    let mut s = connect_from("127.0.0.1", running.addr).await;
    s.write_all(upload_head(record.len()).as_bytes())
        .await
        .unwrap();
    s.write_all(&record[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = running.stop.take().unwrap().send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!running.server.is_finished(), "the server waits for it");
    s.write_all(&record[10..]).await.unwrap();
    let (status, _, body) = read_response(&mut s).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    running.server.await.unwrap().unwrap();
    assert_eq!(board.store().size(), 1);
    assert_eq!(
        board.checkpoint_size(),
        Some(1),
        "the last checkpoint covers it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let send = |addr: SocketAddr, source: &'static str, forwarded_for: &'static str| async move {
        let mut s = connect_from(source, addr).await;
        s.write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: {forwarded_for}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        read_response(&mut s).await.0
    };
    let config = || ServerConfig {
        reads_per_second: 1,
        read_burst: 1,
        trusted_proxies: vec!["127.0.0.9".parse().unwrap()],
        ..ServerConfig::default()
    };
    let running = start(board("proxy"), config()).await;
    // Through the trusted proxy, each forwarded client has its own quota.
    assert_eq!(send(running.addr, "127.0.0.9", "198.51.100.1").await, 200);
    assert_eq!(send(running.addr, "127.0.0.9", "198.51.100.2").await, 200);
    assert_eq!(send(running.addr, "127.0.0.9", "198.51.100.1").await, 429);
    // A direct client cannot escape its quota by naming other addresses.
    assert_eq!(send(running.addr, "127.0.0.5", "198.51.100.3").await, 200);
    assert_eq!(send(running.addr, "127.0.0.5", "198.51.100.4").await, 429);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_pages_are_capped_by_bytes_and_walked_by_cursor() {
    let board = board("pages");
    let mut hashes = Vec::new();
    for i in 0..40 {
        let record = open_record(&format!("Paged context number {i}"));
        hashes.push(urne_log::leaf_hash(&record).to_hex());
        board.submit(record).unwrap();
    }
    let record_len = open_record("Paged context number 10").len();
    let config = ServerConfig {
        max_entries_bytes: record_len * 7,
        max_entries_per_request: 10,
        ..ServerConfig::default()
    };
    let running = start(Arc::clone(&board), config).await;
    let mut seen = Vec::new();
    let mut start = Some(0u64);
    while let Some(at) = start {
        let (status, body) = get_from(
            "127.0.0.1",
            running.addr,
            &format!("/v1/entries?start={at}"),
        )
        .await;
        assert_eq!(status, 200);
        let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let entries = page["entries"].as_array().unwrap();
        assert!(
            entries.len() <= 7,
            "a page holds at most max_entries_bytes of records"
        );
        for e in entries {
            assert_eq!(e["index"], seen.len());
            seen.push(e["hash"].as_str().unwrap().to_owned());
        }
        start = page["next"].as_u64();
    }
    assert_eq!(seen, hashes);
    let (status, body) = get_from("127.0.0.1", running.addr, "/v1/entries?start=41").await;
    assert_eq!((status, code(&body).as_str()), (404, "not-found"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_entry_bundle_is_the_stores_bundle() {
    let board = board("bundles");
    for i in 0..300 {
        board.submit(open_record(&format!("Bundled {i}"))).unwrap();
    }
    let running = start(Arc::clone(&board), ServerConfig::default()).await;
    for (path, index, width) in [
        ("/tile/entries/000", 0, 256),
        ("/tile/entries/001.p/44", 1, 44),
    ] {
        let (status, body) = get_from("127.0.0.1", running.addr, path).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            board.store().entry_bundle(index, width).unwrap(),
            "{path}"
        );
    }
    let (status, body) = get_from("127.0.0.1", running.addr, "/tile/entries/001.p/45").await;
    assert_eq!((status, code(&body).as_str()), (404, "not-found"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_routes_have_their_own_budget() {
    let board = board("heavy");
    board.submit(open_record("Heavy")).unwrap();
    let config = ServerConfig {
        max_concurrent_heavy: 0,
        ..ServerConfig::default()
    };
    let running = start(Arc::clone(&board), config).await;
    for path in [
        "/v1/entries?start=0",
        "/tile/entries/000.p/1",
        "/v1/contexts",
    ] {
        let (status, body) = get_from("127.0.0.1", running.addr, path).await;
        assert_eq!(
            (status, code(&body).as_str()),
            (503, "overloaded"),
            "{path}"
        );
    }
    for path in ["/checkpoint", "/tile/0/000.p/1", "/healthz", "/v1/board"] {
        assert_eq!(
            get_from("127.0.0.1", running.addr, path).await.0,
            200,
            "{path}"
        );
    }
    let (_, metrics) = get_from("127.0.0.1", running.addr, "/metrics").await;
    assert!(
        String::from_utf8_lossy(&metrics).contains("urne_requests_shed_total{class=\"heavy\"} 3"),
        "{}",
        String::from_utf8_lossy(&metrics)
    );
    running.stop().await;
}

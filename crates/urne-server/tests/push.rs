//! The board pushes its checkpoints to a C2SP tlog-witness (`add-checkpoint`, spec/14
//! §14.2) and keeps the cosignatures: end to end, against a real witness behind a
//! minimal HTTP server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_log::note::{Cosigner, NoteSigner};
use urne_server::{AppState, PushWitness, ServerConfig};
use urne_witness::Witness;
use zeroize::Zeroizing;

const ORIGIN: &str = "test.example/board";

fn open_record(authority: &SigningKey, name: &str) -> Vec<u8> {
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [0; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority.verifying_key().as_bytes(), &body);
    Record::sign(id, CONTEXT_OPEN, &body, authority)
        .unwrap()
        .into_bytes()
}

/// Serves `witness.add_checkpoint` on a loopback port, one request per connection.
fn serve_witness(witness: Arc<Witness>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let Ok(n) = stream.read(&mut chunk) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                request.extend_from_slice(&chunk[..n]);
                let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break Some(request[end + 4..end + 4 + length].to_vec());
                }
            };
            let Some(body) = body else { continue };
            let answer = witness.add_checkpoint(&body, urne_witness::unix_seconds());
            let _ = write!(
                stream,
                "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                answer.status,
                answer.content_type,
                answer.body.len(),
                answer.body
            );
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_pushes_each_new_checkpoint_to_its_witness_and_keeps_the_cosignature() {
    let dir = std::env::temp_dir().join(format!("urne-server-{}-push", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let authority = SigningKey::from_bytes(&[1; 32]);
    let cosigner = || Cosigner::from_seed("witness.example", &[8; 32]).unwrap();
    let board_key = NoteSigner::from_seed(ORIGIN, &[7; 32]).unwrap();
    let witness =
        Arc::new(Witness::new(board_key.verifier(), cosigner(), &dir.join("witness")).unwrap());
    let url = serve_witness(Arc::clone(&witness));

    let config = BoardConfig::new(
        ORIGIN,
        Zeroizing::new([7; 32]),
        vec![authority.verifying_key().to_bytes()],
        vec![cosigner().verifier()],
    );
    let board = Arc::new(
        Board::open(&dir.join("board"), config, Registry::standard())
            .unwrap()
            .0,
    );
    let server = ServerConfig {
        checkpoint_interval: Duration::from_millis(50),
        push_witnesses: vec![
            PushWitness::parse(&format!("{url}={}", cosigner().verifier().to_vkey())).unwrap(),
        ],
        ..ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), server),
        async move {
            let _ = stopped.await;
        },
    ));

    // Two rounds: the second push needs a consistency proof from the first size.
    for (round, name) in ["First", "Second"].into_iter().enumerate() {
        let submitted = Arc::clone(&board);
        let record = open_record(&authority, name);
        tokio::task::spawn_blocking(move || submitted.submit(record).unwrap())
            .await
            .unwrap();
        let size = round as u64 + 1;
        let started = Instant::now();
        loop {
            let cosigned = Arc::clone(&board);
            let text = tokio::task::spawn_blocking(move || cosigned.cosigned_checkpoint(1))
                .await
                .unwrap();
            if let Some(text) = text
                && text.contains(&format!("\n{size}\n"))
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no cosigned checkpoint of size {size}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            witness.last_cosigned().unwrap().map(|c| c.size()),
            Some(size),
            "the witness holds what it cosigned"
        );
    }
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

//! The client against a real board over loopback, and against canned answers for what a
//! real board never sends (a proxy's page, a lying receipt, a redirect, silence).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_client::{BoardClient, ClientError, ClientOptions};
use urne_log::note::{Cosigner, NoteVerifier};
use urne_log::tiles::TilePath;
use urne_log::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use urne_server::{AppState, ServerConfig};
use zeroize::Zeroizing;

fn record(name: &str) -> Vec<u8> {
    let authority = SigningKey::from_bytes(&[1; 32]);
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [0; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority.verifying_key().as_bytes(), &body);
    Record::sign(id, CONTEXT_OPEN, &body, &authority)
        .unwrap()
        .into_bytes()
}

/// A board on a loopback port, served from a runtime of its own; returns its URL and board.
fn serve_board(tag: &str) -> (String, Arc<Board>, tokio::runtime::Runtime) {
    let dir = std::env::temp_dir().join(format!("urne-client-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = BoardConfig::new(
        "client.example/board",
        Zeroizing::new([7; 32]),
        vec![SigningKey::from_bytes(&[1; 32]).verifying_key().to_bytes()],
        vec![
            Cosigner::from_seed("w.example", &[9; 32])
                .unwrap()
                .verifier(),
        ],
    );
    let board = Arc::new(Board::open(&dir, config, Registry::standard()).unwrap().0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), ServerConfig::default()),
        std::future::pending::<()>(),
    ));
    (url, board, runtime)
}

#[test]
fn a_record_posted_is_fetched_and_proven_through_the_client() {
    let (url, board, _runtime) = serve_board("roundtrip");
    let client = BoardClient::new(&url).unwrap();
    let bytes = record("Roundtrip");
    let receipt = client.post_record(&bytes).unwrap();
    assert_eq!(receipt.index, 0);
    assert_eq!(receipt.hash, leaf_hash(&bytes));
    assert_eq!(client.record(&receipt.hash).unwrap(), (0, bytes.clone()));
    client.post_record(&record("Second")).unwrap();
    board.sign_checkpoint().unwrap();

    let verifier = NoteVerifier::from_vkey(&board.vkey()).unwrap();
    let signed = client.checkpoint(&verifier, &[], 0).unwrap();
    assert_eq!(signed.checkpoint.size(), 2);
    let proof = client.inclusion_proof(&receipt.hash, 2).unwrap();
    verify_inclusion(
        &receipt.hash,
        proof.index,
        2,
        &proof.proof,
        signed.checkpoint.root(),
    )
    .unwrap();
    let consistency = client.consistency_proof(1, 2).unwrap();
    verify_consistency(
        1,
        2,
        &leaf_hash(&bytes),
        signed.checkpoint.root(),
        &consistency,
    )
    .unwrap();
    let entries = client.entries(0, 2).unwrap();
    assert_eq!(entries[0].record, bytes);
    let bundle = client
        .tile(&TilePath::Entries {
            index: 0,
            partial: Some(2),
        })
        .unwrap();
    assert!(!bundle.is_empty());
    assert_eq!(client.contexts().unwrap().len(), 2);
    assert_eq!(client.board_info().unwrap().vkey, board.vkey());
}

#[test]
fn the_boards_error_code_and_the_url_reach_the_caller() {
    let (url, _board, _runtime) = serve_board("codes");
    let client = BoardClient::new(&url).unwrap();
    let missing = Hash([5; 32]);
    let err = client.record(&missing).unwrap_err();
    match &err {
        ClientError::Board {
            status, code, url, ..
        } => {
            assert_eq!(*status, 404);
            assert_eq!(code, "not-found");
            assert!(url.ends_with(&format!("/v1/records/{missing}")), "{url}");
        }
        other => panic!("expected the board's error, got {other:?}"),
    }
    assert_eq!(err.board_code(), Some("not-found"));
    let refused = client.post_record(b"not a record").unwrap_err();
    assert!(
        matches!(
            &refused,
            ClientError::Board {
                status: 400..=499,
                ..
            }
        ),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("/v1/records"), "{refused}");
}

#[test]
fn a_checkpoint_under_another_key_or_short_of_quorum_is_refused() {
    let (url, board, _runtime) = serve_board("keys");
    let client = BoardClient::new(&url).unwrap();
    board.sign_checkpoint().unwrap();
    let other = urne_log::note::NoteSigner::from_seed("client.example/board", &[8; 32])
        .unwrap()
        .verifier();
    assert!(matches!(
        client.checkpoint(&other, &[], 0),
        Err(ClientError::Checkpoint { .. })
    ));
    let verifier = NoteVerifier::from_vkey(&board.vkey()).unwrap();
    let witness = Cosigner::from_seed("w.example", &[9; 32])
        .unwrap()
        .verifier();
    // No witness has cosigned: the board has no checkpoint with a quorum of one.
    let err = client.checkpoint(&verifier, &[witness], 1).unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Board { status: 404, .. } | ClientError::Quorum { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn waiting_for_a_checkpoint_is_bounded_and_names_the_entry() {
    let (url, board, _runtime) = serve_board("wait");
    let client = BoardClient::new(&url).unwrap();
    board.sign_checkpoint().unwrap();
    let bytes = record("Fresh");
    let receipt = client.post_record(&bytes).unwrap();
    let verifier = NoteVerifier::from_vkey(&board.vkey()).unwrap();
    // An entry far beyond the log is never covered: the wait ends at its bound, with an
    // error naming the entry and the size last seen.
    let err = client
        .checkpoint_covering(
            &verifier,
            &[],
            0,
            &receipt.hash,
            1_000_000,
            Duration::from_millis(300),
        )
        .unwrap_err();
    match err {
        ClientError::NotYetCheckpointed { index, .. } => assert_eq!(index, 1_000_000),
        other => panic!("{other:?}"),
    }
    // A checkpoint signed while the client waits (here, or by the server's timer) ends it.
    let signer = Arc::clone(&board);
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        signer.sign_checkpoint().unwrap();
    });
    let signed = client
        .checkpoint_covering(
            &verifier,
            &[],
            0,
            &receipt.hash,
            receipt.index,
            Duration::from_secs(20),
        )
        .unwrap();
    handle.join().unwrap();
    assert!(signed.checkpoint.size() > receipt.index);
}

#[test]
fn waiting_with_a_quorum_lasts_until_a_witness_has_cosigned() {
    let (url, board, _runtime) = serve_board("quorum-wait");
    let client = BoardClient::new(&url).unwrap();
    let receipt = client.post_record(&record("Witnessed")).unwrap();
    board.sign_checkpoint().unwrap();
    let verifier = NoteVerifier::from_vkey(&board.vkey()).unwrap();
    let cosigner = Cosigner::from_seed("w.example", &[9; 32]).unwrap();
    let witnesses = [cosigner.verifier()];
    // No witness has cosigned anything yet: the board has no quorum checkpoint (404).
    // A witness cosigns a moment later; the client, waiting, gets the cosigned one.
    let board_for_witness = Arc::clone(&board);
    let witness = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let text = board_for_witness.checkpoint().unwrap();
        let mut note = urne_log::note::Note::parse(text.as_bytes()).unwrap();
        note.add_signature(cosigner.cosign(note.text(), 1_800_000_000));
        board_for_witness.add_cosignatures(&note.to_text()).unwrap();
    });
    let signed = client
        .checkpoint_covering(
            &verifier,
            &witnesses,
            1,
            &receipt.hash,
            receipt.index,
            Duration::from_secs(20),
        )
        .unwrap();
    witness.join().unwrap();
    assert_eq!(signed.cosigned, 1);
    assert!(signed.checkpoint.size() > receipt.index);
}

/// Serves one canned HTTP answer per connection, forever, on a loopback port.
fn canned(answer: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    url
}

#[test]
fn a_status_without_the_boards_json_is_reported_with_an_excerpt() {
    let url = canned(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nproxy error",
    );
    let err = BoardClient::new(&url)
        .unwrap()
        .checkpoint_text()
        .unwrap_err();
    match err {
        ClientError::Status {
            status, excerpt, ..
        } => {
            assert_eq!(status, 502);
            assert_eq!(excerpt, "proxy error");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_redirect_is_not_followed() {
    let url = canned(
        "HTTP/1.1 302 Found\r\nlocation: http://example.invalid/checkpoint\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    );
    let err = BoardClient::new(&url)
        .unwrap()
        .checkpoint_text()
        .unwrap_err();
    assert!(
        matches!(err, ClientError::Status { status: 302, .. }),
        "{err:?}"
    );
}

#[test]
fn a_receipt_for_another_record_is_refused() {
    let body = format!(r#"{{"index":0,"hash":"{}"}}"#, "ab".repeat(32));
    let answer: &'static str = Box::leak(
        format!(
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    );
    let err = BoardClient::new(&canned(answer))
        .unwrap()
        .post_record(&record("Mine"))
        .unwrap_err();
    assert!(matches!(err, ClientError::Malformed { .. }), "{err:?}");
}

#[test]
fn a_record_that_does_not_hash_to_what_was_asked_is_refused() {
    let url = canned(
        "HTTP/1.1 200 OK\r\nx-urne-index: 0\r\ncontent-length: 5\r\nconnection: close\r\n\r\nforge",
    );
    let err = BoardClient::new(&url)
        .unwrap()
        .record(&Hash([1; 32]))
        .unwrap_err();
    assert!(matches!(err, ClientError::Malformed { .. }), "{err:?}");
}

#[test]
fn a_silent_board_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts, reads, never answers (the connection is held open by the listener's backlog).
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let mut options = ClientOptions::default();
    options.timeout = Duration::from_millis(300);
    let err = BoardClient::with_options(&url, &options)
        .unwrap()
        .checkpoint_text()
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
}

#[test]
fn plain_http_is_refused_off_loopback_unless_allowed() {
    for url in [
        "http://board.example",
        "http://10.0.0.1:8400",
        "http://[2001:db8::1]:8400",
    ] {
        assert!(
            matches!(BoardClient::new(url), Err(ClientError::PlainHttp { .. })),
            "{url}"
        );
        assert!(
            BoardClient::with_options(url, &ClientOptions::allowing_plain_http(true)).is_ok(),
            "{url}"
        );
    }
    for url in [
        "http://127.0.0.1:8400",
        "http://127.1.2.3",
        "http://localhost:8400/",
        "http://[::1]:8400",
        "https://board.example",
        "https://board.example/prefix/",
    ] {
        assert!(BoardClient::new(url).is_ok(), "{url}");
    }
    for url in [
        "ftp://board.example",
        "board.example",
        "https://b.example/?x=1",
        "",
    ] {
        assert!(
            matches!(BoardClient::new(url), Err(ClientError::BadUrl { .. })),
            "{url}"
        );
    }
}

#[test]
fn an_https_url_is_spoken_over_tls() {
    // A plain HTTP server behind an https:// URL: the client must attempt a TLS
    // handshake (and fail it), never fall back to plain text or lack a TLS stack.
    let url = canned("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    let https = url.replace("http://", "https://");
    let err = BoardClient::new(&https)
        .unwrap()
        .checkpoint_text()
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
    // rustls's refusal of a non-TLS answer to its ClientHello.
    assert!(message.contains("received corrupt message"), "{message}");
}

//! The tlog-witness push, end to end over loopback: a board server pushes each new
//! checkpoint to a witness server (`urne_witness::serve`), which cosigns it; the board
//! keeps the cosignature and serves it. A second board with the same key and origin but
//! another history (a split view) is refused by the witness with the status
//! c2sp.org/tlog-witness prescribes, and the witness keeps the evidence.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, Record};
use urne_board::{ContextOpen, ContextType, Registry};
use urne_log::note::{Cosigner, Note, NoteVerifier, count_cosignatures};
use urne_log::witness_protocol::{SIZE_CONTENT_TYPE, encode_request, parse_size};
use urne_server::{AppState, PushWitness, ServerConfig};
use urne_witness::Witness;
use zeroize::Zeroizing;

fn cosigner() -> Cosigner {
    Cosigner::from_seed("witness.example/push", &[41; 32]).unwrap()
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-e2e-push-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open_board(tag: &str) -> (Arc<Board>, SigningKey) {
    let authority = SigningKey::from_bytes(&[1; 32]);
    let config = BoardConfig::new(
        "push.example/board",
        Zeroizing::new([8; 32]),
        vec![authority.verifying_key().to_bytes()],
        vec![cosigner().verifier()],
    );
    let board = Board::open(&scratch(tag), config, Registry::standard())
        .unwrap()
        .0;
    (Arc::new(board), authority)
}

fn open_context(board: &Board, authority: &SigningKey, name: &str) {
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [0; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority.verifying_key().as_bytes(), &body);
    board
        .submit(
            Record::sign(id, CONTEXT_OPEN, &body, authority)
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
}

/// Waits until the board's latest checkpoint has `size` leaves and the witness's
/// cosignature.
async fn wait_cosigned(board: &Board, size: u64) -> String {
    let started = Instant::now();
    loop {
        if let Some(text) = board.checkpoint() {
            let note = Note::parse(text.as_bytes()).unwrap();
            let cp = urne_log::Checkpoint::parse(note.text()).unwrap();
            if cp.size() == size && count_cosignatures(&note, &[cosigner().verifier()]) == 1 {
                return text;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the checkpoint of size {size} was never cosigned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_pushes_checkpoints_the_witness_cosigns_and_a_fork_is_refused() {
    let (board, authority) = open_board("honest");
    open_context(&board, &authority, "Referendum");
    let board_key = NoteVerifier::from_vkey(&board.vkey()).unwrap();

    // The witness, on loopback.
    let state = scratch("witness-state");
    let witness = Arc::new(Witness::new(board_key, cosigner(), &state).unwrap());
    let witness_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let witness_url = format!("http://{}", witness_listener.local_addr().unwrap());
    let (stop_witness, witness_stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(urne_witness::serve::serve(
        witness_listener,
        Arc::clone(&witness),
        async move {
            let _ = witness_stopped.await;
        },
    ));

    // The witness already cosigned size 1 (another board process pushed it before a
    // restart): the board's pusher, knowing nothing, sends old size 0, gets 409 with size 1
    // and retries from there.
    let first = board.sign_checkpoint().unwrap();
    let seeded = witness.add_checkpoint(encode_request(0, &[], &first).as_bytes(), 1);
    assert_eq!(seeded.status, 200, "{}", seeded.body);

    // The board, pushing to it.
    let config = ServerConfig {
        checkpoint_interval: Duration::from_millis(100),
        push_witnesses: vec![
            PushWitness::parse(&format!(
                "{witness_url}={}",
                cosigner().verifier().to_vkey()
            ))
            .unwrap(),
        ],
        ..ServerConfig::default()
    };
    let board_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop_board, board_stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(urne_server::serve(
        board_listener,
        AppState::new(Arc::clone(&board), config),
        async move {
            let _ = board_stopped.await;
        },
    ));

    // The first checkpoint gets the board's copy of a cosignature (after the 409), then a
    // later one (old size 1, with a consistency proof).
    wait_cosigned(&board, 1).await;
    open_context(&board, &authority, "Budget");
    open_context(&board, &authority, "Assembly");
    let cosigned = wait_cosigned(&board, 3).await;
    assert_eq!(witness.last_cosigned().unwrap().unwrap().size(), 3);
    let served_note = Note::parse(cosigned.as_bytes()).unwrap();
    cosigner().verifier().verify(&served_note).unwrap();

    // A split view: the same key and origin, another history of the same size.
    let (split, split_authority) = open_board("split");
    open_context(&split, &split_authority, "Referendum");
    open_context(&split, &split_authority, "Rigged");
    open_context(&split, &split_authority, "Assembly");
    let split_note = split.sign_checkpoint().unwrap();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{witness_url}/add-checkpoint");
    let (status, content_type, body) = tokio::task::spawn_blocking(move || {
        let mut r = agent
            .post(&url)
            .send(encode_request(3, &[], &split_note).as_bytes())
            .unwrap();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            r.status().as_u16(),
            content_type,
            r.body_mut().read_to_vec().unwrap(),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type.as_deref(), Some(SIZE_CONTENT_TYPE));
    assert_eq!(parse_size(&body).unwrap(), 3);
    assert!(
        std::fs::read_dir(&state).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("fork-evidence-")),
        "no evidence kept"
    );
    // The split board grows and proves consistency with its own history, not with the
    // one the witness cosigned: 422.
    open_context(&split, &split_authority, "More");
    let grown = split.sign_checkpoint().unwrap();
    let proof = split.store().consistency_proof(3, 4).unwrap();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{witness_url}/add-checkpoint");
    let status = tokio::task::spawn_blocking(move || {
        agent
            .post(&url)
            .send(encode_request(3, &proof, &grown).as_bytes())
            .unwrap()
            .status()
            .as_u16()
    })
    .await
    .unwrap();
    assert_eq!(status, 422);
    assert_eq!(witness.last_cosigned().unwrap().unwrap().size(), 3);

    let _ = stop_board.send(());
    served.await.unwrap().unwrap();
    let _ = stop_witness.send(());
}

//! A board that shows two histories cannot get both cosigned: two boards share one key
//! and origin but hold different records (a split view); two witnesses follow the first
//! over HTTP and cosign it; shown the second, each refuses and keeps evidence; a client
//! requiring both witnesses accepts only the first board's checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, ContextId, Record};
use urne_board::{ContextOpen, ContextType, Registry};
use urne_log::Hash;
use urne_log::note::{CosignatureVerifier, Cosigner, Note, count_cosignatures};
use urne_server::{AppState, ServerConfig};
use urne_witness::{BoardSource, Witness, WitnessError};
use zeroize::Zeroizing;

struct Http {
    base: String,
    agent: ureq::Agent,
}

impl Http {
    fn new(base: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self { base, agent }
    }
    fn get(&self, path: &str) -> Result<(u16, Vec<u8>), String> {
        let mut r = self
            .agent
            .get(&format!("{}{path}", self.base))
            .call()
            .map_err(|e| e.to_string())?;
        Ok((
            r.status().as_u16(),
            r.body_mut().read_to_vec().map_err(|e| e.to_string())?,
        ))
    }
}

impl BoardSource for Http {
    fn checkpoint(&mut self) -> Result<String, String> {
        let (_, body) = self.get("/checkpoint")?;
        String::from_utf8(body).map_err(|e| e.to_string())
    }
    fn consistency(&mut self, first: u64, second: u64) -> Result<Vec<Hash>, String> {
        let (_, body) = self.get(&format!(
            "/v1/proof/consistency?first={first}&second={second}"
        ))?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        v["proof"]
            .as_array()
            .ok_or("no proof")?
            .iter()
            .map(|h| {
                h.as_str()
                    .and_then(Hash::from_hex)
                    .ok_or_else(|| "bad hash".into())
            })
            .collect()
    }
    fn submit_cosignature(&mut self, note: &str) -> Result<(), String> {
        let mut r = self
            .agent
            .post(&format!("{}/v1/cosignatures", self.base))
            .header("content-type", "text/plain")
            .send(note.as_bytes())
            .map_err(|e| e.to_string())?;
        if r.status().as_u16() == 200 {
            Ok(())
        } else {
            Err(r.body_mut().read_to_string().unwrap_or_default())
        }
    }
}

fn cosigner(i: u8) -> Cosigner {
    Cosigner::from_seed(&format!("witness{i}.example"), &[30 + i; 32]).unwrap()
}

/// Starts a board (same key and origin every time) holding contexts named by `names`.
async fn board(
    tag: &str,
    names: &[&str],
) -> (String, Arc<Board>, tokio::sync::oneshot::Sender<()>) {
    let dir = std::env::temp_dir().join(format!("urne-e2e-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let authority = SigningKey::from_bytes(&[1; 32]);
    let config = BoardConfig::new(
        "split.example/board",
        Zeroizing::new([7; 32]),
        vec![authority.verifying_key().to_bytes()],
        (0..2).map(|i| cosigner(i).verifier()).collect(),
    );
    let board = Arc::new(Board::open(&dir, config, Registry::standard()).unwrap().0);
    for name in names {
        let body = ContextOpen {
            context_type: ContextType::ELECTION,
            nonce: [0; 16],
            name: (*name).into(),
            parameters: [0; 32],
        }
        .to_body()
        .unwrap();
        let id = ContextId::derive(authority.verifying_key().as_bytes(), &body);
        board
            .submit(
                Record::sign(id, CONTEXT_OPEN, &body, &authority)
                    .unwrap()
                    .into_bytes(),
            )
            .unwrap();
    }
    board.sign_checkpoint().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(urne_server::serve(
        listener,
        AppState::new(Arc::clone(&board), ServerConfig::default()),
        async move {
            let _ = stopped.await;
        },
    ));
    (base, board, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_over_http_defeat_a_split_view() {
    let (honest_url, honest, _stop1) = board("honest", &["Referendum", "Budget"]).await;
    let (split_url, _split, _stop2) = board("split", &["Referendum", "Rigged"]).await;
    let verifiers: Vec<CosignatureVerifier> = (0..2).map(|i| cosigner(i).verifier()).collect();
    let board_key = urne_log::note::NoteVerifier::from_vkey(&honest.vkey()).unwrap();

    let result = tokio::task::spawn_blocking(move || {
        let states: Vec<_> = (0..2)
            .map(|i| {
                std::env::temp_dir().join(format!("urne-e2e-{}-witness{i}", std::process::id()))
            })
            .collect();
        for s in &states {
            let _ = std::fs::remove_dir_all(s);
        }
        let witnesses: Vec<Witness> = (0..2)
            .map(|i| Witness::new(board_key.clone(), cosigner(i as u8), &states[i]).unwrap())
            .collect();
        // Both witnesses follow the honest board and cosign its checkpoint over HTTP.
        for w in &witnesses {
            w.step(&mut Http::new(honest_url.clone())).unwrap();
        }
        let (_, quorum) = Http::new(honest_url.clone())
            .get("/v1/checkpoint?quorum=2")
            .unwrap();
        let note = Note::parse(&quorum).unwrap();
        assert_eq!(count_cosignatures(&note, &verifiers), 2);
        // The split view: same key, same size, another root. Every witness refuses.
        for w in &witnesses {
            match w.step(&mut Http::new(split_url.clone())) {
                Err(WitnessError::Fork { evidence, .. }) => assert!(evidence.exists()),
                other => panic!("a witness cosigned a split view: {other:?}"),
            }
        }
        // A client requiring both witnesses gets no quorum from the split board.
        let (status, _) = Http::new(split_url).get("/v1/checkpoint?quorum=2").unwrap();
        status
    })
    .await
    .unwrap();
    assert_eq!(
        result, 404,
        "the split board has no checkpoint cosigned by 2 witnesses"
    );
}

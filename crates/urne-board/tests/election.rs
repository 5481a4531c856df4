//! Elections on the board: the credential list posted in parts under one root, frozen
//! before voting opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use urne_board::election::{ELECTION_CREDENTIALS, ElectionState, phase};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{Board, BoardConfig, Code, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_credential::{Credential, CredentialList, ListedCredential};
use zeroize::Zeroizing;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-election-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn open(dir: &std::path::Path) -> Board {
    let config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    Board::open(dir, config, Registry::standard()).unwrap().0
}

fn post(
    board: &Board,
    id: ContextId,
    kind: urne_board::Kind,
    body: &[u8],
) -> Result<u64, urne_board::Rejection> {
    board
        .submit(
            Record::sign(id, kind, body, &authority())
                .unwrap()
                .into_bytes(),
        )
        .map(|r| r.index)
}

fn election(board: &Board) -> ContextId {
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [3; 16],
        name: "Conseil municipal".into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
    post(board, id, CONTEXT_OPEN, &body).unwrap();
    post(board, id, CONTEXT_PHASE, &[phase::CEREMONY]).unwrap();
    post(board, id, CONTEXT_PHASE, &[phase::REGISTRATION]).unwrap();
    id
}

fn list(n: usize) -> CredentialList {
    let mut rng = rand::rng();
    CredentialList::new(
        (0..n)
            .map(|_| ListedCredential {
                credential: Credential::generate(&mut rng).public(),
                weight: 1,
            })
            .collect(),
    )
    .unwrap()
}

#[test]
fn voting_opens_only_once_every_part_of_the_list_is_on_the_board() {
    let dir = scratch("list");
    let board = open(&dir);
    let id = election(&board);
    let l = list(4000);
    let parts = l.parts();
    assert_eq!(parts.len(), 3);
    // Out of order: refused, nothing stored.
    let size = board.store().size();
    let r = post(&board, id, ELECTION_CREDENTIALS, &parts[1].to_bytes()).unwrap_err();
    assert_eq!(r.code, Code::InvalidBody, "{r}");
    assert_eq!(board.store().size(), size);
    post(&board, id, ELECTION_CREDENTIALS, &parts[0].to_bytes()).unwrap();
    post(&board, id, ELECTION_CREDENTIALS, &parts[1].to_bytes()).unwrap();
    // Not complete: voting cannot open.
    let r = post(&board, id, CONTEXT_PHASE, &[phase::VOTING]).unwrap_err();
    assert_eq!(r.code, Code::InvalidBody);
    assert!(r.message.contains("credential list"), "{r}");
    // A last part whose entries do not hash to the root is refused.
    let mut forged = parts[2].clone();
    forged.entries[0].weight += 1;
    let r = post(&board, id, ELECTION_CREDENTIALS, &forged.to_bytes()).unwrap_err();
    assert!(r.message.contains("root"), "{r}");
    post(&board, id, ELECTION_CREDENTIALS, &parts[2].to_bytes()).unwrap();
    // A second list is refused.
    let second = list(10).parts();
    let r = post(&board, id, ELECTION_CREDENTIALS, &second[0].to_bytes()).unwrap_err();
    assert!(r.message.contains("second list"), "{r}");
    post(&board, id, CONTEXT_PHASE, &[phase::VOTING]).unwrap();
    // No list part once voting is open.
    let r = post(&board, id, ELECTION_CREDENTIALS, &second[0].to_bytes()).unwrap_err();
    assert_eq!(r.code, Code::WrongPhase);
    drop(board);
    // The list is rebuilt from the log.
    let board = open(&dir);
    assert_eq!(board.context(&id).unwrap().phase_name, "voting");
    let root = board
        .with_context_state(&id, |s: &ElectionState| {
            s.credential_list().map(|l| l.root())
        })
        .flatten();
    assert_eq!(root, Some(l.root()));
}

#[test]
fn a_malformed_part_names_its_field() {
    let board = open(&scratch("malformed"));
    let id = election(&board);
    let mut bytes = list(3).parts()[0].to_bytes();
    bytes.push(0);
    let r = post(&board, id, ELECTION_CREDENTIALS, &bytes).unwrap_err();
    assert_eq!(r.field.as_deref(), Some("body.entries"), "{r}");
}

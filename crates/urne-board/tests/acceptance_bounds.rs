//! Acceptance limits of the pipeline (spec/12 §12.5): the bound on waiting submissions,
//! and a second `context.open` for an existing context id refused as `context-exists`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256, Sha512};
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{Board, BoardConfig, Code, ContextId, ContextOpen, ContextType, Record, Registry};
use urne_record::RECORD_SIGNATURE_LABEL;
use zeroize::Zeroizing;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-bounds-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[21; 32])
}

fn config() -> BoardConfig {
    let mut config = BoardConfig::new(
        "test.example/board",
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    config.precheck_threads = 2;
    config
}

fn open_body(name: &str) -> Vec<u8> {
    ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [3; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap()
}

fn open_record(name: &str) -> (ContextId, Record) {
    let body = open_body(name);
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
    (
        id,
        Record::sign(id, CONTEXT_OPEN, &body, &authority()).unwrap(),
    )
}

/// The same record re-signed with another nonce: a valid `verify_strict` signature by the
/// same key over the same message, so other bytes with the same context id.
fn resigned(record: &Record) -> Vec<u8> {
    let bytes = record.bytes();
    let unsigned = &bytes[..bytes.len() - 64];
    let mut message = RECORD_SIGNATURE_LABEL.to_vec();
    message.extend_from_slice(&Sha256::digest(unsigned));
    let mut expanded = ExpandedSecretKey::from(&authority().to_bytes());
    expanded.hash_prefix = [0x5a; 32];
    let key: VerifyingKey = authority().verifying_key();
    let signature = raw_sign::<Sha512>(&expanded, &message, &key);
    key.verify_strict(&message, &signature)
        .expect("the second signature is valid");
    let mut out = unsigned.to_vec();
    out.extend_from_slice(&signature.to_bytes());
    out
}

#[test]
fn a_second_opening_of_an_existing_context_id_is_refused_context_exists() {
    let dir = scratch("exists");
    let (board, _) = Board::open(&dir, config(), Registry::standard()).unwrap();
    let (id, first) = open_record("Referendum");
    let second = resigned(&first);
    assert_ne!(second, first.bytes(), "other bytes: not a duplicate");
    assert_eq!(Record::parse(second.clone()).unwrap().context(), id);

    board.submit(first.bytes().to_vec()).unwrap();
    let refused = board.submit(second).unwrap_err();
    assert_eq!(refused.code, Code::ContextExists, "{refused}");
    assert!(refused.message.contains(&id.to_hex()), "{refused}");
    assert_eq!(board.store().size(), 1, "nothing stored");
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_opening_sent_again_is_a_duplicate_not_a_second_context() {
    let dir = scratch("duplicate");
    let (board, _) = Board::open(&dir, config(), Registry::standard()).unwrap();
    let (_, first) = open_record("Budget");
    board.submit(first.bytes().to_vec()).unwrap();
    let refused = board.submit(first.bytes().to_vec()).unwrap_err();
    assert_eq!(refused.code, Code::Duplicate, "{refused}");
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn submissions_beyond_the_queue_bound_are_refused_unavailable_and_store_nothing() {
    let dir = scratch("bound");
    let mut config = config();
    config.max_queued_records = 0;
    let (board, _) = Board::open(&dir, config, Registry::standard()).unwrap();
    let (_, record) = open_record("Refused");
    let refused = board.submit(record.bytes().to_vec()).unwrap_err();
    assert_eq!(refused.code, Code::Unavailable, "{refused}");
    assert!(refused.message.contains("acceptance bound"), "{refused}");
    assert_eq!(board.store().size(), 0);
    assert_eq!(board.queued(), 0, "a refusal keeps no place");
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn answered_submissions_give_their_place_back() {
    let dir = scratch("release");
    let mut config = config();
    config.max_queued_records = 1;
    let (board, _) = Board::open(&dir, config, Registry::standard()).unwrap();
    // One at a time, each answered before the next: with a bound of one, a place that
    // was not given back would refuse the second.
    for i in 0..5 {
        let (_, record) = open_record(&format!("Election {i}"));
        board.submit(record.bytes().to_vec()).unwrap();
        assert_eq!(board.queued(), 0);
    }
    // Rejections give theirs back too.
    let refused = board.submit(vec![1, 2, 3]).unwrap_err();
    assert_eq!(refused.code, Code::Malformed);
    let (_, record) = open_record("After a rejection");
    board.submit(record.bytes().to_vec()).unwrap();
    assert_eq!(board.store().size(), 6);
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_board_config_sets_the_scrubs_pace() {
    let dir = scratch("scrub-pace");
    {
        let (board, _) = Board::open(&dir, config(), Registry::standard()).unwrap();
        for i in 0..5 {
            board
                .submit(open_record(&format!("Scrubbed {i}")).1.bytes().to_vec())
                .unwrap();
        }
    }
    let mut slow = config();
    slow.scrub_entries_per_second = 1;
    let (board, _) = Board::open(&dir, slow, Registry::standard()).unwrap();
    // Five entries at one per second: the pass is still waiting well after it started
    // (at the default pace it ends in milliseconds).
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = board.store().scrub_status();
    assert!(status.running && status.passes == 0, "{status:?}");
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

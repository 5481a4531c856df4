//! The board's acceptance rules, each rejection with its own code and no change to the
//! log; the kind API (precheck with batched proofs, ordered checks, barriers, unique
//! keys, apply after durability); state rebuilt from the log; checkpoints and
//! cosignatures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use urne_board::handler::{ContextMut, ContextView, Prechecked};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{
    Board, BoardConfig, Code, ContextId, ContextOpen, ContextType, Kind, KindHandler,
    LinearMachine, Poster, Record, Registry, Rejection, Scope, Sequencing, UniqueKey,
};
use urne_crypto::encoding::Point;
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::secret::SecretScalar;
use urne_crypto::transcript::{ContextHash, ProofContext};
use urne_log::note::{Cosigner, Note};
use zeroize::Zeroizing;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-board-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn second_authority() -> SigningKey {
    SigningKey::from_bytes(&[11; 32])
}

fn witness(i: u8) -> Cosigner {
    Cosigner::from_seed(&format!("witness{i}.example"), &[50 + i; 32]).unwrap()
}

const SETUP: u8 = 0;
const VOTING: u8 = 3;
const CLOSED: u8 = 4;
const PUBLISHED: u8 = 6;

/// A kind plugged in from outside, shaped like a ballot: accepted in the voting phase
/// of an election from anyone, concurrent, its body a key X and a Schnorr proof of
/// knowledge of x bound to the context and the signer; X is a unique key (one record
/// per X per context). Its state counts the records applied.
struct ProofKind;
const PROOF_KIND: Kind = Kind(0x7f01);

#[derive(Default)]
struct Tally {
    applied: Vec<u64>,
}

struct Election;
impl urne_board::ContextMachine for Election {
    fn context_type(&self) -> ContextType {
        ContextType::ELECTION
    }
    fn name(&self) -> &'static str {
        "election"
    }
    fn initial_phase(&self) -> u8 {
        0
    }
    fn phase_name(&self, phase: u8) -> Option<&'static str> {
        LinearMachine::election().phase_name(phase)
    }
    fn may_move(&self, from: u8, to: u8) -> bool {
        LinearMachine::election().may_move(from, to)
    }
    fn new_state(&self, _: &ContextOpen) -> Box<dyn std::any::Any + Send + Sync> {
        Box::new(Tally::default())
    }
}

fn proof_body(context: ContextId, signer: &SigningKey, x: u64) -> Vec<u8> {
    let x = SecretScalar::from_u64(x);
    let big_x = Point::from_ristretto(
        curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE * x.expose_secret(),
    );
    let hash = ContextHash(context.0);
    let binding = signer.verifying_key().to_bytes();
    let proof = SchnorrProof::prove(
        &ProofContext::new(&hash, &binding),
        &x,
        &big_x,
        &mut rand::rng(),
    )
    .unwrap();
    let mut body = big_x.to_bytes().to_vec();
    body.extend_from_slice(&proof.to_bytes());
    body
}

impl KindHandler for ProofKind {
    fn kind(&self) -> Kind {
        PROOF_KIND
    }
    fn name(&self) -> &'static str {
        "test.proof"
    }
    fn poster(&self) -> Poster {
        Poster::HandlerDecides
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: vec![ContextType::ELECTION],
            phases: Some(vec![VOTING]),
        }
    }
    fn sequencing(&self) -> Sequencing {
        Sequencing::Concurrent
    }
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        let body = record.body();
        if body.len() != 32 + SchnorrProof::LEN {
            return Err(Rejection::invalid_body("body", "X ‖ proof"));
        }
        let x = Point::decode_non_identity(&body[..32])
            .map_err(|e| Rejection::invalid_body("body.X", e.to_string()))?;
        let proof = SchnorrProof::decode(&body[32..])
            .map_err(|e| Rejection::invalid_body("body.proof", e.to_string()))?;
        let hash = ContextHash(record.context().0);
        let relations = proof
            .relations(&ProofContext::new(&hash, record.signer()), &x)
            .map_err(|e| Rejection::invalid_body("body.proof", e.to_string()))?;
        Ok(Prechecked {
            relations: Some(relations),
            proof_field: "body.proof",
            decoded: None,
            ring_signature: None,
        })
    }
    fn check(
        &self,
        record: &Record,
        _: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        assert!(context.is_some_and(|c| c.data::<Tally>().is_some()));
        Ok(self.unique_keys(record))
    }
    fn apply(&self, _: &Record, index: u64, context: &mut ContextMut<'_>) -> Result<(), Rejection> {
        context.data_mut::<Tally>().unwrap().applied.push(index);
        Ok(())
    }
    fn unique_keys(&self, record: &Record) -> Vec<UniqueKey> {
        vec![UniqueKey {
            space: "body.X",
            key: record.body()[..32].to_vec(),
        }]
    }
}

/// A concurrent kind with no unique keys and no body checks (a note); body "poison"
/// passes its check but fails to apply (a handler bug, to show the board stops).
struct NoteKind;
const NOTE_KIND: Kind = Kind(0x7f02);

impl KindHandler for NoteKind {
    fn kind(&self) -> Kind {
        NOTE_KIND
    }
    fn name(&self) -> &'static str {
        "test.note"
    }
    fn poster(&self) -> Poster {
        Poster::HandlerDecides
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: vec![],
            phases: None,
        }
    }
    fn sequencing(&self) -> Sequencing {
        Sequencing::Concurrent
    }
    fn check(
        &self,
        _: &Record,
        _: &Prechecked,
        _: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        Ok(Vec::new())
    }
    fn apply(&self, record: &Record, _: u64, _: &mut ContextMut<'_>) -> Result<(), Rejection> {
        if record.body() == b"poison" {
            return Err(Rejection::invalid_body("body", "poisoned"));
        }
        Ok(())
    }
}

/// How many proof records a `test.count` barrier saw applied when it was checked.
static SEEN_AT_COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(u64::MAX);

/// A barrier whose check reads state that concurrent records build (like a tally
/// reading the ballots): it records what it saw.
struct CountKind;
const COUNT_KIND: Kind = Kind(0x7f03);

impl KindHandler for CountKind {
    fn kind(&self) -> Kind {
        COUNT_KIND
    }
    fn name(&self) -> &'static str {
        "test.count"
    }
    fn poster(&self) -> Poster {
        Poster::ContextAuthority
    }
    fn scope(&self) -> Scope {
        Scope::In {
            types: vec![ContextType::ELECTION],
            phases: None,
        }
    }
    fn check(
        &self,
        _: &Record,
        _: &Prechecked,
        context: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        let applied = context
            .and_then(|c| c.data::<Tally>())
            .map_or(0, |t| t.applied.len());
        SEEN_AT_COUNT.store(applied as u64, std::sync::atomic::Ordering::SeqCst);
        Ok(Vec::new())
    }
    fn apply(&self, _: &Record, _: u64, _: &mut ContextMut<'_>) -> Result<(), Rejection> {
        Ok(())
    }
}

const PETITION_PHASES: &[&str] = &["draft", "open", "closed"];

fn registry() -> Registry {
    let mut r = Registry::with_builtin();
    r.register_context(Arc::new(Election)).unwrap();
    r.register_context(Arc::new(LinearMachine::new(
        ContextType::PETITION,
        "petition",
        PETITION_PHASES,
    )))
    .unwrap();
    r.register(Arc::new(NoteKind)).unwrap();
    r.register(Arc::new(CountKind)).unwrap();
    r.register(Arc::new(ProofKind)).unwrap();
    assert!(
        r.register(Arc::new(ProofKind)).is_err(),
        "a code is taken once"
    );
    assert!(r.register_context(Arc::new(Election)).is_err());
    r
}

fn config(seed: u8) -> BoardConfig {
    BoardConfig {
        origin: "test.example/board".into(),
        signing_seed: Zeroizing::new([seed; 32]),
        authorities: vec![
            authority().verifying_key().to_bytes(),
            second_authority().verifying_key().to_bytes(),
        ],
        witnesses: (0..3).map(|i| witness(i).verifier()).collect(),
        cosign_window: BoardConfig::DEFAULT_COSIGN_WINDOW,
        precheck_threads: 2,
        max_queued_records: BoardConfig::DEFAULT_MAX_QUEUED_RECORDS,
        max_queued_bytes: BoardConfig::DEFAULT_MAX_QUEUED_BYTES,
        scrub_entries_per_second: 0,
    }
}

fn open(dir: &std::path::Path) -> Board {
    Board::open(dir, config(7), registry()).unwrap().0
}

fn open_body(name: &str, nonce: u8) -> Vec<u8> {
    ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [nonce; 16],
        name: name.into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap()
}

fn open_context(board: &Board, name: &str) -> ContextId {
    let body = open_body(name, 0);
    let key = authority();
    let id = ContextId::derive(key.verifying_key().as_bytes(), &body);
    board
        .submit(
            Record::sign(id, CONTEXT_OPEN, &body, &key)
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
    id
}

fn phase(board: &Board, id: ContextId, to: u8, key: &SigningKey) -> Result<u64, Rejection> {
    board
        .submit(
            Record::sign(id, CONTEXT_PHASE, &[to], key)
                .unwrap()
                .into_bytes(),
        )
        .map(|r| r.index)
}

fn to_voting(board: &Board, id: ContextId) {
    for p in 1..=VOTING {
        phase(board, id, p, &authority()).unwrap();
    }
}

fn rejected(board: &Board, bytes: Vec<u8>, code: Code) -> Rejection {
    let before = board.store().size();
    let r = board.submit(bytes).unwrap_err();
    assert_eq!(r.code, code, "{r}");
    assert_eq!(
        board.store().size(),
        before,
        "a rejected record changed the log"
    );
    r
}

#[test]
fn contexts_open_and_move_through_their_phases_in_order() {
    let board = open(&scratch("phases"));
    let id = open_context(&board, "Municipal 2027");
    assert_eq!(board.contexts()[0].phase_name, "setup");
    assert_eq!(board.contexts()[0].context_type, "election");
    for p in 1..=PUBLISHED {
        phase(&board, id, p, &authority()).unwrap();
    }
    assert_eq!(board.contexts()[0].phase_name, "published");
    // Nothing moves a published context.
    let r = rejected(
        &board,
        Record::sign(id, CONTEXT_PHASE, &[PUBLISHED + 1], &authority())
            .unwrap()
            .into_bytes(),
        Code::InvalidBody,
    );
    assert!(r.message.contains("no phase 7"), "{r}");
    let r = rejected(
        &board,
        Record::sign(id, CONTEXT_PHASE, &[SETUP], &authority())
            .unwrap()
            .into_bytes(),
        Code::WrongPhase,
    );
    assert!(
        r.message.contains("published and cannot move to setup"),
        "{r}"
    );
}

#[test]
fn every_kind_of_bad_record_gets_its_own_rejection_and_changes_nothing() {
    let board = open(&scratch("rejections"));
    let id = open_context(&board, "Consultation");
    let stranger = SigningKey::from_bytes(&[2; 32]);

    let good = Record::sign(id, CONTEXT_PHASE, &[1], &authority())
        .unwrap()
        .into_bytes();
    let r = rejected(&board, good[..good.len() - 1].to_vec(), Code::Malformed);
    assert_eq!(r.field.as_deref(), Some("body_length"));
    rejected(&board, vec![1; 70_000], Code::TooLarge);
    let mut forged = good.clone();
    let n = forged.len();
    forged[n - 1] ^= 1;
    let r = rejected(&board, forged, Code::BadSignature);
    assert_eq!(r.field.as_deref(), Some("signature"));
    rejected(
        &board,
        Record::sign(id, Kind(0x6666), b"", &authority())
            .unwrap()
            .into_bytes(),
        Code::UnknownKind,
    );
    rejected(
        &board,
        Record::sign(ContextId([9; 32]), CONTEXT_PHASE, &[1], &authority())
            .unwrap()
            .into_bytes(),
        Code::UnknownContext,
    );
    // not authorized: a stranger moves the phase; a stranger opens a context
    rejected(
        &board,
        Record::sign(id, CONTEXT_PHASE, &[1], &stranger)
            .unwrap()
            .into_bytes(),
        Code::NotAuthorized,
    );
    let body = open_body("Rogue", 1);
    let rogue_id = ContextId::derive(stranger.verifying_key().as_bytes(), &body);
    rejected(
        &board,
        Record::sign(rogue_id, CONTEXT_OPEN, &body, &stranger)
            .unwrap()
            .into_bytes(),
        Code::NotAuthorized,
    );
    // invalid body: skipping a phase; an id that is not derived from signer and body;
    // a context type the board does not have; a name with a bidi override
    rejected(
        &board,
        Record::sign(id, CONTEXT_PHASE, &[3], &authority())
            .unwrap()
            .into_bytes(),
        Code::WrongPhase,
    );
    let r = rejected(
        &board,
        Record::sign(ContextId([4; 32]), CONTEXT_OPEN, &body, &authority())
            .unwrap()
            .into_bytes(),
        Code::InvalidBody,
    );
    assert_eq!(r.field.as_deref(), Some("context"));
    let petition = ContextOpen {
        context_type: ContextType::SITTING,
        nonce: [0; 16],
        name: "Sitting".into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let petition_id = ContextId::derive(authority().verifying_key().as_bytes(), &petition);
    let r = rejected(
        &board,
        Record::sign(petition_id, CONTEXT_OPEN, &petition, &authority())
            .unwrap()
            .into_bytes(),
        Code::InvalidBody,
    );
    assert_eq!(r.field.as_deref(), Some("body.context_type"));
    let mut rtl = open_body("ab", 3);
    rtl.splice(21..23, "\u{202e}".bytes());
    rtl[20] = 3;
    let rtl_id = ContextId::derive(authority().verifying_key().as_bytes(), &rtl);
    let r = rejected(
        &board,
        Record::sign(rtl_id, CONTEXT_OPEN, &rtl, &authority())
            .unwrap()
            .into_bytes(),
        Code::InvalidBody,
    );
    assert_eq!(r.field.as_deref(), Some("body.name"), "{r}");
    // wrong phase: the plugged-in kind before voting
    rejected(
        &board,
        Record::sign(id, PROOF_KIND, &proof_body(id, &stranger, 5), &stranger)
            .unwrap()
            .into_bytes(),
        Code::WrongPhase,
    );
    // context exists: the same opening again
    let body = open_body("Consultation", 0);
    rejected(
        &board,
        Record::sign(id, CONTEXT_OPEN, &body, &authority())
            .unwrap()
            .into_bytes(),
        Code::Duplicate,
    );
    // duplicate: the same bytes twice
    board.submit(good.clone()).unwrap();
    let r = rejected(&board, good, Code::Duplicate);
    assert!(r.message.contains("index 1"), "{r}");
}

#[test]
fn another_authority_replaying_an_opening_gets_its_own_context_not_the_original() {
    let board = open(&scratch("replay-open"));
    let body = open_body("Same election", 0);
    // The second authority posts the body first: it opens *its* context.
    let second = second_authority();
    let its_id = ContextId::derive(second.verifying_key().as_bytes(), &body);
    board
        .submit(
            Record::sign(its_id, CONTEXT_OPEN, &body, &second)
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
    // The rightful authority still opens its own, with the same body.
    let id = open_context(&board, "Same election");
    assert_ne!(id, its_id);
    // Claiming the rightful id with another key is refused.
    rejected(
        &board,
        Record::sign(id, CONTEXT_PHASE, &[1], &second)
            .unwrap()
            .into_bytes(),
        Code::NotAuthorized,
    );
    // And two identical elections of one authority differ by their nonce.
    let again = open_body("Same election", 1);
    let again_id = ContextId::derive(authority().verifying_key().as_bytes(), &again);
    assert_ne!(again_id, id);
    board
        .submit(
            Record::sign(again_id, CONTEXT_OPEN, &again, &authority())
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
    assert_eq!(board.contexts().len(), 3);
}

#[test]
fn opened_at_is_the_real_index_of_the_opening_record() {
    let board = open(&scratch("opened-at"));
    let first = open_context(&board, "First");
    phase(&board, first, 1, &authority()).unwrap();
    let body = open_body("Second", 9);
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
    let receipt = board
        .submit(
            Record::sign(id, CONTEXT_OPEN, &body, &authority())
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
    assert_eq!(receipt.index, 2);
    assert_eq!(board.context(&id).unwrap().opened_at, 2);
}

#[test]
fn proofs_are_batched_and_a_bad_one_is_rejected_alone() {
    let board = Arc::new(open(&scratch("batched")));
    let id = open_context(&board, "Batched");
    to_voting(&board, id);
    let before = board.store().size();
    let records: Vec<(bool, Vec<u8>)> = (0..40u64)
        .map(|i| {
            let voter = SigningKey::from_bytes(&[100 + i as u8; 32]);
            let mut body = proof_body(id, &voter, 1000 + i);
            let bad = i % 7 == 3;
            if bad {
                // z altered: the equation fails, the encoding stays canonical.
                body[32 + 33] ^= 0x01;
            }
            (
                bad,
                Record::sign(id, PROOF_KIND, &body, &voter)
                    .unwrap()
                    .into_bytes(),
            )
        })
        .collect();
    let threads: Vec<_> = records
        .into_iter()
        .map(|(bad, bytes)| {
            let board = board.clone();
            std::thread::spawn(move || (bad, board.submit(bytes)))
        })
        .collect();
    let mut accepted = 0;
    for t in threads {
        let (bad, result) = t.join().unwrap();
        match result {
            Ok(_) => {
                assert!(!bad, "a record with a false proof was accepted");
                accepted += 1;
            }
            Err(r) => {
                assert!(bad, "a good record was refused: {r}");
                assert_eq!(r.code, Code::InvalidBody);
                assert_eq!(r.field.as_deref(), Some("body.proof"));
            }
        }
    }
    assert_eq!(accepted, 34);
    assert_eq!(board.store().size(), before + 34);
}

#[test]
fn a_proof_bound_to_another_signer_or_context_is_rejected() {
    let board = open(&scratch("binding"));
    let id = open_context(&board, "Bound");
    to_voting(&board, id);
    let voter = SigningKey::from_bytes(&[3; 32]);
    let thief = SigningKey::from_bytes(&[4; 32]);
    let body = proof_body(id, &voter, 77);
    // Copied under another signer: the proof's binding differs.
    rejected(
        &board,
        Record::sign(id, PROOF_KIND, &body, &thief)
            .unwrap()
            .into_bytes(),
        Code::InvalidBody,
    );
    let other = proof_body(ContextId([5; 32]), &voter, 77);
    rejected(
        &board,
        Record::sign(id, PROOF_KIND, &other, &voter)
            .unwrap()
            .into_bytes(),
        Code::InvalidBody,
    );
    board
        .submit(
            Record::sign(id, PROOF_KIND, &body, &voter)
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
}

#[test]
fn a_unique_key_is_taken_once_even_by_concurrent_records_and_after_a_restart() {
    let dir = scratch("unique");
    let id;
    {
        let board = Arc::new(open(&dir));
        id = open_context(&board, "Unique");
        to_voting(&board, id);
        // Eight different signers prove the same X at the same instant.
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let board = board.clone();
                std::thread::spawn(move || {
                    let voter = SigningKey::from_bytes(&[200 + i; 32]);
                    let body = proof_body(id, &voter, 4242);
                    board.submit(
                        Record::sign(id, PROOF_KIND, &body, &voter)
                            .unwrap()
                            .into_bytes(),
                    )
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.code, Code::AlreadyUsed);
            assert_eq!(r.field.as_deref(), Some("body.X"));
        }
    }
    let board = open(&dir);
    let voter = SigningKey::from_bytes(&[250; 32]);
    let body = proof_body(id, &voter, 4242);
    let r = rejected(
        &board,
        Record::sign(id, PROOF_KIND, &body, &voter)
            .unwrap()
            .into_bytes(),
        Code::AlreadyUsed,
    );
    assert!(
        r.message
            .contains("already used by a record of this context"),
        "{r}"
    );
}

#[test]
fn no_record_is_accepted_after_the_phase_change_that_forbids_it() {
    // Ballot-like records race a phase change to "closed": in log order, every accepted
    // one comes before the close, and every one after it was refused.
    let board = Arc::new(open(&scratch("barrier")));
    let id = open_context(&board, "Barrier");
    to_voting(&board, id);
    let voters: Vec<_> = (0..60u64)
        .map(|i| {
            let voter = SigningKey::from_bytes(&[i as u8 + 1; 32]);
            Record::sign(id, PROOF_KIND, &proof_body(id, &voter, 5000 + i), &voter)
                .unwrap()
                .into_bytes()
        })
        .collect();
    let close = Record::sign(id, CONTEXT_PHASE, &[CLOSED], &authority())
        .unwrap()
        .into_bytes();
    let mut threads = Vec::new();
    for (i, bytes) in voters.into_iter().enumerate() {
        let submitter = board.clone();
        threads.push(std::thread::spawn(move || (false, submitter.submit(bytes))));
        if i == 30 {
            let board = board.clone();
            let close = close.clone();
            threads.push(std::thread::spawn(move || (true, board.submit(close))));
        }
    }
    let mut close_index = None;
    let mut ballot_indexes = Vec::new();
    for t in threads {
        match t.join().unwrap() {
            (true, r) => close_index = Some(r.unwrap().index),
            (false, Ok(r)) => ballot_indexes.push(r.index),
            (false, Err(r)) => assert_eq!(r.code, Code::WrongPhase, "{r}"),
        }
    }
    let close_index = close_index.unwrap();
    assert!(ballot_indexes.iter().all(|i| *i < close_index));
    assert_eq!(close_index + 1, board.store().size());
    assert_eq!(board.contexts()[0].phase_name, "closed");
    assert_eq!(
        board.contexts()[0].records as usize,
        5 + ballot_indexes.len()
    );
}

#[test]
fn async_submitters_get_their_answers_on_a_single_threaded_runtime() {
    // A submission awaits its answer without holding the runtime's only thread:
    // concurrent ones, on one thread, are all answered.
    let board = Arc::new(open(&scratch("async")));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..16u8)
            .map(|i| {
                let board = board.clone();
                tokio::task::spawn(async move {
                    let body = open_body(&format!("Election {i}"), i);
                    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
                    let bytes = Record::sign(id, CONTEXT_OPEN, &body, &authority())
                        .unwrap()
                        .into_bytes();
                    board.submit_async(bytes).await
                })
            })
            .collect();
        let mut indexes = Vec::new();
        for task in tasks {
            indexes.push(task.await.unwrap().unwrap().index);
        }
        indexes.sort_unstable();
        assert_eq!(indexes, (0..16).collect::<Vec<u64>>());
        // One after another, each judged against the state the previous one left.
        let id = board.contexts()[0].id;
        for p in 1..=3u8 {
            let bytes = Record::sign(id, CONTEXT_PHASE, &[p], &authority())
                .unwrap()
                .into_bytes();
            board.submit_async(bytes).await.unwrap();
        }
    });
    assert_eq!(board.contexts()[0].phase_name, "voting");
}

#[test]
fn state_is_rebuilt_from_the_log_after_a_restart_and_after_losing_the_index() {
    let dir = scratch("restart");
    let id;
    {
        let board = open(&dir);
        id = open_context(&board, "Sitting 12");
        to_voting(&board, id);
        let voter = SigningKey::from_bytes(&[3; 32]);
        board
            .submit(
                Record::sign(id, PROOF_KIND, &proof_body(id, &voter, 9), &voter)
                    .unwrap()
                    .into_bytes(),
            )
            .unwrap();
        board.sign_checkpoint().unwrap();
    }
    let board = open(&dir);
    let summary = board.context(&id).unwrap();
    assert_eq!(summary.phase_name, "voting");
    assert_eq!(summary.name, "Sitting 12");
    assert_eq!(summary.records, 5);
    drop(board);
    // A board has no layer keys: its store keeps no index on disk at all (entry hashes
    // are rebuilt in memory on open), so there is none to lose.
    assert!(!dir.join("index.sled").exists());
    let board = open(&dir);
    assert_eq!(board.context(&id).unwrap().phase_name, "voting");
    phase(&board, id, CLOSED, &authority()).unwrap();
}

#[test]
fn a_log_whose_records_break_the_rules_is_refused_on_open() {
    let dir = scratch("bad-log");
    {
        let board = open(&dir);
        open_context(&board, "Kinds");
    }
    // Reopened without the context type: the opening record no longer applies.
    let err = Board::open(&dir, config(7), Registry::with_builtin())
        .err()
        .expect("a log this registry cannot replay");
    assert!(err.to_string().contains("record 0"), "{err}");
}

#[test]
fn concurrent_duplicates_are_accepted_once() {
    let board = Arc::new(open(&scratch("dup-race")));
    let id = open_context(&board, "Race");
    let bytes = Record::sign(id, CONTEXT_PHASE, &[1], &authority())
        .unwrap()
        .into_bytes();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let board = Arc::clone(&board);
            let bytes = bytes.clone();
            std::thread::spawn(move || board.submit(bytes))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e.code == Code::Duplicate)
    );
    assert_eq!(board.store().size(), 2);
}

#[test]
fn a_record_sent_again_before_the_index_holds_it_is_a_duplicate() {
    // The store's index thread is held here: a board's duplicate check must not depend
    // on it (entry hashes are looked up in memory, filled before the acknowledgement),
    // and must see each record once the first copy is answered.
    let board = open(&scratch("dup-unindexed"));
    let id = open_context(&board, "Lagging index");
    urne_store::pause_indexer_for_tests(board.store(), true);
    for to in 1..=VOTING {
        let bytes = Record::sign(id, CONTEXT_PHASE, &[to], &authority())
            .unwrap()
            .into_bytes();
        board.submit(bytes.clone()).unwrap();
        // (Answered "duplicate" either by the store's lookup or, if the sequencer has
        // not yet heard the first copy was applied, by its own pending set: never
        // accepted twice.)
        rejected(&board, bytes, Code::Duplicate);
    }
    urne_store::pause_indexer_for_tests(board.store(), false);
}

#[test]
fn checkpoints_are_signed_over_durable_entries_and_gather_cosignatures() {
    let dir = scratch("checkpoints");
    let board = open(&dir);
    open_context(&board, "Cosigned");
    let text = board.sign_checkpoint().unwrap();
    let note = Note::parse(text.as_bytes()).unwrap();
    let cp = urne_log::Checkpoint::open(
        &note,
        &urne_log::note::NoteVerifier::from_vkey(&board.vkey()).unwrap(),
    )
    .unwrap();
    assert_eq!(cp.size(), 1);
    assert_eq!(*cp.root(), board.store().root(1).unwrap());
    assert_eq!(
        board.sign_checkpoint().unwrap(),
        text,
        "no new entries, no new checkpoint"
    );

    for i in 0..2 {
        let mut n = note.clone();
        n.add_signature(witness(i).cosign(note.text(), 1_800_000_000));
        assert_eq!(board.add_cosignatures(&n.to_text()).unwrap(), 1);
    }
    let stranger = Cosigner::from_seed("stranger.example", &[99; 32]).unwrap();
    let mut n = note.clone();
    n.add_signature(stranger.cosign(note.text(), 1));
    assert_eq!(
        board.add_cosignatures(&n.to_text()).unwrap_err().code,
        Code::NotAuthorized
    );
    let mut n = note.clone();
    let mut line = witness(2).cosign(note.text(), 5);
    line.signature[10] ^= 1;
    n.add_signature(line);
    assert_eq!(
        board.add_cosignatures(&n.to_text()).unwrap_err().code,
        Code::BadSignature
    );
    let other = urne_log::Checkpoint::new(cp.origin(), 9, *cp.root(), vec![]).unwrap();
    let mut n = Note::new(&other.to_text()).unwrap();
    n.add_signature(witness(0).cosign(&other.to_text(), 1));
    assert_eq!(
        board.add_cosignatures(&n.to_text()).unwrap_err().code,
        Code::InvalidBody
    );

    let served = Note::parse(board.checkpoint().unwrap().as_bytes()).unwrap();
    let verifiers: Vec<_> = (0..3).map(|i| witness(i).verifier()).collect();
    assert_eq!(urne_log::note::count_cosignatures(&served, &verifiers), 2);
    assert!(board.cosigned_checkpoint(2).is_some());
    assert!(board.cosigned_checkpoint(3).is_none());
    drop(board);
    let board = open(&dir);
    let served = Note::parse(board.checkpoint().unwrap().as_bytes()).unwrap();
    assert_eq!(urne_log::note::count_cosignatures(&served, &verifiers), 2);
}

#[test]
fn older_checkpoints_stay_open_to_cosignatures_for_the_window_only() {
    let dir = scratch("window");
    let mut cfg = config(7);
    cfg.cosign_window = Duration::from_secs(1);
    let board = Board::open(&dir, cfg, registry()).unwrap().0;
    let id = open_context(&board, "Window");
    let first = Note::parse(board.sign_checkpoint().unwrap().as_bytes()).unwrap();
    phase(&board, id, 1, &authority()).unwrap();
    board.sign_checkpoint().unwrap();
    // No longer the newest, but within the window: it still takes cosignatures.
    let mut n = first.clone();
    n.add_signature(witness(0).cosign(first.text(), 1));
    assert_eq!(board.add_cosignatures(&n.to_text()).unwrap(), 1);
    std::thread::sleep(Duration::from_millis(1200));
    phase(&board, id, 2, &authority()).unwrap();
    board.sign_checkpoint().unwrap();
    let mut n = first.clone();
    n.add_signature(witness(1).cosign(first.text(), 1));
    assert_eq!(
        board.add_cosignatures(&n.to_text()).unwrap_err().code,
        Code::InvalidBody
    );
}

#[test]
fn a_board_refuses_a_checkpoint_signed_by_another_key() {
    let dir = scratch("other-key");
    {
        let board = open(&dir);
        open_context(&board, "Keyed");
        board.sign_checkpoint().unwrap();
    }
    assert!(Board::open(&dir, config(8), registry()).is_err());
}

#[test]
fn the_same_concurrent_record_sent_many_times_at_once_is_stored_once() {
    // A concurrent kind with no unique keys: only the board's pending-duplicate check
    // stands between eight identical submissions and eight copies in the log.
    let board = Arc::new(open(&scratch("dup-concurrent")));
    let id = open_context(&board, "Notes");
    let bytes = Record::sign(id, NOTE_KIND, b"same", &authority())
        .unwrap()
        .into_bytes();
    for _ in 0..5 {
        let before = board.store().size();
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (board, bytes, barrier) = (board.clone(), bytes.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    board.submit(bytes)
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(results.iter().filter(|r| r.is_ok()).count() <= 1);
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| e.code == Code::Duplicate)
        );
        assert!(board.store().size() <= before + 1);
    }
    assert_eq!(board.store().size(), 2);
}

#[test]
fn a_kind_is_refused_in_a_context_of_another_type() {
    let board = open(&scratch("types"));
    let body = ContextOpen {
        context_type: ContextType::PETITION,
        nonce: [1; 16],
        name: "Petition".into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &body);
    board
        .submit(
            Record::sign(id, CONTEXT_OPEN, &body, &authority())
                .unwrap()
                .into_bytes(),
        )
        .unwrap();
    assert_eq!(board.context(&id).unwrap().context_type, "petition");
    let voter = SigningKey::from_bytes(&[3; 32]);
    let r = rejected(
        &board,
        Record::sign(id, PROOF_KIND, &proof_body(id, &voter, 1), &voter)
            .unwrap()
            .into_bytes(),
        Code::WrongPhase,
    );
    assert!(r.message.contains("type petition"), "{r}");
}

#[test]
fn a_barrier_is_checked_against_every_earlier_record_of_its_context_applied() {
    let board = Arc::new(open(&scratch("barrier-reads")));
    let id = open_context(&board, "Count");
    to_voting(&board, id);
    let mut threads = Vec::new();
    for i in 0..60u64 {
        let voter = SigningKey::from_bytes(&[i as u8 + 1; 32]);
        let bytes = Record::sign(id, PROOF_KIND, &proof_body(id, &voter, 9000 + i), &voter)
            .unwrap()
            .into_bytes();
        let submitter = board.clone();
        threads.push(std::thread::spawn(move || {
            submitter.submit(bytes).map(|r| r.index)
        }));
        if i == 30 {
            let submitter = board.clone();
            let count = Record::sign(id, COUNT_KIND, b"", &authority())
                .unwrap()
                .into_bytes();
            threads.push(std::thread::spawn(move || {
                submitter.submit(count).map(|r| r.index | (1 << 63))
            }));
        }
    }
    let indexes: Vec<u64> = threads
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    let count_index = indexes.iter().find(|i| *i >> 63 == 1).unwrap() & !(1 << 63);
    let proofs_before = indexes
        .iter()
        .filter(|i| *i >> 63 == 0 && **i < count_index)
        .count() as u64;
    assert_eq!(
        SEEN_AT_COUNT.load(std::sync::atomic::Ordering::SeqCst),
        proofs_before,
        "the barrier was checked before every earlier record of its context was applied"
    );
}

#[test]
fn a_durable_record_that_does_not_apply_stops_the_board_and_the_log_names_it() {
    let dir = scratch("poison");
    {
        let board = open(&dir);
        let id = open_context(&board, "Poison");
        let receipt = board
            .submit(
                Record::sign(id, NOTE_KIND, b"poison", &authority())
                    .unwrap()
                    .into_bytes(),
            )
            .unwrap();
        assert_eq!(receipt.index, 1, "durable, so acknowledged");
        assert!(board.halted().unwrap().contains("record 1"));
        let r = board
            .submit(
                Record::sign(id, NOTE_KIND, b"after", &authority())
                    .unwrap()
                    .into_bytes(),
            )
            .unwrap_err();
        // Not `unavailable` (retry shortly): nothing is accepted until a restart.
        assert_eq!(r.code, Code::Storage, "{r}");
        assert!(r.message.contains("until it is restarted"), "{r}");
        assert_eq!(board.store().size(), 2);
    }
    let err = Board::open(&dir, config(7), registry())
        .err()
        .expect("replay refuses");
    assert!(err.to_string().contains("record 1"), "{err}");
}

#[test]
fn a_record_answered_storage_is_not_on_the_board_after_a_restart() {
    // When the store stops with groups already synced but not yet acknowledged, those
    // records come back on reopen: their senders must hear `maybe-stored`, not
    // `storage` ("nothing was stored", spec/12 §12.5).
    for round in 0..6u64 {
        let dir = scratch(&format!("stop-after-enqueue-{round}"));
        let mut answers = Vec::new();
        {
            let board = Arc::new(open(&dir));
            let id = open_context(&board, "Stop");
            let threads: Vec<_> = (0..8u64)
                .map(|t| {
                    let board = Arc::clone(&board);
                    std::thread::spawn(move || {
                        let mut answers = Vec::new();
                        for s in 0..150u64 {
                            let bytes = Record::sign(
                                id,
                                NOTE_KIND,
                                format!("t{t} s{s}").as_bytes(),
                                &authority(),
                            )
                            .unwrap()
                            .into_bytes();
                            let hash = urne_log::leaf_hash(&bytes);
                            answers.push((hash, board.submit(bytes).map(|r| r.index)));
                        }
                        answers
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(2 + 3 * round));
            urne_store::stop_for_tests(board.store(), "a test stopped the store");
            for t in threads {
                answers.extend(t.join().unwrap());
            }
        }
        let board = open(&dir);
        for (hash, answer) in &answers {
            if let Err(r) = answer
                && r.code == Code::Storage
            {
                assert_eq!(
                    board.store().index_of(hash).unwrap(),
                    None,
                    "round {round}: answered `{r}`, yet on the board after a restart"
                );
            }
        }
    }
}

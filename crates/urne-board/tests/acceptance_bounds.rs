//! Acceptance limits of the pipeline (spec/12 §12.5): the bound on waiting submissions,
//! and a second `context.open` for an existing context id refused as `context-exists`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256, Sha512};
use urne_board::handler::{ContextMut, ContextView, Prechecked};
use urne_board::kinds::CONTEXT_OPEN;
use urne_board::{
    Board, BoardConfig, Code, ContextId, ContextOpen, ContextType, Kind, KindHandler, Poster,
    Record, Registry, Rejection, Scope, Sequencing, UniqueKey,
};
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

/// A kind whose check waits until the test opens its gate: submissions behind it wait
/// in the board's queue, so the bound is reached by records really waiting.
struct Gated {
    gate: Arc<(Mutex<bool>, Condvar)>,
    checking: Arc<AtomicUsize>,
    /// Holds a record whose body is [`HELD_IN_PRECHECK`] in precheck, so that with one
    /// precheck thread the submissions behind it wait in the intake queue, untaken.
    precheck_gate: Arc<(Mutex<bool>, Condvar)>,
    prechecking: Arc<AtomicUsize>,
    /// How many records passed `check` and were then dropped unstored.
    released: Arc<AtomicUsize>,
}

const HELD_IN_PRECHECK: &[u8] = b"held in precheck";

fn wait_until_open(gate: &(Mutex<bool>, Condvar)) {
    let (open, opened) = gate;
    let mut open = open.lock().unwrap();
    while !*open {
        open = opened.wait(open).unwrap();
    }
}

fn open(gate: &(Mutex<bool>, Condvar)) {
    let (open, opened) = gate;
    *open.lock().unwrap() = true;
    opened.notify_all();
}

const GATED_KIND: Kind = Kind(0x7f31);

impl KindHandler for Gated {
    fn kind(&self) -> Kind {
        GATED_KIND
    }
    fn name(&self) -> &'static str {
        "test.gated"
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
    fn precheck(&self, record: &Record) -> Result<Prechecked, Rejection> {
        if record.body() == HELD_IN_PRECHECK {
            self.prechecking.fetch_add(1, Ordering::SeqCst);
            wait_until_open(&self.precheck_gate);
        }
        Ok(Prechecked::default())
    }
    fn check(
        &self,
        _: &Record,
        _: &Prechecked,
        _: Option<&ContextView<'_>>,
    ) -> Result<Vec<UniqueKey>, Rejection> {
        self.checking.fetch_add(1, Ordering::SeqCst);
        wait_until_open(&self.gate);
        Ok(Vec::new())
    }
    fn apply(&self, _: &Record, _: u64, _: &mut ContextMut<'_>) -> Result<(), Rejection> {
        Ok(())
    }
    fn released(&self, _: &Record) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

/// A board whose `test.gated` records wait at the gate, its context opened.
struct GatedBoard {
    board: Arc<Board>,
    gate: Arc<(Mutex<bool>, Condvar)>,
    checking: Arc<AtomicUsize>,
    precheck_gate: Arc<(Mutex<bool>, Condvar)>,
    prechecking: Arc<AtomicUsize>,
    released: Arc<AtomicUsize>,
    context: ContextId,
    dir: PathBuf,
}

impl GatedBoard {
    fn open(name: &str, config: BoardConfig) -> Self {
        let dir = scratch(name);
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let checking = Arc::new(AtomicUsize::new(0));
        let precheck_gate = Arc::new((Mutex::new(false), Condvar::new()));
        let prechecking = Arc::new(AtomicUsize::new(0));
        let released = Arc::new(AtomicUsize::new(0));
        let mut registry = Registry::standard();
        registry
            .register(Arc::new(Gated {
                gate: Arc::clone(&gate),
                checking: Arc::clone(&checking),
                precheck_gate: Arc::clone(&precheck_gate),
                prechecking: Arc::clone(&prechecking),
                released: Arc::clone(&released),
            }))
            .unwrap();
        let (board, _) = Board::open(&dir, config, registry).unwrap();
        let (context, open) = open_record(name);
        board.submit(open.bytes().to_vec()).unwrap();
        Self {
            board: Arc::new(board),
            gate,
            checking,
            precheck_gate,
            prechecking,
            released,
            context,
            dir,
        }
    }

    fn record(&self, body: &[u8]) -> Vec<u8> {
        Record::sign(self.context, GATED_KIND, body, &authority())
            .unwrap()
            .into_bytes()
    }

    /// Submits from a thread of its own; the answer comes when the gate opens.
    fn submit_in_background(
        &self,
        bytes: Vec<u8>,
    ) -> std::thread::JoinHandle<Result<urne_board::Receipt, Rejection>> {
        let board = Arc::clone(&self.board);
        std::thread::spawn(move || board.submit(bytes))
    }

    fn open_gate(&self) {
        open(&self.gate);
    }

    fn open_precheck_gate(&self) {
        open(&self.precheck_gate);
    }

    fn wait_for(&self, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for GatedBoard {
    fn drop(&mut self) {
        self.open_precheck_gate();
        self.open_gate();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_bound_of_zero_is_refused_when_the_board_opens() {
    for (records, bytes, named) in [
        (
            0,
            BoardConfig::DEFAULT_MAX_QUEUED_BYTES,
            "max_queued_records",
        ),
        (
            BoardConfig::DEFAULT_MAX_QUEUED_RECORDS,
            0,
            "max_queued_bytes",
        ),
    ] {
        let dir = scratch(&format!("zero-{named}"));
        let mut config = config();
        config.max_queued_records = records;
        config.max_queued_bytes = bytes;
        let err = Board::open(&dir, config, Registry::standard())
            .err()
            .expect("refused");
        assert!(
            err.to_string().contains(named) && err.to_string().contains("at least 1"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn submissions_beyond_the_record_bound_are_refused_while_others_wait_and_store_nothing() {
    let mut config = config();
    config.max_queued_records = 2;
    let gated = GatedBoard::open("bound-records", config);
    let first = gated.submit_in_background(gated.record(b"first"));
    gated.wait_for("the first record at the gate", || {
        gated.checking.load(Ordering::SeqCst) == 1
    });
    let second = gated.submit_in_background(gated.record(b"second"));
    gated.wait_for("two records waiting", || gated.board.queued() == 2);

    let (_, record) = open_record("Refused");
    let refused = gated.board.submit(record.bytes().to_vec()).unwrap_err();
    assert_eq!(refused.code, Code::Unavailable, "{refused}");
    assert!(refused.message.contains("2 submissions"), "{refused}");
    assert_eq!(gated.board.queued(), 2, "a refusal keeps no place");

    gated.open_gate();
    assert_eq!(first.join().unwrap().unwrap().index, 1);
    assert!(second.join().unwrap().is_ok());
    assert_eq!(
        gated.board.store().size(),
        3,
        "the refused record was not stored"
    );
    // Sent again once the queue drained, it is taken.
    gated.board.submit(record.bytes().to_vec()).unwrap();
}

#[test]
fn the_byte_bound_refuses_what_would_pass_it_beside_what_waits() {
    let waiting = vec![b'w'; 1000];
    let mut config = config();
    config.max_queued_bytes = 1500;
    let gated = GatedBoard::open("bound-bytes", config);
    let first = gated.submit_in_background(gated.record(&waiting));
    gated.wait_for("the first record at the gate", || {
        gated.checking.load(Ordering::SeqCst) == 1
    });
    let refused = gated.board.submit(gated.record(&waiting)).unwrap_err();
    assert_eq!(refused.code, Code::Unavailable, "{refused}");
    assert!(refused.message.contains("1500 bytes"), "{refused}");
    assert_eq!(gated.board.queued(), 1);
    gated.open_gate();
    assert!(first.join().unwrap().is_ok());
    // Alone, a record above the byte bound is taken.
    let big = gated.record(&vec![b'b'; 3000]);
    assert!(big.len() > 1500);
    gated.board.submit(big).unwrap();
}

#[test]
fn a_dropped_async_submitter_gives_its_place_back() {
    let mut config = config();
    config.max_queued_records = 3;
    // One precheck thread, held by a record in precheck: what is submitted behind it waits
    // in the intake queue, untaken, whatever the scheduling, until the test lets it go.
    config.precheck_threads = 1;
    let gated = GatedBoard::open("bound-dropped", config);
    let first = gated.submit_in_background(gated.record(b"first"));
    gated.wait_for("the first record at the gate", || {
        gated.checking.load(Ordering::SeqCst) == 1
    });
    let held = gated.submit_in_background(gated.record(HELD_IN_PRECHECK));
    gated.wait_for("a record held in precheck", || {
        gated.prechecking.load(Ordering::SeqCst) == 1
    });
    {
        // Polled once (it takes its place), then dropped: a closed connection.
        let bytes = gated.record(b"abandoned");
        let mut submission = std::pin::pin!(gated.board.submit_async(bytes));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(submission.as_mut().poll(&mut cx).is_pending());
        assert_eq!(gated.board.queued(), 3);
    }
    // The precheck thread takes the abandoned submission next, finds nobody waiting for
    // its answer, and gives its place back without checking it.
    gated.open_precheck_gate();
    gated.wait_for("the abandoned place given back", || {
        gated.board.queued() == 2
    });
    let second = gated.submit_in_background(gated.record(b"second"));
    gated.wait_for("the second record waiting", || gated.board.queued() == 3);
    gated.open_gate();
    assert!(first.join().unwrap().is_ok());
    assert!(held.join().unwrap().is_ok());
    assert!(second.join().unwrap().is_ok());
    assert_eq!(
        gated.board.store().size(),
        4,
        "the opening, first, held and second are stored, the abandoned record is not"
    );
}

/// A handler that notes something in `check` (a chamber holding its sittings while its
/// record is in flight) must hear of a checked record that is never stored, or the note
/// stays until a restart.
#[test]
fn a_record_checked_then_dropped_by_its_submitter_is_released_to_its_handler() {
    let gated = GatedBoard::open("released", config());
    {
        let bytes = gated.record(b"abandoned after its check began");
        let mut submission = std::pin::pin!(gated.board.submit_async(bytes));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(submission.as_mut().poll(&mut cx).is_pending());
        gated.wait_for("the record in its check", || {
            gated.checking.load(Ordering::SeqCst) == 1
        });
    }
    // Its check passes with nobody left to answer: dropped, and its handler told.
    gated.open_gate();
    gated.wait_for("the handler told of the dropped record", || {
        gated.released.load(Ordering::SeqCst) == 1
    });
    gated.wait_for("its place given back", || gated.board.queued() == 0);
    assert_eq!(gated.board.store().size(), 1, "only the opening is stored");
    // A record stored is applied, not released.
    gated.board.submit(gated.record(b"kept")).unwrap();
    assert_eq!(gated.released.load(Ordering::SeqCst), 1);
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
    // Five entries at one per second: the pass runs for seconds (at the default pace it
    // ends in milliseconds, and `checked` jumps to 5 at once).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !board.store().scrub_status().running {
        let status = board.store().scrub_status();
        assert!(status.passes == 0, "the pass ended at once: {status:?}");
        assert!(
            Instant::now() < deadline,
            "the scrub never started: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Five entries at one per second: the pass runs for seconds (at the default pace it
    // ends within milliseconds of starting).
    std::thread::sleep(Duration::from_millis(300));
    let status = board.store().scrub_status();
    assert!(status.running && status.passes == 0, "{status:?}");
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_submitter_dropped_after_precheck_stores_nothing_and_gives_its_place_back() {
    let mut config = config();
    config.precheck_threads = 1;
    let gated = GatedBoard::open("dropped-after-precheck", config);
    // The sequencer is held by the first record at the gate.
    let first = gated.submit_in_background(gated.record(b"first"));
    gated.wait_for("the first record at the gate", || {
        gated.checking.load(Ordering::SeqCst) == 1
    });
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut abandoned = Box::pin(gated.board.submit_async(gated.record(b"abandoned")));
    assert!(abandoned.as_mut().poll(&mut cx).is_pending());
    // The one precheck thread takes submissions in order: once the record behind it is
    // held in precheck, the abandoned one has passed precheck with its submitter there.
    let held = gated.submit_in_background(gated.record(HELD_IN_PRECHECK));
    gated.wait_for("a record held in precheck", || {
        gated.prechecking.load(Ordering::SeqCst) == 1
    });
    drop(abandoned);
    gated.open_precheck_gate();
    gated.open_gate();
    assert!(first.join().unwrap().is_ok());
    assert!(held.join().unwrap().is_ok());
    gated.wait_for("every place given back", || gated.board.queued() == 0);
    assert_eq!(
        gated.board.store().size(),
        3,
        "the opening, first and held are stored; the abandoned record is not"
    );
}

//! Acceptance through the pipeline against its floor, measured in one run: signed 1 KiB
//! records from 64 submitting threads, accepted (parse, signature, ordered checks,
//! durable group commit, apply, answer), against the same records appended straight to
//! the store by 64 threads (the durable-append floor), and against Ed25519 strict
//! verification alone (the CPU floor of a record).
//!
//!     cargo bench -p urne-board --bench accept
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use urne_board::handler::{ContextMut, ContextView, Prechecked};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{
    Board, BoardConfig, ContextId, ContextOpen, ContextType, Kind, KindHandler, LinearMachine,
    Poster, Record, Registry, Rejection, Scope, Sequencing, UniqueKey,
};
use urne_store::{Store, StoreOptions};
use zeroize::Zeroizing;

const THREADS: usize = 64;
const NOTE: Kind = Kind(0x7f10);

/// A concurrent kind with no body checks: the board's own cost per record.
struct Note;
impl KindHandler for Note {
    fn kind(&self) -> Kind {
        NOTE
    }
    fn name(&self) -> &'static str {
        "bench.note"
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
    fn apply(&self, _: &Record, _: u64, _: &mut ContextMut<'_>) -> Result<(), Rejection> {
        Ok(())
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn records(context: ContextId, n: usize, offset: u64) -> Vec<Vec<u8>> {
    let key = SigningKey::from_bytes(&[42; 32]);
    (0..n as u64)
        .map(|i| {
            let mut body = vec![0u8; 1024 - urne_record::ENVELOPE_OVERHEAD];
            body[..8].copy_from_slice(&(offset + i).to_be_bytes());
            Record::sign(context, NOTE, &body, &key)
                .unwrap()
                .into_bytes()
        })
        .collect()
}

/// Runs `each` over `items` from THREADS threads; returns the elapsed time.
fn spread<T: Send + Sync + 'static>(
    items: Vec<T>,
    each: impl Fn(T) + Send + Sync + 'static,
) -> Duration {
    let items = Arc::new(std::sync::Mutex::new(items));
    let each = Arc::new(each);
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (items, each) = (items.clone(), each.clone());
            std::thread::spawn(move || {
                loop {
                    let Some(item) = items.lock().unwrap().pop() else {
                        return;
                    };
                    each(item);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    start.elapsed()
}

fn accept(c: &mut Criterion) {
    let authority = SigningKey::from_bytes(&[1; 32]);
    let mut registry = Registry::with_builtin();
    registry
        .register_context(Arc::new(LinearMachine::election()))
        .unwrap();
    registry.register(Arc::new(Note)).unwrap();
    let config = BoardConfig::new(
        "bench.example/board",
        Zeroizing::new([7; 32]),
        vec![authority.verifying_key().to_bytes()],
        vec![],
    );
    let board = Arc::new(Board::open(&scratch("accept"), config, registry).unwrap().0);
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [0; 16],
        name: "Bench".into(),
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
    let _ = CONTEXT_PHASE;
    let (store, _) = Store::open(&scratch("floor"), StoreOptions::default()).unwrap();
    let store = Arc::new(store);
    let counter = Arc::new(AtomicU64::new(0));

    let mut group = c.benchmark_group("acceptance");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.bench_function("board accept, 64 threads", |b| {
        b.iter_custom(|iters| {
            let start = counter.fetch_add(iters, Ordering::Relaxed);
            let items = records(id, iters as usize, start);
            let board = board.clone();
            spread(items, move |bytes| {
                board.submit(bytes).unwrap();
            })
        })
    });
    group.bench_function("store append floor, 64 threads", |b| {
        b.iter_custom(|iters| {
            let start = counter.fetch_add(iters, Ordering::Relaxed);
            let items = records(id, iters as usize, start);
            let store = store.clone();
            spread(items, move |bytes| {
                store.append(bytes).unwrap();
            })
        })
    });
    group.bench_function("verify_strict alone, 1 thread", |b| {
        let items = records(id, 256, u64::MAX / 2);
        let parsed: Vec<Record> = items
            .into_iter()
            .map(|r| Record::parse(r).unwrap())
            .collect();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % parsed.len();
            parsed[i].verify_signature().unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, accept);
criterion_main!(benches);

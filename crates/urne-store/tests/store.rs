//! Recovery of the store: reads and proofs, torn and damaged tails, damaged derived files
//! and indexes, a log that contradicts its checkpoint, and processes killed with SIGKILL
//! in the middle of concurrent appends. SIGKILL leaves the page cache intact, so it tests
//! crash consistency only; durability (what an fsync promised survives power loss) is
//! tested in `power_loss.rs` on a simulated disk that drops what was not synced.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use urne_log::note::{Note, NoteSigner};
use urne_log::{Checkpoint, leaf_hash, verify_consistency, verify_inclusion};
use urne_store::{Store, StoreError, StoreOptions};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn record(i: u64) -> Vec<u8> {
    format!("record {i} {}", "x".repeat((i % 97) as usize)).into_bytes()
}

/// A store with layer keys: only those keep an index on disk (entry hashes are in
/// memory).
fn indexed() -> StoreOptions {
    StoreOptions {
        index_keys: Some(Arc::new(|i, record: &[u8]| {
            vec![urne_store::IndexEntry {
                tree: "by-record",
                key: record.to_vec(),
                value: i.to_be_bytes().to_vec(),
            }]
        })),
        index_schema: "test/by-record".into(),
        ..StoreOptions::default()
    }
}

fn signer() -> NoteSigner {
    NoteSigner::from_seed("test.example/board", &[3; 32]).unwrap()
}

fn sign_checkpoint(store: &Store, size: u64) -> String {
    let cp = Checkpoint::new(
        "test.example/board",
        size,
        store.root(size).unwrap(),
        vec![],
    )
    .unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    signer().sign(&mut note);
    note.to_text()
}

fn fill(store: &Store, n: u64) {
    for i in store.size()..n {
        assert_eq!(store.append(record(i)).unwrap(), i);
    }
}

#[test]
fn appended_records_read_back_with_proofs_tiles_and_bundles() {
    let dir = scratch("basic");
    let (store, report) = Store::open(&dir, StoreOptions::default()).unwrap();
    assert_eq!(report.size, 0);
    fill(&store, 600);
    let root = store.root(600).unwrap();
    let leaves: Vec<_> = (0..600).map(|i| leaf_hash(&record(i))).collect();
    assert_eq!(root, urne_log::hash::root_of(&leaves));
    for i in [0u64, 1, 255, 256, 599] {
        assert_eq!(store.entry(i).unwrap(), record(i));
        let proof = store.inclusion_proof(i, 600).unwrap();
        verify_inclusion(&leaves[i as usize], i, 600, &proof, &root).unwrap();
        assert_eq!(store.index_of(&leaves[i as usize]).unwrap(), Some(i));
    }
    let proof = store.consistency_proof(300, 600).unwrap();
    verify_consistency(300, 600, &store.root(300).unwrap(), &root, &proof).unwrap();
    // Tiles: level 0 full tile = the first 256 leaf hashes; level 1 partial = the root of it.
    let tile = store.tile(0, 0, 256).unwrap();
    assert_eq!(&tile[..32], &leaves[0].0);
    assert_eq!(
        store.tile(1, 0, 2).unwrap()[..32],
        urne_log::hash::root_of(&leaves[..256]).0
    );
    let bundle = store.entry_bundle(2, 600 - 512).unwrap();
    assert_eq!(
        u16::from_be_bytes([bundle[0], bundle[1]]) as usize,
        record(512).len()
    );
    assert!(store.entry(600).is_err());
    assert!(store.inclusion_proof(5, 601).is_err());
    assert!(matches!(
        store.append(Vec::new()),
        Err(StoreError::RecordSize { .. })
    ));
    assert!(matches!(
        store.append(vec![0; 70_000]),
        Err(StoreError::RecordSize { .. })
    ));
    // One process per data directory.
    assert!(matches!(
        Store::open(&dir, StoreOptions::default()),
        Err(StoreError::Locked { .. })
    ));
    drop(store);
    let (store, report) = Store::open(&dir, StoreOptions::default()).unwrap();
    assert_eq!(report.size, 600);
    assert!(report.repaired.is_empty(), "{:?}", report.repaired);
    assert_eq!(store.root(600).unwrap(), root);
    assert_eq!(store.check_all(|_| {}).unwrap(), 600);
}

#[test]
fn concurrent_appends_get_distinct_indexes_and_all_land() {
    let dir = scratch("concurrent");
    let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|s| {
                        (
                            store.append(format!("t{t} s{s}").into_bytes()).unwrap(),
                            t,
                            s,
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seen: Vec<(u64, i32, i32)> = threads
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    seen.sort();
    assert_eq!(seen.len(), 800);
    for (expected, (index, t, s)) in seen.iter().enumerate() {
        assert_eq!(*index, expected as u64);
        assert_eq!(
            store.entry(*index).unwrap(),
            format!("t{t} s{s}").into_bytes()
        );
    }
}

fn append_raw(dir: &Path, file: &str, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .append(true)
        .open(dir.join(file))
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn torn_and_damaged_tails_are_cut_and_nothing_else_is_lost() {
    let dir = scratch("torn");
    let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
    fill(&store, 300);
    store
        .save_checkpoint(&sign_checkpoint(&store, 300))
        .unwrap();
    let root = store.root(300).unwrap();
    store.close();
    drop(store);

    // A frame header promising more bytes than exist: a torn write.
    append_raw(&dir, "log.dat", &[200, 0, 0, 0, 1, 2, 3]);
    let (store, report) = Store::open(&dir, StoreOptions::default()).unwrap();
    assert_eq!(report.truncated_bytes, 7);
    assert_eq!((report.size, store.root(300).unwrap()), (300, root));
    store.close();
    drop(store);

    // A complete frame with a wrong checksum, then zeros (a power loss's tail).
    let mut damaged = 5u32.to_le_bytes().to_vec();
    damaged.extend_from_slice(&[0xab; 32]);
    damaged.extend_from_slice(b"hello");
    damaged.extend_from_slice(&[0; 100]);
    append_raw(&dir, "log.dat", &damaged);
    let (store, report) = Store::open(&dir, StoreOptions::default()).unwrap();
    assert_eq!(report.truncated_bytes, damaged.len() as u64);
    assert_eq!(store.size(), 300);
    // It keeps working after the repair.
    assert_eq!(store.append(b"after repair".to_vec()).unwrap(), 300);
}

#[test]
fn damaged_derived_files_and_index_are_rebuilt_from_the_log() {
    let dir = scratch("derived");
    let (store, _) = Store::open(&dir, indexed()).unwrap();
    fill(&store, 70_000 / 100);
    store
        .save_checkpoint(&sign_checkpoint(&store, 700))
        .unwrap();
    let root = store.root(700).unwrap();
    store.close();
    drop(store);

    // Offsets gone, height 0 with a wrong last hash, height 8 missing, index garbage.
    std::fs::remove_file(dir.join("offsets.dat")).unwrap();
    let level0 = dir.join("height-0.dat");
    let mut bytes = std::fs::read(&level0).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&level0, bytes).unwrap();
    std::fs::remove_file(dir.join("height-8.dat")).unwrap();
    let index = dir.join("index.sled");
    std::fs::remove_dir_all(&index).unwrap();
    std::fs::create_dir_all(&index).unwrap();
    std::fs::write(index.join("conf"), b"garbage that is not a sled config").unwrap();
    std::fs::write(index.join("db"), vec![0xee; 4096]).unwrap();

    let (store, report) = Store::open(&dir, indexed()).unwrap();
    assert!(
        report.repaired.iter().any(|r| r.contains("offsets.dat")),
        "{:?}",
        report.repaired
    );
    assert!(
        report.repaired.iter().any(|r| r.contains("height-0.dat")),
        "{:?}",
        report.repaired
    );
    assert!(
        report.repaired.iter().any(|r| r.contains("index rebuilt")),
        "{:?}",
        report.repaired
    );
    assert_eq!(store.root(700).unwrap(), root);
    assert_eq!(store.index_of(&leaf_hash(&record(699))).unwrap(), Some(699));
    assert_eq!(store.entry(512).unwrap(), record(512));
}

#[test]
fn an_index_behind_the_log_is_extended_and_one_ahead_is_rebuilt() {
    let dir = scratch("index-lag");
    let (store, _) = Store::open(&dir, indexed()).unwrap();
    fill(&store, 50);
    urne_store::set_index_count_for_tests(&store, 40, leaf_hash(&record(39))).unwrap();
    store.close();
    drop(store);
    let (store, report) = Store::open(&dir, indexed()).unwrap();
    assert!(
        report
            .repaired
            .iter()
            .any(|r| r.contains("index extended by 10")),
        "{:?}",
        report.repaired
    );
    assert_eq!(store.index_of(&leaf_hash(&record(45))).unwrap(), Some(45));
    urne_store::set_index_count_for_tests(&store, 99, leaf_hash(&record(49))).unwrap();
    store.close();
    drop(store);
    let (_, report) = Store::open(&dir, indexed()).unwrap();
    assert!(
        report.repaired.iter().any(|r| r.contains("disagreed")),
        "{:?}",
        report.repaired
    );
}

#[test]
fn a_log_that_contradicts_its_checkpoint_is_refused() {
    let dir = scratch("contradict");
    let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
    fill(&store, 20);
    store.save_checkpoint(&sign_checkpoint(&store, 20)).unwrap();
    store.close();
    drop(store);
    // Rewrite record 3 as another record of the same length with a valid frame: the
    // frames all check out, but the log is no longer the one that was checkpointed.
    let log = dir.join("log.dat");
    let mut bytes = std::fs::read(&log).unwrap();
    let original = record(3);
    let at = bytes
        .windows(original.len())
        .position(|w| w == original.as_slice())
        .unwrap();
    let mut forged = original.clone();
    forged[0] = b'R';
    bytes[at..at + forged.len()].copy_from_slice(&forged);
    bytes[at - 32..at].copy_from_slice(&leaf_hash(&forged).0);
    std::fs::write(&log, &bytes).unwrap();
    // With the derived files intact, opening trusts the persisted tree (it does not
    // rehash every entry) — but the altered record is never served.
    {
        let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
        assert!(matches!(store.entry(3), Err(StoreError::Corrupt { .. })));
        assert_eq!(store.entry(4).unwrap(), record(4));
    }
    // The full check finds it, naming the entry.
    {
        let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
        match store.check_all(|_| {}) {
            Err(StoreError::Corrupt { detail, .. }) => {
                assert!(detail.contains("entry 3"), "{detail}")
            }
            other => panic!("expected the full check to fail, got {other:?}"),
        }
    }
    // Without them, the tree is rebuilt from the log itself, which contradicts the
    // checkpoint: the board refuses to serve it.
    for f in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if name == "offsets.dat" || name.starts_with("height-") {
            std::fs::remove_file(f.path()).unwrap();
        }
    }
    match Store::open(&dir, StoreOptions::default()) {
        Err(StoreError::ContradictsCheckpoint { size: 20, .. }) => {}
        other => panic!("expected refusal, got {:?}", other.map(|(_, r)| r)),
    }
    // A log cut below its checkpoint (acknowledged data lost) is refused too.
    std::fs::write(&log, &bytes[..at]).unwrap();
    assert!(Store::open(&dir, StoreOptions::default()).is_err());
}

#[test]
fn a_checkpoint_that_does_not_match_the_log_is_not_saved() {
    let dir = scratch("bad-checkpoint");
    let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
    fill(&store, 10);
    let cp = Checkpoint::new("test.example/board", 10, leaf_hash(b"wrong"), vec![]).unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    signer().sign(&mut note);
    assert!(matches!(
        store.save_checkpoint(&note.to_text()),
        Err(StoreError::BadCheckpoint(_))
    ));
    let too_big = Checkpoint::new(cp.origin(), 11, *cp.root(), vec![]).unwrap();
    let mut note = Note::new(&too_big.to_text()).unwrap();
    signer().sign(&mut note);
    assert!(store.save_checkpoint(&note.to_text()).is_err());
    assert!(store.checkpoint().is_none());
}

#[test]
fn extra_index_keys_are_kept_and_rebuilt() {
    let dir = scratch("keys");
    let keys: urne_store::IndexFn = Arc::new(|i, record: &[u8]| {
        vec![urne_store::IndexEntry {
            tree: "first-byte",
            key: vec![record[0]],
            value: i.to_be_bytes().to_vec(),
        }]
    });
    let options = StoreOptions {
        index_keys: Some(keys),
        index_schema: "test/first-byte".into(),
        ..StoreOptions::default()
    };
    let (store, _) = Store::open(&dir, options.clone()).unwrap();
    store.append(b"alpha".to_vec()).unwrap();
    store.append(b"beta".to_vec()).unwrap();
    store.close();
    drop(store);
    std::fs::remove_dir_all(dir.join("index.sled")).unwrap();
    let (store, _) = Store::open(&dir, options.clone()).unwrap();
    assert_eq!(
        store.index_get("first-byte", b"b").unwrap().unwrap(),
        1u64.to_be_bytes()
    );
    drop(store);
    // Opened with other options, the index is rebuilt for them; opened again with the
    // first options, it is rebuilt with their keys: never an index missing keys.
    let (store, report) = Store::open(&dir, indexed()).unwrap();
    assert!(
        report.repaired.iter().any(|r| r.contains("another schema")),
        "{:?}",
        report.repaired
    );
    drop(store);
    let (store, report) = Store::open(&dir, options).unwrap();
    assert!(
        report.repaired.iter().any(|r| r.contains("another schema")),
        "{:?}",
        report.repaired
    );
    assert_eq!(
        store.index_scan("first-byte", b"").unwrap(),
        vec![
            (b"a".to_vec(), 0u64.to_be_bytes().to_vec()),
            (b"b".to_vec(), 1u64.to_be_bytes().to_vec())
        ]
    );
}

// ---- crash safety -------------------------------------------------------------------

const CHILD_ENV: &str = "URNE_STORE_CRASH_CHILD_DIR";

/// The child: 8 threads append as fast as they can, printing `ACK <index> <leaf hash>`
/// once each append returns (so every printed line is durable); every 50 entries a
/// checkpoint is saved and printed as `CHECKPOINT <size>`.
#[test]
#[ignore = "run by crash_safety_under_sigkill as a child process"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (store, _) = Store::open(Path::new(&dir), StoreOptions::default()).unwrap();
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            let out = Arc::clone(&out);
            std::thread::spawn(move || {
                for s in 0u64.. {
                    let record = format!(
                        "pid {} thread {t} seq {s} {}",
                        std::process::id(),
                        "y".repeat((s % 300) as usize)
                    );
                    let index = store.append(record.clone().into_bytes()).unwrap();
                    let mut o = out.lock().unwrap();
                    writeln!(o, "ACK {index} {}", leaf_hash(record.as_bytes())).unwrap();
                    o.flush().unwrap();
                    if index % 50 == 0 && t == 0 {
                        let size = store.size();
                        store
                            .save_checkpoint(&sign_checkpoint(&store, size))
                            .unwrap();
                        writeln!(o, "CHECKPOINT {size}").unwrap();
                        o.flush().unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn crash_safety_under_sigkill() {
    let dir = scratch("crash");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acknowledged: std::collections::BTreeMap<u64, String> = Default::default();
    let mut last_checkpoint = 0u64;
    let rounds = 20;
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let kill_after = Duration::from_millis(150 + (round * 37 % 300) as u64);
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => lines.push(l),
                    Err(_) => break,
                }
            }
            lines
        });
        let started = Instant::now();
        while started.elapsed() < kill_after {
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["ACK", index, hash] => {
                    acknowledged.insert(index.parse().unwrap(), (*hash).to_owned());
                }
                ["CHECKPOINT", size] => {
                    last_checkpoint = last_checkpoint.max(size.parse().unwrap())
                }
                _ => {} // the cut-off last line, or test harness output
            }
        }
        // Recovery: every acknowledged entry is there, byte for byte, and the root
        // agrees with the last checkpoint (Store::open refuses otherwise).
        let (store, report) = Store::open(&dir, StoreOptions::default()).unwrap();
        assert!(
            report.size >= acknowledged.len() as u64,
            "round {round}: lost entries"
        );
        for (index, hash) in &acknowledged {
            let entry = store.entry(*index).unwrap();
            assert_eq!(
                &leaf_hash(&entry).to_hex(),
                hash,
                "round {round}: entry {index}"
            );
        }
        if let Some(size) = report.checkpoint_size {
            assert!(
                size >= last_checkpoint,
                "round {round}: checkpoint went backwards"
            );
        }
        store.close();
    }
    assert!(
        acknowledged.len() > 100,
        "the child made too little progress: {}",
        acknowledged.len()
    );
    assert!(last_checkpoint > 0);
}

#[test]
fn the_full_check_finds_a_damaged_interior_node_that_opening_does_not_look_at() {
    let dir = scratch("fsck-node");
    let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
    fill(&store, 100);
    store
        .save_checkpoint(&sign_checkpoint(&store, 100))
        .unwrap();
    drop(store);
    // Node 2 of height 3 (leaves 16..24), inside the checkpoint: opening trusts the
    // derived files the checkpoint made durable (it recomputes only what follows).
    let path = dir.join("height-3.dat");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[2 * 32] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let (store, _) = Store::open(&dir, StoreOptions::default()).unwrap();
    match store.check_all(|_| {}) {
        Err(StoreError::Corrupt { detail, .. }) => {
            assert!(detail.contains("node 2 at height 3"), "{detail}")
        }
        other => panic!("expected the full check to fail, got {other:?}"),
    }
}

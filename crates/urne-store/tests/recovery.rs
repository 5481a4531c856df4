//! Recovery never signs a wrong root and never cuts an acknowledged record; the scrub and
//! `fsck` find what opening trusts (spec/11-storage.md §11.3–§11.6).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use urne_log::note::{Note, NoteSigner};
use urne_log::{Checkpoint, leaf_hash};
use urne_store::{FsckOptions, Scrub, Store, StoreError, StoreOptions, fsck};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-recovery-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn quiet() -> StoreOptions {
    StoreOptions {
        scrub: Scrub::Off,
        ..StoreOptions::default()
    }
}

/// A store with layer keys: only those keep an index on disk (entry hashes are in
/// memory).
fn indexed() -> StoreOptions {
    StoreOptions {
        index_keys: Some(layer_keys(0)),
        index_schema: "test/v1".into(),
        ..quiet()
    }
}

fn record(i: u64) -> Vec<u8> {
    format!("record {i} {}", "x".repeat((i % 97) as usize)).into_bytes()
}

fn sign_checkpoint(store: &Store, size: u64) -> String {
    let cp = Checkpoint::new(
        "test.example/board",
        size,
        store.verified_root(size).unwrap(),
        vec![],
    )
    .unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    NoteSigner::from_seed("test.example/board", &[3; 32])
        .unwrap()
        .sign(&mut note);
    note.to_text()
}

fn fill(store: &Store, n: u64) {
    for i in store.size()..n {
        assert_eq!(store.append(record(i)).unwrap(), i);
    }
}

fn true_root(n: u64) -> urne_log::Hash {
    let leaves: Vec<_> = (0..n).map(|i| leaf_hash(&record(i))).collect();
    urne_log::hash::root_of(&leaves)
}

fn zero(path: &Path, from: usize, to: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[from..to].fill(0);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_zeroed_block_in_height_0_before_its_last_entry_does_not_change_the_root() {
    // What a power cut leaves when derived files were not synced: a zeroed page of
    // leaf hashes, with the last leaf intact.
    for checkpoint in [None, Some(100u64)] {
        let dir = scratch(&format!("zeroed-{checkpoint:?}"));
        let (store, _) = Store::open(&dir, quiet()).unwrap();
        fill(&store, 700);
        if let Some(size) = checkpoint {
            store
                .save_checkpoint(&sign_checkpoint(&store, size))
                .unwrap();
        }
        store.close();
        drop(store);
        // Entries 256..384: after the checkpoint, before the last entry. The heights
        // above lost their unsynced tails: they cover only the first 256 entries, so
        // they must be recomputed over a range that includes the zeroed block.
        zero(&dir.join("height-0.dat"), 256 * 32, 384 * 32);
        for h in 1..10u32 {
            let path = dir.join(format!("height-{h}.dat"));
            let keep = (256u64 >> h) * 32;
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(keep).unwrap();
        }
        let (store, report) = Store::open(&dir, quiet()).unwrap();
        assert_eq!(store.root(700).unwrap(), true_root(700), "{checkpoint:?}");
        assert_eq!(store.verified_root(700).unwrap(), true_root(700));
        assert_eq!(store.entry(300).unwrap(), record(300));
        assert!(
            report
                .repaired
                .iter()
                .any(|r| r.contains("height-0.dat: node 256")),
            "{:?}",
            report.repaired
        );
        assert_eq!(store.check_all(|_| {}).unwrap(), 700);
    }
}

#[test]
fn a_height_is_never_rebuilt_from_an_unverified_level_below() {
    // Height 1 damaged inside (not at its end) while height 0 is right: the upper
    // levels come out of the frames, not out of the damaged height.
    let dir = scratch("unverified-level");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    fill(&store, 600);
    store.close();
    drop(store);
    zero(&dir.join("height-1.dat"), 10 * 32, 11 * 32);
    std::fs::remove_file(dir.join("height-5.dat")).unwrap();
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    assert_eq!(store.root(600).unwrap(), true_root(600));
    assert_eq!(store.check_all(|_| {}).unwrap(), 600);
}

#[test]
fn a_leaf_hash_altered_behind_a_running_store_is_never_signed() {
    let dir = scratch("verify-before-signing");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    fill(&store, 50);
    let good = store.verified_root(50).unwrap();
    assert_eq!(good, true_root(50));
    fill(&store, 60);
    // A derived hash of a new entry goes bad (a bad disk, another process).
    let path = dir.join("height-0.dat");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[55 * 32] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    match store.verified_root(60) {
        Err(StoreError::Corrupt { detail, .. }) => assert!(detail.contains("entry 55"), "{detail}"),
        other => panic!("expected the check before signing to fail, got {other:?}"),
    }
    assert!(
        store
            .save_checkpoint(&sign_checkpoint_unchecked(60))
            .is_err()
    );
    assert!(store.stopped().is_some());
    assert!(matches!(
        store.append(b"more".to_vec()),
        Err(StoreError::Stopped { .. })
    ));
}

fn sign_checkpoint_unchecked(size: u64) -> String {
    let cp = Checkpoint::new("test.example/board", size, true_root(size), vec![]).unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    NoteSigner::from_seed("test.example/board", &[3; 32])
        .unwrap()
        .sign(&mut note);
    note.to_text()
}

fn flip_in_record(dir: &Path, i: u64) {
    let log = dir.join("log.dat");
    let mut bytes = std::fs::read(&log).unwrap();
    let target = record(i);
    let at = bytes
        .windows(target.len())
        .position(|w| w == target.as_slice())
        .unwrap();
    bytes[at + 2] ^= 0x01;
    std::fs::write(&log, bytes).unwrap();
}

#[test]
fn a_damaged_acknowledged_entry_is_refused_not_cut_and_salvage_keeps_the_cut_bytes() {
    let dir = scratch("damaged-entry");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    fill(&store, 10);
    store.close();
    drop(store);
    let original = std::fs::read(dir.join("log.dat")).unwrap();
    std::fs::remove_file(dir.join("offsets.dat")).unwrap();
    flip_in_record(&dir, 3);
    let damaged = std::fs::read(dir.join("log.dat")).unwrap();
    match Store::open(&dir, quiet()) {
        Err(StoreError::Corrupt { detail, .. }) => {
            assert!(detail.contains("entry 3"), "{detail}");
            assert!(detail.contains("damaged"), "{detail}");
            assert!(!detail.contains("never acknowledged"), "{detail}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|(_, r)| r)),
    }
    // Nothing was cut by the refusal.
    assert_eq!(std::fs::read(dir.join("log.dat")).unwrap(), damaged);
    // Read-only fsck names the entry and changes nothing.
    let report = fsck(&dir, &quiet(), &FsckOptions::new(false), |_| {}).unwrap();
    assert_eq!(report.findings[0].entry, Some(3), "{:?}", report.findings);
    assert_eq!(std::fs::read(dir.join("log.dat")).unwrap(), damaged);
    // Salvage, on request only: the log keeps entries 0..3, and everything from the
    // damaged entry on is in a side file, byte for byte.
    let (store, report) = Store::open(
        &dir,
        StoreOptions {
            salvage: true,
            ..quiet()
        },
    )
    .unwrap();
    assert_eq!(store.size(), 3);
    assert!(report.salvaged);
    let cut = report.cut.unwrap();
    assert_eq!(cut.entry, 3);
    let kept = std::fs::read(dir.join(&cut.file)).unwrap();
    assert_eq!(kept, damaged[cut.offset as usize..]);
    assert_eq!(
        &original[..cut.offset as usize],
        &damaged[..cut.offset as usize]
    );
}

#[test]
fn damage_inside_one_group_commit_is_refused_when_offsets_show_it_was_acknowledged() {
    // Ten records in one group commit (no group-start marks after the first), offsets.dat
    // intact: the offsets, written only after the sync, prove the later frames durable.
    let dir = scratch("damaged-group");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    let pending: Vec<_> = (0..10).map(|i| store.enqueue(record(i)).unwrap()).collect();
    for p in pending {
        p.wait().unwrap();
    }
    store.close();
    drop(store);
    flip_in_record(&dir, 3);
    match Store::open(&dir, quiet()) {
        Err(StoreError::Corrupt { detail, .. }) => assert!(detail.contains("entry 3"), "{detail}"),
        other => panic!("expected a refusal, got {:?}", other.map(|(_, r)| r)),
    }
}

#[test]
fn a_torn_tail_is_cut_into_a_side_file_and_the_message_says_damaged() {
    let dir = scratch("torn-side");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    fill(&store, 5);
    store.close();
    drop(store);
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("log.dat"))
        .unwrap();
    std::io::Write::write_all(&mut log, &[9, 0, 0, 0, 1, 2, 3]).unwrap();
    drop(log);
    let (store, report) = Store::open(&dir, quiet()).unwrap();
    assert_eq!(store.size(), 5);
    let cut = report.cut.unwrap();
    assert_eq!((cut.entry, cut.bytes), (5, 7));
    assert_eq!(
        std::fs::read(dir.join(&cut.file)).unwrap(),
        vec![9, 0, 0, 0, 1, 2, 3]
    );
    assert!(!report.salvaged);
}

#[test]
fn the_scrub_stops_the_store_on_a_record_altered_behind_intact_derived_files() {
    let dir = scratch("scrub");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    fill(&store, 40);
    store.save_checkpoint(&sign_checkpoint(&store, 40)).unwrap();
    store.close();
    drop(store);
    // Rewrite record 3 as another valid frame: opening trusts the checkpointed tree.
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

    let (store, _) = Store::open(
        &dir,
        StoreOptions {
            scrub: Scrub::AfterOpenAndEvery(Duration::from_secs(3600)),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let started = Instant::now();
    while store.scrub_status().passes == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "scrub never ran"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = store.scrub_status();
    match &status.last_result {
        Some(Err(e)) => assert!(e.contains("entry 3"), "{e}"),
        other => panic!("expected the scrub to fail, got {other:?}"),
    }
    assert!(store.stopped().unwrap().contains("scrub"));
    assert!(matches!(
        store.append(b"x".to_vec()),
        Err(StoreError::Stopped { .. })
    ));
}

#[test]
fn the_scrub_runs_on_its_schedule_and_passes_a_sound_store() {
    let dir = scratch("scrub-ok");
    let (store, _) = Store::open(
        &dir,
        StoreOptions {
            scrub: Scrub::AfterOpenAndEvery(Duration::from_millis(20)),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    fill(&store, 30);
    let started = Instant::now();
    while store.scrub_status().passes < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "scrub not rescheduled"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(matches!(store.scrub_status().last_result, Some(Ok(n)) if n <= 30));
    assert!(store.stopped().is_none());
}

#[test]
fn fsck_is_read_only_unless_asked_and_names_entries() {
    let dir = scratch("fsck");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    fill(&store, 300);
    store
        .save_checkpoint(&sign_checkpoint(&store, 300))
        .unwrap();
    // While the board runs, fsck is refused rather than racing it.
    assert!(matches!(
        fsck(&dir, &quiet(), &FsckOptions::new(false), |_| {}),
        Err(StoreError::Locked { .. })
    ));
    store.close();
    drop(store);
    let clean = fsck(&dir, &quiet(), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
    assert_eq!(clean.entries, 300);

    // A leaf hash inside the checkpoint goes bad: opening trusts it, fsck finds it.
    let path = dir.join("height-0.dat");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[42 * 32] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let before: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
        .collect();
    let report = fsck(&dir, &quiet(), &FsckOptions::new(false), |_| {}).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].entry, Some(42));
    assert!(report.repaired.is_empty());
    for (name, content) in before {
        assert_eq!(
            std::fs::read(dir.join(&name)).unwrap(),
            content,
            "{name:?} changed"
        );
    }
}

#[test]
fn fsck_repairs_only_when_asked_and_keeps_what_it_cuts() {
    let dir = scratch("fsck-repair");
    let (store, _) = Store::open(&dir, quiet()).unwrap();
    fill(&store, 5);
    store.close();
    drop(store);
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("log.dat"))
        .unwrap();
    std::io::Write::write_all(&mut log, &[40, 0, 0, 0, 7, 7]).unwrap();
    drop(log);
    let torn = std::fs::read(dir.join("log.dat")).unwrap();

    let report = fsck(&dir, &quiet(), &FsckOptions::new(false), |_| {}).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].entry, Some(5));
    assert!(report.findings[0].what.contains("torn"));
    assert_eq!(std::fs::read(dir.join("log.dat")).unwrap(), torn);

    let report = fsck(&dir, &quiet(), &FsckOptions::new(true), |_| {}).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(
        report
            .repaired
            .iter()
            .any(|r| r.contains("cut from entry 5") && r.contains("log.dat.cut-")),
        "{:?}",
        report.repaired
    );
    let clean = fsck(&dir, &quiet(), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
    assert_eq!(clean.entries, 5);
}

#[test]
fn the_scrub_keeps_to_its_pace_and_a_paced_scrub_does_not_hold_up_closing() {
    let dir = scratch("scrub-paced");
    {
        let (store, _) = Store::open(
            &dir,
            StoreOptions {
                scrub: Scrub::Off,
                ..StoreOptions::default()
            },
        )
        .unwrap();
        fill(&store, 60);
    }
    // 60 entries at 100 per second: the pass cannot end before 0.6 s.
    let started = Instant::now();
    let (store, _) = Store::open(
        &dir,
        StoreOptions {
            scrub: Scrub::AfterOpenAndEvery(Duration::from_secs(3600)),
            scrub_entries_per_second: 100,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    while store.scrub_status().passes == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "scrub never ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "a pass over 60 entries at 100/s took {:?}",
        started.elapsed()
    );
    assert!(matches!(store.scrub_status().last_result, Some(Ok(60))));
    drop(store);

    // At one entry per second the pass would take a minute: closing stops it.
    let (store, _) = Store::open(
        &dir,
        StoreOptions {
            scrub: Scrub::AfterOpenAndEvery(Duration::from_secs(3600)),
            scrub_entries_per_second: 1,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !store.scrub_status().running {
        assert!(
            Instant::now() < deadline,
            "the scrub never started: {:?}",
            store.scrub_status()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let closing = Instant::now();
    drop(store);
    assert!(
        closing.elapsed() < Duration::from_secs(20),
        "closing waited {:?} for the scrub",
        closing.elapsed()
    );
}

fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            out.extend(files_under(&entry.path()));
        } else {
            out.push((entry.path(), std::fs::read(entry.path()).unwrap()));
        }
    }
    out.sort();
    out
}

fn layer_keys(offset: u64) -> urne_store::IndexFn {
    std::sync::Arc::new(move |index, record: &[u8]| {
        vec![urne_store::IndexEntry {
            tree: "layer",
            key: record.to_vec(),
            value: (index + offset).to_be_bytes().to_vec(),
        }]
    })
}

#[test]
fn read_only_fsck_checks_the_index_against_the_log_and_changes_nothing() {
    let dir = scratch("fsck-index");
    let keyed = |offset| StoreOptions {
        index_keys: Some(layer_keys(offset)),
        index_schema: "test/v1".into(),
        ..quiet()
    };
    let (store, _) = Store::open(&dir, keyed(0)).unwrap();
    fill(&store, 40);
    store.close();
    drop(store);
    let clean = fsck(&dir, &keyed(0), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);

    // The layer's keys changed under the same schema name: the index no longer holds what
    // the log says it should.
    let before = files_under(&dir);
    let report = fsck(&dir, &keyed(1), &FsckOptions::new(false), |_| {}).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert!(
        report.findings[0].what.contains("tree layer"),
        "{:?}",
        report.findings
    );
    assert_eq!(
        files_under(&dir),
        before,
        "a read-only fsck wrote to the directory"
    );

    // Another schema: named, not checked key by key.
    let other = StoreOptions {
        index_schema: "test/v2".into(),
        ..keyed(0)
    };
    let report = fsck(&dir, &other, &FsckOptions::new(false), |_| {}).unwrap();
    assert!(
        report.findings.len() == 1 && report.findings[0].what.contains("schema"),
        "{:?}",
        report.findings
    );

    // Its last entry's hash is wrong.
    let (store, _) = Store::open(&dir, keyed(0)).unwrap();
    urne_store::set_index_count_for_tests(&store, 40, leaf_hash(b"not entry 39")).unwrap();
    store.close();
    drop(store);
    let report = fsck(&dir, &keyed(0), &FsckOptions::new(false), |_| {}).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].entry, Some(39));

    // It claims more entries than the log holds.
    let (store, _) = Store::open(&dir, keyed(0)).unwrap();
    urne_store::set_index_count_for_tests(&store, 41, leaf_hash(b"x")).unwrap();
    store.close();
    drop(store);
    let report = fsck(&dir, &keyed(0), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(
        report.findings.len() == 1 && report.findings[0].what.contains("claims 41"),
        "{:?}",
        report.findings
    );

    // Rows under the tree that held entry hashes before they moved to memory: an index
    // of the earlier format, which opening rebuilds.
    let leftover = StoreOptions {
        index_keys: Some(std::sync::Arc::new(|index, record: &[u8]| {
            let mut rows = layer_keys(0)(index, record);
            rows.push(urne_store::IndexEntry {
                tree: "entry-by-hash",
                key: leaf_hash(record).0.to_vec(),
                value: index.to_be_bytes().to_vec(),
            });
            rows
        })),
        ..keyed(0)
    };
    let _ = std::fs::remove_dir_all(dir.join("index.sled"));
    let (store, _) = Store::open(&dir, leftover).unwrap();
    store.close();
    drop(store);
    let report = fsck(&dir, &keyed(0), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(
        report.findings.len() == 1
            && report.findings[0]
                .what
                .contains("40 rows of an earlier format under entry-by-hash"),
        "{:?}",
        report.findings
    );

    // No index at all.
    let _ = std::fs::remove_dir_all(dir.join("index.sled"));
    let report = fsck(&dir, &keyed(0), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(
        report.findings.len() == 1 && report.findings[0].what.contains("missing"),
        "{:?}",
        report.findings
    );
}

#[test]
fn an_index_behind_the_log_is_not_damage() {
    // The indexer applies rows after the acknowledgement: an unclean stop leaves the
    // index behind the log. Opening extends it; fsck must not call it damage.
    let dir = scratch("fsck-index-behind");
    let (store, _) = Store::open(&dir, indexed()).unwrap();
    fill(&store, 40);
    urne_store::set_index_count_for_tests(&store, 30, leaf_hash(&record(29))).unwrap();
    store.close();
    drop(store);
    let report = fsck(&dir, &indexed(), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let (store, opened) = Store::open(&dir, indexed()).unwrap();
    assert_eq!(opened.size, 40);
    assert_eq!(opened.repaired, ["index extended by 10 entries"]);
    assert_eq!(store.index_of(&leaf_hash(&record(35))).unwrap(), Some(35));
}

#[test]
fn an_unreadable_index_is_a_finding_beside_the_logs_own() {
    let dir = scratch("fsck-index-unreadable");
    let (store, _) = Store::open(&dir, indexed()).unwrap();
    fill(&store, 20);
    store.close();
    drop(store);
    // Damage the log's derived offsets (a finding of its own), then make the index a
    // file where a directory belongs: it cannot be copied, let alone opened.
    std::fs::write(dir.join("offsets.dat"), [0xffu8; 16]).unwrap();
    std::fs::remove_dir_all(dir.join("index.sled")).unwrap();
    std::fs::write(dir.join("index.sled"), b"not a sled database").unwrap();
    let report = fsck(&dir, &indexed(), &FsckOptions::new(false), |_| {}).unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.what.contains("offsets.dat")),
        "the log's finding was lost: {:?}",
        report.findings
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.what.starts_with("index.sled unreadable:")
                && f.what.contains("opening rebuilds it")),
        "{:?}",
        report.findings
    );
}

#[test]
fn fsck_copies_the_index_into_the_scratch_directory_it_is_given_and_removes_it() {
    let dir = scratch("fsck-scratch-data");
    let work = scratch("fsck-scratch-work");
    std::fs::create_dir_all(&work).unwrap();
    let (store, _) = Store::open(&dir, indexed()).unwrap();
    fill(&store, 20);
    store.close();
    drop(store);
    let report = fsck(
        &dir,
        &indexed(),
        &FsckOptions::new(false).with_scratch(work.clone()),
        |_| {},
    )
    .unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "the copy was left behind"
    );

    // A scratch directory that cannot be made is named in a finding.
    let blocked = work.join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let report = fsck(
        &dir,
        &indexed(),
        &FsckOptions::new(false).with_scratch(blocked.join("below")),
        |_| {},
    )
    .unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.what.contains("not checked") && f.what.contains("a-file")),
        "{:?}",
        report.findings
    );
}

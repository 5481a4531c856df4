//! Power loss, on a simulated disk that keeps only what was synced (spec/11-storage.md
//! §11.7): hundreds of cuts under concurrent appends and checkpoint saves, after which
//! every acknowledged record is there byte for byte and every saved checkpoint still
//! matches the log; and `fdatasync` failing with EIO, after which the store is fail-stop
//! and acknowledges nothing that is not durable.
//!
//! `cargo test` runs a bounded number of cuts; `URNE_SOAK=1` runs many more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use urne_log::note::{Note, NoteSigner};
use urne_log::{Checkpoint, Hash};
use urne_store::sim::{SimDisk, SimRng};
use urne_store::{FileSystem, IndexBackend, Scrub, Store, StoreError, StoreOptions};

const DIR: &str = "/board";

fn options(disk: &SimDisk) -> StoreOptions {
    StoreOptions {
        fs: Arc::new(disk.clone()),
        index: IndexBackend::Memory,
        scrub: Scrub::Off,
        ..StoreOptions::default()
    }
}

/// With layer keys: only those are indexed by the index thread (entry hashes are in
/// memory, filled before each publication).
fn keyed(disk: &SimDisk) -> StoreOptions {
    StoreOptions {
        index_keys: Some(Arc::new(|i, record: &[u8]| {
            vec![urne_store::IndexEntry {
                tree: "by-record",
                key: record.to_vec(),
                value: i.to_be_bytes().to_vec(),
            }]
        })),
        index_schema: "test/by-record".into(),
        ..options(disk)
    }
}

fn signed(size: u64, root: Hash) -> String {
    let signer = NoteSigner::from_seed("test.example/board", &[3; 32]).unwrap();
    let cp = Checkpoint::new("test.example/board", size, root, vec![]).unwrap();
    let mut note = Note::new(&cp.to_text()).unwrap();
    signer.sign(&mut note);
    note.to_text()
}

fn saved_checkpoint(store: &Store) -> Option<Checkpoint> {
    let text = store.checkpoint()?;
    let note = Note::parse(text.as_bytes()).unwrap();
    Some(Checkpoint::parse(note.text()).unwrap())
}

#[derive(Default)]
struct Witnessed {
    /// Every acknowledged record by index.
    acknowledged: BTreeMap<u64, Vec<u8>>,
    /// Every checkpoint whose save returned Ok: (size, root).
    checkpoints: Vec<(u64, Hash)>,
}

/// Reopens after a cut and checks everything promised before it.
fn check_survivors(disk: &SimDisk, seen: &Witnessed, context: &str) -> Store {
    disk.power_on();
    let (store, report) = Store::open(Path::new(DIR), options(disk))
        .unwrap_or_else(|e| panic!("{context}: reopening failed: {e}"));
    for (index, record) in &seen.acknowledged {
        let entry = store
            .entry(*index)
            .unwrap_or_else(|e| panic!("{context}: acknowledged entry {index} lost: {e}"));
        assert_eq!(&entry, record, "{context}: entry {index} changed");
    }
    if let Some(&(size, _)) = seen.checkpoints.iter().max_by_key(|(s, _)| *s) {
        let kept = report.checkpoint_size.unwrap_or(0);
        assert!(
            kept >= size,
            "{context}: saved checkpoint {size} lost (kept {kept})"
        );
        assert_eq!(saved_checkpoint(&store).map(|c| c.size()), Some(kept));
    }
    for (size, root) in &seen.checkpoints {
        assert_eq!(
            store.root(*size).unwrap(),
            *root,
            "{context}: checkpoint at {size} no longer matches the log"
        );
    }
    if std::env::var_os("URNE_STATS").is_some() {
        eprintln!(
            "{context}: size {} acked {} checkpoints {} cut {:?} repaired {:?}",
            report.size,
            seen.acknowledged.len(),
            seen.checkpoints.len(),
            report.cut.as_ref().map(|c| (c.entry, c.bytes)),
            report.repaired
        );
    }
    if let Some(cut) = &report.cut {
        // Whatever was cut was never acknowledged, and is kept in a side file.
        assert!(cut.entry >= seen.acknowledged.len() as u64, "{context}");
        assert!(disk.read(&Path::new(DIR).join(&cut.file)).is_some());
    }
    // What opening rebuilt is right: the full check agrees.
    store
        .check_all(|_| {})
        .unwrap_or_else(|e| panic!("{context}: full check after recovery: {e}"));
    store
}

/// One disk, several power cuts while 4 threads append and one saves checkpoints.
fn run_disk(seed: u64, cuts: u64) {
    let disk = SimDisk::new();
    let mut rng = SimRng::new(seed);
    let mut seen = Witnessed::default();
    for cut in 0..cuts {
        let context = format!("seed {seed} cut {cut}");
        let store = check_survivors(&disk, &seen, &context);
        let shared = Arc::new(Mutex::new(std::mem::take(&mut seen)));
        let stop = Arc::new(AtomicBool::new(false));
        let target = 20 + rng.below(200);
        let acked = Arc::new(AtomicU64::new(0));
        let mut threads = Vec::new();
        for t in 0..4u64 {
            let (store, shared, stop, acked) = (
                store.clone(),
                Arc::clone(&shared),
                Arc::clone(&stop),
                Arc::clone(&acked),
            );
            let length = 1 + (seed + t) % 300;
            threads.push(std::thread::spawn(move || {
                for s in 0u64.. {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let record = format!("seed {seed} cut {cut} t{t} s{s} ")
                        .into_bytes()
                        .into_iter()
                        .chain(std::iter::repeat_n(
                            b'z',
                            ((length * (s + 1)) % 700) as usize,
                        ))
                        .collect::<Vec<u8>>();
                    match store.append(record.clone()) {
                        Ok(index) => {
                            shared.lock().unwrap().acknowledged.insert(index, record);
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => return,
                    }
                }
            }));
        }
        {
            let (store, shared, stop) = (store.clone(), Arc::clone(&shared), Arc::clone(&stop));
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let size = store.size();
                    if size > 0 {
                        let Ok(root) = store.verified_root(size) else {
                            return;
                        };
                        if store.save_checkpoint(&signed(size, root)).is_ok() {
                            shared.lock().unwrap().checkpoints.push((size, root));
                        }
                    }
                    std::thread::sleep(Duration::from_micros(500));
                }
            }));
        }
        while acked.load(Ordering::SeqCst) < target {
            std::thread::sleep(Duration::from_micros(200));
        }
        disk.power_cut(rng.next_u64());
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            t.join().unwrap();
        }
        drop(store);
        seen = std::mem::take(&mut *shared.lock().unwrap());
    }
    check_survivors(&disk, &seen, &format!("seed {seed} final"));
}

#[test]
fn acknowledged_records_and_saved_checkpoints_survive_power_cuts() {
    let disks: u64 = if std::env::var_os("URNE_SOAK").is_some() {
        400
    } else {
        25
    };
    // 4 cuts per disk: 100 cuts in a normal run, 1,600 with URNE_SOAK=1.
    for seed in 0..disks {
        run_disk(seed, 4);
    }
}

#[test]
fn eio_from_fsync_stops_the_store_and_nothing_unsynced_is_acknowledged() {
    for seed in 0..20u64 {
        let disk = SimDisk::new();
        let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        let acknowledged = Arc::new(Mutex::new(BTreeMap::new()));
        let failures = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let (store, acknowledged, failures) = (
                    store.clone(),
                    Arc::clone(&acknowledged),
                    Arc::clone(&failures),
                );
                std::thread::spawn(move || {
                    for s in 0..200u64 {
                        let record = format!("seed {seed} t{t} s{s}").into_bytes();
                        match store.append(record.clone()) {
                            Ok(i) => {
                                acknowledged.lock().unwrap().insert(i, record);
                            }
                            Err(e) => {
                                assert!(
                                    matches!(e, StoreError::Stopped { .. }),
                                    "unexpected error {e}"
                                );
                                failures.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_micros(200 * (seed % 10)));
        disk.fail_syncs(true);
        for t in threads {
            t.join().unwrap();
        }
        // Fail-stop: once a sync failed, nothing more is accepted, even with a
        // healthy disk again.
        if failures.load(Ordering::SeqCst) > 0 {
            disk.fail_syncs(false);
            assert!(store.stopped().is_some());
            assert!(matches!(
                store.append(b"after the failure".to_vec()),
                Err(StoreError::Stopped { .. })
            ));
        }
        disk.power_cut(seed);
        drop(store);
        let seen = Witnessed {
            acknowledged: std::mem::take(&mut *acknowledged.lock().unwrap()),
            checkpoints: Vec::new(),
        };
        check_survivors(&disk, &seen, &format!("EIO seed {seed}"));
    }
}

#[test]
fn a_new_log_is_durable_in_its_directory_before_its_first_acknowledgement() {
    // Without syncing the directory after creating log.dat, a cut could lose the file's
    // name and with it every acknowledged record.
    for seed in 0..32 {
        let disk = SimDisk::new();
        let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        store.append(b"first".to_vec()).unwrap();
        disk.power_cut(seed);
        drop(store);
        disk.power_on();
        let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        assert_eq!(store.entry(0).unwrap(), b"first", "seed {seed}");
    }
}

struct Counter(AtomicU64);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn pending_appends_are_futures_woken_by_their_group_commit() {
    let disk = SimDisk::new();
    let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
    let counter = Arc::new(Counter(AtomicU64::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    let mut pendings: Vec<_> = (0..64u64)
        .map(|i| store.enqueue(format!("async {i}").into_bytes()).unwrap())
        .collect();
    assert_eq!(
        pendings.iter().map(|p| p.index()).collect::<Vec<_>>(),
        (0..64).collect::<Vec<_>>()
    );
    // Poll each until ready, from this one thread: no thread is parked per request.
    let mut results = vec![None; 64];
    while results.iter().any(Option::is_none) {
        for (i, pending) in pendings.iter_mut().enumerate() {
            if results[i].is_none()
                && let Poll::Ready(r) = Pin::new(&mut *pending).poll(&mut cx)
            {
                results[i] = Some(r.unwrap());
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        results.into_iter().map(Option::unwrap).collect::<Vec<_>>(),
        (0..64).collect::<Vec<_>>()
    );
    assert!(counter.0.load(Ordering::SeqCst) > 0, "never woken");
    // A failing disk wakes async waiters with the error.
    disk.fail_syncs(true);
    let mut failing = store.enqueue(b"doomed".to_vec()).unwrap();
    let outcome = loop {
        if let Poll::Ready(r) = Pin::new(&mut failing).poll(&mut cx) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(matches!(outcome, Err(StoreError::Stopped { .. })));
}

/// A file system that records the largest single read of `log.dat`.
/// A file system that watches `log.dat`: the largest single read, writes that begin
/// past what is durable (a group written before the one ahead of it was synced), and
/// syncs in flight at once.
#[derive(Clone, Default)]
struct Watched {
    disk: SimDisk,
    largest: Arc<AtomicU64>,
    early_writes: Arc<AtomicU64>,
    syncing: Arc<AtomicU64>,
    overlapping_syncs: Arc<AtomicU64>,
}

struct CountedFile {
    file: Arc<dyn urne_store::StoreFile>,
    /// Set for `log.dat` only.
    log: Option<(Watched, std::path::PathBuf)>,
}

impl urne_store::StoreFile for CountedFile {
    fn len(&self) -> std::io::Result<u64> {
        self.file.len()
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        if let Some((watched, _)) = &self.log {
            watched
                .largest
                .fetch_max(buf.len() as u64, Ordering::SeqCst);
        }
        self.file.read_exact_at(buf, offset)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> std::io::Result<()> {
        if let Some((watched, path)) = &self.log {
            let durable = watched.disk.durable(path).map_or(0, |d| d.len() as u64);
            if durable < offset {
                watched.early_writes.fetch_add(1, Ordering::SeqCst);
            }
        }
        self.file.write_all_at(buf, offset)
    }
    fn sync_data(&self) -> std::io::Result<()> {
        let Some((watched, _)) = &self.log else {
            return self.file.sync_data();
        };
        if watched.syncing.fetch_add(1, Ordering::SeqCst) > 0 {
            watched.overlapping_syncs.fetch_add(1, Ordering::SeqCst);
        }
        // Long enough for a second sync to start meanwhile, if one could.
        std::thread::sleep(Duration::from_micros(300));
        let result = self.file.sync_data();
        watched.syncing.fetch_sub(1, Ordering::SeqCst);
        result
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.file.set_len(len)
    }
}

impl urne_store::FileSystem for Watched {
    fn open(&self, path: &Path, create: bool) -> std::io::Result<Arc<dyn urne_store::StoreFile>> {
        let is_log = path.file_name().is_some_and(|n| n == "log.dat");
        Ok(Arc::new(CountedFile {
            file: self.disk.open(path, create)?,
            log: is_log.then(|| (self.clone(), path.to_owned())),
        }))
    }
    fn exists(&self, path: &Path) -> bool {
        self.disk.exists(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.disk.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.disk.sync_dir(dir)
    }
    fn remove(&self, path: &Path) -> std::io::Result<()> {
        self.disk.remove(path)
    }
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        self.disk.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        self.disk.list(dir)
    }
    fn lock(&self, path: &Path, exclusive: bool) -> std::io::Result<urne_store::LockGuard> {
        self.disk.lock(path, exclusive)
    }
    fn supports_sled(&self) -> bool {
        false
    }
}

#[test]
fn rebuilding_offsets_streams_the_log_instead_of_reading_it_whole() {
    let disk = SimDisk::new();
    let dir = Path::new(DIR);
    {
        let (store, _) = Store::open(dir, options(&disk)).unwrap();
        let pending: Vec<_> = (0..12_000u32)
            .map(|i| {
                let mut record = format!("record {i} ").into_bytes();
                record.resize(1000, b'.');
                store.enqueue(record).unwrap()
            })
            .collect();
        for p in pending {
            p.wait().unwrap();
        }
    }
    let log_len = disk.read(&dir.join("log.dat")).unwrap().len() as u64;
    assert!(log_len > 10 << 20);
    disk.remove(&dir.join("offsets.dat")).unwrap();
    let fs = Watched {
        disk: disk.clone(),
        ..Watched::default()
    };
    let largest = Arc::clone(&fs.largest);
    let (store, report) = Store::open(
        dir,
        StoreOptions {
            fs: Arc::new(fs),
            ..options(&disk)
        },
    )
    .unwrap();
    assert_eq!(store.size(), 12_000);
    assert!(report.repaired.iter().any(|r| r.contains("offsets.dat")));
    let largest = largest.load(Ordering::SeqCst);
    assert!(
        largest <= (4 << 20) + 65_536 + 36,
        "read {largest} bytes of a {log_len}-byte log at once"
    );
}

#[test]
fn records_acknowledged_before_the_index_holds_them_are_found_and_survive_a_cut() {
    // The index catches up after the acknowledgement, on its own thread; held here, it
    // lags behind every record. Lookups by hash and by layer key must still find them
    // (the duplicate check of acceptance depends on it), and a cut before the index
    // wrote anything must lose none of them: the index is rebuilt from the log.
    for seed in 0..8u64 {
        let disk = SimDisk::new();
        let keys: urne_store::IndexFn = Arc::new(|i, record: &[u8]| {
            vec![urne_store::IndexEntry {
                tree: "by-record",
                key: record.to_vec(),
                value: i.to_be_bytes().to_vec(),
            }]
        });
        let with_keys = || StoreOptions {
            index_keys: Some(keys.clone()),
            index_schema: "test/by-record".into(),
            ..options(&disk)
        };
        let (store, _) = Store::open(Path::new(DIR), with_keys()).unwrap();
        store.append(b"indexed before the hold".to_vec()).unwrap();
        urne_store::pause_indexer_for_tests(&store, true);
        let mut acknowledged = BTreeMap::new();
        for s in 0..(5 + seed * 7) {
            let record = format!("seed {seed} record {s}").into_bytes();
            let index = store.append(record.clone()).unwrap();
            assert_eq!(
                store.index_of(&urne_log::leaf_hash(&record)).unwrap(),
                Some(index),
                "seed {seed}: acknowledged record {index} not found by hash"
            );
            assert_eq!(
                store.index_get("by-record", &record).unwrap(),
                Some(index.to_be_bytes().to_vec()),
                "seed {seed}: acknowledged record {index} not found by its layer key"
            );
            acknowledged.insert(index, record);
        }
        let scanned = store.index_scan("by-record", b"seed").unwrap();
        assert_eq!(scanned.len(), acknowledged.len(), "seed {seed}");
        assert!(
            store
                .index_get("by-record", b"indexed before the hold")
                .unwrap()
                .is_some()
        );
        disk.power_cut(seed);
        drop(store);
        let seen = Witnessed {
            acknowledged: acknowledged.clone(),
            checkpoints: Vec::new(),
        };
        drop(check_survivors(
            &disk,
            &seen,
            &format!("index held, seed {seed}"),
        ));
        let (store, _) = Store::open(Path::new(DIR), with_keys()).unwrap();
        for (index, record) in &acknowledged {
            assert_eq!(
                store.index_of(&urne_log::leaf_hash(record)).unwrap(),
                Some(*index),
                "seed {seed}: entry {index} not indexed after reopening"
            );
        }
    }
}

#[test]
fn a_record_is_found_by_hash_as_soon_as_it_is_acknowledged() {
    // No hold here: the indexer races the lookups, and none may miss.
    let disk = SimDisk::new();
    let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for s in 0..300u64 {
                    let record = format!("t{t} s{s}").into_bytes();
                    let index = store.append(record.clone()).unwrap();
                    assert_eq!(
                        store.index_of(&urne_log::leaf_hash(&record)).unwrap(),
                        Some(index),
                        "record {index} acknowledged but not found"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// The records of the valid frames at the start of `log.dat`'s bytes, in order.
fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 36 <= bytes.len() {
        let word = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = (word & 0x7fff_ffff) as usize;
        let Some(record) = bytes.get(at + 36..at + 36 + len) else {
            break;
        };
        if len == 0 || urne_log::leaf_hash(record).0 != bytes[at + 4..at + 36] {
            break;
        }
        out.push(record);
        at += 36 + len;
    }
    out
}

#[test]
fn no_record_is_acknowledged_before_its_group_is_synced() {
    // Group commits overlap (one group's derived writes and publication run while the
    // next is synced): an acknowledgement must still never come before its own sync, a
    // group is written only once everything before it is durable (what its
    // group-commit bit claims, spec/11 §11.3), and one sync of log.dat runs at a time.
    let fs = Watched::default();
    let (store, _) = Store::open(
        Path::new(DIR),
        StoreOptions {
            fs: Arc::new(fs.clone()),
            ..options(&fs.disk)
        },
    )
    .unwrap();
    let log = Path::new(DIR).join("log.dat");
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let (store, disk, log) = (store.clone(), fs.disk.clone(), log.clone());
            std::thread::spawn(move || {
                for s in 0..60u64 {
                    let record = format!("t{t} s{s}").into_bytes();
                    let index = store.append(record.clone()).unwrap();
                    let durable = disk.durable(&log).unwrap_or_default();
                    let frames = frames(&durable);
                    assert_eq!(
                        frames.get(index as usize).copied(),
                        Some(record.as_slice()),
                        "record {index} acknowledged before a sync made it durable"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.size(), 480);
    assert_eq!(
        fs.early_writes.load(Ordering::SeqCst),
        0,
        "a group was written before the one ahead of it was durable"
    );
    assert_eq!(
        fs.overlapping_syncs.load(Ordering::SeqCst),
        0,
        "two syncs of log.dat were in flight at once"
    );
}

#[test]
fn frames_written_but_never_synced_are_made_durable_before_a_reopened_store_signs_them() {
    // A run killed between writing a group and syncing it leaves frames in the page
    // cache only. Reopening counts them as entries; unless they are synced first, a
    // checkpoint signed over them is contradicted by the log after a power cut.
    for seed in 0..16u64 {
        let disk = SimDisk::new();
        let log = Path::new(DIR).join("log.dat");
        let scratch = Path::new("/scratch");
        {
            let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
            let (other, _) = Store::open(scratch, options(&disk)).unwrap();
            for i in 0..6u64 {
                let record = format!("seed {seed} record {i}").into_bytes();
                if i < 3 {
                    store.append(record.clone()).unwrap();
                }
                other.append(record).unwrap();
            }
            store.close();
            other.close();
        }
        // The three later frames, written into /board's log without a sync: what a
        // kill between the write and the fdatasync leaves.
        let synced = disk.durable(&log).unwrap();
        let longer = disk.read(&scratch.join("log.dat")).unwrap();
        let file = disk.open(&log, true).unwrap();
        file.write_all_at(&longer[synced.len()..], synced.len() as u64)
            .unwrap();
        drop(file);

        let (store, report) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        assert_eq!(report.size, 6, "seed {seed}");
        let root = store.root(6).unwrap();
        store.save_checkpoint(&signed(6, root)).unwrap();
        disk.power_cut(seed);
        drop(store);
        disk.power_on();
        let (store, report) = Store::open(Path::new(DIR), options(&disk))
            .unwrap_or_else(|e| panic!("seed {seed}: the signed checkpoint lost its log: {e}"));
        assert_eq!(report.checkpoint_size, Some(6), "seed {seed}");
        assert_eq!(store.root(6).unwrap(), root, "seed {seed}");
    }
}

#[test]
fn after_a_failed_sync_the_page_cache_holds_no_frame_the_disk_may_lack() {
    // On Linux an fsync EIO marks the failed pages clean: a restart (§11.1) would read
    // them from the cache, sync "successfully", and sign them; a power cut then loses
    // them. The writer cuts them off before it stops.
    let disk = SimDisk::new();
    let log = Path::new(DIR).join("log.dat");
    let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
    store.append(b"durable".to_vec()).unwrap();
    disk.fail_syncs(true);
    assert!(matches!(
        store.append(b"never synced".to_vec()),
        Err(StoreError::Stopped { .. })
    ));
    store.close();
    assert_eq!(
        disk.read(&log).unwrap(),
        disk.durable(&log).unwrap(),
        "log.dat as readers see it must end at the last durable frame"
    );
    drop(store);
    disk.fail_syncs(false);
    let (store, report) = Store::open(Path::new(DIR), options(&disk)).unwrap();
    assert_eq!(report.size, 1);
    assert_eq!(store.entry(0).unwrap(), b"durable");
}

#[test]
fn a_record_answered_stopped_is_never_served() {
    // A stop (the scrub, a failed index write) racing with a group's publication: the
    // group is either acknowledged or never served, never served while its waiter hears
    // that the store stopped.
    for round in 0..200u64 {
        let disk = SimDisk::new();
        let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut outcomes = Vec::new();
                    for s in 0..400u64 {
                        let Ok(pending) = store.enqueue(format!("r{round} t{t} s{s}").into_bytes())
                        else {
                            break;
                        };
                        let index = pending.index();
                        outcomes.push((index, pending.wait()));
                    }
                    outcomes
                })
            })
            .collect();
        std::thread::sleep(Duration::from_micros(50 * (round % 20)));
        urne_store::stop_for_tests(&store, "a test stopped the store");
        let outcomes: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        store.close();
        let size = store.size();
        for (index, outcome) in outcomes {
            match outcome {
                Ok(i) => assert!(
                    i < size,
                    "round {round}: acknowledged {i} beyond size {size}"
                ),
                Err(e) => {
                    assert!(matches!(e, StoreError::Stopped { .. }), "{e}");
                    assert!(
                        index >= size,
                        "round {round}: entry {index} is served (size {size}) though its append was answered `{e}`"
                    );
                }
            }
        }
    }
}

/// Runs `f` on a thread; a store wedged by a dead thread fails the test instead of
/// hanging it (a liveness bound, not a timing assertion).
fn within_a_minute<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    result
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: the store is wedged"))
}

#[test]
fn a_failed_or_panicking_index_stops_the_store_instead_of_wedging_it() {
    for panic in [false, true] {
        let disk = SimDisk::new();
        // Write 1 is the schema row of a new index; write 3 is the indexer's second batch.
        let failing = StoreOptions {
            index: IndexBackend::FailingForTests { at_apply: 3, panic },
            ..keyed(&disk)
        };
        let (store, _) = Store::open(Path::new(DIR), failing).unwrap();
        let writer = store.clone();
        // More than the index may lag behind the log: with the indexer gone and nobody
        // told, the publisher waits on the lag bound forever.
        let acknowledged = within_a_minute("appending", move || {
            let threads: Vec<_> = (0..8u64)
                .map(|t| {
                    let store = writer.clone();
                    std::thread::spawn(move || {
                        let mut acknowledged = BTreeMap::new();
                        for s in 0..10_000u64 {
                            let record = format!("t{t} s{s}").into_bytes();
                            match store.append(record.clone()) {
                                Ok(i) => {
                                    acknowledged.insert(i, record);
                                }
                                Err(e) => {
                                    assert!(matches!(e, StoreError::Stopped { .. }), "{e}");
                                    break;
                                }
                            }
                        }
                        acknowledged
                    })
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect::<BTreeMap<_, _>>()
        });
        let reason = store.stopped().expect("the store stopped");
        assert!(reason.contains("index"), "panic {panic}: {reason}");
        assert!(matches!(
            store.append(b"after".to_vec()),
            Err(StoreError::Stopped { .. })
        ));
        within_a_minute("closing", move || {
            store.close();
            drop(store);
        });
        let (store, report) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        assert!(report.size >= acknowledged.len() as u64);
        for (index, record) in &acknowledged {
            assert_eq!(&store.entry(*index).unwrap(), record);
            assert_eq!(
                store.index_of(&urne_log::leaf_hash(record)).unwrap(),
                Some(*index)
            );
        }
    }
}

#[test]
fn a_panicking_publisher_stops_the_store_and_wakes_its_waiters() {
    // The layers' key extractor runs on the publisher thread: a bug there must not leave
    // appenders waiting for an acknowledgement nobody will publish.
    let disk = SimDisk::new();
    let keys: urne_store::IndexFn = Arc::new(|_, record: &[u8]| {
        assert!(record != b"boom", "a key extractor bug");
        Vec::new()
    });
    let panicking = StoreOptions {
        index_keys: Some(keys),
        ..options(&disk)
    };
    let (store, _) = Store::open(Path::new(DIR), panicking).unwrap();
    store.append(b"before".to_vec()).unwrap();
    let appender = store.clone();
    let outcome = within_a_minute("appending", move || appender.append(b"boom".to_vec()));
    assert!(
        matches!(outcome, Err(StoreError::Stopped { .. })),
        "{outcome:?}"
    );
    assert!(store.stopped().unwrap().contains("publisher"));
    let later = store.clone();
    let outcome = within_a_minute("appending after", move || later.append(b"after".to_vec()));
    assert!(
        matches!(outcome, Err(StoreError::Stopped { .. })),
        "{outcome:?}"
    );
    within_a_minute("closing", move || store.close());
    let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
    assert_eq!(store.entry(0).unwrap(), b"before");
}

#[test]
fn the_index_lags_the_log_by_at_most_its_bound_and_catches_up() {
    // One record first, so that full groups of 4,096 do not land exactly on the bound.
    const BOUND: u64 = 1 << 16;
    let disk = SimDisk::new();
    let (store, _) = Store::open(Path::new(DIR), keyed(&disk)).unwrap();
    store.append(b"first".to_vec()).unwrap();
    urne_store::pause_indexer_for_tests(&store, true);
    let pending: Vec<_> = (0..BOUND + 8_192)
        .map(|i| store.enqueue(format!("lagging {i}").into_bytes()).unwrap())
        .collect();
    // The publisher stops at the bound; whatever it got to, the lag never exceeds it.
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let size = store.size();
        let lag = urne_store::unindexed_for_tests(&store);
        assert!(
            lag <= BOUND,
            "the index lags by {lag} entries, more than {BOUND}"
        );
        if size == last {
            break;
        }
        last = size;
    }
    assert!(last < BOUND + 8_193, "held at the bound");
    urne_store::pause_indexer_for_tests(&store, false);
    let indexes = within_a_minute("resuming", move || {
        pending
            .into_iter()
            .map(|p| p.wait().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(indexes.len() as u64, BOUND + 8_192);
    assert_eq!(store.size(), BOUND + 8_193);
    assert_eq!(
        store
            .index_of(&urne_log::leaf_hash(b"lagging 70000"))
            .unwrap(),
        Some(70_001)
    );
}

#[test]
fn close_returns_with_the_index_held_at_its_bound() {
    let disk = SimDisk::new();
    let (store, _) = Store::open(Path::new(DIR), keyed(&disk)).unwrap();
    urne_store::pause_indexer_for_tests(&store, true);
    for i in 0..(1u64 << 16) + 8_192 {
        drop(store.enqueue(format!("queued {i}").into_bytes()).unwrap());
    }
    let closing = store.clone();
    within_a_minute("closing", move || closing.close());
    // Appends queued before close are committed.
    assert_eq!(store.size(), (1 << 16) + 8_192);
    drop(store);
    let (store, _) = Store::open(Path::new(DIR), keyed(&disk)).unwrap();
    assert_eq!(
        store
            .index_of(&urne_log::leaf_hash(b"queued 70000"))
            .unwrap(),
        Some(70_000)
    );
}

#[test]
fn an_entry_not_yet_published_is_not_found_by_hash() {
    // The tail is filled before the group is published: a stop in between leaves rows
    // for entries that were never acknowledged, and must not be served.
    for round in 0..100u64 {
        let disk = SimDisk::new();
        let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut hashes = Vec::new();
                    for s in 0..300u64 {
                        let record = format!("r{round} t{t} s{s}").into_bytes();
                        hashes.push(urne_log::leaf_hash(&record));
                        if store.append(record).is_err() {
                            break;
                        }
                    }
                    hashes
                })
            })
            .collect();
        std::thread::sleep(Duration::from_micros(50 * (round % 20)));
        urne_store::stop_for_tests(&store, "a test stopped the store");
        let hashes: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let size = store.size();
        for hash in hashes {
            if let Some(index) = store.index_of(&hash).unwrap() {
                assert!(index < size, "round {round}: found at {index}, size {size}");
            }
        }
    }
}

#[test]
fn a_failed_derived_file_write_stops_the_store_and_loses_nothing_acknowledged() {
    // The publisher writes offsets and node hashes after the group's sync: a write that
    // fails there must be reported (the store stops, the group's waiter is told) and
    // must cost nothing that was acknowledged.
    for (seed, file) in ["offsets.dat", "height-0.dat", "height-1.dat"]
        .into_iter()
        .enumerate()
    {
        let disk = SimDisk::new();
        let (store, _) = Store::open(Path::new(DIR), options(&disk)).unwrap();
        let mut acknowledged = BTreeMap::new();
        // Eleven: the twelfth entry completes a node of height 1.
        for i in 0..11 {
            let record = format!("acknowledged {i}").into_bytes();
            acknowledged.insert(store.append(record.clone()).unwrap(), record);
        }
        let path = Path::new(DIR).join(file);
        disk.fail_writes_to(&path, true);
        let outcome = store.append(b"written when the disk failed".to_vec());
        assert!(
            matches!(outcome, Err(StoreError::Stopped { .. })),
            "{file}: {outcome:?}"
        );
        let reason = store.stopped().expect("the store stopped");
        assert!(
            reason.contains(file),
            "{file}: the reason names no file: {reason}"
        );
        assert!(
            matches!(
                store.append(b"after".to_vec()),
                Err(StoreError::Stopped { .. })
            ),
            "{file}: accepted after the failure"
        );
        assert_eq!(store.size(), 11, "{file}: the failed group was published");
        assert_eq!(
            store
                .index_of(&urne_log::leaf_hash(b"written when the disk failed"))
                .unwrap(),
            None,
            "{file}: a record never acknowledged is found"
        );
        within_a_minute("closing", move || {
            store.close();
            drop(store);
        });
        disk.power_cut(seed as u64);
        let seen = Witnessed {
            acknowledged,
            checkpoints: Vec::new(),
        };
        let store = check_survivors(&disk, &seen, &format!("failed write to {file}"));
        for (index, record) in &seen.acknowledged {
            assert_eq!(
                store.index_of(&urne_log::leaf_hash(record)).unwrap(),
                Some(*index),
                "{file}"
            );
        }
        assert!(store.append(b"after the repair".to_vec()).is_ok(), "{file}");
    }
}

#[test]
fn layer_rows_of_a_group_refused_publication_are_never_found() {
    // The publisher fills the tail before it publishes a group; a stop in between
    // refuses the publication, and the group is never acknowledged. Its layer rows must
    // then be found neither in the tail nor in the index, and a key it rewrote keeps
    // the value acknowledged before it.
    const BOUND: u64 = 1 << 16;
    let disk = SimDisk::new();
    let keys: urne_store::IndexFn = Arc::new(|i, record: &[u8]| {
        let key = if record.starts_with(b"shared") {
            b"shared".to_vec()
        } else {
            record.to_vec()
        };
        vec![urne_store::IndexEntry {
            tree: "by-record",
            key,
            value: i.to_be_bytes().to_vec(),
        }]
    });
    let (store, _) = Store::open(
        Path::new(DIR),
        StoreOptions {
            index_keys: Some(keys),
            index_schema: "test/by-record".into(),
            ..options(&disk)
        },
    )
    .unwrap();
    store.append(b"shared 0".to_vec()).unwrap();
    // Held, the indexer lets the tail fill to its bound; the publisher then waits, with
    // the next groups synced, before it publishes them.
    urne_store::pause_indexer_for_tests(&store, true);
    let pending: Vec<_> = (0..BOUND + 8_192)
        .map(|i| {
            let record = if i == BOUND + 8_000 {
                b"shared late".to_vec()
            } else {
                format!("held {i}").into_bytes()
            };
            store.enqueue(record).unwrap()
        })
        .collect();
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let size = store.size();
        if size == last {
            break;
        }
        last = size;
    }
    assert!(last < BOUND + 8_193, "the publisher was not held");
    urne_store::stop_for_tests(&store, "a test stops the store");
    urne_store::pause_indexer_for_tests(&store, false);
    let outcomes = within_a_minute("stopping", move || {
        pending
            .into_iter()
            .map(|p| p.wait().is_ok())
            .collect::<Vec<_>>()
    });
    // Closing waits for the publisher, which was held with a synced group and then
    // refused its publication, and for the indexer.
    let closing = store.clone();
    within_a_minute("closing", move || closing.close());
    let durable = store.size();
    assert!(durable < BOUND + 8_193, "every group was published");
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count() as u64,
        durable - 1,
        "acknowledged exactly the published groups"
    );
    for i in [durable - 1, durable, BOUND + 8_191] {
        let record = format!("held {i}").into_bytes();
        let found = store.index_get("by-record", &record).unwrap();
        if i < durable - 1 {
            assert!(found.is_some());
        } else {
            assert_eq!(found, None, "held {i}, never acknowledged, is found");
        }
    }
    assert_eq!(
        store.index_get("by-record", b"shared").unwrap(),
        Some(0u64.to_be_bytes().to_vec()),
        "an unacknowledged group's value hides the acknowledged one"
    );
    let scanned = store.index_scan("by-record", b"held").unwrap();
    assert_eq!(
        scanned.len() as u64,
        durable - 1,
        "the scan lists rows of groups never acknowledged"
    );
}

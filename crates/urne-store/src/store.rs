//! The store: opening and recovery, the group-commit writer, reads, proofs, tiles,
//! checkpoints.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use urne_log::hash::node_hash;
use urne_log::proof::{
    HashSource, ProofRequestError, consistency_proof, inclusion_proof, range_hash,
};
use urne_log::tiles::TILE_WIDTH;
use urne_log::{Checkpoint, Hash, leaf_hash};

use crate::error::{StoreError, io};
use crate::frame::{self, FRAME_HEADER, FrameRead, MAX_RECORD_BYTES};
use crate::levels::RecordFile;

const LOG: &str = "log.dat";
const OFFSETS: &str = "offsets.dat";
const CHECKPOINT: &str = "checkpoint";
const INDEX: &str = "index.sled";
/// Most records one group commit writes.
const MAX_BATCH: usize = 4096;
/// Tree holding entry hash → index.
const BY_HASH: &str = "entry-by-hash";
/// Tree holding the index's own bookkeeping.
const META: &str = "meta";

fn height_file(height: u32) -> String {
    format!("height-{height}.dat")
}

/// Heights below this are read from their files on demand; from it up (1/256 of the
/// leaves and less) they are also kept in memory.
const MEMORY_FROM: u32 = 8;

/// A key the index keeps for a record: (tree, key, value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// sled tree name.
    pub tree: &'static str,
    /// Key.
    pub key: Vec<u8>,
    /// Value.
    pub value: Vec<u8>,
}

/// Extracts the index keys of a record (entry index, bytes). Run for every append and,
/// when the index is rebuilt, for every record of the log, so it must be a pure
/// function of the record.
pub type IndexFn = Arc<dyn Fn(u64, &[u8]) -> Vec<IndexEntry> + Send + Sync>;

/// How to open a store.
#[derive(Clone, Default)]
pub struct StoreOptions {
    /// Extra index keys, for the layers above (tracking codes, nullifiers, …).
    pub index_keys: Option<IndexFn>,
    /// Names what `index_keys` extracts (`urne-board/v1`). An index built under another
    /// schema is rebuilt, so that opening the store with other options can never leave
    /// an index that silently lacks keys.
    pub index_schema: String,
}

/// What opening found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Entries in the log.
    pub size: u64,
    /// Bytes of a torn tail cut off `log.dat`.
    pub truncated_bytes: u64,
    /// Derived files or indexes that were rebuilt or extended from the log.
    pub repaired: Vec<String>,
    /// The saved checkpoint's size, if any; the log agrees with it.
    pub checkpoint_size: Option<u64>,
}

struct State {
    size: u64,
    offsets: Vec<u64>,
    /// Node hashes of heights MEMORY_FROM and up (index: height − MEMORY_FROM).
    upper: Vec<Vec<Hash>>,
}

struct Request {
    record: Vec<u8>,
    reply: SyncSender<Result<u64, StoreError>>,
}

struct Inner {
    dir: PathBuf,
    log_reader: File,
    /// Readers of heights 0 … MEMORY_FROM − 1.
    height_readers: Vec<File>,
    state: RwLock<State>,
    index: sled::Db,
    failed: Arc<AtomicBool>,
    /// Held for the store's lifetime: one process per data directory.
    _lock: File,
    checkpoint: RwLock<Option<String>>,
    /// The last root computed (size, root): proofs are asked for at the checkpoint's size.
    root_cache: Mutex<Option<(u64, Hash)>>,
    /// Serialises checkpoint saving with the fsync of derived files.
    checkpoint_lock: Mutex<()>,
}

/// The writer thread and the only sender to it. Dropping the last store clone drops
/// this, which lets the writer finish what is queued and exit.
struct WriterHandle {
    sender: Mutex<Option<Sender<Request>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl WriterHandle {
    fn stop(&self) {
        self.sender.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The durable log. Cheap to clone; all clones share one writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    writer: Arc<WriterHandle>,
}

/// An append waiting for its group commit.
pub struct Pending(Receiver<Result<u64, StoreError>>);

impl Pending {
    /// Blocks until the record is durable; returns its index.
    pub fn wait(self) -> Result<u64, StoreError> {
        self.0.recv().unwrap_or(Err(StoreError::Failed))
    }
}

/// Reads one frame at `offset`, returning its record and hash.
fn read_frame(file: &File, path: &Path, offset: u64) -> Result<(Vec<u8>, Hash), StoreError> {
    let mut header = [0u8; FRAME_HEADER];
    file.read_exact_at(&mut header, offset).map_err(io(path))?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if len == 0 || len > MAX_RECORD_BYTES {
        return Err(StoreError::Corrupt {
            what: "log.dat",
            detail: format!("bad record length at offset {offset}"),
        });
    }
    let mut record = vec![0u8; len];
    file.read_exact_at(&mut record, offset + FRAME_HEADER as u64)
        .map_err(io(path))?;
    let hash = leaf_hash(&record);
    if hash.0 != header[4..] {
        return Err(StoreError::Corrupt {
            what: "log.dat",
            detail: format!("checksum mismatch at offset {offset}"),
        });
    }
    Ok((record, hash))
}

/// Level files and in-memory state during opening.
struct Opened {
    log: File,
    offsets: RecordFile,
    heights: Vec<RecordFile>,
    state: State,
    report: OpenReport,
}

fn open_log(dir: &Path, checkpoint: Option<&Checkpoint>) -> Result<Opened, StoreError> {
    let log_path = dir.join(LOG);
    let log = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&log_path)
        .map_err(io(&log_path))?;
    let log_len = log.metadata().map_err(io(&log_path))?.len();
    let mut offsets = RecordFile::open(&dir.join(OFFSETS), 8)?;
    let mut report = OpenReport::default();

    // Offsets are derived: trust them only as far as they point at valid frames in order.
    let raw = offsets.read_all()?;
    let mut known: Vec<u64> = raw
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    let mut verified_end = 0u64;
    let mut consistent = true;
    if let Some(&last) = known.last() {
        // Check the last frame and that offsets increase; frames in between are
        // checked when read (their checksums), not rehashed here.
        let increasing = known.windows(2).all(|w| w[0] < w[1]) && known.first() == Some(&0);
        match (increasing, read_frame(&log, &log_path, last)) {
            (true, Ok((record, _))) => verified_end = last + (FRAME_HEADER + record.len()) as u64,
            _ => consistent = false,
        }
    }
    if !consistent {
        known.clear();
        verified_end = 0;
        report
            .repaired
            .push("offsets.dat rebuilt from log.dat".into());
    }

    // Scan whatever lies beyond the known frames.
    let mut position = verified_end;
    let mut tail = vec![0u8; (log_len - verified_end.min(log_len)) as usize];
    log.read_exact_at(&mut tail, verified_end)
        .map_err(io(&log_path))?;
    let mut cursor = 0usize;
    let mut new_offsets = Vec::new();
    while cursor < tail.len() {
        match frame::check(&tail[cursor..]) {
            FrameRead::Valid { len, .. } => {
                new_offsets.push(position);
                position += len as u64;
                cursor += len;
            }
            FrameRead::Truncated | FrameRead::Damaged(_) => break,
        }
    }
    if position < log_len {
        // A torn tail holds only unacknowledged bytes — unless it lies inside what the
        // last checkpoint covers, which was acknowledged: that is corruption.
        let entries = known.len() as u64 + new_offsets.len() as u64;
        if let Some(cp) = checkpoint
            && entries < cp.size()
        {
            return Err(StoreError::Corrupt {
                what: "log.dat",
                detail: format!(
                    "damaged frame at offset {position} inside the {} checkpointed entries",
                    cp.size()
                ),
            });
        }
        log.set_len(position).map_err(io(&log_path))?;
        log.sync_all().map_err(io(&log_path))?;
        report.truncated_bytes = log_len - position;
    }
    if !new_offsets.is_empty() || !consistent {
        offsets.truncate(known.len() as u64)?;
        if !consistent {
            offsets.truncate(0)?;
        }
        let bytes: Vec<u8> = new_offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        offsets.append(&bytes)?;
        if consistent && !new_offsets.is_empty() {
            report.repaired.push(format!(
                "offsets.dat extended by {} entries",
                new_offsets.len()
            ));
        }
        known.extend(new_offsets);
    }
    let size = known.len() as u64;

    // Node hashes of every height: node p at height h covers leaves [p·2^h, (p+1)·2^h).
    let leaf_at = |i: u64| -> Result<Hash, StoreError> {
        read_frame(&log, &log_path, known[i as usize]).map(|(_, h)| h)
    };
    let mut heights: Vec<RecordFile> = Vec::new();
    let mut upper: Vec<Vec<Hash>> = Vec::new();
    let mut h = 0u32;
    loop {
        let expected = if h >= 64 { 0 } else { size >> h };
        if h >= MEMORY_FROM && expected == 0 {
            // Remove stale heights, if a longer log once existed here.
            let mut stale = h;
            while dir.join(height_file(stale)).exists() {
                let path = dir.join(height_file(stale));
                std::fs::remove_file(&path).map_err(io(&path))?;
                stale += 1;
            }
            break;
        }
        let mut file = RecordFile::open(&dir.join(height_file(h)), 32)?;
        if file.count() > expected {
            file.truncate(expected)?;
        }
        // The hashes of positions [from, to) at this height, from the log or the height below.
        let compute =
            |from: u64, to: u64, heights: &Vec<RecordFile>| -> Result<Vec<Hash>, StoreError> {
                if h == 0 {
                    return (from..to).map(leaf_at).collect();
                }
                let below = heights[h as usize - 1].read(2 * from, 2 * (to - from))?;
                let hashes: Vec<Hash> = below
                    .chunks_exact(32)
                    .filter_map(Hash::from_slice)
                    .collect();
                Ok(hashes
                    .chunks_exact(2)
                    .map(|pair| node_hash(&pair[0], &pair[1]))
                    .collect())
            };
        if file.count() > 0 {
            let last = file.count() - 1;
            let stored = Hash::from_slice(&file.read(last, 1)?).unwrap_or_default();
            if compute(last, last + 1, &heights)?.first() != Some(&stored) {
                file.truncate(0)?;
                report.repaired.push(format!("{} rebuilt", height_file(h)));
            }
        }
        if file.count() < expected {
            let from = file.count();
            let hashes = compute(from, expected, &heights)?;
            file.append(&hashes.iter().flat_map(|x| x.0).collect::<Vec<u8>>())?;
            if from > 0 {
                report.repaired.push(format!(
                    "{} extended by {} hashes",
                    height_file(h),
                    expected - from
                ));
            }
        }
        if h >= MEMORY_FROM {
            upper.push(
                file.read_all()?
                    .chunks_exact(32)
                    .filter_map(Hash::from_slice)
                    .collect(),
            );
        }
        heights.push(file);
        h += 1;
    }
    report.size = size;
    Ok(Opened {
        log,
        offsets,
        heights,
        state: State {
            size,
            offsets: known,
            upper,
        },
        report,
    })
}

/// Node hashes of the log as it was opened, for the root check before serving.
struct OpenedHashes<'a> {
    heights: &'a [RecordFile],
}

impl HashSource for OpenedHashes<'_> {
    type Error = StoreError;
    fn subtree(&self, height: u32, index: u64) -> Result<Hash, StoreError> {
        let missing = || StoreError::OutOfRange {
            detail: format!("no node {index} at height {height}"),
        };
        let file = self.heights.get(height as usize).ok_or_else(missing)?;
        if index >= file.count() {
            return Err(missing());
        }
        Hash::from_slice(&file.read(index, 1)?).ok_or_else(missing)
    }
}

fn read_checkpoint(dir: &Path) -> Result<Option<(String, Checkpoint)>, StoreError> {
    let path = dir.join(CHECKPOINT);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Io { path, source: e }),
    };
    let note = urne_log::note::Note::parse(text.as_bytes()).map_err(|e| StoreError::Corrupt {
        what: "checkpoint",
        detail: e.to_string(),
    })?;
    let checkpoint = Checkpoint::parse(note.text()).map_err(|e| StoreError::Corrupt {
        what: "checkpoint",
        detail: e.to_string(),
    })?;
    Ok(Some((text, checkpoint)))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Index: entry hashes and the layers' keys, with the count of entries indexed and the
/// hash of the last one, to tell whether it agrees with the log.
fn index_batch<R: AsRef<[u8]>>(
    batch: &[(u64, R, Hash)],
    db: &sled::Db,
    keys: &Option<IndexFn>,
) -> Result<(), StoreError> {
    let by_hash = db.open_tree(BY_HASH)?;
    let mut hashes = sled::Batch::default();
    let mut others: std::collections::BTreeMap<&'static str, sled::Batch> = Default::default();
    for (index, record, hash) in batch.iter() {
        hashes.insert(&hash.0, &index.to_be_bytes());
        if let Some(f) = keys {
            for entry in f(*index, record.as_ref()) {
                others
                    .entry(entry.tree)
                    .or_default()
                    .insert(entry.key, entry.value);
            }
        }
    }
    by_hash.apply_batch(hashes)?;
    for (tree, b) in others {
        db.open_tree(tree)?.apply_batch(b)?;
    }
    if let Some((index, _, hash)) = batch.last() {
        let meta = db.open_tree(META)?;
        let mut m = sled::Batch::default();
        m.insert("count", &(index + 1).to_be_bytes());
        m.insert("tip", &hash.0);
        meta.apply_batch(m)?;
    }
    Ok(())
}

enum SledOpen {
    Locked(sled::Error),
    Unreadable,
}

/// sled releases its directory lock from a background thread after the last handle is
/// dropped: wait for it a little rather than mistake a lock for corruption.
fn open_sled(path: &Path) -> Result<sled::Db, SledOpen> {
    let started = std::time::Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return Ok(db),
            // sled reports its lock as ErrorKind::Other with this message, nothing else.
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                if started.elapsed() > std::time::Duration::from_secs(5) {
                    return Err(SledOpen::Locked(sled::Error::Io(e)));
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(_) => return Err(SledOpen::Unreadable),
        }
    }
}

fn open_index(
    dir: &Path,
    log: &File,
    offsets: &[u64],
    options: &StoreOptions,
    report: &mut OpenReport,
) -> Result<sled::Db, StoreError> {
    let keys = &options.index_keys;
    let path = dir.join(INDEX);
    let log_path = dir.join(LOG);
    let size = offsets.len() as u64;
    let tip = |i: u64| -> Result<Hash, StoreError> {
        read_frame(log, &log_path, offsets[i as usize]).map(|(_, h)| h)
    };
    let opened = open_sled(&path);
    let (db, from) = match opened {
        Err(SledOpen::Locked(e)) => {
            return Err(StoreError::Index(format!("{}: {e}", path.display())));
        }
        Ok(db) => {
            let meta = db.open_tree(META)?;
            let count = meta
                .get("count")?
                .and_then(|v| v.as_ref().try_into().ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            let stored_tip = meta.get("tip")?.and_then(|v| Hash::from_slice(&v));
            let schema = meta.get("schema")?.map(|v| v.to_vec()).unwrap_or_default();
            let same_schema = schema == options.index_schema.as_bytes();
            let agrees = count <= size && (count == 0 || stored_tip == Some(tip(count - 1)?));
            if agrees && same_schema {
                (db, count)
            } else if !same_schema {
                drop(db);
                std::fs::remove_dir_all(&path).map_err(io(&path))?;
                report
                    .repaired
                    .push("index rebuilt from the log (it was built for another schema)".into());
                (sled::open(&path)?, 0)
            } else {
                drop(db);
                std::fs::remove_dir_all(&path).map_err(io(&path))?;
                report
                    .repaired
                    .push("index rebuilt from the log (it disagreed with the log)".into());
                (sled::open(&path)?, 0)
            }
        }
        Err(SledOpen::Unreadable) => {
            if path.exists() {
                std::fs::remove_dir_all(&path).map_err(io(&path))?;
            }
            report
                .repaired
                .push("index rebuilt from the log (it could not be opened)".into());
            (sled::open(&path)?, 0)
        }
    };
    if from == 0 {
        db.open_tree(META)?
            .insert("schema", options.index_schema.as_bytes())?;
    }
    if from < size {
        if from > 0 {
            report
                .repaired
                .push(format!("index extended by {} entries", size - from));
        }
        let mut batch = Vec::with_capacity(1024);
        for i in from..size {
            let (record, hash) = read_frame(log, &log_path, offsets[i as usize])?;
            batch.push((i, record, hash));
            if batch.len() == 1024 {
                index_batch(&batch, &db, keys)?;
                batch.clear();
            }
        }
        index_batch(&batch, &db, keys)?;
    }
    Ok(db)
}

/// The writer thread's files.
struct Writer {
    dir: PathBuf,
    log: File,
    offsets: RecordFile,
    heights: Vec<RecordFile>,
    end: u64,
    keys: Option<IndexFn>,
}

impl Writer {
    fn run(mut self, inner: Arc<Inner>, requests: Receiver<Request>) {
        let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
        while let Ok(first) = requests.recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            let result = if inner.failed.load(Ordering::SeqCst) {
                Err(StoreError::Failed)
            } else {
                self.commit(&inner, &batch)
            };
            match result {
                Ok(first_index) => {
                    for (i, r) in batch.drain(..).enumerate() {
                        let _ = r.reply.send(Ok(first_index + i as u64));
                    }
                }
                Err(e) => {
                    // Fail-stop: after an I/O error nothing more is acknowledged until a
                    // restart recovers from the log.
                    inner.failed.store(true, Ordering::SeqCst);
                    let message = e.to_string();
                    for r in batch.drain(..) {
                        let _ = r.reply.send(Err(StoreError::Corrupt {
                            what: "write",
                            detail: message.clone(),
                        }));
                    }
                }
            }
        }
    }

    fn commit(&mut self, inner: &Inner, batch: &[Request]) -> Result<u64, StoreError> {
        let first_index = read_state(inner).size;
        let mut buffer =
            Vec::with_capacity(batch.iter().map(|r| r.record.len() + FRAME_HEADER).sum());
        let mut hashes = Vec::with_capacity(batch.len());
        let mut offsets = Vec::with_capacity(batch.len());
        let mut position = self.end;
        for r in batch {
            let hash = leaf_hash(&r.record);
            offsets.push(position);
            position += (FRAME_HEADER + r.record.len()) as u64;
            frame::encode(&r.record, &hash, &mut buffer);
            hashes.push(hash);
        }
        let log_path = self.dir.join(LOG);
        self.log.write_all(&buffer).map_err(io(&log_path))?;
        // The acknowledgement point: nothing is acknowledged before this returns.
        self.log.sync_data().map_err(io(&log_path))?;
        self.end = position;

        // Derived data, rebuilt on open if a crash interrupts it.
        self.offsets.append(
            &offsets
                .iter()
                .flat_map(|o| o.to_le_bytes())
                .collect::<Vec<u8>>(),
        )?;
        self.heights[0].append(&hashes.iter().flat_map(|h| h.0).collect::<Vec<u8>>())?;
        let new_size = first_index + batch.len() as u64;
        let mut new_upper: Vec<(u32, Vec<Hash>)> = Vec::new();
        let mut h = 1u32;
        while h < 64 && new_size >> h > 0 {
            if self.heights.len() <= h as usize {
                self.heights
                    .push(RecordFile::open(&self.dir.join(height_file(h)), 32)?);
            }
            let have = self.heights[h as usize].count();
            let complete = new_size >> h;
            if have < complete {
                let below = self.heights[h as usize - 1].read(2 * have, 2 * (complete - have))?;
                let children: Vec<Hash> = below
                    .chunks_exact(32)
                    .filter_map(Hash::from_slice)
                    .collect();
                let added: Vec<Hash> = children
                    .chunks_exact(2)
                    .map(|pair| node_hash(&pair[0], &pair[1]))
                    .collect();
                self.heights[h as usize]
                    .append(&added.iter().flat_map(|x| x.0).collect::<Vec<u8>>())?;
                if h >= MEMORY_FROM {
                    new_upper.push((h, added));
                }
            }
            h += 1;
        }
        let index_rows: Vec<(u64, &[u8], Hash)> = batch
            .iter()
            .zip(&hashes)
            .enumerate()
            .map(|(i, (r, h))| (first_index + i as u64, r.record.as_slice(), *h))
            .collect();
        index_batch(&index_rows, &inner.index, &self.keys)?;

        let mut state = inner.state.write().unwrap_or_else(|p| p.into_inner());
        state.offsets.extend(offsets);
        for (h, added) in new_upper {
            let i = (h - MEMORY_FROM) as usize;
            while state.upper.len() <= i {
                state.upper.push(Vec::new());
            }
            state.upper[i].extend(added);
        }
        state.size = new_size;
        Ok(first_index)
    }
}

fn read_state(inner: &Inner) -> std::sync::RwLockReadGuard<'_, State> {
    inner.state.read().unwrap_or_else(|p| p.into_inner())
}

impl Store {
    /// Opens (creating) the store in `dir`, recovering as spec/11-storage.md says.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<(Self, OpenReport), StoreError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(StoreError::Locked {
                path: dir.to_owned(),
            });
        }
        let saved = read_checkpoint(dir)?;
        let Opened {
            log,
            offsets,
            heights,
            state,
            mut report,
        } = open_log(dir, saved.as_ref().map(|(_, c)| c))?;
        if let Some((_, checkpoint)) = &saved {
            let found = if checkpoint.size() <= state.size {
                Some(range_hash(
                    &OpenedHashes { heights: &heights },
                    0,
                    checkpoint.size(),
                )?)
            } else {
                None
            };
            if found != Some(*checkpoint.root()) {
                return Err(StoreError::ContradictsCheckpoint {
                    size: checkpoint.size(),
                    expected: *checkpoint.root(),
                    found,
                });
            }
            report.checkpoint_size = Some(checkpoint.size());
        }
        let index = open_index(dir, &log, &state.offsets, &options, &mut report)?;
        let end = match state.offsets.last() {
            Some(&last) => {
                last + (FRAME_HEADER + read_frame(&log, &dir.join(LOG), last)?.0.len()) as u64
            }
            None => 0,
        };
        let height_readers = heights
            .iter()
            .take(MEMORY_FROM as usize)
            .map(RecordFile::reader)
            .collect::<Result<Vec<File>, _>>()?;
        let log_reader = log.try_clone().map_err(io(&dir.join(LOG)))?;
        let (sender, receiver) = channel();
        let inner = Arc::new(Inner {
            dir: dir.to_owned(),
            log_reader,
            height_readers,
            state: RwLock::new(state),
            index,
            failed: Arc::new(AtomicBool::new(false)),
            _lock: lock,
            checkpoint: RwLock::new(saved.map(|(text, _)| text)),
            root_cache: Mutex::new(None),
            checkpoint_lock: Mutex::new(()),
        });
        let writer = Writer {
            dir: dir.to_owned(),
            log,
            offsets,
            heights,
            end,
            keys: options.index_keys,
        };
        let thread_inner = Arc::clone(&inner);
        let handle = std::thread::Builder::new()
            .name("urne-store-writer".into())
            .spawn(move || writer.run(thread_inner, receiver))
            .map_err(io(dir))?;
        let writer = Arc::new(WriterHandle {
            sender: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(handle)),
        });
        Ok((Self { inner, writer }, report))
    }

    /// Queues a record for the next group commit. Records are appended in the order
    /// they are queued.
    pub fn enqueue(&self, record: Vec<u8>) -> Result<Pending, StoreError> {
        if record.is_empty() || record.len() > MAX_RECORD_BYTES {
            return Err(StoreError::RecordSize { len: record.len() });
        }
        if self.inner.failed.load(Ordering::SeqCst) {
            return Err(StoreError::Failed);
        }
        let (reply, receiver) = sync_channel(1);
        let sender = self.writer.sender.lock().unwrap_or_else(|p| p.into_inner());
        sender
            .as_ref()
            .ok_or(StoreError::Failed)?
            .send(Request { record, reply })
            .map_err(|_| StoreError::Failed)?;
        Ok(Pending(receiver))
    }

    /// Appends a record and waits until it is durable; returns its index.
    pub fn append(&self, record: Vec<u8>) -> Result<u64, StoreError> {
        self.enqueue(record)?.wait()
    }

    /// Number of durable entries.
    pub fn size(&self) -> u64 {
        read_state(&self.inner).size
    }

    /// The record at `index`, as stored: its frame checksum verified, and its leaf hash
    /// checked against the tree's, so that a record altered in `log.dat` is never served
    /// as if it were the one the tree (and its checkpoints) commit to.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        let offset = {
            let state = read_state(&self.inner);
            *state
                .offsets
                .get(index as usize)
                .ok_or_else(|| StoreError::OutOfRange {
                    detail: format!("entry {index} is beyond the log's {} entries", state.size),
                })?
        };
        let (record, hash) = read_frame(&self.inner.log_reader, &self.inner.dir.join(LOG), offset)?;
        if hash != self.node(0, index)? {
            return Err(StoreError::Corrupt {
                what: "log.dat",
                detail: format!("entry {index} does not match the leaf hash the tree holds for it"),
            });
        }
        Ok(record)
    }

    /// The leaf hash of entry `index`.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, StoreError> {
        self.node(0, index)
    }

    /// Index of the entry whose leaf hash is `hash`.
    pub fn index_of(&self, hash: &Hash) -> Result<Option<u64>, StoreError> {
        let tree = self.inner.index.open_tree(BY_HASH)?;
        Ok(tree
            .get(hash.0)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map(u64::from_be_bytes))
    }

    /// A tree of the index, for the layers' own keys (see [`StoreOptions::index_keys`]).
    pub fn index_tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.inner.index.open_tree(name)?)
    }

    fn check_size(&self, size: u64) -> Result<(), StoreError> {
        let current = self.size();
        if size > current {
            return Err(StoreError::OutOfRange {
                detail: format!("tree size {size} exceeds the log's {current}"),
            });
        }
        Ok(())
    }

    /// The root at `size` (≤ the current size).
    pub fn root(&self, size: u64) -> Result<Hash, StoreError> {
        self.check_size(size)?;
        if let Some((cached_size, root)) = *self
            .inner
            .root_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            && cached_size == size
        {
            return Ok(root);
        }
        let root = range_hash(self, 0, size)?;
        *self
            .inner
            .root_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((size, root));
        Ok(root)
    }

    /// Inclusion proof of `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_size(size)?;
        inclusion_proof(self, index, size).map_err(proof_error)
    }

    /// Consistency proof between two sizes.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_size(second)?;
        consistency_proof(self, first, second).map_err(proof_error)
    }

    /// The bytes of hash tile (level, index), `width` hashes (256 for a full tile):
    /// nodes at height 8·level.
    pub fn tile(&self, level: u8, index: u64, width: u64) -> Result<Vec<u8>, StoreError> {
        let start = index
            .checked_mul(TILE_WIDTH)
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "tile index too large".into(),
            })?;
        let hashes = self.nodes(u32::from(level) * 8, start, width)?;
        Ok(hashes.iter().flat_map(|h| h.0).collect())
    }

    /// The entry bundle `index` of `width` entries: each a u16 big-endian length and bytes.
    pub fn entry_bundle(&self, index: u64, width: u64) -> Result<Vec<u8>, StoreError> {
        let start = index
            .checked_mul(TILE_WIDTH)
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "bundle index too large".into(),
            })?;
        let mut out = Vec::new();
        let end = start
            .checked_add(width)
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "bundle index too large".into(),
            })?;
        for i in start..end {
            let record = self.entry(i)?;
            out.extend_from_slice(&(record.len() as u16).to_be_bytes());
            out.extend_from_slice(&record);
        }
        Ok(out)
    }

    /// The full check opening does not make: every frame of `log.dat` is read and
    /// rehashed and compared with the tree's leaf hashes, and every height of the tree
    /// is recomputed from the one below. Returns the entries checked; the first
    /// disagreement is an error naming the entry or node. `progress` is called with the
    /// entries checked so far.
    pub fn check_all(&self, mut progress: impl FnMut(u64)) -> Result<u64, StoreError> {
        let size = self.size();
        let offsets: Vec<u64> = read_state(&self.inner).offsets[..size as usize].to_vec();
        let log_path = self.inner.dir.join(LOG);
        for (i, offset) in offsets.iter().enumerate() {
            let (_, hash) = read_frame(&self.inner.log_reader, &log_path, *offset)?;
            if hash != self.node(0, i as u64)? {
                return Err(StoreError::Corrupt {
                    what: "log.dat",
                    detail: format!("entry {i} does not match the leaf hash the tree holds for it"),
                });
            }
            if i % 65_536 == 0 {
                progress(i as u64);
            }
        }
        let mut height = 1u32;
        while height < 64 && size >> height > 0 {
            let count = size >> height;
            let chunk = 1u64 << 16;
            let mut start = 0u64;
            while start < count {
                let n = chunk.min(count - start);
                let children = self.nodes(height - 1, 2 * start, 2 * n)?;
                let stored = self.nodes(height, start, n)?;
                for (p, (pair, node)) in children.chunks_exact(2).zip(&stored).enumerate() {
                    if node_hash(&pair[0], &pair[1]) != *node {
                        return Err(StoreError::Corrupt {
                            what: "height files",
                            detail: format!(
                                "node {} at height {height} does not hash its children",
                                start + p as u64
                            ),
                        });
                    }
                }
                start += n;
            }
            height += 1;
        }
        progress(size);
        Ok(size)
    }

    /// The last saved signed checkpoint note, if any.
    pub fn checkpoint(&self) -> Option<String> {
        self.inner
            .checkpoint
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Saves a signed checkpoint durably (write, fsync, rename, fsync the directory),
    /// after making the derived files durable up to it. The checkpoint's size must be
    /// durable already and its root must be the log's: the store never records a
    /// checkpoint the log contradicts.
    pub fn save_checkpoint(&self, note_text: &str) -> Result<(), StoreError> {
        let _guard = self
            .inner
            .checkpoint_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let note = urne_log::note::Note::parse(note_text.as_bytes())
            .map_err(|e| StoreError::BadCheckpoint(e.to_string()))?;
        let checkpoint =
            Checkpoint::parse(note.text()).map_err(|e| StoreError::BadCheckpoint(e.to_string()))?;
        if self.root(checkpoint.size())? != *checkpoint.root() {
            return Err(StoreError::BadCheckpoint(
                "root does not match the log".into(),
            ));
        }
        let dir = &self.inner.dir;
        for name in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
            let file_name = name.file_name().to_string_lossy().into_owned();
            if file_name == OFFSETS
                || (file_name.starts_with("height-") && file_name.ends_with(".dat"))
            {
                let path = name.path();
                File::open(&path)
                    .and_then(|f| f.sync_data())
                    .map_err(io(&path))?;
            }
        }
        let tmp = dir.join("checkpoint.tmp");
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(note_text.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, dir.join(CHECKPOINT)).map_err(io(&tmp))?;
        sync_dir(dir)?;
        *self
            .inner
            .checkpoint
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(note_text.to_owned());
        Ok(())
    }

    /// Stops the writer after it has committed everything queued.
    /// Appends queued before this call are committed; later ones fail.
    pub fn close(&self) {
        self.writer.stop();
        let _ = self.inner.index.flush();
    }
}

fn proof_error(e: ProofRequestError<StoreError>) -> StoreError {
    match e {
        ProofRequestError::Invalid(why) => StoreError::OutOfRange {
            detail: why.to_owned(),
        },
        ProofRequestError::Source(e) => e,
    }
}

impl Store {
    /// Node `position` at `height` (complete subtrees only).
    fn node(&self, height: u32, position: u64) -> Result<Hash, StoreError> {
        self.nodes(height, position, 1)?
            .pop()
            .ok_or_else(|| StoreError::OutOfRange {
                detail: "empty read".into(),
            })
    }

    /// Nodes start … start+count−1 at `height`, read at once.
    fn nodes(&self, height: u32, start: u64, count: u64) -> Result<Vec<Hash>, StoreError> {
        let missing = || StoreError::OutOfRange {
            detail: format!("no nodes {start}+{count} at height {height}"),
        };
        let end = start.checked_add(count).ok_or_else(missing)?;
        if height >= 64 || end > self.size() >> height {
            return Err(missing());
        }
        if height < MEMORY_FROM {
            let reader = self
                .inner
                .height_readers
                .get(height as usize)
                .ok_or_else(missing)?;
            let mut buf = vec![0u8; (count * 32) as usize];
            reader
                .read_exact_at(&mut buf, start * 32)
                .map_err(io(&self.inner.dir.join(height_file(height))))?;
            return Ok(buf.chunks_exact(32).filter_map(Hash::from_slice).collect());
        }
        let state = read_state(&self.inner);
        state
            .upper
            .get((height - MEMORY_FROM) as usize)
            .and_then(|l| l.get(start as usize..end as usize))
            .map(<[Hash]>::to_vec)
            .ok_or_else(missing)
    }
}

/// Every complete subtree is stored: one read per proof hash, no rehashing.
impl HashSource for Store {
    type Error = StoreError;
    fn subtree(&self, height: u32, index: u64) -> Result<Hash, StoreError> {
        self.node(height, index)
    }
}

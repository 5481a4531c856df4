//! `urne fsck` (spec/11-storage.md §11.6): a full check of a data directory. By default
//! it opens nothing for writing — a shared lock (so it never runs beside a board, whose
//! lock is exclusive, but two checks may run together), every frame of `log.dat` read
//! and rehashed, the whole tree recomputed in memory and compared with every derived
//! file and the checkpoint — and repairs nothing. With `repair` it opens the store as a
//! board does (cutting a torn tail into a side file, rewriting derived files from the
//! log, and with `salvage` cutting damage that acknowledged frames follow), then checks
//! everything. Findings name entry indexes.

use std::path::{Path, PathBuf};

use urne_log::Hash;
use urne_log::hash::{node_hash, root_of};

use crate::checkpoint::read_checkpoint;
use crate::error::{StoreError, io};
use crate::frame;
use crate::index::{
    BY_HASH, Index, IndexBackend, META, SledIndex, indexed, rows_for, scratch_room, stored_schema,
};
use crate::levels::RecordFile;
use crate::store::{INDEX, LOCK, LOG, OFFSETS, Scrub, Store, StoreOptions, height_file};

/// What `fsck` does besides checking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FsckOptions {
    /// Open the store as a board does, repairing what opening repairs, then check.
    pub repair: bool,
    /// Where the read-only check copies `index.sled` (sled writes to what it opens). None:
    /// the directory that holds the data directory, which is on the same disk and not
    /// inside what is checked.
    pub scratch: Option<PathBuf>,
}

impl FsckOptions {
    /// Check only (`repair` false) or repair then check; the index copied beside `dir`.
    pub fn new(repair: bool) -> Self {
        Self {
            repair,
            scratch: None,
        }
    }

    /// The same, copying the index under `scratch`.
    pub fn with_scratch(mut self, scratch: PathBuf) -> Self {
        self.scratch = Some(scratch);
        self
    }
}

/// The directory holding `dir` (`.` for a relative name without one).
fn beside(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// One thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsckFinding {
    /// The first entry concerned, if the finding is about entries.
    pub entry: Option<u64>,
    /// What is wrong, and what opening would do about it.
    pub what: String,
}

/// What `fsck` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FsckReport {
    /// Valid entries in the log.
    pub entries: u64,
    /// Problems found (none: the directory is sound).
    pub findings: Vec<FsckFinding>,
    /// What was repaired (only with `repair`).
    pub repaired: Vec<String>,
}

/// Checks the data directory `dir` (see the module documentation). `options` gives the
/// file system, the index keys and `salvage` (used only with `repair`); `progress` is
/// told the entries checked so far.
pub fn fsck(
    dir: &Path,
    options: &StoreOptions,
    fsck_options: &FsckOptions,
    mut progress: impl FnMut(u64),
) -> Result<FsckReport, StoreError> {
    let fs = &*options.fs;
    if !fs.exists(&dir.join(LOG)) {
        return Err(StoreError::OutOfRange {
            detail: format!("{} holds no board log (no {LOG})", dir.display()),
        });
    }
    if fsck_options.repair {
        let mut opts = options.clone();
        opts.scrub = Scrub::Off;
        let (store, opened) = Store::open(dir, opts)?;
        let mut report = FsckReport {
            entries: opened.size,
            repaired: opened.repaired.clone(),
            ..FsckReport::default()
        };
        if let Some(cut) = &opened.cut {
            report.repaired.push(format!(
                "log.dat cut from entry {} ({} bytes: {}), kept in {}",
                cut.entry, cut.bytes, cut.why, cut.file
            ));
        }
        if let Err(e) = store.check_all(&mut progress) {
            report.findings.push(FsckFinding {
                entry: None,
                what: e.to_string(),
            });
        }
        store.close();
        return Ok(report);
    }

    let lock_path = dir.join(LOCK);
    let _lock = match fs.lock(&lock_path, false) {
        Ok(lock) => lock,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            return Err(StoreError::Locked {
                path: dir.to_owned(),
            });
        }
        Err(e) => return Err(io(&lock_path)(e)),
    };
    let mut report = FsckReport::default();
    let mut find = |entry: Option<u64>, what: String| {
        report.findings.push(FsckFinding { entry, what });
    };
    let checkpoint = match read_checkpoint(fs, dir) {
        Ok(c) => c.map(|(_, c)| c),
        Err(e) => {
            find(None, e.to_string());
            None
        }
    };

    let log_path = dir.join(LOG);
    let log = fs.open(&log_path, false).map_err(io(&log_path))?;
    let log_len = log.len().map_err(io(&log_path))?;
    let (frames, stop) = frame::scan(&*log, &log_path, 0, log_len)?;
    let size = frames.len() as u64;
    progress(size);
    if let Some(stop) = &stop {
        let listed = RecordFile::open(fs, &dir.join(OFFSETS), 8, true)?;
        let known = listed
            .read(0, listed.count())
            .unwrap_or_default()
            .chunks_exact(8)
            .filter_map(|c| c.try_into().ok().map(u64::from_le_bytes))
            .filter(|o| *o > stop.offset)
            .collect();
        let later =
            frame::later_acknowledged_frame(&*log, &log_path, stop.offset, log_len, &known)?;
        let what = match later {
            Some(at) => format!(
                "entry {size} is damaged ({}) and an acknowledged frame follows at byte {at}: the board refuses to open; `urne fsck --repair --salvage` moves everything from entry {size} on into a side file",
                stop.why
            ),
            None => format!(
                "entry {size} is damaged or torn ({}) and no acknowledged frame follows: opening cuts the {} bytes from it on into a side file",
                stop.why,
                log_len - stop.offset
            ),
        };
        find(Some(size), what);
    }

    // The tree, recomputed in memory from the frames, against every derived file.
    let listed = RecordFile::open(fs, &dir.join(OFFSETS), 8, true)?;
    let stored_offsets = listed.read(0, listed.count().min(size))?;
    let first_wrong = frames
        .iter()
        .zip(stored_offsets.chunks_exact(8))
        .position(|((o, _), s)| s != o.to_le_bytes())
        .map(|p| p as u64)
        .or((listed.count() < size).then_some(listed.count()));
    if let Some(entry) = first_wrong {
        find(
            Some(entry),
            format!(
                "offsets.dat is wrong or missing from entry {entry} (opening rewrites it from log.dat)"
            ),
        );
    }
    let leaves: Vec<Hash> = frames.iter().map(|(_, h)| *h).collect();
    let mut level = leaves.clone();
    let mut h = 0u32;
    while !level.is_empty() {
        let file = RecordFile::open(fs, &dir.join(height_file(h)), 32, true)?;
        let n = file.count().min(level.len() as u64);
        let stored = file.read(0, n)?;
        let wrong = level
            .iter()
            .zip(stored.chunks_exact(32))
            .position(|(a, b)| a.0 != b)
            .map(|p| p as u64)
            .or((n < level.len() as u64).then_some(n));
        if let Some(p) = wrong {
            find(
                Some(p << h),
                format!(
                    "{}: node {p} (entries {} to {}) {} (derived data: removing the height-*.dat files makes the next open rebuild them from log.dat)",
                    height_file(h),
                    p << h,
                    ((p + 1) << h) - 1,
                    if p < n {
                        "does not match the log"
                    } else {
                        "is missing"
                    }
                ),
            );
        }
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
        h += 1;
    }
    if let Some(cp) = checkpoint {
        if cp.size() > size {
            find(
                Some(size),
                format!(
                    "the log has {size} valid entries, its last checkpoint covers {}: acknowledged entries are lost or damaged",
                    cp.size()
                ),
            );
        } else if root_of(&leaves[..cp.size() as usize]) != *cp.root() {
            find(
                None,
                format!(
                    "the log's root at size {} is not its last checkpoint's: the log was altered",
                    cp.size()
                ),
            );
        }
    }
    // A store without layer keys keeps no index on disk (entry hashes are in memory).
    if options.index == IndexBackend::Sled && fs.supports_sled() && options.index_keys.is_some() {
        let scratch = match &fsck_options.scratch {
            Some(scratch) => scratch.clone(),
            None => beside(dir),
        };
        check_index(dir, &scratch, options, &*log, &log_path, &frames, &mut find);
    }
    report.entries = size;
    Ok(report)
}

/// The index against the log, on a copy of it in `scratch`: its schema (and format),
/// how far it claims to go, the hash of the last entry it claims, and every layer key
/// it should hold for those entries. An index that is behind the log is not damage
/// (opening extends it). One that disagrees is damage (opening rebuilds it). A problem
/// reading the index is a finding, not an error: the log's findings stand. Entry hash →
/// index is not on disk (it is rebuilt in memory on every open from the leaf hashes,
/// which the tree check above compares with the frames).
fn check_index(
    dir: &Path,
    scratch: &Path,
    options: &StoreOptions,
    log: &dyn crate::fs::StoreFile,
    log_path: &Path,
    frames: &[(u64, Hash)],
    find: &mut dyn FnMut(Option<u64>, String),
) {
    let path = dir.join(INDEX);
    if !path.exists() {
        find(
            None,
            format!("{INDEX} is missing (derived data: opening rebuilds it from log.dat)"),
        );
        return;
    }
    if let Err(e) = scratch_room(&path, scratch) {
        find(
            None,
            format!(
                "{INDEX} not checked: no room for its copy: {e} (choose another scratch directory)"
            ),
        );
        return;
    }
    let checked = SledIndex::open_copy(&path, scratch)
        .and_then(|copy| compare_index(&copy.index, options, log, log_path, frames, find));
    if let Err(e) = checked {
        find(
            None,
            format!("{INDEX} unreadable: {e}; opening rebuilds it from log.dat"),
        );
    }
}

fn compare_index(
    index: &dyn Index,
    options: &StoreOptions,
    log: &dyn crate::fs::StoreFile,
    log_path: &Path,
    frames: &[(u64, Hash)],
    find: &mut dyn FnMut(Option<u64>, String),
) -> Result<(), StoreError> {
    let rebuilds = "(derived data: opening rebuilds it from log.dat)";
    let size = frames.len() as u64;
    let (count, tip, schema) = indexed(index)?;
    let expected_schema = stored_schema(&options.index_schema);
    if count > 0 && schema != expected_schema {
        find(
            None,
            format!(
                "{INDEX} was built for schema {:?}, not {:?} {rebuilds}",
                String::from_utf8_lossy(&schema),
                String::from_utf8_lossy(&expected_schema)
            ),
        );
        return Ok(());
    }
    if count > size {
        find(
            Some(size),
            format!("{INDEX} claims {count} entries, the log holds {size} {rebuilds}"),
        );
        return Ok(());
    }
    if count > 0 && tip != Some(frames[count as usize - 1].1) {
        find(
            Some(count - 1),
            format!(
                "{INDEX}: the last entry it holds, {}, has another hash {rebuilds}",
                count - 1
            ),
        );
        return Ok(());
    }
    if options.index_keys.is_some() {
        // The layers' keys depend on the records: read them (later rows win).
        let mut expected = std::collections::BTreeMap::new();
        for (i, (offset, hash)) in frames[..count as usize].iter().enumerate() {
            let (record, _) = frame::read(log, log_path, *offset)?;
            for row in rows_for(&[(i as u64, record, *hash)], &options.index_keys) {
                if row.tree != META && row.tree != BY_HASH {
                    expected.insert((row.tree, row.key), row.value);
                }
            }
        }
        for ((tree, key), value) in &expected {
            if index.get(tree, key)?.as_ref() != Some(value) {
                find(
                    None,
                    format!("{INDEX}: a key of tree {tree} is missing or wrong {rebuilds}"),
                );
                return Ok(());
            }
        }
    }
    // Entry hashes are kept in memory since index format 2: rows left under their old
    // tree are a leftover the schema check above already names.
    let mut stray = 0u64;
    index.for_each(BY_HASH, &mut |_, _| {
        stray += 1;
        Ok(())
    })?;
    if stray > 0 {
        find(
            None,
            format!("{INDEX} holds {stray} rows of an earlier format under {BY_HASH} {rebuilds}"),
        );
    }
    Ok(())
}

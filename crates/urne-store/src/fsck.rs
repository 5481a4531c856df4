//! `urne fsck` (spec/11-storage.md §11.6): a full check of a data directory. By default
//! it opens nothing for writing — a shared lock (so it never runs beside a board, whose
//! lock is exclusive, but two checks may run together), every frame of `log.dat` read
//! and rehashed, the whole tree recomputed in memory and compared with every derived
//! file and the checkpoint — and repairs nothing. With `repair` it opens the store as a
//! board does (cutting a torn tail into a side file, rewriting derived files from the
//! log, and with `salvage` cutting damage that acknowledged frames follow), then checks
//! everything. Findings name entry indexes.

use std::path::Path;

use urne_log::Hash;
use urne_log::hash::{node_hash, root_of};

use crate::checkpoint::read_checkpoint;
use crate::error::{StoreError, io};
use crate::frame;
use crate::index::{BY_HASH, Index, IndexBackend, SledIndex, indexed, rows_for};
use crate::levels::RecordFile;
use crate::store::{INDEX, LOCK, LOG, OFFSETS, Scrub, Store, StoreOptions, height_file};

/// What `fsck` does besides checking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FsckOptions {
    /// Open the store as a board does, repairing what opening repairs, then check.
    pub repair: bool,
}

impl FsckOptions {
    /// Check only (`repair` false) or repair then check.
    pub fn new(repair: bool) -> Self {
        Self { repair }
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
    if options.index == IndexBackend::Sled && fs.supports_sled() {
        let offsets: Vec<u64> = frames.iter().map(|(o, _)| *o).collect();
        check_index(dir, options, &*log, &log_path, &offsets, &mut find)?;
    }
    report.entries = size;
    Ok(report)
}

/// The index against the log, on a copy of it: its schema, how far it claims to go, the
/// hash of the last entry it claims, and every key it should hold for those entries —
/// each entry's hash to its index, and the layers' keys — with nothing else under the
/// entry hashes. An index that is behind the log is not damage (opening extends it); one
/// that disagrees is (opening rebuilds it).
fn check_index(
    dir: &Path,
    options: &StoreOptions,
    log: &dyn crate::fs::StoreFile,
    log_path: &Path,
    offsets: &[u64],
    find: &mut dyn FnMut(Option<u64>, String),
) -> Result<(), StoreError> {
    let rebuilds = "(derived data: opening rebuilds it from log.dat)";
    let Some((index, _copy)) = SledIndex::open_copy(&dir.join(INDEX))? else {
        find(None, format!("{INDEX} is missing {rebuilds}"));
        return Ok(());
    };
    let size = offsets.len() as u64;
    let (count, tip, schema) = indexed(&index)?;
    if count > 0 && schema != options.index_schema.as_bytes() {
        find(
            None,
            format!(
                "{INDEX} was built for schema {:?}, not {:?} {rebuilds}",
                String::from_utf8_lossy(&schema),
                options.index_schema
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
    let mut expected: std::collections::HashMap<(&'static str, Vec<u8>), Vec<u8>> =
        std::collections::HashMap::new();
    let mut first_index_of_hash = Vec::new();
    for i in 0..count {
        let (record, hash) = frame::read(log, log_path, offsets[i as usize])?;
        if i + 1 == count && tip != Some(hash) {
            find(
                Some(i),
                format!("{INDEX}: the last entry it holds, {i}, has another hash {rebuilds}"),
            );
            return Ok(());
        }
        first_index_of_hash.push(hash);
        for row in rows_for(&[(i, record, hash)], &options.index_keys) {
            if row.tree != crate::index::META {
                expected.insert((row.tree, row.key), row.value);
            }
        }
    }
    // Later rows win, as when they were written: compare in log order, report the first.
    for (i, hash) in first_index_of_hash.iter().enumerate() {
        let key = (BY_HASH, hash.0.to_vec());
        let want = expected.get(&key);
        let have = index.get(BY_HASH, &hash.0)?;
        if have.as_ref() != want {
            find(
                Some(i as u64),
                format!("{INDEX}: entry {i}'s hash is missing or maps to another entry {rebuilds}"),
            );
            return Ok(());
        }
    }
    let mut layer_keys: Vec<_> = expected
        .iter()
        .filter(|((tree, _), _)| *tree != BY_HASH)
        .collect();
    layer_keys.sort();
    for ((tree, key), value) in layer_keys {
        if index.get(tree, key)?.as_ref() != Some(value) {
            find(
                None,
                format!("{INDEX}: a key of tree {tree} is missing or wrong {rebuilds}"),
            );
            return Ok(());
        }
    }
    let held = index.scan_prefix(BY_HASH, &[])?.len();
    let distinct = expected.keys().filter(|(tree, _)| *tree == BY_HASH).count();
    if held > distinct {
        find(
            None,
            format!(
                "{INDEX} maps {} hashes that are not entries of the log {rebuilds}",
                held - distinct
            ),
        );
    }
    Ok(())
}

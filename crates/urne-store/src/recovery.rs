//! Opening a data directory (spec/11-storage.md §11.3): the log is read frame by frame
//! after the last checkpoint, a torn tail is cut into a side file, damage followed by
//! acknowledged frames is refused, and every derived hash after the checkpoint is
//! recomputed from the frames themselves — never from a derived level that was not
//! checked.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use urne_log::hash::node_hash;
use urne_log::proof::HashSource;
use urne_log::{Checkpoint, Hash};

use crate::error::{StoreError, io};
use crate::frame::{self, FRAME_HEADER};
use crate::fs::{FileSystem, StoreFile};
use crate::levels::RecordFile;
use crate::store::{CutReport, LOG, MEMORY_FROM, OFFSETS, OpenReport, State, height_file};

/// The files and in-memory state of an opened log.
pub(crate) struct Recovered {
    pub log: Arc<dyn StoreFile>,
    pub offsets: RecordFile,
    pub heights: Vec<RecordFile>,
    pub state: State,
    pub report: OpenReport,
    /// Where the next frame goes.
    pub end: u64,
}

fn decode_offsets(raw: &[u8]) -> Vec<u64> {
    raw.chunks_exact(8)
        .map(|c| {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            u64::from_le_bytes(word)
        })
        .collect()
}

fn hashes_of(raw: &[u8]) -> Vec<Hash> {
    raw.chunks_exact(32).filter_map(Hash::from_slice).collect()
}

fn to_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// Recovers the log in `dir`. `checkpoint` is the last saved one; `salvage` allows
/// cutting damage that acknowledged frames follow (into a side file).
pub(crate) fn recover(
    fs: &dyn FileSystem,
    dir: &Path,
    checkpoint: Option<&Checkpoint>,
    salvage: bool,
) -> Result<Recovered, StoreError> {
    let log_path = dir.join(LOG);
    let existed = fs.exists(&log_path);
    let log = fs.open(&log_path, true).map_err(io(&log_path))?;
    if !existed {
        // A new log's name must be durable before its first record is acknowledged.
        fs.sync_dir(dir).map_err(io(dir))?;
    }
    let log_len = log.len().map_err(io(&log_path))?;
    let covered = checkpoint.map_or(0, |c| c.size());
    let mut report = OpenReport::default();

    let mut offsets = RecordFile::open(fs, &dir.join(OFFSETS), 8, false)?;
    let listed = decode_offsets(&offsets.read(0, offsets.count())?);
    let mut heights: Vec<RecordFile> = Vec::new();
    let mut h = 0u32;
    while h < MEMORY_FROM || (h < 64 && fs.exists(&dir.join(height_file(h)))) {
        heights.push(RecordFile::open(fs, &dir.join(height_file(h)), 32, false)?);
        h += 1;
    }

    // The checkpoint's entries: their derived files were made durable before it was
    // saved, so they are trusted if they cover it and end at a valid frame. Otherwise
    // everything is recomputed from the log (and checked against the checkpoint).
    let trusted =
        covered > 0 && trusted_prefix(&*log, &log_path, log_len, &listed, &heights, covered);
    let trusted_size = if trusted { covered } else { 0 };
    if covered > 0 && !trusted {
        report.repaired.push(format!(
            "derived files did not cover the {covered} checkpointed entries: the tree is recomputed from log.dat"
        ));
    }
    let start = match trusted_size {
        0 => 0,
        n => frame_end(&*log, &log_path, listed[n as usize - 1])?,
    };

    let (frames, stop) = frame::scan(&*log, &log_path, start, log_len)?;
    if let Some(stop) = stop {
        let entry = trusted_size + frames.len() as u64;
        if entry < covered {
            return Err(StoreError::Corrupt {
                what: "log.dat",
                detail: format!(
                    "entry {entry} (the frame at byte {}) is damaged ({}), inside the {covered} entries of the last checkpoint",
                    stop.offset, stop.why
                ),
            });
        }
        let known: HashSet<u64> = listed
            .iter()
            .copied()
            .filter(|o| *o > stop.offset)
            .collect();
        if let Some(later) =
            frame::later_acknowledged_frame(&*log, &log_path, stop.offset, log_len, &known)?
        {
            if !salvage {
                return Err(StoreError::Corrupt {
                    what: "log.dat",
                    detail: format!(
                        "entry {entry} (the frame at byte {}) is damaged ({}) and an acknowledged frame follows at byte {later}: the log is not opened, so that no acknowledged record is cut; open with salvage to move everything from entry {entry} on into a side file",
                        stop.offset, stop.why
                    ),
                });
            }
            report.salvaged = true;
        }
        let file = cut_tail(fs, dir, &*log, stop.offset, log_len)?;
        report.cut = Some(CutReport {
            entry,
            offset: stop.offset,
            bytes: log_len - stop.offset,
            why: stop.why.to_owned(),
            file,
        });
        report.truncated_bytes = log_len - stop.offset;
    }
    let size = trusted_size + frames.len() as u64;
    let end = frames.last().map_or(Ok(start), |(offset, _)| {
        frame_end(&*log, &log_path, *offset)
    })?;

    // Offsets after the trusted prefix: exactly the frames just scanned.
    let mut all: Vec<u64> = listed[..trusted_size as usize].to_vec();
    all.extend(frames.iter().map(|(o, _)| *o));
    let agree = all.iter().zip(&listed).take_while(|(a, b)| a == b).count();
    if agree < listed.len() {
        report.repaired.push(format!(
            "offsets.dat disagreed with log.dat from entry {agree}: rewritten from the log"
        ));
    } else if agree < all.len() {
        report.repaired.push(format!(
            "offsets.dat extended from entry {agree} by {} entries",
            all.len() - agree
        ));
    }
    if (agree as u64) < offsets.count() {
        offsets.truncate(agree as u64)?;
        // Stale offsets must not come back after another crash: an offset past a
        // damaged frame is evidence that the frame there was acknowledged.
        offsets.sync()?;
    }
    if agree < all.len() {
        offsets.append(
            &all[agree..]
                .iter()
                .flat_map(|o| o.to_le_bytes())
                .collect::<Vec<u8>>(),
        )?;
    }

    // Node hashes after the trusted prefix, height by height, from the frames' hashes
    // up; nodes inside the prefix are read from their (checkpointed) files.
    let mut below: Vec<Hash> = frames.iter().map(|(_, h)| *h).collect();
    let mut below_from = trusted_size;
    let mut upper = Vec::new();
    let mut h = 0u32;
    loop {
        let expected = if h >= 64 { 0 } else { size >> h };
        if h >= MEMORY_FROM && expected == 0 {
            // Heights a longer log once had.
            let mut stale = h;
            while stale < 64 && fs.exists(&dir.join(height_file(stale))) {
                let path = dir.join(height_file(stale));
                fs.remove(&path).map_err(io(&path))?;
                stale += 1;
            }
            heights.truncate(h as usize);
            break;
        }
        if heights.len() <= h as usize {
            heights.push(RecordFile::open(fs, &dir.join(height_file(h)), 32, false)?);
        }
        let from = if h >= 64 { 0 } else { trusted_size >> h };
        let computed: Vec<Hash> = if h == 0 {
            std::mem::take(&mut below)
        } else {
            let child = |p: u64| -> Result<Hash, StoreError> {
                if p < below_from {
                    let raw = heights[h as usize - 1].read(p, 1)?;
                    Hash::from_slice(&raw).ok_or_else(|| StoreError::Corrupt {
                        what: "height files",
                        detail: format!("node {p} at height {} unreadable", h - 1),
                    })
                } else {
                    Ok(below[(p - below_from) as usize])
                }
            };
            (from..expected)
                .map(|p| Ok(node_hash(&child(2 * p)?, &child(2 * p + 1)?)))
                .collect::<Result<_, StoreError>>()?
        };
        let file = &mut heights[h as usize];
        let present = file.count().min(expected);
        let stored = if present > from {
            hashes_of(&file.read(from, present - from)?)
        } else {
            Vec::new()
        };
        let same = stored
            .iter()
            .zip(&computed)
            .take_while(|(a, b)| a == b)
            .count() as u64;
        if same < stored.len() as u64 {
            report.repaired.push(format!(
                "{}: node {} did not match the log; rewritten from the log",
                height_file(h),
                from + same
            ));
        }
        file.truncate(from + same)?;
        if from + same < expected {
            file.append(&to_bytes(&computed[same as usize..]))?;
        }
        if h >= MEMORY_FROM {
            upper.push(hashes_of(&file.read(0, file.count())?));
        }
        below = computed;
        below_from = from;
        h += 1;
    }
    // Frames a previous run wrote but never synced (killed between write and sync, or
    // restarted after an fsync EIO as §11.1 prescribes) are still in the page cache and
    // were just counted as entries: they are made durable before anything serves,
    // acknowledges or signs them, or a power cut could take back a signed root.
    log.sync_data().map_err(io(&log_path))?;
    report.size = size;
    Ok(Recovered {
        log,
        offsets,
        heights,
        state: State {
            size,
            offsets: all,
            upper,
        },
        report,
        end,
    })
}

/// Whether the derived files cover the first `covered` entries and are consistent
/// enough to be trusted for them (they were made durable when the checkpoint was saved).
fn trusted_prefix(
    log: &dyn StoreFile,
    log_path: &Path,
    log_len: u64,
    listed: &[u64],
    heights: &[RecordFile],
    covered: u64,
) -> bool {
    let n = covered as usize;
    if listed.len() < n || listed.first() != Some(&0) {
        return false;
    }
    if !listed[..n].windows(2).all(|w| w[0] < w[1]) {
        return false;
    }
    let mut h = 0u32;
    while h < 64 && covered >> h > 0 {
        match heights.get(h as usize) {
            Some(file) if file.count() >= covered >> h => {}
            _ => return false,
        }
        h += 1;
    }
    matches!(frame_end(log, log_path, listed[n - 1]), Ok(end) if end <= log_len)
}

/// Where the valid frame at `offset` ends.
fn frame_end(log: &dyn StoreFile, path: &Path, offset: u64) -> Result<u64, StoreError> {
    let (record, _) = frame::read(log, path, offset)?;
    Ok(offset + (FRAME_HEADER + record.len()) as u64)
}

/// Moves the bytes of `log.dat` from `offset` on into a new side file
/// `log.dat.cut-<offset>[-n]`, durably, then truncates the log: cut bytes are kept,
/// never deleted.
fn cut_tail(
    fs: &dyn FileSystem,
    dir: &Path,
    log: &dyn StoreFile,
    offset: u64,
    len: u64,
) -> Result<String, StoreError> {
    let log_path = dir.join(LOG);
    let mut name = format!("{LOG}.cut-{offset}");
    let mut n = 1;
    while fs.exists(&dir.join(&name)) {
        n += 1;
        name = format!("{LOG}.cut-{offset}-{n}");
    }
    let side_path = dir.join(&name);
    let side = fs.open(&side_path, true).map_err(io(&side_path))?;
    let mut position = offset;
    let mut buf = vec![0u8; 1 << 20];
    while position < len {
        let n = ((len - position) as usize).min(buf.len());
        log.read_exact_at(&mut buf[..n], position)
            .map_err(io(&log_path))?;
        side.write_all_at(&buf[..n], position - offset)
            .map_err(io(&side_path))?;
        position += n as u64;
    }
    side.sync_data().map_err(io(&side_path))?;
    fs.sync_dir(dir).map_err(io(dir))?;
    log.set_len(offset).map_err(io(&log_path))?;
    log.sync_data().map_err(io(&log_path))?;
    Ok(name)
}

/// Node hashes of the log as it was opened, for the root check before serving.
pub(crate) struct OpenedHashes<'a> {
    pub heights: &'a [RecordFile],
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

//! The group commit (spec/11-storage.md §11.1), in two stages: the writer thread takes
//! every queued record, writes the frames in queue order and `fdatasync`s once; the
//! publisher thread then writes that group's derived data and publishes the new durable
//! size while the writer syncs the next group. Waiters — blocking ([`Pending::wait`])
//! or async ([`Pending`] is a `Future`) — are all released by that one publication: no
//! thread is parked per request and no reply channel is made per record.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use urne_log::hash::node_hash;
use urne_log::{Hash, leaf_hash};

use crate::error::{StoreError, io};
use crate::frame::{self, FRAME_HEADER};
use crate::fs::{FileSystem, StoreFile};
use crate::index::IndexFn;
use crate::indexer::IndexJob;
use crate::levels::RecordFile;
use crate::store::{Inner, LOG, MEMORY_FROM, height_file};

/// Most records one group commit writes.
const MAX_BATCH: usize = 4096;

/// What is durable, published by the writer.
#[derive(Default)]
pub(crate) struct AckState {
    /// Entries durable in `log.dat` (every index below is acknowledged).
    pub durable: u64,
    /// Set when the store stopped accepting records (fail-stop), with why.
    pub stopped: Option<String>,
    /// Async waiters by the index they wait for.
    wakers: BTreeMap<u64, Vec<Waker>>,
}

/// The durable size and its waiters.
#[derive(Default)]
pub(crate) struct Acks {
    state: Mutex<AckState>,
    published: Condvar,
}

impl Acks {
    pub(crate) fn new(durable: u64) -> Self {
        Self {
            state: Mutex::new(AckState {
                durable,
                ..AckState::default()
            }),
            published: Condvar::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, AckState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes a new durable size and wakes everyone it acknowledges, unless the
    /// store stopped: then nothing is published and `false` returned. `visible` makes
    /// the entries readable (the store's state); it runs under the same lock as the
    /// check (always acks, then state), so a concurrent stop either comes first and
    /// nothing of the group is served, or comes after and the group is acknowledged —
    /// never a record served and signed while its waiter is told it was not stored.
    fn publish(&self, durable: u64, visible: impl FnOnce()) -> bool {
        let mut state = self.lock();
        if state.stopped.is_some() {
            return false;
        }
        visible();
        state.durable = durable;
        let later = state.wakers.split_off(&durable);
        let ready = std::mem::replace(&mut state.wakers, later);
        drop(state);
        self.published.notify_all();
        ready.into_values().flatten().for_each(Waker::wake);
        true
    }

    /// Stops the store: nothing more is acknowledged; every waiter is released with
    /// the reason.
    pub(crate) fn stop(&self, reason: String) {
        let mut state = self.lock();
        if state.stopped.is_none() {
            state.stopped = Some(reason);
        }
        let all = std::mem::take(&mut state.wakers);
        drop(state);
        self.published.notify_all();
        all.into_values().flatten().for_each(Waker::wake);
    }

    fn outcome(state: &AckState, index: u64) -> Option<Result<u64, StoreError>> {
        if index < state.durable {
            Some(Ok(index))
        } else {
            state.stopped.as_ref().map(|reason| {
                Err(StoreError::Stopped {
                    reason: reason.clone(),
                })
            })
        }
    }
}

/// An append waiting for its group commit: `.wait()` blocks, `.await` does not.
pub struct Pending {
    index: u64,
    acks: Arc<Acks>,
}

impl Pending {
    pub(crate) fn new(index: u64, acks: Arc<Acks>) -> Self {
        Self { index, acks }
    }

    /// The index the record will have once durable.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The outcome if it is already known — durable, or the store stopped — without
    /// blocking: a consumer of many appends answers those of one group commit together
    /// and waits only at the next.
    pub fn try_wait(&self) -> Option<Result<u64, StoreError>> {
        Acks::outcome(&self.acks.lock(), self.index)
    }

    /// Blocks until the record is durable; returns its index.
    pub fn wait(self) -> Result<u64, StoreError> {
        let mut state = self.acks.lock();
        loop {
            if let Some(outcome) = Acks::outcome(&state, self.index) {
                return outcome;
            }
            state = self
                .acks
                .published
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Future for Pending {
    type Output = Result<u64, StoreError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.acks.lock();
        if let Some(outcome) = Acks::outcome(&state, self.index) {
            return Poll::Ready(outcome);
        }
        let waiters = state.wakers.entry(self.index).or_default();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A queued record.
pub(crate) struct Request {
    pub record: Vec<u8>,
}

/// How many synced groups may wait for the publisher: no more than this many durable
/// groups wait to be acknowledged, and the writer waits for the publisher beyond it
/// (so it is held up when the publisher is, e.g. on the index's lag bound).
const SYNCED_QUEUE: usize = 2;

/// The writer thread's files: `log.dat`, where it appends and syncs.
pub(crate) struct Writer {
    pub dir: PathBuf,
    pub log: Arc<dyn StoreFile>,
    pub end: u64,
    /// The index the next record will have.
    pub next_index: u64,
}

/// The publisher thread's files: the derived ones, written after each sync.
pub(crate) struct Publisher {
    pub fs: Arc<dyn FileSystem>,
    pub dir: PathBuf,
    pub offsets: RecordFile,
    pub heights: Vec<RecordFile>,
    pub keys: Option<IndexFn>,
    /// The indexer thread's queue (see `indexer.rs`).
    pub indexer: Sender<IndexJob>,
}

/// A group commit the writer made durable, handed to the publisher.
struct Synced {
    first_index: u64,
    batch: Vec<Request>,
    hashes: Vec<Hash>,
    offsets: Vec<u64>,
}

enum ToPublisher {
    Synced(Synced),
    /// A write or sync failed: stop the store once every group synced before is
    /// published (those are durable, and their waiters deserve their answers).
    Failed(String),
}

impl Writer {
    /// Two stages, so that one group's fsync overlaps the previous group's derived
    /// writes and publication (spec/11 §11.1): this thread writes a group and syncs
    /// it, hands it to the publisher, and only then writes the next group (so a
    /// group-commit bit still means every earlier frame was durable when it was
    /// written, §11.3, and at most one fsync of `log.dat` is ever in flight); the
    /// publisher writes the derived files, fills the index tail, and publishes the new
    /// durable size, which acknowledges the group.
    pub(crate) fn run(
        mut self,
        inner: Arc<Inner>,
        requests: Receiver<Request>,
        publisher: Publisher,
    ) {
        let (to_publisher, synced) = sync_channel(SYNCED_QUEUE);
        let publisher_inner = Arc::clone(&inner);
        let publisher = std::thread::Builder::new()
            .name("urne-store-publisher".into())
            .spawn(move || publisher.run(&publisher_inner, synced));
        let publisher = match publisher {
            Ok(handle) => handle,
            Err(e) => {
                inner
                    .acks
                    .stop(format!("the store's publisher thread could not start: {e}"));
                return;
            }
        };
        let mut failed = false;
        while let Ok(first) = requests.recv() {
            let mut batch = Vec::with_capacity(MAX_BATCH.min(64));
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            if failed || inner.acks.lock().stopped.is_some() {
                continue;
            }
            let message = match self.write_and_sync(batch) {
                Ok(synced) => ToPublisher::Synced(synced),
                Err(e) => {
                    // Fail-stop: after an I/O error nothing more is acknowledged until a
                    // reopen recovers from the log (whose unsynced tail may or may not
                    // hold this batch: it was never acknowledged).
                    failed = true;
                    ToPublisher::Failed(format!("a write failed: {e}"))
                }
            };
            if to_publisher.send(message).is_err() {
                // The publisher is gone (its guard stopped the store): nothing queued
                // behind it can be acknowledged.
                failed = true;
                inner
                    .acks
                    .stop("the store's publisher thread failed".into());
            }
        }
        drop(to_publisher);
        let _ = publisher.join();
        // Closed: whatever is still waiting was never written.
        inner
            .acks
            .stop("the store was closed before the record was written".into());
    }

    fn write_and_sync(&mut self, batch: Vec<Request>) -> Result<Synced, StoreError> {
        let mut buffer =
            Vec::with_capacity(batch.iter().map(|r| r.record.len() + FRAME_HEADER).sum());
        let mut hashes = Vec::with_capacity(batch.len());
        let mut offsets = Vec::with_capacity(batch.len());
        let mut position = self.end;
        for (i, r) in batch.iter().enumerate() {
            let hash = leaf_hash(&r.record);
            offsets.push(position);
            position += (FRAME_HEADER + r.record.len()) as u64;
            frame::encode(&r.record, &hash, i == 0, &mut buffer);
            hashes.push(hash);
        }
        let log_path = self.dir.join(LOG);
        let written = self
            .log
            .write_all_at(&buffer, self.end)
            .and_then(|()| self.log.sync_data());
        if let Err(e) = written {
            // After a failed write or sync the frames may sit in the page cache while
            // the disk never got them (Linux marks the pages clean after an fsync
            // EIO, so a later sync "succeeds" without them). Cutting them off here
            // keeps a restart from serving and signing what a power cut would lose.
            let _ = self.log.set_len(self.end);
            return Err(io(&log_path)(e));
        }
        // The acknowledgement point: nothing is acknowledged before the sync returns.
        self.end = position;
        let first_index = self.next_index;
        self.next_index += batch.len() as u64;
        Ok(Synced {
            first_index,
            batch,
            hashes,
            offsets,
        })
    }
}

impl Publisher {
    fn run(mut self, inner: &Inner, synced: Receiver<ToPublisher>) {
        let mut guard = crate::indexer::StopOnExit {
            inner,
            thread: "publisher",
            finished: false,
        };
        while let Ok(message) = synced.recv() {
            match message {
                ToPublisher::Synced(group) => {
                    if inner.acks.lock().stopped.is_some() {
                        continue;
                    }
                    if let Err(e) = self.publish(inner, group) {
                        // The log is fine, but what it serves would not be.
                        let reason = format!("a write failed: {e}");
                        eprintln!("urne-store: STOPPED ACCEPTING RECORDS: {reason}");
                        inner.acks.stop(reason);
                    }
                }
                ToPublisher::Failed(reason) => {
                    eprintln!("urne-store: STOPPED ACCEPTING RECORDS: {reason}");
                    inner.acks.stop(reason);
                }
            }
        }
        guard.finished = true;
    }

    fn publish(&mut self, inner: &Inner, group: Synced) -> Result<(), StoreError> {
        let Synced {
            first_index,
            batch,
            hashes,
            offsets,
        } = group;
        let new_size = first_index + batch.len() as u64;
        // Derived data, recomputed on open from the frames if a crash interrupts it.
        // A failure here stops the store too: the log is fine, but what it serves
        // would not be.
        self.offsets.append(
            &offsets
                .iter()
                .flat_map(|o| o.to_le_bytes())
                .collect::<Vec<u8>>(),
        )?;
        self.heights[0].append(&hashes.iter().flat_map(|h| h.0).collect::<Vec<u8>>())?;
        let mut new_upper: Vec<(u32, Vec<Hash>)> = Vec::new();
        let mut h = 1u32;
        while h < 64 && new_size >> h > 0 {
            if self.heights.len() <= h as usize {
                self.heights.push(RecordFile::open(
                    &*self.fs,
                    &self.dir.join(height_file(h)),
                    32,
                    false,
                )?);
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
        // Lookups by entry hash find the group from the moment it is published (they
        // skip what is not durable yet). The index catches up on its own thread; until
        // it does, the tail answers for these entries. Both are filled before the group
        // is published as durable, so no acknowledged record is ever missing.
        inner.entries.add(first_index, &hashes);
        let job = self.keys.as_ref().map(|keys| IndexJob {
            first: first_index,
            layer: batch
                .iter()
                .enumerate()
                .flat_map(|(i, r)| keys(first_index + i as u64, &r.record))
                .collect(),
            hashes,
        });
        if let Some(job) = &job {
            inner.tail.add(job);
        }

        let published = inner.acks.publish(new_size, || {
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
        });
        let Some(job) = job else {
            return Ok(());
        };
        if !published {
            // The store stopped first: the group is never acknowledged, and its rows
            // must reach neither a lookup nor the index.
            inner.tail.remove(&job);
            return Ok(());
        }
        if self.indexer.send(job).is_err() {
            // The indexer is gone: no row would leave the tail again and the lag bound
            // would hold this thread forever. The rows stay in the tail for lookups.
            return Err(StoreError::Index(
                "the store's indexer thread stopped".into(),
            ));
        }
        Ok(())
    }
}

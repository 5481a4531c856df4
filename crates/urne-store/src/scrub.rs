//! The background scrub (spec/11-storage.md §11.5): after open and then on a schedule,
//! every entry of `log.dat` is rehashed and compared with the tree, and every node with
//! its children, as `urne fsck` does. A mismatch means the record of truth or what is
//! served from it was altered behind the store's back: the store stops accepting records
//! (fail-stop) and says so loudly; an operator must look (`urne fsck`).

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::error::{StoreError, io};
use crate::store::{Inner, Scrub};

/// The scrub's progress and last result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScrubStatus {
    /// Whether a pass is running now.
    pub running: bool,
    /// Entries checked so far in the running pass.
    pub checked: u64,
    /// Entries the running pass checks.
    pub of: u64,
    /// Passes completed (passed or failed).
    pub passes: u64,
    /// When the last pass ended.
    pub last_finished: Option<SystemTime>,
    /// The entries the last pass checked, or what it found wrong.
    pub last_result: Option<Result<u64, String>>,
}

/// Stops the scrub thread when the store is dropped.
pub(crate) struct ScrubHandle {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl ScrubHandle {
    pub(crate) fn start(inner: &Arc<Inner>, schedule: Scrub) -> Result<Self, StoreError> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let Scrub::AfterOpenAndEvery(interval) = schedule else {
            return Ok(Self { stop, thread: None });
        };
        let weak = Arc::downgrade(inner);
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("urne-store-scrub".into())
            .spawn(move || run(weak, interval, signal))
            .map_err(io(&inner.dir))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ScrubHandle {
    fn drop(&mut self) {
        *self.stop.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stopping(signal: &(Mutex<bool>, Condvar)) -> bool {
    *signal.0.lock().unwrap_or_else(|p| p.into_inner())
}

fn run(store: Weak<Inner>, interval: Duration, signal: Arc<(Mutex<bool>, Condvar)>) {
    loop {
        let Some(inner) = store.upgrade() else {
            return;
        };
        pass(&inner, &signal);
        drop(inner);
        let stopped = signal.0.lock().unwrap_or_else(|p| p.into_inner());
        let (stopped, _) = signal
            .1
            .wait_timeout_while(stopped, interval, |stop| !*stop)
            .unwrap_or_else(|p| p.into_inner());
        if *stopped {
            return;
        }
    }
}

/// One pass over the entries durable when it starts.
pub(crate) fn pass(inner: &Inner, signal: &(Mutex<bool>, Condvar)) {
    let size = inner.read_state().size;
    let status = |f: &mut dyn FnMut(&mut ScrubStatus)| {
        f(&mut inner.scrub.lock().unwrap_or_else(|p| p.into_inner()))
    };
    status(&mut |s| {
        s.running = true;
        s.checked = 0;
        s.of = size;
    });
    let mut interrupted = false;
    let result = inner.check_range(0, size, &mut |n| {
        status(&mut |s| s.checked = n);
        interrupted = stopping(signal);
        !interrupted
    });
    if interrupted {
        status(&mut |s| s.running = false);
        return;
    }
    if let Err(e) = &result {
        let reason = format!("the scrub found damage: {e}");
        eprintln!(
            "urne-store: STORAGE DAMAGED in {}: {reason}; the store no longer accepts records; run `urne fsck`",
            inner.dir.display()
        );
        inner.acks.stop(reason);
    }
    status(&mut |s| {
        s.running = false;
        s.passes += 1;
        s.last_finished = Some(SystemTime::now());
        s.last_result = Some(result.as_ref().map(|()| size).map_err(|e| e.to_string()));
    });
}

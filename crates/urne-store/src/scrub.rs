//! The background scrub (spec/11-storage.md §11.5): after open and then on a schedule,
//! every entry of `log.dat` is rehashed and compared with the tree, and every node with
//! its children, as `urne fsck` does. A mismatch means the record of truth or what is
//! served from it was altered behind the store's back: the store stops accepting records
//! (fail-stop) and says so loudly; an operator must look (`urne fsck`).

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

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
    pub(crate) fn start(
        inner: &Arc<Inner>,
        schedule: Scrub,
        entries_per_second: u64,
    ) -> Result<Self, StoreError> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let Scrub::AfterOpenAndEvery(interval) = schedule else {
            return Ok(Self { stop, thread: None });
        };
        let weak = Arc::downgrade(inner);
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("urne-store-scrub".into())
            .spawn(move || run(weak, interval, entries_per_second, signal))
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

fn run(
    store: Weak<Inner>,
    interval: Duration,
    entries_per_second: u64,
    signal: Arc<(Mutex<bool>, Condvar)>,
) {
    loop {
        let Some(inner) = store.upgrade() else {
            return;
        };
        pass(&inner, &signal, entries_per_second);
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

/// How long to wait, `elapsed` into a pass that has rehashed `checked` entries and tree
/// nodes, so that it goes no faster than `entries_per_second` (0: no bound).
pub(crate) fn pause(checked: u64, entries_per_second: u64, elapsed: Duration) -> Duration {
    if entries_per_second == 0 {
        return Duration::ZERO;
    }
    let due = Duration::from_secs_f64(checked as f64 / entries_per_second as f64);
    due.saturating_sub(elapsed)
}

/// Waits `pause`, or less if the store is closing; returns whether it is.
fn wait_or_stop(signal: &(Mutex<bool>, Condvar), pause: Duration) -> bool {
    let stopped = signal.0.lock().unwrap_or_else(|p| p.into_inner());
    if pause.is_zero() {
        return *stopped;
    }
    let (stopped, _) = signal
        .1
        .wait_timeout_while(stopped, pause, |stop| !*stop)
        .unwrap_or_else(|p| p.into_inner());
    *stopped
}

/// One pass over the entries durable when it starts, at most `entries_per_second`.
pub(crate) fn pass(inner: &Inner, signal: &(Mutex<bool>, Condvar), entries_per_second: u64) {
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
    let started = Instant::now();
    let result = inner.check_range(0, size, &mut |n, work| {
        status(&mut |s| s.checked = n);
        interrupted = wait_or_stop(signal, pause(work, entries_per_second, started.elapsed()));
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

#[cfg(test)]
mod tests {
    use super::pause;
    use std::time::Duration;

    #[test]
    fn a_paced_pass_waits_until_its_entries_are_due() {
        // 1,000 entries at 500/s are due at 2 s.
        assert_eq!(
            pause(1_000, 500, Duration::from_millis(500)),
            Duration::from_millis(1_500)
        );
        assert_eq!(pause(1_000, 500, Duration::from_secs(3)), Duration::ZERO);
        assert_eq!(pause(1_000, 0, Duration::ZERO), Duration::ZERO, "no bound");
        assert_eq!(pause(0, 500, Duration::ZERO), Duration::ZERO);
    }
}

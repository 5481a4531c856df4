//! The storage file reader: arbitrary bytes as `log.dat` (after some valid entries) give
//! an error or a clean truncation — never a panic, and never an entry other than one
//! that was written.
#![no_main]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use urne_store::{Store, StoreOptions};

static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("urne-fuzz-store-{}-{}", std::process::id(), RUN.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&dir);
    check(&dir, data);
    // Every run cleans up, however it ended: thousands of runs must not fill the disk.
    let _ = std::fs::remove_dir_all(&dir);
});

fn check(dir: &Path, data: &[u8]) {
    let written: Vec<Vec<u8>> = (0..3u8).map(|i| vec![b'r', i, 42]).collect();
    {
        let Ok((store, _)) = Store::open(dir, StoreOptions::default()) else { return };
        for r in &written {
            if store.append(r.clone()).is_err() {
                return;
            }
        }
    }
    // The fuzz input lands after the good entries, as a torn or garbage tail would.
    let log = dir.join("log.dat");
    let mut bytes = std::fs::read(&log).unwrap_or_default();
    bytes.extend_from_slice(data);
    let _ = std::fs::write(&log, &bytes);
    if let Ok((store, _)) = Store::open(dir, StoreOptions::default()) {
        for i in 0..store.size() {
            if let Ok(entry) = store.entry(i) {
                let known = written.contains(&entry) || data.windows(entry.len()).any(|w| w == entry.as_slice());
                assert!(known, "entry {i} was never written");
            }
        }
        if store.size() >= 3 {
            for (i, r) in written.iter().enumerate() {
                assert_eq!(store.entry(i as u64).ok().as_ref(), Some(r), "a written entry changed");
            }
        }
    }
}

//! The storage file reader: arbitrary bytes as `log.dat` (after some valid entries) give
//! an error or a clean truncation — never a panic, and never an entry other than one
//! that was written. It runs on the simulated disk with the in-memory index: no sled
//! (whose thread pool LeakSanitizer reports at exit) and no temporary files.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use urne_store::sim::SimDisk;
use urne_store::{IndexBackend, Scrub, Store, StoreOptions};

fuzz_target!(|data: &[u8]| {
    let disk = SimDisk::new();
    let dir = Path::new("/fuzz");
    let options = || StoreOptions {
        fs: Arc::new(disk.clone()),
        index: IndexBackend::Memory,
        scrub: Scrub::Off,
        ..StoreOptions::default()
    };
    let written: Vec<Vec<u8>> = (0..3u8).map(|i| vec![b'r', i, 42]).collect();
    {
        let Ok((store, _)) = Store::open(dir, options()) else { return };
        for r in &written {
            if store.append(r.clone()).is_err() {
                return;
            }
        }
    }
    // The fuzz input lands after the good entries, as a torn or garbage tail would.
    let log = dir.join("log.dat");
    let mut bytes = disk.read(&log).unwrap_or_default();
    bytes.extend_from_slice(data);
    disk.write(&log, &bytes);
    if let Ok((store, _)) = Store::open(dir, options()) {
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
});

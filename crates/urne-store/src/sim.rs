//! A simulated disk for durability tests (spec/11-storage.md §11.7).
//!
//! It keeps, for every file, what a reader sees (the page cache) and what would survive
//! a power cut (what was last `fdatasync`ed), and for every directory which names are
//! durable (after `sync_dir`). [`SimDisk::power_cut`] switches the machine off — every
//! later operation fails, through old handles or new ones, until [`SimDisk::power_on`],
//! as no process outlives a real power cut — and makes a new disk of only
//! what survives: each unsynced file range is randomly kept, zeroed, cut off or kept in
//! part (4 KiB pages, as a kernel writes them back), each unsynced name change randomly
//! applied or lost, reproducibly from a seed. [`SimDisk::fail_syncs`] makes `fdatasync`
//! return EIO, as a failing disk does.
//!
//! It is a test tool: a whole data directory lives in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::fs::{FileSystem, LockGuard, StoreFile};

const PAGE: usize = 4096;

/// A deterministic generator (SplitMix64): reproducible cuts from a seed, and no
/// dependency for a test tool.
#[derive(Clone, Debug)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[derive(Default, Clone)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
    /// The lowest byte changed since the last sync (`durable` equals `data` below it).
    dirty_from: Option<usize>,
}

impl Inode {
    fn touch(&mut self, from: usize) {
        self.dirty_from = Some(self.dirty_from.map_or(from, |d| d.min(from)));
    }
}

#[derive(Default)]
struct Disk {
    generation: u64,
    next_inode: u64,
    inodes: HashMap<u64, Inode>,
    /// Names as the running system sees them.
    names: BTreeMap<PathBuf, u64>,
    /// Names as they would be after a power cut.
    durable_names: BTreeMap<PathBuf, u64>,
    dirs: HashSet<PathBuf>,
    locks: HashMap<PathBuf, (bool, usize)>,
    /// `fdatasync` calls that fail with EIO from now on (None: none fail).
    failing_syncs: bool,
    /// Files (by inode) whose writes fail with EIO, as a disk with a bad region does.
    failing_writes: HashSet<u64>,
    /// Between a power cut and the next power on: every operation fails. A test's store
    /// whose threads run on after the cut must not write to the disk that survived it.
    off: bool,
    syncs: u64,
}

/// An in-memory disk that loses unsynced data at a simulated power cut. Clones share it.
#[derive(Clone, Default)]
pub struct SimDisk {
    disk: Arc<Mutex<Disk>>,
}

fn dead() -> io::Error {
    io::Error::other("simulated power cut: the machine is off")
}

impl SimDisk {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Disk> {
        self.disk.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// From now on every `fdatasync` fails with EIO (or, with `false`, succeeds again).
    /// As on Linux, the data of a failed sync is not made durable.
    pub fn fail_syncs(&self, fail: bool) {
        self.lock().failing_syncs = fail;
    }

    /// From now on every write to `path` (as it is named now) fails with EIO (or, with
    /// `false`, succeeds again). Nothing of a failed write reaches the file.
    pub fn fail_writes_to(&self, path: &Path, fail: bool) {
        let mut disk = self.lock();
        let Some(id) = disk.names.get(path).copied() else {
            return;
        };
        if fail {
            disk.failing_writes.insert(id);
        } else {
            disk.failing_writes.remove(&id);
        }
    }

    /// How many `fdatasync` calls succeeded so far.
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    /// The bytes a reader sees in a file now (None if it does not exist).
    pub fn read(&self, path: &Path) -> Option<Vec<u8>> {
        let disk = self.lock();
        let inode = disk.names.get(path)?;
        disk.inodes.get(inode).map(|i| i.data.clone())
    }

    /// The bytes of a file that a power cut now would certainly keep: what was last
    /// synced (None if the file does not exist).
    pub fn durable(&self, path: &Path) -> Option<Vec<u8>> {
        let disk = self.lock();
        let inode = disk.names.get(path)?;
        disk.inodes.get(inode).map(|i| i.durable.clone())
    }

    /// Replaces a file's bytes, durably (a test's tampering with the disk).
    pub fn write(&self, path: &Path, bytes: &[u8]) {
        let mut disk = self.lock();
        let id = match disk.names.get(path) {
            Some(id) => *id,
            None => {
                disk.next_inode += 1;
                let id = disk.next_inode;
                disk.names.insert(path.to_owned(), id);
                disk.durable_names.insert(path.to_owned(), id);
                id
            }
        };
        disk.inodes.insert(
            id,
            Inode {
                data: bytes.to_vec(),
                durable: bytes.to_vec(),
                dirty_from: None,
            },
        );
    }

    /// Cuts the power: every operation fails until [`Self::power_on`] (and every handle
    /// opened before fails for good), locks are released, and the disk keeps only what
    /// survives (see the module documentation), chosen by `seed`.
    pub fn power_cut(&self, seed: u64) {
        let mut rng = SimRng::new(seed);
        let mut disk = self.lock();
        disk.off = true;
        disk.generation += 1;
        disk.locks.clear();
        disk.failing_syncs = false;
        disk.failing_writes.clear();
        // Names: each change since the last directory sync is applied or lost.
        let mut all: Vec<PathBuf> = disk.names.keys().cloned().collect();
        all.extend(disk.durable_names.keys().cloned());
        all.sort();
        all.dedup();
        let mut names = BTreeMap::new();
        for path in all {
            let now = disk.names.get(&path).copied();
            let before = disk.durable_names.get(&path).copied();
            let kept = if now == before || rng.below(2) == 0 {
                now
            } else {
                before
            };
            if let Some(id) = kept {
                names.insert(path, id);
            }
        }
        // Data: what was synced, plus a random part of what was not.
        for inode in disk.inodes.values_mut() {
            if inode.dirty_from.is_some() {
                let survivor = survive(&inode.durable, &inode.data, &mut rng);
                inode.data = survivor.clone();
                inode.durable = survivor;
                inode.dirty_from = None;
            }
        }
        disk.durable_names = names.clone();
        disk.names = names;
    }
}

impl SimDisk {
    /// Switches the machine back on after a power cut: new handles work again. Call it
    /// once everything that ran before the cut has stopped, before reopening.
    pub fn power_on(&self) {
        self.lock().off = false;
    }

    /// Fails while the machine is off.
    fn on(&self) -> io::Result<MutexGuard<'_, Disk>> {
        let disk = self.lock();
        if disk.off {
            return Err(dead());
        }
        Ok(disk)
    }
}

/// What a file holds after a power cut, given what was synced and what was written.
fn survive(durable: &[u8], current: &[u8], rng: &mut SimRng) -> Vec<u8> {
    if durable == current {
        return durable.to_vec();
    }
    // The length: the synced one, the written one, or one between (a torn extension).
    let (low, high) = (
        durable.len().min(current.len()),
        durable.len().max(current.len()),
    );
    let len = match rng.below(3) {
        0 => durable.len(),
        1 => current.len(),
        _ => low + rng.below((high - low) as u64 + 1) as usize,
    };
    let mut out = vec![0u8; len];
    let old = |i: usize| durable.get(i).copied().unwrap_or(0);
    let new = |i: usize| current.get(i).copied().unwrap_or(0);
    // Bytes that were synced and not rewritten since survive whatever happens to the
    // page around them; the others follow their page's fate.
    let settled = |i: usize| i < durable.len() && i < current.len() && old(i) == new(i);
    for start in (0..len).step_by(PAGE) {
        let end = (start + PAGE).min(len);
        let choice = if (start..end).all(settled) {
            0
        } else {
            rng.below(4)
        };
        for (i, byte) in out[start..end].iter_mut().enumerate() {
            let at = start + i;
            *byte = if settled(at) {
                old(at)
            } else {
                match choice {
                    0 => old(at),
                    1 => new(at),
                    2 => 0,
                    // Half a page written back.
                    _ if i < PAGE / 2 => new(at),
                    _ => old(at),
                }
            };
        }
    }
    out
}

struct SimFile {
    disk: SimDisk,
    inode: u64,
    generation: u64,
    writable: bool,
}

impl SimFile {
    fn writing<T>(&self, f: impl FnOnce(&mut Disk, u64) -> io::Result<T>) -> io::Result<T> {
        if !self.writable {
            return Err(io::Error::other("simulated disk: file opened read-only"));
        }
        self.with(f)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Disk, u64) -> io::Result<T>) -> io::Result<T> {
        let mut disk = self.disk.lock();
        if disk.off || disk.generation != self.generation {
            return Err(dead());
        }
        f(&mut disk, self.inode)
    }
}

fn inode(disk: &mut Disk, id: u64) -> io::Result<&mut Inode> {
    disk.inodes
        .get_mut(&id)
        .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
}

impl StoreFile for SimFile {
    fn len(&self) -> io::Result<u64> {
        self.with(|d, id| Ok(inode(d, id)?.data.len() as u64))
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.with(|d, id| {
            let data = &inode(d, id)?.data;
            let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
            let end = start
                .checked_add(buf.len())
                .ok_or(io::ErrorKind::UnexpectedEof)?;
            let src = data.get(start..end).ok_or(io::ErrorKind::UnexpectedEof)?;
            buf.copy_from_slice(src);
            Ok(())
        })
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.writing(|d, id| {
            if d.failing_writes.contains(&id) {
                return Err(io::Error::from_raw_os_error(5)); // EIO
            }
            let file = inode(d, id)?;
            let start = usize::try_from(offset).map_err(io::Error::other)?;
            let end = start + buf.len();
            file.touch(start.min(file.data.len()));
            if file.data.len() < end {
                file.data.resize(end, 0);
            }
            file.data[start..end].copy_from_slice(buf);
            Ok(())
        })
    }
    fn sync_data(&self) -> io::Result<()> {
        self.with(|d, id| {
            if d.failing_syncs {
                return Err(io::Error::from_raw_os_error(5)); // EIO
            }
            d.syncs += 1;
            let file = inode(d, id)?;
            if let Some(from) = file.dirty_from.take() {
                let from = from.min(file.durable.len()).min(file.data.len());
                file.durable.truncate(from);
                file.durable.extend_from_slice(&file.data[from..]);
            }
            Ok(())
        })
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.writing(|d, id| {
            let len = usize::try_from(len).map_err(io::Error::other)?;
            let file = inode(d, id)?;
            file.touch(len.min(file.data.len()));
            file.data.resize(len, 0);
            Ok(())
        })
    }
}

struct SimLock {
    disk: SimDisk,
    path: PathBuf,
    generation: u64,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        let mut disk = self.disk.lock();
        if disk.generation != self.generation {
            return;
        }
        if let Some((_, holders)) = disk.locks.get_mut(&self.path) {
            *holders -= 1;
            if *holders == 0 {
                disk.locks.remove(&self.path);
            }
        }
    }
}

impl FileSystem for SimDisk {
    fn open(&self, path: &Path, writable: bool) -> io::Result<Arc<dyn StoreFile>> {
        let mut disk = self.on()?;
        let id = match disk.names.get(path) {
            Some(id) => *id,
            None if writable => {
                disk.next_inode += 1;
                let id = disk.next_inode;
                disk.inodes.insert(id, Inode::default());
                disk.names.insert(path.to_owned(), id);
                id
            }
            None => return Err(io::ErrorKind::NotFound.into()),
        };
        Ok(Arc::new(SimFile {
            disk: self.clone(),
            inode: id,
            generation: disk.generation,
            writable,
        }))
    }
    fn exists(&self, path: &Path) -> bool {
        let Ok(disk) = self.on() else {
            return false;
        };
        disk.names.contains_key(path) || disk.dirs.contains(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut disk = self.on()?;
        let id = disk
            .names
            .remove(from)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        disk.names.insert(to.to_owned(), id);
        Ok(())
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut disk = self.on()?;
        if disk.failing_syncs {
            return Err(io::Error::from_raw_os_error(5));
        }
        let in_dir = |p: &Path| p.parent() == Some(dir);
        let durable: BTreeMap<PathBuf, u64> = disk
            .durable_names
            .iter()
            .filter(|(p, _)| !in_dir(p))
            .map(|(p, i)| (p.clone(), *i))
            .chain(
                disk.names
                    .iter()
                    .filter(|(p, _)| in_dir(p))
                    .map(|(p, i)| (p.clone(), *i)),
            )
            .collect();
        disk.durable_names = durable;
        Ok(())
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut disk = self.on()?;
        disk.names
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| io::ErrorKind::NotFound.into())
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut disk = self.on()?;
        for ancestor in dir.ancestors() {
            disk.dirs.insert(ancestor.to_owned());
        }
        Ok(())
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let disk = self.on()?;
        Ok(disk
            .names
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }
    fn lock(&self, path: &Path, exclusive: bool) -> io::Result<LockGuard> {
        let mut disk = self.on()?;
        let generation = disk.generation;
        match disk.locks.get_mut(path) {
            None => {
                disk.locks.insert(path.to_owned(), (exclusive, 1));
            }
            Some((false, holders)) if !exclusive => *holders += 1,
            Some(_) => return Err(io::ErrorKind::WouldBlock.into()),
        }
        Ok(Box::new(SimLock {
            disk: self.clone(),
            path: path.to_owned(),
            generation,
        }))
    }
    fn supports_sled(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_synced_data_and_names_are_sure_to_survive_a_power_cut() {
        let disk = SimDisk::new();
        let dir = Path::new("/d");
        disk.create_dir_all(dir).unwrap();
        let a = disk.open(&dir.join("a"), true).unwrap();
        a.write_all_at(b"synced", 0).unwrap();
        a.sync_data().unwrap();
        disk.sync_dir(dir).unwrap();
        a.write_all_at(b" and not", 6).unwrap();
        let b = disk.open(&dir.join("b"), true).unwrap();
        b.write_all_at(b"never synced", 0).unwrap();
        b.sync_data().unwrap();
        let mut kept_tail = false;
        let mut lost_b = false;
        for seed in 0..64 {
            let copy = SimDisk::new();
            {
                let d = disk.lock();
                let mut c = copy.lock();
                c.inodes = d.inodes.clone();
                c.names = d.names.clone();
                c.durable_names = d.durable_names.clone();
                c.next_inode = d.next_inode;
            }
            copy.power_cut(seed);
            copy.power_on();
            let a = copy.read(&dir.join("a")).unwrap();
            assert_eq!(&a[..6], b"synced", "seed {seed}");
            kept_tail |= a.len() > 6 && &a[6..] == b" and not";
            lost_b |= copy.read(&dir.join("b")).is_none();
        }
        assert!(kept_tail && lost_b);
        // Handles from before the cut are dead; while the machine is off nothing else
        // works either (a store's threads running on after the cut cannot save a
        // checkpoint on the disk that survived it); after power on new handles work.
        disk.power_cut(1);
        assert!(a.len().is_err());
        assert!(a.write_all_at(b"x", 0).is_err());
        assert!(disk.open(&dir.join("c"), true).is_err());
        assert!(disk.rename(&dir.join("a"), &dir.join("d")).is_err());
        assert!(disk.sync_dir(dir).is_err());
        assert!(FileSystem::lock(&disk, dir, true).is_err());
        disk.power_on();
        assert!(a.len().is_err(), "a handle from before the cut stays dead");
        let c = disk.open(&dir.join("c"), true).unwrap();
        c.write_all_at(b"after", 0).unwrap();
    }

    #[test]
    fn failed_syncs_report_eio_and_make_nothing_durable() {
        let disk = SimDisk::new();
        let f = disk.open(Path::new("/f"), true).unwrap();
        f.write_all_at(b"data", 0).unwrap();
        disk.fail_syncs(true);
        assert_eq!(f.sync_data().unwrap_err().raw_os_error(), Some(5));
        assert_eq!(disk.lock().inodes.values().next().unwrap().durable, b"");
    }
}

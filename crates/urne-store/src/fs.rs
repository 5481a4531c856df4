//! The file system under the store: every read, write, sync, rename and lock of a store
//! file goes through [`FileSystem`], so that the same store code runs on the real disk
//! ([`RealFs`]) and on a simulated one that loses what was not synced
//! ([`crate::sim::SimDisk`]), which is how durability is tested (spec/11-storage.md §11.7).

use std::any::Any;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// A file opened for positioned reads and writes. All methods take `&self`: readers and
/// the writer share one handle.
pub trait StoreFile: Send + Sync {
    /// Current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Fills `buf` from `offset`; an error if the file ends first.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `buf` at `offset`.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes the file's data (and its length) durable: `fdatasync`.
    fn sync_data(&self) -> io::Result<()>;
    /// Truncates or extends the file.
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// A held lock on a data directory; dropping it releases the lock.
pub type LockGuard = Box<dyn Any + Send + Sync>;

/// The operations the store makes on its directory.
pub trait FileSystem: Send + Sync {
    /// Opens a file: `writable`, for reading and writing, created empty if absent;
    /// otherwise read-only (it must exist; it can still be synced).
    fn open(&self, path: &Path, writable: bool) -> io::Result<Arc<dyn StoreFile>>;
    /// Whether a file or directory exists.
    fn exists(&self, path: &Path) -> bool;
    /// Renames a file, replacing the target atomically.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Creates a directory and its parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Names of the files in a directory.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Takes the directory's lock file: exclusive (a writer) or shared (a reader).
    /// `Err(WouldBlock)` if it is held incompatibly.
    fn lock(&self, path: &Path, exclusive: bool) -> io::Result<LockGuard>;
    /// Whether the index may live on this file system as a sled database (the real disk
    /// only: sled does its own I/O).
    fn supports_sled(&self) -> bool;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

struct RealFile(File);

impl StoreFile for RealFile {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        FileExt::read_exact_at(&self.0, buf, offset)
    }
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        FileExt::write_all_at(&self.0, buf, offset)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

impl FileSystem for RealFs {
    fn open(&self, path: &Path, writable: bool) -> io::Result<Arc<dyn StoreFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .create(writable)
            .truncate(false)
            .open(path)?;
        Ok(Arc::new(RealFile(file)))
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }
    fn lock(&self, path: &Path, exclusive: bool) -> io::Result<LockGuard> {
        let file = if exclusive {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)?
        } else {
            // A reader may run on a read-only copy: no write access, nothing created.
            match File::open(path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Box::new(())),
                Err(e) => return Err(e),
            }
        };
        let taken = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match taken {
            Ok(()) => Ok(Box::new(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(io::ErrorKind::WouldBlock.into()),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
    fn supports_sled(&self) -> bool {
        true
    }
}

//! Files of fixed-size records (offsets: 8 bytes; node hashes: 32 bytes) that are
//! appended to and read at positions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{StoreError, io};
use crate::fs::{FileSystem, StoreFile};

/// An append-only file of `width`-byte records.
pub(crate) struct RecordFile {
    path: PathBuf,
    file: Arc<dyn StoreFile>,
    width: u64,
    count: u64,
}

impl RecordFile {
    /// Opens (creating unless `read_only`) the file. A partial last record is ignored
    /// (and cut off unless `read_only`).
    pub(crate) fn open(
        fs: &dyn FileSystem,
        path: &Path,
        width: u64,
        read_only: bool,
    ) -> Result<Self, StoreError> {
        let file = if read_only && !fs.exists(path) {
            None
        } else {
            Some(fs.open(path, !read_only).map_err(io(path))?)
        };
        let Some(file) = file else {
            return Ok(Self {
                path: path.to_owned(),
                file: Arc::new(Missing),
                width,
                count: 0,
            });
        };
        let len = file.len().map_err(io(path))?;
        let count = len / width;
        if len % width != 0 && !read_only {
            file.set_len(count * width).map_err(io(path))?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            width,
            count,
        })
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    pub(crate) fn truncate(&mut self, count: u64) -> Result<(), StoreError> {
        if count < self.count {
            self.file
                .set_len(count * self.width)
                .map_err(io(&self.path))?;
            self.count = count;
        }
        Ok(())
    }

    pub(crate) fn append(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        debug_assert_eq!(bytes.len() as u64 % self.width, 0);
        self.file
            .write_all_at(bytes, self.count * self.width)
            .map_err(io(&self.path))?;
        self.count += bytes.len() as u64 / self.width;
        Ok(())
    }

    pub(crate) fn read(&self, start: u64, count: u64) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0u8; (count * self.width) as usize];
        self.file
            .read_exact_at(&mut buf, start * self.width)
            .map_err(io(&self.path))?;
        Ok(buf)
    }

    pub(crate) fn sync(&self) -> Result<(), StoreError> {
        self.file.sync_data().map_err(io(&self.path))
    }

    /// The shared handle, for readers (positioned reads need no lock).
    pub(crate) fn reader(&self) -> Arc<dyn StoreFile> {
        Arc::clone(&self.file)
    }
}

/// A derived file absent in a read-only open: it holds nothing.
struct Missing;

impl StoreFile for Missing {
    fn len(&self) -> std::io::Result<u64> {
        Ok(0)
    }
    fn read_exact_at(&self, _: &mut [u8], _: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
    fn write_all_at(&self, _: &[u8], _: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::ReadOnlyFilesystem.into())
    }
    fn sync_data(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn set_len(&self, _: u64) -> std::io::Result<()> {
        Err(std::io::ErrorKind::ReadOnlyFilesystem.into())
    }
}

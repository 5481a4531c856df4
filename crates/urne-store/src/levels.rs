//! Files of fixed-size records (offsets: 8 bytes; tile hashes: 32 bytes) that are
//! appended to and read at positions.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{StoreError, io};

/// An append-only file of `width`-byte records.
pub(crate) struct RecordFile {
    path: PathBuf,
    file: File,
    width: u64,
    count: u64,
}

impl RecordFile {
    /// Opens (creating) the file; a partial last record is cut off.
    pub(crate) fn open(path: &Path, width: u64) -> Result<Self, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        let count = len / width;
        if len % width != 0 {
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
        self.file.write_all(bytes).map_err(io(&self.path))?;
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

    pub(crate) fn read_all(&self) -> Result<Vec<u8>, StoreError> {
        self.read(0, self.count)
    }

    /// A second handle for readers (positioned reads need no lock).
    pub(crate) fn reader(&self) -> Result<File, StoreError> {
        self.file.try_clone().map_err(io(&self.path))
    }
}

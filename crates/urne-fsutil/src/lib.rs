//! Durable writes of small whole files (keys, verifier keys, a witness's state): after
//! [`write_new`] or [`replace`] returns, the file survives a power cut with either its
//! old content or its new content in full, never a mix, never empty.
//!
//! The recipe (spec/15 §1.3): write a temporary file in the same directory, fsync it,
//! move it into place (rename to replace; hard link to create without ever overwriting),
//! then fsync the directory so the new name itself is durable. A rename alone is not
//! enough: without the directory fsync the name may vanish after a crash, and without
//! the file fsync the name may point at zeroed blocks (ext4 `data=writeback`, XFS).
//!
//! This crate is for whole small files only; the board's log has its own framed,
//! group-committed writer in urne-store. It must never write in place.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The directory holding `path` (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to a fresh temporary file beside `path`, with `mode`, and fsyncs it.
fn write_temporary(path: &Path, bytes: &[u8], mode: u32) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let temporary = parent(path).join(temporary_name);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(temporary),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}

/// Fsyncs the directory holding `path`, so that a name created or renamed in it is
/// durable.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    sync_dir(parent(path))
}

/// Fsyncs directory `dir`, so that the names created, renamed or removed in it are
/// durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `path` with `bytes` and permission bits `mode`, durably; fails with
/// `AlreadyExists` if `path` exists, and never leaves a partial file under its name.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let temporary = write_temporary(path, bytes, mode)?;
    // link(2) fails if the target exists: creation without overwriting, atomically.
    let linked = std::fs::hard_link(&temporary, path);
    let removed = std::fs::remove_file(&temporary);
    linked?;
    removed?;
    sync_parent(path)
}

/// Replaces (or creates) `path` with `bytes` and permission bits `mode`, durably and
/// atomically: a reader sees the old content or the new, never a mix.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let temporary = write_temporary(path, bytes, mode)?;
    if let Err(e) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    sync_parent(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("urne-fsutil-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn leftovers(d: &Path) -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn write_new_creates_with_the_mode_and_never_overwrites() {
        let d = dir("new");
        let path = d.join("key");
        write_new(&path, b"first", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let err = write_new(&path, b"second", 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));
    }

    #[test]
    fn replace_swaps_the_whole_content_and_leaves_no_temporary() {
        let d = dir("replace");
        let path = d.join("board.vkey");
        replace(&path, b"old\n", 0o644).unwrap();
        replace(&path, b"new content\n", 0o644).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new content\n");
        assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));
    }

    #[test]
    fn a_failed_write_leaves_neither_the_file_nor_a_temporary() {
        let d = dir("fail");
        let path = d.join("missing-dir").join("key");
        assert!(write_new(&path, b"x", 0o600).is_err());
        assert!(replace(&path, b"x", 0o600).is_err());
        assert!(!path.exists());
        assert!(leftovers(&d).is_empty());
    }

    #[test]
    fn syncing_a_missing_directory_is_an_error() {
        let d = dir("sync");
        assert!(sync_dir(&d).is_ok());
        assert!(sync_dir(&d.join("absent")).is_err());
    }

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(parent(Path::new("key")), Path::new("."));
        assert_eq!(parent(Path::new("a/key")), Path::new("a"));
    }
}

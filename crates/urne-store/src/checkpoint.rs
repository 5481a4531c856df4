//! The saved checkpoint (spec/11-storage.md §11.2): the last signed checkpoint note,
//! saved only over a root checked against the log, after the derived files it vouches
//! for are durable.

use std::path::Path;

use urne_log::Checkpoint;
use urne_log::note::Note;

use crate::error::{StoreError, io};
use crate::fs::FileSystem;
use crate::store::{CHECKPOINT, OFFSETS, Store};

/// Reads the saved checkpoint: its note text and the checkpoint it carries.
pub(crate) fn read_checkpoint(
    fs: &dyn FileSystem,
    dir: &Path,
) -> Result<Option<(String, Checkpoint)>, StoreError> {
    let path = dir.join(CHECKPOINT);
    if !fs.exists(&path) {
        return Ok(None);
    }
    let file = fs.open(&path, false).map_err(io(&path))?;
    let len = file.len().map_err(io(&path))?;
    // A checkpoint note is a few hundred bytes; a huge file is not one.
    if len > 1 << 20 {
        return Err(StoreError::Corrupt {
            what: "checkpoint",
            detail: format!("{len} bytes, too large for a checkpoint note"),
        });
    }
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0).map_err(io(&path))?;
    let text = String::from_utf8(bytes).map_err(|e| StoreError::Corrupt {
        what: "checkpoint",
        detail: e.to_string(),
    })?;
    let note = Note::parse(text.as_bytes()).map_err(|e| StoreError::Corrupt {
        what: "checkpoint",
        detail: e.to_string(),
    })?;
    let checkpoint = Checkpoint::parse(note.text()).map_err(|e| StoreError::Corrupt {
        what: "checkpoint",
        detail: e.to_string(),
    })?;
    Ok(Some((text, checkpoint)))
}

impl Store {
    /// The last saved signed checkpoint note, if any.
    pub fn checkpoint(&self) -> Option<String> {
        self.inner
            .checkpoint
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Saves a signed checkpoint durably (write, fsync, rename, fsync the directory),
    /// after making the derived files durable up to it. The checkpoint's size must be
    /// durable already and its root must be the log's, checked against the frames
    /// ([`Store::verified_root`]): the store never records a checkpoint the log
    /// contradicts.
    pub fn save_checkpoint(&self, note_text: &str) -> Result<(), StoreError> {
        let _guard = self
            .inner
            .checkpoint_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let note = Note::parse(note_text.as_bytes())
            .map_err(|e| StoreError::BadCheckpoint(e.to_string()))?;
        let checkpoint =
            Checkpoint::parse(note.text()).map_err(|e| StoreError::BadCheckpoint(e.to_string()))?;
        if self.verified_root(checkpoint.size())? != *checkpoint.root() {
            return Err(StoreError::BadCheckpoint(
                "root does not match the log".into(),
            ));
        }
        let fs = &*self.inner.fs;
        let dir = &self.inner.dir;
        for name in fs.list(dir).map_err(io(dir))? {
            if name == OFFSETS || (name.starts_with("height-") && name.ends_with(".dat")) {
                let path = dir.join(&name);
                fs.open(&path, false)
                    .and_then(|f| f.sync_data())
                    .map_err(io(&path))?;
            }
        }
        let tmp = dir.join("checkpoint.tmp");
        {
            let f = fs.open(&tmp, true).map_err(io(&tmp))?;
            f.set_len(0).map_err(io(&tmp))?;
            f.write_all_at(note_text.as_bytes(), 0).map_err(io(&tmp))?;
            f.sync_data().map_err(io(&tmp))?;
        }
        fs.rename(&tmp, &dir.join(CHECKPOINT)).map_err(io(&tmp))?;
        fs.sync_dir(dir).map_err(io(dir))?;
        // The index is flushed here, off the append path (it never syncs there).
        self.inner.index.flush()?;
        *self
            .inner
            .checkpoint
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(note_text.to_owned());
        Ok(())
    }
}

//! The archive `urne export` writes and `urne verify` reads (spec/51-archive.md): the
//! board's verifier key, the signed checkpoints seen (with their cosignatures), and the
//! log's entries, byte for byte as the board served them.
//!
//! Decoding is strict: the magic, every length within its bound, nothing after the last
//! entry. Decoding checks the shape only; every signature and hash is the verifier's
//! (step V1).

use urne_record::MAX_RECORD_BYTES;

/// The first bytes of every archive (spec/51 §51.1).
pub const MAGIC: &[u8; 15] = b"urne-archive/1\n";
/// The longest verifier key text.
pub const MAX_VKEY_BYTES: usize = 1024;
/// The longest signed note (a checkpoint with its cosignatures).
pub const MAX_NOTE_BYTES: usize = 65_536;
/// The most checkpoints one archive holds.
pub const MAX_CHECKPOINTS: u32 = 1 << 20;

/// A board's public log, as `urne verify` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archive {
    /// The board's verifier key (C2SP vkey).
    pub board_vkey: String,
    /// Signed checkpoint notes as served, oldest first; the last covers every entry.
    pub checkpoints: Vec<String>,
    /// The log's entries, in log order.
    pub entries: Vec<Vec<u8>>,
}

/// Why bytes are not an archive: what, and at which byte offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("archive, {field} at byte {offset}: {detail}")]
pub struct ArchiveError {
    /// The field (spec/51 names).
    pub field: String,
    /// Where it begins.
    pub offset: usize,
    /// What is wrong.
    pub detail: String,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, field: impl Into<String>, detail: impl Into<String>) -> ArchiveError {
        ArchiveError {
            field: field.into(),
            offset: self.at,
            detail: detail.into(),
        }
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], ArchiveError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                self.error(
                    field,
                    format!(
                        "{n} bytes needed, {} left",
                        self.bytes.len().saturating_sub(self.at)
                    ),
                )
            })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self, field: &str) -> Result<u32, ArchiveError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, field: &str) -> Result<u64, ArchiveError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A u32 length, at most `max`, then that many bytes.
    fn item(&mut self, field: &str, max: usize) -> Result<&'a [u8], ArchiveError> {
        let start = self.at;
        let len = self.u32(field)? as usize;
        if len > max {
            self.at = start;
            return Err(self.error(field, format!("length {len} is above the limit {max}")));
        }
        self.take(len, field)
    }

    fn text(&mut self, field: &str, max: usize) -> Result<String, ArchiveError> {
        let start = self.at;
        let bytes = self.item(field, max)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ArchiveError {
            field: field.to_owned(),
            offset: start,
            detail: "not UTF-8".into(),
        })
    }
}

impl Archive {
    /// The archive's bytes (spec/51 §51.1).
    pub fn encode(&self) -> Vec<u8> {
        let size: usize = self.entries.iter().map(|e| e.len() + 4).sum();
        let mut out = Vec::with_capacity(MAGIC.len() + 64 + size);
        out.extend_from_slice(MAGIC);
        let item = |out: &mut Vec<u8>, bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        item(&mut out, self.board_vkey.as_bytes());
        out.extend_from_slice(&(self.checkpoints.len() as u32).to_be_bytes());
        for note in &self.checkpoints {
            item(&mut out, note.as_bytes());
        }
        out.extend_from_slice(&(self.entries.len() as u64).to_be_bytes());
        for entry in &self.entries {
            item(&mut out, entry);
        }
        out
    }

    /// Decodes an archive strictly (spec/51 §51.2).
    pub fn decode(bytes: &[u8]) -> Result<Self, ArchiveError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len(), "magic")? != MAGIC {
            r.at = 0;
            return Err(r.error("magic", "not an urne archive of version 1"));
        }
        let board_vkey = r.text("board_vkey", MAX_VKEY_BYTES)?;
        let count = r.u32("checkpoint_count")?;
        if count == 0 || count > MAX_CHECKPOINTS {
            return Err(r.error(
                "checkpoint_count",
                format!("{count} checkpoints; 1 to {MAX_CHECKPOINTS} expected"),
            ));
        }
        let mut checkpoints = Vec::with_capacity(count as usize);
        for i in 0..count {
            checkpoints.push(r.text(&format!("checkpoints[{i}]"), MAX_NOTE_BYTES)?);
        }
        let n = r.u64("entry_count")?;
        // Each entry takes at least its 4-byte length: a count the bytes cannot hold is
        // refused before anything is allocated for it.
        let left = (bytes.len() - r.at) as u64;
        if n > left / 4 {
            return Err(r.error(
                "entry_count",
                format!("{n} entries cannot fit in the {left} bytes left"),
            ));
        }
        let mut entries = Vec::with_capacity(n as usize);
        for i in 0..n {
            entries.push(r.item(&format!("entries[{i}]"), MAX_RECORD_BYTES)?.to_vec());
        }
        if r.at != bytes.len() {
            return Err(r.error(
                "end",
                format!("{} bytes after the last entry", bytes.len() - r.at),
            ));
        }
        Ok(Self {
            board_vkey,
            checkpoints,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sample() -> Archive {
        Archive {
            board_vkey: "board+01234567+AQID".into(),
            checkpoints: vec!["one\n".into(), "two\n".into()],
            entries: vec![vec![1, 2, 3], vec![], vec![9; 300]],
        }
    }

    #[test]
    fn archive_round_trips() {
        let a = sample();
        assert_eq!(Archive::decode(&a.encode()).unwrap(), a);
    }

    #[test]
    fn archive_with_trailing_bytes_is_refused() {
        let mut bytes = sample().encode();
        bytes.push(0);
        let e = Archive::decode(&bytes).unwrap_err();
        assert_eq!(e.field, "end");
    }

    #[test]
    fn truncated_archive_names_the_entry_cut() {
        let bytes = sample().encode();
        let e = Archive::decode(&bytes[..bytes.len() - 1]).unwrap_err();
        assert_eq!(e.field, "entries[2]");
    }

    #[test]
    fn archive_of_another_version_or_no_checkpoint_is_refused() {
        let mut bytes = sample().encode();
        bytes[13] = b'2';
        assert_eq!(Archive::decode(&bytes).unwrap_err().field, "magic");
        let mut a = sample();
        a.checkpoints.clear();
        assert_eq!(
            Archive::decode(&a.encode()).unwrap_err().field,
            "checkpoint_count"
        );
    }

    #[test]
    fn entry_count_beyond_the_bytes_is_refused_before_allocating() {
        let mut a = sample();
        a.entries.clear();
        let mut bytes = a.encode();
        let len = bytes.len();
        bytes[len - 8..].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(Archive::decode(&bytes).unwrap_err().field, "entry_count");
    }

    #[test]
    fn oversized_record_is_refused() {
        let mut a = sample();
        a.entries[0] = vec![0; MAX_RECORD_BYTES + 1];
        assert_eq!(
            Archive::decode(&a.encode()).unwrap_err().field,
            "entries[0]"
        );
    }
}

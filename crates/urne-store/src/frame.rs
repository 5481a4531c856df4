//! Frames of `log.dat` (spec/11-storage.md §11.1): a u32 little-endian word ‖ 32-byte leaf
//! hash ‖ record bytes. The word's low 31 bits are the record length (1 … 65,535), its
//! top bit marks the first frame of a group commit. The leaf hash
//! SHA-256(0x00 ‖ record) is the checksum: a torn or damaged frame cannot pass for a
//! record.
//!
//! The group-commit mark is what tells damage from a torn write: the writer starts a
//! group only after the previous one is durable, so a valid frame that starts a group
//! *after* a damaged frame proves the damaged frame was durable, hence acknowledged.

use std::path::Path;

use urne_log::{Hash, leaf_hash};

use crate::error::{StoreError, io};
use crate::fs::StoreFile;

/// Bytes before the record in a frame.
pub const FRAME_HEADER: usize = 4 + 32;
/// The largest record: tlog-tiles entry bundles prefix entries with a u16 length.
pub const MAX_RECORD_BYTES: usize = u16::MAX as usize;
/// The top bit of the length word: this frame starts a group commit.
const GROUP_START: u32 = 1 << 31;
/// The largest frame.
pub(crate) const MAX_FRAME: usize = FRAME_HEADER + MAX_RECORD_BYTES;

pub(crate) fn encode(record: &[u8], hash: &Hash, group_start: bool, out: &mut Vec<u8>) {
    let mut word = record.len() as u32;
    if group_start {
        word |= GROUP_START;
    }
    out.extend_from_slice(&word.to_le_bytes());
    out.extend_from_slice(&hash.0);
    out.extend_from_slice(record);
}

/// What reading a frame at some offset found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameRead {
    /// A whole, valid frame of this many bytes in all.
    Valid {
        len: usize,
        hash: Hash,
        group_start: bool,
    },
    /// The frame runs past the end of the data (a torn write).
    Truncated,
    /// The frame is complete but wrong (bad length or checksum).
    Damaged(&'static str),
}

/// Checks the frame at the start of `data` (which runs to the end of the file or further).
pub(crate) fn check(data: &[u8]) -> FrameRead {
    if data.len() < FRAME_HEADER {
        return FrameRead::Truncated;
    }
    let word = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let len = (word & !GROUP_START) as usize;
    if len == 0 || len > MAX_RECORD_BYTES {
        return FrameRead::Damaged("record length out of bounds");
    }
    if data.len() < FRAME_HEADER + len {
        return FrameRead::Truncated;
    }
    let hash = leaf_hash(&data[FRAME_HEADER..FRAME_HEADER + len]);
    if hash.0 != data[4..FRAME_HEADER] {
        return FrameRead::Damaged("checksum (leaf hash) mismatch");
    }
    FrameRead::Valid {
        len: FRAME_HEADER + len,
        hash,
        group_start: word & GROUP_START != 0,
    }
}

/// Reads one frame at `offset` by its header, returning its record and hash.
pub(crate) fn read(
    file: &dyn StoreFile,
    path: &Path,
    offset: u64,
) -> Result<(Vec<u8>, Hash), StoreError> {
    let mut header = [0u8; FRAME_HEADER];
    file.read_exact_at(&mut header, offset).map_err(io(path))?;
    let word = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let len = (word & !GROUP_START) as usize;
    if len == 0 || len > MAX_RECORD_BYTES {
        return Err(StoreError::Corrupt {
            what: "log.dat",
            detail: format!("bad record length in the frame at offset {offset}"),
        });
    }
    let mut record = vec![0u8; len];
    file.read_exact_at(&mut record, offset + FRAME_HEADER as u64)
        .map_err(io(path))?;
    let hash = leaf_hash(&record);
    if hash.0 != header[4..] {
        return Err(StoreError::Corrupt {
            what: "log.dat",
            detail: format!("checksum mismatch in the frame at offset {offset}"),
        });
    }
    Ok((record, hash))
}

/// Streams a file in large reads, so that scanning a log never holds it whole.
pub(crate) struct Window<'a> {
    file: &'a dyn StoreFile,
    path: &'a Path,
    len: u64,
    start: u64,
    buf: Vec<u8>,
}

const CHUNK: usize = 4 << 20;

impl<'a> Window<'a> {
    pub(crate) fn new(file: &'a dyn StoreFile, path: &'a Path, len: u64) -> Self {
        Self {
            file,
            path,
            len,
            start: 0,
            buf: Vec::new(),
        }
    }

    /// The bytes from `position` on: at least a whole frame's worth, or up to the end.
    pub(crate) fn at(&mut self, position: u64) -> Result<&[u8], StoreError> {
        let want_end = (position + MAX_FRAME as u64).min(self.len);
        let have_end = self.start + self.buf.len() as u64;
        if position < self.start || want_end > have_end {
            let end = (position + CHUNK.max(MAX_FRAME) as u64).min(self.len);
            self.buf.resize((end - position.min(end)) as usize, 0);
            self.file
                .read_exact_at(&mut self.buf, position)
                .map_err(io(self.path))?;
            self.start = position;
        }
        let from = (position - self.start) as usize;
        Ok(&self.buf[from.min(self.buf.len())..])
    }
}

/// Where a scan of frames stopped short of the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stop {
    /// Offset of the first frame that is not valid.
    pub offset: u64,
    /// Why.
    pub why: &'static str,
}

/// Valid frames found by a scan: (offset, leaf hash).
pub(crate) type Frames = Vec<(u64, Hash)>;

/// The valid frames from `from` on, in order: (offset, leaf hash), and where the scan
/// stopped if not at the end of the file.
pub(crate) fn scan(
    file: &dyn StoreFile,
    path: &Path,
    from: u64,
    len: u64,
) -> Result<(Frames, Option<Stop>), StoreError> {
    let mut window = Window::new(file, path, len);
    let mut frames = Vec::new();
    let mut position = from;
    while position < len {
        match check(window.at(position)?) {
            FrameRead::Valid { len: n, hash, .. } => {
                frames.push((position, hash));
                position += n as u64;
            }
            FrameRead::Truncated => {
                return Ok((
                    frames,
                    Some(Stop {
                        offset: position,
                        why: "frame cut short by the end of the file",
                    }),
                ));
            }
            FrameRead::Damaged(why) => {
                return Ok((
                    frames,
                    Some(Stop {
                        offset: position,
                        why,
                    }),
                ));
            }
        }
    }
    Ok((frames, None))
}

/// The first offset after `after` holding a valid frame that starts a group commit or
/// is listed in `known_offsets` (evidence that it was acknowledged), searching every
/// byte offset.
pub(crate) fn later_acknowledged_frame(
    file: &dyn StoreFile,
    path: &Path,
    after: u64,
    len: u64,
    known_offsets: &std::collections::HashSet<u64>,
) -> Result<Option<u64>, StoreError> {
    let mut window = Window::new(file, path, len);
    let mut position = after + 1;
    while position + FRAME_HEADER as u64 <= len {
        if let FrameRead::Valid { group_start, .. } = check(window.at(position)?)
            && (group_start || known_offsets.contains(&position))
        {
            return Ok(Some(position));
        }
        position += 1;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_damage_is_detected() {
        let mut buf = Vec::new();
        encode(b"hello", &leaf_hash(b"hello"), true, &mut buf);
        assert_eq!(
            check(&buf),
            FrameRead::Valid {
                len: FRAME_HEADER + 5,
                hash: leaf_hash(b"hello"),
                group_start: true,
            }
        );
        assert_eq!(check(&buf[..buf.len() - 1]), FrameRead::Truncated);
        assert_eq!(check(&buf[..3]), FrameRead::Truncated);
        let mut bad = buf.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(matches!(check(&bad), FrameRead::Damaged(_)));
        assert!(matches!(check(&[0u8; 64]), FrameRead::Damaged(_)));
        let mut huge = buf.clone();
        huge[..4].copy_from_slice(&(1u32 << 20).to_le_bytes());
        assert!(matches!(check(&huge), FrameRead::Damaged(_)));
        let mut inner = Vec::new();
        encode(b"hello", &leaf_hash(b"hello"), false, &mut inner);
        assert!(matches!(
            check(&inner),
            FrameRead::Valid {
                group_start: false,
                ..
            }
        ));
    }
}

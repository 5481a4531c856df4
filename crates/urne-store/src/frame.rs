//! Frames of `log.dat`: u32 little-endian length ‖ 32-byte leaf hash ‖ record bytes.
//! The leaf hash SHA-256(0x00 ‖ record) is the checksum: a torn or damaged frame cannot
//! pass for a record.

use urne_log::{Hash, leaf_hash};

/// Bytes before the record in a frame.
pub const FRAME_HEADER: usize = 4 + 32;
/// The largest record: tlog-tiles entry bundles prefix entries with a u16 length.
pub const MAX_RECORD_BYTES: usize = u16::MAX as usize;

pub(crate) fn encode(record: &[u8], hash: &Hash, out: &mut Vec<u8>) {
    out.extend_from_slice(&(record.len() as u32).to_le_bytes());
    out.extend_from_slice(&hash.0);
    out.extend_from_slice(record);
}

/// What reading a frame at some offset found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameRead {
    /// A whole, valid frame of this many bytes in all.
    Valid { len: usize, hash: Hash },
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
    let len = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    if len == 0 || len > MAX_RECORD_BYTES {
        return FrameRead::Damaged("record length out of bounds");
    }
    if data.len() < FRAME_HEADER + len {
        return FrameRead::Truncated;
    }
    let mut stored = [0u8; 32];
    stored.copy_from_slice(&data[4..FRAME_HEADER]);
    let hash = leaf_hash(&data[FRAME_HEADER..FRAME_HEADER + len]);
    if hash.0 != stored {
        return FrameRead::Damaged("checksum (leaf hash) mismatch");
    }
    FrameRead::Valid {
        len: FRAME_HEADER + len,
        hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_damage_is_detected() {
        let mut buf = Vec::new();
        encode(b"hello", &leaf_hash(b"hello"), &mut buf);
        assert_eq!(
            check(&buf),
            FrameRead::Valid {
                len: FRAME_HEADER + 5,
                hash: leaf_hash(b"hello")
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
    }
}

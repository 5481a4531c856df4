//! C2SP tlog-tiles: tile paths, and complete-subtree hashes from tile hashes.
//!
//! A tile at level l holds the hashes of complete subtrees of height 8·l: hash p of
//! level l covers leaves [p·256^l, (p+1)·256^l). Storage persists these hashes; any
//! other complete subtree (height not a multiple of 8) is recomputed from at most 128 of
//! them, so proofs never rehash leaves.

use crate::hash::{Hash, node_hash};
use crate::proof::HashSource;

/// Tiles are 2^8 hashes wide.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// A tlog-tiles resource below the log's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`: Merkle hashes.
    Hashes {
        /// Level 0–63.
        level: u8,
        /// Tile index within the level.
        index: u64,
        /// Width 1–255 of a partial tile; None for a full tile.
        partial: Option<u8>,
    },
    /// `tile/entries/<N>[.p/<W>]`: an entry bundle.
    Entries {
        /// Bundle index.
        index: u64,
        /// Width 1–255 of a partial bundle; None for a full one.
        partial: Option<u8>,
    },
}

/// The `<N>` path elements of tile index n: zero-padded groups of three digits, all but
/// the last prefixed with `x` (1234067 → `x001/x234/067`).
pub fn index_path(n: u64) -> String {
    let digits = n.to_string();
    let padded = format!("{}{digits}", "0".repeat((3 - digits.len() % 3) % 3));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .filter_map(|c| core::str::from_utf8(c).ok())
        .collect();
    let last = groups.len().saturating_sub(1);
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g}")
            } else {
                (*g).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn three_digits(s: &str) -> Option<u64> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn decimal_no_leading_zero(s: &str) -> Option<u64> {
    if s.is_empty()
        || s.len() > 20
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl TilePath {
    /// Parses the part of a URL path after the log prefix, e.g. `tile/0/x001/234.p/5`.
    /// Strict: anything the spec does not allow is None.
    pub fn parse(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("tile/")?;
        let (level, rest) = rest.split_once('/')?;
        let (index_part, partial) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let w = decimal_no_leading_zero(width)?;
                if !(1..=255).contains(&w) {
                    return None;
                }
                (index, Some(w as u8))
            }
            None => (rest, None),
        };
        let segments: Vec<&str> = index_part.split('/').collect();
        let last = segments.len().saturating_sub(1);
        let mut index: u64 = 0;
        for (i, segment) in segments.iter().enumerate() {
            let digits = if i < last {
                segment.strip_prefix('x')?
            } else {
                segment
            };
            index = index
                .checked_mul(1000)?
                .checked_add(three_digits(digits)?)?;
        }
        // The encoding is unique: no superfluous leading groups of zeros.
        if index_path(index) != index_part {
            return None;
        }
        if level == "entries" {
            return Some(Self::Entries { index, partial });
        }
        let level = decimal_no_leading_zero(level)?;
        if level > 63 {
            return None;
        }
        Some(Self::Hashes {
            level: level as u8,
            index,
            partial,
        })
    }

    /// The path, as [`TilePath::parse`] reads it.
    pub fn to_path(&self) -> String {
        let (level, index, partial) = match self {
            Self::Hashes {
                level,
                index,
                partial,
            } => (level.to_string(), *index, *partial),
            Self::Entries { index, partial } => ("entries".to_owned(), *index, *partial),
        };
        let mut path = format!("tile/{level}/{}", index_path(index));
        if let Some(w) = partial {
            path.push_str(&format!(".p/{w}"));
        }
        path
    }
}

/// Stored tile hashes: `stored(l, p)` is hash p of level l (a complete subtree of
/// height 8·l).
pub trait StoredHashes {
    /// What can go wrong reading them.
    type Error;
    /// Hash p of level l.
    fn stored(&self, level: u32, position: u64) -> Result<Hash, Self::Error>;

    /// Hashes start … start+count−1 of level l, exactly `count` of them or an error.
    /// Storage overrides this to read them in one go.
    fn stored_range(&self, level: u32, start: u64, count: u64) -> Result<Vec<Hash>, Self::Error> {
        // A range running past 2^64 is cut short here; `Tiled` refuses the short answer.
        (start..start.saturating_add(count))
            .map(|p| self.stored(level, p))
            .collect()
    }
}

/// Why [`Tiled`] could not give a subtree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TiledError<E> {
    /// The stored hashes could not be read.
    Source(E),
    /// The subtree lies past the last leaf position a u64 can address.
    OutOfRange {
        /// The subtree's height.
        height: u32,
        /// Its index.
        index: u64,
    },
    /// The storage gave another number of hashes than asked.
    ShortRead {
        /// How many were asked.
        wanted: u64,
        /// How many came.
        got: usize,
    },
}

impl<E: core::fmt::Display> core::fmt::Display for TiledError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Source(e) => write!(f, "reading tiles: {e}"),
            Self::OutOfRange { height, index } => {
                write!(f, "subtree {index} at height {height} is past the tree")
            }
            Self::ShortRead { wanted, got } => {
                write!(f, "storage gave {got} tile hashes, {wanted} asked")
            }
        }
    }
}

/// Any complete subtree from stored tile hashes.
pub struct Tiled<'a, S: ?Sized>(pub &'a S);

impl<S: StoredHashes + ?Sized> HashSource for Tiled<'_, S> {
    type Error = TiledError<S::Error>;

    fn subtree(&self, height: u32, index: u64) -> Result<Hash, Self::Error> {
        let level = height / TILE_HEIGHT;
        let within = height % TILE_HEIGHT;
        if within == 0 {
            return self.0.stored(level, index).map_err(TiledError::Source);
        }
        // 2^within consecutive stored hashes, hashed up pairwise.
        let count = 1u64 << within;
        let first = index
            .checked_mul(count)
            .filter(|first| first.checked_add(count).is_some())
            .ok_or(TiledError::OutOfRange { height, index })?;
        let mut layer = self
            .0
            .stored_range(level, first, count)
            .map_err(TiledError::Source)?;
        if layer.len() as u64 != count {
            return Err(TiledError::ShortRead {
                wanted: count,
                got: layer.len(),
            });
        }
        // count is a power of two, so every layer has an even length until the last.
        while layer.len() > 1 {
            layer = layer
                .chunks_exact(2)
                .map(|pair| match pair {
                    [left, right] => node_hash(left, right),
                    _ => Hash::empty(),
                })
                .collect();
        }
        layer.pop().ok_or(TiledError::ShortRead {
            wanted: count,
            got: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_the_spec_example() {
        assert_eq!(index_path(1234067), "x001/x234/067");
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(999), "999");
        assert_eq!(index_path(1000), "x001/000");
    }

    #[test]
    fn tile_paths_parse_strictly_and_round_trip() {
        let cases = [
            (
                "tile/0/x001/x234/067",
                TilePath::Hashes {
                    level: 0,
                    index: 1234067,
                    partial: None,
                },
            ),
            (
                "tile/2/000.p/1",
                TilePath::Hashes {
                    level: 2,
                    index: 0,
                    partial: Some(1),
                },
            ),
            (
                "tile/entries/x001/234.p/255",
                TilePath::Entries {
                    index: 1234,
                    partial: Some(255),
                },
            ),
            (
                "tile/63/000",
                TilePath::Hashes {
                    level: 63,
                    index: 0,
                    partial: None,
                },
            ),
        ];
        for (path, tile) in cases {
            assert_eq!(TilePath::parse(path), Some(tile), "{path}");
            assert_eq!(tile.to_path(), path);
        }
        for bad in [
            "tile/0/1",
            "tile/0/01",
            "tile/00/000",
            "tile/64/000",
            "tile/0/x000/001",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/001/002",
            "tile/0/xx01/002",
            "tile/-1/000",
            "tiles/0/000",
            "tile/0/000/",
            "tile/entries/000.p/",
            "tile/0/0a0",
        ] {
            assert_eq!(TilePath::parse(bad), None, "{bad}");
        }
    }
}

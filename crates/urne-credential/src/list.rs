//! The public credential list (spec/22 §22.3): sorted, distinct, weighted entries under
//! one RFC 6962 Merkle root, split into parts that each fit in one board record.

use urne_log::Hash;
use urne_log::hash::{leaf_hash, root_of};

use crate::error::CredentialError;
use crate::secret::PublicCredential;

/// Bytes of one entry: credential (32) ‖ weight (u32 BE).
pub const ENTRY_BYTES: usize = 36;
/// Entries in each part but the last: a part with its header fits in one 64 KiB record.
pub const MAX_ENTRIES_PER_PART: usize = 1800;
const PART_VERSION: u8 = 1;
const PART_HEADER: usize = 1 + 32 + 8 + 4 + 4 + 4;

/// One entry of the list: a public credential and its voting weight (1 if unweighted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListedCredential {
    /// The public credential.
    pub credential: PublicCredential,
    /// Its weight, at least 1.
    pub weight: u32,
}

impl ListedCredential {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.credential.to_bytes());
        out.extend_from_slice(&self.weight.to_be_bytes());
    }

    fn decode(bytes: &[u8], index: u64) -> Result<Self, CredentialError> {
        let credential = PublicCredential::decode(&bytes[..32]).map_err(|e| match e {
            CredentialError::Decode { reason, .. } => {
                CredentialError::decode(format!("entries[{index}].credential"), reason)
            }
            other => other,
        })?;
        let weight = u32::from_be_bytes([bytes[32], bytes[33], bytes[34], bytes[35]]);
        if weight == 0 {
            return Err(CredentialError::decode(
                format!("entries[{index}].weight"),
                "a weight is at least 1",
            ));
        }
        Ok(Self { credential, weight })
    }

    fn leaf(&self) -> Hash {
        let mut bytes = Vec::with_capacity(ENTRY_BYTES);
        self.encode(&mut bytes);
        leaf_hash(&bytes)
    }
}

/// The list: entries strictly increasing by credential encoding (so sorted and
/// distinct, and in an order that says nothing of who is who).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialList {
    entries: Vec<ListedCredential>,
    root: Hash,
}

fn check_order(entries: &[ListedCredential], offset: u64) -> Result<(), CredentialError> {
    for (i, pair) in entries.windows(2).enumerate() {
        if pair[0].credential.to_bytes() >= pair[1].credential.to_bytes() {
            return Err(CredentialError::Order {
                index: offset + i as u64 + 1,
            });
        }
    }
    Ok(())
}

impl CredentialList {
    /// Builds the list from entries in any order; refuses a credential listed twice.
    pub fn new(mut entries: Vec<ListedCredential>) -> Result<Self, CredentialError> {
        entries.sort_by_key(|e| e.credential.to_bytes());
        check_order(&entries, 0)?;
        if let Some((i, _)) = entries.iter().enumerate().find(|(_, e)| e.weight == 0) {
            return Err(CredentialError::decode(
                format!("entries[{i}].weight"),
                "a weight is at least 1",
            ));
        }
        let root = root_of(
            &entries
                .iter()
                .map(ListedCredential::leaf)
                .collect::<Vec<_>>(),
        );
        Ok(Self { entries, root })
    }

    /// The entries, sorted.
    pub fn entries(&self) -> &[ListedCredential] {
        &self.entries
    }

    /// The Merkle root over the entries' encodings: what the election context binds.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The weight of a listed credential, or None if it is not listed.
    pub fn weight_of(&self, credential: &PublicCredential) -> Option<u32> {
        let key = credential.to_bytes();
        self.entries
            .binary_search_by(|e| e.credential.to_bytes().cmp(&key))
            .ok()
            .map(|i| self.entries[i].weight)
    }

    /// The sum of all weights: the bound of any tally.
    pub fn total_weight(&self) -> u64 {
        self.entries.iter().map(|e| u64::from(e.weight)).sum()
    }

    /// The list split into parts, each to be posted as one record, in order.
    pub fn parts(&self) -> Vec<CredentialListPart> {
        let chunks: Vec<&[ListedCredential]> = if self.entries.is_empty() {
            vec![&[]]
        } else {
            self.entries.chunks(MAX_ENTRIES_PER_PART).collect()
        };
        let count = chunks.len() as u32;
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| CredentialListPart {
                root: self.root,
                total: self.entries.len() as u64,
                part: i as u32,
                parts: count,
                entries: chunk.to_vec(),
            })
            .collect()
    }

    /// Reassembles and checks a list from all its parts, in order: they agree on the
    /// root, total and part count, are numbered 0, 1, …, carry full parts but the last,
    /// and the entries are sorted across parts and hash to the root.
    pub fn from_parts(parts: &[CredentialListPart]) -> Result<Self, CredentialError> {
        let mut assembler = ListAssembler::default();
        for part in parts {
            assembler.push(part)?;
        }
        assembler.finish()
    }
}

/// One part of a list, as posted in a record:
///
/// ```text
/// version (0x01) ‖ root (32) ‖ total entries (u64 BE) ‖ part index (u32 BE)
///   ‖ part count (u32 BE) ‖ entries in this part (u32 BE) ‖ entries (36 bytes each)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialListPart {
    /// The root of the whole list.
    pub root: Hash,
    /// Entries in the whole list.
    pub total: u64,
    /// This part's index, from 0.
    pub part: u32,
    /// How many parts.
    pub parts: u32,
    /// This part's entries.
    pub entries: Vec<ListedCredential>,
}

impl CredentialListPart {
    /// Encodes the part.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PART_HEADER + self.entries.len() * ENTRY_BYTES);
        out.push(PART_VERSION);
        out.extend_from_slice(&self.root.0);
        out.extend_from_slice(&self.total.to_be_bytes());
        out.extend_from_slice(&self.part.to_be_bytes());
        out.extend_from_slice(&self.parts.to_be_bytes());
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        for e in &self.entries {
            e.encode(&mut out);
        }
        out
    }

    /// Decodes strictly: version, counts, exact length, canonical non-identity points,
    /// weights at least 1, entries strictly increasing within the part.
    pub fn decode(bytes: &[u8]) -> Result<Self, CredentialError> {
        if bytes.len() < PART_HEADER {
            return Err(CredentialError::decode(
                "part",
                format!("{} bytes is shorter than a part header", bytes.len()),
            ));
        }
        if bytes[0] != PART_VERSION {
            return Err(CredentialError::decode(
                "version",
                format!("part version {} is not supported", bytes[0]),
            ));
        }
        let u32_at = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let mut root = [0u8; 32];
        root.copy_from_slice(&bytes[1..33]);
        let mut total = [0u8; 8];
        total.copy_from_slice(&bytes[33..41]);
        let total = u64::from_be_bytes(total);
        let part = u32_at(41);
        let parts = u32_at(45);
        let count = u32_at(49) as usize;
        if parts == 0 || part >= parts {
            return Err(CredentialError::decode(
                "part",
                format!("part {part} of {parts} does not exist"),
            ));
        }
        if count > MAX_ENTRIES_PER_PART {
            return Err(CredentialError::decode(
                "count",
                format!("{count} entries exceed {MAX_ENTRIES_PER_PART} per part"),
            ));
        }
        if bytes.len() != PART_HEADER + count * ENTRY_BYTES {
            return Err(CredentialError::decode(
                "entries",
                format!(
                    "{} bytes do not hold exactly {count} entries",
                    bytes.len() - PART_HEADER
                ),
            ));
        }
        let offset = u64::from(part) * MAX_ENTRIES_PER_PART as u64;
        let entries = bytes[PART_HEADER..]
            .chunks_exact(ENTRY_BYTES)
            .enumerate()
            .map(|(i, e)| ListedCredential::decode(e, offset + i as u64))
            .collect::<Result<Vec<_>, _>>()?;
        check_order(&entries, offset)?;
        Ok(Self {
            root: Hash(root),
            total,
            part,
            parts,
            entries,
        })
    }
}

/// The number of parts of a list of `total` entries: ⌈total / 1800⌉, and 1 for an
/// empty list.
pub fn parts_for(total: u64) -> u64 {
    total.div_ceil(MAX_ENTRIES_PER_PART as u64).max(1)
}

/// Checks parts as they arrive, in order (what the board does as each record comes).
#[derive(Default)]
pub struct ListAssembler {
    first: Option<(Hash, u64, u32)>,
    entries: Vec<ListedCredential>,
    next: u32,
}

impl ListAssembler {
    /// Takes the next part; refuses one that does not continue the list, or, for the
    /// last part, one after which the entries do not hash to the declared root.
    pub fn push(&mut self, part: &CredentialListPart) -> Result<(), CredentialError> {
        self.check(part)?;
        self.first
            .get_or_insert((part.root, part.total, part.parts));
        self.entries.extend_from_slice(&part.entries);
        self.next += 1;
        Ok(())
    }

    /// Whether `part` would be accepted next, without taking it.
    pub fn check(&self, part: &CredentialListPart) -> Result<(), CredentialError> {
        let header = (part.root, part.total, part.parts);
        let (root, total, parts) = self.first.unwrap_or(header);
        // The part count is a function of the total (spec/22 §22.3): without this a
        // list could claim fewer entries than it carries, or never be completable.
        let expected_parts = parts_for(total);
        if u64::from(parts) != expected_parts {
            return Err(CredentialError::Parts(format!(
                "a list of {total} entries has {expected_parts} parts, not {parts}"
            )));
        }
        if header != (root, total, parts) {
            return Err(CredentialError::Parts(format!(
                "part {} disagrees with part 0 on the root, total or part count",
                part.part
            )));
        }
        if part.part != self.next {
            return Err(CredentialError::Parts(format!(
                "part {} arrived where part {} was expected",
                part.part, self.next
            )));
        }
        let last = part.part + 1 == parts;
        let expected_here = if last {
            // At least 1 unless the list is empty, since `parts` = ⌈total / 1800⌉.
            total - u64::from(part.part) * MAX_ENTRIES_PER_PART as u64
        } else {
            MAX_ENTRIES_PER_PART as u64
        };
        if part.entries.len() as u64 != expected_here {
            return Err(CredentialError::Parts(format!(
                "part {} has {} entries where the total says {expected_here}",
                part.part,
                part.entries.len()
            )));
        }
        if let (Some(prev), Some(first)) = (self.entries.last(), part.entries.first())
            && prev.credential.to_bytes() >= first.credential.to_bytes()
        {
            return Err(CredentialError::Order {
                index: self.entries.len() as u64,
            });
        }
        if last {
            let leaves: Vec<Hash> = self
                .entries
                .iter()
                .chain(part.entries.iter())
                .map(ListedCredential::leaf)
                .collect();
            if root_of(&leaves) != root {
                return Err(CredentialError::Parts(
                    "the entries do not hash to the root the parts declare".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether every part has arrived.
    pub fn is_complete(&self) -> bool {
        self.first.is_some_and(|(_, _, parts)| self.next == parts)
    }

    /// The list, once complete and its root checked.
    pub fn finish(self) -> Result<CredentialList, CredentialError> {
        let Some((root, _, _)) = self.first else {
            return Err(CredentialError::Parts("no part".into()));
        };
        if !self.is_complete() {
            return Err(CredentialError::Parts(format!(
                "only {} parts of the list arrived",
                self.next
            )));
        }
        // Every part was checked as it came (order within and across parts, counts,
        // and the root over all entries with the last part): nothing to re-sort.
        Ok(CredentialList {
            entries: self.entries,
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Credential;

    fn list(n: usize) -> CredentialList {
        let mut rng = rand::rng();
        CredentialList::new(
            (0..n)
                .map(|i| ListedCredential {
                    credential: Credential::generate(&mut rng).public(),
                    weight: 1 + (i % 3) as u32,
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_list_round_trips_through_its_parts() {
        for n in [0, 1, 1800, 1801, 4000] {
            let l = list(n);
            let parts: Vec<_> = l
                .parts()
                .iter()
                .map(|p| CredentialListPart::decode(&p.to_bytes()).unwrap())
                .collect();
            assert_eq!(parts.len(), n.div_ceil(1800).max(1));
            assert!(parts.iter().all(|p| p.to_bytes().len() + 135 <= 65_535));
            assert_eq!(CredentialList::from_parts(&parts).unwrap(), l);
        }
    }

    #[test]
    fn a_credential_listed_twice_is_refused() {
        let l = list(3);
        let mut entries = l.entries().to_vec();
        entries.push(entries[1]);
        assert!(matches!(
            CredentialList::new(entries),
            Err(CredentialError::Order { .. })
        ));
    }

    #[test]
    fn parts_that_do_not_fit_together_are_refused() {
        let l = list(4000);
        let parts = l.parts();
        // Missing part, parts out of order, a part from another list, an altered entry.
        assert!(CredentialList::from_parts(&parts[..2]).is_err());
        assert!(
            CredentialList::from_parts(&[parts[1].clone(), parts[0].clone(), parts[2].clone()])
                .is_err()
        );
        let other = list(4000).parts();
        assert!(
            CredentialList::from_parts(&[parts[0].clone(), other[1].clone(), parts[2].clone()])
                .is_err()
        );
        let mut altered = parts.clone();
        altered[2].entries[5].weight += 1;
        assert!(matches!(
            CredentialList::from_parts(&altered),
            Err(CredentialError::Parts(m)) if m.contains("root")
        ));
        let mut short = parts.clone();
        short[0].entries.pop();
        assert!(CredentialList::from_parts(&short).is_err());
    }

    /// Each of these passes every other check of the assembler (order, the root over
    /// the entries carried), so only the check named refuses it (spec/22 §22.3).
    #[test]
    fn each_assembler_check_refuses_alone() {
        let l = list(4000);
        // Part 0 one entry short, the root recomputed over the entries carried: only
        // the entry count the total implies refuses it.
        let mut short = l.parts();
        short[0].entries.pop();
        let carried: Vec<Hash> = short
            .iter()
            .flat_map(|p| p.entries.iter().map(ListedCredential::leaf))
            .collect();
        let root = root_of(&carried);
        for p in short.iter_mut() {
            p.root = root;
        }
        assert!(matches!(
            CredentialList::from_parts(&short),
            Err(CredentialError::Parts(m)) if m.contains("has 1799 entries where the total says 1800")
        ));
        // The middle part declares another root: the root checked at the end is part 0's,
        // and the entries hash to it, so only the agreement with part 0 refuses it.
        let mut other_root = l.parts();
        other_root[1].root.0[0] ^= 1;
        assert!(matches!(
            CredentialList::from_parts(&other_root),
            Err(CredentialError::Parts(m)) if m.contains("disagrees with part 0")
        ));
    }

    #[test]
    fn the_part_count_follows_from_the_total() {
        let l = list(3600);
        let mut parts = l.parts();
        assert_eq!(parts.len(), 2);
        // The same two full parts claiming 100 entries, or claiming 3 parts: refused.
        for p in parts.iter_mut() {
            p.total = 100;
        }
        assert!(matches!(
            CredentialList::from_parts(&parts),
            Err(CredentialError::Parts(m)) if m.contains("parts")
        ));
        let mut three = l.parts();
        for p in three.iter_mut() {
            p.parts = 3;
        }
        three.push(CredentialListPart {
            part: 2,
            entries: vec![],
            ..three[0].clone()
        });
        assert!(CredentialList::from_parts(&three).is_err());
        // A total that would need a part over 1,800 entries is refused at part 0.
        let mut big = l.parts();
        for p in big.iter_mut() {
            p.total = 5000;
        }
        assert!(ListAssembler::default().check(&big[0]).is_err());
    }

    #[test]
    fn parts_out_of_order_across_their_boundary_are_refused_even_with_a_matching_root() {
        let l = list(1801);
        let mut entries = l.entries().to_vec();
        // Move the smallest entry to the end: each part is sorted, the boundary is not.
        let first = entries.remove(0);
        entries.push(first);
        let mut parts = l.parts();
        parts[0].entries = entries[..1800].to_vec();
        parts[1].entries = entries[1800..].to_vec();
        let root = root_of(
            &entries
                .iter()
                .map(ListedCredential::leaf)
                .collect::<Vec<_>>(),
        );
        for p in parts.iter_mut() {
            p.root = root;
        }
        let mut assembler = ListAssembler::default();
        assembler.push(&parts[0]).unwrap();
        assert!(matches!(
            assembler.check(&parts[1]),
            Err(CredentialError::Order { index: 1800 })
        ));
    }

    #[test]
    fn decoding_names_the_field_at_fault() {
        let l = list(3);
        let bytes = l.parts()[0].to_bytes();
        let field = |b: &[u8]| match CredentialListPart::decode(b).unwrap_err() {
            CredentialError::Decode { field, .. } => field,
            CredentialError::Order { index } => format!("order {index}"),
            e => panic!("{e}"),
        };
        let mut v = bytes.clone();
        v[0] = 2;
        assert_eq!(field(&v), "version");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(field(&trailing), "entries");
        let mut zero_weight = bytes.clone();
        let w = PART_HEADER + ENTRY_BYTES + 32;
        zero_weight[w..w + 4].copy_from_slice(&[0; 4]);
        assert_eq!(field(&zero_weight), "entries[1].weight");
        let mut identity = bytes.clone();
        identity[PART_HEADER + 2 * ENTRY_BYTES..PART_HEADER + 2 * ENTRY_BYTES + 32]
            .copy_from_slice(&[0; 32]);
        assert_eq!(field(&identity), "entries[2].credential");
        let mut swapped = bytes.clone();
        let (a, b) = (PART_HEADER, PART_HEADER + ENTRY_BYTES);
        let first = swapped[a..b].to_vec();
        swapped.copy_within(b..b + ENTRY_BYTES, a);
        swapped[b..b + ENTRY_BYTES].copy_from_slice(&first);
        assert_eq!(field(&swapped), "order 1");
    }

    /// From cargo mutants on list.rs: the root is the RFC 6962 root of the entries, header
    /// fields are read whole, a part index must be below the count, and positions in a
    /// later part count from its first entry's place in the whole list.
    #[test]
    fn part_headers_and_positions_are_read_exactly() {
        let field = |b: &[u8]| match CredentialListPart::decode(b).unwrap_err() {
            CredentialError::Decode { field, .. } => field,
            CredentialError::Order { index } => format!("order {index}"),
            e => panic!("{e}"),
        };
        let l = list(1803);
        let leaves: Vec<Hash> = l.entries().iter().map(ListedCredential::leaf).collect();
        assert_eq!(l.root(), root_of(&leaves));
        let second = l.parts()[1].to_bytes();
        let (a, b) = (PART_HEADER, PART_HEADER + ENTRY_BYTES);
        let mut swapped = second.clone();
        let first = swapped[a..b].to_vec();
        swapped.copy_within(b..b + ENTRY_BYTES, a);
        swapped[b..b + ENTRY_BYTES].copy_from_slice(&first);
        assert_eq!(field(&swapped), "order 1801");
        let mut zero_weight = second.clone();
        let w = PART_HEADER + 2 * ENTRY_BYTES + 32;
        zero_weight[w..w + 4].copy_from_slice(&[0; 4]);
        assert_eq!(field(&zero_weight), "entries[1802].weight");

        let small = list(3).parts()[0].to_bytes();
        let mut beyond = small.clone();
        beyond[41..45].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(field(&beyond), "part");
        let mut many = small.clone();
        many[45..49].copy_from_slice(&65_536u32.to_be_bytes());
        assert_eq!(CredentialListPart::decode(&many).unwrap().parts, 65_536);
    }

    #[test]
    fn weights_are_looked_up_by_credential() {
        let l = list(10);
        for e in l.entries() {
            assert_eq!(l.weight_of(&e.credential), Some(e.weight));
        }
        let stranger = Credential::generate(&mut rand::rng()).public();
        assert_eq!(l.weight_of(&stranger), None);
        assert_eq!(
            l.total_weight(),
            l.entries().iter().map(|e| u64::from(e.weight)).sum()
        );
    }
}

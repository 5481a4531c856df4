//! The verifier's own assembly of a registry snapshot from its header and parts (spec/31
//! §31.4–§31.6): the cosignatures, the parts' order, count and sizes, the key order across
//! parts, the entries root and the district audit, then the deal of the keys into buckets
//! and each bucket's rings. Shared by V13 (petitions), the anonymous elections of V3–V11
//! and, through them, V12's secret divisions.
//!
//! Why its own (ARCHITECTURE §9): urne-credential's assembler is what the board accepts
//! snapshots with. Taken from urne-credential are only the decoders of the header and of a
//! part (which refuse a malformed body, not a snapshot that breaks a rule), the labels and
//! the padding points.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar as DalekScalar;
use sha2::{Digest, Sha256};
use urne_credential::labels::{BUCKET_ORDER, SNAPSHOT_SIGNATURE};
use urne_credential::registry::{
    Entry, MAX_ENTRIES_PER_PART, Registrars, SignedSnapshot, SnapshotHeader, SnapshotPart,
    padding_commitment, padding_point,
};
use urne_credential::wallet::district_generator;
use urne_crypto::Point;

/// What is wrong: the field (under `body.`) and why.
pub(crate) type Refusal = (String, String);

fn refuse<T>(field: &str, reason: impl Into<String>) -> Result<T, Refusal> {
    Err((field.to_owned(), reason.into()))
}

/// The cosignatures of §31.4: each by a registrar of the set, `verify_strict` over
/// SNAPSHOT_SIGNATURE ‖ id, and at least k of them. The decoder has checked the registrar
/// indices strictly increase, so k cosignatures are k registrars.
pub(crate) fn verify_cosignatures(
    signed: &SignedSnapshot,
    registrars: &Registrars,
) -> Result<(), String> {
    let mut message = SNAPSHOT_SIGNATURE.to_vec();
    message.extend_from_slice(&signed.header.id());
    for (i, c) in signed.cosignatures.iter().enumerate() {
        let Some(key) = registrars.keys.get(usize::from(c.registrar)) else {
            return Err(format!(
                "cosignatures[{i}]: there is no registrar {}",
                c.registrar
            ));
        };
        if key.verify_strict(&message, &c.signature).is_err() {
            return Err(format!(
                "cosignatures[{i}]: registrar {}'s signature does not verify",
                c.registrar
            ));
        }
    }
    if signed.cosignatures.len() < usize::from(registrars.threshold) {
        return Err(format!(
            "{} of the {} registrar signatures needed",
            signed.cosignatures.len(),
            registrars.threshold
        ));
    }
    Ok(())
}

/// The parts a snapshot of `total` entries has: ⌈T / 1000⌉, and 1 when T = 0.
fn parts_for(total: u64) -> u64 {
    total.div_ceil(MAX_ENTRIES_PER_PART as u64).max(1)
}

/// A snapshot's header and the parts taken so far, in order (§31.5).
#[derive(Clone, Debug)]
pub(crate) struct Assembler {
    signed: SignedSnapshot,
    id: [u8; 32],
    entries: Vec<Entry>,
    next: u32,
}

impl Assembler {
    /// Starts from a header whose cosignatures and floors the caller has checked.
    pub(crate) fn new(signed: SignedSnapshot) -> Self {
        let id = signed.header.id();
        Self {
            signed,
            id,
            entries: Vec::new(),
            next: 0,
        }
    }

    /// Whether every part is in.
    pub(crate) fn is_complete(&self) -> bool {
        u64::from(self.next) == parts_for(self.signed.header.total)
    }

    /// Takes the next part, or refuses it naming the field: `body` for a part of another
    /// snapshot, a part count other than T implies, a part out of order, another number
    /// of entries, and (with the last part) entries that do not hash to the root or do
    /// not open to the district counts; `body.entries[i]` (i over the whole snapshot) for
    /// a first key not after the previous part's last.
    pub(crate) fn push(&mut self, part: &SnapshotPart) -> Result<(), Refusal> {
        let header = &self.signed.header;
        let parts = parts_for(header.total);
        if part.snapshot != self.id {
            return refuse("body", format!("part {} is of another snapshot", part.part));
        }
        if u64::from(part.parts) != parts {
            return refuse(
                "body",
                format!(
                    "{} parts; a snapshot of {} entries has {parts}",
                    part.parts, header.total
                ),
            );
        }
        if part.part != self.next {
            return refuse(
                "body",
                format!("part {} where part {} comes next", part.part, self.next),
            );
        }
        let last = u64::from(part.part) + 1 == parts;
        let expected = if last {
            header
                .total
                .saturating_sub(u64::from(part.part) * MAX_ENTRIES_PER_PART as u64)
        } else {
            MAX_ENTRIES_PER_PART as u64
        };
        if part.entries.len() as u64 != expected {
            return refuse(
                "body",
                format!(
                    "part {} holds {} entries; the total says {expected}",
                    part.part,
                    part.entries.len()
                ),
            );
        }
        if let (Some(previous), Some(first)) = (self.entries.last(), part.entries.first())
            && previous.key.as_bytes() >= first.key.as_bytes()
        {
            return refuse(
                &format!("body.entries[{}]", self.entries.len()),
                "not after the previous part's last key: entries are sorted by key, each once",
            );
        }
        if last {
            let all: Vec<Entry> = self.entries.iter().chain(&part.entries).copied().collect();
            audit(header, &all)?;
        }
        self.entries.extend_from_slice(&part.entries);
        self.next += 1;
        Ok(())
    }

    /// The snapshot dealt into buckets, once every part is in.
    pub(crate) fn finish(self) -> Result<Dealt, Refusal> {
        if !self.is_complete() {
            return refuse(
                "body",
                format!("{} parts of the snapshot are in, not all", self.next),
            );
        }
        let buckets = self.signed.header.bucket_count() as usize;
        let deal_key = self.signed.header.deal_key(&self.id);
        // §31.6: keys ordered by SHA-256(BUCKET_ORDER ‖ deal key ‖ K), ties by K, the
        // i-th to bucket i mod m.
        let mut ordered: Vec<([u8; 32], Entry)> = self
            .entries
            .iter()
            .map(|e| {
                let rank: [u8; 32] = Sha256::new()
                    .chain_update(BUCKET_ORDER)
                    .chain_update(deal_key)
                    .chain_update(e.key.as_bytes())
                    .finalize()
                    .into();
                (rank, *e)
            })
            .collect();
        ordered.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.key.as_bytes().cmp(b.1.key.as_bytes()))
        });
        let mut dealt = vec![Vec::new(); buckets];
        for (i, (_, entry)) in ordered.into_iter().enumerate() {
            dealt[i % buckets].push(entry);
        }
        Ok(Dealt {
            signed: self.signed,
            id: self.id,
            buckets: dealt,
        })
    }
}

/// §31.5 with the last part: the entries hash to the root (RFC 6962 over K ‖ C), and
/// Σ C_i = Σ_d n_d·G_d + B·H.
fn audit(header: &SnapshotHeader, entries: &[Entry]) -> Result<(), Refusal> {
    let leaves: Vec<urne_log::Hash> = entries
        .iter()
        .map(|e| urne_log::leaf_hash(&[*e.key.as_bytes(), *e.district.as_bytes()].concat()))
        .collect();
    if urne_log::hash::root_of(&leaves) != header.entries_root {
        return refuse(
            "body",
            "the entries do not hash to the snapshot's entries root",
        );
    }
    let sum: RistrettoPoint = entries.iter().map(|e| *e.district.as_ristretto()).sum();
    let counted: RistrettoPoint = header
        .districts
        .iter()
        .map(|(d, n)| district_generator(*d).as_ristretto() * DalekScalar::from(*n))
        .sum();
    let blinding =
        urne_crypto::group::generator_h().as_ristretto() * header.aggregate_blinding.as_dalek();
    if sum != counted + blinding {
        return refuse(
            "body",
            "the district commitments do not open to the published district counts",
        );
    }
    Ok(())
}

/// A complete snapshot, its keys dealt into buckets (§31.6).
#[derive(Clone, Debug)]
pub(crate) struct Dealt {
    signed: SignedSnapshot,
    id: [u8; 32],
    /// Each bucket's real entries, in ring order.
    buckets: Vec<Vec<Entry>>,
}

impl Dealt {
    pub(crate) fn id(&self) -> [u8; 32] {
        self.id
    }

    pub(crate) fn header(&self) -> &SnapshotHeader {
        &self.signed.header
    }

    /// Bucket `bucket`'s ring: its real keys, then padding points to 2^bits.
    pub(crate) fn bucket(&self, bucket: u32) -> Option<Vec<Point>> {
        self.ring(bucket, |e| e.key, padding_point)
    }

    /// Bucket `bucket`'s attribute ring: each real key's district commitment, then
    /// padding commitments to 2^bits.
    pub(crate) fn bucket_commitments(&self, bucket: u32) -> Option<Vec<Point>> {
        self.ring(bucket, |e| e.district, padding_commitment)
    }

    fn ring(
        &self,
        bucket: u32,
        real: impl Fn(&Entry) -> Point,
        padding: fn(&[u8; 32], u32, u32) -> Point,
    ) -> Option<Vec<Point>> {
        let entries = self.buckets.get(bucket as usize)?;
        let size = self.header().bucket_size();
        let mut ring: Vec<Point> = entries.iter().map(real).collect();
        for i in ring.len()..size {
            ring.push(padding(&self.id, bucket, i as u32));
        }
        Some(ring)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use ed25519_dalek::SigningKey;
    use urne_credential::registry::{Cosignature, SNAPSHOT_VERSION, Snapshot};

    /// `total` entries of random keys, each committed to district 1 with blinding 0,
    /// sorted by key: what the audit accepts with B = 0 and counts [(1, T)].
    fn entries(total: usize) -> Vec<Entry> {
        let district = district_generator(1);
        let mut entries: Vec<Entry> = (0..total)
            .map(|_| Entry {
                key: Point::from_ristretto(RistrettoPoint::random(&mut rand::rng())),
                district,
            })
            .collect();
        entries.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        entries
    }

    fn header(entries: &[Entry], bucket_bits: u8) -> SnapshotHeader {
        let leaves: Vec<urne_log::Hash> = entries
            .iter()
            .map(|e| urne_log::leaf_hash(&[*e.key.as_bytes(), *e.district.as_bytes()].concat()))
            .collect();
        SnapshotHeader {
            version: SNAPSHOT_VERSION,
            registry: [3; 32],
            number: 1,
            previous: [0; 32],
            entries_root: urne_log::hash::root_of(&leaves),
            total: entries.len() as u64,
            bucket_bits,
            aggregate_blinding: urne_crypto::Scalar::from_u64(0),
            districts: vec![(1, entries.len() as u64)],
        }
    }

    fn registrar(i: u8) -> SigningKey {
        SigningKey::from_bytes(&[i + 1; 32])
    }

    fn signed(header: SnapshotHeader) -> SignedSnapshot {
        let id = header.id();
        SignedSnapshot {
            header,
            cosignatures: vec![
                Cosignature::sign(0, &registrar(0), &id),
                Cosignature::sign(1, &registrar(1), &id),
            ],
        }
    }

    fn parts(id: [u8; 32], entries: &[Entry]) -> Vec<SnapshotPart> {
        let chunks: Vec<&[Entry]> = entries.chunks(MAX_ENTRIES_PER_PART).collect();
        chunks
            .iter()
            .enumerate()
            .map(|(i, c)| SnapshotPart {
                snapshot: id,
                part: i as u32,
                parts: chunks.len() as u32,
                entries: c.to_vec(),
            })
            .collect()
    }

    /// Feeds the parts; the first refusal's field.
    fn assemble(signed: SignedSnapshot, parts: &[SnapshotPart]) -> Result<Dealt, String> {
        let mut assembler = Assembler::new(signed);
        for part in parts {
            assembler.push(part).map_err(|(field, _)| field)?;
        }
        assembler.finish().map_err(|(field, _)| field)
    }

    #[test]
    fn a_snapshot_in_three_parts_deals_the_rings_urne_credential_deals() {
        let entries = entries(2_500);
        let signed = signed(header(&entries, 8));
        let id = signed.header.id();
        let dealt = assemble(signed.clone(), &parts(id, &entries)).unwrap();
        let theirs = Snapshot::new(signed, entries).unwrap();
        assert_eq!(dealt.id(), theirs.id());
        for bucket in 0..=signed_buckets(&dealt) {
            assert_eq!(
                dealt.bucket(bucket),
                theirs.bucket(bucket),
                "bucket {bucket}"
            );
            assert_eq!(
                dealt.bucket_commitments(bucket),
                theirs.bucket_commitments(bucket),
                "bucket {bucket}'s commitments"
            );
        }
    }

    fn signed_buckets(dealt: &Dealt) -> u32 {
        dealt.header().bucket_count()
    }

    #[test]
    fn each_rule_of_the_parts_refuses_a_snapshot_that_breaks_it() {
        let entries = entries(2_500);
        let signed = signed(header(&entries, 8));
        let id = signed.header.id();
        let honest = parts(id, &entries);
        let case = |edit: &dyn Fn(&mut Vec<SnapshotPart>)| {
            let mut p = honest.clone();
            edit(&mut p);
            assemble(signed.clone(), &p).err()
        };
        assert_eq!(case(&|_| {}), None);
        let another = |p: &mut Vec<SnapshotPart>| p[1].snapshot[0] ^= 1;
        assert_eq!(
            case(&another).as_deref(),
            Some("body"),
            "another snapshot's part"
        );
        let count = |p: &mut Vec<SnapshotPart>| p.iter_mut().for_each(|p| p.parts = 4);
        assert_eq!(
            case(&count).as_deref(),
            Some("body"),
            "a part count T does not imply"
        );
        let order = |p: &mut Vec<SnapshotPart>| p.swap(0, 1);
        assert_eq!(case(&order).as_deref(), Some("body"), "parts out of order");
        let short = |p: &mut Vec<SnapshotPart>| {
            let moved = p[0].entries.pop().unwrap();
            p[1].entries.insert(0, moved);
        };
        assert_eq!(
            case(&short).as_deref(),
            Some("body"),
            "999 entries in part 0"
        );
        let unsorted = |p: &mut Vec<SnapshotPart>| {
            let last = p[0].entries[999];
            p[1].entries[0] = last;
        };
        assert_eq!(
            case(&unsorted).as_deref(),
            Some("body.entries[1000]"),
            "part 1's first key not after part 0's last"
        );
        let dropped = |p: &mut Vec<SnapshotPart>| {
            p.pop();
        };
        assert_eq!(case(&dropped).as_deref(), Some("body"), "a part missing");
    }

    #[test]
    fn entries_off_the_root_or_counts_off_the_commitments_are_refused() {
        let entries = entries(30);
        // Another root: the header says so, the entries do not hash to it.
        let mut other_root = header(&entries, 4);
        other_root.entries_root.0[0] ^= 1;
        let s = signed(other_root);
        let id = s.header.id();
        assert_eq!(
            assemble(s, &parts(id, &entries)).err().as_deref(),
            Some("body")
        );
        // One person moved from district 1 to district 2 in the counts only.
        let mut shifted = header(&entries, 4);
        shifted.districts = vec![(1, 29), (2, 1)];
        let s = signed(shifted);
        let id = s.header.id();
        assert_eq!(
            assemble(s, &parts(id, &entries)).err().as_deref(),
            Some("body")
        );
        // The honest one assembles.
        let s = signed(header(&entries, 4));
        let id = s.header.id();
        assert!(assemble(s, &parts(id, &entries)).is_ok());
    }

    #[test]
    fn cosignatures_need_k_registrars_of_the_set_each_verifying() {
        let registrars = Registrars::new(
            2,
            vec![
                registrar(0).verifying_key(),
                registrar(1).verifying_key(),
                registrar(2).verifying_key(),
            ],
        )
        .unwrap();
        let honest = signed(header(&entries(3), 2));
        assert_eq!(verify_cosignatures(&honest, &registrars), Ok(()));
        let mut unknown = honest.clone();
        unknown.cosignatures[1] = Cosignature::sign(7, &registrar(7), &honest.header.id());
        assert!(
            verify_cosignatures(&unknown, &registrars)
                .unwrap_err()
                .contains("no registrar 7")
        );
        let mut forged = honest.clone();
        forged.cosignatures[1] = Cosignature::sign(1, &registrar(2), &honest.header.id());
        assert!(
            verify_cosignatures(&forged, &registrars)
                .unwrap_err()
                .contains("does not verify")
        );
        let mut few = honest.clone();
        few.cosignatures.truncate(1);
        assert!(
            verify_cosignatures(&few, &registrars)
                .unwrap_err()
                .contains("1 of the 2")
        );
    }
}

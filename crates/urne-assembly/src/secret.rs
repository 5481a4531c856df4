//! A secret division's anonymous eligibility (spec/40 §40.12): the registry its election
//! draws its ring from, and the snapshot the presiding officer builds from the members'
//! registrations, so a ballot proves it comes from one of the registered wallet keys
//! without saying which.
//!
//! Everything here is a pure function of public data (the sitting, the division number,
//! the registrations, the officer's key), so the recount rebuilds what an honest officer
//! had to post and names any difference.

use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use urne_credential::registry::{
    Cosignature, Entry, MAX_BUCKET_BITS, Registrars, RegistryError, SNAPSHOT_VERSION,
    SignedSnapshot, Snapshot, SnapshotHeader,
};
use urne_credential::wallet::district_generator;
use urne_crypto::{Point, Scalar};
use urne_log::hash::{leaf_hash, root_of};
use urne_record::ContextId;

/// The label of a secret division's registry id (spec/40 §40.12).
pub const SECRET_REGISTRY_LABEL: &[u8] = b"urne/v1/assembly/secret-registry\n";

/// The label of the seed of a secret division's trustee draw (spec/40 §40.12).
pub const TRUSTEE_DRAW_LABEL: &[u8] = b"urne/v1/assembly/trustee-draw\n";

/// The seed of division `division`'s trustee draw: SHA-256(TRUSTEE_DRAW_LABEL ‖ sitting
/// id ‖ division (u32 BE) ‖ count (u32 BE) ‖ the registered wallet keys, sorted). The
/// keys are drawn by the members' devices and fixed at the close, so the presiding
/// officer, who names no input of it, cannot steer which members hold the key.
pub fn trustee_seed(sitting: ContextId, division: u32, registered: &[[u8; 32]]) -> [u8; 32] {
    let mut keys = registered.to_vec();
    keys.sort_unstable();
    let mut hash = Sha256::new()
        .chain_update(TRUSTEE_DRAW_LABEL)
        .chain_update(sitting.0)
        .chain_update(division.to_be_bytes())
        .chain_update((keys.len() as u32).to_be_bytes());
    for key in &keys {
        hash.update(key);
    }
    hash.finalize().into()
}

/// The members' keys `candidates` (those in force), in the draw's order: by
/// SHA-256(seed ‖ key), ties by key. A secret division's trustees are the first n of
/// them, in this order (n and the threshold are the officer's choice).
pub fn trustee_order(seed: &[u8; 32], candidates: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let mut keyed: Vec<([u8; 32], [u8; 32])> = candidates
        .iter()
        .map(|key| {
            let rank: [u8; 32] = Sha256::new()
                .chain_update(seed)
                .chain_update(key)
                .finalize()
                .into();
            (rank, *key)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, key)| key).collect()
}

/// The district every entry of a secret division's snapshot is committed to: a chamber
/// has no districts, and with blinding 0 the snapshot's audit holds with B = 0.
pub const SECRET_DISTRICT: u32 = 1;

/// The registry id of division `division`'s election in sitting `sitting`:
/// SHA-256(SECRET_REGISTRY_LABEL ‖ sitting id ‖ division (u32 BE)). It is fixed before
/// anyone registers, and a version-2 snapshot deals its buckets by it (spec/31 §31.6), so
/// nothing the officer chooses later can re-roll the deal.
pub fn registry_id(sitting: ContextId, division: u32) -> [u8; 32] {
    Sha256::new()
        .chain_update(SECRET_REGISTRY_LABEL)
        .chain_update(sitting.0)
        .chain_update(division.to_be_bytes())
        .finalize()
        .into()
}

/// The registrars of a secret division's registry: the presiding officer alone, k = 1.
pub fn registrars(officer: VerifyingKey) -> Registrars {
    Registrars {
        threshold: 1,
        keys: vec![officer],
    }
}

/// The bucket bits of a snapshot of `total` keys: the smallest b ≥ 1 with total ≤ 2^b,
/// so there is one bucket and every ballot hides among all who registered. None above
/// 2^16 keys (spec/31's largest bucket).
pub fn bucket_bits_for(total: usize) -> Option<u8> {
    (1..=MAX_BUCKET_BITS).find(|b| total <= 1usize << b)
}

/// The snapshot of division `division`'s election: every registered wallet key, with the
/// district commitment G_1 (district 1, blinding 0), number 1, no previous snapshot, one
/// bucket, cosigned by the presiding officer as its single registrar (spec/40 §40.12).
pub fn snapshot(
    sitting: ContextId,
    division: u32,
    officer: &SigningKey,
    keys: &[Point],
) -> Result<Snapshot, RegistryError> {
    let bits = bucket_bits_for(keys.len()).ok_or_else(|| {
        RegistryError::Parts(format!(
            "{} registered keys do not fit one bucket of at most 2^{MAX_BUCKET_BITS}",
            keys.len()
        ))
    })?;
    let district = district_generator(SECRET_DISTRICT);
    let mut entries: Vec<Entry> = keys.iter().map(|&key| Entry { key, district }).collect();
    entries.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    let leaves: Vec<_> = entries
        .iter()
        .map(|e| {
            let mut bytes = [0u8; 64];
            bytes[..32].copy_from_slice(e.key.as_bytes());
            bytes[32..].copy_from_slice(e.district.as_bytes());
            leaf_hash(&bytes)
        })
        .collect();
    let total = entries.len() as u64;
    let header = SnapshotHeader {
        version: SNAPSHOT_VERSION,
        registry: registry_id(sitting, division),
        number: 1,
        previous: [0; 32],
        entries_root: root_of(&leaves),
        total,
        bucket_bits: bits,
        aggregate_blinding: Scalar::ZERO,
        districts: if total == 0 {
            Vec::new()
        } else {
            vec![(SECRET_DISTRICT, total)]
        },
    };
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![Cosignature::sign(0, officer, &id)],
    };
    // Snapshot::new checks what the board will: parts, root, district audit.
    let snapshot = Snapshot::new(signed, entries)?;
    snapshot
        .signed()
        .verify(&registrars(officer.verifying_key()))?;
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(seed: u8) -> Point {
        urne_crypto::group::hash_to_group(&[seed])
    }

    #[test]
    fn the_registry_id_is_the_sitting_s_and_the_division_s() {
        let sitting = ContextId([7; 32]);
        // Pinned: SHA-256("urne/v1/assembly/secret-registry\n" ‖ 32 × 07 ‖ 00000003).
        let mut input = SECRET_REGISTRY_LABEL.to_vec();
        input.extend_from_slice(&[7; 32]);
        input.extend_from_slice(&[0, 0, 0, 3]);
        let expected: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(registry_id(sitting, 3), expected);
        // The same, computed independently (Python's hashlib), as spec/40 §40.12 gives it.
        assert_eq!(
            urne_crypto::encoding::to_hex(&registry_id(sitting, 3)),
            "c03c068620a7c97451550b4e45e1300c172ff090963e45a1323fa47627d275b6"
        );
        assert_ne!(registry_id(sitting, 3), registry_id(sitting, 4));
        assert_ne!(registry_id(sitting, 3), registry_id(ContextId([8; 32]), 3));
    }

    #[test]
    fn the_trustee_draw_is_fixed_by_the_registrations_and_orders_every_candidate() {
        let sitting = ContextId([7; 32]);
        let keys = [[1u8; 32], [2; 32], [3; 32]];
        let seed = trustee_seed(sitting, 3, &keys);
        // The order of registration does not matter; another key set, division or
        // sitting gives another seed.
        assert_eq!(seed, trustee_seed(sitting, 3, &[[3; 32], [1; 32], [2; 32]]));
        assert_ne!(seed, trustee_seed(sitting, 3, &keys[..2]));
        assert_ne!(seed, trustee_seed(sitting, 4, &keys));
        assert_ne!(seed, trustee_seed(ContextId([8; 32]), 3, &keys));
        let candidates: Vec<[u8; 32]> = (0..10u8).map(|i| [i; 32]).collect();
        let order = trustee_order(&seed, &candidates);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, candidates, "every candidate once");
        assert_ne!(order, candidates, "not the roster's order");
        assert_ne!(order, trustee_order(&[0; 32], &candidates));
    }

    #[test]
    fn one_bucket_holds_every_registered_key() {
        assert_eq!(bucket_bits_for(0), Some(1));
        assert_eq!(bucket_bits_for(2), Some(1));
        assert_eq!(bucket_bits_for(3), Some(2));
        assert_eq!(bucket_bits_for(577), Some(10));
        assert_eq!(bucket_bits_for(1 << 16), Some(16));
        assert_eq!(bucket_bits_for((1 << 16) + 1), None);
    }

    #[test]
    fn the_officer_s_snapshot_passes_the_registry_s_checks_with_every_key_in_one_bucket() {
        let officer = SigningKey::from_bytes(&[9; 32]);
        let keys: Vec<Point> = (0..5).map(key).collect();
        let sitting = ContextId([1; 32]);
        let snapshot = snapshot(sitting, 2, &officer, &keys).unwrap();
        let header = snapshot.header();
        assert_eq!(header.registry, registry_id(sitting, 2));
        assert_eq!((header.bucket_bits, header.bucket_count()), (3, 1));
        assert_eq!(snapshot.real_keys(0), Some(5));
        for k in &keys {
            assert_eq!(snapshot.position(k).unwrap().bucket, 0);
        }
        // Another officer's key does not vouch for it.
        let other = SigningKey::from_bytes(&[10; 32]);
        assert!(
            snapshot
                .signed()
                .verify(&registrars(other.verifying_key()))
                .is_err()
        );
    }
}

//! What one more enrolment does to bucket membership (spec/31 §31.6), through
//! urne-credential's snapshots: the keys before the new one in the keyed order keep their
//! bucket, every key after it moves to the next bucket (with its bucket-mates after the
//! new key), and a change in the number of buckets re-deals everyone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use urne_credential::registry::{Register, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_crypto::Point;

const REGISTRY: [u8; 32] = [0x31; 32];

fn wallets(count: usize) -> Vec<Wallet> {
    (0..count)
        .map(|_| Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rand::rng()).unwrap())
        .collect()
}

/// The bucket of each key of `wallets` in a version-2 snapshot of them, buckets of 2^2.
fn buckets(wallets: &[Wallet]) -> (u32, BTreeMap<[u8; 32], u32>) {
    let mut register = Register::new();
    for (i, w) in wallets.iter().enumerate() {
        let bytes = w
            .enrolment_request(&REGISTRY, &mut rand::rng())
            .unwrap()
            .to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap();
        let mut person = [0u8; 32];
        person[..8].copy_from_slice(&(i as u64).to_be_bytes());
        register.enrol(person, &request, false).unwrap();
    }
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 2);
    assert_eq!(header.version, 2);
    let count = header.bucket_count();
    let snapshot = Snapshot::new(
        SignedSnapshot {
            header,
            cosignatures: Vec::new(),
        },
        entries,
    )
    .unwrap();
    let places = wallets
        .iter()
        .map(|w| {
            let key: Point = w.public_key();
            (key.to_bytes(), snapshot.position(&key).unwrap().bucket)
        })
        .collect();
    (count, places)
}

/// SHA-256(BUCKET_ORDER ‖ registry id ‖ K), the version-2 order of §31.6.
fn order(key: &[u8; 32]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"urne/v1/registry/bucket-order\n")
        .chain_update(REGISTRY)
        .chain_update(key)
        .finalize()
        .into()
}

#[test]
fn one_more_key_moves_exactly_the_keys_after_it_to_the_next_bucket() {
    // 41 and 42 keys in buckets of 4: 11 buckets both times.
    let all = wallets(42);
    let (m, before) = buckets(&all[..41]);
    let (m_after, after) = buckets(&all);
    assert_eq!((m, m_after), (11, 11));
    let new_key = all[41].public_key().to_bytes();
    let moved: Vec<&[u8; 32]> = before
        .iter()
        .filter(|(key, bucket)| after[*key] != **bucket)
        .map(|(key, _)| key)
        .collect();
    // The moved keys are exactly those after the new one in §31.6's keyed order.
    let later: Vec<&[u8; 32]> = before
        .keys()
        .filter(|key| order(key) > order(&new_key))
        .collect();
    assert_eq!(moved, later);
    for (key, bucket) in &before {
        let now = after[key];
        assert!(
            now == *bucket || now == (bucket + 1) % m,
            "a key moved from bucket {bucket} to {now}, not to the next one"
        );
    }
    // Exactly the keys after the new one in the order moved: as many as its place says.
    // Its place i among 42 keys: it is in bucket i mod 11, and i − (number of keys before
    // it) is 0, so 41 − moved = i.
    let place = 41 - moved.len();
    assert_eq!(after[&new_key] as usize, place % 11);
    // Keys that stayed and keys that moved are never both in one old bucket's order
    // before and after the new key the wrong way round: a bucket keeps its members before
    // the new key and takes the previous bucket's after it.
    for bucket in 0..m {
        let members_after: Vec<&[u8; 32]> = after
            .iter()
            .filter(|(k, b)| **b == bucket && **k != new_key)
            .map(|(k, _)| k)
            .collect();
        for key in members_after {
            let old = before[key];
            assert!(old == bucket || (old + 1) % m == bucket);
        }
    }
}

#[test]
fn a_change_in_the_number_of_buckets_redeals_the_keys() {
    // 44 keys fill 11 buckets of 4; the 45th makes 12, and i mod m changes for most keys.
    let all = wallets(45);
    let (m, before) = buckets(&all[..44]);
    let (m_after, after) = buckets(&all);
    assert_eq!((m, m_after), (11, 12));
    // Old place i (bucket i mod 11) becomes i' = i, or i + 1 after the new key (bucket
    // i' mod 12): a key keeps its bucket only when the two agree.
    let new_key = all[44].public_key().to_bytes();
    let mut old_order: Vec<[u8; 32]> = before.keys().copied().collect();
    old_order.sort_by_key(order);
    let mut kept = 0;
    for (i, key) in old_order.iter().enumerate() {
        let i_new = if order(key) > order(&new_key) {
            i + 1
        } else {
            i
        };
        assert_eq!(before[key] as usize, i % 11);
        assert_eq!(after[key] as usize, i_new % 12);
        kept += usize::from(i % 11 == i_new % 12);
    }
    // Whatever the new key's place, at least half of the keys change bucket (22 of 44 at
    // the least, over all 45 places).
    let moved = 44 - kept;
    assert!(moved >= 22, "only {moved} of 44 keys changed bucket");
}

//! What one more enrolment, or one fewer, does to bucket membership (spec/31 §31.6),
//! through urne-credential's snapshots, at every place of the change in the keyed order:
//! with the number of buckets m unchanged, the keys before the change keep their bucket and
//! every key after it moves to the next bucket (the previous one for a dropped key), none
//! at all when m = 1; when m changes, a key keeps its bucket only when its row of the deal
//! says so, and how many move depends on s and m (none can, at s = 2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use urne_credential::registry::{Register, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_crypto::Point;

const REGISTRY: [u8; 32] = [0x31; 32];

/// `count` verified enrolment requests, sorted by §31.6's keyed order.
fn requests_in_order(count: usize) -> Vec<EnrolmentRequest> {
    let mut requests: Vec<EnrolmentRequest> = (0..count)
        .map(|_| {
            let wallet = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rand::rng()).unwrap();
            let bytes = wallet
                .enrolment_request(&REGISTRY, &mut rand::rng())
                .unwrap()
                .to_bytes();
            EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap()
        })
        .collect();
    requests.sort_by_key(|r| order(&r.key.to_bytes()));
    requests
}

/// The bucket count and the bucket of each key in a version-2 snapshot of `requests`,
/// buckets of 2^`bits`.
fn buckets(requests: &[&EnrolmentRequest], bits: u8) -> (usize, BTreeMap<[u8; 32], usize>) {
    let mut register = Register::new();
    for (i, request) in requests.iter().enumerate() {
        let mut person = [0u8; 32];
        person[..8].copy_from_slice(&(i as u64).to_be_bytes());
        register.enrol(person, request, false).unwrap();
    }
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], bits);
    assert_eq!(header.version, 2);
    let count = header.bucket_count() as usize;
    let snapshot = Snapshot::new(
        SignedSnapshot {
            header,
            cosignatures: Vec::new(),
        },
        entries,
    )
    .unwrap();
    let places = requests
        .iter()
        .map(|r| {
            let key: Point = r.key;
            (
                key.to_bytes(),
                snapshot.position(&key).unwrap().bucket as usize,
            )
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

/// One change of a snapshot of `small + 1` keys in buckets of 2^`bits`, at `place` of the
/// larger one's order: the keys that are in both snapshots, with their place and bucket in
/// the snapshot before and after.
struct Change {
    m_before: usize,
    m_after: usize,
    /// (place before, bucket before, place after, bucket after), in the order.
    keys: Vec<(usize, usize, usize, usize)>,
}

fn change(all: &[EnrolmentRequest], bits: u8, place: usize, added: bool) -> Change {
    let with: Vec<&EnrolmentRequest> = all.iter().collect();
    let without: Vec<&EnrolmentRequest> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != place)
        .map(|(_, r)| r)
        .collect();
    let (m_with, in_with) = buckets(&with, bits);
    let (m_without, in_without) = buckets(&without, bits);
    let keys = (0..all.len())
        .filter(|i| *i != place)
        .map(|i| {
            let key = all[i].key.to_bytes();
            let place_without = if i < place { i } else { i - 1 };
            let (before, after) = if added {
                ((place_without, in_without[&key]), (i, in_with[&key]))
            } else {
                ((i, in_with[&key]), (place_without, in_without[&key]))
            };
            (before.0, before.1, after.0, after.1)
        })
        .collect();
    let (m_before, m_after) = if added {
        (m_without, m_with)
    } else {
        (m_with, m_without)
    };
    Change {
        m_before,
        m_after,
        keys,
    }
}

/// Every (bucket bits, keys in the smaller snapshot) case, each run at every place of the
/// change, added and dropped.
fn every_place(bits: u8, small: usize, check: impl Fn(&Change, usize, bool)) {
    let all = requests_in_order(small + 1);
    for added in [true, false] {
        for place in 0..=small {
            let change = change(&all, bits, place, added);
            // The deal itself: place i of the order is in bucket i mod m, before and after.
            for &(i, bucket, i_after, bucket_after) in &change.keys {
                assert_eq!(bucket, i % change.m_before);
                assert_eq!(bucket_after, i_after % change.m_after);
            }
            check(&change, place, added);
        }
    }
}

#[test]
fn with_the_bucket_count_unchanged_exactly_the_keys_after_the_change_move_one_bucket() {
    // s = 4: 41 ↔ 42 keys (11 buckets both times) over all 42 places; 2 ↔ 3 keys (one
    // bucket: nobody can move); s = 2: 5 ↔ 6 keys (3 buckets).
    for (bits, small) in [(2u8, 41usize), (2, 2), (1, 5)] {
        every_place(bits, small, |change, place, added| {
            let m = change.m_before;
            assert_eq!(change.m_after, m, "s = 2^{bits}, {small} keys");
            for &(i, bucket, i_after, bucket_after) in &change.keys {
                let after_the_change = if added { i >= place } else { i > place };
                if !after_the_change || m == 1 {
                    assert_eq!(bucket_after, bucket, "key {i}, change at {place}");
                } else {
                    let next = if added {
                        (bucket + 1) % m
                    } else {
                        (bucket + m - 1) % m
                    };
                    assert_eq!(
                        bucket_after, next,
                        "key {i} -> {i_after}, change at {place}"
                    );
                }
            }
        });
    }
}

#[test]
fn with_the_bucket_count_changed_a_key_keeps_its_bucket_only_in_the_rows_the_deal_says() {
    // T from m·s to m·s + 1 (added) or back (dropped), m ↔ m + 1 buckets: over every place,
    // a key in row q = ⌊i/m⌋ of the m-bucket deal keeps its bucket iff q ≡ 0 (mod m + 1)
    // when it is before the change and q ≡ 1 when after, so at least
    // m·(s − ⌈s/(m + 1)⌉ − 1) of the m·s keys move, and as few do at some place except at
    // m = 2. The cases: s = 2, m = 2 (T 4 ↔ 5, where at place 2 no key moves); s = 4,
    // m = 1 (T 4 ↔ 5: 1 of 4 at place 1); s = 4, m = 11 (T 44 ↔ 45, over all 45 places:
    // half of the keys, 22 of 44, at the least); s = 8, m = 3 (T 24 ↔ 25).
    for (bits, m, fewest) in [(1u8, 2usize, 0usize), (2, 1, 1), (2, 11, 22), (3, 3, 15)] {
        let s = 1usize << bits;
        let bound = m * (s - s.div_ceil(m + 1) - 1);
        assert!(fewest >= bound);
        let least = std::cell::Cell::new(usize::MAX);
        every_place(bits, m * s, |change, place, added| {
            let (m_small, m_large) = (
                change.m_before.min(change.m_after),
                change.m_before.max(change.m_after),
            );
            assert_eq!((m_small, m_large), (m, m + 1), "s = {s}");
            let mut moved = 0;
            for &(i, bucket, i_after, bucket_after) in &change.keys {
                // The key's place in the m-bucket snapshot, the one without the change.
                let (row_place, after_the_change) = if added {
                    (i, i_after > i)
                } else {
                    (i_after, i > i_after)
                };
                let row = row_place / m;
                let keeps = row % (m + 1) == usize::from(after_the_change);
                assert_eq!(
                    bucket_after == bucket,
                    keeps,
                    "s = {s}, m = {m}: key {i} (row {row}), change at {place}"
                );
                moved += usize::from(!keeps);
            }
            assert!(
                moved >= bound,
                "{moved} of {} moved at place {place}",
                m * s
            );
            least.set(least.get().min(moved));
        });
        assert_eq!(
            least.get(),
            fewest,
            "s = {s}, m = {m}: the fewest keys that move"
        );
    }
}

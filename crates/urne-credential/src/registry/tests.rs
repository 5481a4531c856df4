#![allow(clippy::unwrap_used, clippy::panic)]
use super::*;
use crate::wallet::{ATTRIBUTE_DISTRICT, Wallet};

const REGISTRY: [u8; 32] = [9; 32];

fn person(i: usize) -> [u8; 32] {
    let mut p = [0u8; 32];
    p[..8].copy_from_slice(&(i as u64).to_be_bytes());
    p
}

fn request(district: u32) -> (Wallet, EnrolmentRequest) {
    let mut rng = rand::rng();
    let w = Wallet::generate(&[(ATTRIBUTE_DISTRICT, district)], &mut rng).unwrap();
    let bytes = w.enrolment_request(&REGISTRY, &mut rng).unwrap().to_bytes();
    (
        w,
        EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap(),
    )
}

fn register(n: usize) -> (Register, Vec<Wallet>) {
    let mut register = Register::new();
    let mut wallets = Vec::new();
    for i in 0..n {
        let (w, r) = request(1 + (i % 3) as u32);
        register.enrol(person(i), &r, false).unwrap();
        wallets.push(w);
    }
    (register, wallets)
}

fn registrars() -> (Registrars, Vec<SigningKey>) {
    let keys: Vec<SigningKey> = (0..3u8)
        .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
        .collect();
    (
        Registrars::new(2, keys.iter().map(SigningKey::verifying_key).collect()).unwrap(),
        keys,
    )
}

fn signed(header: SnapshotHeader, keys: &[SigningKey], who: &[u8]) -> SignedSnapshot {
    let id = header.id();
    SignedSnapshot {
        header,
        cosignatures: who
            .iter()
            .map(|&i| Cosignature::sign(i, &keys[usize::from(i)], &id))
            .collect(),
    }
}

fn snapshot(register: &Register, bits: u8) -> Snapshot {
    let (_, keys) = registrars();
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], bits);
    Snapshot::new(signed(header, &keys, &[0, 2]), entries).unwrap()
}

#[test]
fn a_snapshot_round_trips_through_its_records_and_its_buckets_are_rebuilt_from_them() {
    let (register, wallets) = register(2100);
    let snap = snapshot(&register, 10);
    let (set, _) = registrars();
    let body = snap.signed().to_bytes();
    let decoded = SignedSnapshot::decode(&body).unwrap();
    decoded.verify(&set).unwrap();
    assert_eq!(decoded.header.districts, vec![(1, 700), (2, 700), (3, 700)]);
    let parts: Vec<SnapshotPart> = snap
        .parts()
        .iter()
        .map(|p| {
            let bytes = p.to_bytes();
            assert!(bytes.len() + 135 <= 65_535);
            SnapshotPart::decode(&bytes).unwrap()
        })
        .collect();
    assert_eq!(parts.len(), 3);
    let mut assembler = SnapshotAssembler::new(decoded);
    for p in &parts {
        assembler.push(p).unwrap();
    }
    let rebuilt = assembler.finish().unwrap();
    assert_eq!(rebuilt, snap);

    // 2,100 keys in buckets of 1,024: three buckets of 700 real keys, padded to 1,024.
    let buckets = rebuilt.buckets();
    assert_eq!(buckets.len(), 3);
    assert!(buckets.iter().all(|b| b.len() == 1024));
    for w in &wallets {
        let at = rebuilt.position(&w.public_key()).unwrap();
        assert_eq!(buckets[at.bucket as usize][at.index], w.public_key());
        assert!(at.index < 700);
    }
    assert_eq!(rebuilt.bucket(2).unwrap(), buckets[2]);
    assert_eq!(
        rebuilt.real_keys(1),
        Some(700),
        "the padding is not counted"
    );
    assert_eq!(rebuilt.real_keys(3), None);
    assert_eq!(
        buckets[1][700],
        padding_point(&rebuilt.id(), 1, 700),
        "padding follows the real keys"
    );
    let mut all: Vec<[u8; 32]> = buckets.iter().flatten().map(Point::to_bytes).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 3 * 1024, "no key, real or padding, twice");
    assert!(rebuilt.bucket(3).is_none());
}

#[test]
fn the_bucket_assignment_follows_the_registry_id_not_the_registrar() {
    let (register, _) = register(40);
    let a = snapshot(&register, 3);
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 3);
    let (_, keys) = registrars();
    let mut other = header.clone();
    other.registry = [1; 32];
    let b = Snapshot::new(signed(other, &keys, &[0, 1]), entries).unwrap();
    assert_eq!(a.entries(), b.entries());
    assert_ne!(a.buckets()[0][..5], b.buckets()[0][..5]);
    // Deterministic: the same snapshot, the same buckets, for anyone.
    assert_eq!(a.buckets(), snapshot(&register, 3).buckets());
    assert_eq!(header.bucket_count(), 5);
}

#[test]
fn cosignatures_below_the_threshold_or_not_verifying_are_refused() {
    let (register, _) = register(5);
    let (set, keys) = registrars();
    let (header, _) = register.snapshot_header(REGISTRY, 1, [0; 32], 4);
    let cosig = |who: &[u8]| signed(header.clone(), &keys, who).verify(&set);
    assert!(cosig(&[0, 1]).is_ok());
    assert!(matches!(cosig(&[1]), Err(RegistryError::Cosignatures(m)) if m.contains("1 of the 2")));
    // Registrar 1's signature presented as registrar 2's.
    let mut wrong = signed(header.clone(), &keys, &[0, 1]);
    wrong.cosignatures[1].registrar = 2;
    assert!(
        matches!(wrong.verify(&set), Err(RegistryError::Cosignatures(m)) if m.contains("registrar 2"))
    );
    // Signatures of another snapshot: the counts swapped after signing.
    let mut swapped = signed(header.clone(), &keys, &[0, 1]);
    swapped.header.number = 2;
    swapped.header.previous = [1; 32];
    assert!(swapped.verify(&set).is_err());
    let mut stranger = signed(header.clone(), &keys, &[0, 1]);
    stranger.cosignatures[0].registrar = 7;
    assert!(
        matches!(stranger.verify(&set), Err(RegistryError::Cosignatures(m)) if m.contains("no registrar 7"))
    );
    // Decoding refuses a registrar twice.
    let mut twice = signed(header, &keys, &[0, 1]).to_bytes();
    let at = twice.len() - 65;
    twice[at] = 0;
    assert!(
        matches!(SignedSnapshot::decode(&twice), Err(RegistryError::Decode { field, .. }) if field == "cosignatures[1].registrar")
    );
}

#[test]
fn an_altered_entry_or_district_count_is_refused_when_the_snapshot_is_assembled() {
    let (register, _) = register(30);
    let (_, keys) = registrars();
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 4);
    // An entry swapped for another key: the root no longer matches.
    let mut altered = entries.clone();
    altered[3].key = request(1).1.key;
    altered.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    assert!(matches!(
        Snapshot::new(signed(header.clone(), &keys, &[0, 1]), altered),
        Err(RegistryError::Parts(m)) if m.contains("root")
    ));
    // One person moved from district 1 to district 2 in the counts, total unchanged: the
    // commitments do not open to it.
    let mut counts = header.clone();
    counts.districts[0].1 -= 1;
    counts.districts[1].1 += 1;
    assert!(matches!(
        Snapshot::new(signed(counts, &keys, &[0, 1]), entries.clone()),
        Err(RegistryError::Audit(_))
    ));
    // One person moved 1→2 and another 3→2: Σ d·n_d is unchanged (−1 + 4 − 3 = 0), so a
    // single generator would pass it; a generator per district pins every count.
    let mut swap = header.clone();
    swap.districts[0].1 -= 1;
    swap.districts[1].1 += 2;
    swap.districts[2].1 -= 1;
    assert!(matches!(
        Snapshot::new(signed(swap, &keys, &[0, 1]), entries.clone()),
        Err(RegistryError::Audit(_))
    ));
    // The aggregate opening altered.
    let mut blinding = header.clone();
    blinding.aggregate_blinding = Scalar::from_u64(1);
    assert!(matches!(
        Snapshot::new(signed(blinding, &keys, &[0, 1]), entries.clone()),
        Err(RegistryError::Audit(_))
    ));
    // Counts that do not add up to the total are refused at decoding.
    let mut sum = header.clone();
    sum.districts[0].1 += 1;
    assert!(matches!(
        SignedSnapshot::decode(&signed(sum, &keys, &[0, 1]).to_bytes()),
        Err(RegistryError::Decode { field, .. }) if field == "districts"
    ));
    assert!(Snapshot::new(signed(header, &keys, &[0, 1]), entries).is_ok());
}

#[test]
fn parts_that_do_not_fit_their_snapshot_are_refused() {
    let (register, _) = register(1001);
    let snap = snapshot(&register, 10);
    let parts = snap.parts();
    let fresh = || SnapshotAssembler::new(snap.signed().clone());
    // Out of order.
    assert!(
        matches!(fresh().check(&parts[1]), Err(RegistryError::Parts(m)) if m.contains("expected"))
    );
    // A part of another snapshot.
    let other = snapshot(&register, 9).parts();
    assert!(
        matches!(fresh().check(&other[0]), Err(RegistryError::Parts(m)) if m.contains("another snapshot"))
    );
    // Missing the last part.
    let mut a = fresh();
    a.push(&parts[0]).unwrap();
    assert!(a.finish().is_err());
    // A short first part.
    let mut short = parts[0].clone();
    short.entries.pop();
    assert!(
        matches!(fresh().check(&short), Err(RegistryError::Parts(m)) if m.contains("999 entries"))
    );
}

#[test]
fn decoding_names_the_field_at_fault() {
    let (register, _) = register(3);
    let snap = snapshot(&register, 2);
    let field = |r: Result<SignedSnapshot, RegistryError>| match r.unwrap_err() {
        RegistryError::Decode { field, .. } => field,
        e => panic!("{e}"),
    };
    let body = snap.signed().to_bytes();
    let mut v = body.clone();
    v[0] = 3;
    assert_eq!(field(SignedSnapshot::decode(&v)), "version");
    let mut n = body.clone();
    n[33..37].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(field(SignedSnapshot::decode(&n)), "number");
    let mut prev = body.clone();
    prev[37] = 1;
    assert_eq!(field(SignedSnapshot::decode(&prev)), "previous");
    // A total whose bucket count would wrap a u32 (2^33 entries in buckets of 2 made 0
    // buckets, and a division by it).
    let mut huge = body.clone();
    huge[101..109].copy_from_slice(&(1u64 << 33).to_be_bytes());
    huge[109] = 1;
    assert_eq!(field(SignedSnapshot::decode(&huge)), "total");
    let mut bits = body.clone();
    bits[109] = 17;
    assert_eq!(field(SignedSnapshot::decode(&bits)), "bucket_bits");
    let mut blinding = body.clone();
    blinding[110..142].copy_from_slice(&[0xff; 32]);
    assert_eq!(
        field(SignedSnapshot::decode(&blinding)),
        "aggregate_blinding"
    );
    let mut order = body.clone();
    order[SNAPSHOT_FIXED + 12..SNAPSHOT_FIXED + 16].copy_from_slice(&1u32.to_be_bytes());
    assert_eq!(
        field(SignedSnapshot::decode(&order)),
        "districts[1].district"
    );
    let mut trailing = body.clone();
    trailing.push(0);
    assert_eq!(field(SignedSnapshot::decode(&trailing)), "cosignatures");

    let part = snap.parts()[0].to_bytes();
    let pfield = |b: &[u8]| match SnapshotPart::decode(b).unwrap_err() {
        RegistryError::Decode { field, .. } => field,
        e => panic!("{e}"),
    };
    let mut identity = part.clone();
    identity[PART_HEADER + 64..PART_HEADER + 96].copy_from_slice(&[0; 32]);
    assert_eq!(pfield(&identity), "entries[1].key");
    let mut district = part.clone();
    district[PART_HEADER + 32..PART_HEADER + 64].copy_from_slice(&[0xff; 32]);
    assert_eq!(pfield(&district), "entries[0].district");
    let mut swapped = part.clone();
    let first = swapped[PART_HEADER..PART_HEADER + 64].to_vec();
    swapped.copy_within(PART_HEADER + 64..PART_HEADER + 128, PART_HEADER);
    swapped[PART_HEADER + 64..PART_HEADER + 128].copy_from_slice(&first);
    assert_eq!(pfield(&swapped), "entries[1]");
    let mut beyond = part.clone();
    beyond[33..37].copy_from_slice(&1u32.to_be_bytes());
    assert_eq!(pfield(&beyond), "part");
}

#[test]
fn one_key_per_person_and_a_replaced_key_counts_only_in_later_snapshots() {
    let (mut register, wallets) = register(10);
    let first = snapshot(&register, 3);
    let (again, r) = request(2);
    assert!(matches!(
        register.enrol(person(4), &r, false),
        Err(RegistryError::Enrolment(m)) if m.contains("one key per person")
    ));
    // Someone else's key enrolled for a second person.
    let (_, copy) = request(1);
    register.enrol(person(50), &copy, false).unwrap();
    assert!(matches!(
        register.enrol(person(51), &copy, false),
        Err(RegistryError::Enrolment(m)) if m.contains("someone else")
    ));
    register.enrol(person(4), &r, true).unwrap();
    let (_, keys) = registrars();
    let (header, entries) = register.snapshot_header(REGISTRY, 2, first.id(), 3);
    let second = Snapshot::new(signed(header, &keys, &[1, 2]), entries).unwrap();
    // The old snapshot is unchanged: the lost key is still in it, the new one is not.
    assert!(first.position(&wallets[4].public_key()).is_some());
    assert!(first.position(&again.public_key()).is_none());
    assert!(second.position(&wallets[4].public_key()).is_none());
    assert!(second.position(&again.public_key()).is_some());
    assert_eq!(second.header().total, 11);
}

#[test]
fn registrar_sets_are_decoded_strictly() {
    let (set, _) = registrars();
    assert_eq!(Registrars::decode(&set.to_bytes()).unwrap(), set);
    let mut k0 = set.to_bytes();
    k0[1] = 0;
    assert!(Registrars::decode(&k0).is_err());
    let mut k4 = set.to_bytes();
    k4[1] = 4;
    assert!(Registrars::decode(&k4).is_err());
    let mut twice = set.to_bytes();
    twice.copy_within(3..35, 35);
    assert!(
        matches!(Registrars::decode(&twice), Err(RegistryError::Decode { field, .. }) if field == "registrars[1]")
    );
    let mut short = set.to_bytes();
    short.pop();
    assert!(Registrars::decode(&short).is_err());
}

/// Every key of the snapshot in its rank of the bucket order: rank i sits at position
/// ⌊i / m⌋ of bucket i mod m (spec/31 §31.6).
fn ranking(snapshot: &Snapshot) -> Vec<Point> {
    let m = snapshot.header().bucket_count() as usize;
    let real: Vec<usize> = (0..m)
        .map(|b| snapshot.real_keys(b as u32).unwrap())
        .collect();
    let total: usize = real.iter().sum();
    (0..total)
        .map(|i| snapshot.bucket((i % m) as u32).unwrap()[i / m])
        .collect()
}

fn unsigned(register: &Register, version: u8, bucket_bits: u8) -> Snapshot {
    let (mut header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], bucket_bits);
    header.version = version;
    Snapshot::new(
        SignedSnapshot {
            header,
            cosignatures: vec![],
        },
        entries,
    )
    .unwrap()
}

#[test]
fn a_registrar_cannot_reshuffle_the_buckets_by_changing_the_entries() {
    // Version 2 keys the order by the registry id, fixed before anyone enrolled: one
    // more person (a sybil, or a delayed enrolment) leaves every other key's rank order
    // as it was, so it cannot be tried again and again for a wanted grouping.
    let (mut register, _) = register(20);
    let before = unsigned(&register, 2, 2);
    assert_eq!(before.header().version, 2);
    let (_, sybil) = request(1);
    register.enrol(person(99), &sybil, false).unwrap();
    let after = unsigned(&register, 2, 2);
    let kept: Vec<Point> = ranking(&after)
        .into_iter()
        .filter(|k| *k != sybil.key)
        .collect();
    assert_eq!(kept, ranking(&before));
    // Nor do the bucket size or the header's other fields.
    let wider = unsigned(&register, 2, 3);
    assert_eq!(ranking(&wider), ranking(&after));
    // Version 1 keyed it by the snapshot id, which the extra entry changes: the rest
    // were reshuffled (20! orders; an unchanged one would be a coincidence).
    let (mut v1_register, _) = self::register(20);
    let v1_before = unsigned(&v1_register, 1, 2);
    v1_register.enrol(person(99), &sybil, false).unwrap();
    let v1_after = unsigned(&v1_register, 1, 2);
    let kept: Vec<Point> = ranking(&v1_after)
        .into_iter()
        .filter(|k| *k != sybil.key)
        .collect();
    assert_ne!(kept, ranking(&v1_before));
}

#[test]
fn a_version_1_snapshot_still_decodes_and_deals_as_published() {
    let (register, _) = register(9);
    let v1 = unsigned(&register, 1, 2);
    let bytes = v1.signed().to_bytes();
    assert_eq!(bytes[0], 1);
    let decoded = SignedSnapshot::decode(&bytes).unwrap();
    assert_eq!(decoded.header.version, 1);
    assert_eq!(decoded.header.deal_key(&v1.id()), v1.id());
    let v2 = unsigned(&register, 2, 2);
    assert_eq!(v2.header().deal_key(&v2.id()), REGISTRY);
    let mut other = v2.signed().to_bytes();
    other[0] = 3;
    match SignedSnapshot::decode(&other) {
        Err(RegistryError::Decode { field, .. }) => assert_eq!(field, "version"),
        e => panic!("{e:?}"),
    }
}

//! Criterion benchmarks of urne-ballot (figures in ../BENCHMARKS.md).
//!
//! Run: `cargo bench -p urne-ballot --bench ballot`. Verification starts from the
//! ballot's bytes, as the board and the verifier do, so decoding is in every figure.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, ContextInputs, CredentialKey, Election,
    Manifest,
};
use urne_crypto::{BatchVerifier, SecretKey};

const BATCH: usize = 100;

/// One approval contest of 10 options, 0 to 10 selections: the reference ballot.
fn election() -> Election {
    let manifest = Manifest::new(
        "bench",
        vec![Contest {
            title: "10-option approval".into(),
            kind: ContestKind::Approval { min: 0, max: 10 },
            blank: false,
            options: (0..10).map(|i| format!("option {i}")).collect(),
        }],
    )
    .expect("manifest");
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &key,
        credential_root: &[1; 32],
        board_origin: "bench.urne.example",
        context_id: &[2; 32],
    })
    .expect("election")
}

fn credential(i: usize) -> CredentialKey {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&(i as u64).to_be_bytes());
    CredentialKey(key)
}

fn selection(i: usize) -> Vec<ContestSelection> {
    let chosen: Vec<usize> = (0..10).filter(|o| (i + o).is_multiple_of(3)).collect();
    vec![ContestSelection::approve(10, &chosen).unwrap()]
}

fn approval_ballot(c: &mut Criterion) {
    let election = election();
    let mut group = c.benchmark_group("10-option approval ballot");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("encrypt_and_prove", |b| {
        b.iter(|| {
            Ballot::encrypt(&election, &credential(0), &selection(0), &mut rand::rng())
                .expect("encrypt")
        })
    });
    let ballots: Vec<(CredentialKey, Vec<u8>)> = (0..BATCH)
        .map(|i| {
            let (ballot, _) =
                Ballot::encrypt(&election, &credential(i), &selection(i), &mut rand::rng())
                    .expect("encrypt");
            (credential(i), ballot.to_bytes())
        })
        .collect();
    group.bench_function("verify one (decode + per-equation check)", |b| {
        b.iter(|| {
            let (credential, bytes) = &ballots[0];
            Ballot::decode(bytes)
                .expect("decode")
                .verify(&election, credential)
                .expect("valid")
        })
    });
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("verify batch of 100 (decode + batch)", |b| {
        b.iter(|| {
            let mut batch = BatchVerifier::with_capacity(BATCH);
            for (i, (credential, bytes)) in ballots.iter().enumerate() {
                let relations = Ballot::decode(bytes)
                    .expect("decode")
                    .relations(&election, credential)
                    .expect("shape");
                batch.push(i, Ok(relations));
            }
            batch.verify(&mut rand::rng()).expect("valid batch")
        })
    });
    group.finish();
}

criterion_group!(benches, approval_ballot);
criterion_main!(benches);
